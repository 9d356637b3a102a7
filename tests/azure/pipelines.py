"""Builders for the Azure backend tests: an example pipeline pointed at the fake workspace, a
Pipeline whose AzureBackend runs on the fake's clock, and a real MLflow model for the fake's
child runs to hold (so the package stage's contract test runs on it)."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import copy_example


def azure_example(tmp_path: Path, fake, name: str = "wine-classification", **replace: str) -> Path:
    """examples/<name> copied, its workspace section pointing at the fake; ``replace`` edits the text."""
    pipeline = copy_example(tmp_path, name)
    c = fake.config
    text = pipeline.read_text()
    if "${AZURE_SUBSCRIPTION_ID:-}" not in text:
        text = ("workspace:\n  subscription_id: ${AZURE_SUBSCRIPTION_ID:-}\n  resource_group: ${AZURE_RESOURCE_GROUP:-}\n"
                "  name: ${AZURE_ML_WORKSPACE:-}\n" + text)
    text = (text.replace("${AZURE_SUBSCRIPTION_ID:-}", c.subscription_id)
            .replace("${AZURE_RESOURCE_GROUP:-}", c.resource_group).replace("${AZURE_ML_WORKSPACE:-}", c.workspace))
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    pipeline.write_text(text)
    return pipeline


def azure_pipeline(pipeline: Path, fake, credential, *, events: list | None = None, workdir: Path | None = None,
                   sleep=None):
    """A Pipeline on an AzureBackend with the fake's credential, sleep and clock."""
    from azml2aks.backends.azure import AzureBackend
    from azml2aks.config.loader import load_config
    from azml2aks.pipeline import Pipeline

    config = load_config(pipeline)
    wd = workdir or pipeline.parent / ".azml2aks"
    backend = AzureBackend(config, base_dir=pipeline.parent, workdir=wd, credential=credential,
                           sleep=sleep or fake.clock.sleep, clock=fake.clock.monotonic)
    sink = events.append if events is not None else (lambda e: None)
    return Pipeline(config, path=pipeline, backend=backend, workdir=wd, on_event=sink)


def instant_jobs(fake) -> None:
    """Jobs jump to their outcome on the first read (no follow-up polls, no sleeping)."""
    c = fake.config
    c.job_queued_polls = c.job_running_polls = 0
    c.job_phase_polls = {phase: 0 for phase in ("Starting", "Preparing", "Queued", "Running", "Finalizing")}


def save_model(destination: Path, data: Path, target: str, *, task: str = "classification",
               time_column: str | None = None) -> Path:
    """A real MLflow model (scikit-learn) trained on ``data``, saved like AutoML saves one."""
    import logging

    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    frame = pd.read_csv(data)
    if time_column:
        frame[time_column] = pd.to_datetime(frame[time_column])
    X, y = frame.drop(columns=[target]), frame[target]
    text = [c for c in X.columns if c != time_column and not pd.api.types.is_numeric_dtype(X[c])]
    numbers = [c for c in X.columns if c not in text and c != time_column]
    parts = [("numbers", StandardScaler(), numbers)]
    if text:
        parts.append(("text", OneHotEncoder(handle_unknown="ignore"), text))
    if time_column:
        # a lambda, so cloudpickle saves it by value (the inference server cannot import tests/)
        parts.append(("weekday", FunctionTransformer(lambda f: f.apply(lambda c: c.dt.weekday).to_numpy()),
                      [time_column]))
    estimator = LogisticRegression(max_iter=500) if task == "classification" else LinearRegression()
    model = make_pipeline(ColumnTransformer(parts), estimator).fit(X, y)
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)
    path = destination / "mlflow-model"
    mlflow.sklearn.save_model(model, str(path), serialization_format="cloudpickle",
                              signature=infer_signature(X.head(5), model.predict(X.head(5))),
                              input_example=X.head(3), pip_requirements=["mlflow", "scikit-learn", "pandas"])
    return path

