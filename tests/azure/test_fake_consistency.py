"""Eventual consistency, on by default: what a rollout meets right after an operation
reports Succeeded (Azure/azure-sdk-for-net#36961, Azure-Samples/contoso-chat#139)."""
from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from tests.fakes import FakeConfig

from .helpers import k8s_deployment, k8s_endpoint, set_traffic


def test_consistency_windows_are_on_by_default():
    config = FakeConfig()
    assert config.stale_traffic_reads > 0
    assert config.updating_after_success > 0
    assert config.traffic_404_after_create > 0


def test_deployment_create_right_after_the_endpoint_succeeded_is_refused_as_updating(
        ml_client, fake_azure, tmp_path):
    endpoint = k8s_endpoint(ml_client, fake_azure)
    assert endpoint.provisioning_state == "Succeeded"
    with pytest.raises(ResourceExistsError) as info:
        _create_once(ml_client, tmp_path)
    assert info.value.status_code == 409
    assert "Cannot create a deployment in endpoint ep-fraud because it is in Updating " \
           "provisioning state" in str(info.value)
    # the endpoint itself reads Succeeded all along: checking its state does not help
    assert ml_client.online_endpoints.get("ep-fraud").provisioning_state == "Succeeded"


def live(traffic: dict) -> dict:
    """The deployments taking traffic (the SDK's get adds every other deployment at 0)."""
    return {k: v for k, v in traffic.items() if v}


def _create_once(ml, tmp_path):
    """One deployment create, no retry (k8s_deployment retries like a careful client)."""
    return k8s_deployment(ml, tmp_path, "ep-fraud", "blue", retry=False)


def test_a_client_that_waits_gets_its_deployment_created(ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    fake_azure.clock.sleep(fake_azure.config.consistency_seconds)
    deployment = _create_once(ml_client, tmp_path).result()
    assert deployment.provisioning_state == "Succeeded"


def test_traffic_update_right_after_a_deployment_create_answers_404_for_a_while(
        ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", fake=fake_azure).result()
    endpoint = ml_client.online_endpoints.get("ep-fraud")
    endpoint.traffic = {"blue": 100}
    with pytest.raises(ResourceNotFoundError, match="Deployment blue not found in endpoint"):
        ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    # the same update a moment later goes through
    assert ml_client.online_endpoints.begin_create_or_update(endpoint).result() is not None
    assert fake_azure.endpoints.traffic("ep-fraud") == {"blue": 100}


def test_traffic_read_lags_the_write_then_catches_up(ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", fake=fake_azure).result()
    set_traffic(ml_client, "ep-fraud", {"blue": 100}, fake=fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "green", fake=fake_azure).result()
    fake_azure.clock.sleep(fake_azure.config.consistency_seconds)  # green is visible now
    endpoint = ml_client.online_endpoints.get("ep-fraud")
    endpoint.traffic = {"blue": 90, "green": 10}
    answered = ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    assert answered.traffic == {"blue": 100}           # the poller's final GET: stale
    reads = [live(ml_client.online_endpoints.get("ep-fraud").traffic) for _ in range(2)]
    assert reads == [{"blue": 100}, {"blue": 90, "green": 10}]
    assert fake_azure.endpoints.traffic("ep-fraud") == {"blue": 90, "green": 10}


def test_stale_reads_end_once_the_window_passes_on_the_clock(ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", fake=fake_azure).result()
    set_traffic(ml_client, "ep-fraud", {"blue": 100}, fake=fake_azure)
    fake_azure.config.stale_traffic_reads = 50
    endpoint = ml_client.online_endpoints.get("ep-fraud")
    endpoint.traffic = {}
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    assert live(ml_client.online_endpoints.get("ep-fraud").traffic) == {"blue": 100}
    fake_azure.clock.sleep(fake_azure.config.consistency_seconds)
    assert live(ml_client.online_endpoints.get("ep-fraud").traffic) == {}


def test_strongly_consistent_config_turns_every_window_off(ml_client, fake_azure, tmp_path):
    # off here on purpose: this test checks the switch itself
    fake_azure.config.strongly_consistent()
    k8s_endpoint(ml_client, fake_azure)
    _create_once(ml_client, tmp_path).result()
    endpoint = ml_client.online_endpoints.get("ep-fraud")
    endpoint.traffic = {"blue": 100}
    assert ml_client.online_endpoints.begin_create_or_update(endpoint).result().traffic == {
        "blue": 100}
