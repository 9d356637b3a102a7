"""The AKS doctor's judgement, pure: observed facts in, one finding per check out.

``backends/azure/compute.py`` reads the facts (ARM: cluster, extensions, provider, compute,
workspace, supported versions; inside the cluster: namespace, instance type, router service)
into the frozen dataclasses of :mod:`azml2aks.aks.findings` (re-exported here) and hands them to
:func:`judge`, which does no I/O. Each
:class:`Finding` says pass / warn / fail, what was found, and the remedy as the ``az`` command
or setting that fixes it. A fail means a deploy would fail; a warn means it may work but
something is off (or could not be checked). Rules and their sources: ``shared/azure-ml-wire.md``
("AzureML extension prerequisites on AKS", "Attach", "Kubernetes endpoints score through").
"""

from __future__ import annotations

from typing import Any

from azml2aks.aks.capacity import cpu_cores, memory_gib, vm_size
from azml2aks.aks.findings import (  # noqa: F401 - re-exported: `doctor.Target`, `doctor.Facts`, ...
    AZUREML_EXTENSION,
    BLOCKS_ATTACH,
    BUILTIN_DEFAULT,
    DEFAULT_INSTANCE_TYPE,
    ClusterFacts,
    ComputeFacts,
    DoctorReport,
    ExtensionFacts,
    Facts,
    Finding,
    InClusterFacts,
    Pool,
    Status,
    Target,
)


def judge(facts: Facts, target: Target, *, require_cluster_access: bool = False) -> list[Finding]:
    """Every finding for ``facts``, in a stable order."""
    out: list[Finding] = []
    c = facts.cluster
    if c is None:
        out.append(Finding("cluster.exists", "fail", f"AKS cluster '{target.cluster}' not found in resource "
                           f"group '{target.cluster_resource_group}'",
                           "create it: `azml2aks infra up infra/<env>.yaml` (or `az aks create "
                           f"{target.aks} --enable-managed-identity`), or fix compute.cluster_name"))
    else:
        out.append(Finding("cluster.exists", "pass", f"AKS cluster '{target.cluster}' in {c.location}"))
        out += _cluster(c, target, facts.supported_versions)
        out += _extension(facts.extensions, target)
    out.append(_provider(facts.provider_state))
    out.append(_compute(facts.compute, target))
    if c is not None:
        out.append(_region(facts.workspace_location, c.location, target))
        out += _in_cluster(facts.in_cluster, target, _router_namespace(facts.extensions), require_cluster_access)
    return out


# --- ARM ----------------------------------------------------------------------------------------

def _cluster(c: ClusterFacts, t: Target, versions) -> list[Finding]:
    out = []
    if c.provisioning_state != "Succeeded":
        out.append(Finding("cluster.state", "fail", f"provisioningState {c.provisioning_state}",
                           f"wait for the running operation, or repair it: `az aks update {t.aks}`"))
    elif c.power_state is None:  # the official ManagedClustersGet example has no powerState: not a stop
        out.append(Finding("cluster.state", "warn", "Succeeded; the power state was not reported",
                           f"check it: `az aks show {t.aks} --query powerState.code`"))
    elif c.power_state != "Running":
        out.append(Finding("cluster.state", "fail", f"power state {c.power_state}", f"`az aks start {t.aks}`"))
    else:
        out.append(Finding("cluster.state", "pass", "Succeeded, Running"))
    if c.identity_type in ("SystemAssigned", "UserAssigned"):
        out.append(Finding("cluster.identity", "pass", f"{c.identity_type} managed identity"))
    else:
        out.append(Finding("cluster.identity", "fail", "a service principal, no managed identity (the AzureML "
                           "extension does not support service principals)",
                           f"`az aks update {t.aks} --enable-managed-identity`, then recreate the node pools"))
    if c.disable_local_accounts:
        out.append(Finding("cluster.local_accounts", "fail", "local accounts disabled (unsupported by Azure ML)",
                           f"`az aks update {t.aks} --enable-local-accounts`"))
    else:
        out.append(Finding("cluster.local_accounts", "pass", "local accounts enabled"))
    out.append(_version(c.kubernetes_version, versions, t))
    out.append(_api_access(c, t))
    out.append(_capacity(c.pools, t))
    return out


