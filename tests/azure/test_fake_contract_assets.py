"""Models, environments, code and data assets through azure-ai-ml against the fake."""
from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError

from .helpers import finished_job_with_model

MODEL_PATH = "azureml://jobs/{}/outputs/artifacts/outputs/mlflow-model/"


def register_model(ml, child: str, **tags):
    from azure.ai.ml.entities import Model

    return ml.models.create_or_update(Model(name="fraud-model", type="mlflow_model",
                                            path=MODEL_PATH.format(child), tags=tags))


def test_first_model_registration_is_version_1_after_a_404_on_the_container(ml_client,
                                                                           fake_azure):
    child = finished_job_with_model(ml_client, fake_azure)
    model = register_model(ml_client, child, auc="0.91")
    assert (model.name, model.version) == ("fraud-model", "1")
    assert model.tags == {"auc": "0.91"}
    assert [c.status for c in fake_azure.calls("ModelContainers_Get")] == [404]
    assert "api-version=2023-08-01-preview" in fake_azure.calls("ModelVersions_CreateOrUpdate")[0].url


def test_second_model_registration_is_version_2(ml_client, fake_azure):
    register_model(ml_client, finished_job_with_model(ml_client, fake_azure, "job1"))
    model = register_model(ml_client, "job1_0")
    assert model.version == "2"
    listed = fake_azure.calls("ModelVersions_List")[-1]
    assert "%24orderBy=createdtime+desc" in listed.url or "createdtime" in listed.url
    assert ml_client.models.get("fraud-model", version="2").path.endswith(
        "/datastores/workspaceartifactstore/paths/ExperimentRun/dcid.job1_0/outputs/mlflow-model/")


def test_registered_model_answers_with_flavors(ml_client, fake_azure):
    register_model(ml_client, finished_job_with_model(ml_client, fake_azure))
    assert fake_azure.assets.get("models", "fraud-model", "1")["properties"]["flavors"] == {}


def test_unknown_model_version_is_a_404(ml_client):
    with pytest.raises(ResourceNotFoundError):
        ml_client.models.get("fraud-model", version="9")


def test_environment_registration_inlines_the_conda_file(ml_client, fake_azure, tmp_path):
    from azure.ai.ml.entities import Environment

    conda = tmp_path / "conda.yaml"
    conda.write_text("name: score\ndependencies:\n- python=3.10\n- pip:\n  - mlflow\n")
    env = ml_client.environments.create_or_update(Environment(
        name="fraud-env", version="3", conda_file=str(conda),
        image="mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference"))
    assert env.version == "3"
    stored = fake_azure.assets.get("environments", "fraud-env", "3")["properties"]
    assert "mlflow" in stored["condaFile"]
    again = ml_client.environments.get("fraud-env", version="3")
    assert again.conda_file["dependencies"][0] == "python=3.10"


def test_environment_without_image_or_build_is_rejected(fake_azure):
    import requests

    from .helpers import error_of, ws_url

    answer = requests.put(ws_url(fake_azure) + "/environments/e/versions/1",
                          json={"properties": {"condaFile": "name: x"}})
    assert error_of(answer)[:2] == (400, "BadArgument")


def test_code_asset_is_uploaded_then_registered(ml_client, fake_azure, tmp_path):
    from azure.ai.ml.entities._assets import Code

    (tmp_path / "score.py").write_text("def run(x):\n    return x\n")
    code = ml_client._code.create_or_update(Code(name="fraud-code", version="1",
                                                 path=str(tmp_path)))
    assert code.version == "1"
    files = fake_azure.blob.files()
    assert any(path.endswith("score.py") for path in files)
    code_uri = fake_azure.assets.get("codes", "fraud-code", "1")["properties"]["codeUri"]
    assert code_uri.startswith("https://fakemlstorage.blob.core.windows.net/")


def test_data_asset_is_registered_and_read_back(ml_client, fake_azure):
    from azure.ai.ml.entities import Data

    path = "azureml://datastores/workspaceblobstore/paths/fraud/train/"
    data = ml_client.data.create_or_update(Data(name="fraud-train", version="1",
                                                type="mltable", path=path))
    assert data.version == "1"
    assert ml_client.data.get("fraud-train", version="1").path.rstrip("/") == path.rstrip("/")
