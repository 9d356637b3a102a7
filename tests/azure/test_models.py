"""The register stage on Azure: the best child run, the min_metric gate, lineage tags, the
champion alias kept as a tag, idempotence, and downloading only the MLflow model folder."""
from __future__ import annotations

import dataclasses

import pytest

from azml2aks.errors import GateError
from tests.azure.pipelines import azure_example, azure_pipeline, instant_jobs

JOB_OUTPUT = "/datastores/workspaceartifactstore/paths/ExperimentRun/dcid.{}/outputs/mlflow-model/"


@pytest.fixture
def trained(fake_azure, fake_credential, tmp_path):
    """(pipeline, job): the wine example trained on the fake with its default trials."""
    instant_jobs(fake_azure)
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    return p, p.train()


def test_the_best_child_is_registered_from_its_job_output_with_the_lineage_tags(trained, fake_azure, monkeypatch):
    monkeypatch.setenv("BUILD_BUILDID", "4711")
    p, job = trained
    model = p.register()
    assert (model.name, model.version, model.run_id) == ("wine-classifier", "1", job.best_child_run_id)
    stored = fake_azure.assets.get("models", "wine-classifier", "1")["properties"]
    assert stored["modelType"] == "mlflow_model" and stored["jobName"] == job.best_child_run_id
    assert stored["modelUri"].endswith(JOB_OUTPUT.format(job.best_child_run_id))
    put = fake_azure.calls("ModelVersions_CreateOrUpdate")[0].request_json["properties"]
    assert put["modelUri"] == f"azureml://jobs/{job.best_child_run_id}/outputs/artifacts/outputs/mlflow-model/"
    tags = stored["tags"]
    assert tags["azml2aks.job"] == job.job_name and tags["azml2aks.child_run_id"] == job.best_child_run_id
    assert tags["azml2aks.primary_metric"] == "accuracy" and float(tags["azml2aks.metric_value"]) == 0.92
    assert tags["azml2aks.algorithm"] == "VotingEnsemble"
    assert tags["azml2aks.training_data"] == job.training_data  # the data asset name:version
    assert tags["azml2aks.training_data"].startswith("azureml:wine-classification-training:")
    assert tags["azml2aks.training_data_sha256"] == job.training_data_sha256
    assert tags["azml2aks.ci_build_id"] == "4711"
    assert model.aliases == ("champion",) and tags["azml2aks.alias.champion"] == "true"


def test_registering_the_same_child_twice_returns_the_existing_version(trained, fake_azure):
    p, job = trained
    first = p.register(job)
    puts = fake_azure.count("ModelVersions_CreateOrUpdate")
    again = p.register(job.job_name)
    assert (again.version, again.reused, first.reused) == (first.version, True, False)
    assert fake_azure.count("ModelVersions_CreateOrUpdate") == puts
    assert fake_azure.assets.versions("models", "wine-classifier") == ["1"]


def test_failed_and_canceled_trials_never_win_even_without_the_best_child_tag(fake_azure, fake_credential, tmp_path):
    fake_azure.jobs.script([{"algorithm": "LightGBM", "score": 0.88},
                            {"algorithm": "RandomForest", "status": "Failed", "error": "out of memory"},
                            {"algorithm": "ExtremeRandomTrees", "status": "Canceled"},
                            {"algorithm": "LogisticRegression", "score": 0.90}])
    fake_azure.jobs.tag_best_child = False
    instant_jobs(fake_azure)
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    job = p.train()
    assert job.best_child_run_id is None  # no tag: the pipeline ranks the completed children itself
    model = p.register(job)
    assert model.run_id == f"{job.job_name}_3" and model.tags["azml2aks.algorithm"] == "LogisticRegression"


def test_a_model_below_min_metric_is_refused_and_nothing_is_registered(fake_azure, fake_credential, tmp_path):
    fake_azure.jobs.script([{"algorithm": "LightGBM", "score": 0.70}, {"algorithm": "LogisticRegression", "score": 0.80}])
    instant_jobs(fake_azure)
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    p.train()
    with pytest.raises(GateError, match=r"best accuracy is 0.8000 \(LogisticRegression.*below model.min_metric 0.85"):
        p.register()
    assert fake_azure.count("ModelVersions_CreateOrUpdate") == 0


def test_a_job_that_is_not_completed_is_not_registered(trained, fake_azure):
    p, job = trained
    with pytest.raises(GateError, match="is Running, not Completed"):
        p.register(dataclasses.replace(job, status="Running"))


def test_the_champion_alias_moves_only_to_a_better_model_or_with_force(fake_azure, fake_credential, tmp_path):
    instant_jobs(fake_azure)
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    first = p.register(p.train())  # 0.92
    fake_azure.jobs.script([{"algorithm": "LightGBM", "score": 0.90}])
    worse = p.register(p.train())
    assert (first.aliases, worse.aliases) == (("champion",), ())
    assert p.backend.get_model("wine-classifier", alias="champion").version == first.version
    forced = p.register(worse.job_name, force=True)
    assert forced.reused and forced.aliases == ("champion",)
    assert p.backend.get_model("wine-classifier", first.version).aliases == ()  # taken off the old holder
    fake_azure.jobs.script([{"algorithm": "LightGBM", "score": 0.95}])
    better = p.register(p.train())
    assert better.aliases == ("champion",) and better.version == "3"
    assert [m.aliases for m in p.models()] == [(), (), ("champion",)]


def test_download_fetches_only_the_mlflow_model_folder(trained, fake_azure, tmp_path):
    p, job = trained
    model = p.register(job)
    fake_azure.reset_log()
    folder = p.backend.download_model(model, tmp_path / "dl")
    assert folder == tmp_path / "dl" / "mlflow-model"
    assert sorted(f.name for f in folder.iterdir()) == ["MLmodel", "conda.yaml", "model.pkl", "python_env.yaml",
                                                        "requirements.txt"]
    assert sorted(f.name for f in (tmp_path / "dl").iterdir()) == ["mlflow-model"]
    fetched = [c.url.split("?")[0] for c in fake_azure.calls("Blob_Get")]
    assert fetched and all("/outputs/mlflow-model/" in url for url in fetched)  # never model.pkl beside it
