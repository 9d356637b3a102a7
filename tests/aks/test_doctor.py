"""The doctor's judgement, pure: facts in, findings out — every check, pass and fail, no fakes."""
from __future__ import annotations

import dataclasses

import pytest

from azml2aks.aks import doctor as D
from azml2aks.aks.capacity import cpu_cores, memory_gib, vm_size

TARGET = D.Target(subscription_id="sub", resource_group="rg-ml", workspace="ml-ws", compute="aks",
                  cluster="aks-ml", cluster_resource_group="rg-aks", namespace="azureml",
                  requests={"cpu": "1", "memory": "2Gi"}, limits={"cpu": "2", "memory": "2Gi"})
CLUSTER = D.ClusterFacts(id=TARGET.cluster_id, location="eastus", provisioning_state="Succeeded",
                         power_state="Running", identity_type="SystemAssigned", disable_local_accounts=False,
                         kubernetes_version="1.30.6", pools=(D.Pool("nodepool1", "Standard_D4s_v3", 3, "System"),))
EXTENSION = D.ExtensionFacts(name="azureml", extension_type="Microsoft.AzureML.Kubernetes",
                             provisioning_state="Succeeded",
                             settings={"enableInference": "True", "inferenceRouterServiceType": "LoadBalancer",
                                       "allowInsecureConnections": "False", "sslSecret": "tls",
                                       "sslCname": "ml.example.com"})
HEALTHY = D.Facts(cluster=CLUSTER, extensions=(EXTENSION,), provider_state="Registered",
                  compute=D.ComputeFacts("Kubernetes", TARGET.cluster_id, "azureml", "Succeeded"),
                  workspace_location="eastus", supported_versions=(("1.30", False), ("1.31", False), ("1.32", True)),
                  in_cluster=D.InClusterFacts(reachable=True, namespace_exists=True, instance_type=None,
                                              router_type="LoadBalancer", router_address="20.1.2.3"))


def finding(facts: D.Facts, check: str, target: D.Target = TARGET, **kw) -> D.Finding:
    found = [f for f in D.judge(facts, target, **kw) if f.check == check]
    assert len(found) == 1, f"expected one {check} finding"
    return found[0]


def with_cluster(**changes) -> D.Facts:
    return dataclasses.replace(HEALTHY, cluster=dataclasses.replace(CLUSTER, **changes))


def with_extension(**settings) -> D.Facts:
    ext = dataclasses.replace(EXTENSION, settings={**EXTENSION.settings, **settings})
    return dataclasses.replace(HEALTHY, extensions=(ext,))


def with_kube(**changes) -> D.Facts:
    return dataclasses.replace(HEALTHY, in_cluster=dataclasses.replace(HEALTHY.in_cluster, **changes))


def test_a_healthy_cluster_passes_every_check_in_a_stable_order():
    findings = D.judge(HEALTHY, TARGET)
    assert [f.check for f in findings] == [
        "cluster.exists", "cluster.state", "cluster.identity", "cluster.local_accounts",
        "cluster.kubernetes_version", "cluster.api_server_access", "cluster.capacity", "extension.installed",
        "extension.state", "extension.inference", "extension.router", "extension.tls", "provider.registered",
        "compute.attached", "workspace.region", "k8s.access", "k8s.namespace", "k8s.instance_type", "k8s.router"]
    assert {f.status for f in findings} == {"pass"}


def test_a_missing_cluster_fails_naming_the_command_that_creates_it_and_skips_what_depends_on_it():
    findings = D.judge(dataclasses.replace(HEALTHY, cluster=None, extensions=()), TARGET)
    assert [f.check for f in findings] == ["cluster.exists", "provider.registered", "compute.attached"]
    assert findings[0].status == "fail" and "azml2aks infra up" in findings[0].remedy


