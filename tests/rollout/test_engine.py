"""The pure rollout engine: exact action sequences and exact injected waits."""

from __future__ import annotations

import pytest

from azml2aks.config import RolloutSettings
from azml2aks.rollout import (
    CreateDeployment,
    DeleteDeployment,
    Failed,
    Ok,
    Probe,
    ProbeResult,
    Promote,
    Rollback,
    Rollout,
    SetTraffic,
    Shadow,
    SmokeTest,
    Stats,
    Wait,
    choose_colour,
    drive,
    plan,
)

GOOD = ProbeResult(Stats(40, 0, 5.0, 9.0), Stats(40, 0, 5.0, 8.0), agreement=1.0)
FEW = ProbeResult(Stats(3, 0, 5.0, 9.0), Stats(3, 0, 5.0, 8.0), agreement=1.0)
SLOW = ProbeResult(Stats(40, 0, 400.0, 900.0), Stats(40, 0, 5.0, 8.0), agreement=1.0)
DISAGREE = ProbeResult(Stats(40, 0, 5.0, 9.0), Stats(40, 0, 5.0, 8.0), agreement=0.3)
DEAD = ProbeResult(Stats(40, 40, None, None), Stats(40, 0, 5.0, 8.0), agreement=None)


class Script:
    """An executor that answers each action from a script and records what it was asked."""

    def __init__(self, probes=(), fail=None):
        self.probes = list(probes)
        self.fail = fail or {}
        self.actions = []
        self.sleeps = []

    def __call__(self, action):
        self.actions.append(action)
        name = type(action).__name__
        if name in self.fail:
            return Failed(self.fail[name], log_tail="Traceback: boom")
        if isinstance(action, Wait):
            self.sleeps.append(action.seconds)
        if isinstance(action, SmokeTest):
            return ProbeResult(Stats(action.requests, 0, 5.0, 6.0))
        if isinstance(action, (Shadow, Probe)):
            return self.probes.pop(0) if self.probes else GOOD
        return Ok()


def settings(**kw):
    return RolloutSettings(**{"bake_seconds": 5.0, "shadow_requests": 50, **kw})


def test_rollout_walks_the_default_ladder_and_keeps_blue_at_zero():
    run = Script()
    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), run)
    assert run.actions == [
        CreateDeployment("green"),
        SmokeTest("green", 5),
        Shadow("green", "blue", 50, 30.0),
        SetTraffic({"blue": 90, "green": 10}),
        Wait(5.0, "bake at 10 %"),
        Probe("green", "blue", 10, 40, 30.0),
        SetTraffic({"blue": 50, "green": 50}),
        Wait(5.0, "bake at 50 %"),
        Probe("green", "blue", 50, 40, 30.0),
        SetTraffic({"blue": 0, "green": 100}),
        Wait(5.0, "bake at 100 %"),
        Probe("green", "blue", 100, 40, 30.0),
        Promote("green", "blue"),
    ]
    assert run.sleeps == [5.0, 5.0, 5.0]
    assert report.result == "promoted"
    assert report.traffic == {"blue": 0, "green": 100}
    assert [s["phase"] for s in report.steps] == ["smoke", "shadow", "step", "step", "step"]
    assert all(s["verdict"] == "pass" for s in report.steps)


def test_first_deploy_puts_the_new_colour_at_100_after_the_smoke_test():
    run = Script()
    report = drive(Rollout({}, "blue", settings()).flow(), run)
    assert run.actions == [CreateDeployment("blue"), SmokeTest("blue", 5),
                           SetTraffic({"blue": 100}), Promote("blue", None)]
    assert run.sleeps == []
    assert report.result == "created"


def test_rollout_restores_last_split_when_p99_gate_fails_at_50():
    run = Script(probes=[GOOD, GOOD, SLOW, SLOW])
    report = drive(Rollout({"blue": 100, "green": 0}, "green", settings()).flow(), run)
    assert run.actions[-5:] == [Wait(5.0, "bake at 50 %"), Probe("green", "blue", 50, 40, 30.0),
                                Wait(5.0, "measure step again: latency only"),
                                Probe("green", "blue", 50, 40, 30.0),
                                Rollback({"blue": 100, "green": 0}, report.reason)]
    assert [s["attempt"] for s in report.steps if s["percent"] == 50] == [1, 2]
    assert report.result == "rolled_back"
    assert report.traffic == {"blue": 100, "green": 0}
    assert "p99_ms" in report.reason and "p99_ratio" in report.reason
    failed = {g["gate"]: g for g in report.steps[-1]["gates"]}
    assert failed["p99_ms"]["status"] == "fail" and failed["p99_ms"]["value"] == 900.0