def _version(version: str, supported, t: Target) -> Finding:
    minor = ".".join(version.split(".")[:2])
    if supported is None:
        return Finding("cluster.kubernetes_version", "warn", f"{version}; the supported list could not be read",
                       "`az aks get-versions -l <region> -o table`")
    ga = [v for v, preview in supported if not preview]
    if minor in ga:
        return Finding("cluster.kubernetes_version", "pass", f"{version} (supported: {', '.join(sorted(ga))})")
    if minor in {v for v, _ in supported}:
        return Finding("cluster.kubernetes_version", "warn", f"{version} is a preview version",
                       f"`az aks upgrade {t.aks} --kubernetes-version <GA version>`")
    return Finding("cluster.kubernetes_version", "fail", f"{version} is out of support "
                   f"(supported: {', '.join(sorted(ga)) or 'none listed'})",
                   f"`az aks upgrade {t.aks} --kubernetes-version {max(ga, key=_minor_key) if ga else '<version>'}`")


def _minor_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split(".") if p.isdigit())


def _api_access(c: ClusterFacts, t: Target) -> Finding:
    if c.private_cluster:
        return Finding("cluster.api_server_access", "warn", "private cluster: the API server is reachable from "
                       "the cluster's network only", "run the doctor from an agent in that network "
                       "(in-cluster checks need it)")
    if c.authorized_ip_ranges:
        return Finding("cluster.api_server_access", "warn", f"authorized IP ranges {', '.join(c.authorized_ip_ranges)}: "
                       "they must admit the Azure ML control plane of both paired regions and this agent",
                       f"`az aks update {t.aks} --api-server-authorized-ip-ranges <ranges incl. AzureMachineLearning "
                       "service tag>`")
    return Finding("cluster.api_server_access", "pass", "public API server, no authorized IP ranges")


def _capacity(pools: tuple[Pool, ...], t: Target) -> Finding:
    usable = [p for p in pools if p.mode == "User" or not any("CriticalAddonsOnly" in x for x in p.taints)]
    unknown = sorted({p.vm_size for p in usable if vm_size(p.vm_size) is None})
    vcpus = mem = 0.0
    node_cpu = node_mem = 0.0
    for p in usable:
        size = vm_size(p.vm_size)
        if size is None:
            continue
        n = p.max_count if p.auto_scaling and p.max_count else p.count
        vcpus += size.vcpus * n
        mem += size.memory_gib * n
        node_cpu, node_mem = max(node_cpu, size.vcpus), max(node_mem, size.memory_gib)
    pod_cpu = cpu_cores(t.requests.get("cpu")) or 0.0
    pod_mem = memory_gib(t.requests.get("memory")) or 0.0
    need_cpu, need_mem = 2 * t.instance_count * pod_cpu, 2 * t.instance_count * pod_mem
    found = (f"{vcpus:g} vCPU / {mem:g} GiB in {len(usable)} pool(s) ({', '.join(f'{p.name}: {_pool_text(p)}' for p in usable)}); "
             f"a rollout needs 2 colours x {t.instance_count} x ({pod_cpu:g} vCPU, {pod_mem:g} GiB) = "
             f"{need_cpu:g} vCPU / {need_mem:g} GiB")
    if unknown:  # what the unknown sizes hold may or may not suffice: say so, never guess
        return Finding("cluster.capacity", "warn", found + f"; unknown VM size {', '.join(unknown)} not counted",
                       "check its vCPU and memory: `az vm list-sizes -l <region> -o table`")
    if pod_cpu > node_cpu or pod_mem > node_mem:
        if node_cpu:
            return Finding("cluster.capacity", "fail", f"one pod requests {pod_cpu:g} vCPU / {pod_mem:g} GiB, more "
                           f"than the largest node ({node_cpu:g} vCPU / {node_mem:g} GiB)",
                           "lower deployment.resources.requests or add a pool of a larger size: "
                           f"`az aks nodepool add -g {t.cluster_resource_group} --cluster-name {t.cluster} -n inference "
                           "--node-vm-size Standard_D8s_v5`")
    if vcpus < need_cpu or mem < need_mem:
        return Finding("cluster.capacity", "fail", found + " (both colours run during a rollout)",
                       f"scale out: `az aks nodepool scale -g {t.cluster_resource_group} --cluster-name {t.cluster} -n <pool> --node-count <n>` "
                       "or lower deployment.instance_count / resources.requests")
    if vcpus < t.min_vcpus or mem < t.min_memory_gib:
        return Finding("cluster.capacity", "warn", found + f"; below the production guideline of {t.min_vcpus} vCPU / "
                       f"{t.min_memory_gib} GiB", "for production add nodes: `az aks nodepool scale -g "
                       f"{t.cluster_resource_group} --cluster-name {t.cluster} -n <pool> --node-count <n>` "
                       "(compute.min_vcpus / min_memory_gib set the guideline)")
    return Finding("cluster.capacity", "pass", found)