@pytest.mark.parametrize(("changes", "found", "remedy"), [
    ({"provisioning_state": "Failed"}, "provisioningState Failed", "az aks update -g rg-aks -n aks-ml"),
    ({"power_state": "Stopped"}, "power state Stopped", "az aks start -g rg-aks -n aks-ml"),
])
def test_a_cluster_not_succeeded_and_running_fails(changes, found, remedy):
    f = finding(with_cluster(**changes), "cluster.state")
    assert (f.status, f.found) == ("fail", found) and remedy in f.remedy


def test_a_service_principal_cluster_fails_the_managed_identity_check():
    f = finding(with_cluster(identity_type=None), "cluster.identity")
    assert f.status == "fail" and "--enable-managed-identity" in f.remedy


def test_a_user_assigned_identity_passes():
    assert finding(with_cluster(identity_type="UserAssigned"), "cluster.identity").status == "pass"


def test_disabled_local_accounts_fail():
    f = finding(with_cluster(disable_local_accounts=True), "cluster.local_accounts")
    assert f.status == "fail" and "--enable-local-accounts" in f.remedy


@pytest.mark.parametrize(("version", "status"), [("1.30.6", "pass"), ("1.32.1", "warn"), ("1.27.9", "fail")])
def test_kubernetes_version_is_judged_against_the_supported_list(version, status):
    f = finding(with_cluster(kubernetes_version=version), "cluster.kubernetes_version")
    assert f.status == status
    if status == "fail":
        assert "--kubernetes-version 1.31" in f.remedy


def test_an_unreadable_version_list_is_a_warning():
    facts = dataclasses.replace(HEALTHY, supported_versions=None)
    assert finding(facts, "cluster.kubernetes_version").status == "warn"


def test_authorized_ip_ranges_and_private_clusters_warn():
    ranges = finding(with_cluster(authorized_ip_ranges=("10.0.0.0/8",)), "cluster.api_server_access")
    private = finding(with_cluster(private_cluster=True), "cluster.api_server_access")
    assert ranges.status == private.status == "warn"
    assert "Azure ML control plane" in ranges.found and "private cluster" in private.found


def test_capacity_counts_both_colours_of_a_rollout():
    target = dataclasses.replace(TARGET, instance_count=4, requests={"cpu": "2", "memory": "4Gi"})
    f = finding(HEALTHY, "cluster.capacity", target)       # 2 x 4 x 2 vCPU = 16 > 12
    assert f.status == "fail" and "16 vCPU" in f.found and "az aks nodepool scale" in f.remedy
    ok = finding(HEALTHY, "cluster.capacity", dataclasses.replace(target, instance_count=3))
    assert ok.status == "pass" and "12 vCPU / 48 GiB" in ok.found


def test_a_pod_larger_than_any_node_fails():
    target = dataclasses.replace(TARGET, requests={"cpu": "6", "memory": "4Gi"})
    f = finding(HEALTHY, "cluster.capacity", target)
    assert f.status == "fail" and "largest node (4 vCPU" in f.found


def test_capacity_uses_autoscaler_maximum_and_ignores_critical_addons_pools():
    pools = (D.Pool("system", "Standard_D4s_v3", 1, "System", taints=("CriticalAddonsOnly=true:NoSchedule",)),
             D.Pool("inference", "Standard_D8s_v5", 1, "User", auto_scaling=True, max_count=3))
    f = finding(with_cluster(pools=pools), "cluster.capacity")
    assert f.status == "pass" and "24 vCPU / 96 GiB in 1 pool(s)" in f.found and "1..3 x" in f.found


def test_below_the_production_guideline_is_a_warning():
    small = with_cluster(pools=(D.Pool("p", "Standard_B2s", 1, "System"),))
    f = finding(small, "cluster.capacity", dataclasses.replace(TARGET, requests={"cpu": "500m", "memory": "1Gi"}))
    assert f.status == "warn" and "production guideline of 4 vCPU / 14 GiB" in f.found


def test_an_unknown_vm_size_is_a_warning_naming_the_lookup_command():
    f = finding(with_cluster(pools=CLUSTER.pools + (D.Pool("gpu", "Standard_ND96asr_v4", 1),)), "cluster.capacity")
    assert f.status == "warn" and "Standard_ND96asr_v4" in f.found and "az vm list-sizes" in f.remedy


