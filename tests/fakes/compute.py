"""Workspace computes: attaching an AKS cluster as Kubernetes compute, and detaching it.

PUT `WS/computes/{n}` is an LRO (201 + Azure-AsyncOperation). The cluster named by
`properties.resourceId` must be known to `fake.aks` and run the AzureML extension. A
Kubernetes compute is detached (`DELETE ...?underlyingResourceAction=Detach`), never
deleted. Instance types live on the cluster as Kubernetes custom resources
(instancetypes.py), not in the attach body: `instance_types()` reads the cluster's, and
the compute GET reports them (with the built-in `defaultinstancetype`).
"""
from __future__ import annotations

import copy
import re

from .arm import FakeRequest, Reply, bad_request, conflict, not_found
from .instancetypes import BUILTIN_DEFAULT, DEFAULT
from .state import ARM_HOST

#: kept for callers of v1; the built-in default instance type of the AzureML extension.
DEFAULT_INSTANCE_TYPES = {DEFAULT: BUILTIN_DEFAULT}


class Compute:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.computes: dict[str, dict] = {}
        ws = re.escape(ARM_HOST + fake.config.workspace_path)
        r = fake.router
        r.add("GET", ws + r"/computes", "Compute_List", self.list)
        r.add("GET", ws + r"/computes/(?P<name>[^/]+)", "Compute_Get", self.get)
        r.add("PUT", ws + r"/computes/(?P<name>[^/]+)", "Compute_CreateOrUpdate", self.put)
        r.add("DELETE", ws + r"/computes/(?P<name>[^/]+)", "Compute_Delete", self.delete)

    # ---- test API ------------------------------------------------------------------------
    def cluster(self, name: str) -> str | None:
        """The AKS cluster an attached compute points at."""
        compute = self.computes.get(name)
        if compute is None:
            return None
        return self.fake.aks.cluster_for_id(compute["properties"]["resourceId"])

    def instance_types(self, name: str) -> dict:
        """Instance types a deployment on compute `name` can use: its cluster's custom
        resources plus the built-in `defaultinstancetype`."""
        cluster = self.cluster(name)
        if cluster is None:
            return copy.deepcopy(DEFAULT_INSTANCE_TYPES)
        return self.fake.instance_types.resources(cluster)

    def default_instance_type(self, name: str) -> str:
        compute = self.computes.get(name) or {"properties": {}}
        props = compute["properties"].get("properties") or {}
        return props.get("defaultInstanceType") or DEFAULT

    def _view(self, compute: dict) -> dict:
        body = copy.deepcopy(compute)
        props = body["properties"].get("properties")
        if isinstance(props, dict):
            props["instanceTypes"] = self.instance_types(body["name"])
        return body

    # ---- handlers ------------------------------------------------------------------------
    def _compute(self, name: str) -> dict:
        compute = self.computes.get(name)
        if compute is None:
            raise not_found("Compute", name)
        return compute

    def list(self, req: FakeRequest) -> Reply:
        return Reply(200, {"value": [self._view(c) for c in self.computes.values()],
                           "nextLink": None})

    def get(self, req: FakeRequest, name: str) -> Reply:
        return Reply(200, self._view(self._compute(name)))

    def put(self, req: FakeRequest, name: str) -> Reply:
        body = req.json() or {}
        props = body.get("properties") or {}
        if props.get("computeType") != "Kubernetes":
            raise bad_request(f"compute '{name}': the fake attaches Kubernetes computes only, "
                              f"got computeType {props.get('computeType')!r}")
        resource_id = props.get("resourceId") or ""
        cluster = self.fake.aks.cluster_for_id(resource_id)
        if cluster is None:
            raise bad_request(f"compute '{name}': resourceId '{resource_id}' is not an AKS "
                              "cluster in this subscription.", code="ResourceNotFound")
        if not self.fake.aks.has_azureml_extension(cluster):
            raise bad_request(f"compute '{name}': the AzureML extension "
                              "(microsoft.azureml.kubernetes) is not installed on cluster "
                              f"'{cluster}'.", code="AzureMLExtensionNotFound")
        existing = self.computes.get(name)
        if existing and existing["properties"]["resourceId"].lower() != resource_id.lower():
            raise conflict(f"compute '{name}' is already attached to another cluster: "
                           f"{existing['properties']['resourceId']}")
        k8s = {"namespace": "default", "defaultInstanceType": DEFAULT, "instanceTypes": {},
               "relayConnectionString": None, "serviceBusConnectionString": None,
               "extensionPrincipalId": None, "extensionInstanceReleaseTrain": "stable",
               "vcName": None}
        k8s.update({k: v for k, v in (props.get("properties") or {}).items() if v is not None})
        now = self.fake.clock.iso()
        compute = {
            "id": f"{self.fake.config.workspace_id}/computes/{name}",
            "type": "Microsoft.MachineLearningServices/workspaces/computes",
            "name": name,
            "location": body.get("location") or self.fake.config.location,
            "properties": {
                "createdOn": existing["properties"]["createdOn"] if existing else now,
                "modifiedOn": now,
                "description": props.get("description"),
                "resourceId": resource_id,
                "computeType": "Kubernetes",
                "provisioningState": "Creating",
                "isAttachedCompute": True,
                "disableLocalAuth": props.get("disableLocalAuth", False),
                "provisioningErrors": None,
                "properties": k8s,
            },
            "identity": body.get("identity"),
        }
        self.computes[name] = compute

        def effect() -> None:
            compute["properties"]["provisioningState"] = "Succeeded"

        op = self.fake.lros.start(effect, kind="Compute_CreateOrUpdate")
        return self.fake.lros.accepted_put(self._view(compute), op)

    def delete(self, req: FakeRequest, name: str) -> Reply:
        action = {k.lower(): v for k, v in req.query.items()}.get("underlyingresourceaction")
        if name not in self.computes:
            return Reply(204)
        compute = self.computes[name]
        if (action or "").lower() != "detach":
            raise bad_request(f"compute '{name}' is an attached Kubernetes cluster: it can only "
                              "be detached (underlyingResourceAction=Detach).")
        compute["properties"]["provisioningState"] = "Deleting"

        def effect() -> None:
            self.computes.pop(name, None)

        return self.fake.lros.accepted_delete(self.fake.lros.start(effect, kind="Compute_Delete"))
