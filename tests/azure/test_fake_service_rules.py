"""The service rules the fake enforces, each answered in the service's error shape."""
from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from .helpers import (
    error_of,
    k8s_deployment,
    raw_endpoint,
    raw_k8s_deployment,
    raw_managed_deployment,
    raw_put,
    set_traffic,
    ws_url,
)


@pytest.fixture
def blue_green(fake_azure):
    """A Kubernetes endpoint with blue (100 %) and green (0 %)."""
    raw_endpoint(fake_azure, "ep-k8s")
    raw_k8s_deployment(fake_azure, "ep-k8s", "blue")
    raw_k8s_deployment(fake_azure, "ep-k8s", "green")
    raw_endpoint(fake_azure, "ep-k8s", traffic={"blue": 100})
    return fake_azure


@pytest.fixture
def managed(fake_azure):
    raw_endpoint(fake_azure, "ep-managed", kubernetes=False)
    raw_managed_deployment(fake_azure, "ep-managed", "blue")
    raw_managed_deployment(fake_azure, "ep-managed", "green")
    raw_managed_deployment(fake_azure, "ep-managed", "red")
    raw_endpoint(fake_azure, "ep-managed", kubernetes=False, traffic={"blue": 100})
    return fake_azure


def test_errors_use_the_arm_shape_with_user_error_on_top_and_the_reason_in_details(blue_green):
    answer = raw_endpoint(blue_green, "ep-k8s", traffic={"blue": 60})
    assert set(answer.json()) == {"error"}
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "details", "additionalInfo"}
    assert error["code"] == "UserError"
    assert error["details"][0]["code"] == "BadArgument"
    assert {"type": "ComponentName", "info": {"value": "managementfrontend"}} in \
        error["additionalInfo"]


def test_sdk_surfaces_the_user_error_code_and_message(ml_client, blue_green):
    with pytest.raises(HttpResponseError) as info:
        set_traffic(ml_client, "ep-k8s", {"blue": 60})
    assert info.value.error.code == "UserError"
    assert "sum to 60" in info.value.error.message


def test_live_traffic_that_does_not_sum_to_100_is_rejected(blue_green):
    status, code, message = error_of(
        raw_endpoint(blue_green, "ep-k8s", traffic={"blue": 60, "green": 30}))
    assert (status, code) == (400, "BadArgument")
    assert "sum to 90" in message


def test_all_zero_traffic_is_accepted(blue_green):
    assert raw_endpoint(blue_green, "ep-k8s", traffic={"blue": 0, "green": 0}).status_code == 201


def test_traffic_naming_an_unknown_deployment_is_a_404_as_azure_answers(blue_green):
    # Azure-Samples/contoso-chat#139: 404, UserError, details [], MessageParameters
    answer = raw_endpoint(blue_green, "ep-k8s", traffic={"blue": 50, "purple": 50})
    error = answer.json()["error"]
    assert answer.status_code == 404
    assert error["code"] == "UserError" and error["details"] == []
    assert error["message"] == "Deployment purple not found in endpoint ep-k8s, workspace ml-ws"
    params = next(i["info"]["value"] for i in error["additionalInfo"]
                  if i["type"] == "MessageParameters")
    assert params == {"deploymentName": "purple", "endpointName": "ep-k8s",
                      "workspaceName": "ml-ws"}


def test_sdk_traffic_update_naming_a_missing_deployment_raises_resource_not_found(
        ml_client, blue_green):
    from azure.core.exceptions import ResourceNotFoundError

    endpoint = ml_client.online_endpoints.get("ep-k8s")
    endpoint.traffic = {"blue": 50, "purple": 50}
    with pytest.raises(ResourceNotFoundError, match="Deployment purple not found in endpoint"):
        ml_client.online_endpoints.begin_create_or_update(endpoint).result()


def test_endpoint_put_is_a_full_put_so_missing_traffic_becomes_zero(blue_green):
    raw_endpoint(blue_green, "ep-k8s", traffic={"green": 100})
    assert blue_green.endpoints.traffic("ep-k8s") == {"green": 100}


def test_deleting_deployment_with_live_traffic_is_rejected_with_409(ml_client, blue_green):
    with pytest.raises(HttpResponseError) as info:
        ml_client.online_deployments.begin_delete("blue", "ep-k8s").result()
    assert info.value.status_code == 409
    assert "Set its traffic to 0%" in str(info.value)
    assert "blue" in blue_green.deployments.names("ep-k8s")


def test_deleting_deployment_at_zero_traffic_is_allowed(ml_client, blue_green):
    ml_client.online_deployments.begin_delete("green", "ep-k8s").result()
    assert blue_green.deployments.names("ep-k8s") == ["blue"]


def test_mirror_traffic_on_a_kubernetes_endpoint_is_rejected(blue_green):
    status, code, message = error_of(raw_endpoint(
        blue_green, "ep-k8s", traffic={"blue": 100}, mirror={"green": 10}))
    assert (status, code) == (400, "BadArgument")
    assert "not supported for Kubernetes" in message


def test_mirror_traffic_above_50_percent_is_rejected(managed):
    _, _, message = error_of(raw_endpoint(managed, "ep-managed", kubernetes=False,
                                          traffic={"blue": 100}, mirror={"green": 60}))
    assert "cannot exceed 50%" in message


