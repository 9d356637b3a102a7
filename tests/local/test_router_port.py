"""A router port already in use is reported as such before anything of the endpoint is created."""

from __future__ import annotations

import socket

import pytest

from azml2aks import processes
from azml2aks.backends.local.endpoints import LocalEndpoints
from azml2aks.config.specs import EndpointSpec
from azml2aks.errors import ConfigError


@pytest.fixture
def busy_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_a_port_held_by_another_program_is_named_and_nothing_is_created(tmp_path, busy_port):
    eps = LocalEndpoints(tmp_path / "work", router_port=busy_port)
    with pytest.raises(ConfigError) as info:
        eps.ensure_endpoint(EndpointSpec(name="wine-endpoint", compute="local"))
    assert f"router port {busy_port}" in info.value.message and "another program" in info.value.message
    assert "local.router_port" in info.value.hint
    assert not (tmp_path / "work" / "endpoints" / "wine-endpoint" / "state.json").exists()
    assert not (tmp_path / "work" / "endpoints" / "wine-endpoint" / "keys.json").exists()


def test_a_port_held_by_another_endpoints_router_names_that_endpoint(tmp_path):
    port = processes.free_port()
    eps = LocalEndpoints(tmp_path / "work", router_port=port)
    try:
        eps.ensure_endpoint(EndpointSpec(name="first-endpoint", compute="local"))
        with pytest.raises(ConfigError, match="in use by the router of local endpoint 'first-endpoint'"):
            eps.ensure_endpoint(EndpointSpec(name="second-endpoint", compute="local"))
    finally:
        eps.stop_endpoint("first-endpoint")
