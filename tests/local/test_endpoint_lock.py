"""One rollout at a time on the local backend: the endpoint's file lock."""
from __future__ import annotations

import pytest

from azml2aks.backends.local.endpoints import LocalEndpoints
from azml2aks.errors import LockedError


def test_a_second_holder_of_the_local_endpoint_is_refused_naming_the_first(tmp_path):
    first, second = LocalEndpoints(tmp_path), LocalEndpoints(tmp_path)
    with first.hold_endpoint("ep", holder={"run_id": "run-a", "verb": "deploy"}, timeout=0):
        with pytest.raises(LockedError) as info:
            with second.hold_endpoint("ep", holder={"run_id": "run-b", "verb": "traffic"}, timeout=0):
                pass
        assert "deploy of run run-a" in str(info.value) and info.value.holder == "run-a"
    with second.hold_endpoint("ep", holder={"run_id": "run-b", "verb": "traffic"}, timeout=0):  # released
        pass


def test_waiting_for_the_local_lock_gives_up_after_the_timeout(tmp_path):
    first, second = LocalEndpoints(tmp_path), LocalEndpoints(tmp_path)
    with first.hold_endpoint("ep", holder={"run_id": "run-a", "verb": "deploy"}, timeout=0):
        with pytest.raises(LockedError):
            with second.hold_endpoint("ep", holder={"run_id": "run-b", "verb": "deploy"}, timeout=0.2):
                pass
