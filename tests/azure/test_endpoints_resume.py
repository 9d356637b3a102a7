"""An interrupted rollout on Azure is continued by `deploy --resume` or undone by `rollback`,
from the run journal."""
from __future__ import annotations

import socket

import pytest

from azml2aks.backends.azure.lease import EXPIRES_TAG, OWNER_TAG, RUN_TAG
from azml2aks.errors import ConfigError, RolloutAborted

from . import helpers


def live(fake):
    return {k: v for k, v in fake.endpoints.traffic("ep-fraud").items() if v}


def interrupt_at(w, percent):
    """green answers until the split gives it ``percent``, then the operator presses Ctrl-C."""
    def fn(payload):
        if w.fake.endpoints.traffic("ep-fraud").get("green") == percent:
            raise KeyboardInterrupt
        return [int(r[0] + r[1] > 4) for r in payload["input_data"]["data"]]
    w.serve("green", fn)


def test_interruption_mid_ladder_restores_blue_then_resume_goes_on_from_the_last_passed_step(blue_live):
    w = blue_live
    interrupt_at(w, 50)
    with pytest.raises(RolloutAborted, match="interrupted"):
        w.pipeline().deploy(w.package())
    assert live(w.fake) == {"blue": 100}
    assert w.pipeline().journal.progress("rollout")["status"] == "interrupted"
    w.serve("green")
    w.fake.reset_log()
    result = w.pipeline().deploy(w.package(), resume=True)
    assert result.result == "promoted" and result.colour == "green"
    assert [(s["phase"], s["percent"]) for s in result.steps] == [("smoke", None), ("step", 10), ("step", 50),
                                                                  ("step", 100)]
    assert w.fake.count("OnlineDeployments_CreateOrUpdate") == 0  # green was not built again
    assert live(w.fake) == {"green": 100}


def crashed_mid_ladder(w):
    """A rollout whose process died at 50 %: traffic split, the lease still in the tags."""
    w.pipeline().deploy(w.package(), dry_run=True)
    helpers.k8s_deployment(w.ml, w.root, "ep-fraud", "green", fake=w.fake, model_path=w.model.source)
    w.fake.settle()
    helpers.set_traffic(w.ml, "ep-fraud", {"blue": 50, "green": 50}, fake=w.fake)
    w.fake.settle()
    w.fake.endpoints.record("ep-fraud").body["tags"].update({
        RUN_TAG: w.pipeline().journal.run_id, OWNER_TAG: f"999999999@{socket.gethostname()}",
        EXPIRES_TAG: str(int(w.fake.clock.time() + 3000))})
    w.pipeline().journal.record_progress("rollout", {
        "endpoint": "ep-fraud", "colour": "green", "previous": "blue", "start": {"blue": 100},
        "passed": 10, "model": w.model.ref, "environment": w.environment, "status": "running"})
    w.fake.reset_log()


def test_rollback_after_a_crash_mid_ladder_gives_the_previous_colour_all_traffic(blue_live):
    w = blue_live
    crashed_mid_ladder(w)
    out = w.pipeline().rollback()
    assert out["traffic"]["blue"] == 100 and live(w.fake) == {"blue": 100}
    with pytest.raises(ConfigError, match="no interrupted rollout"):  # undone: nothing left to resume
        w.pipeline().deploy(w.package(), resume=True)


def test_resume_after_a_crash_takes_over_the_dead_lease_and_finishes(blue_live):
    w = blue_live
    crashed_mid_ladder(w)
    result = w.pipeline().deploy(w.package(), resume=True)
    assert result.result == "promoted" and live(w.fake) == {"green": 100}
    assert RUN_TAG not in w.fake.endpoints.record("ep-fraud").body["tags"]


def test_resume_with_nothing_interrupted_says_so(blue_live):
    with pytest.raises(ConfigError, match="no interrupted rollout"):
        blue_live.pipeline().deploy(blue_live.package(), resume=True)


def test_dry_run_lists_the_plan_and_the_requests_without_sending_a_write(blue_live):
    w = blue_live
    result = w.pipeline().deploy(w.package(), dry_run=True)
    assert result.result == "planned" and result.colour == "green"
    assert any(r.startswith("PUT /onlineEndpoints/ep-fraud/deployments/green") for r in result.requests)
    assert any("traffic blue=90 green=10" in r for r in result.requests)
    assert [c for c in w.fake.calls() if c.method != "GET"] == []


def test_a_resumed_rollout_that_fails_at_once_still_restores_the_split_it_started_from(blue_live):
    w = blue_live
    crashed_mid_ladder(w)
    w.fake.scoring.register("ep-fraud", "green", lambda payload: 1 / 0)
    with pytest.raises(RolloutAborted):
        w.pipeline().deploy(w.package(), resume=True)
    assert live(w.fake) == {"blue": 100}
