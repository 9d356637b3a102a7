"""Real AutoML outputs: the child runs of a parent as run history lists them and the best child
the parent's tag names. The runs below carry the properties published AutoML runs show: a
remote VotingEnsemble child (runTemplate automl_child, run_algorithm, iteration, score,
ensembled_iterations, model_output_path outputs/model.pkl, run_preprocessor "" for an ensemble),
the Event Grid RunCompleted example's child (learn.microsoft.com, event-schema-machine-learning),
and the parent's SetupRunId / FeaturizationRunId children (`<parent>_setup`, `<parent>_featurize`),
which are no trials; `<parent>_worker_0` stands for the other non-trial children."""
from __future__ import annotations

import pytest

from azml2aks.results import TrainResult
from tests.azure.helpers import submit_automl
from tests.azure.pipelines import azure_example, azure_pipeline

PARENT = "automl-fraud-1"


def run(run_id: str, status: str, properties: dict, tags: dict | None = None) -> dict:
    return {"runId": run_id, "parentRunId": PARENT, "rootRunId": PARENT, "status": status,
            "experimentId": "5a025935-b431-4fa1-af57-2ab8ad5fb332", "dataContainerId": f"dcid.{run_id}",
            "createdTimeUtc": "2024-02-23T15:08:32.8845306+00:00", "startTimeUtc": "2024-02-23T15:09:06.984Z",
            "endTimeUtc": "2024-02-23T15:18:26.583Z", "target": "Serverless", "error": None,
            "tags": tags or {}, "properties": properties,
            "runTypeV2": {"orchestrator": "Execution", "traits": ["automl", "Remote.Child"]}}


def trial(i: int, algorithm: str, score: str | None, status: str = "Completed", **extra) -> dict:
    props = {"runTemplate": "automl_child", "run_template": "automl_child", "iteration": str(i),
             "run_algorithm": algorithm, "run_preprocessor": "" if "Ensemble" in algorithm else "MaxAbsScaler",
             "training_percent": "100", "primary_metric": "accuracy", "goal": "accuracy_max",
             "_aml_system_scenario_identification": "Remote.Child",
             "conda_env_data_location": f"aml://artifact/ExperimentRun/dcid.{PARENT}_{i}/outputs/conda_env_v_1_0_0.yml",
             "model_data_location": f"aml://artifact/ExperimentRun/dcid.{PARENT}_{i}/outputs/model.pkl", **extra}
    if score is not None:
        props.update(score=score, model_output_path="outputs/model.pkl")
    return run(f"{PARENT}_{i}", status, props, {"mlflow.source.name": "automl_driver.py"})


CHILDREN = [
    run(f"{PARENT}_setup", "Completed", {"runTemplate": "automl_child", "azureml.runsource": "automl",
                                          "_aml_system_scenario_identification": "Remote.Setup"}),
    run(f"{PARENT}_featurize", "Completed", {"runTemplate": "automl_child",
                                              "_aml_system_scenario_identification": "Remote.Featurization"}),
    run(f"{PARENT}_worker_0", "Completed", {"_aml_system_scenario_identification": "Remote.Worker"}),
    trial(0, "LogisticRegression", "NaN"),  # a metric AutoML could not compute (first: a NaN would stick as max)
    trial(1, "LightGBM", "0.8712"),
    trial(2, "XGBoostClassifier", "0.9103"),
    trial(3, "RandomForest", None, status="Failed"),
    trial(4, "ExtremeRandomTrees", None, status="Canceled"),
    trial(5, "VotingEnsemble", "0.9234", ensembled_iterations="[1, 2]",
          ensembled_algorithms="['LightGBM', 'XGBoostClassifier']", ensemble_weights="[0.5, 0.5]"),
    trial(6, "StackEnsemble", "0.9151", ensembled_iterations="[1, 2]"),
]


@pytest.fixture
def parent(fake_azure, fake_credential, tmp_path):
    """A pipeline whose AutoML job finished with CHILDREN as run history lists them."""
    p = azure_pipeline(azure_example(tmp_path, fake_azure), fake_azure, fake_credential)
    submit_automl(p.backend.ml, PARENT)
    fake_azure.jobs.finish(PARENT)
    c = fake_azure.config
    fake_azure.serve("GET", f"{c.api_host}/history/v1.0{c.workspace_path}/runs/{PARENT}/children",
                     {"value": CHILDREN, "continuationToken": None, "count": len(CHILDREN), "nextLink": None},
                     op="RunHistory_GetChildren")
    return p


def test_only_trials_count_and_setup_featurize_and_worker_runs_are_left_out(parent):
    trials = parent.backend.list_child_runs(PARENT)
    assert [t.run_id.rsplit("_", 1)[1] for t in trials] == ["0", "1", "2", "3", "4", "5", "6"]
    by_id = {t.run_id: t for t in trials}
    assert by_id[f"{PARENT}_5"].metric_value == 0.9234 and by_id[f"{PARENT}_5"].has_model
    assert by_id[f"{PARENT}_3"].metric_value is None and not by_id[f"{PARENT}_3"].has_model  # failed
    assert by_id[f"{PARENT}_0"].metric_value is None  # "NaN" is no score


def test_the_best_child_the_parent_names_is_the_ensemble_and_it_is_registered(parent, fake_azure):
    job = parent.backend.get_job(PARENT)
    assert (job.best_child_run_id, job.best_algorithm, job.best_metric_value) == (f"{PARENT}_5", "VotingEnsemble",
                                                                                   0.9234)
    model = parent.register(job)
    assert model.run_id == f"{PARENT}_5" and model.tags["azml2aks.algorithm"] == "VotingEnsemble"


def test_without_the_best_child_tag_the_ranking_skips_setup_failed_canceled_and_unscored_runs(parent, fake_azure):
    job = parent.backend.get_job(PARENT)
    untagged = TrainResult(**{**job.to_dict(), "best_child_run_id": None, "best_metric_value": None,
                              "best_algorithm": None})
    model = parent.register(untagged)
    assert model.run_id == f"{PARENT}_5"  # 0.9234 beats the StackEnsemble; NaN never wins
