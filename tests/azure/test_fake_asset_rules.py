"""Asset versions are immutable, and a model registered from a job's outputs must point at
a run that has that artifact; the registered model can then be downloaded."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from .helpers import finished_job_with_model

IMAGE = "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference"


def environment(tmp_path, pins: str, version: str | None = None):
    from azure.ai.ml.entities import Environment

    conda = tmp_path / f"conda-{pins}.yaml"
    conda.write_text(f"name: score\ndependencies:\n- python=3.10\n- pip:\n  - {pins}\n")
    return Environment(name="fraud-env", version=version, image=IMAGE, conda_file=str(conda))


def test_changing_an_existing_environment_version_is_a_409(ml_client, tmp_path):
    ml_client.environments.create_or_update(environment(tmp_path, "mlflow==2.16.0", "1"))
    with pytest.raises(ResourceExistsError) as info:
        ml_client.environments.create_or_update(environment(tmp_path, "mlflow==3.1.0", "1"))
    assert info.value.status_code == 409
    assert "immutable" in str(info.value)
    assert "2.16.0" in ml_client.environments.get("fraud-env", version="1").conda_file[
        "dependencies"][1]["pip"][0]


def test_create_without_a_version_moves_to_the_next_version_on_that_409(ml_client, fake_azure,
                                                                          tmp_path):
    first = ml_client.environments.create_or_update(environment(tmp_path, "mlflow==2.16.0"))
    second = ml_client.environments.create_or_update(environment(tmp_path, "mlflow==3.1.0"))
    assert (first.version, second.version) == ("1", "2")
    puts = fake_azure.calls("EnvironmentVersions_CreateOrUpdate")
    # the SDK re-PUTs the latest version, takes the 409, then PUTs the next one
    assert [(c.url.split("/versions/")[1].split("?")[0], c.status) for c in puts] == [
        ("1", 201), ("1", 409), ("2", 201)]


def test_create_without_a_version_and_the_same_definition_keeps_the_version(ml_client,
                                                                           tmp_path):
    ml_client.environments.create_or_update(environment(tmp_path, "mlflow==2.16.0"))
    again = ml_client.environments.create_or_update(environment(tmp_path, "mlflow==2.16.0"))
    assert again.version == "1"


def register(ml, uri: str):
    from azure.ai.ml.entities import Model

    return ml.models.create_or_update(Model(name="fraud-model", type="mlflow_model", path=uri))


@pytest.mark.parametrize("form", [
    "azureml://jobs/{}/outputs/artifacts/outputs/mlflow-model/",          # official notebooks
    "azureml://jobs/{}/outputs/artifacts/paths/outputs/mlflow-model/",    # the SDK's constant
])
def test_model_from_the_best_child_registers_in_both_path_forms(ml_client, fake_azure, form):
    child = finished_job_with_model(ml_client, fake_azure)
    model = register(ml_client, form.format(child))
    assert model.version == "1"
    stored = fake_azure.assets.get("models", "fraud-model", "1")["properties"]
    assert stored["jobName"] == child
    assert stored["modelUri"].endswith(
        f"/datastores/workspaceartifactstore/paths/ExperimentRun/dcid.{child}/outputs/mlflow-model/")


def test_model_from_the_parent_job_is_refused(ml_client, fake_azure):
    finished_job_with_model(ml_client, fake_azure, "job1")
    with pytest.raises(HttpResponseError) as info:
        register(ml_client, "azureml://jobs/job1/outputs/artifacts/outputs/mlflow-model/")
    assert info.value.status_code == 400
    assert "best child run" in str(info.value)


def test_model_from_a_failed_trial_or_an_unknown_run_is_refused(ml_client, fake_azure):
    finished_job_with_model(ml_client, fake_azure, "job1")
    failed = next(c["run_id"] for c in fake_azure.jobs.records["job1"].children
                  if c.get("status") == "Failed")
    with pytest.raises(HttpResponseError, match="has no artifacts"):
        register(ml_client, f"azureml://jobs/{failed}/outputs/artifacts/outputs/mlflow-model/")
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        register(ml_client, "azureml://jobs/job9_9/outputs/artifacts/outputs/mlflow-model/")


def test_model_from_a_child_without_that_artifact_path_is_refused(ml_client, fake_azure):
    child = finished_job_with_model(ml_client, fake_azure)
    with pytest.raises(HttpResponseError, match="has no artifacts at 'outputs/best-model'"):
        register(ml_client, f"azureml://jobs/{child}/outputs/artifacts/outputs/best-model/")


def test_a_model_registered_from_a_child_downloads_from_the_artifact_store(
        ml_client, fake_azure, tmp_path):
    child = finished_job_with_model(ml_client, fake_azure)
    register(ml_client, f"azureml://jobs/{child}/outputs/artifacts/outputs/mlflow-model/")
    ml_client.models.download("fraud-model", "1", download_path=str(tmp_path))
    folder = tmp_path / "fraud-model" / "mlflow-model"
    assert sorted(p.name for p in folder.iterdir()) == [
        "MLmodel", "conda.yaml", "model.pkl", "python_env.yaml", "requirements.txt"]
    assert f"run_id: {child}" in (folder / "MLmodel").read_text()


def test_a_real_mlflow_model_folder_can_stand_in_for_the_childs_model(ml_client, fake_azure,
                                                                     tmp_path):
    real = tmp_path / "real-model"
    real.mkdir()
    (real / "MLmodel").write_text("flavors:\n  python_function: {}\n")
    (real / "model.pkl").write_bytes(b"\x80\x04K\x01.")
    fake_azure.artifacts.use_model_dir(real)
    child = finished_job_with_model(ml_client, fake_azure)
    register(ml_client, f"azureml://jobs/{child}/outputs/artifacts/paths/outputs/mlflow-model/")
    ml_client.models.download("fraud-model", "1", download_path=str(tmp_path / "out"))
    got = tmp_path / "out" / "fraud-model" / "mlflow-model"
    assert (got / "model.pkl").read_bytes() == b"\x80\x04K\x01."


def test_the_package_stage_runs_on_a_model_downloaded_from_the_fake(ml_client, fake_azure,
                                                                    tmp_path):
    from azml2aks.packaging.writer import FILES, package_model
    from tests.scoring.conftest import make_config, model_version

    child = finished_job_with_model(ml_client, fake_azure)
    register(ml_client, f"azureml://jobs/{child}/outputs/artifacts/outputs/mlflow-model/")
    ml_client.models.download("fraud-model", "1", download_path=str(tmp_path))
    model_dir = tmp_path / "fraud-model" / "mlflow-model"
    # the placeholder pickle cannot be served, so no contract test here (use_model_dir for it)
    result = package_model(make_config(), model_version("fraud-model", "1"), model_dir,
                           tmp_path / "build", run_contract=False)
    assert sorted(p.name for p in (tmp_path / "build" / "fraud-model-1").iterdir()) == \
        sorted(FILES)
    assert "amount" in (tmp_path / "build" / "fraud-model-1" / "score.py").read_text()
    assert result.contract["ran"] is False and "--no-contract" in result.contract["skipped"]
    assert result.model == "fraud-model:1"