def test_a_missing_azureml_extension_fails_naming_the_install_command():
    f = finding(dataclasses.replace(HEALTHY, extensions=()), "extension.installed")
    assert f.status == "fail" and "microsoft.azureml.kubernetes" in f.found
    assert f.remedy.startswith("`az k8s-extension create --name azureml --extension-type Microsoft.AzureML.Kubernetes")


def test_an_extension_not_succeeded_fails_with_its_error():
    ext = dataclasses.replace(EXTENSION, provisioning_state="Failed", error="helm timed out")
    f = finding(dataclasses.replace(HEALTHY, extensions=(ext,)), "extension.state")
    assert f.status == "fail" and "helm timed out" in f.found and "az k8s-extension show" in f.remedy


def test_inference_disabled_fails():
    f = finding(with_extension(enableInference="False"), "extension.inference")
    assert f.status == "fail" and "enableInference=True" in f.remedy


@pytest.mark.parametrize(("router", "status"), [("LoadBalancer", "pass"), ("nodePort", "warn"),
                                                ("ClusterIP", "warn"), ("", "fail")])
def test_router_service_type(router, status):
    assert finding(with_extension(inferenceRouterServiceType=router), "extension.router").status == status


@pytest.mark.parametrize(("settings", "status", "words"), [
    ({}, "pass", "HTTPS (sslSecret"),
    ({"allowInsecureConnections": "True"}, "warn", "also accepts plain HTTP"),
    ({"allowInsecureConnections": "True", "sslSecret": None, "sslCname": None}, "warn", "travel in clear"),
    ({"sslSecret": None, "sslCname": None}, "fail", "cannot serve"),
])
def test_tls_and_insecure_connections_must_be_consistent(settings, status, words):
    f = finding(with_extension(**settings), "extension.tls")
    assert f.status == status and words in f.found


def test_tls_through_protected_pem_files_counts():
    ext = dataclasses.replace(EXTENSION, settings={**EXTENSION.settings, "sslSecret": None, "sslCname": None},
                              protected_keys=("sslCertPemFile", "sslKeyPemFile"))
    assert finding(dataclasses.replace(HEALTHY, extensions=(ext,)), "extension.tls").status == "pass"


def test_an_unregistered_provider_fails_with_the_register_command():
    f = finding(dataclasses.replace(HEALTHY, provider_state="NotRegistered"), "provider.registered")
    assert f.status == "fail" and "az provider register --namespace Microsoft.KubernetesConfiguration" in f.remedy


@pytest.mark.parametrize(("compute", "status", "words"), [
    (None, "fail", "is not attached"),
    (D.ComputeFacts("AmlCompute", "", None, "Succeeded"), "fail", "not Kubernetes"),
    (D.ComputeFacts("Kubernetes", "/subscriptions/sub/x/managedClusters/other", "azureml", "Succeeded"),
     "fail", "points at another cluster"),
    (D.ComputeFacts("Kubernetes", TARGET.cluster_id, "azureml", "Failed"), "fail", "is Failed"),
    (D.ComputeFacts("Kubernetes", TARGET.cluster_id.upper(), "models", "Succeeded"), "warn", "namespace 'models'"),
])
def test_compute_must_be_kubernetes_and_point_at_this_cluster(compute, status, words):
    f = finding(dataclasses.replace(HEALTHY, compute=compute), "compute.attached")
    assert f.status == status and words in f.found


def test_workspace_and_cluster_in_different_regions_warn():
    f = finding(dataclasses.replace(HEALTHY, workspace_location="westeurope"), "workspace.region")
    assert f.status == "warn" and "westeurope" in f.found and "eastus" in f.found


