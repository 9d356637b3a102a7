"""The local backend: FLAML jobs, the MLflow registry and file environments in the work dir,
and local endpoints (router + one inference server per colour) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from azml2aks.backends.base import EventSink, ignore_event
from azml2aks.backends.local import jobs, registry
from azml2aks.config import PipelineConfig
from azml2aks.errors import UnsupportedError
from azml2aks.results import AttachResult, ChildRun, ModelVersion, TrainResult


class LocalBackend:
    """Runs every stage on this machine; state lives in ``workdir``."""

    name = "local"

    def __init__(self, config: PipelineConfig, *, base_dir: Path, workdir: Path) -> None:
        self.config = config
        self.base_dir = base_dir
        self.workdir = workdir
        self._endpoints = None

    # --- train ---------------------------------------------------------------------------
    def submit_automl_job(self, config: PipelineConfig, *, on_event: EventSink = ignore_event) -> str:
        return jobs.run_automl(config, base_dir=self.base_dir, workdir=self.workdir, on_event=on_event).job_name

    def wait_job(self, job_name: str, *, on_event: EventSink = ignore_event) -> TrainResult:
        return jobs.get_job(self.workdir, job_name)  # local jobs finish inside submit

    def get_job(self, job_name: str) -> TrainResult:
        return jobs.get_job(self.workdir, job_name)

    def list_child_runs(self, job_name: str) -> list[ChildRun]:
        return jobs.list_child_runs(self.workdir, job_name)

    # --- register ------------------------------------------------------------------------
    def register_model(self, name: str, job: TrainResult, child: ChildRun, *, tags: dict[str, str],
                       description: str | None = None) -> ModelVersion:
        return registry.register_model(self.workdir, name, job, child, tags=tags, description=description)

    def list_models(self, name: str | None = None) -> list[ModelVersion]:
        return registry.list_models(self.workdir, name)

    def get_model(self, name: str, version: str | None = None, *, alias: str | None = None) -> ModelVersion:
        return registry.get_model(self.workdir, name, version, alias=alias)

    def set_model_alias(self, name: str, alias: str, version: str) -> None:
        registry.set_model_alias(self.workdir, name, alias, version)

    def download_model(self, model: ModelVersion, destination: Path) -> Path:
        return registry.download_model(model, destination)

    # --- package -------------------------------------------------------------------------
    def register_environment(self, name: str, *, conda_file: Path, image: str, fingerprint: str) -> tuple[str, bool]:
        return registry.register_environment(self.workdir, name, conda_file=conda_file, image=image,
                                             fingerprint=fingerprint)

    # --- attach --------------------------------------------------------------------------
    def attach_compute(self, config: PipelineConfig) -> AttachResult:
        return AttachResult(compute="local", backend="local", status="local",
                            checks=({"check": "cluster", "result": "skipped", "detail": "the local backend serves on 127.0.0.1"},))

    def _unsupported(self, what: str) -> UnsupportedError:
        return UnsupportedError(f"{what} is not available on the local backend")
