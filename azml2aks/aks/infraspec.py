"""``infra/<env>.yaml``, pure: the AKS side of an environment, and the ARM bodies it asks for.

Platform engineers write one file per environment (``infra/dev.yaml``, ``infra/prod.yaml``);
``azml2aks infra plan|up`` reads it. This module validates it (pydantic, unknown keys are
errors, ``${VAR}`` / ``${VAR:-default}`` interpolated like pipeline.yaml) and renders what
Azure should hold: the managed cluster body (system pool + a user pool for inference with
autoscaler bounds, system-assigned managed identity, OIDC issuer + workload identity, local
accounts on) and the AzureML extension body (inference on, router service type, insecure
connections off unless asked). No I/O beyond reading the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from azml2aks.config import NAME_RE
from azml2aks.errors import ConfigError

AZUREML_EXTENSION_TYPE = "microsoft.azureml.kubernetes"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PoolSpec(_Spec):
    name: str = Field(description="Agent pool name (1-12 lowercase letters and digits).", pattern=r"^[a-z][a-z0-9]{0,11}$")
    vm_size: str = Field("Standard_D4s_v5", description="VM size of every node; cannot change once created.")
    count: int = Field(1, ge=0, description="Nodes when the autoscaler is off; the starting count when on.")
    min_count: int | None = Field(None, ge=0, description="Autoscaler lower bound (set with max_count).")
    max_count: int | None = Field(None, ge=1, description="Autoscaler upper bound (set with min_count).")
    taints: list[str] = Field(default_factory=list, description="e.g. CriticalAddonsOnly=true:NoSchedule")
    labels: dict[str, str] = Field(default_factory=dict, description="Node labels (instance types select on them).")
    zones: list[str] = Field(default_factory=list, description="Availability zones, e.g. ['1', '2', '3'].")

    @model_validator(mode="after")
    def _bounds(self) -> PoolSpec:
        if (self.min_count is None) != (self.max_count is None):
            raise ValueError(f"pool {self.name}: set both min_count and max_count (the autoscaler bounds), or neither")
        if self.autoscale and not self.min_count <= self.count <= self.max_count:  # type: ignore[operator]
            raise ValueError(f"pool {self.name}: count {self.count} must lie within min_count..max_count "
                             f"({self.min_count}..{self.max_count})")
        return self

    @property
    def autoscale(self) -> bool:
        return self.max_count is not None


class ClusterSpec(_Spec):
    name: str = Field(description="AKS managed cluster name.")
    kubernetes_version: str | None = Field(None, description="e.g. '1.31'; default: AKS's default at creation.")
    dns_prefix: str | None = Field(None, description="Default: the cluster name.")
    sku_tier: Literal["Free", "Standard"] = Field("Standard", description="Standard: uptime SLA (production).")
    system_pool: PoolSpec = Field(default_factory=lambda: PoolSpec(name="system", count=1))
    inference_pool: PoolSpec = Field(default_factory=lambda: PoolSpec(name="inference", count=1, min_count=1,
                                                                      max_count=3))
    oidc_issuer: bool = Field(True, description="OIDC issuer (needed by workload identity).")
    workload_identity: bool = Field(True, description="Microsoft Entra Workload ID for pods.")
    authorized_ip_ranges: list[str] = Field(default_factory=list, description="API server allow-list (CIDRs); "
                                            "must include the Azure ML control plane of both paired regions.")
    tags: dict[str, str] = Field(default_factory=dict)


class ExtensionSpec(_Spec):
    name: str = Field("azureml", description="Extension resource name.")
    release_train: str = Field("stable")
    router_service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = Field("LoadBalancer")
    internal_load_balancer: bool = Field(False, description="Router on an internal (VNet) load balancer.")
    router_ha: bool = Field(True, description="3 router replicas (production) instead of 1.")
    allow_insecure_connections: bool = Field(False, description="Plain HTTP scoring (dev only: keys in clear).")
    ssl_secret: str | None = Field(None, description="Kubernetes TLS secret (in the azureml namespace) for HTTPS.")
    ssl_cname: str | None = Field(None, description="Host name the certificate is issued for.")

    @model_validator(mode="after")
    def _tls(self) -> ExtensionSpec:
        if not self.allow_insecure_connections and not self.ssl_secret:
            raise ValueError("the inference router needs TLS (ssl_secret + ssl_cname) or, for dev only, "
                             "allow_insecure_connections: true; with neither the endpoint cannot serve")
        return self

    def settings(self) -> dict[str, str]:
        """The extension's configurationSettings (strings, as the service stores them)."""
        out = {"enableTraining": "False", "enableInference": "True",
               "inferenceRouterServiceType": self.router_service_type,
               "inferenceRouterHA": str(self.router_ha),
               "allowInsecureConnections": str(self.allow_insecure_connections)}
        if self.internal_load_balancer:
            out["internalLoadBalancerProvider"] = "azure"
        if self.ssl_secret:
            out["sslSecret"] = self.ssl_secret
        if self.ssl_cname:
            out["sslCname"] = self.ssl_cname
        return out


class Quantities(_Spec):
    cpu: str | None = None
    memory: str | None = None
    nvidia_com_gpu: int | None = Field(None, alias="nvidia.com/gpu")


