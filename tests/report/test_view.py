"""The report's facts from a journal: leaderboard, lineage, contract test, timeline, verdict."""

from __future__ import annotations

from azml2aks.report.view import build_view, stage_summary
from tests.report import journals as J


def test_leaderboard_ranks_every_trial_by_the_metric_and_marks_the_registered_one():
    train = build_view(J.promoted())["train"]
    assert [(t["rank"], t["run_id"], t["chosen"]) for t in train["trials"]] == [
        (1, "run-b", True), (2, "run-a", False), (3, "run-c", False)]
    assert train["trials"][0]["duration_seconds"] == 1.2 and train["trials"][0]["trial"] == 2


def test_a_lower_is_better_metric_ranks_the_smallest_first():
    data = J.promoted()
    data["stages"]["train"]["result"]["primary_metric"] = "normalized_root_mean_squared_error"
    trials = build_view(data)["train"]["trials"]
    assert [t["run_id"] for t in trials] == ["run-a", "run-b", "run-c"]


def test_a_run_that_did_not_register_says_where_the_trials_come_from():
    data = J.promoted()
    del data["facts"]
    train = build_view(data)["train"]
    assert train["trials"] == [] and "azml2aks register" in train["note"]


def test_a_run_that_registers_a_job_trained_elsewhere_shows_its_leaderboard():
    data = J.promoted()
    del data["stages"]["train"]  # CI: train and wait ran on other agents, register here
    train = build_view(data)["train"]
    assert train["trained_here"] is False and train["job_name"] == "job-1"
    assert [t["run_id"] for t in train["trials"] if t["chosen"]] == ["run-b"]


def test_model_lineage_comes_from_its_tags():
    model = build_view(J.promoted())["model"]
    assert model["ref"] == "wine-classifier:2"
    assert model["lineage"] == {"job": "job-1", "git_commit": "a" * 40, "ci_build_id": "4711"}
    assert model["tags"] == {"team": "ml"}


def test_a_failed_round_followed_by_another_attempt_shows_as_re_measured():
    steps = build_view(J.promoted())["rollout"]["steps"]
    assert [(s["label"], s["shown_verdict"]) for s in steps] == [
        ("smoke", "pass"), ("shadow", "pass"), ("step 10 %", "re-measured"), ("step 10 % (attempt 2)", "pass"),
        ("step 100 %", "pass")]


def test_gate_figures_keep_value_threshold_status_and_direction():
    shadow = build_view(J.promoted())["rollout"]["steps"][1]
    gates = {g["gate"]: g for g in shadow["gates"]}
    assert gates["agreement"] == {"gate": "agreement", "value": 0.97, "threshold": 0.85, "status": "pass", "op": ">="}
    assert gates["p99_ms"]["op"] == "<=" and gates["accuracy"]["op"] == ">="
    assert shadow["agreement"] == 0.97 and shadow["metric"] == 0.95
    assert shadow["colours"]["blue"]["p99_ms"] == 11.0


def test_step_keys_the_engine_does_not_write_today_are_kept_as_extras():
    steps = build_view(J.promoted())["rollout"]["steps"]
    assert steps[3]["extras"] == {"samples_distinct": 36, "decision_seconds": 0.8}
    assert steps[0]["extras"] == {}


def test_a_promoted_rollout_gives_its_reason_and_the_idle_colour():
    verdict = build_view(J.promoted())["verdict"]
    assert verdict["ok"] is True and verdict["result"] == "promoted"
    assert verdict["reason"] == ("green passed the smoke test, the shadow comparison and every gate of the ladder "
                                 "[10, 100] and now serves all traffic (blue=0 green=100); blue stays deployed at "
                                 "0 % for an instant rollback")


def test_a_rolled_back_rollout_is_read_from_the_failure_the_journal_recorded():
    view = build_view(J.rolled_back())
    assert view["verdict"] == {"result": "rolled back", "ok": False,
                               "reason": "shadow failed gate(s): agreement; blue kept 100 % of the traffic"}
    assert view["rollout"]["log_tail"] == "Traceback: <boom>"
    assert [s["shown_verdict"] for s in view["rollout"]["steps"]] == ["pass", "fail"]


def test_a_run_without_deploy_names_the_stage_that_failed():
    data = J.promoted()
    del data["stages"]["deploy"]
    data["stages"]["package"] = {"state": "failed", "error": {"error": "BackendError",
                                                              "message": "contract test: HTTP 500\nmore"}}
    verdict = build_view(data)["verdict"]
    assert verdict == {"result": "package failed", "ok": False, "reason": "BackendError: contract test: HTTP 500"}


def test_stage_summary_says_when_a_stage_never_finished():
    assert "not finished" in stage_summary("deploy", {"state": "running", "started": "x"})
    assert stage_summary("train", None) == "not run"
