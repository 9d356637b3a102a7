"""The endpoint lease value: tags in and out, lapse, renewal, who may take it."""
from __future__ import annotations

import os
import socket

from azml2aks.backends.azure.lease import (
    EXPIRES_TAG,
    OWNER_TAG,
    RUN_TAG,
    VERB_TAG,
    Lease,
    may_take,
    owner_alive,
    this_process,
    with_lease,
)


def alive(owner):
    return True


def test_a_lease_round_trips_through_the_endpoint_tags():
    lease = Lease.new("run-1", 1000.0, seconds=60, owner="1@h")
    assert Lease.from_tags({**lease.tags(), "team": "x"}) == lease
    assert lease.tags() == {RUN_TAG: "run-1", VERB_TAG: "rollout", OWNER_TAG: "1@h", EXPIRES_TAG: "1060"}


def test_no_run_tag_means_no_lease_and_an_unreadable_expiry_means_lapsed():
    assert Lease.from_tags({"team": "x"}) is None
    assert Lease.from_tags({RUN_TAG: "r", EXPIRES_TAG: "soon"}).expired(0)


def test_with_lease_replaces_only_the_lease_tags():
    tags = {"team": "x", RUN_TAG: "old", OWNER_TAG: "o", EXPIRES_TAG: "1"}
    assert with_lease(tags, None) == {"team": "x"}
    assert with_lease(tags, Lease("new", "p@h", 5))[RUN_TAG] == "new"


def test_a_free_lapsed_or_own_lease_may_be_taken_and_a_live_foreign_one_not():
    now = 1000.0
    assert may_take(None, now, alive=alive)
    assert may_take(Lease("r", "9@elsewhere", now - 1), now, alive=alive)
    assert may_take(Lease("r", this_process(), now + 600), now, alive=alive)
    assert not may_take(Lease("r", "9@elsewhere", now + 600), now, alive=alive)
    assert may_take(Lease("r", "9@elsewhere", now + 600), now, alive=lambda owner: False)


def test_renewal_is_due_once_less_than_half_is_left():
    lease = Lease.new("r", 0.0, seconds=100)
    assert not lease.renewal_due(40.0, seconds=100) and lease.renewal_due(60.0, seconds=100)


def test_a_process_of_this_host_that_is_gone_is_not_alive_but_another_hosts_is_assumed_alive():
    assert owner_alive(f"{os.getpid()}@{socket.gethostname()}")
    assert not owner_alive(f"999999999@{socket.gethostname()}")
    assert owner_alive("1@some-other-agent")


def test_describe_names_the_run_and_the_owner():
    text = Lease("20261129-1", "7@agent", 0.0, verb="traffic").describe(10.0)
    assert text.startswith("traffic of run 20261129-1 (7@agent)") and "lapsed" in text
