"""Compute attach/detach through azure-ai-ml, and the AKS reads through
azure-mgmt-containerservice and raw ARM, against the fake."""
from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from .helpers import ARM, attach, error_of, raw_put


@pytest.fixture
def aks_client(fake_azure, fake_credential):
    from azure.mgmt.containerservice import ContainerServiceClient

    return ContainerServiceClient(fake_credential, fake_azure.config.subscription_id,
                                  retry_total=0)


def test_attaching_an_aks_cluster_as_kubernetes_compute_is_an_lro_that_succeeds(
        ml_client, fake_azure):
    compute = attach(ml_client, fake_azure)
    assert compute.type == "kubernetes"
    assert compute.provisioning_state == "Succeeded"
    assert compute.namespace == "azureml"
    put = fake_azure.calls("Compute_CreateOrUpdate")[0]
    assert put.status == 201
    assert put.request_json["properties"]["computeType"] == "Kubernetes"
    assert fake_azure.count("OperationStatus_Get") >= 1


def test_attached_compute_gets_the_default_instance_type(ml_client, fake_azure):
    attach(ml_client, fake_azure)
    types = fake_azure.compute.instance_types("aks")
    assert types["defaultinstancetype"]["resources"] == {
        "requests": {"cpu": "100m", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}


def test_detaching_a_kubernetes_compute_removes_it(ml_client, fake_azure):
    attach(ml_client, fake_azure)
    ml_client.compute.begin_delete("aks", action="Detach").result()
    assert "aks" not in fake_azure.compute.computes
    delete = fake_azure.calls("Compute_Delete")[0]
    assert delete.status == 202
    assert "underlyingResourceAction=Detach" in delete.url


def test_deleting_instead_of_detaching_an_attached_cluster_is_rejected(ml_client, fake_azure):
    attach(ml_client, fake_azure)
    with pytest.raises(HttpResponseError, match="can only be detached"):
        ml_client.compute.begin_delete("aks", action="Delete").result()


def test_attaching_an_unknown_cluster_is_rejected(fake_azure):
    answer = raw_put(fake_azure, "/computes/aks", {"properties": {
        "computeType": "Kubernetes", "resourceId": fake_azure.aks.cluster_id("missing")}})
    assert error_of(answer)[:2] == (400, "ResourceNotFound")


def test_attaching_a_cluster_without_the_azureml_extension_is_rejected(fake_azure):
    fake_azure.aks.add_cluster("bare", azureml_extension=False)
    answer = raw_put(fake_azure, "/computes/aks", {"properties": {
        "computeType": "Kubernetes", "resourceId": fake_azure.aks.cluster_id("bare")}})
    status, code, message = error_of(answer)
    assert (status, code) == (400, "AzureMLExtensionNotFound")
    assert "microsoft.azureml.kubernetes" in message


def test_managed_cluster_get_reports_what_the_preflight_checks(aks_client, fake_azure):
    fake_azure.aks.add_cluster("aks-prod", disable_local_accounts=True, power_state="Stopped",
                               authorized_ip_ranges=["10.96.0.0/12"])
    cluster = aks_client.managed_clusters.get(fake_azure.config.resource_group, "aks-prod")
    assert cluster.provisioning_state == "Succeeded"
    assert cluster.power_state.code == "Stopped"
    assert cluster.identity.type == "SystemAssigned"
    assert cluster.disable_local_accounts is True
    assert cluster.agent_pool_profiles[0].vm_size == "Standard_D4s_v3"
    assert cluster.api_server_access_profile.authorized_ip_ranges == ["10.96.0.0/12"]
    assert "api-version=2026-08-01" in fake_azure.calls("ManagedClusters_Get")[0].url


def test_service_principal_cluster_has_no_managed_identity(aks_client, fake_azure):
    fake_azure.aks.add_cluster("sp-cluster", managed_identity=False)
    cluster = aks_client.managed_clusters.get(fake_azure.config.resource_group, "sp-cluster")
    assert cluster.identity is None
    assert cluster.service_principal_profile.client_id != "msi"


def test_agent_pools_are_listed(aks_client, fake_azure):
    pools = list(aks_client.agent_pools.list(fake_azure.config.resource_group, "aks-ml"))
    assert [(p.name, p.count, p.vm_size) for p in pools] == [("nodepool1", 3, "Standard_D4s_v3")]


def test_unknown_cluster_is_a_404(aks_client, fake_azure):
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError):
        aks_client.managed_clusters.get(fake_azure.config.resource_group, "missing")


def test_cluster_extensions_show_the_azureml_extension_with_inference_enabled(fake_azure):
    url = (f"{ARM}{fake_azure.aks.cluster_id('aks-ml')}/providers/"
           "Microsoft.KubernetesConfiguration/extensions?api-version=2023-05-01")
    (ext,) = requests.get(url).json()["value"]
    props = ext["properties"]
    assert props["extensionType"] == "microsoft.azureml.kubernetes"
    assert props["provisioningState"] == "Succeeded"
    assert props["configurationSettings"]["enableInference"] == "True"
    assert props["configurationSettings"]["inferenceRouterServiceType"] == "LoadBalancer"
    # the default cluster is one that can serve: plain http through its inference router
    assert props["configurationSettings"]["allowInsecureConnections"] == "True"


def test_provider_registration_state_is_reported(fake_azure):
    fake_azure.aks.providers["Microsoft.KubernetesConfiguration"] = "NotRegistered"
    url = (f"{ARM}/subscriptions/{fake_azure.config.subscription_id}/providers/"
           "Microsoft.KubernetesConfiguration?api-version=2021-04-01")
    assert requests.get(url).json()["registrationState"] == "NotRegistered"