def test_one_slow_round_is_measured_again_and_a_good_second_round_passes():
    run = Script(probes=[GOOD, SLOW, GOOD])
    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), run)
    assert run.actions[5:8] == [Probe("green", "blue", 10, 40, 30.0),
                                Wait(5.0, "measure step again: latency only"),
                                Probe("green", "blue", 10, 40, 30.0)]
    assert report.result == "promoted"
    assert run.sleeps == [5.0, 5.0, 5.0, 5.0]


def test_a_slow_round_that_is_measured_again_is_shown_as_a_re_measure_not_a_failure():
    from azml2aks.rollout import format_step

    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), Script(probes=[GOOD, SLOW, GOOD]))
    slow = next(s for s in report.steps if s.get("then") == "re-measure")
    line = format_step(slow)
    assert "RE-MEASURE" in line and "FAIL" not in line and "measured again" in line


def test_latency_retries_zero_fails_on_the_first_slow_round():
    run = Script(probes=[GOOD, SLOW])
    gates = settings().gates.model_copy(update={"latency_retries": 0})
    report = drive(Rollout({"blue": 100}, "green", settings(gates=gates)).flow(), run)
    assert isinstance(run.actions[-1], Rollback) and report.result == "rolled_back"
    assert sum(isinstance(a, Probe) for a in run.actions) == 1


def test_an_error_gate_failure_is_not_measured_again():
    run = Script(probes=[GOOD, DEAD])
    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), run)
    assert sum(isinstance(a, Probe) for a in run.actions) == 1
    assert report.result == "rolled_back" and "error_rate" in report.reason


def test_green_at_100_is_compared_with_blue_as_it_was_under_load_not_idle():
    loaded_blue = ProbeResult(Stats(40, 0, 150.0, 300.0), Stats(40, 0, 150.0, 300.0), agreement=1.0)
    idle_blue = ProbeResult(Stats(40, 0, 200.0, 350.0), Stats(40, 0, 20.0, 50.0), agreement=1.0)
    run = Script(probes=[loaded_blue, loaded_blue, loaded_blue, idle_blue])
    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), run)
    assert report.result == "promoted"
    last = {g["gate"]: g for g in report.steps[-1]["gates"]}
    assert last["p99_ratio"]["value"] == pytest.approx(350.0 / 300.0)


def test_disagreeing_shadow_rolls_back_before_any_traffic_moves():
    run = Script(probes=[DISAGREE])
    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), run)
    assert not any(isinstance(a, SetTraffic) for a in run.actions)
    assert isinstance(run.actions[-1], Rollback)
    assert report.result == "rolled_back" and "agreement" in report.reason


def test_inconclusive_step_is_held_once_then_passes():
    run = Script(probes=[GOOD, FEW, GOOD])
    report = drive(Rollout({"blue": 100}, "green", settings(steps=[10, 100])).flow(), run)
    assert run.sleeps == [5.0, 5.0, 5.0]
    assert run.actions[3:8] == [
        SetTraffic({"blue": 90, "green": 10}),
        Wait(5.0, "bake at 10 %"),
        Probe("green", "blue", 10, 40, 30.0),
        Wait(5.0, "hold step: inconclusive"),
        Probe("green", "blue", 10, 40, 30.0),
    ]
    assert report.result == "promoted"
    assert [s["verdict"] for s in report.steps] == ["pass", "pass", "inconclusive", "pass", "pass"]


def test_inconclusive_twice_fails_with_the_default_single_hold():
    run = Script(probes=[GOOD, FEW, FEW])
    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), run)
    assert run.sleeps == [5.0, 5.0]
    assert report.result == "rolled_back" and "inconclusive" in report.reason
    assert run.actions[-1] == Rollback({"blue": 100}, report.reason)


def test_holds_are_configurable():
    run = Script(probes=[GOOD, FEW, FEW, FEW, GOOD])
    gates = {"inconclusive_holds": 3}
    report = drive(Rollout({"blue": 100}, "green", settings(steps=[100], gates=gates)).flow(), run)
    assert run.sleeps == [5.0, 5.0, 5.0, 5.0]
    assert report.result == "promoted"


def test_failed_create_rolls_back_and_keeps_the_log_tail():
    run = Script(fail={"CreateDeployment": "score.py init() raised"})
    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), run)
    assert run.actions == [CreateDeployment("green"), Rollback({"blue": 100}, report.reason)]
    assert report.result == "rolled_back"
    assert report.log_tail == "Traceback: boom"


