"""infra/<env>.yaml and the infra plan, pure: validation, the ARM bodies, the diff."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from azml2aks.aks import infraplan as P
from azml2aks.aks.infraspec import cluster_body, extension_body, load_infra, parse_infra
from azml2aks.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SPEC = """\
subscription_id: sub
resource_group: rg-aks
location: eastus
cluster:
  name: aks-dev
  system_pool: {name: system, vm_size: Standard_D4s_v5, count: 1}
  inference_pool: {name: inference, vm_size: Standard_D4s_v5, count: 1, min_count: 1, max_count: 3}
extension: {allow_insecure_connections: true}
instance_types:
  - {name: cpu-small, requests: {cpu: "1", memory: 2Gi}, limits: {cpu: "2", memory: 4Gi}}
workspace: {name: ml-ws}
compute: {name: aks-dev}
"""
CLUSTER_ID = "/subscriptions/sub/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-dev"


def spec(text: str = SPEC):
    return parse_infra(text, source="infra/dev.yaml")


def observed_matching(s) -> P.Observed:
    """What Azure holds right after `infra up` of `s`."""
    body = cluster_body(s)
    body["properties"]["currentKubernetesVersion"] = "1.31.2"
    ext = {"name": "azureml", **extension_body(s)}
    ext["properties"]["provisioningState"] = "Succeeded"
    kube = P.KubeState(True, namespace_exists=True, instance_types={
        it.name: {"nodeSelector": it.node_selector, "resources": it.resources()} for it in s.instance_types})
    return P.Observed(provider_state="Registered", cluster=body, extension=ext, kube=kube,
                      compute={"computeType": "Kubernetes", "resourceId": CLUSTER_ID.upper(),
                               "namespace": "azureml", "provisioningState": "Succeeded"})


def actions(changes):
    return {(c.resource, c.name): c.action for c in changes}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_shipped_environment_files_validate(env):
    s = load_infra(REPO / "infra" / f"{env}.yaml", env={"AZURE_SUBSCRIPTION_ID": "sub"})
    assert s.cluster.inference_pool.autoscale and s.cluster.oidc_issuer and s.cluster.workload_identity
    assert (env == "dev") == s.extension.allow_insecure_connections


def test_an_unknown_key_names_the_file_and_line():
    with pytest.raises(ConfigError, match=r"infra/dev.yaml:6: cluster.nmae: unknown key"):
        spec(SPEC.replace("  name: aks-dev", "  name: aks-dev\n  nmae: typo"))


def test_neither_tls_nor_insecure_connections_is_refused_before_any_call():
    with pytest.raises(ConfigError, match="cannot serve"):
        spec(SPEC.replace("extension: {allow_insecure_connections: true}", "extension: {}"))


def test_autoscaler_bounds_come_in_pairs_and_hold_the_count():
    with pytest.raises(ConfigError, match="both min_count and max_count"):
        spec(SPEC.replace("min_count: 1, ", ""))
    with pytest.raises(ConfigError, match="within min_count..max_count"):
        spec(SPEC.replace("count: 1, min_count: 1", "count: 5, min_count: 1"))


def test_a_variable_that_is_not_set_is_an_error_naming_it():
    with pytest.raises(ConfigError, match=r"AZURE_SUBSCRIPTION_ID"):
        parse_infra(SPEC.replace("subscription_id: sub", "subscription_id: ${AZURE_SUBSCRIPTION_ID}"), env={})


def test_the_cluster_body_has_a_system_pool_an_autoscaled_user_pool_msi_oidc_and_workload_identity():
    body = cluster_body(spec())
    system, user = body["properties"]["agentPoolProfiles"]
    assert (system["mode"], system["enableAutoScaling"]) == ("System", False)
    assert (user["mode"], user["minCount"], user["maxCount"]) == ("User", 1, 3) and user["enableAutoScaling"]
    assert body["identity"] == {"type": "SystemAssigned"}
    assert body["properties"]["oidcIssuerProfile"] == {"enabled": True}
    assert body["properties"]["securityProfile"] == {"workloadIdentity": {"enabled": True}}
    assert body["properties"]["disableLocalAccounts"] is False


def test_the_extension_body_enables_inference_and_keeps_insecure_connections_off_unless_asked():
    settings = extension_body(spec())["properties"]["configurationSettings"]
    assert settings["enableInference"] == "True" and settings["allowInsecureConnections"] == "True"
    tls = spec(SPEC.replace("{allow_insecure_connections: true}", "{ssl_secret: tls, ssl_cname: ml.example.com}"))
    settings = extension_body(tls)["properties"]["configurationSettings"]
    assert settings["allowInsecureConnections"] == "False" and settings["sslSecret"] == "tls"
    assert extension_body(tls)["properties"]["extensionType"] == "microsoft.azureml.kubernetes"


def test_plan_for_a_new_cluster_creates_everything_then_attaches():
    seen = P.Observed(provider_state="NotRegistered", cluster=None, extension=None, kube=None, compute=None)
    assert actions(P.plan(spec(), seen, cluster_id=CLUSTER_ID)) == {
        ("provider", "Microsoft.KubernetesConfiguration"): "register", ("cluster", "aks-dev"): "create",
        ("extension", "azureml"): "create", ("namespace", "azureml"): "create",
        ("instance_type", "cpu-small"): "create", ("compute", "aks-dev"): "attach"}


def test_plan_for_a_matching_cluster_changes_nothing():
    s = spec()
    changes = P.plan(s, observed_matching(s), cluster_id=CLUSTER_ID)
    assert {c.action for c in changes} == {"none"} and not any(c.changes for c in changes)


def test_plan_for_a_drifted_cluster_names_each_difference():
    s = spec()
    seen = observed_matching(s)
    props = seen.cluster["properties"]
    props["oidcIssuerProfile"]["enabled"] = False
    props["agentPoolProfiles"][1].update(minCount=2, maxCount=5)
    props["agentPoolProfiles"][0]["count"] = 2
    seen.extension["properties"]["configurationSettings"]["allowInsecureConnections"] = "False"
    seen.kube.instance_types["cpu-small"]["resources"]["limits"]["cpu"] = "4"
    changes = {(c.resource, c.name): c for c in P.plan(s, seen, cluster_id=CLUSTER_ID)}
    assert changes[("cluster", "aks-dev")].details == (
        "oidcIssuerProfile.enabled: False -> True", "pool system: 2 nodes -> 1 nodes",
        "pool inference: autoscale 2..5 -> autoscale 1..3")
    assert changes[("extension", "azureml")].details == ("allowInsecureConnections: False -> True",)
    assert changes[("instance_type", "cpu-small")].action == "update"
    assert P.extension_patch(s, seen.extension)["properties"]["configurationSettings"] == {
        "allowInsecureConnections": "True"}


def test_a_vm_size_change_is_refused_with_the_way_to_do_it():
    s = spec()
    seen = observed_matching(s)
    seen.cluster["properties"]["agentPoolProfiles"][1]["vmSize"] = "Standard_D8s_v5"
    with pytest.raises(ConfigError, match="cannot change a pool's VM size") as info:
        P.plan(s, seen, cluster_id=CLUSTER_ID)
    assert "az aks nodepool delete" in info.value.hint


def test_the_update_body_keeps_other_pools_the_network_and_the_autoscalers_count():
    s = spec()
    seen = copy.deepcopy(observed_matching(s).cluster)
    seen["properties"]["agentPoolProfiles"].append({"name": "gpu", "vmSize": "Standard_NC6s_v3", "count": 1,
                                                    "mode": "User", "provisioningState": "Succeeded"})
    seen["properties"]["agentPoolProfiles"][1]["count"] = 3
    seen["properties"]["networkProfile"] = {"networkPlugin": "kubenet", "serviceCidr": "10.0.0.0/16"}
    body = P.cluster_update_body(s, seen)
    pools = {p["name"]: p for p in body["properties"]["agentPoolProfiles"]}
    assert set(pools) == {"system", "inference", "gpu"} and "provisioningState" not in pools["gpu"]
    assert pools["inference"]["count"] == 3
    assert body["properties"]["networkProfile"]["networkPlugin"] == "kubenet"


def test_an_unreachable_api_server_leaves_in_cluster_changes_unknown():
    s = spec()
    seen = observed_matching(s)
    seen = P.Observed(seen.provider_state, seen.cluster, seen.extension,
                      P.KubeState(False, reason="connection refused"), seen.compute)
    changes = actions(P.plan(s, seen, cluster_id=CLUSTER_ID))
    assert changes[("namespace", "azureml")] == changes[("instance_type", "cpu-small")] == "unknown"


def test_a_compute_of_that_name_on_another_cluster_is_an_error():
    s = spec()
    seen = observed_matching(s)
    seen.compute["resourceId"] = CLUSTER_ID.replace("aks-dev", "aks-other")
    with pytest.raises(ConfigError, match="points at another cluster: .*aks-other"):
        P.plan(s, seen, cluster_id=CLUSTER_ID)
