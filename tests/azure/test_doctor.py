"""`azml2aks doctor` against the fake ARM and a fake Kubernetes API server on 127.0.0.1:
every finding, pass and fail, read through the real SDK clients and the kubernetes client."""
from __future__ import annotations

import pytest

from .aks_helpers import TLS, aks, answer_attach, findings


def test_a_healthy_cluster_passes_every_check(healthy, fake_credential):
    report = aks(healthy, fake_credential).doctor()
    assert report.ok and {f.status for f in report.findings} == {"pass"}
    assert len(report.findings) == 19


def test_the_doctor_reads_each_resource_once(healthy, fake_credential, kube):
    aks(healthy, fake_credential).doctor()
    assert healthy.arm_counts() == {
        "ManagedClusters_Get": 1, "Extensions_List": 1, "Providers_Get": 1, "Compute_Get": 1,
        "Workspaces_Get": 1, "ManagedClusters_ListKubernetesVersions": 1,
        "ManagedClusters_ListClusterUserCredential": 1}
    assert kube.writes() == []


def test_a_cluster_without_the_azureml_extension_fails_naming_the_install_command(healthy, fake_credential):
    healthy.aks.extensions["aks-ml"].clear()
    report = aks(healthy, fake_credential).doctor()
    (failed,) = report.failed
    assert failed.check == "extension.installed" and "microsoft.azureml.kubernetes" in failed.found
    assert "az k8s-extension create --name azureml --extension-type Microsoft.AzureML.Kubernetes" in failed.remedy


def test_a_missing_cluster_fails(healthy, fake_credential):
    f = findings(healthy, fake_credential, cluster="aks-missing")
    assert f["cluster.exists"].status == "fail" and "aks-missing" in f["cluster.exists"].found
    assert f["compute.attached"].status == "fail"  # the compute points at aks-ml, not at aks-missing


@pytest.mark.parametrize(("options", "check", "status"), [
    ({"power_state": "Stopped"}, "cluster.state", "fail"),
    ({"provisioning_state": "Failed"}, "cluster.state", "fail"),
    ({"managed_identity": False}, "cluster.identity", "fail"),
    ({"disable_local_accounts": True}, "cluster.local_accounts", "fail"),
    ({"authorized_ip_ranges": ["203.0.113.0/24"]}, "cluster.api_server_access", "warn"),
    ({"vm_size": "Standard_B2s", "node_count": 1}, "cluster.capacity", "warn"),
    ({"vm_size": "Standard_ND96asr_v4"}, "cluster.capacity", "warn"),
])
def test_cluster_findings_read_from_the_managed_cluster(fake_azure, fake_credential, kube, options, check, status):
    fake_azure.aks.add_cluster("aks-ml", extension_settings=TLS, **options)
    answer_attach(fake_azure)
    f = findings(fake_azure, fake_credential)
    assert f[check].status == status
    assert [c for c, x in f.items() if x.status != "pass"] == [check]


def test_requests_that_do_not_fit_the_node_pools_fail(healthy, fake_credential):
    f = findings(healthy, fake_credential, instance_count=3, requests={"cpu": "3", "memory": "8Gi"})
    assert f["cluster.capacity"].status == "fail" and "18 vCPU" in f["cluster.capacity"].found


@pytest.mark.parametrize(("versions", "status"), [
    ([("1.31", False), ("1.32", False)], "fail"), ([("1.30", True), ("1.31", False)], "warn")])
def test_the_kubernetes_version_is_checked_against_what_aks_supports_in_the_region(
        healthy, fake_credential, versions, status):
    healthy.aks.kubernetes_versions = versions
    assert findings(healthy, fake_credential)["cluster.kubernetes_version"].status == status


@pytest.mark.parametrize(("settings", "state", "check", "status"), [
    ({}, "Failed", "extension.state", "fail"),
    ({"enableInference": "False"}, "Succeeded", "extension.inference", "fail"),
    ({"inferenceRouterServiceType": "NodePort"}, "Succeeded", "extension.router", "warn"),
    ({"allowInsecureConnections": "True", "sslSecret": "", "sslCname": ""}, "Succeeded", "extension.tls", "warn"),
    ({"sslSecret": "", "sslCname": ""}, "Succeeded", "extension.tls", "fail"),
])
def test_extension_findings_read_from_the_cluster_extensions(healthy, fake_credential, settings, state, check,
                                                              status):
    healthy.aks.add_extension("aks-ml", "azureml", settings={**TLS, **settings}, provisioning_state=state)
    f = findings(healthy, fake_credential)
    assert f[check].status == status
    assert [c for c, x in f.items() if x.status != "pass"] == [check]


def test_an_unregistered_kubernetes_configuration_provider_fails(healthy, fake_credential):
    healthy.aks.providers["Microsoft.KubernetesConfiguration"] = "NotRegistered"
    f = findings(healthy, fake_credential)["provider.registered"]
    assert f.status == "fail" and "az provider register --namespace Microsoft.KubernetesConfiguration" in f.remedy


def test_a_compute_not_attached_fails_naming_attach(fake_azure, fake_credential, kube):
    fake_azure.aks.add_extension("aks-ml", "azureml", settings=TLS)
    f = findings(fake_azure, fake_credential)["compute.attached"]
    assert f.status == "fail" and "azml2aks attach PIPELINE" in f.remedy


