"""Kubernetes deployment rules, each from a source: optional resources echoed back, instance
types defined on the cluster and checked, instance type fixed after creation, traffic keys
compared case-insensitively, and no invented rule."""
from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from .helpers import k8s_deployment, k8s_endpoint, set_traffic, ws_url


@pytest.fixture
def endpoint(ml_client, fake_azure):
    return k8s_endpoint(ml_client, fake_azure)


def test_a_deployment_without_resources_succeeds_and_the_answer_still_carries_them(
        ml_client, fake_azure, endpoint, tmp_path):
    deployment = k8s_deployment(ml_client, tmp_path, "ep-fraud", "green", cpu=None,
                                memory=None, fake=fake_azure).result()
    assert deployment.provisioning_state == "Succeeded"
    put = fake_azure.calls("OnlineDeployments_CreateOrUpdate")[-1]
    assert not put.request_json["properties"].get("containerResourceRequirements")
    body = requests.get(ws_url(fake_azure) + "/onlineEndpoints/ep-fraud/deployments/green").json()
    assert body["properties"]["containerResourceRequirements"] == {
        "containerResourceRequests": {"cpu": None, "memory": None, "gpu": None},
        "containerResourceLimits": {"cpu": None, "memory": None, "gpu": None}}
    assert ml_client.online_deployments.get("green", "ep-fraud").instance_type == \
        "defaultinstancetype"


def test_an_instance_type_must_exist_on_the_cluster(ml_client, fake_azure, endpoint, tmp_path):
    with pytest.raises(HttpResponseError, match="instance type 'cpu-large' is not defined"):
        k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", instance_type="cpu-large",
                       fake=fake_azure)
    fake_azure.instance_types.apply("aks-ml", "cpu-large", requests={"cpu": "2", "memory": "8Gi"},
                                    limits={"cpu": "4", "memory": "16Gi"})
    deployment = k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", instance_type="cpu-large",
                                cpu="3", memory="12Gi", fake=fake_azure).result()
    assert deployment.instance_type == "cpu-large"
    compute = requests.get(ws_url(fake_azure) + "/computes/aks").json()
    assert set(compute["properties"]["properties"]["instanceTypes"]) == {
        "defaultinstancetype", "cpu-large"}


def test_requests_beyond_the_instance_type_limits_are_refused(ml_client, fake_azure, endpoint,
                                                               tmp_path):
    fake_azure.instance_types.apply("aks-ml", "cpu-small", limits={"cpu": "1", "memory": "2Gi"})
    with pytest.raises(HttpResponseError, match="does not fit instance type 'cpu-small'"):
        k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", instance_type="cpu-small",
                       cpu="1500m", memory="1Gi", fake=fake_azure)


def test_the_instance_type_cannot_change_on_an_update(ml_client, fake_azure, endpoint, tmp_path):
    fake_azure.instance_types.apply("aks-ml", "cpu-large", limits={"cpu": "4", "memory": "16Gi"})
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", fake=fake_azure).result()
    with pytest.raises(HttpResponseError, match="instance type cannot be changed"):
        k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", instance_type="cpu-large",
                       fake=fake_azure)
    assert fake_azure.deployments.records[("ep-fraud", "blue")]["properties"][
        "instanceType"] == "defaultinstancetype"


def test_traffic_keys_match_deployment_names_case_insensitively(ml_client, fake_azure, endpoint,
                                                                tmp_path):
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "Blue", fake=fake_azure).result()
    seen = set_traffic(ml_client, "ep-fraud", {"Blue": 100}, fake=fake_azure)
    put = fake_azure.calls("OnlineEndpoints_CreateOrUpdate")[-1]
    assert put.request_json["properties"]["traffic"] == {"blue": 100}  # the SDK lowercases
    assert {k.lower(): v for k, v in seen.traffic.items()} == {"blue": 100}
    fake_azure.scoring.register("ep-fraud", "Blue", lambda rows: "ok")
    key = ml_client.online_endpoints.get_keys("ep-fraud").primary_key
    answer = requests.post(seen.scoring_uri, json=[1], headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    assert answer.headers["azureml-model-deployment"].lower() == "blue"
    with pytest.raises(HttpResponseError) as info:  # still live: cannot be deleted
        ml_client.online_deployments.begin_delete("Blue", "ep-fraud").result()
    assert info.value.status_code == 409


def test_an_mlflow_model_with_small_requests_is_not_refused(ml_client, fake_azure, endpoint,
                                                            tmp_path):
    # v1 failed MLflow models under 2 CPU / 4Gi: a rule without a source, dropped
    deployment = k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", cpu="500m",
                                memory="1Gi", model_type="mlflow_model", fake=fake_azure).result()
    assert deployment.provisioning_state == "Succeeded"


def test_the_service_compares_traffic_keys_case_insensitively(fake_azure):
    from .helpers import raw_endpoint, raw_k8s_deployment

    raw_endpoint(fake_azure, "ep-k8s")
    raw_k8s_deployment(fake_azure, "ep-k8s", "Blue")
    assert fake_azure.deployments.names("ep-k8s") == ["Blue"]
    assert raw_endpoint(fake_azure, "ep-k8s", traffic={"blue": 100}).status_code == 201
    answer = requests.delete(ws_url(fake_azure) + "/onlineEndpoints/ep-k8s/deployments/BLUE")
    assert answer.status_code == 409  # the same deployment, and it has live traffic
