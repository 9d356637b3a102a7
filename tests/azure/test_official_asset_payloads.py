"""register, models, package and wait against the official job, model version and environment
version example bodies, served verbatim (ids and names substituted where our request must
match; see official.py), through the real SDK and the command line."""
from __future__ import annotations

import json

import pytest

from azml2aks.cli import main
from azml2aks.errors import Azml2aksError
from azml2aks.results import TrainResult
from tests.azure.helpers import finished_job_with_model
from tests.azure.pipelines import azure_example, azure_pipeline
from tests.azure.test_environments import put_versions, spec

from .official import named, page

ML = "machinelearningservices"
ENV_LIST = f"{ML}/2023-04-01-preview/Workspace/EnvironmentVersion/list.json"
MODEL_LIST = f"{ML}/2023-08-01-preview/Workspace/ModelVersion/list.json"
MODEL_GET = f"{ML}/2023-08-01-preview/Workspace/ModelVersion/get.json"


def cli(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--backend", "azure", "-o", "json", "--quiet"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


@pytest.fixture
def pipeline(fake_azure, fake_credential, tmp_path):
    return azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)


# --- environments ------------------------------------------------------------------------------

def test_a_version_in_the_official_environment_list_the_sdk_cannot_parse_does_not_stop_registration(
        fake_azure, pipeline, tmp_path):
    c = fake_azure.config
    versions = page(ENV_LIST, [f"{c.workspace_id}/environments/wine-classifier-env/versions/2"])
    assert versions["value"][0]["properties"]["condaFile"] == "string"  # not a conda mapping: the SDK raised on it
    fake_azure.serve("GET", f"{c.workspace_path}/environments/wine-classifier-env/versions", versions,
                     op="EnvironmentVersions_List")
    env = pipeline.backend.register_environment(spec(tmp_path, "mlflow==3.1.0", "aaa"))
    assert (env.version, env.reused) == ("3", False)  # the next number after the listed version 2
    assert put_versions(fake_azure) == ["3"]


def test_the_fingerprint_is_found_among_official_environment_versions(fake_azure, pipeline, tmp_path):
    c = fake_azure.config
    base = f"{c.workspace_id}/environments/wine-classifier-env/versions"
    versions = page(ENV_LIST, [f"{base}/2"])
    ours = json.loads(json.dumps(versions["value"][0]))  # the same official item, as version 5 with our tag
    ours["id"], ours["name"] = f"{base}/5", "5"
    ours["properties"]["tags"] = {"azml2aks.fingerprint": "aaa"}
    versions["value"].append(ours)
    fake_azure.serve("GET", f"{c.workspace_path}/environments/wine-classifier-env/versions", versions,
                     op="EnvironmentVersions_List")
    env = pipeline.backend.register_environment(spec(tmp_path, "mlflow==3.1.0", "aaa"))
    assert (env.ref, env.reused) == ("wine-classifier-env:5", True)
    assert put_versions(fake_azure) == []  # an immutable version is never PUT again


# --- models ------------------------------------------------------------------------------------

def serve_model_list(fake) -> None:
    c = fake.config
    fake.serve("GET", f"{c.workspace_path}/models/wine-classifier/versions",
               page(MODEL_LIST, [f"{c.workspace_id}/models/wine-classifier/versions/3"]), op="ModelVersions_List")


@pytest.mark.usefixtures("az_login")
def test_models_lists_the_official_model_versions(fake_azure, tmp_path, capsys):
    serve_model_list(fake_azure)
    code, out, err = cli(capsys, "models", str(azure_example(tmp_path, fake_azure)))
    assert code == 0, err
    (model,) = out if isinstance(out, list) else out["models"]
    assert (model["name"], model["version"], model["aliases"]) == ("wine-classifier", "3", [])
    assert model["tags"] == {"string": "string"} and model["created"].startswith("2020-01-01")


def test_register_takes_the_number_after_the_official_latest_version_and_ignores_its_foreign_tags(
        fake_azure, pipeline):
    serve_model_list(fake_azure)
    c = fake_azure.config
    fake_azure.serve("GET", f"{c.workspace_path}/models/wine-classifier",
                     named(f"{ML}/2023-08-01-preview/Workspace/ModelContainer/get.json",
                           f"{c.workspace_id}/models/wine-classifier"), op="ModelContainers_Get")
    child = finished_job_with_model(pipeline.backend.ml, fake_azure, "job1")
    job = TrainResult(job_name="job1", backend="azure", status="Completed", task="classification",
                      primary_metric="accuracy", experiment_name="fraud", best_child_run_id=child)
    from azml2aks.config.specs import model_spec
    from azml2aks.results import ChildRun

    model = pipeline.backend.register_model(model_spec(pipeline.config), job,
                                            ChildRun(child, "VotingEnsemble", 0.92, has_model=True),
                                            tags={"azml2aks.child_run_id": child})
    assert (model.version, model.reused) == ("4", False)
    (put,) = fake_azure.calls("ModelVersions_CreateOrUpdate")
    assert put.url.split("?")[0].endswith("/models/wine-classifier/versions/4")


def test_package_of_the_official_model_version_without_an_mlflow_model_is_an_error_not_a_traceback(
        fake_azure, pipeline):
    c = fake_azure.config
    fake_azure.serve("GET", f"{c.workspace_path}/models/wine-classifier/versions/3",
                     named(MODEL_GET, f"{c.workspace_id}/models/wine-classifier/versions/3"), op="ModelVersions_Get")
    with pytest.raises(Azml2aksError) as info:  # its modelUri is "string": nothing to download
        pipeline.package("wine-classifier:3", contract=False)
    assert "wine-classifier:3" in info.value.message and info.value.hint


# --- jobs --------------------------------------------------------------------------------------

def serve_job(fake, rel: str, name: str = "job-x") -> dict:
    c = fake.config
    job = named(rel, f"{c.workspace_id}/jobs/{name}")
    fake.serve("GET", f"{c.workspace_path}/jobs/{name}", job, op="Jobs_Get")
    return job


@pytest.mark.usefixtures("az_login")
def test_register_refuses_the_official_image_classification_automl_job_by_name(fake_azure, tmp_path,
                                                                              capsys):
    serve_job(fake_azure, f"{ML}/2023-10-01/Job/AutoMLJob/get.json")
    code, out, err = cli(capsys, "register", str(azure_example(tmp_path, fake_azure)), "--job", "job-x")
    assert code == 1 and "Traceback" not in err  # it was a KeyError traceback
    assert "job job-x is an AutoML ImageClassification job" in out["message"] and "train" in out["hint"]


@pytest.mark.usefixtures("az_login")
def test_wait_refuses_the_official_command_job_instead_of_following_it_as_automl(fake_azure, tmp_path,
                                                                                capsys):
    c = fake_azure.config
    job = serve_job(fake_azure, f"{ML}/2024-01-01-preview/Job/AutoMLJob/get.json")
    # its codeId and environmentId placeholders are ids too: the SDK resolves them as ARM ids
    job["properties"]["codeId"] = f"{c.workspace_id}/codes/src/versions/1"
    job["properties"]["environmentId"] = f"{c.workspace_id}/environments/train-env/versions/1"
    fake_azure.serve("GET", f"{c.workspace_path}/jobs/job-x", job, op="Jobs_Get")
    code, out, err = cli(capsys, "wait", str(azure_example(tmp_path, fake_azure)), "job-x")
    assert code == 1 and "Traceback" not in err
    assert "job job-x is a command job" in out["message"]
    assert fake_azure.count("RunHistory_GetChildren") == 0  # no trial listing of a job that has none
