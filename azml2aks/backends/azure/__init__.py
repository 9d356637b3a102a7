"""The Azure ML backend. Only this package imports ``azure.*``.

:class:`AzureBackend` implements the ports of :mod:`azml2aks.backends.ports` against the
workspace named in ``workspace:``, one module per resource (``jobs`` with ``data``,
``models``, ``environments``, ``compute``, ``endpoints`` with ``deployments`` and
``lease``) over the one client of :mod:`.client`, built on first use (building it sends
nothing). Every port is implemented; the endpoint lock is the ``EndpointLocks`` capability.

The credential is ``DefaultAzureCredential`` unless the caller passes one
(``load_pipeline(..., credential=...)``); ``sleep`` and ``clock`` pace every wait (the job
follower, LRO polls, the documented lags), ``now`` dates leases.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from azml2aks.backends.azure.environments import AzureEnvironments
from azml2aks.backends.azure.jobs import AzureJobs
from azml2aks.backends.azure.models import AzureModels
from azml2aks.config import PipelineConfig
from azml2aks.errors import ConfigError
from azml2aks.events import EventSink, ignore_event

if TYPE_CHECKING:
    from azml2aks.aks.findings import DoctorReport
    from azml2aks.backends.azure.endpoints import AzureEndpoints
    from azml2aks.backends.ports import (
        Credentials,
        DeploymentState,
        EndpointKeys,
        EndpointState,
    )
    from azml2aks.config.specs import ComputeSpec, DeploymentSpec, EndpointSpec
    from azml2aks.results import AttachResult
    from azml2aks.rollout.traffic import Traffic


class AzureBackend(AzureJobs, AzureModels, AzureEnvironments):
    """The Azure ML workspace named in ``workspace:``.

    ``credential``: an azure-core token credential (default ``DefaultAzureCredential``, built on
    first use); ``sleep`` and ``clock`` pace every wait of this backend (``sleep`` default: the
    azure-core transport's, as azure-core asks: "always ask the transport to sleep"; injected, it
    paces azure-core's own retries and polls too); ``now`` (epoch seconds) dates what other
    machines read: endpoint leases and token expiry."""

    name = "azure"

    def __init__(self, config: PipelineConfig, *, base_dir: Path, workdir: Path, credential: Any = None,
                 sleep: Callable[[float], None] | None = None, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], float] = time.time) -> None:
        ws = config.workspace
        missing = [f for f in ("subscription_id", "resource_group", "name") if not getattr(ws, f)]
        if missing:
            raise ConfigError(
                f"--backend azure needs workspace.{missing[0]} in pipeline.yaml",
                hint="set workspace.subscription_id, workspace.resource_group and workspace.name "
                "(e.g. from ${AZURE_SUBSCRIPTION_ID}), or run with --backend local",
            )
        self.config = config
        self.base_dir = base_dir
        self.workdir = workdir
        self.workspace_name = ws.name
        self._sleep = sleep
        self.sleep: Callable[[float], None] = sleep or (lambda seconds: self.transport.sleep(seconds))
        self.clock = clock
        self.now = now
        self._credential = credential
        self._ml: Any = None
        self._endpoints: AzureEndpoints | None = None
        self._transport: Any = None

    @property
    def transport(self) -> Any:
        """The azure-core transport the endpoint clients send (and sleep) with."""
        if self._transport is None:
            from azure.core.pipeline.transport import RequestsTransport

            from azml2aks.backends.azure.client import transport

            self._transport = transport(self._sleep) or RequestsTransport()
        return self._transport

    @property
    def credential(self) -> Any:
        """The caller's credential, else DefaultAzureCredential (made once; it sends nothing yet)."""
        if self._credential is None:
            from azml2aks.backends.azure.client import make_credential

            self._credential = make_credential(self.config.workspace.tenant_id)
        return self._credential

    @property
    def ml(self) -> Any:
        """The MLClient on the workspace (built on first use; building it sends nothing)."""
        if self._ml is None:
            from azml2aks.backends.azure.client import ml_client

            ws = self.config.workspace
            self._ml = ml_client(ws.subscription_id, ws.resource_group, ws.name, self.credential)
        return self._ml

    @property
    def endpoints(self) -> AzureEndpoints:
        """Online endpoints over ARM REST (endpoints.py), on this backend's transport."""
        if self._endpoints is None:
            from azml2aks.backends.azure.client import ArmRest, arm_pipeline
            from azml2aks.backends.azure.endpoints import AzureEndpoints

            ws = self.config.workspace
            path = (f"/subscriptions/{ws.subscription_id}/resourceGroups/{ws.resource_group}"
                    f"/providers/Microsoft.MachineLearningServices/workspaces/{ws.name}")
            arm = ArmRest(arm_pipeline(self.credential, transport=self.transport), path, sleep=self.transport.sleep,
                          clock=self.clock, now=self.now)
            self._endpoints = AzureEndpoints(arm, ml_client=lambda: self.ml, workdir=self.workdir)
        return self._endpoints

    # --- Computes --------------------------------------------------------------------------
    def _aks(self, spec: ComputeSpec, deployment: DeploymentSpec | None = None):
        from azml2aks.aks.findings import Target
        from azml2aks.backends.azure.compute import AksCompute

        ws = self.config.workspace
        target = Target.from_specs(spec, deployment, resource_group=ws.resource_group, workspace=ws.name)
        return AksCompute(target, self.credential, sleep=self._sleep)

    def attach_compute(self, spec: ComputeSpec, *, require_cluster_access: bool = False) -> AttachResult:
        from azml2aks.results import AttachResult

        status, report = self._aks(spec).attach(require_cluster_access=require_cluster_access)
        # the status says what became of the compute; the doctor saw it before the attach
        checks = tuple(f for f in report.to_dict()["findings"] if f["check"] != "compute.attached")
        return AttachResult(compute=spec.name, backend=self.name, status=status, checks=checks)

    def detach_compute(self, spec: ComputeSpec) -> AttachResult:
        from azml2aks.results import AttachResult

        return AttachResult(compute=spec.name, backend=self.name, status=self._aks(spec).detach())

    def doctor(self, spec: ComputeSpec, deployment: DeploymentSpec | None = None, *,
               require_cluster_access: bool = False) -> DoctorReport:
        return self._aks(spec, deployment).doctor(require_cluster_access=require_cluster_access)

    # --- Endpoints (endpoints.py) -------------------------------------------------------------
    def get_endpoint(self, name: str) -> EndpointState:
        return self.endpoints.get_endpoint(name)

    def ensure_endpoint(self, spec: EndpointSpec) -> EndpointState:
        return self.endpoints.ensure_endpoint(spec)

    def create_or_update_deployment(self, spec: DeploymentSpec, *,
                                    on_event: EventSink = ignore_event) -> DeploymentState:
        return self.endpoints.create_or_update_deployment(spec, on_event=on_event)

    def delete_deployment(self, endpoint: str, name: str) -> None:
        self.endpoints.delete_deployment(endpoint, name)

    def set_traffic(self, endpoint: str, traffic: Traffic | Mapping[str, int]) -> Traffic:
        return self.endpoints.set_traffic(endpoint, traffic)

    def get_credentials(self, endpoint: str) -> Credentials:
        return self.endpoints.get_credentials(endpoint)

    def get_keys(self, endpoint: str) -> EndpointKeys:
        return self.endpoints.get_keys(endpoint)

    def get_logs(self, endpoint: str, name: str, *, tail: int = 50, container: str = "inference-server") -> str:
        return self.endpoints.get_logs(endpoint, name, tail=tail, container=container)

    @contextlib.contextmanager
    def hold_endpoint(self, endpoint: str, *, holder: Mapping[str, Any], timeout: float) -> Iterator[None]:
        """One rollout at a time: the lease in the endpoint's tags (lease.py)."""
        with self.endpoints.hold_endpoint(endpoint, holder=holder, timeout=timeout):
            yield

    def planned_requests(self, endpoint: str, actions: list[Any], *, exists: bool) -> list[str]:
        """What a rollout of ``actions`` would send (``deploy --dry-run``); sends nothing."""
        return self.endpoints.planned_requests(endpoint, actions, exists=exists)
