"""The backend port, in Azure ML vocabulary (jobs, child runs, models, environments, computes,
online endpoints, deployments). ``backends/azure`` and ``backends/local`` implement it; the
pipeline and the rollout engine only ever talk to this protocol.

Conventions (Azure SDK guidelines): ``get_*`` raises :class:`NotFoundError` when missing,
``list_*`` returns a list, ``delete_*`` succeeds when already gone, options are keyword-only.
``on_event`` callbacks receive plain dicts (``{"event": "trial", ...}``) for progress lines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from azml2aks.config import PipelineConfig
    from azml2aks.results import AttachResult, ChildRun, ModelVersion, TrainResult

EventSink = Callable[[dict[str, Any]], None]


def ignore_event(event: dict[str, Any]) -> None:
    """The default event sink."""


@runtime_checkable
class Backend(Protocol):
    name: str

    # --- train ---------------------------------------------------------------------------
    def submit_automl_job(self, config: PipelineConfig, *, on_event: EventSink = ignore_event,
                          detach: bool = False) -> str:
        """Submit the AutoML job described by ``config.automl``; return the job name.

        ``detach``: return while the job runs (Azure always does; the local backend then runs
        it in a background worker process instead of in this one)."""

    def wait_job(self, job_name: str, *, on_event: EventSink = ignore_event) -> TrainResult:
        """Follow a job to a terminal state and return its result."""

    def get_job(self, job_name: str) -> TrainResult: ...

    def list_child_runs(self, job_name: str) -> list[ChildRun]: ...

    # --- register ------------------------------------------------------------------------
    def register_model(
        self, name: str, job: TrainResult, child: ChildRun, *, tags: dict[str, str], description: str | None = None
    ) -> ModelVersion:
        """Register ``child``'s MLflow model; the same child run twice returns the existing version."""

    def list_models(self, name: str | None = None) -> list[ModelVersion]: ...

    def get_model(self, name: str, version: str | None = None, *, alias: str | None = None) -> ModelVersion: ...

    def set_model_alias(self, name: str, alias: str, version: str) -> None: ...

    def download_model(self, model: ModelVersion, destination: Path) -> Path:
        """Materialise the MLflow model folder of ``model`` under ``destination``; return it."""

    # --- package -------------------------------------------------------------------------
    def register_environment(self, name: str, *, conda_file: Path, image: str, fingerprint: str) -> tuple[str, bool]:
        """Register (or reuse, by fingerprint) an environment; return (version, reused)."""

    # --- attach --------------------------------------------------------------------------
    def attach_compute(self, config: PipelineConfig) -> AttachResult: ...

    # --- deploy --------------------------------------------------------------------------
    # The endpoint operations the rollout engine drives (see azml2aks/deploy.py). Traffic is a
    # {deployment: percent} dict; live traffic sums to 100, or 0 for an empty endpoint.
    def get_endpoint(self, name: str) -> EndpointState:
        """The endpoint with its live traffic split (a fresh read); raises NotFoundError when missing."""

    def ensure_endpoint(self, config: PipelineConfig) -> EndpointState:
        """Create the endpoint when missing; never changes the traffic of an existing one."""

    def create_or_update_deployment(
        self, config: PipelineConfig, colour: str, *, package_dir: Path, model_dir: Path,
        model: ModelVersion | None = None,
    ) -> None:
        """Create colour ``colour`` at 0 % traffic and wait until it is ready.

        Raises BackendError (whose message carries the tail of the deployment's log) when it
        does not become ready, and when ``colour`` has live traffic (it is never replaced).
        """

    def delete_deployment(self, endpoint: str, colour: str) -> None:
        """Delete ``colour``; succeeds when already gone; refuses (BackendError) while it has live traffic."""

    def set_traffic(self, endpoint: str, traffic: dict[str, int]) -> dict[str, int]:
        """Read-modify-write the live split (deployments not named go to 0); return it once
        observed. ConfigError for an unknown deployment or a split not summing to 100 (or 0)."""

    def get_keys(self, endpoint: str) -> EndpointKeys:
        """The endpoint's auth keys (never logged)."""

    def get_logs(self, endpoint: str, colour: str, *, tail: int = 50) -> str:
        """The last ``tail`` lines of the colour's inference server log."""


class EndpointState:
    """An online endpoint as seen by the pipeline."""

    def __init__(self, name: str, scoring_uri: str, traffic: dict[str, int], deployments: list[str],
                 provisioning_state: str = "Succeeded") -> None:
        self.name = name
        self.scoring_uri = scoring_uri
        self.traffic = dict(traffic)
        self.deployments = list(deployments)
        self.provisioning_state = provisioning_state

    def live_colour(self) -> str | None:
        """The colour with the most live traffic, if any."""
        live = {c: p for c, p in self.traffic.items() if p > 0}
        return max(live, key=live.get) if live else None

    def to_dict(self) -> dict:
        return {"name": self.name, "scoring_uri": self.scoring_uri, "traffic": self.traffic,
                "deployments": self.deployments, "provisioning_state": self.provisioning_state}


class EndpointKeys:
    """Endpoint auth keys. ``repr`` never shows them."""

    def __init__(self, primary: str, secondary: str) -> None:
        self.primary = primary
        self.secondary = secondary

    def __repr__(self) -> str:
        return "EndpointKeys(primary=***, secondary=***)"
