"""The fake's AKS writes, cluster credentials and API server, driven by the real clients
(azure-mgmt-containerservice, raw ARM, the kubernetes client) — what README's issue-11 table promises."""
from __future__ import annotations

import pytest
import requests
import yaml
from azure.core.exceptions import HttpResponseError

from .helpers import ARM


@pytest.fixture
def aks_client(fake_azure, fake_credential):
    from azure.mgmt.containerservice import ContainerServiceClient

    return ContainerServiceClient(fake_credential, fake_azure.config.subscription_id, retry_total=0)


BODY = {"location": "eastus", "identity": {"type": "SystemAssigned"}, "properties": {
    "dnsPrefix": "new", "agentPoolProfiles": [
        {"name": "system", "mode": "System", "vmSize": "Standard_D4s_v5", "count": 1},
        {"name": "inference", "mode": "User", "vmSize": "Standard_D4s_v5", "count": 1,
         "enableAutoScaling": True, "minCount": 1, "maxCount": 3}],
    "oidcIssuerProfile": {"enabled": True}}}


def test_creating_a_cluster_is_an_lro_that_ends_succeeded(aks_client, fake_azure):
    cluster = aks_client.managed_clusters.begin_create_or_update("rg-ml", "aks-new", BODY).result()
    assert cluster.provisioning_state == "Succeeded" and cluster.power_state.code == "Running"
    assert [p.name for p in cluster.agent_pool_profiles] == ["system", "inference"]
    assert cluster.oidc_issuer_profile.issuer_url.startswith("https://eastus.oic.")
    assert fake_azure.calls("ManagedClusters_CreateOrUpdate")[0].status == 201


def test_a_failed_cluster_lro_raises_with_the_service_code(aks_client, fake_azure):
    fake_azure.aks.fail_next_put("aks-new", code="QuotaExceeded", message="no cores left")
    with pytest.raises(HttpResponseError, match="QuotaExceeded"):
        aks_client.managed_clusters.begin_create_or_update("rg-ml", "aks-new", BODY).result()
    assert fake_azure.aks.clusters["aks-new"]["properties"]["provisioningState"] == "Failed"


def test_changing_a_pools_vm_size_is_refused(aks_client):
    aks_client.managed_clusters.begin_create_or_update("rg-ml", "aks-new", BODY).result()
    body = {**BODY, "properties": {**BODY["properties"], "agentPoolProfiles": [
        {**BODY["properties"]["agentPoolProfiles"][0], "vmSize": "Standard_D8s_v5"}]}}
    with pytest.raises(HttpResponseError, match="PropertyChangeNotAllowed"):
        aks_client.managed_clusters.begin_create_or_update("rg-ml", "aks-new", body)


def test_the_cluster_user_kubeconfig_points_nowhere_until_a_fake_api_server_is_connected(
        aks_client, fake_azure, kube):
    fake_azure.aks.api_servers.clear()

    def server() -> str:
        creds = aks_client.managed_clusters.list_cluster_user_credentials("rg-ml", "aks-ml")
        config = yaml.safe_load(bytes(creds.kubeconfigs[0].value))  # the SDK decodes the base64
        return config["clusters"][0]["cluster"]["server"]

    assert server() == "https://127.0.0.1:1"
    fake_azure.aks.connect("aks-ml", kube)
    assert server() == kube.url


def test_supported_kubernetes_versions_are_listed_per_region(aks_client):
    result = aks_client.managed_clusters.list_kubernetes_versions("eastus")
    assert [(v.version, v.is_preview) for v in result.values_property] == [
        ("1.30", False), ("1.31", False), ("1.32", False), ("1.33", True)]


def test_registering_a_provider_takes_one_poll(fake_azure):
    fake_azure.aks.providers["Microsoft.KubernetesConfiguration"] = "NotRegistered"
    url = f"{ARM}/subscriptions/{fake_azure.config.subscription_id}/providers/Microsoft.KubernetesConfiguration"
    assert requests.post(f"{url}/register").json()["registrationState"] == "Registering"
    assert [requests.get(url).json()["registrationState"] for _ in range(2)] == ["Registering", "Registered"]


def test_patching_an_extension_merges_its_settings_and_refuses_while_updating(fake_azure):
    url = (f"{ARM}{fake_azure.aks.cluster_id('aks-ml')}/providers/Microsoft.KubernetesConfiguration/extensions/"
           "azureml?api-version=2023-05-01")
    patch = {"properties": {"configurationSettings": {"allowInsecureConnections": "True"}}}
    first = requests.patch(url, json=patch)
    assert first.status_code == 202 and "Azure-AsyncOperation" in first.headers
    assert requests.patch(url, json=patch).status_code == 409
    fake_azure.settle()
    settings = requests.get(url).json()["properties"]["configurationSettings"]
    assert settings["allowInsecureConnections"] == "True" and settings["enableInference"] == "True"


def test_the_fake_api_server_wants_the_kubeconfig_token_and_answers_status_objects(kube):
    assert requests.get(f"{kube.url}/api/v1/namespaces/azureml").status_code == 401
    answer = requests.get(f"{kube.url}/api/v1/namespaces/missing", headers={"Authorization": f"Bearer {kube.token}"})
    assert answer.status_code == 404 and answer.json()["kind"] == "Status"
    assert answer.json()["reason"] == "NotFound"
