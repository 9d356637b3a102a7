"""``azml2aks infra plan``, pure: what Azure holds vs what ``infra/<env>.yaml`` asks for.

:func:`plan` compares observed state (ARM JSON of the cluster and the AzureML extension, the
provider registration, what the cluster's API server shows, the workspace's compute) with an
:class:`~azml2aks.aks.infraspec.InfraSpec` and returns one :class:`Change` per resource, in the
order ``infra up`` applies them. :func:`cluster_update_body` renders the PUT for a drifted
cluster without dropping what the spec does not manage (other pools, network profile, tags).
Fields the spec manages: identity, local accounts, OIDC issuer, workload identity, authorized
IP ranges, Kubernetes version (when given), SKU tier, and per pool mode, count or autoscaler
bounds. A pool's VM size cannot change in place (AKS refuses it): that is a ConfigError.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from azml2aks.aks.infraspec import (
    AZUREML_EXTENSION_TYPE,
    InfraSpec,
    cluster_body,
    extension_body,
    pool_body,
)
from azml2aks.errors import ConfigError

Action = Literal["create", "update", "register", "attach", "none", "unknown"]


@dataclass(frozen=True)
class Change:
    resource: str            # provider | cluster | extension | namespace | instance_type | compute
    name: str
    action: Action
    details: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return self.action not in ("none", "unknown")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class KubeState:
    """What the cluster's API server shows; ``reachable=False`` carries the reason."""

    reachable: bool
    reason: str | None = None
    namespace_exists: bool = False
    instance_types: dict[str, dict] = field(default_factory=dict)   # name -> spec {nodeSelector, resources}


@dataclass(frozen=True)
class Observed:
    provider_state: str | None
    cluster: dict | None                    # ARM JSON (wire names) or None when missing
    extension: dict | None                  # the AzureML extension's ARM JSON, or None
    kube: KubeState | None                  # None: the cluster does not exist yet
    compute: dict | None                    # {"computeType", "resourceId", "namespace", "provisioningState"}


def plan(spec: InfraSpec, seen: Observed, *, cluster_id: str) -> list[Change]:
    out = [_provider(seen.provider_state)]
    out.append(Change("cluster", spec.cluster.name, "create", _describe_new(spec)) if seen.cluster is None
               else _cluster(spec, seen.cluster))
    out.append(_extension(spec, seen.extension))
    out += _in_cluster(spec, seen.kube)
    out.append(_compute(spec, seen.compute, cluster_id))
    return out


def _provider(state: str | None) -> Change:
    if state == "Registered":
        return Change("provider", "Microsoft.KubernetesConfiguration", "none")
    return Change("provider", "Microsoft.KubernetesConfiguration", "register", (f"registrationState {state}",))


def _describe_new(spec: InfraSpec) -> tuple[str, ...]:
    c = spec.cluster
    pools = [f"{p.name}: {p.count if not p.autoscale else f'{p.min_count}..{p.max_count}'} x {p.vm_size}"
             for p in (c.system_pool, c.inference_pool)]
    return (f"in {spec.resource_group} ({spec.location}), Kubernetes {c.kubernetes_version or 'default'}",
            *pools, f"SystemAssigned identity, OIDC issuer {c.oidc_issuer}, workload identity {c.workload_identity}")


