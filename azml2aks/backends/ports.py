"""The ports: one Protocol per Azure ML resource, and the frozen states they return.

``backends/azure`` and ``backends/local`` implement them; the pipeline and the rollout driver
only ever talk to these. A method takes specs (``azml2aks.config.specs``) and references
(``name:version``), never the whole config and never a local path only one backend has; it
returns a frozen state or a stage result (``azml2aks.results``).

    Jobs          submit_job, job_state, wait_job, get_job, cancel_job, list_child_runs
    Models        register_model, list_models, get_model, set_model_alias, download_model
    Environments  register_environment
    Computes      attach_compute, detach_compute, doctor
    Endpoints     get_endpoint, ensure_endpoint, create_or_update_deployment, delete_deployment,
                  set_traffic, get_credentials, get_keys, get_logs
    EndpointLocks hold_endpoint (one rollout at a time per endpoint)

Conventions (Azure SDK guidelines): ``get_*`` raises :class:`NotFoundError` when missing,
``list_*`` returns a list, ``delete_*`` succeeds when already gone, options keyword-only.
Model aliases: the local MLflow registry has real aliases; the Azure ML workspace registry has
none, so the Azure backend keeps an alias as a model tag (``azml2aks.alias.<alias>``) moved by
read-modify-write. What only the local backend can do (stop the router, detached workers) is
the separate :class:`LocalProcesses` capability, not a hole in these ports. A backend that
cannot do an operation yet has an explicit method raising UnsupportedError, so ``isinstance``
and ``hasattr`` stay truthful.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from azml2aks.events import EventSink, ignore_event
from azml2aks.rollout.traffic import Traffic

if TYPE_CHECKING:
    from azml2aks.aks.findings import DoctorReport
    from azml2aks.config.specs import (
        AutoMLJobSpec,
        ComputeSpec,
        DeploymentSpec,
        EndpointSpec,
        EnvironmentSpec,
        ModelSpec,
    )
    from azml2aks.results import AttachResult, ChildRun, ModelVersion, TrainResult

#: Azure ML job statuses (azure-ai-ml's JobStatus); the SDK treats NotResponding and Paused as terminal.
JOB_STATUSES = ("NotStarted", "Starting", "Provisioning", "Preparing", "Queued", "Running", "Finalizing",
                "CancelRequested", "Completed", "Failed", "Canceled", "NotResponding", "Paused")
TERMINAL_JOB_STATUSES = frozenset({"Completed", "Failed", "Canceled", "NotResponding", "Paused"})


# --- states ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobState:
    """A job as the service reports it right now."""

    name: str
    status: str
    error_code: str | None = None
    error_message: str | None = None
    portal_url: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_JOB_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "error_code": self.error_code,
                "error_message": self.error_message, "portal_url": self.portal_url}


@dataclass(frozen=True)
class EnvironmentRef:
    """A registered environment version; ``reused`` when its fingerprint matched an existing one."""

    name: str
    version: str
    reused: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class DeploymentState:
    """One deployment (colour) of an endpoint."""

    name: str
    provisioning_state: str = "Succeeded"
    error: str | None = None
    instance_type: str | None = None
    instance_count: int | None = None
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "provisioning_state": self.provisioning_state, "error": self.error,
                "instance_type": self.instance_type, "instance_count": self.instance_count, "model": self.model}


@dataclass(frozen=True)
class EndpointState:
    """An online endpoint as read now: live traffic, its deployments, auth and scoring URI."""

    name: str
    scoring_uri: str
    traffic: Traffic
    deployment_states: tuple[DeploymentState, ...] = ()
    provisioning_state: str = "Succeeded"
    auth_mode: str = "key"
    compute: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def deployments(self) -> list[str]:
        return [d.name for d in self.deployment_states]

    def live_colour(self) -> str | None:
        return self.traffic.live_colour

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "scoring_uri": self.scoring_uri, "traffic": self.traffic.to_dict(),
                "deployments": self.deployments, "provisioning_state": self.provisioning_state,
                "auth_mode": self.auth_mode, "compute": self.compute,
                "deployment_states": [d.to_dict() for d in self.deployment_states]}


@dataclass(frozen=True)
class Credentials:
    """What a scoring request authenticates with: an endpoint key (no expiry) or an
    ``aml_token`` with its expiry (epoch seconds). ``repr`` never shows the secret."""

    kind: str  # "key" | "aml_token"
    secret: str = field(repr=False)
    expires_at: float | None = None

    @property
    def authorization(self) -> str:
        return f"Bearer {self.secret}"

    def expires_within(self, seconds: float, now: float) -> bool:
        return self.expires_at is not None and self.expires_at - now <= seconds

    def __repr__(self) -> str:
        return f"Credentials(kind={self.kind!r}, secret=***, expires_at={self.expires_at!r})"


class EndpointKeys:
    """Endpoint auth keys, for the ``keys`` verb only. ``repr`` never shows them."""

    def __init__(self, primary: str, secondary: str) -> None:
        self.primary = primary
        self.secondary = secondary

    def __repr__(self) -> str:
        return "EndpointKeys(primary=***, secondary=***)"


# --- ports -----------------------------------------------------------------------------------
@runtime_checkable
class Jobs(Protocol):
    def submit_job(self, spec: AutoMLJobSpec, *, on_event: EventSink = ignore_event,
                   detach: bool = False) -> JobState:
        """Submit the AutoML job; return its state (name, status, portal URL).

        ``detach``: return while it runs (Azure always does; the local backend then runs it in a
        background worker process instead of in this one)."""

    def job_state(self, name: str) -> JobState: ...

    def wait_job(self, name: str, *, on_event: EventSink = ignore_event) -> TrainResult:
        """Follow a job to a terminal state (progress as events) and return its result."""

    def get_job(self, name: str) -> TrainResult: ...

    def cancel_job(self, name: str) -> JobState: ...

    def list_child_runs(self, name: str) -> list[ChildRun]: ...


@runtime_checkable
class Models(Protocol):
    def register_model(self, spec: ModelSpec, job: TrainResult, child: ChildRun, *,
                       tags: Mapping[str, str]) -> ModelVersion:
        """Register ``child``'s MLflow model; the same child run twice returns the existing version."""

    def list_models(self, name: str | None = None) -> list[ModelVersion]: ...

    def get_model(self, name: str, version: str | None = None, *, alias: str | None = None) -> ModelVersion: ...

    def set_model_alias(self, name: str, alias: str, version: str) -> None: ...

    def download_model(self, model: ModelVersion, destination: Path) -> Path:
        """Materialise the MLflow model folder of ``model`` under ``destination``; return it."""