def test_a_compute_pointing_at_another_cluster_fails(fake_azure, fake_credential, kube):
    fake_azure.aks.add_cluster("aks-other")
    fake_azure.aks.add_extension("aks-ml", "azureml", settings=TLS)
    answer_attach(fake_azure, cluster="aks-other")
    f = findings(fake_azure, fake_credential)["compute.attached"]
    assert f.status == "fail" and "points at another cluster" in f.found and "aks-other" in f.found


def test_a_workspace_in_another_region_warns(healthy, fake_credential):
    healthy.aks.clusters["aks-ml"]["location"] = "westeurope"
    f = findings(healthy, fake_credential)["workspace.region"]
    assert f.status == "warn" and "workspace in eastus, cluster in westeurope" in f.found


def test_an_unreachable_api_server_skips_the_in_cluster_checks_with_a_warning(healthy, fake_credential):
    healthy.aks.api_servers.clear()  # the kubeconfig points at 127.0.0.1:1, where nothing listens
    report = aks(healthy, fake_credential).doctor()
    access = next(f for f in report.findings if f.check == "k8s.access")
    assert report.ok and access.status == "warn"
    assert "skipped: cannot reach the API server at https://127.0.0.1:1" in access.found
    assert not any(f.check in ("k8s.namespace", "k8s.router") for f in report.findings)


def test_require_cluster_access_turns_an_unreachable_api_server_into_a_failure(healthy, fake_credential):
    healthy.aks.api_servers.clear()
    f = findings(healthy, fake_credential, require_cluster_access=True)["k8s.access"]
    assert f.status == "fail"


def test_no_cluster_user_credentials_skip_the_in_cluster_checks(healthy, fake_credential):
    healthy.faults.fail_next("ManagedClusters_ListClusterUserCredential", status=403, code="AuthorizationFailed",
                             message="The client does not have authorization to perform action "
                                     "'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'")
    f = findings(healthy, fake_credential)["k8s.access"]
    assert f.status == "warn" and "no cluster user credentials" in f.found and "AuthorizationFailed" in f.found


def test_rbac_refusing_the_cluster_user_skips_with_the_reason(healthy, fake_credential, kube):
    kube.forbid("/api/v1/namespaces")
    f = findings(healthy, fake_credential)["k8s.access"]
    assert f.status == "warn" and "refused the cluster user credentials" in f.found and "403" in f.found


def test_a_missing_namespace_fails(healthy, fake_credential, kube):
    del kube.namespaces["azureml"]
    f = findings(healthy, fake_credential)["k8s.namespace"]
    assert f.status == "fail" and "kubectl create namespace azureml" in f.remedy


def test_an_instance_type_not_defined_on_the_cluster_fails(healthy, fake_credential):
    f = findings(healthy, fake_credential, instance_type="cpu-small")["k8s.instance_type"]
    assert f.status == "fail" and "'cpu-small' is not defined" in f.found


@pytest.mark.parametrize(("limits", "status"), [({"cpu": "2", "memory": "4Gi"}, "pass"),
                                                ({"cpu": "500m", "memory": "4Gi"}, "fail")])
def test_an_instance_type_custom_resource_must_fit_the_deployment(healthy, fake_credential, kube, limits, status):
    kube.add_instance_type("cpu-small", requests={"cpu": "100m", "memory": "1Gi"}, limits=limits)
    f = findings(healthy, fake_credential, instance_type="cpu-small")["k8s.instance_type"]
    assert f.status == status and "custom resource" in f.found


def test_the_builtin_default_instance_type_is_checked_when_none_is_named(healthy, fake_credential):
    f = findings(healthy, fake_credential, requests={"cpu": "1", "memory": "3Gi"})["k8s.instance_type"]
    assert f.status == "fail" and "memory request 3Gi exceeds the instance type's limit 2Gi" in f.found


@pytest.mark.parametrize(("present", "ip", "words"), [(False, None, "no inference router service"),
                                                      (True, None, "has no address yet")])
def test_the_inference_router_must_exist_and_have_an_address(healthy, fake_credential, kube, present, ip, words):
    if present:
        kube.add_router(ip=ip)
    else:
        del kube.services[("azureml", "azureml-fe")]
    f = findings(healthy, fake_credential)["k8s.router"]
    assert f.status == "fail" and words in f.found


def test_a_throttled_read_waits_exactly_the_retry_after_the_service_asked_for(healthy, fake_credential):
    healthy.faults.throttle("ManagedClusters_Get", retry_after=7)
    healthy.faults.throttle("Extensions_List", retry_after=3)
    sleeps: list[float] = []
    report = aks(healthy, fake_credential, sleeps).doctor()
    assert report.ok and sleeps == [7.0, 3.0]
    assert [c.status for c in healthy.calls("ManagedClusters_Get")] == [429, 200]


def test_an_entra_id_cluster_is_reached_with_a_token_from_the_pipelines_credential(healthy, fake_credential, kube):
    healthy.aks.connect("aks-ml", kube, entra=True)   # its kubeconfig runs kubelogin, which the agent lacks
    kube.accept(fake_credential.token)
    report = aks(healthy, fake_credential).doctor()
    assert report.ok and {f.status for f in report.findings} == {"pass"}
    assert ("6dae42f8-4368-4678-94ff-3960e28e3630/.default",) in fake_credential.requests


def test_a_private_cluster_warns_that_in_cluster_checks_need_its_network(healthy, fake_credential):
    healthy.aks.clusters["aks-ml"]["properties"]["apiServerAccessProfile"]["enablePrivateCluster"] = True
    f = findings(healthy, fake_credential)["cluster.api_server_access"]
    assert f.status == "warn" and "private cluster" in f.found