def _pool_text(p: Pool) -> str:
    n = f"{p.count}..{p.max_count}" if p.auto_scaling and p.max_count else str(p.count)
    return f"{n} x {p.vm_size}"


def _azureml(extensions) -> ExtensionFacts | None:
    return next((e for e in extensions if e.extension_type.lower() == AZUREML_EXTENSION), None)


def _router_namespace(extensions) -> str:
    ext = _azureml(extensions)
    return ext.release_namespace if ext else "azureml"


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def install_command(t: Target) -> str:
    return (f"`az k8s-extension create --name azureml --extension-type Microsoft.AzureML.Kubernetes "
            f"--cluster-type managedClusters --cluster-name {t.cluster} -g {t.cluster_resource_group} --scope cluster "
            "--config enableInference=True inferenceRouterServiceType=LoadBalancer allowInsecureConnections=False "
            "sslCname=<host> --config-protected sslCertPemFile=<cert.pem> sslKeyPemFile=<key.pem>` "
            "(or `azml2aks infra up infra/<env>.yaml`)")


def _update(t: Target, ext: str, setting: str) -> str:
    return (f"`az k8s-extension update --name {ext} --cluster-type managedClusters --cluster-name {t.cluster} "
            f"-g {t.cluster_resource_group} --config {setting}`")


