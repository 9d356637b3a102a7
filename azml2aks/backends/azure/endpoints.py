"""Azure ML Kubernetes online endpoints: the Endpoints port over ARM REST (``client.ArmRest``).

What the service does and how this module answers it:

- an endpoint PUT is a FULL PUT: traffic missing from the body is set to 0. So the endpoint is
  created only when missing (a GET 404 first); an existing one is only read; a traffic change
  is a read-modify-write of the body of a fresh GET; tags (the lease) go by PATCH;
- right after a create the service may answer 404 ("Deployment X not found in endpoint") to a
  traffic update, and 409 while the endpoint is Updating (even just after it said Succeeded):
  both are retried with backoff (:func:`azml2aks.retry.retry_call`, by status, never by text);
  429 and 5xx are retried by azure-core honouring Retry-After;
- a traffic read right after an update can show the old split: it is re-read until observed;
- probes never use ``online_endpoints.invoke()`` (ARM calls per request, and it leaks the pin
  into later calls): :meth:`get_credentials` gives the key or an ``aml_token`` with its expiry
  and the prober posts to the scoring URI itself.

One rollout at a time: ``hold_endpoint`` (:class:`.lease.EndpointLeases`) holds a lease in the
endpoint's tags. Every wait uses the injected ``sleep``/``clock``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from azml2aks.backends.azure import deployments as D
from azml2aks.backends.azure.client import ArmRest, OperationFailed, translate
from azml2aks.backends.azure.lease import EndpointLeases, Lease, with_lease
from azml2aks.backends.ports import Credentials, DeploymentState, EndpointKeys, EndpointState
from azml2aks.errors import Azml2aksError, BackendError, NotFoundError
from azml2aks.events import EventSink, ignore_event
from azml2aks.retry import Poller, retry_call
from azml2aks.rollout.traffic import Traffic

if TYPE_CHECKING:
    from azml2aks.config.specs import DeploymentSpec, EndpointSpec

logger = logging.getLogger(__name__)

AUTH_MODES = {"key": "Key", "aml_token": "AMLToken"}
ENDPOINT_TIMEOUT = 1800.0       # endpoint create / update
DEPLOYMENT_TIMEOUT = 3600.0     # image build + pods ready
LAG_TIMEOUT = 300.0             # how long the documented consistency lags are waited out
FRESH_SECONDS = 5.0             # one poll interval: a body read this recently is not read again
READ_ONLY = ("id", "name", "type", "systemData")


def _status(error: BaseException) -> int | None:
    return getattr(error, "status_code", None)


def _lagging(error: BaseException) -> bool:
    """409 (Updating) or 404 (a deployment created a moment ago not yet visible)."""
    return _status(error) in (404, 409)


def _busy(error: BaseException) -> bool:
    return _status(error) == 409


def _same_split(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    """Live splits equal, names compared case-insensitively (the service lowercases them)."""
    def live(s: Mapping[str, int]) -> dict[str, int]:
        return {k.lower(): int(v) for k, v in s.items() if v}
    return live(a) == live(b)


class AzureEndpoints(EndpointLeases):
    """The Endpoints port on one workspace. ``ml_client`` is only used to upload code."""

    def __init__(self, arm: ArmRest, *, ml_client: Any, workdir: Path) -> None:
        self.arm = arm
        self._ml_client = ml_client
        self.workdir = workdir
        self._held: dict[str, Lease] = {}
        self._depth: dict[str, int] = {}
        self._seen: dict[tuple[str, str], tuple[float, Any]] = {}  # (kind, name) -> (when, body)

    # --- reads ---------------------------------------------------------------------------
    def _read(self, name: str, *, max_age: float = 0) -> dict[str, Any]:
        """The endpoint's body: a GET, or (``max_age`` > 0, only while this process holds the
        lease) the body this process read or wrote less than ``max_age`` seconds ago, so one
        step of a rollout reads a resource once per poll interval, never in a burst."""
        cached = self._seen.get(("endpoint", name))
        if max_age and name in self._held and cached and self.arm.clock() - cached[0] < max_age:
            if cached[1] is None:
                raise NotFoundError(f"online endpoint {name!r} does not exist")
            return copy.deepcopy(cached[1])
        try:
            with translate(f"reading online endpoint {name!r}"):
                body = self.arm.get_json(f"/onlineEndpoints/{name}")
        except NotFoundError:
            self._remember("endpoint", name, None)
            raise
        return self._remember("endpoint", name, body)

    def _remember(self, kind: str, name: str, body: Any) -> Any:
        self._seen[(kind, name)] = (self.arm.clock(), copy.deepcopy(body))
        return body

    def _deployments(self, name: str, *, max_age: float = 0) -> list[dict[str, Any]]:
        cached = self._seen.get(("deployments", name))
        if max_age and name in self._held and cached and self.arm.clock() - cached[0] < max_age:
            return copy.deepcopy(cached[1])
        with translate(f"listing the deployments of endpoint {name!r}"):
            found = list(self.arm.get_json(f"/onlineEndpoints/{name}/deployments").get("value") or [])
        return self._remember("deployments", name, found)

    @staticmethod
    def _state(body: dict[str, Any], deployments: list[dict[str, Any]] | None) -> EndpointState:
        props = body.get("properties") or {}
        states = tuple(
            DeploymentState(d["name"], (d.get("properties") or {}).get("provisioningState") or "Unknown",
                            instance_type=(d.get("properties") or {}).get("instanceType"),
                            instance_count=(d.get("sku") or {}).get("capacity"),
                            model=(d.get("properties") or {}).get("model"))
            for d in deployments or [])
        auth = {v: k for k, v in AUTH_MODES.items()}.get(props.get("authMode") or "Key", "key")
        compute = (props.get("compute") or "").rstrip("/").split("/")[-1] or None
        return EndpointState(body["name"], props.get("scoringUri") or "",
                             Traffic(props.get("traffic") or {}, check=False), states,
                             props.get("provisioningState") or "Unknown", auth_mode=auth, compute=compute,
                             tags=dict(body.get("tags") or {}))

    def get_endpoint(self, name: str) -> EndpointState:
        body = self._read(name)
        return self._state(body, self._deployments(name))

    # --- the endpoint --------------------------------------------------------------------
    def ensure_endpoint(self, spec: EndpointSpec) -> EndpointState:
        """Create the endpoint when missing (with the lease tags, when this process holds it);
        an existing endpoint is only read, its traffic and settings untouched."""
        try:
            body = self._read(spec.name, max_age=FRESH_SECONDS)
        except NotFoundError:
            body = self._create_endpoint(spec)
            return self._state(body, [])
        self._check_lease(spec.name, body)
        return self._state(body, self._deployments(spec.name, max_age=FRESH_SECONDS))

    def _create_endpoint(self, spec: EndpointSpec) -> dict[str, Any]:
        name = spec.name
        with translate(f"creating online endpoint {name!r} on compute {spec.compute!r}"):
            body = {"location": self.arm.location(), "kind": "K8S",
                    "identity": {"type": "SystemAssigned"},
                    "tags": with_lease(spec.tags, self._held.get(name)),
                    "properties": {"authMode": AUTH_MODES[spec.auth_mode], "description": spec.description,
                                   "compute": f"{self.arm.workspace_path}/computes/{spec.compute}",
                                   "traffic": {}}}
            response = self.arm.request("PUT", f"/onlineEndpoints/{name}", body)
            created = response.json()
            self.arm.wait(response, doing=f"creating online endpoint {name!r}", timeout=ENDPOINT_TIMEOUT)
        logger.info("created online endpoint %s on compute %s", name, spec.compute)
        created.setdefault("properties", {})["provisioningState"] = "Succeeded"
        self._remember("deployments", name, [])
        return self._remember("endpoint", name, created)

    def _patch_tags(self, name: str, body: dict[str, Any], tags: dict[str, str]) -> None:
        """PATCH the tags alone (``body``: the endpoint as just read; remembered with them)."""
        with translate(f"updating the tags of online endpoint {name!r}"):
            response = retry_call(lambda: self.arm.request("PATCH", f"/onlineEndpoints/{name}", {"tags": tags}),
                                  retryable=_busy, poller=self._lag_poller())
            self.arm.wait(response, doing=f"updating the tags of endpoint {name!r}", timeout=ENDPOINT_TIMEOUT,
                          initial=1.0, max_delay=10.0)
        self._remember("endpoint", name, {**body, "tags": dict(tags)})

    def _lag_poller(self) -> Poller:
        return Poller(initial=FRESH_SECONDS, factor=2.0, max_delay=30.0, timeout=LAG_TIMEOUT,
                      sleep=self.arm.sleep, clock=self.arm.clock)

    # --- traffic -------------------------------------------------------------------------
    def set_traffic(self, endpoint: str, traffic: Traffic | Mapping[str, int]) -> Traffic:
        """Read-modify-write the live split from a fresh GET, wait for the update, then re-read
        until the new split is observed; return it."""
        wanted = Traffic(dict(traffic))
        doing = f"setting the traffic of endpoint {endpoint!r} to {wanted}"

        def put() -> Any:
            body = self._remember("endpoint", endpoint, self.arm.get_json(f"/onlineEndpoints/{endpoint}"))
            self._check_lease(endpoint, body)
            # always PUT, even when the read shows the split: a read can lag behind the last update
            for key in READ_ONLY:
                body.pop(key, None)
            body["properties"] = {k: v for k, v in body["properties"].items()
                                  if k not in ("provisioningState", "scoringUri", "swaggerUri")}
            body["properties"]["traffic"] = wanted.to_dict()
            return self.arm.request("PUT", f"/onlineEndpoints/{endpoint}", body)

        with translate(doing):
            self._renew(endpoint)
            response = retry_call(put, retryable=_lagging, poller=self._lag_poller())
            self.arm.wait(response, doing=doing, timeout=ENDPOINT_TIMEOUT, initial=1.0, max_delay=10.0)
            return self._observe(endpoint, wanted, doing)

    def _observe(self, endpoint: str, wanted: Traffic, doing: str) -> Traffic:
        seen: Mapping[str, int] = {}
        poller = Poller(initial=5.0, factor=2.0, max_delay=30.0, timeout=LAG_TIMEOUT,
                        sleep=self.arm.sleep, clock=self.arm.clock)
        first = True
        for _ in poller:  # a read right after the update mostly lags: read at 5, 15, 35 ... s
            if first:
                first = False
                continue
            body = self._remember("endpoint", endpoint, self.arm.get_json(f"/onlineEndpoints/{endpoint}"))
            seen = body["properties"].get("traffic") or {}
            if _same_split(seen, wanted):
                return Traffic(dict(seen), check=False)
        raise BackendError(f"{doing}: the endpoint still reads {Traffic(dict(seen), check=False)} "
                           f"after {LAG_TIMEOUT:.0f} s",
                           hint="check it with `azml2aks status PIPELINE`; set it again with `azml2aks traffic`")

    # --- deployments ---------------------------------------------------------------------
    def create_or_update_deployment(self, spec: DeploymentSpec, *, on_event: EventSink = ignore_event
                                    ) -> DeploymentState:
        """Create colour ``spec.name`` at 0 % and wait until it is ready (progress as events).

        A colour with live traffic is refused. An existing idle colour on another instance type
        is deleted and created again (Azure cannot change ``instance_type`` on an update)."""
        endpoint, name = spec.endpoint_name, spec.name
        body = self._read(endpoint, max_age=FRESH_SECONDS)
        self._check_lease(endpoint, body)
        live = Traffic(body["properties"].get("traffic") or {}, check=False).get_ci(name)
        if live:
            raise BackendError(f"deployment {name!r} of endpoint {endpoint!r} has {live} % live traffic and "
                               "cannot be replaced", hint="promote or roll back first: azml2aks rollback PIPELINE")
        self._replace_if_instance_type_changed(spec, on_event)
        code_id = self._code(spec)
        rest = D.deployment_body(spec, workspace_path=self.arm.workspace_path,
                                 location=body.get("location") or self.arm.location(), code_id=code_id)
        doing = f"creating deployment {name!r} of endpoint {endpoint!r}"
        on_event({"event": "deployment", "deployment": name, "status": "Creating",
                  "message": f"creating {name} on {endpoint} (image build and pods: minutes)"})

        def progress(status: str, elapsed: float) -> None:
            on_event({"event": "deployment", "deployment": name, "status": status, "elapsed_seconds": round(elapsed),
                      "message": f"  {name}: {status} ({elapsed:.0f} s)"})

        try:
            with translate(doing):
                response = retry_call(lambda: self.arm.request("PUT", f"/onlineEndpoints/{endpoint}/deployments/{name}",
                                                               rest),
                                      retryable=_busy, poller=self._lag_poller())
                self.arm.wait(response, doing=doing, timeout=DEPLOYMENT_TIMEOUT, on_poll=progress)
        except OperationFailed as e:
            raise BackendError(D.failure_message(endpoint, name, e, self._both_logs(endpoint, name)), code=e.code,
                               hint=f"fix the cause above, then deploy again; see `azml2aks logs PIPELINE "
                                    f"--deployment {name}`") from e
        on_event({"event": "deployment", "deployment": name, "status": "Succeeded",
                  "message": f"  {name}: ready"})
        return DeploymentState(name, "Succeeded", instance_type=rest["properties"].get("instanceType"),
                               instance_count=spec.instance_count, model=spec.model)

    def _replace_if_instance_type_changed(self, spec: DeploymentSpec, on_event: EventSink) -> None:
        endpoint, name = spec.endpoint_name, spec.name
        current = next((d for d in self._deployments(endpoint, max_age=FRESH_SECONDS)
                        if d.get("name", "").lower() == name.lower()), None)
        if current is None:
            return
        have = (current.get("properties") or {}).get("instanceType")
        if spec.instance_type and have and have.lower() != spec.instance_type.lower():
            on_event({"event": "deployment", "deployment": name, "status": "Deleting",
                      "message": f"  {name} runs on instance type {have}, not {spec.instance_type}: Azure cannot "
                                 f"change it in place, so the idle colour is deleted and created again"})
            self.delete_deployment(endpoint, name)

    def _code(self, spec: DeploymentSpec) -> str | None:
        if not spec.code_dir:
            return None
        folder, sha = D.stage_code(spec.code_dir, spec.scoring_script, self.workdir / "azure-code")
        path = f"/codes/{D.code_name(sha)}/versions/1"
        try:
            with translate("looking up the scoring code asset"):
                return self.arm.get_json(path)["id"]
        except NotFoundError:
            pass
        with translate(f"uploading the scoring code of {spec.name!r}"):
            return D.upload_code(self._ml_client(), folder, sha)

    def delete_deployment(self, endpoint: str, name: str) -> None:
        """Succeeds when already gone; refuses while the colour has live traffic."""
        body = self._read(endpoint)
        live = Traffic(body["properties"].get("traffic") or {}, check=False).get_ci(name)
        if live:
            raise BackendError(f"deployment {name!r} has {live} % live traffic on endpoint {endpoint!r}; "
                               "move it away before deleting", hint="azml2aks traffic PIPELINE ...")
        doing = f"deleting deployment {name!r} of endpoint {endpoint!r}"
        try:
            with translate(doing):
                response = retry_call(lambda: self.arm.request("DELETE", f"/onlineEndpoints/{endpoint}/deployments/{name}"),
                                      retryable=_busy, poller=self._lag_poller())
                self.arm.wait(response, doing=doing, timeout=ENDPOINT_TIMEOUT)
        except NotFoundError:
            return

    # --- credentials and logs ------------------------------------------------------------
    def get_credentials(self, endpoint: str) -> Credentials:
        """The endpoint key (Key auth) or a fresh aml_token with its expiry (AMLToken auth)."""
        mode = (self._read(endpoint, max_age=FRESH_SECONDS).get("properties") or {}).get("authMode") or "Key"
        if mode == "AMLToken":
            with translate(f"getting a token of endpoint {endpoint!r}"):
                token = self.arm.request("POST", f"/onlineEndpoints/{endpoint}/token").json()
            return Credentials("aml_token", token["accessToken"], expires_at=float(token["expiryTimeUtc"]))
        return Credentials("key", self.get_keys(endpoint).primary)

    def get_keys(self, endpoint: str) -> EndpointKeys:
        with translate(f"listing the keys of endpoint {endpoint!r}"):
            keys = self.arm.request("POST", f"/onlineEndpoints/{endpoint}/listKeys").json()
        return EndpointKeys(keys.get("primaryKey") or "", keys.get("secondaryKey") or "")

    def get_logs(self, endpoint: str, name: str, *, tail: int = 50, container: str = "inference-server") -> str:
        if container not in D.CONTAINERS:
            raise BackendError(f"no container {container!r}; choose {', '.join(D.CONTAINERS)}")
        with translate(f"reading the {container} log of deployment {name!r} of endpoint {endpoint!r}"):
            body = self.arm.request("POST", f"/onlineEndpoints/{endpoint}/deployments/{name}/getLogs",
                                    {"containerType": D.CONTAINERS[container], "tail": tail}).json()
        return body.get("content") or ""

    def _both_logs(self, endpoint: str, name: str, tail: int = 30) -> dict[str, str]:
        out = {}
        for container in ("storage-initializer", "inference-server"):
            try:
                out[container] = self.get_logs(endpoint, name, tail=tail, container=container)
            except Azml2aksError as e:
                out[container] = f"(not available: {e.message})"
        return out

    # --- --dry-run -------------------------------------------------------------------------
    def planned_requests(self, endpoint: str, actions: list[Any], *, exists: bool) -> list[str]:
        """The requests a rollout of ``actions`` sends when all goes well, one line each (paths
        under the workspace; LRO polls and consistency retries not listed). Sends nothing."""
        from azml2aks import rollout as R

        ep = f"/onlineEndpoints/{endpoint}"
        out = [f"GET {ep}  (read; the lease in its tags)"]
        out += [f"PATCH {ep}  tags: take the lease"] if exists else [
            f"PUT {ep}  create KubernetesOnlineEndpoint with the lease in its tags, traffic {{}}"]
        for action in actions:
            if isinstance(action, R.CreateDeployment):
                out += [f"GET {ep}  (live traffic of {action.colour} must be 0)",
                        f"GET {ep}/deployments/{action.colour}  (an instance type change replaces it)",
                        "GET /codes/azml2aks-code-<sha16>/versions/1  (score.py uploaded only if missing)",
                        f"PUT {ep}/deployments/{action.colour}  KubernetesOnlineDeployment at 0 %, then poll"]
            elif isinstance(action, R.SmokeTest):
                out += [f"POST {ep}/listKeys or /token  (once; a token again before it expires)",
                        f"POST <scoring URI> x{action.requests}  azureml-model-deployment: {action.colour}"]
            elif isinstance(action, (R.Shadow, R.Probe)):
                out.append(f"POST <scoring URI> x{action.requests} pinned to {action.colour} and to {action.baseline}")
            elif isinstance(action, (R.SetTraffic, R.Rollback)):
                split = " ".join(f"{c}={p}" for c, p in action.traffic.items())
                out += [f"GET {ep}  (fresh body)", f"PUT {ep}  same body, traffic {split}; then poll",
                        f"GET {ep}  until it reads {split}"]
            elif isinstance(action, R.DeleteDeployment):
                out.append(f"DELETE {ep}/deployments/{action.colour}")
        return out + [f"GET {ep}", f"PATCH {ep}  tags: release the lease"]
