"""The train stage on Azure: the AutoML job body, following it, failures, cancel and Ctrl-C,
throttling mid-poll, and resuming on another agent. The real SDK runs against the fake."""
from __future__ import annotations

import pytest

from azml2aks.errors import BackendError
from tests.azure.pipelines import azure_example, azure_pipeline, instant_jobs

SETTINGS = """  n_cross_validations: 5
  limits:
    timeout_minutes: 2
    max_trials: 6"""
ALL_SETTINGS = """  n_cross_validations: 5
  validation_data: {path: azureml:wine-validation:3, type: mltable}
  compute: cpu-cluster
  tags: {team: ml}
  positive_label: class_0
  weight_column_name: weight
  log_verbosity: debug
  limits:
    timeout_minutes: 90
    trial_timeout_minutes: 15
    max_trials: 6
    max_concurrent_trials: 3
    max_cores_per_trial: 2
    max_nodes: 3
    enable_early_termination: false
    exit_score: 0.99"""
TRAINING = """  training:
    allowed_training_algorithms: [LightGBM, RandomForest, ExtremeRandomTrees, LogisticRegression]
  featurization:
    mode: auto"""
ALL_TRAINING = """  training:
    allowed_training_algorithms: [LightGBM, LogisticRegression]
    enable_stack_ensemble: true
    enable_vote_ensemble: true
    enable_model_explainability: true
  featurization:
    mode: auto
    blocked_transformers: [LabelEncoder]"""


def submitted_task(fake) -> dict:
    return fake.calls("Jobs_CreateOrUpdate")[-1].request_json["properties"]


def test_every_automl_setting_of_pipeline_yaml_reaches_the_job(fake_azure, fake_credential, tmp_path):
    pipeline = azure_example(tmp_path, fake_azure, **{SETTINGS: ALL_SETTINGS, TRAINING: ALL_TRAINING})
    instant_jobs(fake_azure)
    azure_pipeline(pipeline, fake_azure, fake_credential).train()
    props = submitted_task(fake_azure)
    task = props["taskDetails"]
    assert props["experimentName"] == "wine-classification"
    assert props["computeId"].endswith("/computes/cpu-cluster")
    assert props["tags"]["team"] == "ml"
    assert task["taskType"] == "Classification" and task["primaryMetric"] == "Accuracy"
    assert task["targetColumnName"] == "cultivar"
    assert task["nCrossValidations"] == {"mode": "Custom", "value": 5}
    assert task["positiveLabel"] == "class_0" and task["weightColumnName"] == "weight"
    assert task["logVerbosity"] == "Debug"
    assert task["limitSettings"] == {
        "timeout": "PT1H30M", "trialTimeout": "PT15M", "maxTrials": 6, "maxConcurrentTrials": 3,
        "maxCoresPerTrial": 2, "maxNodes": 3, "enableEarlyTermination": False, "exitScore": 0.99,
        "sweepConcurrentTrials": 0, "sweepTrials": 0}
    assert task["trainingSettings"] == {
        "allowedTrainingAlgorithms": ["LightGBM", "LogisticRegression"], "enableStackEnsemble": True,
        "enableVoteEnsemble": True, "enableModelExplainability": True}
    assert task["featurizationSettings"]["blockedTransformers"] == ["LabelEncoder"]
    assert task["validationData"]["uri"].endswith("/data/wine-validation/versions/3")
    assert task["trainingData"]["jobInputType"] == task["testData"]["jobInputType"] == "mltable"


def test_forecasting_settings_reach_the_job(fake_azure, fake_credential, tmp_path):
    pipeline = azure_example(tmp_path, fake_azure, "sales-forecasting")
    fake_azure.jobs.script([{"algorithm": "LightGBM", "score": 0.09}, {"algorithm": "RandomForest", "score": 0.12}])
    instant_jobs(fake_azure)
    job = azure_pipeline(pipeline, fake_azure, fake_credential).train()
    task = submitted_task(fake_azure)["taskDetails"]
    assert task["taskType"] == "Forecasting" and task["primaryMetric"] == "NormalizedRootMeanSquaredError"
    assert task["forecastingSettings"] == {
        "timeColumnName": "date", "timeSeriesIdColumnNames": ["store"], "forecastHorizon": {"mode": "Custom", "value": 7},
        "frequency": "D"}
    # lower is better: the best child is the 0.09 one
    assert (job.best_algorithm, job.best_metric_value, job.primary_metric) == (
        "LightGBM", 0.09, "normalized_root_mean_squared_error")


