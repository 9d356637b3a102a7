"""Polling as on Azure, on the simulated clock: LRO headers per the REST spec, durations
like Azure's, the SDK's real number of polls and sleeps with no wall time; endpoint PATCH."""
from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from tests.fakes.state import AZURE_LRO_SECONDS

from .helpers import k8s_deployment, k8s_endpoint, ws_url


def test_a_five_minute_image_build_costs_sixty_status_polls_and_no_wall_time(
        ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    fake_azure.config.lro_seconds = dict(AZURE_LRO_SECONDS)
    fake_azure.clock.sleep(fake_azure.config.consistency_seconds)
    fake_azure.reset_log()
    fake_azure.clock.sleeps.clear()
    started = fake_azure.clock.time()
    poller = k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", fake=fake_azure)
    assert poller.result().provisioning_state == "Succeeded"
    # azure-core reads the status once at once, then sleeps 5 s (hard-coded for deployments
    # when no Retry-After comes back) before each further read
    assert fake_azure.clock.sleeps == [5.0] * 60
    assert fake_azure.count("OperationStatus_Get") == 61
    assert 300 <= fake_azure.clock.time() - started < 301  # asset PUTs tick 1 ms each


def test_an_endpoint_create_is_polled_at_the_sdks_30_seconds(ml_client, fake_azure):
    from tests.azure.helpers import attach

    attach(ml_client, fake_azure)
    fake_azure.config.lro_seconds = {"OnlineEndpoints_CreateOrUpdate": 90.0}
    fake_azure.clock.sleeps.clear()
    fake_azure.reset_log()
    k8s_endpoint(ml_client, fake_azure)
    assert fake_azure.clock.sleeps == [30.0] * 3
    assert fake_azure.count("OperationStatus_Get") == 1 + 3


def test_a_delete_is_polled_at_the_retry_after_the_service_sends(ml_client, fake_azure,
                                                                  tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", fake=fake_azure).result()
    fake_azure.config.lro_seconds = {"OnlineDeployments_Delete": 60.0}
    fake_azure.config.lro_retry_after = 15
    fake_azure.clock.sleeps.clear()
    ml_client.online_deployments.begin_delete("blue", "ep-fraud").result()
    assert fake_azure.clock.sleeps == [15.0] * 4
    delete = fake_azure.calls("OnlineDeployments_Delete")[0]
    assert delete.status == 202


def test_retry_after_of_a_throttled_call_is_slept_on_the_fake_clock(fake_azure, fake_credential):
    from azure.ai.ml import MLClient

    c = fake_azure.config
    ml = MLClient(fake_credential, c.subscription_id, c.resource_group, c.workspace,
                  enable_telemetry=False, retry_total=2)
    fake_azure.faults.throttle("Compute_List", retry_after=42)
    assert list(ml.compute.list()) == []
    assert 42.0 in fake_azure.clock.sleeps
    assert [call.status for call in fake_azure.calls("Compute_List")] == [429, 200]


def test_endpoint_patch_updates_tags_and_identity_only(ml_client, fake_azure):
    k8s_endpoint(ml_client, fake_azure)
    c = fake_azure.config
    poller = ml_client.online_endpoints._online_operation.begin_update(
        c.resource_group, c.workspace, "ep-fraud",
        {"tags": {"rollout-lock": "run-42"}, "identity": {"type": "SystemAssigned"}})
    poller.result()
    patch = fake_azure.calls("OnlineEndpoints_Update")[0]
    assert patch.status == 202 and patch.request_json == {
        "tags": {"rollout-lock": "run-42"}, "identity": {"type": "SystemAssigned"}}
    assert ml_client.online_endpoints.get("ep-fraud").tags == {"rollout-lock": "run-42"}


def test_endpoint_patch_with_anything_but_tags_and_identity_is_refused(ml_client, fake_azure):
    k8s_endpoint(ml_client, fake_azure)
    answer = requests.patch(ws_url(fake_azure) + "/onlineEndpoints/ep-fraud",
                            json={"tags": {}, "properties": {"traffic": {"blue": 100}}})
    assert answer.status_code == 400
    assert "only tags and identity" in answer.json()["error"]["message"]
    c = fake_azure.config
    with pytest.raises(HttpResponseError, match="only tags and identity"):
        ml_client.online_endpoints._online_operation.begin_update(
            c.resource_group, c.workspace, "ep-fraud", {"tags": {}, "kind": "K8S"})
