"""AutoML jobs as they run: timed phases, trials that fail or are canceled, ensembles, child
runs read with jobs.get, MLTable training data, cancel."""
from __future__ import annotations

from .helpers import submit_automl


def statuses(ml, name: str, n: int) -> list[str]:
    return [ml.jobs.get(name).status for _ in range(n)]


def test_phases_can_last_simulated_seconds_instead_of_gets(ml_client, fake_azure):
    fake_azure.config.job_phase_seconds = {"Queued": 600, "Running": 3600}
    submit_automl(ml_client, "timed")
    assert statuses(ml_client, "timed", 4) == ["Starting", "Preparing", "Queued", "Queued"]
    fake_azure.clock.sleep(600)
    assert statuses(ml_client, "timed", 2) == ["Running", "Running"]
    fake_azure.clock.sleep(3600)
    assert statuses(ml_client, "timed", 2) == ["Finalizing", "Completed"]


def test_children_include_failed_and_canceled_trials_and_the_ensembles(ml_client, fake_azure):
    submit_automl(ml_client, "job1")
    fake_azure.jobs.finish("job1")
    children = {c.name: c for c in ml_client.jobs.list(parent_job_name="job1")}
    by_status = {}
    for child in children.values():
        by_status.setdefault(child.status, []).append(child.properties["run_algorithm"])
    assert by_status["Failed"] == ["RandomForest"]
    assert by_status["Canceled"] == ["ExtremeRandomTrees"]
    assert {"VotingEnsemble", "StackEnsemble"} <= set(by_status["Completed"])
    assert "score" not in children["job1_3"].properties  # a failed trial has no score


def test_the_best_child_is_never_a_failed_trial_and_can_be_an_ensemble(ml_client, fake_azure):
    fake_azure.jobs.script([{"algorithm": "LightGBM", "score": 0.8},
                            {"algorithm": "XGBoostClassifier", "status": "Failed"},
                            {"algorithm": "VotingEnsemble", "score": 0.85}])
    submit_automl(ml_client, "job1")
    fake_azure.jobs.finish("job1")
    assert ml_client.jobs.get("job1").tags["automl_best_child_run_id"] == "job1_2"


def test_jobs_get_of_a_child_run_goes_through_run_history_like_the_sdk_expects(
        ml_client, fake_azure):
    submit_automl(ml_client, "job1")
    fake_azure.jobs.finish("job1")
    fake_azure.reset_log()
    child = ml_client.jobs.get("job1_1")
    assert child.name == "job1_1" and child.status == "Completed"
    assert child.properties["run_algorithm"] == "XGBoostClassifier"
    # MFE answers the child without properties; the SDK then reads run history
    assert [c.op for c in fake_azure.calls() if c.op in ("Jobs_Get", "RunHistory_GetRun")] == [
        "Jobs_Get", "RunHistory_GetRun"]


def test_a_csv_file_labelled_mltable_fails_the_job(ml_client, fake_azure):
    csv = "azureml://datastores/workspaceblobstore/paths/fraud/train.csv"
    submit_automl(ml_client, "csvjob", data=csv)
    fake_azure.jobs.finish("csvjob")
    job = ml_client.jobs.get("csvjob")
    assert job.status == "Failed"
    raw = fake_azure.calls("Jobs_Get")[-1]
    import requests

    assert "not an MLTable" in requests.get(raw.url).json()["properties"]["error"]["message"]


def test_a_uri_file_data_asset_used_as_mltable_fails_the_job(ml_client, fake_azure):
    from azure.ai.ml.entities import Data

    ml_client.data.create_or_update(Data(
        name="raw-csv", version="1", type="uri_file",
        path="azureml://datastores/workspaceblobstore/paths/fraud/train.csv"))
    submit_automl(ml_client, "assetjob", data="azureml:raw-csv:1")
    fake_azure.jobs.finish("assetjob")
    assert ml_client.jobs.get("assetjob").status == "Failed"


def test_an_mltable_folder_trains(ml_client, fake_azure):
    submit_automl(ml_client, "good")  # helpers register an mltable data asset
    fake_azure.jobs.finish("good")
    assert ml_client.jobs.get("good").status == "Completed"


def test_cancel_passes_through_cancel_requested_to_canceled(ml_client, fake_azure):
    import requests

    from .helpers import ws_url

    submit_automl(ml_client, "job1")
    statuses(ml_client, "job1", 4)  # Running by now
    fake_azure.config.lro_polls = 2
    # the cancel POST by hand: the SDK's poller would finish it in a background thread
    answer = requests.post(ws_url(fake_azure) + "/jobs/job1/cancel")
    assert answer.status_code == 202 and "Location" in answer.headers
    assert ml_client.jobs.get("job1").status == "CancelRequested"
    fake_azure.settle()
    assert ml_client.jobs.get("job1").status == "Canceled"
    kids = {c.status for c in ml_client.jobs.list(parent_job_name="job1")}
    assert "Completed" not in kids


def test_a_local_csv_is_uploaded_as_is_and_the_job_fails(ml_client, fake_azure, tmp_path):
    csv = tmp_path / "train.csv"
    csv.write_text("amount,is_fraud\n1.5,0\n")
    submit_automl(ml_client, "local-csv", data=str(csv))
    sent = fake_azure.calls("Jobs_CreateOrUpdate")[-1].request_json["properties"]
    assert sent["taskDetails"]["trainingData"]["uri"].endswith("/train.csv")
    fake_azure.jobs.finish("local-csv")
    assert ml_client.jobs.get("local-csv").status == "Failed"


def test_a_local_mltable_folder_is_uploaded_and_trains(ml_client, fake_azure, tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "train.csv").write_text("amount,is_fraud\n1.5,0\n")
    (folder / "MLTable").write_text("paths:\n- file: ./train.csv\ntransformations:\n"
                                    "- read_delimited:\n    delimiter: ','\n")
    submit_automl(ml_client, "local-folder", data=str(folder))
    assert any(path.endswith("/train/MLTable") for path in fake_azure.blob.files())
    fake_azure.jobs.finish("local-folder")
    assert ml_client.jobs.get("local-folder").status == "Completed"


def test_a_local_folder_without_an_mltable_file_fails_the_job(ml_client, fake_azure, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "train.csv").write_text("amount,is_fraud\n1.5,0\n")
    submit_automl(ml_client, "plain-folder", data=str(folder))
    fake_azure.jobs.finish("plain-folder")
    assert ml_client.jobs.get("plain-folder").status == "Failed"