def test_a_local_csv_is_uploaded_once_as_an_mltable_asset_versioned_by_its_content(
        fake_azure, fake_credential, tmp_path):
    pipeline = azure_example(tmp_path, fake_azure)
    instant_jobs(fake_azure)
    first = azure_pipeline(pipeline, fake_azure, fake_credential).train()
    uploads = fake_azure.count("Blob_Put")
    name, version = first.training_data.removeprefix("azureml:").split(":")
    asset = fake_azure.assets.get("data", name, version)["properties"]
    assert name == "wine-classification-training" and version == first.training_data_sha256[:16]
    assert asset["dataType"] == "mltable" and asset["tags"]["azml2aks.sha256"] == first.training_data_sha256
    mltable = {k: v for k, v in fake_azure.blob.blobs.items() if k.endswith("/MLTable")}
    assert len(mltable) == 2  # training and test data, each an MLTable folder
    assert all(b"read_delimited" in text and b"file: ./" in text for text in mltable.values())
    again = azure_pipeline(pipeline, fake_azure, fake_credential).train()
    assert fake_azure.count("Blob_Put") == uploads  # same content: nothing uploaded again
    assert again.training_data == first.training_data
    assert fake_azure.assets.versions("data", name) == [version]
    (pipeline.parent / "data" / "wine.csv").write_text(
        (pipeline.parent / "data" / "wine.csv").read_text().replace("14.23", "14.24"))
    changed = azure_pipeline(pipeline, fake_azure, fake_credential).train()
    assert changed.training_data != first.training_data and len(fake_azure.assets.versions("data", name)) == 2


def test_an_asset_reference_is_passed_as_written_and_nothing_is_uploaded(fake_azure, ml_client, fake_credential,
                                                                          tmp_path):
    from azure.ai.ml.entities import Data

    ml_client.data.create_or_update(Data(name="wine", version="7", type="mltable",
                                         path="azureml://datastores/workspaceblobstore/paths/wine/"))
    pipeline = azure_example(tmp_path, fake_azure, **{"training_data: data/wine.csv": "training_data: azureml:wine:7",
                                                      "  test_data: data/wine-holdout.csv\n": ""})
    instant_jobs(fake_azure)
    fake_azure.reset_log()
    job = azure_pipeline(pipeline, fake_azure, fake_credential).train()
    assert job.training_data == "azureml:wine:7" and job.training_data_sha256 is None
    assert fake_azure.count("Blob_Put") == 0 and fake_azure.count("DataVersions_CreateOrUpdate") == 0
    assert submitted_task(fake_azure)["taskDetails"]["trainingData"]["uri"].endswith("/data/wine/versions/7")


def test_following_a_job_reports_the_studio_url_first_then_statuses_and_trials_with_the_best_so_far(
        fake_azure, fake_credential, tmp_path):
    events: list[dict] = []
    job = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential, events=events).train()
    kinds = [e["event"] for e in events]
    assert kinds.index("job") < kinds.index("status")
    job_event = next(e for e in events if e["event"] == "job")
    assert job_event["portal_url"].startswith("https://ml.azure.com/runs/") and job.job_name in job_event["message"]
    statuses = [e["status"] for e in events if e["event"] == "status"]
    assert statuses[:4] == ["Starting", "Preparing", "Queued", "Running"] and statuses[-1] == "Completed"
    assert len(statuses) == len(set(statuses))  # one line per change
    trials = [(e["algorithm"], e["value"], e["best"]) for e in events if e["event"] == "trial"]
    assert trials == [("LightGBM", 0.87, 0.87), ("XGBoostClassifier", 0.91, 0.91), ("LogisticRegression", 0.84, 0.91),
                      ("VotingEnsemble", 0.92, 0.92), ("StackEnsemble", 0.915, 0.92)]
    failed = [(e["algorithm"], e["status"]) for e in events if e["event"] == "trial_failed"]
    assert failed == [("RandomForest", "Failed"), ("ExtremeRandomTrees", "Canceled")]
    assert (job.status, job.best_algorithm, job.best_metric_value, job.trials) == ("Completed", "VotingEnsemble", 0.92, 7)


def test_following_a_long_job_backs_off_and_lists_trials_at_most_every_two_minutes(fake_azure, fake_credential,
                                                                                 tmp_path):
    fake_azure.config.job_phase_seconds = {"Queued": 300, "Running": 3600}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake_azure.clock.sleep(seconds)

    pipeline = azure_example(tmp_path, fake_azure)
    p = azure_pipeline(pipeline, fake_azure, fake_credential, sleep=sleep)
    fake_azure.reset_log()
    p.train()
    assert sleeps[:6] == [10.0, 15.0, 22.5, 33.75, 50.625, 60.0] and set(sleeps[6:]) == {60.0}
    listings = fake_azure.count("RunHistory_GetChildren")
    status_reads = fake_azure.count("Jobs_Get") - listings  # listing the trials reads the parent once too
    assert status_reads == len(sleeps) + 1  # one status read per wait, never a burst
    assert 60 < status_reads < 75  # an hour and five minutes at one read a minute, not one a second
    assert 30 <= listings <= 3900 / 120 + 2  # the trials at most every two minutes


def test_a_failed_job_raises_with_the_services_error_and_exit_code_3(fake_azure, fake_credential, tmp_path):
    fake_azure.faults.job_failure("UserError: column 'cultivar' not found in the training data")
    instant_jobs(fake_azure)
    with pytest.raises(BackendError) as info:
        azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential).train()
    assert "failed: (UserError)" in info.value.message and "column 'cultivar' not found" in info.value.message
    assert "ml.azure.com/runs/" in info.value.hint and info.value.exit_code == 3


