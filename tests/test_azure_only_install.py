"""An `[azure]`-only install (no `[local]` extra) can package and deploy: those paths import
none of the local backend's dependencies. Checked in a fresh interpreter in which importing
any of them fails, as it would where they are not installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import REPO
from tests.scoring.automl_cases import pipeline_yaml, write_case

LOCAL_ONLY = ("flaml", "mlflow", "sklearn", "lightgbm", "xgboost", "azureml_inference_server_http", "gunicorn")

BLOCKER = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {LOCAL_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (an [azure]-only install)")
        return None
sys.meta_path.insert(0, Block())
"""


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_the_blocker_really_blocks_a_local_only_package():
    done = run("import mlflow")
    assert done.returncode != 0 and "an [azure]-only install" in done.stderr


def test_packaging_a_model_folder_without_the_contract_test_needs_no_local_package(tmp_path):
    model = write_case(tmp_path / "model", "automl-1.59")
    pipeline = pipeline_yaml(tmp_path / "p", environment={"resolve": "never"})
    done = run(f"""
        from pathlib import Path
        from azml2aks.config.loader import load_config
        from azml2aks.packaging.writer import package_model
        from azml2aks.results import ModelVersion
        config = load_config({str(pipeline)!r})
        mv = ModelVersion(name="churn", version="1", run_id=None, job_name=None, metric_name=None,
                          metric_value=None, source={str(model)!r})
        result = package_model(config, mv, Path({str(model)!r}), Path({str(tmp_path / "build")!r}),
                               run_contract=False)
        print(sorted(result.files))
    """)
    assert done.returncode == 0, done.stderr
    assert "score.py" in done.stdout and "conda.yaml" in done.stdout


def test_the_azure_backend_and_the_rollout_driver_import_no_local_package():
    done = run("""
        import importlib, pkgutil
        import azml2aks.backends.azure as azure
        for info in pkgutil.iter_modules(azure.__path__):
            importlib.import_module(f"azml2aks.backends.azure.{info.name}")
        import azml2aks.rollout.driver, azml2aks.probe, azml2aks.pipeline, azml2aks.cli
        print("ok")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
