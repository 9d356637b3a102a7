"""The local backend: FLAML jobs, the MLflow registry and file environments in the work dir,
and local endpoints (router + one inference server per colour) on 127.0.0.1.

It implements every port of :mod:`azml2aks.backends.ports` plus the LocalProcesses capability.
The ``local:`` section of pipeline.yaml (work dir, seed, workers, router port) configures the
backend itself at construction; each operation takes its spec."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from azml2aks import processes
from azml2aks.aks.findings import DoctorReport, Finding
from azml2aks.backends.local import jobs, registry
from azml2aks.backends.local.endpoints import LocalEndpoints
from azml2aks.backends.local.tail import JsonLinesTail
from azml2aks.backends.ports import EnvironmentRef, JobState
from azml2aks.config import AutoMLSettings, PipelineConfig
from azml2aks.config.specs import (
    AutoMLJobSpec,
    ComputeSpec,
    DeploymentSpec,
    EnvironmentSpec,
    ModelSpec,
    thaw,
)
from azml2aks.errors import BackendError
from azml2aks.events import EventSink, ignore_event
from azml2aks.results import AttachResult, ChildRun, ModelVersion, TrainResult
from azml2aks.retry import Poller


class LocalBackend(LocalEndpoints):
    """Runs every stage on this machine; state lives in ``workdir``. The deploy half of the
    port (endpoints, colours, traffic) is :class:`LocalEndpoints`."""

    name = "local"

    def __init__(self, config: PipelineConfig, *, base_dir: Path, workdir: Path) -> None:
        local = config.local
        super().__init__(workdir, startup_timeout=local.startup_timeout_seconds, workers=local.workers,
                         router_port=local.router_port,
                         request_timeout_ms=config.deployment.request_settings.request_timeout_ms,
                         max_body_bytes=config.scoring.max_body_bytes)
        self.config = config
        self.base_dir = base_dir
        self.workdir = workdir

    # --- train ---------------------------------------------------------------------------
    def _job_config(self, spec: AutoMLJobSpec) -> PipelineConfig:
        """This backend's config with the job's ``automl:`` section (the spec carries all of it)."""
        return self.config.model_copy(update={"automl": AutoMLSettings.model_validate(thaw(spec.settings))})

    def submit_job(self, spec: AutoMLJobSpec, *, on_event: EventSink = ignore_event,
                   detach: bool = False) -> JobState:
        """Check the data and queue the job; run it here, or in a detached worker with ``detach``."""
        config = self._job_config(spec)
        if not detach:  # read the data once for both steps
            inputs = jobs.load_inputs(config, self.base_dir)
            job = jobs.create_job(config, base_dir=self.base_dir, workdir=self.workdir, inputs=inputs)
            jobs.execute_job(config, job, base_dir=self.base_dir, workdir=self.workdir, on_event=on_event,
                             inputs=inputs)
            return self.job_state(job)
        job = jobs.create_job(config, base_dir=self.base_dir, workdir=self.workdir)
        folder = self._job_dir(job)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(config.model_dump_json(by_alias=True))
        (folder / "spec.json").write_text(json.dumps({"job": job, "base_dir": str(self.base_dir),
                                                      "workdir": str(self.workdir)}))
        pid = processes.spawn([sys.executable, "-m", "azml2aks.backends.local.worker", str(folder)],
                              env=dict(os.environ), log_path=folder / "worker.log", cwd=self.base_dir)
        (folder / "worker.json").write_text(json.dumps({"pid": pid}))
        on_event({"event": "queued", "job": job,
                  "message": f"job {job} queued in a background worker; follow it with `azml2aks wait`"})
        return self.job_state(job)

    def job_state(self, name: str) -> JobState:
        result = jobs.get_job(self.workdir, name)
        return JobState(name, result.status, error_message=result.error)

    def cancel_job(self, name: str) -> JobState:
        """Stop a detached job's worker and mark the job Canceled (a finished job stays as it is)."""
        state = self.job_state(name)
        if state.terminal:
            return state
        worker = self._job_dir(name) / "worker.json"
        if worker.exists():
            pid = json.loads(worker.read_text())["pid"]
            if processes.is_alive(pid):
                processes.terminate(pid)
        jobs.set_status(self.workdir, name, "Canceled", error="canceled by azml2aks cancel")
        return self.job_state(name)

    def wait_job(self, job_name: str, *, on_event: EventSink = ignore_event,
                 sleep: Callable[[float], None] = time.sleep) -> TrainResult:
        """Follow a detached job's events until it ends; a dead worker marks it Failed."""
        folder = self._job_dir(job_name)
        events = JsonLinesTail(folder / "events.jsonl")
        for _ in Poller(initial=0.2, factor=1.0, sleep=sleep):
            result = jobs.get_job(self.workdir, job_name)
            for event in events.read_new():
                on_event(event)
            if result.status in jobs.TERMINAL:
                return result
            worker = folder / "worker.json"
            if not worker.exists() or not processes.is_alive(json.loads(worker.read_text())["pid"]):
                if jobs.get_job(self.workdir, job_name).status in jobs.TERMINAL:
                    continue  # it finished between the two reads: report the events, then return
                tail = processes.log_tail(folder / "worker.log") if (folder / "worker.log").exists() else ""
                jobs.set_status(self.workdir, job_name, "Failed", error="the local worker process died")
                raise BackendError(f"local AutoML job {job_name} stopped: its worker process is gone",
                                   hint=f"last lines of {folder / 'worker.log'}:\n{tail}")
        raise AssertionError("unreachable: the poller has no timeout")

    def _job_dir(self, job: str) -> Path:
        return self.workdir / "jobs" / job

    def get_job(self, job_name: str) -> TrainResult:
        return jobs.get_job(self.workdir, job_name)

    def list_child_runs(self, job_name: str) -> list[ChildRun]:
        return jobs.list_child_runs(self.workdir, job_name)

    # --- register ------------------------------------------------------------------------
    def register_model(self, spec: ModelSpec, job: TrainResult, child: ChildRun, *,
                       tags: Mapping[str, str]) -> ModelVersion:
        return registry.register_model(self.workdir, spec.name, job, child, tags=dict(tags),
                                       description=spec.description)

    def list_models(self, name: str | None = None) -> list[ModelVersion]:
        return registry.list_models(self.workdir, name)

    def get_model(self, name: str, version: str | None = None, *, alias: str | None = None) -> ModelVersion:
        return registry.get_model(self.workdir, name, version, alias=alias)

    def set_model_alias(self, name: str, alias: str, version: str) -> None:
        registry.set_model_alias(self.workdir, name, alias, version)

    def download_model(self, model: ModelVersion, destination: Path) -> Path:
        return registry.download_model(model, destination)

    # --- package -------------------------------------------------------------------------
    def register_environment(self, spec: EnvironmentSpec) -> EnvironmentRef:
        version, reused = registry.register_environment(self.workdir, spec.name, conda_file=Path(spec.conda_file) if spec.conda_file else None,
                                                        image=spec.image, fingerprint=spec.fingerprint)
        return EnvironmentRef(spec.name, version, reused)

    # --- attach --------------------------------------------------------------------------
    def attach_compute(self, spec: ComputeSpec, *, require_cluster_access: bool = False) -> AttachResult:
        return AttachResult(compute="local", backend="local", status="local",
                            checks=({"check": "cluster", "result": "skipped", "detail": "the local backend serves on 127.0.0.1"},))

    def detach_compute(self, spec: ComputeSpec) -> AttachResult:
        return AttachResult(compute="local", backend="local", status="local")

    def doctor(self, spec: ComputeSpec, deployment: DeploymentSpec | None = None, *,
               require_cluster_access: bool = False) -> DoctorReport:
        return DoctorReport(cluster="local", compute="local", findings=(Finding(
            "backend", "pass", "the local backend serves on 127.0.0.1: there is no AKS cluster to check",
            "run with --backend azure to check the cluster named in compute.cluster_name"),))
