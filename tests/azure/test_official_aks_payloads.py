"""doctor and attach against the official AKS, extension, compute and workspace example bodies,
served verbatim (ids and names substituted where our request must match; see official.py)."""
from __future__ import annotations

import pytest

from azml2aks.errors import ConfigError

from .aks_helpers import TLS, aks, answer_attach, findings
from .official import body, headers, named, page

K8S_CONFIG = "/providers/Microsoft.KubernetesConfiguration/extensions"
CLUSTER = "containerservice/2026-08-01/ManagedClustersGet.json"
EXTENSIONS = "kubernetesconfiguration/2023-05-01/ListExtensions.json"
COMPUTE = "machinelearningservices/2023-08-01-preview/Compute/get/{}.json"


def serve_cluster(fake) -> str:
    cid = fake.aks.cluster_id("aks-ml")
    fake.serve("GET", cid, named(CLUSTER, cid), op="ManagedClusters_Get")
    return cid


def extension_ids(fake, count: int) -> list[str]:
    return [f"{fake.aks.cluster_id('aks-ml')}{K8S_CONFIG}/ext{i}" for i in range(count)]


def test_the_doctor_reads_the_official_cluster_and_blames_its_service_principal_not_a_missing_power_state(
        fake_azure, fake_credential):
    serve_cluster(fake_azure)
    answer_attach(fake_azure)
    found = findings(fake_azure, fake_credential)
    # the example has no powerState: not reported is not stopped (it was a fail: "power state Unknown")
    assert found["cluster.state"].status == "warn" and "not reported" in found["cluster.state"].found
    assert found["cluster.identity"].status == "fail" and "service principal" in found["cluster.identity"].found
    assert found["cluster.kubernetes_version"].status == "fail" and "1.9.6" in found["cluster.kubernetes_version"].found
    assert "Standard_DS1_v2" in found["cluster.capacity"].found  # its one pool, counted from the body
    assert found["workspace.region"].status == "warn" and "location1" in found["workspace.region"].found


def test_attach_is_not_blocked_by_the_missing_power_state_alone(fake_azure, fake_credential, kube):
    cid = fake_azure.aks.cluster_id("aks-ml")
    cluster = named(CLUSTER, cid)
    # the example's only blocking fault is its service principal: give it the managed identity
    # a real AzureML-ready cluster has (ManagedClusterIdentity, same api-version)
    cluster["identity"] = {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"}
    fake_azure.serve("GET", cid, cluster, op="ManagedClusters_Get")
    fake_azure.aks.add_extension("aks-ml", "azureml", settings=TLS)
    assert aks(fake_azure, fake_credential).attach()[0] == "attached"


def test_the_official_extension_list_without_azureml_fails_the_doctor_with_the_install_command(
        fake_azure, fake_credential):
    ids = extension_ids(fake_azure, 3)
    fake_azure.serve("GET", fake_azure.aks.cluster_id("aks-ml") + K8S_CONFIG, page(EXTENSIONS, ids),
                     op="Extensions_List")
    answer_attach(fake_azure)
    found = findings(fake_azure, fake_credential)["extension.installed"]
    assert found.status == "fail" and "az k8s-extension create" in found.remedy


def test_the_azureml_extension_on_the_second_page_of_the_extension_list_is_found(fake_azure, fake_credential):
    cid = fake_azure.aks.cluster_id("aks-ml")
    second = f"https://management.azure.com{cid}{K8S_CONFIG}?api-version=2023-05-01&$skipToken=page2"
    fake_azure.serve("GET", cid + K8S_CONFIG, page(EXTENSIONS, extension_ids(fake_azure, 3), next_link=second),
                     op="Extensions_List")
    azureml = fake_azure.aks.extensions["aks-ml"]["azureml"]  # the fake's own AzureML extension body
    fake_azure.serve("GET", second, {"value": [azureml], "nextLink": None}, op="Extensions_List")
    answer_attach(fake_azure)
    found = findings(fake_azure, fake_credential)
    assert found["extension.installed"].status == "pass" and found["extension.inference"].status == "pass"
    assert fake_azure.count("Extensions_List") == 2


def serve_compute(fake, kind: str) -> None:
    path = f"{fake.config.workspace_path}/computes/aks"
    compute = named(COMPUTE.format(kind), fake.config.workspace_id + "/computes/aks")
    # the example points at its own cluster; ours, written as the example writes it ("resourcegroups")
    compute["properties"]["resourceId"] = fake.aks.cluster_id("aks-ml").replace("/resourceGroups/", "/resourcegroups/")
    fake.serve("GET", path, compute, op="Compute_Get")


@pytest.fixture
def ready(fake_azure, kube):
    fake_azure.aks.add_extension("aks-ml", "azureml", settings=TLS)
    kube.add_namespace("default")  # the namespace of the official Kubernetes compute example
    return fake_azure


def test_attach_leaves_the_official_kubernetes_compute_on_this_cluster_alone(ready, fake_credential):
    serve_compute(ready, "KubernetesCompute")
    assert aks(ready, fake_credential, namespace="default").attach()[0] == "already attached"
    assert ready.count("Compute_CreateOrUpdate") == 0
    assert findings(ready, fake_credential, namespace="default")["compute.attached"].status == "pass"


def test_attach_says_the_official_kubernetes_computes_namespace_differs_from_the_pipelines(ready, fake_credential):
    serve_compute(ready, "KubernetesCompute")
    with pytest.raises(ConfigError, match="namespace 'default', compute.namespace says 'azureml'"):
        aks(ready, fake_credential).attach()
    assert ready.count("Compute_CreateOrUpdate") == 0


def test_attach_refuses_the_official_aks_compute_of_the_same_name_as_not_kubernetes(ready, fake_credential):
    serve_compute(ready, "AKSCompute")
    with pytest.raises(ConfigError, match="already exists as a compute of type AKS, not Kubernetes") as info:
        aks(ready, fake_credential).attach()
    assert "another cluster" not in info.value.message and "az ml compute detach" in info.value.hint
    assert findings(ready, fake_credential)["compute.attached"].status == "fail"


def test_the_doctor_reads_the_region_of_the_official_workspace_body(fake_azure, fake_credential):
    c = fake_azure.config
    workspace = body("machinelearningservices/2024-10-01-preview/Workspace/get.json")
    workspace["id"], workspace["name"] = c.workspace_id, c.workspace
    fake_azure.serve("GET", c.workspace_path, workspace, op="Workspaces_Get")
    answer_attach(fake_azure)
    found = findings(fake_azure, fake_credential)["workspace.region"]
    assert found.status == "warn" and "eastus2euap" in found.found



def test_the_official_extension_create_answers_async_operation_url_is_polled_over_https(fake_azure, fake_credential):
    from azml2aks.backends.azure import client as C

    status_url = headers("kubernetesconfiguration/2023-05-01/CreateExtension.json", "201")["Azure-AsyncOperation"]
    assert status_url.startswith("http://management.azure.com/")  # as the example writes it
    fake_azure.serve("GET", "https" + status_url[len("http"):], {"status": "Succeeded"}, op="Extensions_Status")
    arm = C.arm_pipeline(fake_credential, retry_total=0)
    # it was sent to "https://management.azure.comhttp://management.azure.com/...": a connection error
    assert C.arm_request(arm, "GET", status_url, api_version=None).json() == {"status": "Succeeded"}
