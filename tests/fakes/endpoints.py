"""Online endpoints: create/update (a full PUT), PATCH, traffic rules, keys, tokens, delete.

Rules enforced with the service's error shape (arm.py; the table in README.md):
- names 3-32 chars, `^[a-zA-Z][-a-zA-Z0-9]*[a-zA-Z0-9]$` (400);
- live traffic sums to 100 or 0 (400); traffic naming a deployment that does not exist is
  404 "Deployment X not found in endpoint Y, workspace Z" (Azure-Samples/contoso-chat#139);
  deployment names in traffic compare case-insensitively (the SDK lowercases them,
  azure-ml-wire.md) and the keys are echoed as sent (assumption);
- mirror traffic: not on Kubernetes endpoints, one deployment, <= 50 %, never one with
  live traffic (400);
- an endpoint that is `Creating`/`Updating`/`Deleting` rejects updates, new deployments
  and deployment deletes (409).
Traffic is a full PUT: a deployment missing from the body gets 0. PATCH carries only
`tags` and `identity` (REST example 2023-04-01-preview OnlineEndpoint/update.json; the
body of anything else is refused, an assumption) and answers 202 + Location.

Eventual consistency, ON by default (FakeConfig; `strongly_consistent()` turns it off):
after an endpoint operation reports Succeeded the next deployment PUT can still be refused
because the endpoint "is in Updating provisioning state" (Azure/azure-sdk-for-net#36961);
a traffic update naming a deployment created a moment ago can answer 404; reads show the
previous split for a while. Each window closes after N hits or `consistency_seconds`.

Kubernetes endpoints score through the cluster's inference router (scoring.py builds the
URI from the AzureML extension's settings). Keys: `listKeys` (Key auth), `token` (AMLToken).
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from .arm import FakeRequest, Reply, bad_request, conflict, not_found, user_error
from .state import ARM_HOST, Window, system_data, valid_name

BUSY = ("Creating", "Updating", "Deleting")
PATCHABLE = {"tags", "identity"}


@dataclass
class EndpointRecord:
    name: str
    body: dict
    traffic: dict = field(default_factory=dict)
    mirror: dict = field(default_factory=dict)
    stale_traffic: dict | None = None
    stale: Window = field(default_factory=Window)
    #: deployment PUTs still refused as "Updating" after the endpoint reported Succeeded.
    lagging_state: Window = field(default_factory=Window)
    keys: list = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.body["properties"]["provisioningState"]

    @property
    def is_kubernetes(self) -> bool:
        return bool(self.body["properties"].get("compute"))

    @property
    def stale_reads(self) -> int:
        """Kept from v1: reads still due to show the previous split."""
        return self.stale.count


def check_name(kind: str, name: str) -> None:
    if not valid_name(name):
        raise bad_request(
            f"{kind} name '{name}' is invalid: it must be 3-32 characters, start with a letter, "
            "end with a letter or digit, and contain only letters, digits and '-'.")


class Endpoints:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.records: dict[str, EndpointRecord] = {}
        base = re.escape(ARM_HOST + fake.config.workspace_path) + r"/onlineEndpoints"
        one = base + r"/(?P<name>[^/]+)"
        r = fake.router
        r.add("GET", base, "OnlineEndpoints_List", self.list)
        r.add("GET", one, "OnlineEndpoints_Get", self.get)
        r.add("PUT", one, "OnlineEndpoints_CreateOrUpdate", self.put)
        r.add("PATCH", one, "OnlineEndpoints_Update", self.patch)
        r.add("DELETE", one, "OnlineEndpoints_Delete", self.delete)
        r.add("POST", one + "/listKeys", "OnlineEndpoints_ListKeys", self.list_keys)
        r.add("POST", one + "/token", "OnlineEndpoints_GetToken", self.token)
        r.add("POST", one + "/regenerateKeys", "OnlineEndpoints_RegenerateKeys", self.regenerate)

    # ---- test API ------------------------------------------------------------------------
    def record(self, name: str) -> EndpointRecord:
        rec = self.records.get(name)
        if rec is None:
            raise not_found("Online endpoint", name)
        return rec

    def traffic(self, name: str) -> dict:
        """The split the service really applies (not the possibly stale one a GET shows)."""
        return dict(self.record(name).traffic)

    def scoring_uri(self, name: str) -> str:
        return self.record(name).body["properties"]["scoringUri"]

    def settle(self) -> None:
        """End every eventual-consistency window of every endpoint."""
        for rec in self.records.values():
            rec.stale.close()
            rec.lagging_state.close()

    def ensure_idle(self, name: str, action: str) -> EndpointRecord:
        rec = self.record(name)
        if rec.state in BUSY:
            raise conflict(f"Online endpoint '{name}' is {rec.state}: cannot {action} until "
                           "the current operation completes.")
        return rec

    def ensure_settled_for_deployment(self, name: str) -> EndpointRecord:
        """Deployment PUTs: idle, and not inside the window where the service still sees the
        endpoint as Updating after reporting Succeeded (Azure/azure-sdk-for-net#36961)."""
        rec = self.ensure_idle(name, "create or update a deployment")
        if rec.lagging_state.hit(self.fake.clock):
            raise conflict(f"Cannot create a deployment in endpoint {name} because it is in "
                           "Updating provisioning state.")
        return rec

    # ---- bodies --------------------------------------------------------------------------
    def _view(self, rec: EndpointRecord, *, read: bool) -> dict:
        body = copy.deepcopy(rec.body)
        traffic = rec.traffic
        if read and rec.stale_traffic is not None and rec.stale.hit(self.fake.clock):
            traffic = rec.stale_traffic
        body["properties"]["traffic"] = dict(traffic)
        body["properties"]["mirrorTraffic"] = dict(rec.mirror)
        return body

    def _uris(self, name: str, compute_name: str | None) -> tuple[str, str]:
        if compute_name:
            return self.fake.scoring.kubernetes_uris(name, compute_name)
        host = f"https://{name}.{self.fake.config.location}.inference.ml.azure.com"
        return f"{host}/score", f"{host}/swagger.json"

    # ---- validation ----------------------------------------------------------------------
    def validate_traffic(self, name: str, traffic: dict, mirror: dict, kubernetes: bool) -> None:
        deployments = self.fake.deployments
        workspace = self.fake.config.workspace
        for label, split in (("traffic", traffic), ("mirrorTraffic", mirror)):
            for d, v in split.items():
                if deployments.resolve(name, d) is None or (
                        v and deployments.fresh(name, d)):
                    raise user_error(
                        404, None, f"Deployment {d} not found in endpoint {name}, workspace "
                        f"{workspace}", deploymentName=d, endpointName=name,
                        workspaceName=workspace)
                if not isinstance(v, int) or not 0 <= v <= 100:
                    raise bad_request(f"Online endpoint '{name}': {label} of '{d}' must be an "
                                      f"integer between 0 and 100, got {v!r}.")
        total = sum(traffic.values())
        if total not in (0, 100):
            raise bad_request(f"Online endpoint '{name}': traffic values must sum to 100 "
                              f"(or 0 when no deployment takes traffic); they sum to {total}.")
        mirrored = {d: v for d, v in mirror.items() if v > 0}
        if not mirrored:
            return
        if kubernetes:
            raise bad_request(f"Online endpoint '{name}': mirror traffic is not supported for "
                              "Kubernetes online endpoints.")
        if len(mirrored) > 1:
            raise bad_request(f"Online endpoint '{name}': mirror traffic can target only one "
                              "deployment.")
        (d, v), = mirrored.items()
        if v > 50:
            raise bad_request(f"Online endpoint '{name}': mirror traffic cannot exceed 50%, "
                              f"got {v}% for '{d}'.")
        if share(traffic, d) > 0:
            raise bad_request(f"Online endpoint '{name}': deployment '{d}' has live traffic and "
                              "cannot also receive mirror traffic.")

    # ---- handlers ------------------------------------------------------------------------
    def list(self, req: FakeRequest) -> Reply:
        return Reply(200, {"value": [self._view(r, read=True) for r in self.records.values()],
                           "nextLink": None})

    def get(self, req: FakeRequest, name: str) -> Reply:
        return Reply(200, self._view(self.record(name), read=True))

    def put(self, req: FakeRequest, name: str) -> Reply:
        check_name("Online endpoint", name)
        body = req.json() or {}
        props = body.get("properties") or {}
        existing = self.records.get(name)
        if existing is not None:
            self.ensure_idle(name, "update it")
        compute = props.get("compute")
        compute_name = compute.rstrip("/").split("/")[-1] if compute else None
        if compute_name and compute_name not in self.fake.compute.computes:
            raise bad_request(f"Online endpoint '{name}': compute '{compute_name}' is not "
                              "attached to the workspace.", code="ResourceNotFound")
        if existing is not None and bool(compute) != existing.is_kubernetes:
            raise bad_request(f"Online endpoint '{name}': the compute of an endpoint cannot "
                              "change.")
        traffic = {k: int(v) if isinstance(v, float) and v.is_integer() else v
                   for k, v in (props.get("traffic") or {}).items()}
        mirror = dict(props.get("mirrorTraffic") or {})
        self.validate_traffic(name, traffic, mirror, bool(compute))
        scoring, swagger = self._uris(name, compute_name)
        state = "Updating" if existing else "Creating"
        new_body = {
            "id": f"{self.fake.config.workspace_id}/onlineEndpoints/{name}",
            "name": name,
            "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
            "location": body.get("location") or self.fake.config.location,
            "kind": body.get("kind") or ("K8S" if compute else "Managed"),
            "tags": body.get("tags") or {},
            "identity": body.get("identity") or {
                "type": "SystemAssigned", "principalId": "44444444-0000-0000-0000-000000000001",
                "tenantId": "44444444-0000-0000-0000-000000000002", "userAssignedIdentities": None},
            "sku": body.get("sku"),
            "properties": {
                "description": props.get("description"),
                "properties": props.get("properties") or {},
                "authMode": props.get("authMode") or "Key",
                "compute": compute,
                "scoringUri": scoring, "swaggerUri": swagger,
                "publicNetworkAccess": props.get("publicNetworkAccess", "Enabled"),
                "provisioningState": state,
            },
            "systemData": system_data(self.fake.clock,
                                      existing.body["systemData"] if existing else None),
        }
        if existing is None:
            rec = EndpointRecord(name, new_body, keys=[self._key(), self._key()])
            self.records[name] = rec
        else:
            rec = existing
            rec.body = new_body

        def effect() -> None:
            old = dict(rec.traffic)
            rec.traffic, rec.mirror = traffic, mirror
            config, clock = self.fake.config, self.fake.clock
            if old != traffic and config.stale_traffic_reads > 0:
                rec.stale_traffic = old
                rec.stale = Window.open(config.stale_traffic_reads, clock,
                                        config.consistency_seconds)
            self._succeeded(rec)

        op = self.fake.lros.start(effect, kind="OnlineEndpoints_CreateOrUpdate")
        return self.fake.lros.accepted_put(self._view(rec, read=False), op)

    def patch(self, req: FakeRequest, name: str) -> Reply:
        rec = self.ensure_idle(name, "update it")
        body = req.json() or {}
        extra = sorted(set(body) - PATCHABLE)
        if extra:
            raise bad_request(f"Online endpoint '{name}': a PATCH updates only tags and "
                              f"identity; got {', '.join(extra)}. Use PUT for the rest.")
        rec.body["properties"]["provisioningState"] = "Updating"

        def effect() -> None:
            if "tags" in body:
                rec.body["tags"] = dict(body["tags"] or {})
            if "identity" in body:
                rec.body["identity"] = {**(rec.body.get("identity") or {}),
                                        **(body["identity"] or {})}
            rec.body["systemData"] = system_data(self.fake.clock, rec.body["systemData"])
            self._succeeded(rec)

        op = self.fake.lros.start(effect, kind="OnlineEndpoints_Update")
        return self.fake.lros.accepted_delete(op)

    def _succeeded(self, rec: EndpointRecord) -> None:
        rec.body["properties"]["provisioningState"] = "Succeeded"
        config = self.fake.config
        rec.lagging_state = Window.open(config.updating_after_success, self.fake.clock,
                                        config.consistency_seconds)

    def delete(self, req: FakeRequest, name: str) -> Reply:
        if name not in self.records:
            return Reply(204)
        rec = self.ensure_idle(name, "delete it")
        rec.body["properties"]["provisioningState"] = "Deleting"

        def effect() -> None:
            self.records.pop(name, None)
            self.fake.deployments.drop_endpoint(name)

        op = self.fake.lros.start(effect, kind="OnlineEndpoints_Delete")
        return self.fake.lros.accepted_delete(op)

    def list_keys(self, req: FakeRequest, name: str) -> Reply:
        rec = self.record(name)
        if rec.body["properties"]["authMode"] != "Key":
            raise bad_request(f"Online endpoint '{name}' uses {rec.body['properties']['authMode']}"
                              " auth: keys are only available for Key auth.")
        return Reply(200, {"primaryKey": rec.keys[0], "secondaryKey": rec.keys[1]})

    def token(self, req: FakeRequest, name: str) -> Reply:
        rec = self.record(name)
        if rec.body["properties"]["authMode"] != "AMLToken":
            raise bad_request(f"Online endpoint '{name}' uses Key auth: tokens are only "
                              "available for AMLToken auth.")
        token = f"amltoken-{name}-{self.fake.rng.randrange(10**12)}"
        rec.keys.append(token)
        now = int(self.fake.clock.time())
        return Reply(200, {"accessToken": token, "tokenType": "Bearer",
                           "expiryTimeUtc": now + 3600, "refreshAfterTimeUtc": now + 1800})

    def regenerate(self, req: FakeRequest, name: str) -> Reply:
        rec = self.record(name)
        key_type = ((req.json() or {}).get("keyType") or "Primary").lower()
        index = 0 if key_type == "primary" else 1

        def effect() -> None:
            rec.keys[index] = self._key()

        op = self.fake.lros.start(effect, kind="OnlineEndpoints_RegenerateKeys")
        return self.fake.lros.accepted_delete(op)

    def _key(self) -> str:
        return "".join(self.fake.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop0123456789")
                       for _ in range(32))


def share(split: dict, deployment: str) -> int:
    """The percentage `split` gives `deployment`, keys compared case-insensitively."""
    return sum(v for k, v in split.items() if k.lower() == deployment.lower())
