"""azure-ai-ml's job operations against the fake: AutoML submit, lifecycle, children."""
from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError

from .helpers import submit_automl as submit


def test_automl_job_is_submitted_with_its_task_and_echoed_back(ml_client, fake_azure):
    job = submit(ml_client)
    assert job.status == "NotStarted"
    assert job.task_type.lower() == "classification"
    put = fake_azure.calls("Jobs_CreateOrUpdate")[0]
    assert put.request_json["properties"]["jobType"] == "AutoML"
    assert put.request_json["properties"]["taskDetails"]["targetColumnName"] == "is_fraud"
    assert "api-version=2024-01-01-preview" in put.url


def test_automl_job_walks_the_whole_status_sequence_one_phase_per_get(ml_client):
    assert submit(ml_client).status == "NotStarted"
    statuses = [ml_client.jobs.get("automl-fraud-1").status for _ in range(7)]
    assert statuses == ["Starting", "Preparing", "Queued", "Running", "Finalizing",
                        "Completed", "Completed"]


def test_completed_job_is_tagged_with_its_best_child_by_the_primary_metric(ml_client, fake_azure):
    fake_azure.jobs.script([{"algorithm": "LightGBM", "score": 0.7},
                            {"algorithm": "XGBoostClassifier", "score": 0.95},
                            {"algorithm": "RandomForest", "score": 0.9}])
    submit(ml_client)
    fake_azure.jobs.finish("automl-fraud-1")
    assert ml_client.jobs.get("automl-fraud-1").tags["automl_best_child_run_id"] == \
        "automl-fraud-1_1"


def test_best_child_of_an_error_metric_is_the_lowest(ml_client, fake_azure):
    from azure.ai.ml import Input, automl

    fake_azure.jobs.script([{"algorithm": "A", "score": 0.3}, {"algorithm": "B", "score": 0.1}])
    from .helpers import training_data

    job = automl.regression(compute="cpu", training_data=Input(type="mltable",
                                                               path=training_data(ml_client, "t")),
                            target_column_name="y",
                            primary_metric="normalized_root_mean_squared_error")
    job.name = "reg-1"
    ml_client.jobs.create_or_update(job)
    fake_azure.jobs.finish("reg-1")
    assert ml_client.jobs.get("reg-1").tags["automl_best_child_run_id"] == "reg-1_1"


def test_running_job_has_no_best_child_tag_yet(ml_client):
    submit(ml_client)
    running = next(j for j in iter(lambda: ml_client.jobs.get("automl-fraud-1"), None)
                   if j.status == "Running")
    assert "automl_best_child_run_id" not in running.tags


def test_child_runs_are_listed_through_discovery_and_run_history(ml_client, fake_azure):
    submit(ml_client)
    fake_azure.jobs.finish("automl-fraud-1")
    children = list(ml_client.jobs.list(parent_job_name="automl-fraud-1"))
    assert [c.name for c in children] == [f"automl-fraud-1_{i}" for i in range(7)]
    assert {c.properties["run_algorithm"] for c in children} >= {"LightGBM"}
    assert fake_azure.count("Discovery_Get") == 1
    assert fake_azure.count("RunHistory_GetChildren") == 1


def test_child_metrics_are_served_by_the_mlflow_runs_get_route(fake_azure, ml_client):
    submit(ml_client)
    fake_azure.jobs.finish("automl-fraud-1")
    c = fake_azure.config
    url = (f"{c.api_host}/mlflow/v2.0{c.workspace_path}/api/2.0/mlflow/runs/get"
           "?run_id=automl-fraud-1_1")
    run = requests.get(url).json()["run"]
    assert run["data"]["metrics"] == [
        {"key": "accuracy", "value": 0.91, "timestamp": 0, "step": 0}]
    history = f"{c.api_host}/history/v1.0{c.workspace_path}/runs/automl-fraud-1_1"
    assert requests.get(history).json()["properties"]["score"] == "0.91"


def test_injected_job_failure_ends_the_job_failed_with_its_message(ml_client, fake_azure):
    fake_azure.faults.job_failure("Training data has no column 'is_fraud'.")
    submit(ml_client)
    fake_azure.jobs.finish("automl-fraud-1")
    job = ml_client.jobs.get("automl-fraud-1")
    assert job.status == "Failed"
    body = fake_azure.calls("Jobs_Get")[-1]
    assert body.status == 200
    raw = requests.get(body.url).json()
    assert raw["properties"]["error"]["message"] == "Training data has no column 'is_fraud'."
    assert "automl_best_child_run_id" not in job.tags


def test_canceling_a_running_job_ends_it_canceled(ml_client, fake_azure):
    submit(ml_client)
    ml_client.jobs.begin_cancel("automl-fraud-1").result()
    assert ml_client.jobs.get("automl-fraud-1").status == "Canceled"


def test_getting_an_unknown_job_is_a_404(ml_client):
    with pytest.raises(ResourceNotFoundError, match="nope"):
        ml_client.jobs.get("nope")


def test_submitting_a_job_name_twice_is_a_409(ml_client):
    from azure.core.exceptions import ResourceExistsError

    submit(ml_client)
    with pytest.raises(ResourceExistsError):
        submit(ml_client)
