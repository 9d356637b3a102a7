"""Fault injection: what the next calls of an operation answer, and how resources fail.

Two kinds of fault:
- transport-level, keyed by operation name (the names in the request log): the next N
  calls answer 429 + `Retry-After`, a 5xx burst, or any service error, before the
  handler runs (state is untouched, as when the gateway refuses);
- resource-level, consumed by the resource modules: a deployment whose LRO ends `Failed`
  (image build, readiness probe, quota) and a job that ends `Failed` with a message.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .arm import FakeRequest, Reply, ServiceError

#: the service's error codes for failed online deployments.
IMAGE_BUILD_FAILURE = "ImageBuildFailure"
READINESS_PROBE_FAILURE = "ResourceNotReady"
QUOTA_EXCEEDED = "OutOfQuota"


@dataclass
class _Rule:
    op: str
    remaining: int
    error: ServiceError


@dataclass
class Faults:
    rules: list[_Rule] = field(default_factory=list)
    deployments: dict[tuple[str, str], dict] = field(default_factory=dict)
    jobs: dict[str, str] = field(default_factory=dict)

    # ---- transport-level ---------------------------------------------------------------
    def fail_next(self, op: str, *, times: int = 1, status: int = 503,
                  code: str = "ServiceUnavailable", message: str | None = None,
                  retry_after: float | None = None) -> None:
        """The next `times` calls of `op` (`"*"` = any operation) answer `status`."""
        headers = {} if retry_after is None else {"Retry-After": _seconds(retry_after)}
        message = message or f"injected fault: {status} {code}"
        self.rules.append(_Rule(op, times, ServiceError(status, code, message, headers)))

    def throttle(self, op: str, *, times: int = 1, retry_after: float = 1) -> None:
        """429 Too Many Requests with `Retry-After: <seconds>` for the next `times` calls."""
        self.fail_next(op, times=times, status=429, code="TooManyRequests",
                       message="Rate limit exceeded, retry later.", retry_after=retry_after)

    def server_errors(self, op: str, *, times: int = 3, status: int = 500) -> None:
        """A burst of `times` 5xx answers (`InternalServerError` by default)."""
        code = {500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable",
                504: "GatewayTimeout"}.get(status, "ServerError")
        self.fail_next(op, times=times, status=status, code=code)

    def intercept(self, op: str, req: FakeRequest) -> Reply | None:
        for rule in self.rules:
            if rule.remaining > 0 and rule.op in (op, "*"):
                rule.remaining -= 1
                return rule.error.reply()
        return None

    # ---- resource-level ----------------------------------------------------------------
    def fail_deployment(self, endpoint: str, deployment: str, *, code: str,
                        message: str) -> None:
        """The next create/update of this deployment ends `Failed` with `code`."""
        self.deployments[(endpoint, deployment)] = {"code": code, "message": message}

    def image_build_failure(self, endpoint: str, deployment: str) -> None:
        self.fail_deployment(
            endpoint, deployment, code=IMAGE_BUILD_FAILURE,
            message=(f"Image build failed for deployment '{deployment}': conda environment "
                     "could not be resolved. Check the build log in the workspace registry."))

    def readiness_probe_failure(self, endpoint: str, deployment: str) -> None:
        self.fail_deployment(
            endpoint, deployment, code=READINESS_PROBE_FAILURE,
            message=(f"Kubernetes deployment '{deployment}' failed: readiness probe failed: "
                     "HTTP probe failed with statuscode: 502. Check the container logs."))

    def quota_exceeded(self, endpoint: str, deployment: str) -> None:
        self.fail_deployment(
            endpoint, deployment, code=QUOTA_EXCEEDED,
            message=(f"Not enough quota available to create deployment '{deployment}': "
                     "the instance type's requests do not fit the cluster's free capacity."))

    def take_deployment_failure(self, endpoint: str, deployment: str) -> dict | None:
        return self.deployments.pop((endpoint, deployment), None)

    def job_failure(self, message: str, *, job: str = "*") -> None:
        """The job named `job` (`"*"` = the next job submitted) ends `Failed`."""
        self.jobs[job] = message

    def take_job_failure(self, job: str) -> str | None:
        if job in self.jobs:
            return self.jobs.pop(job)
        return self.jobs.pop("*", None)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