def test_an_unreachable_api_server_skips_in_cluster_checks_with_the_reason():
    facts = dataclasses.replace(HEALTHY, in_cluster=D.InClusterFacts(reachable=False, reason="connection refused"))
    findings = D.judge(facts, TARGET)
    assert [f.check for f in findings if f.check.startswith("k8s.")] == ["k8s.access"]
    assert finding(facts, "k8s.access").status == "warn"
    assert "skipped: connection refused" in finding(facts, "k8s.access").found
    assert finding(facts, "k8s.access", require_cluster_access=True).status == "fail"


def test_a_missing_namespace_fails():
    f = finding(with_kube(namespace_exists=False), "k8s.namespace")
    assert f.status == "fail" and "kubectl create namespace azureml" in f.remedy


def test_a_named_instance_type_must_exist_and_fit():
    named = dataclasses.replace(TARGET, instance_type="cpu-small")
    assert finding(HEALTHY, "k8s.instance_type", named).status == "fail"
    small = with_kube(instance_type={"requests": {"cpu": "500m"}, "limits": {"cpu": "1", "memory": "1Gi"}})
    f = finding(small, "k8s.instance_type", named)
    assert f.status == "fail" and "cpu request 1 exceeds" not in f.found and "memory request 2Gi exceeds" in f.found
    big = with_kube(instance_type={"limits": {"cpu": "4", "memory": "8Gi"}})
    assert finding(big, "k8s.instance_type", named).status == "pass"


def test_the_builtin_default_instance_type_is_used_when_none_is_named():
    f = finding(HEALTHY, "k8s.instance_type", dataclasses.replace(TARGET, requests={"cpu": "3"}, limits={}))
    assert f.status == "fail" and "'defaultinstancetype' (built-in)" in f.found


@pytest.mark.parametrize(("router_type", "address", "status"), [
    ("LoadBalancer", "20.1.2.3", "pass"), ("LoadBalancer", None, "fail"), (None, None, "fail")])
def test_the_inference_router_needs_an_address(router_type, address, status):
    assert finding(with_kube(router_type=router_type, router_address=address), "k8s.router").status == status


def test_attach_is_blocked_by_cluster_problems_but_not_by_deploy_time_ones():
    facts = dataclasses.replace(with_extension(sslSecret=None, sslCname=None), compute=None)
    report = D.DoctorReport("aks-ml", "aks", tuple(D.judge(facts, TARGET)))
    assert not report.ok and report.blocking_attach() == []
    report = D.DoctorReport("aks-ml", "aks", tuple(D.judge(dataclasses.replace(HEALTHY, extensions=()), TARGET)))
    assert [f.check for f in report.blocking_attach()] == ["extension.installed"]
    assert report.to_dict()["fail"] == 1


@pytest.mark.parametrize(("quantity", "cores"), [("500m", 0.5), ("2", 2.0), (1, 1.0), (None, None)])
def test_cpu_quantities(quantity, cores):
    assert cpu_cores(quantity) == cores


@pytest.mark.parametrize(("quantity", "gib"), [("4Gi", 4.0), ("512Mi", 0.5), ("2048Mi", 2.0), (None, None)])
def test_memory_quantities(quantity, gib):
    assert memory_gib(quantity) == gib


def test_a_malformed_quantity_is_an_error():
    with pytest.raises(ValueError, match="not a CPU quantity"):
        cpu_cores("two")


@pytest.mark.parametrize(("name", "vcpus", "gib"), [
    ("Standard_D4s_v3", 4, 16), ("standard_d8ds_v5", 8, 32), ("Standard_E4s_v5", 4, 32), ("Standard_F8s_v2", 8, 16),
    ("Standard_DS3_v2", 4, 14), ("Standard_B2s", 2, 4), ("Standard_NC6s_v3", 6, 112)])
def test_vm_sizes_of_common_aks_families(name, vcpus, gib):
    size = vm_size(name)
    assert (size.vcpus, size.memory_gib) == (vcpus, gib)


def test_an_unknown_vm_size_is_none_not_a_guess():
    assert vm_size("Standard_ND96asr_v4") is None and vm_size("Standard_D3_v4") is None
