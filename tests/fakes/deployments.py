"""Online deployments: create/update (LRO), get/list, delete, and the two log containers.

A deployment PUT is refused while its endpoint is busy, or still seen as Updating right
after it reported Succeeded (409, endpoints.py). Kubernetes deployments follow the docs
only (sources in README.md):
- `resources` (`containerResourceRequirements`) is optional in the request (the official
  Kubernetes safe-rollout notebook's green omits it), and every response carries the block
  (the SDK's `_from_rest_object` reads it), with unset values as null;
- the instance type must be defined on the cluster (instancetypes.py), and requests and
  limits must fit its limits (400);
- `instanceType` cannot change on an update (Azure/AML-Kubernetes#247; 400);
and nothing else: no rule without a source. While the LRO runs the endpoint is `Updating`.
The LRO ends `Failed` with the service's code when a fault was injected
(`ImageBuildFailure`, `ResourceNotReady`, `OutOfQuota`). A deployment created a moment ago
is not yet visible to traffic updates (endpoints.py, eventual consistency). A deployment
with live or mirror traffic cannot be deleted (409). Names compare case-insensitively
(ARM resource names; assumption for deployments). Logs: POST `getLogs` with
`containerType` InferenceServer or StorageInitializer.
"""
from __future__ import annotations

import copy
import re

from .arm import FakeRequest, Reply, bad_request, conflict, not_found
from .endpoints import check_name, share
from .faults import READINESS_PROBE_FAILURE
from .state import ARM_HOST, Window, system_data

CONTAINERS = ("InferenceServer", "StorageInitializer")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
           "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "": 1}


def cpu(value) -> float:
    text = str(value).strip().strip('"')
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def memory(value) -> float:
    text = str(value).strip().strip('"')
    match = re.fullmatch(r"([0-9.]+)([KMGT]i?|)", text)
    if not match:
        raise bad_request(f"memory quantity '{value}' is not a Kubernetes quantity")
    return float(match.group(1)) * _BINARY[match.group(2)]


