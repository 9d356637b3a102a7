"""Local AutoML jobs: the parent run, one MLflow child run per trial, the best model saved.

A job is an MLflow run (its id is the job name), tagged as Azure tags an AutoML parent job:
``automl_best_child_run_id`` names the child whose ``outputs/mlflow-model/`` holds the model.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from azml2aks import data as D
from azml2aks.backends.local import automl, store_sql, tracking
from azml2aks.config import PipelineConfig
from azml2aks.errors import BackendError, DataError, NotFoundError
from azml2aks.events import EventSink
from azml2aks.metrics import is_better
from azml2aks.results import ChildRun, TrainResult

logger = logging.getLogger(__name__)

TAG = "azml2aks."


def load_inputs(config: PipelineConfig, base_dir: Path):
    """Read and check the training (and validation) data; every data error surfaces here."""
    settings = config.automl
    time_column = settings.forecasting.time_column_name if settings.forecasting else None
    train_path = D.resolve(settings.training_data, base_dir)
    frame = D.read_table(train_path)
    D.check_training_frame(frame, target=settings.target_column_name, task=settings.task,
                           source=str(settings.data_path), time_column=time_column)
    val_frame = None
    if settings.validation_data is not None:
        val_path = D.resolve(settings.validation_data, base_dir, field="automl.validation_data")
        val_frame = D.read_table(val_path, field="automl.validation_data")
        D.check_training_frame(val_frame, target=settings.target_column_name, task=settings.task,
                               source="automl.validation_data", time_column=time_column)
    try:
        plan = automl.plan_search(settings, config.local, has_validation_data=val_frame is not None)
    except ValueError as e:
        raise DataError(f"automl.training: {e}") from None
    return train_path, frame, val_frame, plan, time_column


def create_job(config: PipelineConfig, *, base_dir: Path, workdir: Path, inputs=None) -> str:
    """Check the data (or take ``inputs`` from :func:`load_inputs`) and record a Queued job
    (the parent run); return its name."""
    settings = config.automl
    train_path, *_ = inputs or load_inputs(config, base_dir)
    mlflow = tracking.client(workdir)
    exp = tracking.experiment_id(mlflow, workdir, settings.experiment_name)
    parent = mlflow.create_run(exp, run_name=settings.name or settings.display_name, tags={
        "mlflow.note.content": settings.description or "",
        TAG + "task": settings.task,
        TAG + "primary_metric": config.primary_metric,
        TAG + "training_data": str(settings.data_path),
        TAG + "training_data_sha256": D.sha256_of(D.files_of(train_path, field="automl.training_data")),
        TAG + "status": "Queued",
        **settings.tags,
    })
    return parent.info.run_id


def set_status(workdir: Path, job: str, status: str, error: str | None = None) -> None:
    mlflow = tracking.client(workdir)
    mlflow.set_tag(job, TAG + "status", status)
    if error:
        mlflow.set_tag(job, TAG + "error", error[:500])
    if status in TERMINAL:
        mlflow.set_terminated(job, {"Completed": "FINISHED", "Canceled": "KILLED"}.get(status, "FAILED"))


TERMINAL = ("Completed", "Failed", "Canceled")


def execute_job(config: PipelineConfig, job: str, *, base_dir: Path, workdir: Path, on_event: EventSink,
                inputs=None) -> TrainResult:
    """Run the search of a Queued job and record its trials and best model. Interrupted
    (Ctrl-C, or SIGTERM turned into KeyboardInterrupt), the job is marked Canceled and its
    MLflow run KILLED before the interrupt goes on: nothing is left RUNNING."""
    try:
        return _execute_job(config, job, base_dir=base_dir, workdir=workdir, on_event=on_event, inputs=inputs)
    except KeyboardInterrupt:
        set_status(workdir, job, "Canceled", error="interrupted (Ctrl-C or SIGTERM)")
        on_event({"event": "warning", "message": f"job {job} interrupted: marked Canceled (MLflow run KILLED); "
                  "the stages of earlier runs stay usable"})
        raise


def _execute_job(config: PipelineConfig, job: str, *, base_dir: Path, workdir: Path, on_event: EventSink,
                 inputs=None) -> TrainResult:
    metric = config.primary_metric
    _, frame, val_frame, plan, time_column = inputs or load_inputs(config, base_dir)
    for warning in plan.warnings:
        logger.warning(warning)
        on_event({"event": "warning", "message": warning})
    prepared = _prepare(frame, val_frame, config, time_column)
    mlflow = tracking.client(workdir)
    exp = mlflow.get_run(job).info.experiment_id
    set_status(workdir, job, "Running")
    on_event({"event": "job", "job": job, "status": "Running", "estimators": plan.estimators,
              "time_budget_seconds": plan.time_budget})
    started = time.monotonic()
    best: dict[str, Any] = {"value": None}

    def on_trial(record: dict) -> None:
        value = automl.loss_to_metric(record["validation_loss"], metric)
        if is_better(value, best["value"], metric):
            best["value"] = value
        on_event({"event": "trial", "trial": record["record_id"] + 1,
                  "algorithm": automl.AZURE_NAME.get(record["learner"], record["learner"]),
                  "metric": metric, "value": value, "best": best["value"]})

    try:
        with tempfile.TemporaryDirectory() as tmp:
            outcome = automl.search(
                prepared["X"], prepared["y"], plan=plan, metric=metric, seed=config.local.seed,
                n_jobs=config.local.n_jobs, log_file=Path(tmp) / "flaml.log",
                classes_count=len(prepared["classes"]) if prepared["classes"] is not None else 0,
                X_val=prepared["X_val"], y_val=prepared["y_val"], on_trial=on_trial,
            )
        best_child = _record_trials(mlflow, exp, job, outcome, metric)
        from azml2aks.backends.local.servable import TabularModel

        model = TabularModel(prepared["features"], outcome.model, prepared["columns"], prepared["classes"])
        _save_model(mlflow, best_child, model, prepared, outcome.best_estimator)
    except Exception as e:  # FLAML's own failures carry no type we could act on
        set_status(workdir, job, "Failed", error=str(e))
        raise BackendError(f"local AutoML job {job} failed: {e}",
                           hint="see the log above; try another algorithm list or a larger budget") from e
    mlflow.set_tag(job, tracking.BEST_CHILD_TAG, best_child)
    mlflow.log_metric(job, metric, _child_metric(mlflow, best_child, metric))
    set_status(workdir, job, "Completed")
    logger.info("job %s finished in %.1fs", job, time.monotonic() - started)
    return get_job(workdir, job)


def _prepare(frame, val_frame, config: PipelineConfig, time_column: str | None) -> dict:
    import numpy as np

    from azml2aks.backends.local.servable import build_features

    target = config.automl.target_column_name
    if time_column:
        frame = frame.sort_values(time_column, kind="stable").reset_index(drop=True)
    columns = [c for c in frame.columns if c != target and c != config.automl.weight_column_name]
    X = frame[columns]
    features = build_features(X, mode=config.automl.featurization.mode, time_column=time_column)
    matrix = np.asarray(features.fit_transform(X), dtype=float)
    classes = None
    y = frame[target]
    if config.automl.task == "classification":
        classes, codes = np.unique(y.to_numpy(), return_inverse=True)
        y_out = codes
    else:
        y_out = y.to_numpy(dtype=float)
    X_val = y_val = None
    if val_frame is not None:
        X_val = np.asarray(features.transform(val_frame[columns]), dtype=float)
        yv = val_frame[target].to_numpy()
        if classes is not None:
            unknown = sorted(set(map(str, yv)) - set(map(str, classes)))
            if unknown:
                raise DataError(f"automl.validation_data has classes missing from the training data: {unknown[:5]}")
            lookup = {c: i for i, c in enumerate(classes)}
            y_val = np.array([lookup[v] for v in yv])
        else:
            y_val = yv.astype(float)
    return {"X": matrix, "y": y_out, "features": features, "columns": columns, "classes": classes,
            "X_val": X_val, "y_val": y_val, "frame": X}


def _record_trials(mlflow, exp: str, job: str, outcome: automl.SearchOutcome, metric: str) -> str:
    best_child = None
    for record in outcome.trials:
        value = automl.loss_to_metric(record["validation_loss"], metric)
        learner = record["learner"]
        child = mlflow.create_run(exp, run_name=f"{job[:8]}_{record['record_id']}", tags={
            "mlflow.parentRunId": job,
            TAG + "algorithm": automl.AZURE_NAME.get(learner, learner),
            TAG + "flaml_estimator": learner,
        })
        child_id = child.info.run_id
        from mlflow.entities import Metric, Param

        params = [Param(str(k)[:250], str(v)[:500]) for k, v in (record.get("config") or {}).items()]
        now = int(time.time() * 1000)
        mlflow.log_batch(child_id, metrics=[Metric(metric, value, now, 0),
                                            Metric("trial_time_seconds", float(record["trial_time"]), now, 0)],
                         params=params)
        mlflow.set_terminated(child_id, "FINISHED")
        if record["record_id"] == outcome.best_record_id:
            best_child = child_id
    if best_child is None:
        raise BackendError(f"local AutoML job {job} recorded no trial",
                           hint="raise local.time_budget_seconds or limits.timeout_minutes")
    return best_child


def _save_model(mlflow, child_id: str, model, prepared: dict, best_estimator: str) -> None:
    import cloudpickle
    import mlflow as mlflow_module
    from mlflow.models import infer_signature

    from azml2aks.backends.local import servable

    cloudpickle.register_pickle_by_value(servable)
    # mlflow warns on every cloudpickle save; the choice is deliberate (skops rejects tree models)
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)
    example = prepared["frame"].head(5)
    signature = infer_signature(example, model.predict(example))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mlflow-model"
        mlflow_module.sklearn.save_model(
            model, str(path), serialization_format="cloudpickle", signature=signature,
            input_example=example, pip_requirements=_requirements(best_estimator),
        )
        mlflow.log_artifacts(child_id, str(path), tracking.MODEL_ARTIFACT_PATH)
    mlflow.set_tag(child_id, TAG + "has_model", "true")


def _requirements(best_estimator: str) -> list[str]:
    from importlib.metadata import version

    packages = ["mlflow", "scikit-learn", "cloudpickle", "numpy", "pandas", "scipy"]
    packages += {"lgbm": ["lightgbm"], "xgboost": ["xgboost"], "xgb_limitdepth": ["xgboost"]}.get(best_estimator, [])
    return [f"{p}=={version(p)}" for p in packages]


def _child_metric(mlflow, child_id: str, metric: str) -> float:
    return float(mlflow.get_run(child_id).data.metrics[metric])


def get_job(workdir: Path, job_name: str) -> TrainResult:
    """The local job ``job_name`` (an MLflow run id), read without MLflow when it can be
    (:mod:`~azml2aks.backends.local.store_sql`)."""
    run = store_sql.read_run(workdir, job_name)
    if run is None:
        run = _run_via_mlflow(workdir, job_name)
    if not run:
        raise _no_job(job_name)
    tags = run["tags"]
    if TAG + "task" not in tags:
        raise NotFoundError(f"run {job_name} is not an AutoML job of azml2aks")
    metric = tags[TAG + "primary_metric"]
    children = list_child_runs(workdir, job_name)
    best_id = tags.get(tracking.BEST_CHILD_TAG)
    best = next((c for c in children if c.run_id == best_id), None)
    end = run["end_time"]
    return TrainResult(
        job_name=job_name, backend="local", status=tags.get(TAG + "status", "Unknown"), task=tags[TAG + "task"],
        primary_metric=metric, experiment_name=run["experiment_name"],
        best_child_run_id=best_id, best_metric_value=best.metric_value if best else None,
        best_algorithm=best.algorithm if best else None, trials=len(children),
        training_data=tags.get(TAG + "training_data"), training_data_sha256=tags.get(TAG + "training_data_sha256"),
        duration_seconds=(end - run["start_time"]) / 1000 if end else None, error=tags.get(TAG + "error"),
    )


def list_child_runs(workdir: Path, job_name: str) -> list[ChildRun]:
    run = store_sql.read_run(workdir, job_name)
    children = store_sql.read_children(workdir, job_name) if run else None
    if run is None or children is None:
        run, children = _run_via_mlflow(workdir, job_name), _children_via_mlflow(workdir, job_name)
    if not run:
        raise _no_job(job_name)
    metric = run["tags"].get(TAG + "primary_metric")
    return [
        ChildRun(
            run_id=c["run_id"], algorithm=c["tags"].get(TAG + "algorithm", "?"),
            metric_value=c["metrics"].get(metric), status="Completed" if c["status"] == "FINISHED" else c["status"],
            params=c["params"], has_model=c["tags"].get(TAG + "has_model") == "true",
            duration_seconds=c["metrics"].get("trial_time_seconds"),
        )
        for c in sorted(children, key=_trial_order)
    ]


def _trial_order(run: dict[str, Any]) -> tuple[int, int]:
    """Trials in the order they ran: child runs are named ``<job>_<trial number>``."""
    suffix = (run.get("run_name") or "").rpartition("_")[2]
    return (int(suffix) if suffix.isdigit() else 1 << 30, run.get("start_time") or 0)


def _run_via_mlflow(workdir: Path, run_id: str) -> dict[str, Any]:
    mlflow = tracking.client(workdir)
    run = _get_run(mlflow, run_id)
    return {"status": run.info.status, "start_time": run.info.start_time, "end_time": run.info.end_time,
            "experiment_name": mlflow.get_experiment(run.info.experiment_id).name, "tags": dict(run.data.tags)}


def _children_via_mlflow(workdir: Path, job_name: str) -> list[dict[str, Any]]:
    mlflow = tracking.client(workdir)
    run = _get_run(mlflow, job_name)
    children = mlflow.search_runs([run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{job_name}'",
                                  max_results=5000)
    return [{"run_id": c.info.run_id, "status": c.info.status, "run_name": c.info.run_name,
             "start_time": c.info.start_time, "tags": dict(c.data.tags), "params": dict(c.data.params),
             "metrics": dict(c.data.metrics)} for c in children]


def _no_job(run_id: str) -> NotFoundError:
    return NotFoundError(f"job {run_id!r} does not exist in the local workspace",
                         hint="omit --job to use the job of the latest train (job names are printed by "
                         "`azml2aks train` and kept in the work dir's runs/*/journal.json), or train with `azml2aks train`")


def _get_run(mlflow, run_id: str):
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.get_run(run_id)
    except MlflowException:
        raise _no_job(run_id) from None
