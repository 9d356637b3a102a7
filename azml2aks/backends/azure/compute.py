"""Kubernetes compute on Azure: the AKS doctor's reads, and the idempotent attach / detach.

:class:`AksCompute` reads facts — the managed cluster (``ContainerServiceClient``), its
extensions and the ``Microsoft.KubernetesConfiguration`` registration (raw ARM through
:func:`client.arm_request`), the workspace's compute and region (``MLClient``), the supported
Kubernetes versions, and, through the cluster user kubeconfig, the namespace, instance type and
inference router (:mod:`incluster`) — and leaves every judgement to the pure
:func:`azml2aks.aks.doctor.judge`. Reads are bounded: few retries, connect/read timeouts in seconds.

``attach`` runs the doctor first and refuses on a failed blocking check; an existing compute
of the same name pointing at this cluster is left alone (no PUT), one pointing elsewhere is an
error that names it. ``detach`` succeeds when already gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property
from typing import Any

from azml2aks.aks import doctor as D
from azml2aks.backends.azure import client as C
from azml2aks.errors import Azml2aksError, ConfigError

logger = logging.getLogger(__name__)

EXTENSIONS_API = "2023-05-01"
PROVIDERS_API = "2021-04-01"
ML_API = "2024-10-01-preview"
COMPUTE_API = "2023-08-01-preview"
K8S_CONFIG = "Microsoft.KubernetesConfiguration"
MAX_PAGES = 20  # pages of a list followed before giving up (a cluster has a handful of extensions)


class AksCompute:
    """One pipeline's Kubernetes compute and the AKS cluster behind it."""

    def __init__(self, target: D.Target, credential: Any, *, sleep: Callable[[float], None] | None = None,
                 retry_total: int = 3, timeouts: tuple[float, float] = (5.0, 30.0),
                 kube_timeout: tuple[float, float] = (3.0, 10.0)) -> None:
        self.target = target
        self.credential = credential
        self.kube_timeout = kube_timeout
        self._transport = C.transport(sleep)
        self._retry = {"retry_total": retry_total, "retry_backoff_factor": 0.8}
        self._timeouts = {"connection_timeout": timeouts[0], "read_timeout": timeouts[1]}

    # --- clients (building one sends nothing) ------------------------------------------------------
    def _sdk_kwargs(self) -> dict[str, Any]:
        extra = {"transport": self._transport} if self._transport is not None else {}
        return {**self._retry, **self._timeouts, **extra}

    @cached_property
    def containers(self) -> Any:
        from azure.mgmt.containerservice import ContainerServiceClient

        return ContainerServiceClient(self.credential, self.target.subscription_id, **self._sdk_kwargs())

    @cached_property
    def arm(self) -> Any:
        return C.arm_pipeline(self.credential, transport=self._transport, **self._retry)

    @cached_property
    def ml(self) -> Any:
        t = self.target
        return C.ml_client(t.subscription_id, t.resource_group, t.workspace, self.credential, **self._sdk_kwargs())

    # --- doctor ------------------------------------------------------------------------------------
    def doctor(self, *, require_cluster_access: bool = False, in_cluster: bool = True) -> D.DoctorReport:
        facts = self.facts(in_cluster=in_cluster)
        findings = D.judge(facts, self.target, require_cluster_access=require_cluster_access)
        return D.DoctorReport(cluster=self.target.cluster, compute=self.target.compute, findings=tuple(findings))

    def facts(self, *, in_cluster: bool = True) -> D.Facts:
        t = self.target
        cluster = self.cluster()
        extensions = self.extensions() if cluster else ()
        return D.Facts(
            cluster=cluster_facts(cluster) if cluster else None,
            extensions=extensions,
            provider_state=self._optional(f"reading the {K8S_CONFIG} registration", self.provider_state, K8S_CONFIG),
            compute=self.compute(),
            workspace_location=self._optional(f"reading workspace '{t.workspace}'", self.workspace_location),
            supported_versions=self._optional("listing supported Kubernetes versions", self.supported_versions,
                                              cluster.location) if cluster else None,
            in_cluster=self.in_cluster(extensions) if cluster and in_cluster else None,
        )

    def _optional(self, doing: str, fn, *args):
        """A read the doctor can do without: its failure becomes an unknown fact, logged."""
        try:
            return fn(*args)
        except Azml2aksError as e:
            logger.warning("%s failed: %s", doing, e.message)
            return None

    def cluster(self) -> Any | None:
        from azure.core.exceptions import ResourceNotFoundError

        t = self.target
        with C.translate(f"reading AKS cluster '{t.cluster}'"):
            try:
                return self.containers.managed_clusters.get(t.cluster_resource_group, t.cluster)
            except ResourceNotFoundError:
                return None

    def extension_bodies(self) -> list[dict]:
        """The cluster's extensions as ARM JSON (Extensions_List), every page: the list is pageable
        (``nextLink``, as in the official ListExtensions example), and the AzureML extension may
        be on any page."""
        out: list[dict] = []
        url: str | None = f"{self.target.cluster_id}/providers/{K8S_CONFIG}/extensions"
        with C.translate(f"listing the extensions of cluster '{self.target.cluster}'"):
            for _ in range(MAX_PAGES):
                # a nextLink carries its own api-version and skip token
                body = C.arm_request(self.arm, "GET", url, api_version=None if url.startswith("https://")
                                     else EXTENSIONS_API, **self._timeouts).json()
                out += list(body.get("value") or [])
                url = body.get("nextLink")
                if not url:
                    break
        return out

    def extensions(self) -> tuple[D.ExtensionFacts, ...]:
        return tuple(extension_facts(e) for e in self.extension_bodies())

    def provider_state(self, namespace: str) -> str | None:
        with C.translate(f"reading the {namespace} provider registration"):
            body = C.arm_request(self.arm, "GET", f"/subscriptions/{self.target.subscription_id}/providers/{namespace}",
                                 api_version=PROVIDERS_API, **self._timeouts).json()
        return body.get("registrationState")

    @property
    def workspace_path(self) -> str:
        t = self.target
        return (f"/subscriptions/{t.subscription_id}/resourceGroups/{t.resource_group}"
                f"/providers/Microsoft.MachineLearningServices/workspaces/{t.workspace}")

    def workspace_location(self) -> str | None:
        # raw ARM, not MLClient: importing azure.ai.ml alone costs seconds the doctor does not need
        with C.translate(f"reading workspace '{self.target.workspace}'"):
            return C.arm_request(self.arm, "GET", self.workspace_path, api_version=ML_API,
                                 **self._timeouts).json().get("location")

    def supported_versions(self, location: str) -> tuple[tuple[str, bool], ...]:
        with C.translate(f"listing AKS versions in {location}"):
            result = self.containers.managed_clusters.list_kubernetes_versions(location)
        return tuple((v.version, bool(v.is_preview)) for v in result.values_property or [])

    def compute(self) -> D.ComputeFacts | None:
        from azure.core.exceptions import ResourceNotFoundError

        t = self.target
        with C.translate(f"reading compute '{t.compute}' of workspace '{t.workspace}'"):
            try:
                body = C.arm_request(self.arm, "GET", f"{self.workspace_path}/computes/{t.compute}",
                                     api_version=COMPUTE_API, **self._timeouts).json()
            except ResourceNotFoundError:
                return None
        props = body.get("properties") or {}
        return D.ComputeFacts(compute_type=props.get("computeType") or "Unknown",
                              resource_id=props.get("resourceId") or "",
                              namespace=(props.get("properties") or {}).get("namespace"),
                              provisioning_state=props.get("provisioningState") or "Unknown")

    def kube(self) -> Any:
        """A kubernetes client on the cluster user credential; raises incluster.ClusterUnreachable."""
        from azml2aks.backends.azure import incluster

        t = self.target
        try:
            with C.translate(f"listing the user credentials of cluster '{t.cluster}'"):
                creds = self.containers.managed_clusters.list_cluster_user_credentials(t.cluster_resource_group,
                                                                                       t.cluster)
        except Azml2aksError as e:
            raise incluster.ClusterUnreachable(f"no cluster user credentials: {e.message}") from None
        if not creds.kubeconfigs:
            raise incluster.ClusterUnreachable("ARM returned no kubeconfig for the cluster user")
        return incluster.connect(bytes(creds.kubeconfigs[0].value), credential=self.credential,
                                 timeout=self.kube_timeout)

    def in_cluster(self, extensions: tuple[D.ExtensionFacts, ...]) -> D.InClusterFacts:
        from azml2aks.backends.azure import incluster

        t = self.target
        ext = next((e for e in extensions if e.extension_type.lower() == D.AZUREML_EXTENSION), None)
        try:
            kube = self.kube()
            kube.probe()
            router = kube.router(ext.release_namespace if ext else "azureml")
            return D.InClusterFacts(
                reachable=True, namespace_exists=kube.namespace_exists(t.namespace),
                instance_type=kube.instance_type(t.instance_type or D.DEFAULT_INSTANCE_TYPE),
                router_type=router[0] if router else None, router_address=router[1] if router else None)
        except incluster.ClusterUnreachable as e:
            return D.InClusterFacts(reachable=False, reason=str(e))

    # --- attach / detach ---------------------------------------------------------------------------
    def attach(self, *, require_cluster_access: bool = False) -> tuple[str, D.DoctorReport]:
        """Attach the cluster as Kubernetes compute; ('attached' | 'already attached', doctor report)."""
        from azure.ai.ml.entities import IdentityConfiguration, KubernetesCompute

        t = self.target
        report = self.doctor(require_cluster_access=require_cluster_access)
        blocking = report.blocking_attach()
        if blocking:
            first = blocking[0]
            more = f" (and {len(blocking) - 1} more failed check(s): {', '.join(f.check for f in blocking[1:])})" \
                if len(blocking) > 1 else ""
            raise ConfigError(f"cannot attach cluster '{t.cluster}' as compute '{t.compute}': {first.check}: "
                              f"{first.found}{more}", hint=first.remedy)
        existing = self.compute()
        if existing is not None:
            self._refuse_foreign(existing)
            if existing.provisioning_state == "Succeeded" and existing.namespace in (None, t.namespace):
                return "already attached", report
            if existing.provisioning_state == "Succeeded":
                raise ConfigError(f"compute '{t.compute}' is attached to cluster '{t.cluster}' with namespace "
                                  f"'{existing.namespace}', compute.namespace says '{t.namespace}'",
                                  hint="the namespace of an attached compute cannot change: run `azml2aks attach "
                                  "PIPELINE --detach`, then attach again, or set compute.namespace back")
        compute = KubernetesCompute(name=t.compute, resource_id=t.cluster_id, namespace=t.namespace,
                                    identity=IdentityConfiguration(type="system_assigned"))
        with C.translate(f"attaching cluster '{t.cluster}' as compute '{t.compute}'"):
            self.ml.compute.begin_create_or_update(compute).result()
        logger.info("attached %s as %s (namespace %s)", t.cluster, t.compute, t.namespace)
        return "attached", report

    def detach(self) -> str:
        """Detach the compute ('detached' | 'not attached'); the cluster itself is untouched."""
        t = self.target
        existing = self.compute()
        if existing is None:
            return "not attached"
        self._refuse_foreign(existing)
        from azure.core.exceptions import ResourceNotFoundError

        with C.translate(f"detaching compute '{t.compute}'"):
            try:
                self.ml.compute.begin_delete(t.compute, action="Detach").result()
            except ResourceNotFoundError:  # detached meanwhile: delete_* succeeds when already gone
                return "not attached"
        return "detached"

    def _refuse_foreign(self, existing: D.ComputeFacts) -> None:
        t = self.target
        if existing.compute_type != "Kubernetes":  # e.g. a legacy AKS inference compute (official AKSCompute example)
            raise ConfigError(f"compute '{t.compute}' in workspace '{t.workspace}' already exists as a compute of "
                              f"type {existing.compute_type}, not Kubernetes (this pipeline attaches cluster "
                              f"'{t.cluster}' as Kubernetes compute)",
                              hint="choose another compute.name, or detach that one deliberately: "
                              f"`az ml compute detach --name {t.compute} -w {t.workspace} -g {t.resource_group}`")
        if existing.resource_id.lower() != t.cluster_id.lower():
            raise ConfigError(f"compute '{t.compute}' in workspace '{t.workspace}' already exists and points at "
                              f"another cluster: {existing.resource_id} (this pipeline's cluster is '{t.cluster}')",
                              hint="choose another compute.name, or detach that one deliberately: "
                              f"`az ml compute detach --name {t.compute} -w {t.workspace} -g {t.resource_group}`")


