"""One rollout at a time per local endpoint: the rollout lock (EndpointLocks port).

A holder in another process (as a second `azml2aks deploy` would be) is simulated by a child
Python process that takes the lock and keeps it until its stdin closes; nothing here waits
on a clock."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import pytest

from azml2aks.backends.local.endpoints import LocalEndpoints
from azml2aks.backends.ports import EndpointLocks
from azml2aks.cli import main
from azml2aks.errors import LockedError
from tests.conftest import copy_example

HOLD = """
import sys
from pathlib import Path
from azml2aks.backends.local.endpoints import LocalEndpoints
with LocalEndpoints(sys.argv[1]).hold_endpoint(sys.argv[2], holder={"run_id": "run-0042", "verb": "deploy"},
                                                timeout=30):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def holder(tmp_path):
    """Start a process holding the rollout lock of endpoint 'wine-endpoint' under tmp_path/work."""
    procs = []

    def start(workdir=tmp_path / "work", endpoint="wine-endpoint"):
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(workdir), endpoint], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "held"
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.stdin.close()
            proc.wait(timeout=30)


def test_the_local_backend_implements_the_endpoint_lock_port(tmp_path):
    assert isinstance(LocalEndpoints(tmp_path), EndpointLocks)


def test_a_second_holder_is_refused_naming_the_holders_run_id_and_pid(tmp_path, holder):
    proc = holder()
    with pytest.raises(LockedError) as info, LocalEndpoints(tmp_path / "work").hold_endpoint(
            "wine-endpoint", holder={"run_id": "run-0043", "verb": "deploy"}, timeout=0):
        pass
    assert "endpoint 'wine-endpoint' is busy: deploy of run run-0042" in info.value.message
    assert f"pid {proc.pid}" in info.value.message and info.value.holder == "run-0042"


def test_another_endpoint_is_not_blocked(tmp_path, holder):
    holder()
    with LocalEndpoints(tmp_path / "work").hold_endpoint("other-endpoint", holder={}, timeout=0):
        pass


def test_a_waiting_holder_gets_the_lock_once_the_first_one_finishes(tmp_path, holder):
    proc = holder()
    got = threading.Event()

    def wait_for_it():
        with LocalEndpoints(tmp_path / "work").hold_endpoint("wine-endpoint", holder={}, timeout=120):
            got.set()

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    proc.stdin.close()  # the first rollout ends
    proc.wait(timeout=30)
    waiter.join(timeout=120)
    assert got.is_set()


def test_a_holder_killed_outright_leaves_no_stale_lock(tmp_path, holder):
    proc = holder()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with LocalEndpoints(tmp_path / "work").hold_endpoint("wine-endpoint", holder={}, timeout=0):
        pass


def test_traffic_promote_and_rollback_are_refused_while_a_deploy_holds_the_endpoint(tmp_path, holder, capsys):
    wine = copy_example(tmp_path)
    holder(workdir=tmp_path / "wd")
    write_live_endpoint(tmp_path / "wd", {"blue": 100, "green": 0})
    for argv in (["traffic", str(wine), "blue=100"], ["promote", str(wine), "--deployment", "green"],
                 ["rollback", str(wine), "--deployment", "blue"]):
        code = main([*argv, "--workdir", str(tmp_path / "wd")])
        err = capsys.readouterr().err
        assert code == 1 and "is busy: deploy of run run-0042" in err, argv


def write_live_endpoint(workdir, traffic):
    folder = workdir / "endpoints" / "wine-endpoint"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state.json").write_text(json.dumps({
        "name": "wine-endpoint", "generation": 1, "traffic": traffic, "router": {"port": 1},
        "scoring_uri": "http://127.0.0.1:1/api/v1/endpoint/wine-endpoint/score",
        "deployments": {c: {"status": "Succeeded"} for c in traffic}}))


def test_zero_traffic_everywhere_on_a_live_endpoint_is_refused_without_allow_empty(tmp_path, capsys):
    wine = copy_example(tmp_path)
    write_live_endpoint(tmp_path / "wd", {"blue": 100, "green": 0})
    code = main(["traffic", str(wine), "blue=0", "green=0", "--workdir", str(tmp_path / "wd")])
    err = capsys.readouterr().err
    assert code == 1 and "would take it down" in err and "--allow-empty" in err
    state = json.loads((tmp_path / "wd" / "endpoints" / "wine-endpoint" / "state.json").read_text())
    assert state["traffic"] == {"blue": 100, "green": 0}
