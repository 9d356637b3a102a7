"""Local train and register: FLAML trials as MLflow child runs, the best child registered."""

from __future__ import annotations

import json

import pytest

from azml2aks.errors import GateError
from azml2aks.pipeline import load_pipeline
from tests.conftest import copy_example


def test_train_records_one_child_run_per_trial_and_tags_the_best(trained_wine):
    pipeline, job, _ = trained_wine
    p = load_pipeline(pipeline)
    children = p.backend.list_child_runs(job.job_name)
    assert job.status == "Completed" and job.trials == len(children) == 6
    best = max(children, key=lambda c: c.metric_value)
    assert job.best_child_run_id == best.run_id
    assert job.best_metric_value == pytest.approx(best.metric_value)
    assert [c.run_id for c in children if c.has_model] == [best.run_id]
    assert all(c.params for c in children)


def test_registered_model_carries_lineage_tags(trained_wine):
    _, job, model = trained_wine
    tags = model.tags
    assert tags["azml2aks.job"] == job.job_name
    assert tags["azml2aks.child_run_id"] == job.best_child_run_id == model.run_id
    assert tags["azml2aks.primary_metric"] == "accuracy"
    assert float(tags["azml2aks.metric_value"]) == pytest.approx(job.best_metric_value)
    assert tags["azml2aks.training_data"] == "data/wine.csv"
    assert len(tags["azml2aks.training_data_sha256"]) == 64
    assert model.aliases == ("champion",)


def test_registering_the_same_child_twice_returns_the_existing_version(trained_wine):
    pipeline, job, model = trained_wine
    again = load_pipeline(pipeline).register(job.job_name)
    assert (again.version, again.reused) == (model.version, True)


def test_saved_model_predicts_labels_and_probabilities_like_in_training(trained_wine):
    import mlflow.sklearn
    import pandas as pd

    pipeline, _, model = trained_wine
    loaded = mlflow.sklearn.load_model(model.source)
    holdout = pd.read_csv(pipeline.parent / "data" / "wine-holdout.csv")
    features = holdout.drop(columns=["cultivar"])
    predicted = loaded.predict(features)
    assert set(predicted) <= {"class_0", "class_1", "class_2"}
    assert (predicted == holdout["cultivar"]).mean() > 0.8
    assert loaded.predict_proba(features).shape == (len(holdout), 3)


def test_below_min_metric_nothing_is_registered(trained_wine, tmp_path):
    pipeline, job, _ = trained_wine
    strict = pipeline.parent / "strict.yaml"
    strict.write_text(pipeline.read_text().replace("min_metric: 0.85", "min_metric: 0.999"))
    p = load_pipeline(strict)
    before = len(p.models())
    with pytest.raises(GateError, match=r"below model.min_metric 0.999; nothing registered"):
        p.register(job.job_name)
    assert len(p.models()) == before


def test_champion_alias_moves_only_to_a_better_model(tmp_path):
    pipeline = copy_example(tmp_path, max_trials=3)
    p = load_pipeline(pipeline)
    first = p.register(p.train())
    assert first.aliases == ("champion",)
    weaker = pipeline.parent / "weaker.yaml"
    # a single LogisticRegression trial of the same experiment: a different, usually weaker model
    weaker.write_text(pipeline.read_text().replace("max_trials: 3", "max_trials: 1").replace(
        "[LightGBM, RandomForest, ExtremeRandomTrees, LogisticRegression]", "[LogisticRegression]"))
    q = load_pipeline(weaker)
    second = q.register(q.train())
    champion = q.backend.get_model(second.name, alias="champion")
    better = second.metric_value > first.metric_value
    assert champion.version == (second.version if better else first.version)
    forced = q.register(second.job_name, force=True)
    assert q.backend.get_model(second.name, alias="champion").version == forced.version


def test_same_seed_gives_the_same_trials(tmp_path):
    runs = []
    for i in range(2):
        pipeline = copy_example(tmp_path / str(i), max_trials=3)
        p = load_pipeline(pipeline)
        job = p.train()
        runs.append(sorted((c.algorithm, round(c.metric_value, 6), json.dumps(c.params, sort_keys=True))
                           for c in p.backend.list_child_runs(job.job_name)))
    assert runs[0] == runs[1]


def test_regression_example_trains_with_its_metric(tmp_path):
    pipeline = copy_example(tmp_path, "diabetes-regression", max_trials=3)
    p = load_pipeline(pipeline)
    job = p.train()
    assert job.primary_metric == "r2_score" and job.best_metric_value > 0.2
    model = p.register(job)
    assert model.metric_name == "r2_score"


def test_no_wait_returns_a_queued_job_that_wait_follows_to_the_end(tmp_path):
    pipeline = copy_example(tmp_path, max_trials=3)
    events: list[dict] = []
    p = load_pipeline(pipeline, on_event=events.append)
    submitted = p.train(wait=False)
    assert submitted.status in {"Queued", "Running", "Completed"}
    done = load_pipeline(pipeline, on_event=events.append).wait()
    assert done.job_name == submitted.job_name and done.status == "Completed"
    assert [e["trial"] for e in events if e.get("event") == "trial"] == [1, 2, 3]


def test_wait_marks_a_job_failed_when_its_worker_died(tmp_path):
    from azml2aks import processes
    from azml2aks.backends.local import jobs
    from azml2aks.errors import BackendError

    pipeline = copy_example(tmp_path, max_trials=3)
    p = load_pipeline(pipeline)
    job = jobs.create_job(p.config, base_dir=p.base_dir, workdir=p.workdir)
    folder = p.workdir / "jobs" / job
    pid = processes.spawn([__import__("sys").executable, "-c", "print('worker crashed: out of memory')"],
                          env={}, log_path=folder / "worker.log")
    for _ in range(600):  # bounded: the child exits at once
        if not processes.is_alive(pid):
            break
        __import__("time").sleep(0.05)
    (folder / "worker.json").write_text(json.dumps({"pid": pid}))
    with pytest.raises(BackendError, match="worker process is gone") as info:
        p.backend.wait_job(job, sleep=lambda s: None)
    assert "out of memory" in str(info.value)
    assert p.backend.get_job(job).status == "Failed"