def test_mirror_traffic_to_two_deployments_is_rejected(managed):
    _, _, message = error_of(raw_endpoint(managed, "ep-managed", kubernetes=False,
                                          traffic={"blue": 100}, mirror={"green": 10, "red": 10}))
    assert "only one deployment" in message


def test_mirror_traffic_to_a_deployment_with_live_traffic_is_rejected(managed):
    _, _, message = error_of(raw_endpoint(managed, "ep-managed", kubernetes=False,
                                          traffic={"blue": 100}, mirror={"blue": 10}))
    assert "has live traffic" in message


def test_mirror_traffic_within_the_rules_is_accepted_on_a_managed_endpoint(managed):
    answer = raw_endpoint(managed, "ep-managed", kubernetes=False, traffic={"blue": 100},
                          mirror={"green": 20})
    assert answer.status_code == 201


def test_deleting_a_deployment_with_mirror_traffic_is_rejected_with_409(managed):
    raw_endpoint(managed, "ep-managed", kubernetes=False, traffic={"blue": 100},
                 mirror={"green": 20})
    answer = requests.delete(ws_url(managed) + "/onlineEndpoints/ep-managed/deployments/green")
    assert error_of(answer)[:2] == (409, "Conflict")


def test_endpoint_that_is_updating_rejects_another_update_with_409(blue_green):
    blue_green.config.lro_polls = 5
    first = raw_endpoint(blue_green, "ep-k8s", traffic={"blue": 50, "green": 50}, settle=False)
    assert first.status_code == 201
    status, code, message = error_of(
        raw_endpoint(blue_green, "ep-k8s", traffic={"green": 100}, settle=False))
    assert (status, code) == (409, "Conflict")
    assert "Updating" in message


def test_endpoint_that_is_updating_rejects_a_new_deployment_with_409(ml_client, blue_green,
                                                                     tmp_path):
    blue_green.config.lro_polls = 5
    raw_endpoint(blue_green, "ep-k8s", traffic={"blue": 50, "green": 50}, settle=False)
    with pytest.raises(HttpResponseError) as info:
        k8s_deployment(ml_client, tmp_path, "ep-k8s", "red")
    assert info.value.status_code == 409


def test_endpoint_is_updating_while_a_deployment_is_being_created(blue_green):
    blue_green.config.lro_polls = 5
    raw_k8s_deployment(blue_green, "ep-k8s", "red", settle=False)
    status, code, _ = error_of(raw_endpoint(blue_green, "ep-k8s", traffic={"blue": 100},
                                            settle=False))
    assert (status, code) == (409, "Conflict")


def test_endpoint_accepts_updates_again_once_the_operation_finished(blue_green):
    blue_green.config.lro_polls = 5
    raw_endpoint(blue_green, "ep-k8s", traffic={"blue": 50, "green": 50}, settle=False)
    blue_green.settle()
    assert raw_endpoint(blue_green, "ep-k8s", traffic={"green": 100}).status_code == 201


@pytest.mark.parametrize("name", ["ab", "a" * 33, "1abc", "abc-", "ab_c", "ab.c", "-abc"])
def test_invalid_endpoint_and_deployment_names_are_rejected(fake_azure, name):
    assert error_of(raw_endpoint(fake_azure, name, kubernetes=False))[:2] == (400, "BadArgument")
    raw_endpoint(fake_azure, "ep-ok")
    assert error_of(raw_k8s_deployment(fake_azure, "ep-ok", name))[:2] == (400, "BadArgument")


@pytest.mark.parametrize("name", ["abc", "a" * 32, "Ep-1-blue", "a-b"])
def test_valid_names_at_the_edges_are_accepted(fake_azure, name):
    assert raw_endpoint(fake_azure, name).status_code == 201
    assert raw_k8s_deployment(fake_azure, name, name).status_code == 201


def test_traffic_get_shows_the_old_split_for_the_configured_number_of_reads(blue_green):
    blue_green.config.stale_traffic_reads = 2
    blue_green.config.lro_polls = 0  # the update completes at once
    raw_endpoint(blue_green, "ep-k8s", traffic={"blue": 90, "green": 10}, settle=False)
    url = ws_url(blue_green) + "/onlineEndpoints/ep-k8s"
    seen = [requests.get(url).json()["properties"]["traffic"] for _ in range(3)]
    assert seen == [{"blue": 100}, {"blue": 100}, {"blue": 90, "green": 10}]
    assert blue_green.endpoints.traffic("ep-k8s") == {"blue": 90, "green": 10}


def test_sdk_reads_the_stale_split_right_after_an_update(ml_client, blue_green):
    blue_green.config.stale_traffic_reads = 1
    endpoint = ml_client.online_endpoints.get("ep-k8s")
    endpoint.traffic = {"blue": 80, "green": 20}
    updated = ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    assert updated.traffic == {"blue": 100}  # the poller's final GET is the stale read
    assert ml_client.online_endpoints.get("ep-k8s").traffic == {"blue": 80, "green": 20}


def test_kubernetes_endpoint_on_an_unattached_compute_is_rejected(fake_azure):
    answer = raw_put(fake_azure, "/onlineEndpoints/ep-x", {"properties": {
        "authMode": "Key", "compute": f"{fake_azure.config.workspace_id}/computes/nope"}})
    assert "not attached" in error_of(answer)[2]
