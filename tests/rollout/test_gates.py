"""Gate judgement: each gate's value, threshold and status."""

from __future__ import annotations

from azml2aks.config import Gates
from azml2aks.rollout import ProbeResult, Stats, judge, judge_smoke


def figures(j):
    return {f.gate: (f.value, f.threshold, f.status) for f in j.figures}


def test_all_gates_pass_on_a_healthy_colour():
    j = judge(ProbeResult(Stats(40, 0, 5, 9), Stats(40, 0, 5, 8), agreement=1.0), Gates())
    assert j.verdict == "pass"
    assert figures(j) == {
        "samples": (40, 20, "pass"),
        "error_rate": (0.0, 0.01, "pass"),
        "p99_ms": (9, 500.0, "pass"),
        "p99_ratio": (9 / 100.0, 2.0, "pass"),
        "agreement": (1.0, 0.95, "pass"),
    }


def test_too_few_samples_is_inconclusive_not_failed():
    j = judge(ProbeResult(Stats(5, 0, 5, 9), Stats(5, 0, 5, 8), agreement=0.5), Gates())
    assert j.verdict == "inconclusive"
    assert figures(j)["agreement"][2] == "inconclusive"


def test_errors_beyond_the_allowance_fail_even_with_few_samples():
    j = judge(ProbeResult(Stats(5, 5, None, None)), Gates())
    assert j.verdict == "fail"
    assert figures(j)["error_rate"] == (1.0, 0.01, "fail")


def test_p99_ratio_uses_the_noise_floor():
    j = judge(ProbeResult(Stats(40, 0, 5, 150), Stats(40, 0, 1, 2)), Gates())
    assert figures(j)["p99_ratio"] == (1.5, 2.0, "pass")
    j = judge(ProbeResult(Stats(40, 0, 5, 450), Stats(40, 0, 1, 200)), Gates())
    assert figures(j)["p99_ratio"] == (2.25, 2.0, "fail")


def test_online_metric_is_held_to_the_registered_metric_within_tolerance():
    ok = judge(ProbeResult(Stats(40, 0, 5, 9), metric=0.91), Gates(), metric_name="accuracy",
               registered_metric=0.95)
    assert figures(ok)["accuracy"] == (0.91, 0.95 - 0.05, "pass")
    bad = judge(ProbeResult(Stats(40, 0, 5, 9), metric=0.5), Gates(), metric_name="accuracy",
                registered_metric=0.95)
    assert bad.verdict == "fail" and bad.failed == ["accuracy"]
    minimised = judge(ProbeResult(Stats(40, 0, 5, 9), metric=0.2), Gates(),
                      metric_name="normalized_root_mean_squared_error", registered_metric=0.1)
    assert figures(minimised)["normalized_root_mean_squared_error"][1:] == (0.1 + 0.05, "fail")


def test_gates_without_a_baseline_are_skipped():
    j = judge(ProbeResult(Stats(40, 0, 5, 9)), Gates())
    assert figures(j)["p99_ratio"][2] == "skipped" and figures(j)["agreement"][2] == "skipped"
    assert j.verdict == "pass"


def test_smoke_fails_on_any_error():
    assert judge_smoke(ProbeResult(Stats(5, 0, 1, 2))).verdict == "pass"
    assert judge_smoke(ProbeResult(Stats(5, 1, 1, 2))).verdict == "fail"
    assert judge_smoke(ProbeResult(Stats(0, 0))).verdict == "fail"
