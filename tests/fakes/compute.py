"""Workspace computes: attaching an AKS cluster as Kubernetes compute, and detaching it.

PUT `WS/computes/{n}` is an LRO (201 + Azure-AsyncOperation). The cluster named by
`properties.resourceId` must be known to `fake.aks` and run the AzureML extension. A
Kubernetes compute is detached (`DELETE ...?underlyingResourceAction=Detach`), never
deleted. Without instance types in the body the compute gets the extension's built-in
`defaultinstancetype` (requests 100m CPU / 2Gi, limits 2 CPU / 2Gi).
"""
from __future__ import annotations

import copy
import re

from .arm import FakeRequest, Reply, ServiceError, bad_request, not_found
from .state import ARM_HOST

DEFAULT_INSTANCE_TYPES = {
    "defaultinstancetype": {
        "nodeSelector": None,
        "resources": {"requests": {"cpu": "100m", "memory": "2Gi"},
                      "limits": {"cpu": "2", "memory": "2Gi"}},
    }
}


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
    def instance_types(self, name: str) -> dict:
        """Instance types of an attached compute (the built-in default when none given)."""
        compute = self.computes.get(name)
        if compute is None:
            return copy.deepcopy(DEFAULT_INSTANCE_TYPES)
        props = compute["properties"].get("properties") or {}
        return props.get("instanceTypes") or copy.deepcopy(DEFAULT_INSTANCE_TYPES)

    def default_instance_type(self, name: str) -> str:
        compute = self.computes.get(name) or {"properties": {}}
        props = compute["properties"].get("properties") or {}
        return props.get("defaultInstanceType") or "defaultinstancetype"

    # ---- handlers ------------------------------------------------------------------------
    def _compute(self, name: str) -> dict:
        compute = self.computes.get(name)
        if compute is None:
            raise not_found("Compute", name)
        return compute

    def list(self, req: FakeRequest) -> Reply:
        return Reply(200, {"value": list(self.computes.values()), "nextLink": None})

    def get(self, req: FakeRequest, name: str) -> Reply:
        return Reply(200, self._compute(name))

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
            raise ServiceError(409, "Conflict", f"compute '{name}' is already attached to "
                               f"another cluster: {existing['properties']['resourceId']}")
        k8s = {"namespace": "default", "defaultInstanceType": "defaultinstancetype",
               "instanceTypes": copy.deepcopy(DEFAULT_INSTANCE_TYPES),
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

        op = self.fake.lros.start(effect)
        return self.fake.lros.accepted_put(copy.deepcopy(compute), op)

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

        return self.fake.lros.accepted_delete(self.fake.lros.start(effect))
