"""Fixtures for local end-to-end tests: a tiny sklearn model, a hand-written score.py whose
behaviour is set per colour by environment variables, hold-out rows, and endpoints that are
always stopped (by pid) at the end of a test.

Fault knobs read by the score.py (set through ``deployment.environment_variables``):
``FAULT_INIT`` (init raises), ``FAULT_FLIP`` (wrong predictions), ``FAULT_DELAY_MS`` (slow),
``FAULT_INIT_SLEEP_S`` (init takes that long: a colour stays starting), ``FAULT_ALLOCATE_MB``
(init holds that much memory).
"""

from __future__ import annotations

import pickle

import pytest

SCORE_PY = '''
import json, os, pickle, time

model = None

ballast = None

def init():
    global model, ballast
    time.sleep(float(os.environ.get("FAULT_INIT_SLEEP_S", "0")))
    if os.environ.get("FAULT_ALLOCATE_MB"):
        ballast = bytearray(int(os.environ["FAULT_ALLOCATE_MB"]) * 1024 * 1024)
        ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: resident, not just reserved
    if os.environ.get("FAULT_INIT"):
        raise RuntimeError("FAULT_INIT: the model file is corrupt")
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)

def run(raw_data):
    delay = float(os.environ.get("FAULT_DELAY_MS", "0"))
    if delay:
        time.sleep(delay / 1000)
    data = json.loads(raw_data)["input_data"]
    predictions = model.predict(data["data"])
    if os.environ.get("FAULT_FLIP"):
        predictions = (predictions + 1) % 3
    return predictions.tolist()
'''


@pytest.fixture(scope="session")
def iris_files(tmp_path_factory):
    """(package_dir, model_dir, csv) for a logistic regression on iris."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("iris")
    frame = load_iris(as_frame=True).frame
    features = frame.drop(columns=["target"])
    model = LogisticRegression(max_iter=500).fit(features.to_numpy(), frame["target"])
    (root / "pkg" / "mlflow-model").mkdir(parents=True)  # where the package stage puts the model
    (root / "pkg" / "mlflow-model" / "model.pkl").write_bytes(pickle.dumps(model))
    (root / "pkg" / "score.py").write_text(SCORE_PY)
    frame.to_csv(root / "iris.csv", index=False)
    return root / "pkg", root / "pkg" / "mlflow-model", root / "iris.csv"


def make_config(tmp_path, csv, *, endpoint="iris-ep", env=None, memory_limit=None, **rollout):
    from azml2aks.config import PipelineConfig

    settings = {"bake_seconds": 0, "smoke_requests": 3, "shadow_requests": 12, "probe_requests": 12,
                "probe_seconds": 20, "gates": {"min_samples": 10, "max_p99_ms": 2000}, **rollout}
    return PipelineConfig.model_validate({
        "automl": {"task": "classification", "target_column_name": "target", "training_data": str(csv)},
        "endpoint": {"name": endpoint},
        "deployment": {"environment_variables": env or {},
                       **({"resources": {"limits": {"memory": memory_limit}}} if memory_limit else {})},
        "rollout": settings,
        "local": {"workdir": str(tmp_path / "work")},
    })


@pytest.fixture
def endpoints(tmp_path):
    """LocalEndpoints under tmp_path; every endpoint it made is stopped at the end."""
    from azml2aks.backends.local.endpoints import LocalEndpoints

    eps = LocalEndpoints(tmp_path / "work", startup_timeout=60)
    yield eps
    for name in eps.list_endpoints():
        eps.stop_endpoint(name)


@pytest.fixture
def payloads(iris_files):
    from azml2aks.rollout.driver import load_holdout

    _, _, csv = iris_files
    return load_holdout(make_config(csv.parent, csv), csv.parent)
