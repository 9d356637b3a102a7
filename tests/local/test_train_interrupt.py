"""Ctrl-C during train: the job is marked Canceled and its MLflow run KILLED (never left
RUNNING), and the run's journal records the train as interrupted."""

from __future__ import annotations

import pytest

from azml2aks.errors import NotFoundError
from azml2aks.journal import Journal
from azml2aks.pipeline import load_pipeline
from tests.conftest import copy_example


def test_ctrl_c_during_train_marks_the_job_canceled_and_its_mlflow_run_killed(tmp_path):
    pipeline = copy_example(tmp_path, max_trials=2)
    started = []

    def interrupt_when_running(event):
        if event.get("event") == "job" and event.get("status") == "Running":
            started.append(event["job"])
            raise KeyboardInterrupt  # what Ctrl-C raises in the middle of the search

    p = load_pipeline(pipeline, on_event=interrupt_when_running)
    with pytest.raises(KeyboardInterrupt):
        p.train()
    job = p.backend.get_job(started[0])
    assert job.status == "Canceled" and "interrupted" in job.error
    from azml2aks.backends.local import tracking

    assert tracking.client(p.workdir).get_run(started[0]).info.status == "KILLED"
    journal = Journal.latest(p.workdir, backend="local")
    assert journal.entry("train")["state"] == "failed" and journal.entry("train")["error"]["error"] == "Interrupted"
    assert journal.stage("train") is None  # not finished: --resume runs it again
    with pytest.raises(NotFoundError, match="no finished train recorded in the work dir .* \\(backend local\\)"):
        load_pipeline(pipeline).register()
