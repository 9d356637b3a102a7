"""What the AKS doctor looks at and what it says, pure: frozen facts, the target, findings.

:mod:`azml2aks.backends.azure.compute` reads the facts from ARM and the cluster's API server
into these dataclasses; :func:`azml2aks.aks.doctor.judge` turns them into :class:`Finding` s, one
per check; :class:`DoctorReport` is the result ``azml2aks doctor`` prints (``to_dict`` for
``--output json``). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["pass", "warn", "fail"]
AZUREML_EXTENSION = "microsoft.azureml.kubernetes"
DEFAULT_INSTANCE_TYPE = "defaultinstancetype"
#: the built-in default instance type (not a custom resource on the cluster)
BUILTIN_DEFAULT = {"requests": {"cpu": "100m", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
#: checks whose failure stops `attach` (the others matter for deploy, not for attaching)
BLOCKS_ATTACH = frozenset({"cluster.exists", "cluster.state", "cluster.identity", "cluster.local_accounts",
                           "extension.installed", "extension.state", "extension.inference",
                           "provider.registered", "k8s.namespace", "k8s.access"})


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    found: str
    remedy: str | None = None


@dataclass(frozen=True)
class Target:
    """What the pipeline wants from the cluster (compute and deployment settings)."""

    subscription_id: str
    resource_group: str            # the workspace's
    workspace: str
    compute: str
    cluster: str
    cluster_resource_group: str
    namespace: str = "azureml"
    instance_type: str | None = None
    instance_count: int = 1
    requests: dict[str, str | None] = field(default_factory=dict)   # {"cpu": "2", "memory": "4Gi"}
    limits: dict[str, str | None] = field(default_factory=dict)
    min_vcpus: int = 4
    min_memory_gib: int = 14

    @classmethod
    def from_specs(cls, compute: Any, deployment: Any | None, *, resource_group: str, workspace: str) -> Target:
        """The target of a ComputeSpec and (optionally) a DeploymentSpec (azml2aks.config.specs)."""
        from azml2aks.errors import ConfigError

        if not compute.cluster_name:
            raise ConfigError("compute.cluster_name is not set in pipeline.yaml: the doctor and attach need the "
                              "AKS cluster's name", hint="set compute.cluster_name (and compute.resource_group when "
                              "the cluster is not in the workspace's resource group)")
        resources = dict(deployment.resources) if deployment is not None else {}
        return cls(subscription_id=compute.subscription_id, resource_group=resource_group, workspace=workspace,
                   compute=compute.name, cluster=compute.cluster_name,
                   cluster_resource_group=compute.cluster_resource_group or resource_group,
                   namespace=compute.namespace,
                   instance_type=deployment.instance_type if deployment is not None else None,
                   instance_count=deployment.instance_count if deployment is not None else 1,
                   requests=dict(resources.get("requests") or {}), limits=dict(resources.get("limits") or {}),
                   min_vcpus=compute.min_vcpus, min_memory_gib=compute.min_memory_gib)

    @property
    def cluster_id(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.cluster_resource_group}"
                f"/providers/Microsoft.ContainerService/managedClusters/{self.cluster}")

    @property
    def aks(self) -> str:
        """``-g RG -n NAME`` for az aks commands."""
        return f"-g {self.cluster_resource_group} -n {self.cluster}"


@dataclass(frozen=True)
class Pool:
    name: str
    vm_size: str
    count: int
    mode: str = "User"
    auto_scaling: bool = False
    max_count: int | None = None
    taints: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterFacts:
    id: str
    location: str
    provisioning_state: str
    power_state: str | None              # Running / Stopped; None when ARM did not say
    identity_type: str | None            # SystemAssigned / UserAssigned / None (service principal)
    disable_local_accounts: bool
    kubernetes_version: str
    authorized_ip_ranges: tuple[str, ...] = ()
    private_cluster: bool = False
    pools: tuple[Pool, ...] = ()


@dataclass(frozen=True)
class ExtensionFacts:
    name: str
    extension_type: str
    provisioning_state: str
    settings: dict[str, Any] = field(default_factory=dict)
    protected_keys: tuple[str, ...] = ()
    release_namespace: str = "azureml"
    error: str | None = None


@dataclass(frozen=True)
class ComputeFacts:
    compute_type: str
    resource_id: str
    namespace: str | None
    provisioning_state: str


@dataclass(frozen=True)
class InClusterFacts:
    reachable: bool
    reason: str | None = None                   # why not reachable
    namespace_exists: bool | None = None
    instance_type: dict | None = None           # the CR's spec.resources; None = not defined
    router_type: str | None = None              # None = service not found
    router_address: str | None = None


@dataclass(frozen=True)
class Facts:
    cluster: ClusterFacts | None                # None: not found
    extensions: tuple[ExtensionFacts, ...] = ()
    provider_state: str | None = None
    compute: ComputeFacts | None = None         # None: no compute of that name
    workspace_location: str | None = None
    supported_versions: tuple[tuple[str, bool], ...] | None = None   # (minor "1.30", is_preview)
    in_cluster: InClusterFacts | None = None


@dataclass(frozen=True)
class DoctorReport:
    cluster: str
    compute: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "fail"]

    def blocking_attach(self) -> list[Finding]:
        return [f for f in self.failed if f.check in BLOCKS_ATTACH]

    def to_dict(self) -> dict[str, Any]:
        counts = {s: sum(f.status == s for f in self.findings) for s in ("pass", "warn", "fail")}
        return {"cluster": self.cluster, "compute": self.compute, "ok": self.ok, **counts,
                "findings": [asdict(f) for f in self.findings]}
