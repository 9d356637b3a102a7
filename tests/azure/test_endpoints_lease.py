"""One rollout at a time on an Azure endpoint: the lease in the endpoint's tags."""
from __future__ import annotations

import pytest

from azml2aks.backends.azure.lease import EXPIRES_TAG, OWNER_TAG, RUN_TAG
from azml2aks.errors import LockedError, RolloutAborted


def hold(fake, *, run="20261129-093000-beef", owner="77@other-agent", seconds=3600.0):
    tags = fake.endpoints.record("ep-fraud").body["tags"]
    tags.update({RUN_TAG: run, OWNER_TAG: owner, EXPIRES_TAG: str(int(fake.clock.time() + seconds))})


def live(fake):
    return {k: v for k, v in fake.endpoints.traffic("ep-fraud").items() if v}


def test_a_concurrent_second_rollout_refuses_naming_the_holder_and_changes_nothing(blue_live):
    w = blue_live
    hold(w.fake)
    with pytest.raises(LockedError) as info:
        w.pipeline().deploy(w.package())
    assert "20261129-093000-beef" in str(info.value) and "77@other-agent" in str(info.value)
    assert info.value.exit_code == 1 and info.value.holder == "20261129-093000-beef"
    assert "--wait-lock" in info.value.hint
    writes = [c for c in w.fake.calls() if c.method in ("PUT", "PATCH", "DELETE")]
    assert writes == []
    assert w.fake.endpoints.record("ep-fraud").body["tags"][RUN_TAG] == "20261129-093000-beef"


def test_traffic_promote_and_rollback_take_the_lease_too(blue_live):
    w = blue_live
    hold(w.fake)
    for verb in (lambda p: p.set_traffic(["blue=100"]), lambda p: p.promote("blue"), lambda p: p.rollback("blue")):
        with pytest.raises(LockedError):
            verb(w.pipeline())
    assert w.fake.count("OnlineEndpoints_CreateOrUpdate") == 0


def test_wait_lock_waits_for_the_holder_to_release_then_rolls_out(blue_live):
    w = blue_live
    hold(w.fake, seconds=600)
    result = w.pipeline().deploy(w.package(), wait_lock=1800)
    assert result.result == "promoted"
    assert w.fake.count("OnlineEndpoints_Update") == 2  # take, release
    ops = [c.op for c in w.fake.calls()]
    waiting = ops[:ops.index("OnlineEndpoints_Update")].count("OnlineEndpoints_Get")
    assert 2 <= waiting <= 26  # 600 s waited with reads 5 s apart growing to 30 s: no storm


def test_wait_lock_gives_up_after_its_timeout(blue_live):
    w = blue_live
    hold(w.fake, seconds=3600)
    with pytest.raises(LockedError):
        w.pipeline().deploy(w.package(), wait_lock=120)
    assert live(w.fake) == {"blue": 100}


def test_an_expired_lease_is_taken_over(blue_live):
    w = blue_live
    hold(w.fake, seconds=-60)
    assert w.pipeline().deploy(w.package()).result == "promoted"
    tags = w.fake.endpoints.record("ep-fraud").body["tags"]
    assert RUN_TAG not in tags


def test_a_lease_of_a_crashed_process_on_this_host_is_taken_over(blue_live):
    import socket

    w = blue_live
    hold(w.fake, owner=f"999999999@{socket.gethostname()}")
    assert w.pipeline().deploy(w.package()).result == "promoted"


def test_the_lease_is_taken_with_a_patch_of_the_tags_alone_keeping_other_tags(blue_live):
    w = blue_live
    w.fake.endpoints.record("ep-fraud").body["tags"]["team"] = "fraud"
    w.pipeline().deploy(w.package())
    patches = [c.request_json for c in w.fake.calls("OnlineEndpoints_Update")]
    assert set(patches[0]) == {"tags"} and patches[0]["tags"]["team"] == "fraud"
    assert patches[0]["tags"][RUN_TAG] == w.pipeline().journal.run_id
    assert patches[-1] == {"tags": {"team": "fraud"}}


def test_the_lease_is_released_when_the_rollout_fails(blue_live):
    w = blue_live
    w.fake.faults.image_build_failure("ep-fraud", "green")
    with pytest.raises(RolloutAborted):
        w.pipeline().deploy(w.package())
    assert RUN_TAG not in w.fake.endpoints.record("ep-fraud").body["tags"]


def test_a_lease_taken_over_mid_rollout_stops_before_the_next_change(blue_live):
    w = blue_live

    def steal_at_half(payload):
        if w.fake.endpoints.traffic("ep-fraud").get("green") == 10:
            hold(w.fake, run="20261129-intruder")
        return [int(r[0] + r[1] > 4) for r in payload["input_data"]["data"]]

    w.serve("green", steal_at_half)
    with pytest.raises(RolloutAborted) as info:
        w.pipeline().deploy(w.package())
    assert "20261129-intruder" in str(info.value)
    assert w.fake.endpoints.traffic("ep-fraud").get("green") != 50


def test_a_verb_on_an_endpoint_that_does_not_exist_says_so_and_leaves_nothing_behind(world):
    from azml2aks.errors import NotFoundError

    with pytest.raises(NotFoundError, match="ep-fraud"):
        world.pipeline().set_traffic(["blue=100"])
    assert [c for c in world.fake.calls() if c.method != "GET"] == []
