"""The service's documented lags and faults during traffic changes, waited out on the fake's
simulated clock: 429/5xx (azure-core retries, Retry-After honoured), 409 while Updating, 404
right after a create, and traffic reads that still show the old split."""
from __future__ import annotations

import pytest

from azml2aks.errors import BackendError, RolloutAborted


def live(fake):
    return {k: v for k, v in fake.endpoints.traffic("ep-fraud").items() if v}


def puts(fake):
    return [c.status for c in fake.calls("OnlineEndpoints_CreateOrUpdate")]


def test_throttling_during_a_traffic_change_is_retried_after_retry_after(blue_live):
    w = blue_live
    w.fake.faults.throttle("OnlineEndpoints_CreateOrUpdate", times=2, retry_after=7)
    result = w.pipeline().deploy(w.package())
    assert result.result == "promoted"
    assert puts(w.fake)[:2] == [429, 429]
    assert w.fake.clock.sleeps.count(7) >= 2


def test_server_errors_during_a_traffic_change_are_retried(blue_live):
    w = blue_live
    w.fake.faults.server_errors("OnlineEndpoints_CreateOrUpdate", times=3, status=503)
    assert w.pipeline().deploy(w.package()).result == "promoted"
    assert puts(w.fake)[:3] == [503, 503, 503]
    assert live(w.fake) == {"green": 100}


def test_a_traffic_change_refused_409_while_updating_is_retried_from_a_fresh_read(blue_live):
    w = blue_live
    w.fake.faults.fail_next("OnlineEndpoints_CreateOrUpdate", times=2, status=409, code="Conflict",
                            message="Online endpoint 'ep-fraud' is Updating")
    assert w.pipeline().deploy(w.package()).result == "promoted"
    assert puts(w.fake)[:2] == [409, 409]
    sequence = [c.op for c in w.fake.calls() if c.op in ("OnlineEndpoints_Get", "OnlineEndpoints_CreateOrUpdate")]
    first_put = sequence.index("OnlineEndpoints_CreateOrUpdate")
    retried = sequence[first_put:first_put + 4]
    assert retried == ["OnlineEndpoints_CreateOrUpdate", "OnlineEndpoints_Get"] * 2  # each retry reads afresh


def test_a_deployment_create_refused_while_the_endpoint_still_looks_updating_is_retried(world):
    world.serve("blue")
    assert world.pipeline().deploy(world.package()).result == "created"
    statuses = [c.status for c in world.fake.calls("OnlineDeployments_CreateOrUpdate")]
    assert statuses == [409, 201]  # the fake's lag right after the endpoint's create


def test_a_404_right_after_the_deployment_was_created_is_retried(blue_live):
    w = blue_live
    w.pipeline().deploy(w.package())
    first = w.fake.calls("OnlineEndpoints_CreateOrUpdate")[:2]
    assert [c.status for c in first] == [404, 201]
    assert first[0].request_json["properties"]["traffic"] == {"blue": 90, "green": 10}


def test_traffic_is_re_read_until_the_new_split_is_observed(blue_live):
    w = blue_live
    w.fake.config.stale_traffic_reads = 3
    result = w.pipeline().deploy(w.package())
    assert result.result == "promoted"
    for step in result.steps:
        if step["phase"] == "step":
            assert step["traffic"]["green"] == step["percent"]
    reads_between = w.fake.clock.sleeps  # paced: no read storm
    assert min(s for s in reads_between if s > 0) >= 1


def test_a_split_never_observed_fails_the_step_and_rolls_back(blue_live):
    w = blue_live
    w.fake.config.stale_traffic_reads = 10_000
    w.fake.config.consistency_seconds = 10_000.0
    with pytest.raises(RolloutAborted) as info:
        w.pipeline().deploy(w.package())
    assert "still reads" in str(info.value)
    assert live(w.fake) == {"blue": 100}


def test_set_traffic_by_hand_reports_a_split_that_never_shows(blue_live):
    w = blue_live
    w.pipeline().deploy(w.package())
    w.fake.settle()
    w.fake.config.stale_traffic_reads = 10_000
    w.fake.config.consistency_seconds = 10_000.0
    with pytest.raises(BackendError, match="still reads") as info:
        w.pipeline().set_traffic(["blue=100"])
    assert info.value.exit_code == 3
    assert live(w.fake) == {"blue": 100}  # applied; only the reads lag
