"""The story of a pipeline: train → register → package → attach → deploy.

:class:`Pipeline` runs one stage per method, each returning a typed result that the run
journal records. ``run()`` chains them; with ``resume=True`` it skips stages the latest run
already finished. Progress goes to the ``on_event`` callback as plain dicts.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from pathlib import Path
from typing import Any

from azml2aks import metrics as M
from azml2aks.aks.findings import DoctorReport
from azml2aks.backends import get_backend
from azml2aks.backends.ports import Backend, JobState
from azml2aks.config import PipelineConfig, specs
from azml2aks.config.loader import load_config
from azml2aks.errors import Azml2aksError, ConfigError, GateError, NotFoundError, UnsupportedError
from azml2aks.events import EventSink, ignore_event
from azml2aks.journal import Journal
from azml2aks.lineage import lineage_tags
from azml2aks.operations import PipelineOperations
from azml2aks.results import AttachResult, DeployResult, ModelVersion, PackageResult, TrainResult

logger = logging.getLogger(__name__)

STAGES = ("train", "register", "package", "attach", "deploy")


def _stage(name: str, *, new_run: bool = False):
    """Mark a method as stage ``name``: a ``stage started`` event and journal entry before it,
    the failure (with a rolled-back rollout's report) recorded when it raises. The method
    records its own result with :meth:`Pipeline._finish`. ``new_run``: start a new run first."""

    def wrap(method):
        @functools.wraps(method)
        def run_stage(self: Pipeline, *args, **kwargs):
            if kwargs.get("dry_run") or kwargs.get("detach"):  # a plan or an undo: not a run of the stage
                return method(self, *args, **kwargs)
            if new_run:
                self._new_journal()
            self.on_event({"event": "stage", "stage": name, "status": "started", "backend": self.backend_name})
            self.journal.begin(name)
            try:
                return method(self, *args, **kwargs)
            except Azml2aksError as e:
                self.journal.fail(name, e.to_dict())
                self.on_event({"event": "stage", "stage": name, "status": "failed", "error": e.to_dict()})
                raise
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: not finished, so --resume runs it again
                self.journal.fail(name, {"error": "Interrupted", "message": "interrupted (Ctrl-C or SIGTERM)",
                                         "hint": None})
                raise

        return run_stage

    return wrap


class Pipeline(PipelineOperations):
    """One pipeline.yaml bound to a backend and a work dir."""

    def __init__(self, config: PipelineConfig, *, path: Path, backend: str | Backend | None = None,
                 workdir: Path | None = None, on_event: EventSink = ignore_event, credential: Any = None) -> None:
        """``backend``: a name (``local``/``azure``, default from ``workspace:``) or a backend
        object already built; ``credential``: an azure-core TokenCredential for the Azure
        backend (default: DefaultAzureCredential)."""
        self.config = config
        self.path = path
        self.base_dir = path.parent
        wd = Path(workdir) if workdir else Path(os.environ.get("AZML2AKS_WORKDIR") or config.local.workdir)
        self.workdir = usable_workdir((wd if wd.is_absolute() else self.base_dir / wd).resolve())
        self.on_event = on_event
        if backend is None or isinstance(backend, str):
            self.backend_name = backend or config.workspace.default_backend()
            self.backend = get_backend(self.backend_name, config, base_dir=self.base_dir, workdir=self.workdir,
                                       credential=credential)
        else:
            self.backend, self.backend_name = backend, backend.name
        self._journal: Journal | None = None

    # --- journal -----------------------------------------------------------------------------
    @property
    def journal(self) -> Journal:
        """The latest run's journal (reading it writes nothing; a first record starts one)."""
        if self._journal is None:
            self._journal = Journal.latest(self.workdir, backend=self.backend_name) or Journal.new(
                self.workdir, pipeline=str(self.path), backend=self.backend_name)
        return self._journal

    def _new_journal(self) -> Journal:
        self._journal = Journal.start(self.workdir, pipeline=str(self.path), backend=self.backend_name)
        return self._journal

    def _finish(self, stage: str, result: Any, **extra: Any) -> Any:
        self.journal.record(stage, result.to_dict(), **extra)
        self.on_event({"event": "stage", "stage": stage, "status": "done", "result": result.to_dict()})
        return result

    # --- train -------------------------------------------------------------------------------
    @_stage("train", new_run=True)
    def train(self, *, wait: bool = True) -> TrainResult:
        """Submit the AutoML job; with ``wait`` follow it to the end."""
        state = self.backend.submit_job(specs.automl_job_spec(self.config, self.base_dir),
                                        on_event=self.on_event, detach=not wait)
        if state.portal_url:
            self.on_event({"event": "job", "job": state.name, "status": state.status, "portal_url": state.portal_url,
                           "message": f"job {state.name} ({state.status}): {state.portal_url}"})
        result = self.backend.wait_job(state.name, on_event=self.on_event) if wait else self.backend.get_job(state.name)
        return self._finish("train", result)

    @_stage("train")
    def wait(self, job_name: str | None = None) -> TrainResult:
        """Follow a submitted job (``train --no-wait``) to its end."""
        name = job_name or self._journal_value("train", "job_name", "job submitted by `azml2aks train`",
                                                  hint=f"name the job: azml2aks wait {self.path} JOB")
        return self._finish("train", self.backend.wait_job(name, on_event=self.on_event))

    def cancel(self, job_name: str | None = None) -> JobState:
        """Cancel a submitted job (default: the latest trained job of this work dir)."""
        name = job_name or self._journal_value("train", "job_name", "job submitted by `azml2aks train`",
                                                  hint=f"name the job: azml2aks cancel {self.path} JOB")
        return self.backend.cancel_job(name)

    # --- register ----------------------------------------------------------------------------
    @_stage("register")
    def register(self, job: TrainResult | str | None = None, *, force: bool = False) -> ModelVersion:
        """Register the best child run of ``job`` (default: the latest trained job)."""
        if job is None:
            job = self._journal_value("train", "job_name", "finished train",
                                      hint=f"run `azml2aks train {self.path.name}` first, or pass --job JOB")
        result = self.backend.get_job(job) if isinstance(job, str) else job
        if result.status != "Completed":
            raise GateError(f"job {result.job_name} is {result.status}, not Completed; nothing registered",
                            hint=f"wait for it with `azml2aks wait {self.path} {result.job_name}`")
        trials = self.backend.list_child_runs(result.job_name)
        self.journal.add_fact("leaderboard", result.job_name, [t.to_dict() for t in trials])  # for the report
        children = [c for c in trials
                    if c.metric_value is not None and c.status == "Completed"]  # failed/canceled trials never win
        if not children:
            raise NotFoundError(f"job {result.job_name} has no finished child run with {result.primary_metric}")
        metric = result.primary_metric
        best = next((c for c in children if c.run_id == result.best_child_run_id), None)
        if best is None:
            best = max(children, key=lambda c: c.metric_value if M.higher_is_better(metric) else -c.metric_value)
        threshold = self.config.model.min_metric
        if threshold is not None and not M.meets(best.metric_value, threshold, metric):
            raise GateError(
                f"best {metric} is {best.metric_value:.4f} ({best.algorithm}, child run {best.run_id}), "
                f"{'below' if M.higher_is_better(metric) else 'above'} model.min_metric {threshold}; nothing registered",
                hint="train longer (limits.timeout_minutes), improve the data, or lower model.min_metric",
            )
        spec = specs.model_spec(self.config)
        name = spec.name
        tags = {**spec.tags, **lineage_tags(
            job_name=result.job_name, child_run_id=best.run_id, metric=metric, value=best.metric_value,
            data_ref=result.training_data, data_sha256=result.training_data_sha256, directory=self.base_dir)}
        tags["azml2aks.algorithm"] = best.algorithm
        model = self.backend.register_model(spec, result, best, tags=tags)
        moved = self._move_alias(model, force=force)
        model = dataclasses.replace(self.backend.get_model(name, model.version), reused=model.reused)
        self.on_event({"event": "registered", "model": model.ref, "reused": model.reused, "alias_moved": moved})
        return self._finish("register", model)

    def _move_alias(self, model: ModelVersion, *, force: bool) -> bool:
        alias = self.config.model.alias
        try:
            current = self.backend.get_model(model.name, alias=alias)
        except NotFoundError:
            current = None
        if current is not None and current.version == model.version:
            return False
        beats = current is None or current.metric_value is None or (
            model.metric_value is not None and M.is_better(model.metric_value, current.metric_value, model.metric_name))
        if beats or force:
            self.backend.set_model_alias(model.name, alias, model.version)
            return True
        logger.info("alias %s stays on %s: %s does not beat it", alias, current.ref, model.ref)
        return False

    def models(self) -> list[ModelVersion]:
        return self.backend.list_models(self.config.model_name)

    def resolve_model(self, ref: str | None = None) -> ModelVersion:
        """``NAME:VERSION``, ``NAME@alias`` (``@latest``: the newest), ``NAME`` (latest); by default
        ``deployment.model`` when it names a registered model, else the latest registered in this run."""
        if ref is None and self.config.deployment.model is not None:
            ref = specs.asset_override(self.config.deployment.model)
            if ref is None:
                raise UnsupportedError(
                    "deployment.model is an inline model folder, not a registered model",
                    hint="`azml2aks package PIPELINE` packages that folder (deploy then serves the package); to "
                    "name a registered model write deployment.model: azureml:<name>:<version>")
        if ref is None:
            stage = self.stage_result("register")
            if stage:
                return self.backend.get_model(stage["result"]["name"], stage["result"]["version"])
            return self.backend.get_model(self.config.model_name)
        if "@" in ref:
            name, alias = ref.split("@", 1)
            return self.backend.get_model(name) if alias == "latest" else self.backend.get_model(name, alias=alias)
        name, _, version = ref.partition(":")
        return self.backend.get_model(name, version or None)

    # --- package -----------------------------------------------------------------------------
    @property
    def build_dir(self) -> Path:
        """Where packages are written: under the work dir, so two work dirs never share one."""
        return self.workdir / "build"

    @_stage("package")
    def package(self, model: ModelVersion | str | None = None, *, contract: bool = True,
                model_path: str | Path | None = None) -> PackageResult:
        """Generate score.py + conda.yaml for ``model``, prove them, register the environment.

        ``model_path`` packages an MLflow model folder directly (e.g. an AutoML child's
        ``outputs/mlflow-model/``), without the model registry.
        """
        from azml2aks.packaging.writer import model_from_folder, package_model

        build = self.build_dir
        inline = getattr(self.config.deployment.model, "path", None)
        if model is None and model_path is None and inline:  # deployment.model: {path: ...}
            model_path = Path(inline) if Path(inline).is_absolute() else self.base_dir / inline
        if model_path is not None:
            if model is not None:
                raise ConfigError("give a registered model or --model-path, not both")
            mv, model_dir = model_from_folder(model_path, self.config.model_name)
        else:
            mv = model if isinstance(model, ModelVersion) else self.resolve_model(model)
            model_dir = self.backend.download_model(mv, build / f"{mv.name}-{mv.version}")
        result = package_model(self.config, mv, model_dir, build, run_contract=contract, on_event=self.on_event,
                               base_dir=self.base_dir)
        env = self.backend.register_environment(self._environment_spec(result))
        result = dataclasses.replace(result, environment_name=env.name, environment_version=env.version,
                                     environment_reused=env.reused)
        return self._finish("package", result)

    def _environment_spec(self, result: PackageResult) -> specs.EnvironmentSpec:
        """The packaged environment; or, when the deployment YAML carries an inline
        ``environment: {image, conda_file}``, that one (registered, or reused by its fingerprint,
        in the packaged one's place; the contract test still ran on the generated package)."""
        from azml2aks.config.model import EnvironmentAsset
        from azml2aks.packaging.conda import fingerprint

        inline = self.config.deployment.environment
        if not isinstance(inline, EnvironmentAsset):
            return specs.environment_spec(self.config, Path(result.directory) / "conda.yaml", result.fingerprint)
        if inline.build or not inline.image:
            raise ConfigError("deployment.environment: azml2aks deploys an inline environment given as an image "
                              "(and optionally a conda_file), not a Docker build context",
                              hint="set deployment.environment.image, or refer to a registered one: "
                                   "environment: azureml:<name>:<version>")
        conda_file, text = None, ""
        if inline.conda_file:
            conda_file = Path(inline.conda_file) if Path(inline.conda_file).is_absolute() \
                else self.base_dir / inline.conda_file
            try:
                text = conda_file.read_text(encoding="utf-8")
            except OSError as e:
                raise ConfigError(f"deployment.environment.conda_file {inline.conda_file!r} cannot be read: "
                                  f"{e.strerror}", hint="paths are relative to the folder of pipeline.yaml") from None
        return specs.EnvironmentSpec(
            name=inline.name or self.config.environment_name, image=inline.image,
            conda_file=str(conda_file) if conda_file else None, fingerprint=fingerprint(text or "{}", inline.image),
            description=inline.description or f"inference environment of {self.config.model_name} (deployment YAML)")

    # --- attach ------------------------------------------------------------------------------
    @_stage("attach")
    def attach(self, *, detach: bool = False, require_cluster_access: bool = False) -> AttachResult:
        """Preflight and attach the cluster, idempotently (the local backend reports ``local``);
        ``detach`` detaches the compute instead."""
        spec = specs.compute_spec(self.config)
        if detach:
            return self.backend.detach_compute(spec)
        return self._finish("attach", self.backend.attach_compute(spec, require_cluster_access=require_cluster_access))

    def doctor(self, *, require_cluster_access: bool = False) -> DoctorReport:
        """Preflight the AKS cluster, its extension and the workspace's compute against the
        deployment settings: one finding per check."""
        deployment = specs.deployment_spec(self.config, self.config.rollout.colours[0], model=None,
                                           environment=None, code_dir=None)
        return self.backend.doctor(specs.compute_spec(self.config), deployment,
                                   require_cluster_access=require_cluster_access)

    # --- deploy ------------------------------------------------------------------------------
    @_stage("deploy")
    def deploy(self, package: PackageResult | None = None, *, dry_run: bool = False,
               wait_lock: float = 0, resume: bool = False) -> DeployResult:
        """Roll the package out as the idle colour (``wait_lock``: seconds to wait while another
        rollout holds the endpoint; 0 refuses at once; ``resume``: go on with the rollout this
        run's journal says was interrupted)."""
        from azml2aks.rollout import driver as D

        if package is None and not dry_run:
            stage = self.stage_result("package")
            if stage is None:
                package = self.package()
            else:
                package = PackageResult(**{k: tuple(v) if isinstance(v, list) else v
                                           for k, v in stage["result"].items()})
        result = D.deploy(self, package, dry_run=dry_run, wait_lock=wait_lock, resume=resume, **self._waits())
        return result if dry_run else self._finish("deploy", result)

    def _waits(self) -> dict[str, Any]:
        """The rollout waits on the backend's own sleep and clocks when it has them (the Azure
        backend's are injectable: tests run it on the fake's simulated clock)."""
        b = self.backend
        return {k: getattr(b, k) for k in ("sleep", "clock", "now") if callable(getattr(b, k, None))}

    # --- all ---------------------------------------------------------------------------------
    def run(self, *, resume: bool = False, dry_run: bool = False, start: str | None = None,
            until: str | None = None, wait_lock: float = 0) -> dict[str, Any]:
        """The stages from ``start`` to ``until`` (default: all) in order; ``resume`` skips what
        the latest run already finished (and goes on with its interrupted rollout). A later
        slice takes what it needs (job, model, package) from the journal:
        ``run(start="register", until="package")``. ``wait_lock`` as for :meth:`deploy`."""
        first = STAGES.index(_stage_named(start, "--from")) if start else 0
        last = STAGES.index(_stage_named(until, "--until")) if until else len(STAGES) - 1
        if first > last:
            raise ConfigError(f"--from {STAGES[first]} comes after --until {STAGES[last]}",
                              hint=f"stages run in this order: {' -> '.join(STAGES)}")
        wanted = STAGES[first:last + 1]
        done = {s for s in STAGES if self.journal.stage(s)} if resume else set()
        todo = [s for s in wanted if s not in done]
        # the resumed stages' results from the journal, so `--resume` with nothing left to do
        # still answers with every stage of the slice
        out: dict[str, Any] = {s: self.journal.stage(s)["result"] for s in wanted if s in done}
        if dry_run:
            return {"deploy": self.deploy(dry_run=True).to_dict()}
        job = model = package = None
        if "train" in todo:
            job = self.train()
            out["train"] = job.to_dict()
        if "register" in todo:
            model = self.register(job)
            out["register"] = model.to_dict()
            alias = self.config.model.alias
            if alias not in model.aliases and "deploy" in wanted:
                self.on_event({"event": "warning", "message": self._not_champion(model, alias)})
        if "package" in todo:  # deployment.model, when set, is what gets packaged
            package = self.package(None if self.config.deployment.model is not None else model)
            out["package"] = package.to_dict()
        if "attach" in todo:
            out["attach"] = self.attach().to_dict()
        if "deploy" in todo:
            interrupted = resume and (self.journal.progress("rollout") or {}).get("status") in ("running", "interrupted")
            out["deploy"] = self.deploy(package, resume=bool(interrupted), wait_lock=wait_lock).to_dict()
        out["run_id"] = self.journal.run_id
        if done & set(wanted):
            out["resumed"] = [s for s in wanted if s in done]
        return {**{s: out[s] for s in STAGES if s in out}, **{k: v for k, v in out.items() if k not in STAGES}}

    def _not_champion(self, model: ModelVersion, alias: str) -> str:
        """'wine-model:4 (accuracy=0.9100) does not beat the champion wine-model:3 (accuracy=0.9400)'."""
        try:
            champion = self.backend.get_model(model.name, alias=alias)
        except NotFoundError:
            champion = None

        def score(m: ModelVersion) -> str:
            return f"{m.metric_name}={m.metric_value:.4f}" if m.metric_value is not None else "no metric"

        held = f" {champion.ref} ({score(champion)})" if champion is not None else ""
        return (f"{model.ref} ({score(model)}) does not beat the {alias}{held}; it is rolled out anyway "
                "and the rollout gates decide")

    def stage_result(self, stage: str) -> dict | None:
        """``stage``'s last result in the latest run (also while it runs again: ``wait`` re-enters
        ``train``), else in the newest earlier run of this backend that finished it (an
        interrupted train leaves the previous job usable)."""
        found = self.journal.entry(stage) or {}
        if "result" in found:
            return found
        earlier = Journal.find(self.workdir, stage, backend=self.backend_name)
        return earlier.stage(stage) if earlier is not None else None

    def _journal_value(self, stage: str, key: str, what: str, *, hint: str | None = None) -> Any:
        found = self.stage_result(stage)
        if not found:
            raise NotFoundError(f"no {what} recorded in the work dir {self.workdir} (backend {self.backend_name})",
                                hint=hint)
        return found["result"][key]


def _stage_named(name: str, option: str) -> str:
    if name not in STAGES:
        raise ConfigError(f"{option} {name!r} is not a stage", hint=f"use one of {', '.join(STAGES)}")
    return name


def usable_workdir(path: Path) -> Path:
    """``path`` when it is, or can become, a work dir: a :class:`ConfigError` naming it when it
    is a file, or when what would hold it is a file or cannot be written. Creates nothing
    (reading never writes; the first record makes the folder)."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"work dir {path} is a file, not a folder",
                          hint="pass --workdir a folder (or set local.workdir), or move the file away")
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent != path and (not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK)):
        what = "is a file" if not parent.is_dir() else "cannot be written"
        raise ConfigError(f"cannot create the work dir {path}: {parent} {what}",
                          hint="pass --workdir a folder you can write to (or set local.workdir)")
    return path


def load_pipeline(path: str | os.PathLike, *, backend: str | Backend | None = None,
                  workdir: str | os.PathLike | None = None, on_event: EventSink = ignore_event,
                  credential: Any = None) -> Pipeline:
    """Read pipeline.yaml and bind it to a backend: ``load_pipeline("pipeline.yaml").train()``.

    ``credential``: an azure-core TokenCredential for ``backend="azure"`` (default:
    DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI)."""
    p = Path(path).resolve()
    config = load_config(p)
    # an explicit workdir is relative to the caller's folder; local.workdir to pipeline.yaml's
    return Pipeline(config, path=p, backend=backend, workdir=Path(workdir).resolve() if workdir else None,
                    on_event=on_event, credential=credential)


def infra(path: str | os.PathLike, *, apply: bool = False) -> Any:
    """``azml2aks infra plan|up``: what ``infra/<env>.yaml`` would change (``apply=False``), or
    apply it (create/update the cluster, extension, namespace, instance types; attach)."""
    from azml2aks.aks.infraspec import load_infra
    from azml2aks.backends.azure.client import make_credential
    from azml2aks.backends.azure.infra import AksInfra

    infra = AksInfra(load_infra(path), make_credential(), source=str(path))
    return infra.up() if apply else infra.plan()
