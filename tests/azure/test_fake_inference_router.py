"""Kubernetes endpoints score through the cluster's inference router: http on the router IP
only with allowInsecureConnections=True, https on the extension's TLS name otherwise."""
from __future__ import annotations

import pytest
import requests

from tests.fakes import PIN_HEADER

from .helpers import k8s_deployment, k8s_endpoint, raw_endpoint, raw_k8s_deployment, set_traffic


def serve(fake, endpoint: str = "ep-k8s"):
    """Blue at 100 % on `endpoint` (raw HTTP); returns (scoring URI, primary key)."""
    raw_k8s_deployment(fake, endpoint, "blue")
    raw_endpoint(fake, endpoint, traffic={"blue": 100})
    fake.scoring.register(endpoint, "blue", lambda rows: {"answered": "blue"})
    return fake.endpoints.scoring_uri(endpoint), fake.endpoints.record(endpoint).keys[0]


def test_sdk_sees_the_router_scoring_uri_of_a_kubernetes_endpoint(ml_client, fake_azure):
    endpoint = k8s_endpoint(ml_client, fake_azure)
    ip = fake_azure.scoring.router_ip("aks-ml")
    assert endpoint.scoring_uri == f"http://{ip}/api/v1/endpoint/ep-fraud/score"
    assert endpoint.openapi_uri == f"http://{ip}/api/v1/endpoint/ep-fraud/swagger.json"
    assert "inference.ml.azure.com" not in endpoint.scoring_uri


def test_default_cluster_serves_plain_http_through_its_router(ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", fake=fake_azure).result()
    set_traffic(ml_client, "ep-fraud", {"blue": 100}, fake=fake_azure)
    fake_azure.scoring.register("ep-fraud", "blue", lambda rows: [1])
    keys = ml_client.online_endpoints.get_keys("ep-fraud")
    uri = ml_client.online_endpoints.get("ep-fraud").scoring_uri
    answer = requests.post(uri, json={"input_data": [[1]]},
                           headers={"Authorization": f"Bearer {keys.primary_key}",
                                    PIN_HEADER: "blue"})
    assert answer.status_code == 200 and answer.json() == [1]
    assert fake_azure.calls("Scoring_Invoke")[-1].url.startswith("http://")


def test_cluster_without_insecure_connections_or_tls_cannot_serve(fake_azure):
    fake_azure.aks.add_cluster("aks-ml", extension_settings={"allowInsecureConnections": "False"})
    raw_endpoint(fake_azure, "ep-k8s")
    uri, key = serve(fake_azure)
    assert uri.startswith("http://")
    with pytest.raises(requests.ConnectionError, match="allowInsecureConnections=False"):
        requests.post(uri, json=[1], headers={"Authorization": f"Bearer {key}"})
    assert fake_azure.scoring.history == []


def test_cluster_with_tls_settings_serves_https_on_its_own_domain(fake_azure):
    fake_azure.aks.add_cluster("aks-ml", extension_settings={
        "allowInsecureConnections": "False", "sslCname": "scoring.contoso.example",
        "sslSecret": "azureml-tls"})
    raw_endpoint(fake_azure, "ep-k8s")
    uri, key = serve(fake_azure)
    assert uri == "https://scoring.contoso.example/api/v1/endpoint/ep-k8s/score"
    answer = requests.post(uri, json=[1], headers={"Authorization": f"Bearer {key}"})
    assert answer.json() == {"answered": "blue"}


def test_the_router_of_another_host_does_not_answer_for_an_endpoint(fake_azure):
    raw_endpoint(fake_azure, "ep-k8s")
    uri, key = serve(fake_azure)
    elsewhere = uri.replace(fake_azure.scoring.router_ip("aks-ml"), "20.62.250.250")
    with pytest.raises(requests.ConnectionError, match="not the inference router"):
        requests.post(elsewhere, json=[1], headers={"Authorization": f"Bearer {key}"})


def test_managed_endpoints_keep_their_regional_https_uri(fake_azure):
    raw_endpoint(fake_azure, "ep-managed", kubernetes=False)
    assert fake_azure.endpoints.scoring_uri("ep-managed") == (
        "https://ep-managed.eastus.inference.ml.azure.com/score")
