"""deployment.model and deployment.code_configuration as overrides: the named registered model
is the one packaged, and the user's own scoring script is copied into the package and proven
by the contract test (served by the inference server on 127.0.0.1)."""

from __future__ import annotations

import shutil

import pytest

from azml2aks.errors import BackendError, UnsupportedError
from azml2aks.pipeline import load_pipeline

USER_SCORE = '''
import json, os
import mlflow.pyfunc
import pandas as pd

model = None

def init():
    global model
    model = mlflow.pyfunc.load_model(os.path.join(os.environ["AZUREML_MODEL_DIR"]))

def run(raw_data):
    frame = pd.DataFrame(json.loads(raw_data)["Inputs"]["data"])  # the AutoML request format
    return {"mine": [str(p) for p in model.predict(frame)]}
'''


@pytest.fixture
def wine_copy(trained_wine, tmp_path):
    """The trained wine pipeline and its work dir (registry included) copied; ``with_deployment``
    adds lines under its ``deployment:`` section and loads it."""
    pipeline, _, model = trained_wine
    folder = tmp_path / "wine"
    shutil.copytree(pipeline.parent, folder, ignore=shutil.ignore_patterns("build", "endpoints"))

    def with_deployment(*lines: str):
        path = folder / "pipeline.yaml"
        path.write_text(pipeline.read_text().replace("deployment:\n", "deployment:\n" + "".join(
            f"  {line}\n" for line in lines), 1))
        return load_pipeline(path)

    return with_deployment, model, folder


def test_a_registered_model_named_in_the_deployment_is_the_one_resolved(wine_copy):
    with_deployment, model, _ = wine_copy
    assert with_deployment(f"model: azureml:{model.name}:{model.version}").resolve_model().ref == model.ref
    assert with_deployment(f"model: azureml:{model.name}@latest").resolve_model().name == model.name


def test_an_inline_model_folder_in_the_deployment_is_the_folder_packaged(wine_copy):
    with_deployment, model, _ = wine_copy
    p = with_deployment("model:", f"  path: {model.source}")
    result = p.package(contract=False)
    assert result.model.startswith(f"{p.config.model_name}:folder-")
    with pytest.raises(UnsupportedError, match="inline model folder"):
        p.resolve_model()


@pytest.mark.e2e
def test_the_users_scoring_script_is_packaged_and_proven_by_the_contract_test(wine_copy):
    with_deployment, model, folder = wine_copy
    (folder / "onlinescoring").mkdir()
    (folder / "onlinescoring" / "serve.py").write_text(USER_SCORE)
    p = with_deployment("code_configuration:", "  code: onlinescoring", "  scoring_script: serve.py")
    result = p.package(model.ref)
    packaged = p.build_dir / f"{model.name}-{model.version}" / "serve.py"
    assert packaged.read_text() == USER_SCORE
    assert result.contract["user_code"] and result.contract["entry_script"] == "serve.py"


@pytest.mark.e2e
def test_a_users_script_that_cannot_answer_the_sample_fails_the_package(wine_copy):
    with_deployment, model, folder = wine_copy
    (folder / "code").mkdir()
    (folder / "code" / "score.py").write_text("def init():\n    pass\n\ndef run(raw):\n    raise ValueError('no')\n")
    p = with_deployment("code_configuration:", "  code: code", "  scoring_script: score.py")
    with pytest.raises(BackendError, match="answered sample-request.json with HTTP"):
        p.package(model.ref)