def test_dead_green_mid_ladder_fails_the_error_gate():
    run = Script(probes=[GOOD, GOOD, DEAD])
    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), run)
    assert report.result == "rolled_back" and "error_rate" in report.reason
    assert report.traffic == {"blue": 100}


def test_failed_traffic_change_rolls_back():
    run = Script(fail={"SetTraffic": "409 Updating"})
    report = drive(Rollout({"blue": 100}, "green", settings(shadow_requests=0)).flow(), run)
    assert [type(a).__name__ for a in run.actions] == [
        "CreateDeployment", "SmokeTest", "SetTraffic", "Rollback"]
    assert report.result == "rolled_back"


def test_delete_previous_deletes_only_after_it_is_at_zero():
    run = Script()
    report = drive(Rollout({"blue": 100}, "green", settings(delete_previous=True, bake_seconds=0)).flow(), run)
    assert run.actions[-2:] == [Promote("green", "blue"), DeleteDeployment("blue")]
    assert report.traffic["blue"] == 0
    assert run.sleeps == []


def test_every_split_of_the_ladder_sums_to_100_and_keeps_a_stray_deployment_at_zero():
    ladder = [1, 5, 25, 60, 100]
    splits = [a.traffic for a in plan({"blue": 100, "green": 0, "old": 0}, "green", settings(steps=ladder))
              if isinstance(a, SetTraffic)]
    assert splits == [{"blue": 100 - p, "green": p, "old": 0} for p in ladder]
    assert all(sum(split.values()) == 100 for split in splits)


def test_plan_lists_the_happy_path_without_sleeping():
    actions = plan({"blue": 100}, "green", settings(shadow_requests=0, steps=[50, 100]))
    assert [type(a).__name__ for a in actions] == [
        "CreateDeployment", "SmokeTest", "SetTraffic", "Wait", "Probe", "SetTraffic", "Wait", "Probe", "Promote"]


def test_deploying_onto_a_colour_with_live_traffic_is_refused():
    with pytest.raises(ValueError, match="live traffic"):
        Rollout({"blue": 90, "green": 10}, "green", settings())
    with pytest.raises(ValueError, match="sum to 100"):
        Rollout({"blue": 90}, "green", settings())


def test_colour_choice_alternates():
    assert choose_colour({}, ("blue", "green")) == "blue"
    assert choose_colour({"blue": 100}, ("blue", "green")) == "green"
    assert choose_colour({"blue": 0, "green": 100}, ("blue", "green")) == "blue"


def test_every_round_carries_the_stopping_rule_the_engine_judges_with():
    run = Script()
    engine = Rollout({"blue": 100}, "green", settings(), metric_name="accuracy", registered_metric=0.97)
    drive(engine.flow(), run)
    rounds = [a for a in run.actions if isinstance(a, (Shadow, Probe))]
    assert len(rounds) == 4 and all(a.stop is not None for a in rounds)
    assert (rounds[0].stop.metric_name, rounds[0].stop.registered_metric) == ("accuracy", 0.97)
    assert rounds[-1].stop.live_p99_ms == 8.0  # blue's p99 from the earlier rounds, as judge uses it
    assert "stop" not in rounds[0].to_dict()  # the plan printed for --dry-run shows what is done, not how judged


def test_a_step_records_what_its_decision_rested_on_and_keeps_the_old_keys():
    measured = ProbeResult(Stats(4, 0, 5.0, 9.0), Stats(4, 0, 5.0, 8.0), agreement=0.0, compared=4, agreed=0,
                           pairs=((9.0, 8.0),) * 4, candidate_ms=(9.0,) * 4, rows=4, planned=36, seconds=0.25,
                           stopped="settled (fail) after 4 of 36 rows")
    report = drive(Rollout({"blue": 100}, "green", settings()).flow(), Script(probes=[measured]))
    shadow = report.steps[-1]
    assert {"phase", "percent", "attempt", "traffic", "verdict", "gates"} <= set(shadow)
    assert (shadow["samples"], shadow["rows"], shadow["planned"], shadow["seconds"]) == (4, 4, 36, 0.25)
    assert shadow["stopped"] == "settled (fail) after 4 of 36 rows" and shadow["confidence"] == 0.95
    agreement = next(g for g in shadow["gates"] if g["gate"] == "agreement")
    assert {"gate", "value", "threshold", "status"} <= set(agreement)
    assert (agreement["status"], agreement["n"], agreement["interval"][0]) == ("fail", 4, 0.0)
    assert report.result == "rolled_back" and "agreement" in report.reason
