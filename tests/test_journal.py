"""The run journal: runs per backend, earlier finished stages found, interrupted ones not."""

from __future__ import annotations

import pytest

from azml2aks.cli import main
from azml2aks.journal import Journal
from azml2aks.pipeline import STAGES, load_pipeline
from tests.conftest import copy_example


def test_the_latest_run_of_the_other_backend_is_never_continued(tmp_path):
    local = Journal.start(tmp_path, pipeline="p.yaml", backend="local")
    local.record("train", {"job_name": "local-job"})
    Journal.start(tmp_path, pipeline="p.yaml", backend="azure")
    assert Journal.latest(tmp_path).backend == "azure"
    assert Journal.latest(tmp_path, backend="local").run_id == local.run_id


def test_an_interrupted_train_leaves_the_previous_finished_job_findable(tmp_path):
    done = Journal.start(tmp_path, pipeline="p.yaml", backend="local")
    done.record("train", {"job_name": "job-1"})
    interrupted = Journal.start(tmp_path, pipeline="p.yaml", backend="local")
    interrupted.begin("train")
    interrupted.fail("train", {"error": "Interrupted", "message": "interrupted (Ctrl-C or SIGTERM)"})
    assert Journal.latest(tmp_path, backend="local").run_id == interrupted.run_id
    assert interrupted.stage("train") is None
    assert Journal.find(tmp_path, "train", backend="local").run_id == done.run_id


def finished_run(pipeline_path, workdir, backend="local"):
    journal = Journal.start(workdir, pipeline=str(pipeline_path), backend=backend)
    results = {
        "train": {"job_name": "job-1", "status": "Completed", "trials": 3, "primary_metric": "accuracy",
                  "best_metric_value": 0.97, "best_algorithm": "LightGBM", "best_child_run_id": "child-1"},
        "register": {"name": "wine-classifier", "version": "1", "aliases": ["champion"], "metric_name": "accuracy",
                     "metric_value": 0.97, "run_id": "child-1", "job_name": "job-1"},
        "package": {"directory": str(workdir / "build" / "wine-classifier-1"), "environment_name": "env",
                    "environment_version": "1", "environment_reused": True},
        "attach": {"compute": "local", "status": "local"},
        "deploy": {"result": "promoted", "colour": "green", "endpoint": "wine-endpoint", "traffic": {"green": 100},
                   "scoring_uri": "http://127.0.0.1:1/score"},
    }
    for stage in STAGES:
        journal.record(stage, results[stage])
    return journal, results


def test_run_resume_with_nothing_left_returns_every_stages_result(tmp_path):
    wine = copy_example(tmp_path)
    journal, results = finished_run(wine, tmp_path / "wd")
    out = load_pipeline(wine, workdir=tmp_path / "wd").run(resume=True)
    assert {s: out[s] for s in STAGES} == results
    assert out["resumed"] == list(STAGES) and out["run_id"] == journal.run_id


@pytest.mark.parametrize("output", ["text", "json"])
def test_run_resume_with_nothing_left_prints_every_stage(tmp_path, capsys, output):
    import json

    wine = copy_example(tmp_path)
    finished_run(wine, tmp_path / "wd")
    code = main(["run", str(wine), "--resume", "--workdir", str(tmp_path / "wd"), "-o", output])
    out = capsys.readouterr().out
    assert code == 0
    if output == "json":
        assert set(STAGES) <= set(json.loads(out))
    else:
        for label in ("train:", "register:", "package:", "attach:", "deploy:", "resumed:"):
            assert label in out


def test_run_resume_does_not_take_the_other_backends_run(tmp_path):
    wine = copy_example(tmp_path)
    finished_run(wine, tmp_path / "wd", backend="azure")
    pipeline = load_pipeline(wine, workdir=tmp_path / "wd")
    assert pipeline.journal.backend == "local" and pipeline.journal.stage("train") is None