@runtime_checkable
class Environments(Protocol):
    def register_environment(self, spec: EnvironmentSpec) -> EnvironmentRef:
        """Reuse the version whose fingerprint tag matches, else register the next version
        (versions are immutable: never overwrite one)."""


@runtime_checkable
class Computes(Protocol):
    def attach_compute(self, spec: ComputeSpec, *, require_cluster_access: bool = False) -> AttachResult:
        """Attach the cluster as Kubernetes compute after the doctor's blocking checks; attaching
        twice attaches once; a compute of that name on another cluster is a ConfigError."""

    def detach_compute(self, spec: ComputeSpec) -> AttachResult:
        """Detach the compute (the cluster is untouched); succeeds when already gone."""

    def doctor(self, spec: ComputeSpec, deployment: DeploymentSpec | None = None, *,
               require_cluster_access: bool = False) -> DoctorReport:
        """One finding per preflight check of the cluster, its extension and the compute
        (azml2aks.aks.doctor); ``deployment`` sizes the capacity and instance-type checks."""


@runtime_checkable
class Endpoints(Protocol):
    def get_endpoint(self, name: str) -> EndpointState:
        """A fresh read; raises NotFoundError when missing."""

    def ensure_endpoint(self, spec: EndpointSpec) -> EndpointState:
        """Create the endpoint when missing; an existing one is only read (its traffic untouched)."""

    def create_or_update_deployment(self, spec: DeploymentSpec, *,
                                    on_event: EventSink = ignore_event) -> DeploymentState:
        """Create colour ``spec.name`` at 0 % and wait until it is ready. Raises BackendError
        (with the service's error and the containers' log tails) when it does not become ready,
        and refuses a colour with live traffic (it is never replaced)."""

    def delete_deployment(self, endpoint: str, name: str) -> None:
        """Succeeds when already gone; refuses (BackendError) while it has live traffic."""

    def set_traffic(self, endpoint: str, traffic: Traffic) -> Traffic:
        """Read-modify-write the live split and return it once observed."""

    def get_credentials(self, endpoint: str) -> Credentials:
        """What probes authenticate with (a key, or an aml_token with its expiry)."""

    def get_keys(self, endpoint: str) -> EndpointKeys: ...

    def get_logs(self, endpoint: str, name: str, *, tail: int = 50,
                 container: str = "inference-server") -> str:
        """The last ``tail`` lines of a container's log (``inference-server`` or
        ``storage-initializer``)."""


@runtime_checkable
class Backend(Jobs, Models, Environments, Computes, Endpoints, Protocol):
    """Everything a pipeline needs from a backend."""

    name: str


@runtime_checkable
class LocalProcesses(Protocol):
    """What only the local backend can do: its processes on this machine."""

    def stop_endpoint(self, name: str) -> list[int]:
        """Stop the router and every colour's server; return the pids stopped."""

    def deployment_health(self, endpoint: str) -> dict[str, dict[str, Any]]: ...


@runtime_checkable
class EndpointLocks(Protocol):
    """One rollout at a time per endpoint: deploy, traffic, promote and rollback hold the lock.

    Locally a file lock beside the endpoint's state (released by the OS when its holder dies);
    on Azure a lease recorded in the endpoint's tags (holder run id + expiry, read-modify-written,
    taken over once lapsed or once its process on this host is gone)."""

    def hold_endpoint(self, endpoint: str, *, holder: Mapping[str, Any],
                      timeout: float) -> AbstractContextManager[None]:
        """Hold the endpoint's rollout lock for the ``with`` block. Waits up to ``timeout``
        seconds, then raises :class:`~azml2aks.errors.LockedError` naming the holder (its
        ``run_id`` and ``verb`` as given by it in ``holder``)."""