def _extension(extensions, t: Target) -> list[Finding]:
    ext = _azureml(extensions)
    if ext is None:
        return [Finding("extension.installed", "fail", f"the AzureML extension ({AZUREML_EXTENSION}) is not "
                        f"installed on cluster '{t.cluster}'", install_command(t))]
    out = [Finding("extension.installed", "pass", f"'{ext.name}' ({ext.extension_type})")]
    if ext.provisioning_state != "Succeeded":
        out.append(Finding("extension.state", "fail", f"provisioningState {ext.provisioning_state}"
                           + (f": {ext.error}" if ext.error else ""),
                           f"see `az k8s-extension show --name {ext.name} --cluster-type managedClusters "
                           f"--cluster-name {t.cluster} -g {t.cluster_resource_group}`; fix and re-run the update"))
    else:
        out.append(Finding("extension.state", "pass", "Succeeded"))
    s = ext.settings
    if _truthy(s.get("enableInference")):
        out.append(Finding("extension.inference", "pass", "enableInference=True"))
    else:
        out.append(Finding("extension.inference", "fail", f"enableInference={s.get('enableInference')}",
                           _update(t, ext.name, "enableInference=True inferenceRouterServiceType=LoadBalancer")))
    router = str(s.get("inferenceRouterServiceType") or "")
    if router.lower() == "loadbalancer":
        internal = s.get("internalLoadBalancerProvider")
        out.append(Finding("extension.router", "pass", "inferenceRouterServiceType=LoadBalancer"
                           + (f" (internal, {internal})" if internal else "")))
    elif router.lower() in ("nodeport", "clusterip"):
        out.append(Finding("extension.router", "warn", f"inferenceRouterServiceType={router}: the scoring URI is "
                           "reachable from inside the cluster's network only",
                           _update(t, ext.name, "inferenceRouterServiceType=LoadBalancer")))
    else:
        out.append(Finding("extension.router", "fail", f"inferenceRouterServiceType={router or 'not set'}",
                           _update(t, ext.name, "inferenceRouterServiceType=LoadBalancer")))
    # TLS: sslSecret (a Kubernetes TLS secret) or sslCertPemFile/sslKeyPemFile. The PEM files are
    # protected settings, which a GET may not echo; sslCname accompanies them, so it counts too.
    pem = {"sslCertPemFile", "sslKeyPemFile"} <= set(ext.protected_keys)
    tls = bool(s.get("sslSecret")) or pem or bool(s.get("sslCname"))
    insecure = _truthy(s.get("allowInsecureConnections"))
    how = "sslSecret" if s.get("sslSecret") else "sslCertPemFile/sslKeyPemFile" if pem else "sslCname"
    if tls and not insecure:
        out.append(Finding("extension.tls", "pass", f"HTTPS ({how}"
                           + (f", cname {s['sslCname']})" if s.get("sslCname") else ")")))
    elif tls:
        out.append(Finding("extension.tls", "warn", "HTTPS configured but allowInsecureConnections=True also "
                           "accepts plain HTTP: keys can travel in clear", _update(t, ext.name, "allowInsecureConnections=False")))
    elif insecure:
        out.append(Finding("extension.tls", "warn", "allowInsecureConnections=True and no TLS: endpoint keys "
                           "would travel in clear (acceptable for dev only)",
                           _update(t, ext.name, "sslCname=<host> sslSecret=<k8s TLS secret> allowInsecureConnections=False")))
    else:
        out.append(Finding("extension.tls", "fail", "neither TLS (sslSecret or sslCertPemFile/sslKeyPemFile) nor "
                           "allowInsecureConnections=True: the endpoint cannot serve",
                           _update(t, ext.name, "sslCname=<host> sslSecret=<k8s TLS secret>")
                           + " (dev only: allowInsecureConnections=True)"))
    return out


def _provider(state: str | None) -> Finding:
    if state == "Registered":
        return Finding("provider.registered", "pass", "Microsoft.KubernetesConfiguration Registered")
    return Finding("provider.registered", "fail", f"Microsoft.KubernetesConfiguration {state or 'unknown'}",
                   "`az provider register --namespace Microsoft.KubernetesConfiguration --wait`")


def _compute(compute: ComputeFacts | None, t: Target) -> Finding:
    attach = f"`azml2aks attach PIPELINE` (or `az ml compute attach --type Kubernetes --name {t.compute} " \
             f"--resource-id {t.cluster_id} --namespace {t.namespace} -w {t.workspace} -g {t.resource_group} " \
             "--identity-type SystemAssigned`)"
    if compute is None:
        return Finding("compute.attached", "fail", f"compute '{t.compute}' is not attached to workspace '{t.workspace}'",
                       attach)
    if compute.compute_type.lower() != "kubernetes":
        return Finding("compute.attached", "fail", f"compute '{t.compute}' is of type {compute.compute_type}, not "
                       "Kubernetes", "choose another compute.name, or detach it and attach the cluster")
    if compute.resource_id.lower() != t.cluster_id.lower():
        return Finding("compute.attached", "fail", f"compute '{t.compute}' points at another cluster: "
                       f"{compute.resource_id}", "set compute.cluster_name to that cluster, choose another "
                       "compute.name, or `azml2aks attach PIPELINE --detach` then attach")
    if compute.provisioning_state != "Succeeded":
        return Finding("compute.attached", "fail", f"compute '{t.compute}' is {compute.provisioning_state}", attach)
    if compute.namespace and compute.namespace != t.namespace:
        return Finding("compute.attached", "warn", f"compute '{t.compute}' deploys to namespace "
                       f"'{compute.namespace}', compute.namespace says '{t.namespace}'",
                       "align compute.namespace, or detach and attach again")
    return Finding("compute.attached", "pass", f"compute '{t.compute}' (Kubernetes, namespace {compute.namespace}) "
                   "points at this cluster")


