"""The run journal: stage states, failures, listing runs, and reads that never write."""

from __future__ import annotations

import json

import pytest

from azml2aks.errors import NotFoundError
from azml2aks.journal import Journal
from azml2aks.pipeline import load_pipeline
from tests.conftest import REPO

WINE = REPO / "examples" / "wine-classification" / "pipeline.yaml"


def test_reading_the_journal_of_an_empty_work_dir_writes_nothing(tmp_path):
    p = load_pipeline(WINE, workdir=tmp_path / "work")
    assert p.journal.stage("train") is None
    assert p.runs() == []
    assert not (tmp_path / "work" / "runs").exists()


def test_a_new_journal_appears_on_disk_with_its_first_record(tmp_path):
    journal = Journal.new(tmp_path, pipeline="p.yaml", backend="local")
    assert not journal.saved and Journal.latest(tmp_path) is None
    journal.begin("register")
    assert journal.saved and (tmp_path / "runs" / "LATEST").read_text() == journal.run_id
    assert Journal.latest(tmp_path).entry("register")["state"] == "running"


def test_stage_returns_only_a_finished_stage_and_entry_any_state(tmp_path):
    journal = Journal.start(tmp_path, pipeline="p.yaml", backend="local")
    journal.begin("deploy")
    assert journal.stage("deploy") is None and journal.entry("deploy")["state"] == "running"
    journal.record("deploy", {"result": "promoted"})
    assert journal.stage("deploy")["result"] == {"result": "promoted"}
    journal.begin("deploy")  # running again: the last result stays readable (wait re-enters train)
    assert journal.stage("deploy") is None and journal.entry("deploy")["result"] == {"result": "promoted"}
    journal.fail("deploy", {"error": "RolloutAborted", "message": "aborted", "report": {"result": "rolled_back"}})
    entry = Journal.latest(tmp_path).entry("deploy")
    assert entry["state"] == "failed" and entry["error"]["report"] == {"result": "rolled_back"}
    assert journal.stage("deploy") is None


def test_record_keeps_extra_keys_beside_the_result(tmp_path):
    journal = Journal.start(tmp_path, pipeline="p.yaml", backend="local")
    journal.record("train", {"job_name": "j"}, note="x")
    saved = json.loads(journal.path.read_text())["stages"]["train"]
    assert saved["note"] == "x" and saved["result"] == {"job_name": "j"}


def test_a_fact_survives_its_stage_failing(tmp_path):
    journal = Journal.start(tmp_path, pipeline="p.yaml", backend="local")
    journal.begin("register")
    journal.add_fact("leaderboard", "job-1", [{"run_id": "a"}])
    journal.fail("register", {"error": "GateError", "message": "below model.min_metric"})
    saved = json.loads(journal.path.read_text())
    assert saved["facts"] == {"leaderboard": {"job-1": [{"run_id": "a"}]}}
    assert saved["stages"]["register"]["state"] == "failed"


def test_a_journal_written_before_stage_states_reads_as_done(tmp_path):
    folder = tmp_path / "runs" / "20250101-000000-0000"
    folder.mkdir(parents=True)
    (folder / "journal.json").write_text(json.dumps({"stages": {"train": {"finished": "x", "result": {"a": 1}}}}))
    (tmp_path / "runs" / "LATEST").write_text(folder.name)
    assert Journal.latest(tmp_path).stage("train")["result"] == {"a": 1}


def test_all_lists_runs_oldest_first_and_skips_a_damaged_one(tmp_path):
    for run_id in ("20260102-000000-bbbb", "20260101-000000-aaaa"):
        Journal(tmp_path / "runs" / run_id / "journal.json", {"run_id": run_id, "stages": {}}).save()
    broken = tmp_path / "runs" / "20260103-000000-cccc"
    broken.mkdir()
    (broken / "journal.json").write_text("{")
    assert [j.run_id for j in Journal.all(tmp_path)] == ["20260101-000000-aaaa", "20260102-000000-bbbb"]


def test_loading_an_unknown_run_names_the_runs_there_are(tmp_path):
    Journal.start(tmp_path, pipeline="p.yaml", backend="local")
    known = Journal.latest(tmp_path).run_id
    with pytest.raises(NotFoundError) as info:
        Journal.load(tmp_path, "20990101-000000-zzzz")
    assert "no run '20990101-000000-zzzz'" in info.value.message and known in info.value.hint


def test_loading_from_an_empty_work_dir_says_how_to_start_a_run(tmp_path):
    with pytest.raises(NotFoundError) as info:
        Journal.load(tmp_path)
    assert "azml2aks run PIPELINE" in info.value.hint