class InstanceTypeSpec(_Spec):
    name: str = Field(description="Name deployments use as instance_type.", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    node_selector: dict[str, str] | None = None
    requests: Quantities = Field(default_factory=Quantities)
    limits: Quantities = Field(default_factory=Quantities)

    def resources(self) -> dict[str, dict[str, str]]:
        return {kind: {k: str(v) for k, v in q.model_dump(by_alias=True).items() if v is not None}
                for kind, q in (("requests", self.requests), ("limits", self.limits))}


class WorkspaceRef(_Spec):
    resource_group: str | None = Field(None, description="Default: the cluster's resource group.")
    name: str


class ComputeRef(_Spec):
    name: str = Field("aks-compute", description="Kubernetes compute name in the workspace.")
    namespace: str = Field("azureml", description="Namespace of the deployments (created if missing).")


class InfraSpec(_Spec):
    """One environment's AKS cluster, AzureML extension, namespace, instance types and compute."""

    subscription_id: str
    resource_group: str = Field(description="Resource group of the cluster.")
    location: str
    cluster: ClusterSpec
    extension: ExtensionSpec = Field(default_factory=ExtensionSpec)
    instance_types: list[InstanceTypeSpec] = Field(default_factory=list)
    workspace: WorkspaceRef
    compute: ComputeRef = Field(default_factory=ComputeRef)

    @model_validator(mode="after")
    def _names(self) -> InfraSpec:
        if not NAME_RE.match(self.cluster.name):
            raise ValueError(f"cluster.name {self.cluster.name!r}: letters, digits and '-', a letter first")
        pools = [self.cluster.system_pool.name, self.cluster.inference_pool.name]
        if len(set(pools)) != 2:
            raise ValueError(f"system_pool and inference_pool need different names, got {pools[0]!r} twice")
        return self

    @property
    def workspace_resource_group(self) -> str:
        return self.workspace.resource_group or self.resource_group


# --- ARM bodies -----------------------------------------------------------------------------------

def pool_body(pool: PoolSpec, mode: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": pool.name, "mode": mode, "vmSize": pool.vm_size, "count": pool.count,
                            "osType": "Linux", "type": "VirtualMachineScaleSets",
                            "enableAutoScaling": pool.autoscale}
    if pool.autoscale:
        body.update(minCount=pool.min_count, maxCount=pool.max_count)
    if pool.taints:
        body["nodeTaints"] = list(pool.taints)
    if pool.labels:
        body["nodeLabels"] = dict(pool.labels)
    if pool.zones:
        body["availabilityZones"] = list(pool.zones)
    return body


def cluster_body(spec: InfraSpec) -> dict[str, Any]:
    """The managed cluster PUT body for a new cluster."""
    c = spec.cluster
    props: dict[str, Any] = {
        "dnsPrefix": c.dns_prefix or c.name,
        "enableRBAC": True,
        "disableLocalAccounts": False,  # the AzureML extension does not support clusters without them
        "agentPoolProfiles": [pool_body(c.system_pool, "System"), pool_body(c.inference_pool, "User")],
        "oidcIssuerProfile": {"enabled": c.oidc_issuer},
        "securityProfile": {"workloadIdentity": {"enabled": c.workload_identity}},
        "apiServerAccessProfile": {"authorizedIPRanges": list(c.authorized_ip_ranges)},
        "networkProfile": {"networkPlugin": "azure", "loadBalancerSku": "standard"},
    }
    if c.kubernetes_version:
        props["kubernetesVersion"] = c.kubernetes_version
    return {"location": spec.location, "identity": {"type": "SystemAssigned"},
            "sku": {"name": "Base", "tier": c.sku_tier}, "tags": dict(c.tags), "properties": props}


def extension_body(spec: InfraSpec) -> dict[str, Any]:
    """The AzureML extension PUT body (Microsoft.KubernetesConfiguration/extensions)."""
    e = spec.extension
    return {"properties": {"extensionType": AZUREML_EXTENSION_TYPE, "autoUpgradeMinorVersion": True,
                           "releaseTrain": e.release_train, "scope": {"cluster": {"releaseNamespace": "azureml"}},
                           "configurationSettings": e.settings()}}


# --- loading --------------------------------------------------------------------------------------

def parse_infra(text: str, *, source: str = "infra.yaml", env: dict[str, str] | None = None) -> InfraSpec:
    """Validate an infra file's text; ConfigError naming file:line for every problem."""
    from azml2aks.config.loader import _compose, _dotted, _interpolate, _where

    data, lines = _compose(text, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping (subscription_id:, cluster:, ...)",
                          hint="start from infra/dev.yaml")
    data = _interpolate(data, lines, source, dict(os.environ) if env is None else env)
    try:
        return InfraSpec.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = tuple(p for p in err["loc"] if isinstance(p, (int, str)))
            message = err["msg"].removeprefix("Value error, ")
            what = "unknown key" if err["type"] == "extra_forbidden" else message
            problems.append(f"{_where(source, lines, loc)}: {_dotted(loc)}: {what}")
        head = problems[0] if len(problems) == 1 else f"{source}: {len(problems)} problems:\n  " + "\n  ".join(problems)
        raise ConfigError(head, hint="see infra/README.md for every key") from None


def load_infra(path: str | os.PathLike, *, env: dict[str, str] | None = None) -> InfraSpec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read it ({e.__class__.__name__})", hint="pass infra/<env>.yaml") from None
    return parse_infra(text, source=str(p), env=env)
