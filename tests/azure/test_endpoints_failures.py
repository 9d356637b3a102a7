"""A colour that fails on Azure: the service's error and both containers' log tails, exit 4,
and the live colour keeps 100 % (never touched)."""
from __future__ import annotations

import pytest

from azml2aks.errors import RolloutAborted
from tests.fakes import ScoringError


def live(fake):
    return {k: v for k, v in fake.endpoints.traffic("ep-fraud").items() if v}


def test_image_build_failure_aborts_with_the_services_error_and_both_logs(blue_live):
    w = blue_live
    w.fake.faults.image_build_failure("ep-fraud", "green")
    with pytest.raises(RolloutAborted) as info:
        w.pipeline().deploy(w.package())
    message = str(info.value)
    assert "ImageBuildFailure" in message and "Image build failed" in message
    assert "[storage-initializer]" in message and "[inference-server]" in message
    assert info.value.exit_code == 4
    assert live(w.fake) == {"blue": 100}
    assert w.fake.count("OnlineEndpoints_CreateOrUpdate") == 0  # the split was never touched


def test_readiness_failure_shows_the_inference_server_traceback(blue_live):
    w = blue_live
    w.fake.faults.readiness_probe_failure("ep-fraud", "green")
    with pytest.raises(RolloutAborted) as info:
        w.pipeline().deploy(w.package())
    assert "ResourceNotReady" in str(info.value)
    assert "init() failed" in info.value.report["log_tail"]
    assert live(w.fake) == {"blue": 100}


def test_deployment_progress_is_reported_while_the_image_builds(blue_live):
    w = blue_live
    w.fake.config.lro_seconds["OnlineDeployments_CreateOrUpdate"] = 300.0
    w.pipeline().deploy(w.package())
    progress = [e for e in w.events if e.get("event") == "deployment" and e.get("status") == "InProgress"]
    assert progress and progress[-1]["elapsed_seconds"] >= 250
    polls = [c for c in w.fake.calls("OperationStatus_Get")]
    assert len(polls) <= 20  # backoff to 30 s, not a poll every 5 s (60 for a 5-minute build)


def test_smoke_test_failure_rolls_back_and_keeps_green_for_inspection(blue_live):
    w = blue_live
    w.fake.scoring.register("ep-fraud", "green", lambda payload: (_ for _ in ()).throw(ScoringError(500, "boom")))
    with pytest.raises(RolloutAborted) as info:
        w.pipeline().deploy(w.package())
    assert "smoke test" in str(info.value)
    assert live(w.fake) == {"blue": 100}
    assert "green" in w.fake.deployments.names("ep-fraud")


@pytest.mark.parametrize("gate,serve,settings", [
    ("errors", "flaky", ""),
    ("agreement", "contrary", ""),
    ("p99_ms", "slow", ""),
    ("accuracy", "contrary", "  shadow_requests: 0\n"),
])
def test_each_gate_failing_restores_the_last_good_split(blue_live, gate, serve, settings):
    w = blue_live
    calls = {"n": 0}

    def flaky(payload):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise ScoringError(500, "intermittent")
        return [int(r[0] + r[1] > 4) for r in payload["input_data"]["data"]]

    def contrary(payload):
        return [1 - int(r[0] + r[1] > 4) for r in payload["input_data"]["data"]]

    fns = {"flaky": (flaky, {}), "contrary": (contrary, {}),
           "slow": (lambda payload: [int(r[0] + r[1] > 4) for r in payload["input_data"]["data"]], {})}
    fn, kwargs = fns[serve]
    if serve == "slow":
        text = (w.root / "pipeline.yaml").read_text().replace("    min_agreement: 0.9\n",
                                                               "    min_agreement: 0.9\n    max_p99_ms: 0.0001\n"
                                                               "    latency_retries: 0\n")
        (w.root / "pipeline.yaml").write_text(text)
    elif gate == "accuracy":
        text = (w.root / "pipeline.yaml").read_text().replace("    min_agreement: 0.9\n", "    min_agreement: 0\n")
        (w.root / "pipeline.yaml").write_text(text.replace("  shadow_requests: 20\n", settings))
    w.serve("green", fn, **kwargs)
    with pytest.raises(RolloutAborted) as info:
        w.pipeline().deploy(w.package())
    failed = [g["gate"] for s in info.value.report["steps"] for g in s["gates"] if g["status"] == "fail"]
    assert gate in failed, info.value.report["steps"]
    assert live(w.fake) == {"blue": 100}


def test_an_inconclusive_step_is_held_then_fails(blue_live):
    w = blue_live
    text = (w.root / "pipeline.yaml").read_text().replace("    min_samples: 10\n", "    min_samples: 35\n")
    (w.root / "pipeline.yaml").write_text(text)
    with pytest.raises(RolloutAborted) as info:
        w.pipeline().deploy(w.package())
    verdicts = [s["verdict"] for s in info.value.report["steps"] if s["phase"] == "shadow"]
    assert verdicts == ["inconclusive", "inconclusive"]
    assert "inconclusive" in str(info.value)
    assert live(w.fake) == {"blue": 100}


def test_a_gate_failing_mid_ladder_restores_the_split_before_the_rollout(blue_live):
    w = blue_live

    def turns_bad_at_half_traffic(payload):
        right = [int(r[0] + r[1] > 4) for r in payload["input_data"]["data"]]
        if w.fake.endpoints.traffic("ep-fraud").get("green", 0) >= 50:
            return [1 - p for p in right]
        return right

    w.serve("green", turns_bad_at_half_traffic)
    with pytest.raises(RolloutAborted) as info:
        w.pipeline().deploy(w.package())
    steps = [(s["phase"], s["percent"], s["verdict"]) for s in info.value.report["steps"]]
    assert steps == [("smoke", None, "pass"), ("shadow", None, "pass"), ("step", 10, "pass"), ("step", 50, "fail")]
    assert live(w.fake) == {"blue": 100}
