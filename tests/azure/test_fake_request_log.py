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
