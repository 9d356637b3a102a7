"""The Azure backend end to end against the fake, through the command line and the Python API:
`run --until package` on each task, the re-run that registers nothing again, the request
budget of a full train -> register -> package, and a missing credential."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from azml2aks.cli import main
from azml2aks.errors import ConfigError
from tests.azure.pipelines import azure_example, azure_pipeline, instant_jobs


def cli(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def test_run_until_package_registers_the_best_child_and_a_fingerprinted_environment_and_a_rerun_adds_nothing(
        fake_azure, az_login, example_model_dir, capsys, tmp_path):
    instant_jobs(fake_azure)
    fake_azure.artifacts.use_model_dir(example_model_dir("wine-classification"))  # the children hold a real model
    pipeline = str(azure_example(tmp_path, fake_azure))
    code, out, err = cli(capsys, "run", pipeline, "--backend", "azure", "--until", "package", "-o", "json")
    assert code == 0, err
    assert set(out) == {"train", "register", "package", "run_id"}  # attach and deploy were not run
    assert err.index("ml.azure.com/runs/") < err.index("trial   1")  # the Studio URL comes first
    job, model, package = out["train"], out["register"], out["package"]
    stored = fake_azure.assets.get("models", "wine-classifier", model["version"])["properties"]
    assert stored["jobName"] == job["best_child_run_id"] == model["run_id"]
    assert stored["modelUri"].endswith(f"dcid.{job['best_child_run_id']}/outputs/mlflow-model/")
    assert {"azml2aks.job", "azml2aks.child_run_id", "azml2aks.primary_metric", "azml2aks.metric_value",
            "azml2aks.training_data", "azml2aks.training_data_sha256", "azml2aks.algorithm"} <= set(stored["tags"])
    assert package["contract"]["passed"] and package["environment_version"] == "1"
    env = fake_azure.assets.get("environments", "wine-classifier-env", "1")["properties"]
    assert env["tags"]["azml2aks.fingerprint"] == package["fingerprint"]
    uploads = fake_azure.count("Blob_Put")
    before = {kind: {n: list(c.versions) for n, c in fake_azure.assets.store[kind].items()}
              for kind in ("models", "environments", "data")}

    code, again, err = cli(capsys, "run", pipeline, "--backend", "azure", "--from", "register", "--until", "package",
                           "-o", "json")
    assert code == 0, err
    assert set(again) == {"register", "package", "run_id"}
    assert again["register"]["reused"] and again["register"]["version"] == model["version"]
    assert again["package"]["environment_reused"] and again["package"]["environment_version"] == "1"
    code, retrained, err = cli(capsys, "train", pipeline, "--backend", "azure", "-o", "json")
    assert code == 0, err
    assert retrained["training_data"] == job["training_data"]
    assert fake_azure.count("Blob_Put") == uploads  # the same training data is never uploaded twice
    after = {kind: {n: list(c.versions) for n, c in fake_azure.assets.store[kind].items()}
             for kind in ("models", "environments", "data")}
    assert after == before
    assert fake_azure.count("ModelVersions_CreateOrUpdate") == 2  # the registration and the champion tag


@pytest.mark.parametrize("example, scores, metric", [
    ("diabetes-regression", [0.41, 0.47], "r2_score"),
    ("sales-forecasting", [0.09, 0.12], "normalized_root_mean_squared_error"),
])
def test_regression_and_forecasting_run_until_package_end_to_end(fake_azure, az_login, example_model_dir, capsys,
                                                                 tmp_path, example, scores, metric):
    fake_azure.jobs.script([{"algorithm": "LightGBM", "score": scores[0]},
                            {"algorithm": "RandomForest", "score": scores[1]}])
    fake_azure.artifacts.use_model_dir(example_model_dir(example))
    instant_jobs(fake_azure)
    pipeline = str(azure_example(tmp_path, fake_azure, example))
    code, out, err = cli(capsys, "run", pipeline, "--backend", "azure", "--until", "package", "-o", "json")
    assert code == 0, err
    best = max(scores) if metric == "r2_score" else min(scores)
    assert out["train"]["primary_metric"] == metric and out["register"]["metric_value"] == best
    assert out["package"]["contract"]["passed"] and out["package"]["environment_version"] == "1"
    code, out, err = cli(capsys, "models", pipeline, "--backend", "azure", "-o", "json")
    assert code == 0 and [m["aliases"] for m in out] == [["champion"]]


def test_a_full_train_register_package_costs_a_known_number_of_requests(fake_azure, fake_credential, tmp_path):
    instant_jobs(fake_azure)
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    p.package(p.register(p.train()), contract=False)  # the contract test is local: it sends nothing to Azure
    arm = fake_azure.arm_counts()
    plane = Counter(c.op for c in fake_azure.calls() if not c.is_arm)
    assert dict(arm) == {
        "Workspaces_Get": 1, "Datastores_Get": 3, "Datastores_ListSecrets": 3,
        "DataVersions_Get": 2, "DataVersions_CreateOrUpdate": 2,
        "Jobs_CreateOrUpdate": 1, "Jobs_Get": 3,
        "ModelVersions_List": 5, "ModelVersions_CreateOrUpdate": 2, "ModelVersions_Get": 2,
        "EnvironmentVersions_List": 1, "EnvironmentVersions_CreateOrUpdate": 1,
    }
    assert dict(plane) == {"Schema_MLTable": 2, "Blob_GetProperties": 3, "Blob_Put": 6, "Discovery_Get": 1,
                           "RunHistory_GetChildren": 2, "Blob_ListOrContainer": 2, "Blob_Get": 5}


def test_with_no_credential_the_error_names_every_way_to_log_in_and_exits_1(fake_azure, capsys, tmp_path, monkeypatch):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no az, azd or pwsh to ask
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")  # no managed identity probe off this machine
    pipeline = str(azure_example(tmp_path, fake_azure))
    code, out, err = cli(capsys, "train", pipeline, "--backend", "azure", "-o", "json")
    assert code == 1 and out["error"] == "ConfigError"
    for way in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "managed identity", "az login",
                "AzureCLI@2"):
        assert way in out["hint"]
    assert fake_azure.calls() == []  # nothing reached the workspace


def test_the_python_api_takes_a_credential(fake_azure, fake_credential, tmp_path):
    from azml2aks import load_pipeline

    instant_jobs(fake_azure)
    p = load_pipeline(azure_example(tmp_path, fake_azure), backend="azure", credential=fake_credential)
    state = p.train(wait=False)
    assert state.backend == "azure" and fake_credential.requests  # the token came from the caller's credential
    with pytest.raises(ConfigError, match="--from deploy comes after --until train"):
        p.run(start="deploy", until="train")


def test_train_no_wait_prints_the_job_name_and_wait_and_cancel_take_it_by_name_on_another_agent(
        fake_azure, az_login, capsys, tmp_path):
    pipeline = str(azure_example(tmp_path, fake_azure))
    code, job, err = cli(capsys, "train", pipeline, "--backend", "azure", "--no-wait", "-o", "json")
    assert code == 0, err
    name = job["job_name"]
    assert f"azml2aks wait PIPELINE {name}" in err and job["status"] not in ("Completed", "Failed", "Canceled")
    code, state, err = cli(capsys, "cancel", pipeline, name, "--backend", "azure", "--workdir", str(tmp_path / "b"),
                           "-o", "json")
    assert code == 0 and state["name"] == name and state["status"] == "CancelRequested"
    fake_azure.settle()
    code, out, err = cli(capsys, "wait", pipeline, name, "--backend", "azure", "--workdir", str(tmp_path / "c"))
    assert code == 3 and f"AutoML job {name} was canceled" in err
    code, state, _ = cli(capsys, "cancel", pipeline, name, "--backend", "azure", "-o", "json")
    assert code == 0 and state["status"] == "Canceled" and fake_azure.count("Jobs_Cancel") == 1