def _get(d: dict | None, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _cluster(spec: InfraSpec, seen: dict) -> Change:
    c, p, diffs = spec.cluster, seen.get("properties") or {}, []
    if _get(seen, "identity", "type") not in ("SystemAssigned", "UserAssigned"):
        diffs.append("identity: service principal -> SystemAssigned")
    if p.get("disableLocalAccounts"):
        diffs.append("disableLocalAccounts: true -> false")
    for label, path, want in (("oidcIssuerProfile.enabled", ("oidcIssuerProfile", "enabled"), c.oidc_issuer),
                              ("workloadIdentity.enabled", ("securityProfile", "workloadIdentity", "enabled"),
                               c.workload_identity)):
        if bool(_get(p, *path)) != want:
            diffs.append(f"{label}: {bool(_get(p, *path))} -> {want}")
    ranges = sorted(_get(p, "apiServerAccessProfile", "authorizedIPRanges") or [])
    if ranges != sorted(c.authorized_ip_ranges):
        diffs.append(f"authorizedIPRanges: {ranges} -> {sorted(c.authorized_ip_ranges)}")
    current = p.get("currentKubernetesVersion") or p.get("kubernetesVersion") or ""
    if c.kubernetes_version and not (current + ".").startswith(c.kubernetes_version + "."):
        diffs.append(f"kubernetesVersion: {current} -> {c.kubernetes_version}")
    if (_get(seen, "sku", "tier") or "Free") != c.sku_tier:
        diffs.append(f"sku.tier: {_get(seen, 'sku', 'tier')} -> {c.sku_tier}")
    pools = {q.get("name"): q for q in p.get("agentPoolProfiles") or []}
    for pool, mode in ((c.system_pool, "System"), (c.inference_pool, "User")):
        have = pools.get(pool.name)
        if have is None:
            diffs.append(f"pool {pool.name}: add {mode} pool of {pool.vm_size}")
            continue
        if (have.get("vmSize") or "").lower() != pool.vm_size.lower():
            raise ConfigError(f"cluster '{c.name}': pool '{pool.name}' runs {have.get('vmSize')}, the spec says "
                              f"{pool.vm_size}; AKS cannot change a pool's VM size",
                              hint=f"add a pool with a new name for {pool.vm_size} in the spec, move the workload, "
                              f"then `az aks nodepool delete --cluster-name {c.name} -g {spec.resource_group} "
                              f"-n {pool.name}`")
        if (have.get("mode") or "User") != mode:
            diffs.append(f"pool {pool.name}: mode {have.get('mode')} -> {mode}")
        if pool.autoscale:
            seen_bounds = (bool(have.get("enableAutoScaling")), have.get("minCount"), have.get("maxCount"))
            if seen_bounds != (True, pool.min_count, pool.max_count):
                diffs.append(f"pool {pool.name}: {_bounds(*seen_bounds)} -> "
                             f"{_bounds(True, pool.min_count, pool.max_count)}")
        elif have.get("enableAutoScaling") or have.get("count") != pool.count:
            diffs.append(f"pool {pool.name}: {_bounds(bool(have.get('enableAutoScaling')), have.get('minCount'), have.get('maxCount'), have.get('count'))} -> {pool.count} nodes")
    return Change("cluster", c.name, "update" if diffs else "none", tuple(diffs))


def _bounds(on: bool, low: Any, high: Any, count: Any = None) -> str:
    return f"autoscale {low}..{high}" if on else f"{count} nodes" if count is not None else "off"


def cluster_update_body(spec: InfraSpec, seen: dict) -> dict[str, Any]:
    """The PUT body for an existing cluster: the spec's fields over what it holds now."""
    body = cluster_body(spec)
    p, sp = body["properties"], seen.get("properties") or {}
    p["dnsPrefix"] = sp.get("dnsPrefix") or p["dnsPrefix"]
    if sp.get("networkProfile"):
        p["networkProfile"] = copy.deepcopy(sp["networkProfile"])
    p.setdefault("kubernetesVersion", sp.get("kubernetesVersion"))
    body["location"] = seen.get("location") or body["location"]
    body["tags"] = {**(seen.get("tags") or {}), **body["tags"]}
    managed = {spec.cluster.system_pool.name, spec.cluster.inference_pool.name}
    pools = []
    for have in sp.get("agentPoolProfiles") or []:
        if have.get("name") in managed:
            continue
        pools.append({k: v for k, v in have.items() if k in _POOL_WRITABLE})
    for want in p["agentPoolProfiles"]:
        have = next((q for q in sp.get("agentPoolProfiles") or [] if q.get("name") == want["name"]), None)
        merged = {k: v for k, v in (have or {}).items() if k in _POOL_WRITABLE}
        merged.update(want)
        if have and want.get("enableAutoScaling") and have.get("enableAutoScaling"):
            merged["count"] = have.get("count", want["count"])  # the autoscaler's current count stays
        pools.append(merged)
    p["agentPoolProfiles"] = pools
    return body


_POOL_WRITABLE = {"name", "count", "vmSize", "mode", "osType", "type", "enableAutoScaling", "minCount", "maxCount",
                  "nodeTaints", "nodeLabels", "availabilityZones", "maxPods", "osDiskSizeGB", "vnetSubnetID"}


def _truthy_equal(a: Any, b: Any) -> bool:
    return str(a).strip().lower() == str(b).strip().lower()


def _extension(spec: InfraSpec, seen: dict | None) -> Change:
    name = spec.extension.name
    if seen is None:
        settings = extension_body(spec)["properties"]["configurationSettings"]
        return Change("extension", name, "create", tuple(f"{k}={v}" for k, v in settings.items()))
    props = seen.get("properties") or {}
    if (props.get("extensionType") or "").lower() != AZUREML_EXTENSION_TYPE:
        raise ConfigError(f"extension '{seen.get('name')}' on cluster '{spec.cluster.name}' is of type "
                          f"{props.get('extensionType')}, not {AZUREML_EXTENSION_TYPE}",
                          hint="set extension.name in the spec to another name")
    have = props.get("configurationSettings") or {}
    diffs = [f"{k}: {have.get(k)} -> {v}" for k, v in spec.extension.settings().items()
             if k not in have or not _truthy_equal(have[k], v)]
    if props.get("provisioningState") not in ("Succeeded", None):
        diffs.append(f"provisioningState {props.get('provisioningState')}: apply again")
    return Change("extension", seen.get("name") or name, "update" if diffs else "none", tuple(diffs))


def extension_patch(spec: InfraSpec, seen: dict) -> dict[str, Any]:
    """The PATCH body that brings an existing extension's settings to the spec."""
    have = (seen.get("properties") or {}).get("configurationSettings") or {}
    changed = {k: v for k, v in spec.extension.settings().items() if k not in have or not _truthy_equal(have[k], v)}
    return {"properties": {"configurationSettings": changed, "autoUpgradeMinorVersion": True,
                           "releaseTrain": spec.extension.release_train}}


def _in_cluster(spec: InfraSpec, kube: KubeState | None) -> list[Change]:
    ns = spec.compute.namespace
    if kube is None:  # a new cluster: everything gets created
        return [Change("namespace", ns, "create"),
                *(Change("instance_type", it.name, "create", _it_text(it.resources())) for it in spec.instance_types)]
    if not kube.reachable:
        why = (f"API server not reachable: {kube.reason}",)
        return [Change("namespace", ns, "unknown", why),
                *(Change("instance_type", it.name, "unknown", why) for it in spec.instance_types)]
    out = [Change("namespace", ns, "none" if kube.namespace_exists else "create")]
    for it in spec.instance_types:
        have = kube.instance_types.get(it.name)
        want = {"nodeSelector": it.node_selector, "resources": it.resources()}
        if have is None:
            out.append(Change("instance_type", it.name, "create", _it_text(want["resources"])))
        elif _norm(have) != _norm(want):
            out.append(Change("instance_type", it.name, "update", _it_text(want["resources"])))
        else:
            out.append(Change("instance_type", it.name, "none"))
    return out


def _it_text(resources: dict) -> tuple[str, ...]:
    return tuple(f"{kind} {', '.join(f'{k}={v}' for k, v in q.items())}" for kind, q in resources.items() if q)


def _norm(spec: dict) -> tuple:
    res = spec.get("resources") or {}
    return (tuple(sorted((spec.get("nodeSelector") or {}).items())),
            tuple(sorted((kind, tuple(sorted((k, str(v)) for k, v in (q or {}).items())))
                         for kind, q in res.items() if q)))


def _compute(spec: InfraSpec, compute: dict | None, cluster_id: str) -> Change:
    name = spec.compute.name
    if compute is None:
        return Change("compute", name, "attach", (f"namespace {spec.compute.namespace}, SystemAssigned identity",))
    if (compute.get("computeType") != "Kubernetes"
            or (compute.get("resourceId") or "").lower() != cluster_id.lower()):
        raise ConfigError(f"compute '{name}' in workspace '{spec.workspace.name}' already exists and points at "
                          f"another cluster: {compute.get('resourceId') or compute.get('computeType')}",
                          hint="set compute.name in the spec to another name, or detach that compute deliberately")
    if compute.get("provisioningState") != "Succeeded":
        return Change("compute", name, "attach", (f"provisioningState {compute.get('provisioningState')}",))
    return Change("compute", name, "none")


__all__ = ["Change", "KubeState", "Observed", "plan", "cluster_update_body", "extension_patch", "pool_body"]