def _region(workspace: str | None, cluster: str, t: Target) -> Finding:
    if workspace is None:
        return Finding("workspace.region", "warn", "the workspace's region could not be read")
    if workspace.replace(" ", "").lower() == cluster.replace(" ", "").lower():
        return Finding("workspace.region", "pass", f"workspace and cluster in {cluster}")
    return Finding("workspace.region", "warn", f"workspace in {workspace}, cluster in {cluster}: cross-region "
                   "traffic for model downloads and logs", "prefer a cluster in the workspace's region")


# --- inside the cluster -------------------------------------------------------------------------

def _in_cluster(k: InClusterFacts | None, t: Target, router_ns: str, required: bool) -> list[Finding]:
    if k is None or not k.reachable:
        reason = (k.reason if k else None) or "not attempted"
        return [Finding("k8s.access", "fail" if required else "warn",
                        f"in-cluster checks skipped: {reason}",
                        "run from a network that reaches the API server, and give this identity the "
                        f"Azure Kubernetes Service Cluster User role (`az aks get-credentials {t.aks}` must work)")]
    out = [Finding("k8s.access", "pass", "API server reachable with the cluster user credentials")]
    if k.namespace_exists:
        out.append(Finding("k8s.namespace", "pass", f"namespace '{t.namespace}' exists"))
    else:
        out.append(Finding("k8s.namespace", "fail", f"namespace '{t.namespace}' does not exist (attach needs it)",
                           f"`kubectl create namespace {t.namespace}` (or `azml2aks infra up`)"))
    out.append(_instance_type(k.instance_type, t))
    if k.router_type is None:
        out.append(Finding("k8s.router", "fail", f"no inference router service azureml-fe in namespace '{router_ns}'",
                           f"check the extension's pods: `kubectl get pods -n {router_ns}`"))
    elif k.router_address:
        out.append(Finding("k8s.router", "pass", f"azureml-fe ({k.router_type}) at {k.router_address}"))
    else:
        out.append(Finding("k8s.router", "fail", f"azureml-fe ({k.router_type}) has no address yet",
                           f"`kubectl describe svc azureml-fe -n {router_ns}` (load balancer pending?)"))
    return out


def _instance_type(spec: dict | None, t: Target) -> Finding:
    name = t.instance_type or DEFAULT_INSTANCE_TYPE
    if spec is None and name != DEFAULT_INSTANCE_TYPE:
        return Finding("k8s.instance_type", "fail", f"instance type '{name}' is not defined on the cluster",
                       f"`kubectl apply -f` an InstanceType (amlarc.azureml.com/v1alpha1) named '{name}' "
                       "(or list it in infra/<env>.yaml instance_types and `azml2aks infra up`)")
    resources = spec if spec is not None else BUILTIN_DEFAULT
    limits = resources.get("limits") or {}
    problems = []
    for kind, parse in (("cpu", cpu_cores), ("memory", memory_gib)):
        cap = parse(limits.get(kind))
        for what, ask in (("request", t.requests.get(kind)), ("limit", t.limits.get(kind))):
            if cap is not None and ask is not None and parse(ask) > cap:
                problems.append(f"{kind} {what} {ask} exceeds the instance type's limit {limits.get(kind)}")
    source = "built-in" if spec is None else "custom resource"
    if problems:
        return Finding("k8s.instance_type", "fail", f"'{name}' ({source}): " + "; ".join(problems),
                       "lower deployment.resources, or use a larger instance type (deployment.instance_type)")
    return Finding("k8s.instance_type", "pass", f"'{name}' ({source}, limits cpu {limits.get('cpu')}, memory "
                   f"{limits.get('memory')}) fits the deployment's resources")