def test_a_job_that_stops_responding_raises_with_the_services_error(fake_azure, fake_credential, tmp_path):
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    state = p.train(wait=False)
    fake_azure.jobs.stop_responding(state.job_name)
    with pytest.raises(BackendError, match=r"stopped responding: \(UserError\) The job stopped sending heartbeats"):
        p.wait(state.job_name)


def test_cancel_requests_the_cancel_and_following_then_reports_canceled(fake_azure, fake_credential, tmp_path):
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    job = p.train(wait=False)
    assert job.status not in ("Completed", "Failed", "Canceled")
    state = p.cancel()  # the job of the latest train, from the journal
    assert state.status == "CancelRequested" and fake_azure.count("Jobs_Cancel") == 1
    fake_azure.settle()
    with pytest.raises(BackendError, match=f"AutoML job {job.job_name} was canceled"):
        p.wait()
    assert p.cancel(job.job_name).status == "Canceled" and fake_azure.count("Jobs_Cancel") == 1


def test_ctrl_c_stops_following_but_leaves_the_job_running_and_says_how_to_cancel(fake_azure, fake_credential,
                                                                                   tmp_path):
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    events: list[dict] = []
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential, events=events,
                       sleep=interrupted)
    with pytest.raises(KeyboardInterrupt):
        p.train()
    name = next(e["job"] for e in events if e["event"] == "job")
    assert fake_azure.count("Jobs_Cancel") == 0 and fake_azure.jobs.status(name) not in ("Canceled", "CancelRequested")
    assert f"azml2aks cancel PIPELINE {name}" in events[-1]["message"]
    assert f"azml2aks wait PIPELINE {name}" in events[-1]["message"]


def test_throttling_and_a_5xx_burst_mid_poll_are_retried_honouring_retry_after(fake_azure, fake_credential,
                                                                                tmp_path):
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    state = p.train(wait=False)
    fake_azure.faults.throttle("Jobs_Get", retry_after=7)
    fake_azure.faults.server_errors("Jobs_Get", times=3, status=503)
    fake_azure.reset_log()
    before = fake_azure.clock.time()
    job = p.wait(state.job_name)
    assert job.status == "Completed"
    answers = [c.status for c in fake_azure.calls("Jobs_Get")]
    assert answers[:4] == [429, 503, 503, 503] and set(answers[4:]) == {200}
    assert fake_azure.clock.time() - before >= 7  # the Retry-After was waited, on the fake clock


def test_wait_with_a_job_name_resumes_on_another_agent_with_no_journal(fake_azure, fake_credential, tmp_path):
    pipeline = azure_example(tmp_path, fake_azure)
    submitted = azure_pipeline(pipeline, fake_azure, fake_credential).train(wait=False)
    other_agent = azure_pipeline(pipeline, fake_azure, fake_credential, workdir=tmp_path / "elsewhere")
    job = other_agent.wait(submitted.job_name)
    assert job.status == "Completed" and job.best_child_run_id == f"{submitted.job_name}_5"
    # the lineage travels with the job's tags, not with a local journal
    assert job.training_data == submitted.training_data and job.training_data_sha256 == submitted.training_data_sha256


def test_a_5xx_burst_longer_than_azure_cores_retries_is_sat_out_until_the_next_poll(fake_azure, fake_credential,
                                                                                   tmp_path):
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    state = p.train(wait=False)
    fake_azure.faults.server_errors("RunHistory_GetChildren", times=6, status=502)
    job = p.wait(state.job_name)
    assert job.status == "Completed" and job.trials == 7
    answers = [c.status for c in fake_azure.calls("RunHistory_GetChildren")]
    assert answers[:6] == [502] * 6 and answers[-1] == 200  # 4 tries by azure-core, then again a poll later


def test_a_job_that_keeps_failing_to_answer_ends_the_wait_with_exit_code_3(fake_azure, fake_credential, tmp_path):
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    state = p.train(wait=False)
    fake_azure.faults.server_errors("Jobs_Get", times=100, status=500)
    fake_azure.reset_log()
    with pytest.raises(BackendError, match="reading job .*InternalServerError") as info:
        p.wait(state.job_name)
    assert info.value.exit_code == 3
    assert fake_azure.count("Jobs_Get") == 6 * 4  # six polls (MAX_TRANSIENT + 1) of four tries each


def test_a_job_name_used_before_is_a_config_error_that_says_how_to_go_on(fake_azure, fake_credential, tmp_path):
    from azml2aks.errors import ConfigError

    pipeline = azure_example(tmp_path, fake_azure, **{"  experiment_name: wine-classification":
                                                      "  experiment_name: wine-classification\n  name: wine-run-1"})
    p = azure_pipeline(pipeline, fake_azure, fake_credential)
    assert p.train(wait=False).job_name == "wine-run-1"
    with pytest.raises(ConfigError, match="wine-run-1' already exists") as info:
        p.train(wait=False)
    assert "azml2aks wait PIPELINE wine-run-1" in info.value.hint and info.value.exit_code == 1
