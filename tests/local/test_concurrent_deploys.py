"""Two deploys of one endpoint at once: one rolls out, the other is refused naming the first
one's run id, and no process is left that the endpoint does not know about. Real router and
inference servers on 127.0.0.1; the first rollout is paused at its bake by an injected sleep."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from azml2aks import processes
from azml2aks.errors import LockedError
from azml2aks.rollout import driver as D
from tests.local.conftest import make_config

pytestmark = pytest.mark.e2e


def test_a_second_deploy_during_a_rollout_is_refused_and_leaves_no_stray_process(tmp_path, iris_files, endpoints):
    pkg, _, csv = iris_files
    config = make_config(tmp_path, csv, bake_seconds=0.01)
    payloads = D.load_holdout(config, csv.parent)

    def deploy(run_id, sleep):  # what the deploy stage does: hold the endpoint's lock, roll out
        pipeline = SimpleNamespace(config=config, backend=endpoints, journal=SimpleNamespace(run_id=run_id),
                                   on_event=lambda e: None)
        with D.held(pipeline, "deploy", timeout=0):
            return D.run_rollout(config, endpoints, code_dir=pkg, model=None, payloads=payloads, sleep=sleep)

    deploy("run-blue", lambda s: None)  # blue live at 100 %
    baking, release, outcome = threading.Event(), threading.Event(), {}

    def pause_at_first_bake(seconds):
        baking.set()
        release.wait(timeout=300)

    def first():
        outcome["first"] = deploy("run-first", pause_at_first_bake)

    rollout = threading.Thread(target=first)
    rollout.start()
    try:
        assert baking.wait(timeout=300)  # green is being rolled out and holds the endpoint
        with pytest.raises(LockedError) as info:
            deploy("run-second", lambda s: None)
    finally:
        release.set()
        rollout.join(timeout=300)
    assert "deploy of run run-first" in info.value.message and info.value.exit_code == 1
    assert outcome["first"].result == "promoted" and outcome["first"].traffic == {"blue": 0, "green": 100}
    health = endpoints.deployment_health("iris-ep")
    assert sorted(health) == ["blue", "green"] and all(h["alive"] for h in health.values())
    known = {h["pid"] for h in health.values()}
    assert all(processes.is_alive(pid) for pid in known)
