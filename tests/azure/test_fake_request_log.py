"""The request log and the unmatched-request guard of the fake."""
from __future__ import annotations

import time

import pytest
import requests
import responses

from tests.fakes import FakeAzure, UnmatchedRequest

from .helpers import k8s_endpoint, ws_url


def test_unmatched_request_fails_at_once_naming_method_and_url():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeAzure().install(mock)
        url = ws_url(fake) + "/batchEndpoints/nope?api-version=2023-04-01-preview"
        with pytest.raises(UnmatchedRequest, match=r"no route for GET .*/batchEndpoints/nope"):
            requests.get(url)
        assert fake.unmatched == [f"GET {url}"]


def test_unmatched_request_through_the_sdk_fails_without_retrying(fake_credential):
    from azure.ai.ml import MLClient

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeAzure().install(mock)
        c = fake.config
        ml = MLClient(fake_credential, c.subscription_id, c.resource_group, c.workspace,
                      enable_telemetry=False, retry_total=10)
        started = time.monotonic()
        with pytest.raises(UnmatchedRequest, match="batchEndpoints"):
            ml.batch_endpoints.get("nope")
        assert time.monotonic() - started < 1
        assert len(fake.unmatched) == 1


def test_calls_are_filtered_by_operation_and_method(ml_client, fake_azure):
    k8s_endpoint(ml_client, fake_azure)
    ml_client.online_endpoints.get("ep-fraud")
    gets = fake_azure.calls("OnlineEndpoints_Get")
    assert [c.status for c in gets] == [200, 200]
    assert all(c.method == "GET" for c in gets)
    assert fake_azure.calls(method="PUT")[0].op == "Compute_CreateOrUpdate"
    assert fake_azure.count("OnlineEndpoints_CreateOrUpdate") == 1


def test_arm_calls_are_counted_by_operation_name(ml_client, fake_azure):
    k8s_endpoint(ml_client, fake_azure)
    counts = fake_azure.arm_counts()
    assert counts["OnlineEndpoints_CreateOrUpdate"] == 1
    assert counts["Compute_CreateOrUpdate"] == 1
    assert counts["Workspaces_Get"] == 2
    assert sum(counts.values()) == len(fake_azure.arm_calls())


def test_data_plane_calls_are_logged_but_not_counted_as_arm(fake_azure):
    requests.get(fake_azure.config.api_host + "/discovery")
    assert fake_azure.count("Discovery_Get") == 1
    assert fake_azure.arm_counts() == {}


def test_log_keeps_the_request_body_and_headers(ml_client, fake_azure):
    k8s_endpoint(ml_client, fake_azure)
    put = fake_azure.calls("OnlineEndpoints_CreateOrUpdate")[0]
    assert put.request_json["properties"]["authMode"] == "Key"
    assert put.headers["Authorization"] == "Bearer fake-arm-token"


def test_reset_log_forgets_earlier_calls(fake_azure):
    requests.get(ws_url(fake_azure))
    fake_azure.reset_log()
    assert fake_azure.calls() == []


def test_credential_stub_serves_both_token_protocols(fake_credential):
    assert fake_credential.get_token("https://management.azure.com/.default").token
    info = fake_credential.get_token_info("https://management.azure.com/.default")
    assert info.token == "fake-arm-token" and info.expires_on > time.time()


def test_local_servers_on_127_0_0_1_pass_through_the_fake(fake_azure):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=1)
    assert fake_azure.unmatched == []


def test_the_three_fixtures_stay_available_for_other_suites(fake_azure, fake_credential,
                                                            ml_client):
    from tests.fakes import fixtures

    assert {"fake_azure", "fake_credential", "ml_client"} <= set(vars(fixtures))
    assert fixtures.current() is fake_azure
    assert ml_client.workspace_name == fake_azure.config.workspace
    assert fake_credential.get_token("scope").token == "fake-arm-token"


def test_simulated_sleep_routes_azure_core_sleeps_to_the_fake_clock_then_restores():
    from azure.core.pipeline.transport import HttpTransport

    original = HttpTransport.sleep
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeAzure().install(mock)
        before = fake.clock.time()
        with fake.simulated_sleep():
            HttpTransport.sleep(None, 1800)  # what an LRO poll or a retry back-off calls
        assert fake.clock.sleeps == [1800] and fake.clock.time() - before == 1800
    assert HttpTransport.sleep is original


def test_every_error_code_the_fake_raises_is_in_the_readme_table():
    import re
    from pathlib import Path

    fakes = Path(__file__).resolve().parents[1] / "fakes"
    source = "\n".join(p.read_text() for p in fakes.glob("*.py"))
    codes = set(re.findall(r'code="([A-Za-z]+)"', source))
    codes |= set(re.findall(r'user_error\(\d+, "([A-Za-z]+)"', source))
    readme = (fakes / "README.md").read_text()
    table = readme.split("## Errors the fake returns", 1)[1]
    assert codes and not {c for c in codes if c not in table}
