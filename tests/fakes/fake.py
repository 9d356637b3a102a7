"""`FakeAzure`: the stateful fake Azure ML control plane that tests drive the SDK against.

It owns the wiring: one `responses` callback per HTTP method (https, and plain http to
anything but 127.0.0.1/localhost, which pass through to real local servers), the router,
the request log, faults, the clock and random source, and one object per resource family:

    fake.workspace  workspace, discovery, datastores        (workspace.py)
    fake.jobs       AutoML jobs, child runs, metrics          (jobs.py)
    fake.artifacts  run artifacts in the artifact store       (artifacts.py)
    fake.assets     models, environments, code, data          (assets.py)
    fake.blob       the default datastore's blob container    (blob.py)
    fake.compute    Kubernetes computes (attach/detach)       (compute.py)
    fake.endpoints  online endpoints, traffic, keys, tokens   (endpoints.py)
    fake.deployments online deployments and their logs        (deployments.py)
    fake.scoring    the endpoints' scoring URIs               (scoring.py)
    fake.aks        AKS clusters, agent pools, extensions     (aks.py)
    fake.instance_types the clusters' InstanceType resources   (instancetypes.py)

Time is simulated: `simulated_sleep()` routes azure-core's sleeps (LRO polling, retry
backoff: `HttpTransport.sleep`, the one seam azure-core sleeps through) to `fake.clock`, so
a 5-minute deployment costs its real number of polls and no wall time.
"""
from __future__ import annotations

import contextlib
import random
import re
from collections import Counter
from collections.abc import Iterator

import responses

from .arm import Call, FakeRequest, Lros, Router
from .faults import Faults
from .state import FakeClock, FakeConfig

_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD")


class FakeAzure:
    def __init__(self, config: FakeConfig | None = None, *, clock: FakeClock | None = None,
                 rng: random.Random | None = None) -> None:
        from .aks import Aks
        from .artifacts import Artifacts
        from .assets import Assets
        from .blob import Blob
        from .compute import Compute
        from .deployments import Deployments
        from .endpoints import Endpoints
        from .instancetypes import InstanceTypes
        from .jobs import Jobs
        from .scoring import Scoring
        from .workspace import Workspace

        self.config = config or FakeConfig()
        self.clock = clock or FakeClock()
        self.rng = rng or random.Random(0)
        self.faults = Faults()
        self._served: dict[tuple[str, str], list] = {}
        self.router = Router(self.faults)
        self.lros = Lros(self.config, self.router, self.clock)
        self.workspace = Workspace(self)
        self.jobs = Jobs(self)
        self.artifacts = Artifacts(self)
        self.assets = Assets(self)
        self.blob = Blob(self)
        self.compute = Compute(self)
        self.endpoints = Endpoints(self)
        self.deployments = Deployments(self)
        self.scoring = Scoring(self)
        self.aks = Aks(self)
        self.instance_types = InstanceTypes(self)

    # ---- activation ----------------------------------------------------------------------
    def install(self, mock: responses.RequestsMock) -> FakeAzure:
        """Route every https request of `mock`, and plain http to any host but 127.0.0.1 and
        localhost (the inference routers of Kubernetes endpoints), to this fake."""
        for method in _METHODS:
            mock.add_callback(method, re.compile(r"https://.*"), self._callback)
            # plain http: the Kubernetes inference router (scoring.py); never local servers
            mock.add_callback(method, re.compile(r"http://(?!127\.0\.0\.1|localhost)[^/:]+"),
                              self._callback)
        mock.add_passthru(re.compile(r"http://(127\.0\.0\.1|localhost)[:/]"))
        return self

    @contextlib.contextmanager
    def simulated_sleep(self) -> Iterator[FakeAzure]:
        """Route azure-core's sleeps (LRO polls, retries) to `self.clock.sleep`.

        azure-core sleeps only through `HttpTransport.sleep` (base_polling.py `_sleep`,
        policies/_retry.py `sleep`); the `fake_azure` fixture enters this for every test.
        The SDK's `jobs.stream()` sleeps with bare `time.sleep` and is not covered.
        """
        from azure.core.pipeline.transport import HttpTransport

        original = HttpTransport.sleep
        clock = self.clock
        HttpTransport.sleep = lambda transport, duration: clock.sleep(duration)
        try:
            yield self
        finally:
            HttpTransport.sleep = original

    def _callback(self, prepared) -> tuple[int, dict, bytes]:
        body = prepared.body
        if body is None:
            data = b""
        elif isinstance(body, str):
            data = body.encode()
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        elif hasattr(body, "read"):
            data = body.read()
        else:
            data = b"".join(bytes(chunk) for chunk in body)
        req = FakeRequest(prepared.method.upper(), prepared.url, dict(prepared.headers), data)
        return self.router.dispatch(req).encode()

    # ---- request log ---------------------------------------------------------------------
    def calls(self, op: str | None = None, *, method: str | None = None) -> list[Call]:
        """Calls seen so far, optionally only those of operation `op` (e.g. `Jobs_Get`)."""
        return self.router.calls(op, method)

    def count(self, op: str) -> int:
        return len(self.router.calls(op))

    def arm_calls(self) -> list[Call]:
        return [c for c in self.router.log if c.is_arm]

    def arm_counts(self) -> Counter:
        """ARM calls per operation name."""
        return self.router.arm_counts()

    @property
    def unmatched(self) -> list[str]:
        return self.router.unmatched

    def reset_log(self) -> None:
        self.router.log.clear()

    # ---- verbatim answers -----------------------------------------------------------------
    def serve(self, method: str, path: str, body, *, status: int = 200, op: str = "Verbatim",
              headers: dict | None = None) -> None:
        """Answer `method` on `path` (an ARM path or a full https URL) with `body` as given, ahead
        of the fake's own route: the official example bodies served verbatim
        (tests/azure/test_official_*.py). A query string in `path` (a nextLink's `$skipToken`)
        must be in the request for this answer; the latest matching `serve` wins. Each answer is
        logged under `op`."""
        import copy
        from urllib.parse import parse_qsl

        from .arm import Reply, UnmatchedRequest
        from .state import ARM_HOST

        url = path if path.startswith("https://") else ARM_HOST + path
        base, _, query = url.partition("?")
        answers = self._served.setdefault((method, base.lower()), [])
        answers.insert(0, (dict(parse_qsl(query)), status, body, dict(headers or {})))

        def answer(req):
            for wanted, code, payload, extra in answers:
                if wanted.items() <= req.query.items():
                    return Reply(code, copy.deepcopy(payload), dict(extra))
            raise UnmatchedRequest(f"no served answer for {req.method} {req.url}")

        if len(answers) == 1:
            self.router.override(method, re.escape(base), op, answer)

    # ---- time ----------------------------------------------------------------------------
    def settle(self) -> None:
        """Finish all pending LROs and end every eventual-consistency window."""
        self.lros.settle()
        self.endpoints.settle()
        self.deployments.settle()
