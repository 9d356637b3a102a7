"""Fixtures for the package stage: small MLflow models saved once per session, a pipeline
config, and the rendered score.py imported in-process (no server) for fast request tests."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

from azml2aks.config import PipelineConfig
from azml2aks.packaging import render as scoring
from azml2aks.packaging.writer import read_model_info
from azml2aks.results import ModelVersion


def _pip_requirements():
    import mlflow
    import sklearn

    return [f"scikit-learn=={sklearn.__version__}", "pandas", "cloudpickle", f"mlflow=={mlflow.__version__}"]


def _save(model, X, path):
    import mlflow

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(
            model, str(path), serialization_format="cloudpickle",
            signature=mlflow.models.infer_signature(X, model.predict(X)),
            input_example=X.head(3), pip_requirements=_pip_requirements(),
        )
    return path


@pytest.fixture(scope="session")
def wine_frame():
    from sklearn.datasets import load_wine

    X, y = load_wine(as_frame=True, return_X_y=True)
    X = X.copy()
    X["color"] = np.where(X["alcohol"] > 13, "red", "white")
    X.loc[5, "ash"] = np.nan  # makes "ash" optional in the signature
    return X, y.map(lambda i: f"class_{i}")


@pytest.fixture(scope="session")
def wine_model_dir(tmp_path_factory, wine_frame):
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, y = wine_frame
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["color"]), remainder=SimpleImputer()),
        RandomForestClassifier(n_estimators=10, random_state=0),
    ).fit(X, y)
    return _save(model, X, tmp_path_factory.mktemp("models") / "wine")


@pytest.fixture(scope="session")
def diabetes_model_dir(tmp_path_factory):
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(as_frame=True, return_X_y=True)
    return _save(Ridge().fit(X, y), X, tmp_path_factory.mktemp("models") / "diabetes")


@pytest.fixture(scope="session")
def forecast_model_dir(tmp_path_factory):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    days = pd.date_range("2024-01-01", periods=60, freq="D")
    X = pd.DataFrame({
        "date": np.tile(days, 2),
        "store": np.repeat(["north", "south"], 60),
        "promo": np.tile(np.arange(60) % 3, 2).astype(float),
    })
    y = X["promo"] * 2 + (X["store"] == "north") * 5.0
    model = make_pipeline(
        make_column_transformer(("drop", ["date"]), (OneHotEncoder(), ["store"]), remainder="passthrough"),
        Ridge(),
    ).fit(X, y)
    return _save(model, X, tmp_path_factory.mktemp("models") / "forecast")


def strip_model(source, target, *, signature=False, example=False, env=False):
    """A copy of a saved model without its signature / input example / environment files."""
    shutil.copytree(source, target)
    mlmodel = yaml.safe_load((target / "MLmodel").read_text())
    if signature:
        mlmodel.pop("signature", None)
    if example:
        mlmodel.pop("saved_input_example_info", None)
        (target / "input_example.json").unlink()
    if env:
        for name in ("conda.yaml", "requirements.txt", "python_env.yaml"):
            (target / name).unlink()
    (target / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    return target


def make_config(task="classification", **sections):
    automl = {"task": task, "target_column_name": "y", "training_data": "data.csv"}
    if task == "forecasting":
        automl["forecasting"] = {"time_column_name": "date", "forecast_horizon": 7,
                                 "time_series_id_column_names": ["store"], "frequency": "D"}
    automl.update(sections.pop("automl", {}))
    return PipelineConfig.model_validate({"automl": automl, **sections})


def model_version(name="wine", version="1"):
    return ModelVersion(name=name, version=version, run_id=None, job_name=None, metric_name=None,
                        metric_value=None, source="")


def load_score_module(model_dir, tmp_path, monkeypatch, *, task="classification", max_body_bytes=1 << 20,
                      **forecasting):
    """Render score.py for ``model_dir``, import it and run init() in this process."""
    info = read_model_info(model_dir)
    text = scoring.render_score_py(
        task=task, columns=info["columns"], model_ref="m:1", loader=info["loader"],
        sample_records=scoring.sample_records(info["columns"], info["example"],
                                              n=min(3, forecasting.get("forecast_horizon") or 3)),
        max_body_bytes=max_body_bytes, **forecasting,
    )
    path = tmp_path / f"score_{task}.py"
    path.write_text(text)
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir))
    name = f"generated_score_{task}_{id(path)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module.init()
    return module


@pytest.fixture(scope="module")
def wine_score(wine_model_dir, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    try:
        yield load_score_module(wine_model_dir, tmp_path_factory.mktemp("score"), mp)
    finally:
        mp.undo()
