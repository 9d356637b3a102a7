"""``azml2aks infra plan|up``: bring an environment's AKS side to its ``infra/<env>.yaml``.

Reads what Azure holds (provider registration, managed cluster, AzureML extension, what the
API server shows, the workspace's compute), asks the pure :func:`azml2aks.aks.infraplan.plan` what
differs, and — for ``up`` only — applies it in order: register ``Microsoft.KubernetesConfiguration``;
create or update the cluster (``ContainerServiceClient.managed_clusters.begin_create_or_update``);
create (PUT) or update (PATCH) the extension through the Kubernetes configuration REST API and
follow its async operation; create the namespace and instance types with the ``kubernetes``
client; wait until the inference router has an address; attach the compute
(:meth:`AksCompute.attach`, which runs the doctor first). A resource that already matches is
not written: ``up`` twice writes once. Sleeps and the clock are injected; every wait is bounded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from azml2aks.aks import doctor as D
from azml2aks.aks import infraplan as P
from azml2aks.aks.infraspec import AZUREML_EXTENSION_TYPE, InfraSpec, cluster_body, extension_body
from azml2aks.backends.azure import client as C
from azml2aks.backends.azure.compute import EXTENSIONS_API, K8S_CONFIG, PROVIDERS_API, AksCompute
from azml2aks.errors import Azml2aksError, BackendError
from azml2aks.retry import Poller

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InfraResult:
    source: str
    cluster: str
    applied: bool
    changes: tuple[P.Change, ...]
    attach: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "changes": [c.to_dict() for c in self.changes],
                "changed": sum(c.changes for c in self.changes)}


class AksInfra:
    def __init__(self, spec: InfraSpec, credential: Any, *, source: str = "infra.yaml",
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 poll_seconds: float = 10.0, extension_timeout: float = 1800.0, router_timeout: float = 600.0,
                 provider_timeout: float = 600.0) -> None:
        self.spec = spec
        self.source = source
        self.sleep, self.clock = sleep, clock
        self.poll_seconds = poll_seconds
        self.timeouts = {"extension": extension_timeout, "router": router_timeout, "provider": provider_timeout}
        target = D.Target(subscription_id=spec.subscription_id, resource_group=spec.workspace_resource_group,
                          workspace=spec.workspace.name, compute=spec.compute.name, cluster=spec.cluster.name,
                          cluster_resource_group=spec.resource_group, namespace=spec.compute.namespace)
        self.compute = AksCompute(target, credential, sleep=sleep)
        self.target = target

    # --- observe + plan ----------------------------------------------------------------------------
    def observe(self) -> P.Observed:
        from azml2aks.backends.azure import incluster

        mc = self.compute.cluster()
        cluster = mc.as_dict() if mc is not None else None
        extension = None
        kube = None
        if cluster is not None:
            extension = self._extension(self.compute.extension_bodies())
            try:
                k = self.compute.kube()
                k.probe()
                types = {it.name: spec for it in self.spec.instance_types
                         if (spec := k.instance_type_spec(it.name)) is not None}
                kube = P.KubeState(True, namespace_exists=k.namespace_exists(self.spec.compute.namespace),
                                   instance_types=types)
            except incluster.ClusterUnreachable as e:
                kube = P.KubeState(False, reason=str(e))
        facts = self.compute.compute()
        compute = None if facts is None else {
            "computeType": facts.compute_type, "resourceId": facts.resource_id, "namespace": facts.namespace,
            "provisioningState": facts.provisioning_state}
        return P.Observed(provider_state=self.compute.provider_state(K8S_CONFIG), cluster=cluster,
                          extension=extension, kube=kube, compute=compute)

    def _extension(self, bodies: list[dict]) -> dict | None:
        by_type = [e for e in bodies if ((e.get("properties") or {}).get("extensionType") or "").lower()
                   == AZUREML_EXTENSION_TYPE]
        named = [e for e in bodies if e.get("name") == self.spec.extension.name]
        return (by_type or named or [None])[0]

    def plan(self) -> InfraResult:
        seen = self.observe()
        changes = P.plan(self.spec, seen, cluster_id=self.target.cluster_id)
        return InfraResult(self.source, self.spec.cluster.name, False, tuple(changes))

    # --- up ----------------------------------------------------------------------------------------
    def up(self) -> InfraResult:
        seen = self.observe()
        changes = P.plan(self.spec, seen, cluster_id=self.target.cluster_id)
        by = {(c.resource, c.name): c for c in changes}
        for change in changes:
            if change.changes and change.resource == "provider":
                self._register_provider()
            elif change.changes and change.resource == "cluster":
                self._put_cluster(seen.cluster)
            elif change.changes and change.resource == "extension":
                self._apply_extension(seen.extension)
        if any(c.changes for c in changes if c.resource in ("namespace", "instance_type")) or \
                any(c.action == "unknown" for c in changes):
            self._apply_in_cluster(by)
        self._wait_for_router()
        status, _report = self.compute.attach()
        return InfraResult(self.source, self.spec.cluster.name, True, tuple(changes), attach=status)

    def _register_provider(self) -> None:
        path = f"/subscriptions/{self.spec.subscription_id}/providers/{K8S_CONFIG}"
        with C.translate(f"registering the {K8S_CONFIG} provider"):
            C.arm_request(self.compute.arm, "POST", f"{path}/register", api_version=PROVIDERS_API)
        self._until("provider", f"{K8S_CONFIG} registration", lambda: self.compute.provider_state(K8S_CONFIG) == "Registered",
                    hint=f"`az provider show --namespace {K8S_CONFIG}`")

    def _put_cluster(self, seen: dict | None) -> None:
        s = self.spec
        body = cluster_body(s) if seen is None else P.cluster_update_body(s, seen)
        verb = "creating" if seen is None else "updating"
        try:
            with C.translate(f"{verb} AKS cluster '{s.cluster.name}'"):
                self.compute.containers.managed_clusters.begin_create_or_update(
                    s.resource_group, s.cluster.name, body).result()
        except Azml2aksError as e:
            e.hint = e.hint or (f"see `az aks show -g {s.resource_group} -n {s.cluster.name} --query "
                                "'{state: provisioningState, power: powerState}'`, fix the cause, then run "
                                f"`azml2aks infra up {self.source}` again")
            raise
        logger.info("%s AKS cluster %s", "created" if seen is None else "updated", s.cluster.name)

    def _apply_extension(self, seen: dict | None) -> None:
        s = self.spec
        name = seen.get("name") if seen else s.extension.name
        path = f"{self.target.cluster_id}/providers/{K8S_CONFIG}/extensions/{name}"
        doing = f"{'updating' if seen else 'installing'} the AzureML extension '{name}' on cluster '{s.cluster.name}'"
        body = P.extension_patch(s, seen) if seen else extension_body(s)
        with C.translate(doing):
            response = C.arm_request(self.compute.arm, "PATCH" if seen else "PUT", path,
                                     api_version=EXTENSIONS_API, json=body)
        self._follow(response, doing, hint=f"`az k8s-extension show --name {name} --cluster-type managedClusters "
                     f"--cluster-name {s.cluster.name} -g {s.resource_group}`; fix the cause and run "
                     f"`azml2aks infra up {self.source}` again")

    def _follow(self, response: Any, doing: str, *, hint: str) -> None:
        """Poll an ARM async operation (Azure-AsyncOperation, else Location) to its end."""
        url = response.headers.get("Azure-AsyncOperation") or response.headers.get("Location")
        if not url:
            return
        poller = self._poller("extension")
        poller.retry_after(_delay(response.headers))
        for attempt in poller:
            if attempt == 0:
                continue  # the first wait: the operation was just accepted
            with C.translate(doing):
                response = C.arm_request(self.compute.arm, "GET", url, api_version=None)
            body = response.json() if response.content else {}
            status = (body.get("status") or "").lower()
            if status == "succeeded" or (not status and response.status_code in (200, 204)):
                return
            if status in ("failed", "canceled"):
                err = body.get("error") or {}
                raise BackendError(f"{doing} ended {body.get('status')}: ({err.get('code')}) "
                                   f"{C.scrub(err.get('message') or '')}", code=err.get("code"), hint=hint)
            poller.retry_after(_delay(response.headers))
        raise BackendError(f"{doing} did not finish in {self.timeouts['extension']:.0f} s", hint=hint)

    def _poller(self, kind: str) -> Poller:
        return Poller(initial=self.poll_seconds, factor=1.0, max_delay=max(self.poll_seconds, 60.0),
                      timeout=self.timeouts[kind], sleep=self.sleep, clock=self.clock)

    def _apply_in_cluster(self, by: dict) -> None:
        from azml2aks.backends.azure import incluster

        s = self.spec
        try:
            kube = self.compute.kube()
            kube.probe()
            kube.ensure_namespace(s.compute.namespace)
            for it in s.instance_types:
                kube.apply_instance_type(it.name, it.resources(), it.node_selector)
        except incluster.ClusterUnreachable as e:
            raise BackendError(f"cannot create namespace '{s.compute.namespace}' and the instance types on cluster "
                               f"'{s.cluster.name}': {e}",
                               hint=f"run from a network that reaches the API server, or by hand: `az aks "
                               f"get-credentials -g {s.resource_group} -n {s.cluster.name}`, `kubectl create "
                               f"namespace {s.compute.namespace}`, `kubectl apply -f <instance types>.yaml`") from None

    def _wait_for_router(self) -> None:
        from azml2aks.backends.azure import incluster

        def ready() -> bool:
            try:
                found = self.compute.kube().router("azureml")
            except incluster.ClusterUnreachable as e:
                logger.warning("cannot check the inference router: %s", e)
                return True  # nothing to wait for from here; the doctor in attach reports it
            return bool(found and found[1])

        self._until("router", "the inference router (azureml-fe) getting an address", ready,
                    hint="`kubectl get svc azureml-fe -n azureml` (load balancer pending? quota?)")

    def _until(self, kind: str, what: str, done: Callable[[], bool], *, hint: str) -> None:
        for _ in self._poller(kind):
            if done():
                return
        raise BackendError(f"waited {self.timeouts[kind]:.0f} s for {what}", hint=hint)


def _delay(headers: Any) -> float | None:
    """The service's polling hint (``retry-after-ms``, else ``Retry-After`` seconds), if any."""
    for name, scale in (("retry-after-ms", 1e-3), ("Retry-After", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                continue
    return None
