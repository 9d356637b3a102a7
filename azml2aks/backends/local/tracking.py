"""The local MLflow store: one sqlite file and one artifact folder under the work dir.

Everything MLflow-specific that the local jobs and registry share lives here: the client,
the experiment, and the conversion of runs into azml2aks results.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

BEST_CHILD_TAG = "automl_best_child_run_id"  # the tag Azure AutoML puts on the parent job
MODEL_ARTIFACT_PATH = "outputs/mlflow-model"  # where Azure keeps a child run's MLflow model


def client(workdir: Path):
    """An MlflowClient on ``<workdir>/mlflow.db`` (created on first use)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_TRACKING_SILENT", "true")
    for noisy in ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from mlflow.tracking import MlflowClient

    workdir.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{(workdir / 'mlflow.db').resolve()}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(mlflow_client, workdir: Path, name: str) -> str:
    """The id of experiment ``name``, created with its artifacts under the work dir."""
    found = mlflow_client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = (workdir / "artifacts" / name).resolve().as_uri()
    return mlflow_client.create_experiment(name, artifact_location=location)


def artifact_dir(run) -> Path:
    """The local folder of a run's artifacts."""
    return artifact_path(run.info.artifact_uri)


def artifact_path(uri: str) -> Path:
    """The local folder of an artifact URI (``file:///...`` or a plain path)."""
    return Path(uri.removeprefix("file://")) if uri.startswith("file://") else Path(uri)
