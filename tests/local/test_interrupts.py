"""Interrupts leave nothing behind: a colour interrupted while it starts is stopped and marked
Failed, and a deploying process killed outright still leaves its server's pid where
`local down` finds it. Real processes on 127.0.0.1; the interrupt is a real SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from azml2aks import processes
from azml2aks.config.specs import DeploymentSpec, EndpointSpec

pytestmark = pytest.mark.e2e

SLOW = {"FAULT_INIT_SLEEP_S": "120"}  # the colour's init outlasts the test: it is still starting


def starting_server(state_path, colour: str, stop: threading.Event) -> int | None:
    """Poll state.json until ``colour`` is Creating with a server pid (what the deploy records
    before it waits); None if ``stop`` is set first."""
    while not stop.is_set():
        try:
            dep = json.loads(state_path.read_text())["deployments"].get(colour) or {}
        except (OSError, ValueError):
            dep = {}
        if dep.get("status") == "Creating" and (dep.get("server") or {}).get("pid"):
            return dep["server"]["pid"]
        stop.wait(0.05)
    return None


def test_ctrl_c_while_a_colour_starts_stops_its_server_and_marks_it_failed(endpoints, iris_files):
    pkg, _, _ = iris_files
    endpoints.ensure_endpoint(EndpointSpec(name="iris-ep", compute="local"))
    state_path = endpoints.root / "iris-ep" / "state.json"
    stop, seen = threading.Event(), {}

    def interrupt_once_starting():
        seen["pid"] = starting_server(state_path, "green", stop)
        if seen["pid"]:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, delivered to the main thread

    watcher = threading.Thread(target=interrupt_once_starting)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            endpoints.create_or_update_deployment(DeploymentSpec(
                endpoint_name="iris-ep", name="green", model=None, environment=None, code_dir=str(pkg),
                environment_variables=SLOW))
    finally:
        stop.set()
        watcher.join()
    health = endpoints.deployment_health("iris-ep")["green"]
    assert health["status"] == "Failed" and not health["alive"]
    assert seen["pid"] and not processes.is_alive(seen["pid"])


DEPLOY = """
import sys
from azml2aks.backends.local.endpoints import LocalEndpoints
from azml2aks.config.specs import DeploymentSpec, EndpointSpec
eps = LocalEndpoints(sys.argv[1], startup_timeout=300)
eps.ensure_endpoint(EndpointSpec(name="iris-ep", compute="local"))
eps.create_or_update_deployment(DeploymentSpec(endpoint_name="iris-ep", name="green", model=None,
    environment=None, code_dir=sys.argv[2], environment_variables={"FAULT_INIT_SLEEP_S": "120"}))
"""


def test_local_down_stops_a_colour_whose_deploying_process_was_killed_outright(endpoints, iris_files):
    pkg, _, _ = iris_files
    deployer = subprocess.Popen([sys.executable, "-c", DEPLOY, str(endpoints.root.parent), str(pkg)])
    stop = threading.Event()
    timer = threading.Timer(240, stop.set)  # a bound on the test, not a timing assertion
    timer.start()
    try:
        pid = starting_server(endpoints.root / "iris-ep" / "state.json", "green", stop)
        deployer.kill()  # SIGKILL: no cleanup at all in the deploying process
        deployer.wait(timeout=30)
    finally:
        timer.cancel()
    assert pid is not None and processes.is_alive(pid)
    stopped = endpoints.stop_endpoint("iris-ep")
    assert pid in stopped and not processes.is_alive(pid)
