"""The sequential test, without servers: a round stops once its verdict is settled, and the
engine's judgement of the stopped round agrees with the reason it stopped."""

from __future__ import annotations

from azml2aks.config import Gates
from azml2aks.rollout import RowOutcome, StopRule, Tally, judge


def feed(rule, outcomes, planned):
    """Feed outcomes one by one; (rows fed when settled, verdict) or (all rows, None)."""
    tally = Tally(planned=planned)
    for count, outcome in enumerate(outcomes, 1):
        tally.add(outcome)
        verdict = rule.settled(tally.result())
        if verdict:
            return count, verdict, tally
    return len(tally), None, tally


def row(i, ms=5.0, base_ms=5.0, agree=True, correct=None):
    return RowOutcome(i, ms, base_ms, has_baseline=True, agree=agree, correct=correct)


def gates_of(j):
    return {f.gate: f for f in j.figures}


def test_a_wrong_model_is_settled_after_four_rows_of_a_36_row_round():
    count, verdict, tally = feed(StopRule(Gates()), [row(i, agree=False) for i in range(36)], 36)
    assert (count, verdict) == (4, "fail")
    j = judge(tally.result(), Gates())
    assert j.verdict == "fail" and j.failed == ["agreement"]
    agreement = gates_of(j)["agreement"]
    assert (agreement.value, agreement.n, agreement.interval[0]) == (0.0, 4, 0.0)


def test_one_failed_request_settles_the_round_when_it_is_over_the_allowance():
    outcomes = [row(0), RowOutcome(1, None, 5.0, has_baseline=True)] + [row(i) for i in range(2, 40)]
    count, verdict, tally = feed(StopRule(Gates()), outcomes, 40)
    assert (count, verdict) == (2, "fail")
    assert judge(tally.result(), Gates()).failed == ["error_rate"]


def test_errors_within_a_generous_allowance_do_not_stop_the_round():
    outcomes = [RowOutcome(0, None, 5.0, has_baseline=True)] + [row(i) for i in range(1, 30)]
    count, verdict, _ = feed(StopRule(Gates(max_error_rate=0.1)), outcomes, 30)
    assert (count, verdict) == (30, "pass")


def test_a_slow_candidate_is_settled_by_the_sign_test_after_five_pairs():
    count, verdict, tally = feed(StopRule(Gates()), [row(i, ms=300.0, base_ms=10.0) for i in range(40)], 40)
    assert (count, verdict) == (5, "fail")
    ratio = gates_of(judge(tally.result(), Gates()))["p99_ratio"]
    assert (ratio.status, ratio.value, ratio.n) == ("fail", 3.0, 5)
    assert ratio.p_value == 1 / 32


def test_a_healthy_round_runs_its_whole_budget_and_passes():
    count, verdict, tally = feed(StopRule(Gates()), [row(i) for i in range(36)], 36)
    assert (count, verdict) == (36, "pass")
    result = tally.result()
    assert (result.rows, result.planned, result.compared) == (36, 36, 36)


def test_two_hiccups_on_a_busy_machine_do_not_fail_the_latency_gate():
    outcomes = [row(i, ms=400.0 if i in (3, 17) else 6.0, base_ms=6.0) for i in range(30)]
    count, verdict, tally = feed(StopRule(Gates()), outcomes, 30)
    assert (count, verdict) == (30, "pass")
    ratio = gates_of(judge(tally.result(), Gates()))["p99_ratio"]
    assert ratio.value == 4.0 and ratio.status == "pass" and ratio.p_value == 0.25


def test_machine_noise_that_slows_both_colours_of_a_pair_is_a_tie():
    outcomes = [row(i, ms=900.0 if i % 3 == 0 else 6.0, base_ms=900.0 if i % 3 == 0 else 6.0) for i in range(30)]
    j = judge(feed(StopRule(Gates(max_p99_ms=2000)), outcomes, 30)[2].result(), Gates(max_p99_ms=2000))
    assert gates_of(j)["p99_ratio"].p_value == 1.0 and j.verdict == "pass"


def test_a_model_one_row_worse_than_the_live_one_is_not_rolled_back():
    outcomes = [row(i, agree=i != 7) for i in range(36)]
    count, verdict, tally = feed(StopRule(Gates()), outcomes, 36)
    assert (count, verdict) == (36, "pass")
    agreement = gates_of(judge(tally.result(), Gates()))["agreement"]
    assert agreement.value == 35 / 36 and agreement.status == "pass"
    assert agreement.interval[0] < 0.95 <= agreement.interval[1]  # not evidence of a worse model


def test_accuracy_fails_only_when_its_whole_interval_lies_below_the_threshold():
    def accuracy(correct_rows):
        outcomes = [row(i, correct=i < correct_rows) for i in range(36)]
        tally = feed(StopRule(Gates(), "accuracy", 0.97), outcomes, 36)[2]
        return gates_of(judge(tally.result(), Gates(), metric_name="accuracy", registered_metric=0.97))["accuracy"]

    near = accuracy(31)  # 0.861 against 0.92: within the interval, not evidence of a worse model
    assert near.status == "pass" and near.interval[1] >= near.threshold and near.n == 36
    far = accuracy(26)  # 0.722: the whole interval lies below 0.92
    assert far.status == "fail" and far.interval[1] < far.threshold


def test_a_stopped_round_reports_how_far_it_got():
    tally = feed(StopRule(Gates()), [row(i, agree=False) for i in range(36)], 36)[2]
    result = tally.result(seconds=0.4, stopped="settled (fail) after 4 of 36 rows")
    assert (result.candidate.samples, result.rows, result.planned, result.seconds) == (4, 4, 36, 0.4)


def test_a_higher_confidence_needs_more_evidence_to_fail():
    strict = feed(StopRule(Gates(confidence=0.99)), [row(i, ms=300.0, base_ms=10.0) for i in range(40)], 40)
    assert strict[:2] == (7, "fail")  # 0.5 ** 7 < 0.01 < 0.5 ** 6