# --- ARM bodies -> facts -----------------------------------------------------------------------------

def cluster_facts(mc: Any) -> D.ClusterFacts:
    identity = mc.identity.type if mc.identity is not None else None
    identity = getattr(identity, "value", identity)  # an enum member in the SDK model
    access = mc.api_server_access_profile
    pools = tuple(D.Pool(name=p.name, vm_size=p.vm_size or "", count=p.count or 0, mode=p.mode or "User",
                         auto_scaling=bool(p.enable_auto_scaling), max_count=p.max_count,
                         taints=tuple(p.node_taints or ())) for p in mc.agent_pool_profiles or [])
    return D.ClusterFacts(
        id=mc.id, location=mc.location, provisioning_state=mc.provisioning_state or "Unknown",
        power_state=(mc.power_state.code or None) if mc.power_state else None,
        identity_type=str(identity) if identity else None,
        disable_local_accounts=bool(mc.disable_local_accounts),
        kubernetes_version=mc.current_kubernetes_version or mc.kubernetes_version or "",
        authorized_ip_ranges=tuple(access.authorized_ip_ranges or ()) if access else (),
        private_cluster=bool(access.enable_private_cluster) if access else False, pools=pools)


def extension_facts(body: dict) -> D.ExtensionFacts:
    props = body.get("properties") or {}
    errors = [s.get("message") for s in props.get("statuses") or [] if (s.get("level") or "").lower() == "error"]
    scope = (props.get("scope") or {}).get("cluster") or {}
    return D.ExtensionFacts(
        name=body.get("name", ""), extension_type=props.get("extensionType") or "",
        provisioning_state=props.get("provisioningState") or "Unknown",
        settings=dict(props.get("configurationSettings") or {}),
        protected_keys=tuple(props.get("configurationProtectedSettings") or {}),
        release_namespace=scope.get("releaseNamespace") or "azureml",
        error=C.scrub(errors[0], 300) if errors else None)
