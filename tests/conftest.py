"""Suite-wide fixtures: every test runs with an isolated HOME, no AZURE_* variables, and a uv
that cannot reach a package index."""
from __future__ import annotations

import os
import re

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith(("AZURE_", "AZML2AKS_", "BUILD_", "GITHUB_")) or name == "TF_BUILD":
            monkeypatch.delenv(name, raising=False)  # a test never writes to the real CI's outputs
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # the package stage's resolution (uv) never reaches a package index from the tests: with no
    # network and an empty cache, environment.resolve: auto skips it; tests that resolve point
    # uv at a local folder of wheels (tests/scoring/wheels.py)
    for name in list(os.environ):
        if name.startswith("UV_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_CACHE_DIR", str(home / ".uv-cache"))
    yield


REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def copy_example(destination, name: str = "wine-classification", *, max_trials: int = 6, seed: int | None = None):
    """Copy examples/<name> to ``destination`` with a small trial budget; return its pipeline.yaml."""
    import shutil

    target = destination / name
    shutil.copytree(REPO / "examples" / name, target, ignore=shutil.ignore_patterns(".azml2aks", "build"))
    pipeline = target / "pipeline.yaml"
    text = pipeline.read_text().replace("${AZML2AKS_MAX_TRIALS:-12}", str(max_trials))
    if seed is not None:
        text = text.replace("${AZML2AKS_SEED:-42}", str(seed)).replace("${AZML2AKS_SEED:-7}", str(seed))
    # every other demo knob takes its default, whatever the developer's environment says
    text = re.sub(r"\$\{AZML2AKS_[A-Z_]+:-([^}]*)\}", lambda m: m.group(1), text)
    pipeline.write_text(text)
    return pipeline


@pytest.fixture(scope="session")
def trained_wine(tmp_path_factory):
    """A wine pipeline trained and registered once per session: (pipeline.yaml path, job, model)."""
    from azml2aks.pipeline import load_pipeline

    pipeline = copy_example(tmp_path_factory.mktemp("trained"))
    p = load_pipeline(pipeline)
    job = p.train()
    model = p.register(job)
    return pipeline, job, model
