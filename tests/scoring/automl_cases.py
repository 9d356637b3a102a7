"""MLflow model folders shaped like two real Azure AutoML children (issue 13).

Written from the facts published AutoML runs show; everything else is the least an MLflow
folder needs. The model.pkl is a small stand-in (a fitted scikit-learn DummyClassifier), so
these folders are for packaging with ``--no-contract``, not for serving.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import yaml

SIGNATURE_INPUTS = [
    {"name": "age", "type": "long"},
    {"name": "income", "type": "double"},
    {"name": "segment", "type": "string"},
]

CASES = {
    # AutoML SDK 1.48: azureml-defaults==1.48.0 requires azureml-inference-server-http~=0.7.2
    "automl-1.48": {
        "python_version": "3.8.15",
        "mlflow_version": "1.30.0",
        "sklearn_version": "0.22.1",
        "conda": {
            "name": "project_environment",
            "channels": ["anaconda", "conda-forge"],
            "dependencies": [
                "python=3.8.15",
                "pip=22.1.2",
                "numpy=1.21.6",
                "pandas=1.1.5",
                "scikit-learn=0.22.1",
                {"pip": ["azureml-train-automl-runtime==1.48.0.post2", "azureml-defaults==1.48.0"]},
            ],
        },
    },
    # AutoML SDK 1.59: azureml-defaults==1.59.0 requires azureml-inference-server-http~=1.3.
    # Its MLmodel's mlflow_version is not among the published facts; 2.16.2 stands in.
    "automl-1.59": {
        "python_version": "3.9.21",
        "mlflow_version": "2.16.2",
        "sklearn_version": "1.5.1",
        "conda": {
            "name": "project_environment",
            "channels": ["conda-forge"],
            "dependencies": [
                "python=3.9.21",
                "pip",
                {"pip": ["azureml-defaults==1.59.0", "pandas==1.5.3", "scikit-learn==1.5.1",
                         "xgboost<=1.5.2", "prophet==1.1.4"]},
            ],
        },
    },
}


def write_case(folder: Path, case: str) -> Path:
    """Write the MLflow folder of ``case`` (a key of CASES) to ``folder``; return it."""
    facts = CASES[case]
    folder.mkdir(parents=True, exist_ok=True)
    mlmodel = {
        "artifact_path": "outputs/mlflow-model",
        "flavors": {
            "python_function": {
                "env": "conda.yaml",
                "loader_module": "mlflow.sklearn",
                "model_path": "model.pkl",
                "predict_fn": "predict",
                "python_version": facts["python_version"],
            },
            "sklearn": {
                "code": None,
                "pickled_model": "model.pkl",
                "serialization_format": "pickle",
                "sklearn_version": facts["sklearn_version"],
            },
        },
        "mlflow_version": facts["mlflow_version"],
        "model_uuid": "0" * 32,
        "run_id": f"AutoML_{case.replace('.', '_')}_3",
        "signature": {
            "inputs": json.dumps(SIGNATURE_INPUTS),
            "outputs": json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]),
        },
        "utc_time_created": "2024-01-01 00:00:00.000000",
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel, sort_keys=False))
    (folder / "conda.yaml").write_text(yaml.safe_dump(facts["conda"], sort_keys=False))
    (folder / "model.pkl").write_bytes(pickle.dumps(_stand_in_model()))
    return folder


def _stand_in_model():
    import numpy as np
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="most_frequent").fit(np.zeros((4, 3)), [0, 1, 1, 1])


def pipeline_yaml(folder: Path, *, environment: dict | None = None) -> Path:
    """A pipeline.yaml for the cases (the package stage reads only its task and environment)."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "automl": {"task": "classification", "target_column_name": "churned", "training_data": "data.csv"},
        "model": {"name": "churn"},
        "environment": environment or {},
    }
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
