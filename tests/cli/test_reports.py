"""The `runs` and `report` verbs on recorded journals (no training), in and out of CI."""

from __future__ import annotations

import argparse
import json

import pytest

from azml2aks.cli import main
from azml2aks.cli.reports import reporting
from azml2aks.errors import RolloutAborted
from azml2aks.journal import Journal
from azml2aks.pipeline import load_pipeline
from tests.conftest import REPO
from tests.report import journals as J

WINE = str(REPO / "examples" / "wine-classification" / "pipeline.yaml")


def record(workdir, data) -> str:
    Journal(workdir / "runs" / data["run_id"] / "journal.json", data).save()
    return data["run_id"]


def two_runs(workdir) -> tuple[str, str]:
    first = record(workdir, J.promoted())
    second = J.rolled_back()
    second["run_id"] = "20260102-100000-beef"
    return first, record(workdir, second)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_runs_lists_each_run_with_every_stage_state_and_result(capsys, tmp_path):
    first, second = two_runs(tmp_path)
    code, out, _ = run(capsys, "runs", WINE, "--workdir", str(tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{first}  local") and f"{second} (latest)  local" in out
    assert "  deploy    done     promoted: green on wine-endpoint, traffic blue=0 green=100" in lines
    assert any(line.startswith("  deploy    failed   RolloutAborted: rollout of 'green'") for line in lines)


def test_runs_as_json_carries_each_stage_result_or_error(capsys, tmp_path):
    first, second = two_runs(tmp_path)
    code, out, _ = run(capsys, "runs", WINE, "--workdir", str(tmp_path), "-o", "json")
    runs = json.loads(out)
    assert code == 0 and [r["run_id"] for r in runs] == [first, second]
    assert runs[0]["stages"]["register"]["result"]["version"] == "2"
    assert runs[1]["stages"]["deploy"]["state"] == "failed"
    assert runs[1]["stages"]["deploy"]["error"]["report"]["result"] == "rolled_back"
    assert runs[1]["latest"] is True and runs[0]["latest"] is False


def test_runs_in_an_empty_work_dir_says_so_and_creates_nothing(capsys, tmp_path):
    code, out, _ = run(capsys, "runs", WINE, "--workdir", str(tmp_path / "work"))
    assert code == 0 and "no runs in the work dir yet" in out
    assert not (tmp_path / "work").exists()


def test_report_writes_html_and_markdown_of_the_chosen_run(capsys, tmp_path):
    first, _ = two_runs(tmp_path)
    code, out, _ = run(capsys, "report", WINE, "--workdir", str(tmp_path), "--run", first)
    folder = tmp_path / "runs" / first
    assert code == 0
    assert out.splitlines()[0].startswith(f"report of run {first}: promoted — green passed")
    assert f"html:     {folder / 'report.html'}" in out
    assert (folder / "report.md").read_text().startswith(f"## azml2aks run {first}: ✅ promoted")


def test_report_defaults_to_the_latest_run_and_uploads_the_summary_in_azure_devops(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TF_BUILD", "True")
    _, second = two_runs(tmp_path)
    code, out, err = run(capsys, "report", WINE, "--workdir", str(tmp_path), "-o", "json")
    written = json.loads(out)
    assert code == 0 and written["run_id"] == second and written["result"] == "rolled back"
    assert f"##vso[task.uploadsummary]{tmp_path / 'runs' / second / 'report.md'}" in err.splitlines()


def test_report_appends_the_summary_to_github_step_summary(capsys, tmp_path, monkeypatch):
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    first, _ = two_runs(tmp_path)
    code, _, _ = run(capsys, "report", WINE, "--workdir", str(tmp_path), "--run", first, "--dir", str(tmp_path / "out"))
    assert code == 0 and (tmp_path / "out" / "report.html").is_file()
    assert summary.read_text().startswith(f"## azml2aks run {first}: ✅ promoted")


def test_report_of_an_unknown_run_exits_1_naming_the_runs_there_are(capsys, tmp_path):
    first, second = two_runs(tmp_path)
    code, _, err = run(capsys, "report", WINE, "--workdir", str(tmp_path), "--run", "nope")
    assert code == 1
    assert "error: no run 'nope' in the work dir" in err and f"{first}, {second}" in err


def _args(**kw):
    return argparse.Namespace(**{"no_report": False, "dry_run": False, "quiet": True, **kw})


def test_run_and_deploy_write_the_report_when_the_verb_fails_and_the_error_still_propagates(tmp_path):
    first = record(tmp_path, J.rolled_back())
    pipeline = load_pipeline(WINE, workdir=tmp_path)
    with pytest.raises(RolloutAborted), reporting(_args(), pipeline):
        raise RolloutAborted("rolled back", report={})
    assert (tmp_path / "runs" / first / "report.md").read_text().startswith(f"## azml2aks run {first}: ❌ rolled back")


def test_no_report_and_dry_run_write_no_report(tmp_path):
    first = record(tmp_path, J.promoted())
    for args in (_args(no_report=True), _args(dry_run=True)):
        with reporting(args, load_pipeline(WINE, workdir=tmp_path)):
            pass
    assert sorted(p.name for p in (tmp_path / "runs" / first).iterdir()) == ["journal.json"]
