"""Instance types: Kubernetes custom resources on each cluster, what deployments are sized by.

On Azure an instance type is an `InstanceType` custom resource
(`apiVersion: amlarc.azureml.com/v1alpha1`) created with kubectl on the cluster, not a
field of the compute attach body (learn.microsoft.com/azure/machine-learning/
how-to-manage-kubernetes-instance-types; ../shared/azure-ml-wire.md). Without any, the
AzureML extension serves a built-in `defaultinstancetype` (requests 100m CPU / 2Gi, limits
2 CPU / 2Gi) that `kubectl get instancetype` does not list; a custom resource named
`defaultinstancetype` replaces it (same page).

Test API: `fake.instance_types.apply(cluster, name, requests=, limits=, node_selector=)`
(like `kubectl apply`), `.delete(cluster, name)`, `.resources(cluster)` (what a
deployment can name: the custom resources plus the built-in default) and `.objects(cluster)`
(the custom resources as kubectl would print them).
"""
from __future__ import annotations

import copy
import re

from .arm import bad_request

API_VERSION = "amlarc.azureml.com/v1alpha1"
DEFAULT = "defaultinstancetype"
#: the built-in default of the AzureML extension (doc page above; azure-ml-wire.md).
BUILTIN_DEFAULT = {"nodeSelector": None,
                   "resources": {"requests": {"cpu": "100m", "memory": "2Gi"},
                                 "limits": {"cpu": "2", "memory": "2Gi"}}}
#: Kubernetes object names (RFC 1123 subdomain, lowercase).
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


class InstanceTypes:
    def __init__(self, fake) -> None:
        self.fake = fake
        self._objects: dict[str, dict[str, dict]] = {}

    def apply(self, cluster: str, name: str, *, requests: dict | None = None,
              limits: dict | None = None, node_selector: dict | None = None) -> dict:
        """Create or replace the InstanceType `name` on `cluster` (kubectl apply)."""
        if not _NAME.match(name):
            raise bad_request(f"InstanceType name '{name}' is not a valid Kubernetes name "
                              "(lowercase letters, digits, '-' and '.').")
        spec: dict = {"resources": {}}
        if node_selector:
            spec["nodeSelector"] = dict(node_selector)
        if requests:
            spec["resources"]["requests"] = dict(requests)
        if limits:
            spec["resources"]["limits"] = dict(limits)
        obj = {"apiVersion": API_VERSION, "kind": "InstanceType",
               "metadata": {"name": name}, "spec": spec}
        self._objects.setdefault(cluster, {})[name] = obj
        return copy.deepcopy(obj)

    def delete(self, cluster: str, name: str) -> None:
        self._objects.get(cluster, {}).pop(name, None)

    def objects(self, cluster: str) -> list[dict]:
        """The custom resources on `cluster` (the built-in default is not one)."""
        return [copy.deepcopy(o) for o in self._objects.get(cluster, {}).values()]

    def resources(self, cluster: str) -> dict[str, dict]:
        """Instance types a deployment on `cluster` can name: {name: {nodeSelector, resources}}."""
        found = {DEFAULT: copy.deepcopy(BUILTIN_DEFAULT)}
        for name, obj in self._objects.get(cluster, {}).items():
            found[name] = {"nodeSelector": obj["spec"].get("nodeSelector"),
                           "resources": copy.deepcopy(obj["spec"]["resources"])}
        return found
