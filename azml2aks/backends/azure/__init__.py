"""The Azure ML backend. Only this package imports ``azure.*``.

:class:`AzureBackend` implements the ports of :mod:`azml2aks.backends.ports` against the
workspace named in ``workspace:``, one module per resource (``jobs``, ``models``,
``environments``, ``compute``, ``endpoints``) over the one client of :mod:`.client`. An
operation whose Azure half is not built yet is an explicit method raising
:class:`UnsupportedError` (nothing is sent to Azure), so ``hasattr``/``isinstance`` stay true.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from azml2aks.config import PipelineConfig
from azml2aks.errors import ConfigError, UnsupportedError
from azml2aks.events import EventSink, ignore_event

if TYPE_CHECKING:
    from azml2aks.backends.ports import (
        Credentials,
        DeploymentState,
        EndpointKeys,
        EndpointState,
        EnvironmentRef,
        JobState,
    )
    from azml2aks.config.specs import (
        AutoMLJobSpec,
        ComputeSpec,
        DeploymentSpec,
        EndpointSpec,
        EnvironmentSpec,
        ModelSpec,
    )
    from azml2aks.findings import DoctorReport
    from azml2aks.results import AttachResult, ChildRun, ModelVersion, TrainResult
    from azml2aks.rollout.traffic import Traffic


def _not_yet(operation: str) -> NoReturn:
    raise UnsupportedError(
        f"the Azure backend cannot run '{operation}' yet: this stage's Azure half is not built",
        hint="run the pipeline with --backend local meanwhile; nothing was sent to Azure",
    )


class AzureBackend:
    """The Azure ML workspace named in ``workspace:``."""

    name = "azure"

    def __init__(self, config: PipelineConfig, *, base_dir: Path, workdir: Path) -> None:
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

    # --- Jobs ------------------------------------------------------------------------------
    def submit_job(self, spec: AutoMLJobSpec, *, on_event: EventSink = ignore_event,
                   detach: bool = False) -> JobState:
        _not_yet("train")

    def job_state(self, name: str) -> JobState:
        _not_yet("train")

    def wait_job(self, name: str, *, on_event: EventSink = ignore_event) -> TrainResult:
        _not_yet("wait")

    def get_job(self, name: str) -> TrainResult:
        _not_yet("train")

    def cancel_job(self, name: str) -> JobState:
        _not_yet("cancel")

    def list_child_runs(self, name: str) -> list[ChildRun]:
        _not_yet("register")

    # --- Models ----------------------------------------------------------------------------
    def register_model(self, spec: ModelSpec, job: TrainResult, child: ChildRun, *,
                       tags: Mapping[str, str]) -> ModelVersion:
        _not_yet("register")

    def list_models(self, name: str | None = None) -> list[ModelVersion]:
        _not_yet("models")

    def get_model(self, name: str, version: str | None = None, *, alias: str | None = None) -> ModelVersion:
        _not_yet("models")

    def set_model_alias(self, name: str, alias: str, version: str) -> None:
        _not_yet("register")

    def download_model(self, model: ModelVersion, destination: Path) -> Path:
        _not_yet("package")

    # --- Environments ----------------------------------------------------------------------
    def register_environment(self, spec: EnvironmentSpec) -> EnvironmentRef:
        _not_yet("package")

    # --- Computes --------------------------------------------------------------------------
    def _aks(self, spec: ComputeSpec, deployment: DeploymentSpec | None = None):
        from azml2aks.backends.azure.client import make_credential
        from azml2aks.backends.azure.compute import AksCompute
        from azml2aks.findings import Target

        ws = self.config.workspace
        target = Target.from_specs(spec, deployment, resource_group=ws.resource_group, workspace=ws.name)
        return AksCompute(target, make_credential(ws.tenant_id))

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

    # --- Endpoints -------------------------------------------------------------------------
    def get_endpoint(self, name: str) -> EndpointState:
        _not_yet("status")

    def ensure_endpoint(self, spec: EndpointSpec) -> EndpointState:
        _not_yet("deploy")

    def create_or_update_deployment(self, spec: DeploymentSpec, *,
                                    on_event: EventSink = ignore_event) -> DeploymentState:
        _not_yet("deploy")

    def delete_deployment(self, endpoint: str, name: str) -> None:
        _not_yet("deploy")

    def set_traffic(self, endpoint: str, traffic: Traffic | Mapping[str, int]) -> Traffic:
        _not_yet("traffic")

    def get_credentials(self, endpoint: str) -> Credentials:
        _not_yet("invoke")

    def get_keys(self, endpoint: str) -> EndpointKeys:
        _not_yet("keys")

    def get_logs(self, endpoint: str, name: str, *, tail: int = 50, container: str = "inference-server") -> Any:
        _not_yet("logs")