class Deployments:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.records: dict[tuple[str, str], dict] = {}
        self.logs: dict[tuple[str, str], dict[str, list[str]]] = {}
        #: deployments created a moment ago, not yet visible to traffic updates.
        self._fresh: dict[tuple[str, str], Window] = {}
        base = (re.escape(ARM_HOST + fake.config.workspace_path)
                + r"/onlineEndpoints/(?P<endpoint>[^/]+)/deployments")
        one = base + r"/(?P<name>[^/]+)"
        r = fake.router
        r.add("GET", base, "OnlineDeployments_List", self.list)
        r.add("GET", one, "OnlineDeployments_Get", self.get)
        r.add("PUT", one, "OnlineDeployments_CreateOrUpdate", self.put)
        r.add("DELETE", one, "OnlineDeployments_Delete", self.delete)
        r.add("POST", one + "/getLogs", "OnlineDeployments_GetLogs", self.get_logs)

    # ---- test API ------------------------------------------------------------------------
    def names(self, endpoint: str) -> list[str]:
        return [d for (e, d) in self.records if e == endpoint]

    def resolve(self, endpoint: str, name: str) -> str | None:
        """The deployment of `endpoint` called `name`, compared case-insensitively."""
        return next((d for d in self.names(endpoint) if d.lower() == name.lower()), None)

    def fresh(self, endpoint: str, name: str) -> bool:
        """True while a traffic update should not see this just-created deployment yet."""
        window = self._fresh.get((endpoint, name.lower()))
        return bool(window and window.hit(self.fake.clock))

    def settle(self) -> None:
        for window in self._fresh.values():
            window.close()

    def state(self, endpoint: str, name: str) -> str:
        return self._record(endpoint, name)["properties"]["provisioningState"]

    def add_log(self, endpoint: str, name: str, line: str,
                container: str = "InferenceServer") -> None:
        self.logs.setdefault((endpoint, name), {c: [] for c in CONTAINERS})[container].append(line)

    def drop_endpoint(self, endpoint: str) -> None:
        for key in [k for k in self.records if k[0] == endpoint]:
            self.records.pop(key)
            self.logs.pop(key, None)

    # ---- handlers ------------------------------------------------------------------------
    def _record(self, endpoint: str, name: str) -> dict:
        self.fake.endpoints.record(endpoint)
        rec = self.records.get((endpoint, self.resolve(endpoint, name) or name))
        if rec is None:
            raise not_found("Online deployment", name)
        return rec

    def list(self, req: FakeRequest, endpoint: str) -> Reply:
        self.fake.endpoints.record(endpoint)
        return Reply(200, {"value": [copy.deepcopy(b) for (e, _), b in self.records.items()
                                     if e == endpoint], "nextLink": None})

    def get(self, req: FakeRequest, endpoint: str, name: str) -> Reply:
        return Reply(200, copy.deepcopy(self._record(endpoint, name)))

    def put(self, req: FakeRequest, endpoint: str, name: str) -> Reply:
        check_name("Online deployment", name)
        ep = self.fake.endpoints.ensure_settled_for_deployment(endpoint)
        name = self.resolve(endpoint, name) or name
        existing = self.records.get((endpoint, name))
        body = req.json() or {}
        props = copy.deepcopy(body.get("properties") or {})
        kind = props.get("endpointComputeType")
        if ep.is_kubernetes and kind != "Kubernetes":
            raise bad_request(f"Online deployment '{name}': endpoint '{endpoint}' runs on "
                              f"Kubernetes; endpointComputeType must be Kubernetes, got {kind!r}.")
        if not ep.is_kubernetes and kind == "Kubernetes":
            raise bad_request(f"Online deployment '{name}': endpoint '{endpoint}' is a managed "
                              "endpoint; it cannot take a Kubernetes deployment.")
        for ref in ("model", "environmentId"):
            self._check_asset(name, props.get(ref))
        code_id = (props.get("codeConfiguration") or {}).get("codeId")
        self._check_asset(name, code_id)
        if ep.is_kubernetes:
            self._check_kubernetes(ep, name, props, existing)
        failure = self.fake.faults.take_deployment_failure(endpoint, name)
        props = {
            "description": None, "properties": {}, "codeConfiguration": None,
            "environmentId": None, "environmentVariables": {}, "appInsightsEnabled": False,
            "scaleSettings": {"scaleType": "Default"},
            "requestSettings": {"maxQueueWait": "PT0.5S", "requestTimeout": "PT5S",
                                "maxConcurrentRequestsPerInstance": 1},
            "livenessProbe": _probe(), "readinessProbe": _probe(),
            "modelMountPath": None, "instanceType": None, "model": None,
            "egressPublicNetworkAccess": "Enabled", "dataCollector": None,
            "containerResourceRequirements": {},
            **{k: v for k, v in props.items() if v is not None},
            "provisioningState": "Updating" if existing else "Creating",
        }
        if ep.is_kubernetes:
            props["containerResourceRequirements"] = _echo_resources(
                props["containerResourceRequirements"])
        if ep.is_kubernetes and not props.get("instanceType"):
            props["instanceType"] = self.fake.compute.default_instance_type(self._compute(ep))
        record = {
            "id": f"{ep.body['id']}/deployments/{name}", "name": name,
            "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
            "location": body.get("location") or self.fake.config.location,
            "kind": body.get("kind") or ("Kubernetes" if ep.is_kubernetes else "Managed"),
            "tags": body.get("tags") or {}, "identity": body.get("identity"),
            "sku": body.get("sku") or {"name": "Default", "tier": "Standard", "size": None,
                                       "family": None, "capacity": 1},
            "properties": props,
            "systemData": system_data(self.fake.clock,
                                      existing["systemData"] if existing else None),
        }
        self.records[(endpoint, name)] = record
        ep_state = ep.body["properties"]["provisioningState"]
        ep.body["properties"]["provisioningState"] = "Updating"
        logs = self.logs.setdefault((endpoint, name), {c: [] for c in CONTAINERS})
        logs["StorageInitializer"].append(f"Downloading model {props.get('model')} ... done")

        def effect() -> None:
            ep.body["properties"]["provisioningState"] = ep_state
            ok = failure is None
            record["properties"]["provisioningState"] = "Succeeded" if ok else "Failed"
            if ok and existing is None:
                config = self.fake.config
                self._fresh[(endpoint, name.lower())] = Window.open(
                    config.traffic_404_after_create, self.fake.clock,
                    config.consistency_seconds)
            if ok:
                logs["InferenceServer"] += [
                    "Azure ML Inferencing HTTP server v1.4.1", "Initializing logger",
                    "Users's init has completed successfully",
                    "Listening at: http://:31311", "GET / 200 (readiness probe)"]
            elif failure["code"] == READINESS_PROBE_FAILURE:
                logs["InferenceServer"] += ["Traceback (most recent call last):",
                                            "  init() failed", failure["message"]]

        op = self.fake.lros.start(effect, error=failure, kind="OnlineDeployments_CreateOrUpdate")
        return self.fake.lros.accepted_put(copy.deepcopy(record), op)

    def delete(self, req: FakeRequest, endpoint: str, name: str) -> Reply:
        ep = self.fake.endpoints.record(endpoint)
        name = self.resolve(endpoint, name) or name
        if (endpoint, name) not in self.records:
            return Reply(204)
        live, mirror = share(ep.traffic, name), share(ep.mirror, name)
        if live or mirror:
            kind = "live" if live else "mirror"
            raise conflict(f"Online deployment '{name}' has {kind} traffic ({live or mirror}%) "
                           f"on endpoint '{endpoint}'. Set its traffic to 0% before deleting "
                           "it.")
        self.fake.endpoints.ensure_idle(endpoint, f"delete deployment '{name}'")
        record = self.records[(endpoint, name)]
        record["properties"]["provisioningState"] = "Deleting"

        def effect() -> None:
            self.records.pop((endpoint, name), None)
            self.logs.pop((endpoint, name), None)
            self._fresh.pop((endpoint, name.lower()), None)
            for split in (ep.traffic, ep.mirror):
                for key in [k for k in split if k.lower() == name.lower()]:
                    split.pop(key)

        op = self.fake.lros.start(effect, kind="OnlineDeployments_Delete")
        return self.fake.lros.accepted_delete(op)

    def get_logs(self, req: FakeRequest, endpoint: str, name: str) -> Reply:
        self._record(endpoint, name)
        body = req.json() or {}
        container = body.get("containerType") or "InferenceServer"
        if container not in CONTAINERS:
            raise bad_request(f"containerType must be one of {', '.join(CONTAINERS)}, "
                              f"got {container!r}")
        lines = self.logs.get((endpoint, name), {}).get(container, [])
        tail = body.get("tail")
        if tail:
            lines = lines[-int(tail):]
        return Reply(200, {"content": "\n".join(lines)})

    # ---- rules ---------------------------------------------------------------------------
    def _check_asset(self, deployment: str, ref: str | None) -> None:
        if not ref or not ref.lower().startswith(self.fake.config.workspace_id.lower()):
            return
        match = re.search(r"/(models|environments|codes|data)/([^/]+)/versions/([^/]+)$", ref)
        if match and match.group(3) not in self.fake.assets.versions(match.group(1),
                                                                      match.group(2)):
            raise bad_request(f"Online deployment '{deployment}': asset {ref} does not exist.",
                              code="ResourceNotFound")

    def _compute(self, ep) -> str:
        return ep.body["properties"]["compute"].rstrip("/").split("/")[-1]

    def _check_kubernetes(self, ep, name: str, props: dict, existing: dict | None) -> None:
        resources = props.get("containerResourceRequirements") or {}
        requests = resources.get("containerResourceRequests") or {}
        limits = resources.get("containerResourceLimits") or {}
        compute = self._compute(ep)
        types = self.fake.compute.instance_types(compute)
        itype = props.get("instanceType")
        if existing is not None and itype and existing["properties"].get("instanceType") and \
                itype.lower() != existing["properties"]["instanceType"].lower():
            # Azure/AML-Kubernetes#247: instance_type is fixed at creation
            raise bad_request(f"Online deployment '{name}': instance type cannot be changed "
                              f"on an update (from '{existing['properties']['instanceType']}' "
                              f"to '{itype}'); create a new deployment instead.")
        itype = itype or self.fake.compute.default_instance_type(compute)
        if itype not in types:
            raise bad_request(f"Online deployment '{name}': instance type '{itype}' is not "
                              f"defined on compute '{compute}' (known: {', '.join(types)}).",
                              code="InstanceTypeNotFound")
        cap = (types[itype].get("resources") or {}).get("limits") or {}
        for label, spec in (("requests", requests), ("limits", limits)):
            for key, parse in (("cpu", cpu), ("memory", memory)):
                if spec.get(key) and cap.get(key) and parse(spec[key]) > parse(cap[key]):
                    raise bad_request(
                        f"Online deployment '{name}': resources.{label}.{key}={spec[key]} does "
                        f"not fit instance type '{itype}' (limit {cap[key]}).")


def _echo_resources(resources: dict) -> dict:
    """The service echoes requests and limits with every key (unset ones as null)."""
    out = {}
    for part in ("containerResourceRequests", "containerResourceLimits"):
        given = resources.get(part) or {}
        out[part] = {"cpu": None, "memory": None, "gpu": None, **given}
    return out


def _probe() -> dict:
    return {"failureThreshold": 30, "successThreshold": 1, "timeout": "PT2S",
            "period": "PT10S", "initialDelay": "PT10S"}
