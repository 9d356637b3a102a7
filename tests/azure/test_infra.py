"""`azml2aks infra plan|up` against the fake ARM and a fake Kubernetes API server: a new
cluster, a matching one, a drifted one, failing LROs, throttling."""
from __future__ import annotations

import pytest

from azml2aks.aks.infraspec import parse_infra
from azml2aks.backends.azure.infra import AksInfra
from azml2aks.errors import BackendError, ConfigError
from tests.fakes.k8s import FakeKubernetes

SPEC = """\
subscription_id: 00000000-1111-2222-3333-444444444444
resource_group: rg-ml
location: eastus
cluster:
  name: aks-dev
  system_pool: {name: system, vm_size: Standard_D4s_v5, count: 1}
  inference_pool: {name: inference, vm_size: Standard_D4s_v5, count: 1, min_count: 1, max_count: 3}
extension: {ssl_secret: azureml-fe-tls, ssl_cname: ml.example.com}
instance_types:
  - {name: cpu-small, requests: {cpu: "1", memory: 2Gi}, limits: {cpu: "2", memory: 4Gi}}
workspace: {name: ml-ws}
compute: {name: aks-dev}
"""
WRITES = ("ManagedClusters_CreateOrUpdate", "Extensions_Create", "Extensions_Update", "Providers_Register",
          "Compute_CreateOrUpdate")


@pytest.fixture
def kube(fake_azure):
    """The new cluster's API server: no azureml namespace yet (the router is up once the extension is)."""
    server = FakeKubernetes().start()
    del server.namespaces["azureml"]
    fake_azure.aks.connect("aks-dev", server)
    yield server
    server.stop()


def infra(fake, credential, sleeps: list | None = None, text: str = SPEC) -> AksInfra:
    sleep = sleeps.append if sleeps is not None else fake.clock.sleep
    return AksInfra(parse_infra(text, source="infra/dev.yaml"), credential, source="infra/dev.yaml",
                    sleep=sleep, clock=fake.clock.monotonic)


def writes(fake) -> dict:
    return {op: n for op, n in fake.arm_counts().items() if op in WRITES}


def actions(result) -> dict:
    return {f"{c.resource}/{c.name}": c.action for c in result.changes}


def test_plan_on_a_new_cluster_lists_every_creation_and_changes_nothing(fake_azure, fake_credential, kube):
    result = infra(fake_azure, fake_credential).plan()
    assert actions(result) == {"provider/Microsoft.KubernetesConfiguration": "none", "cluster/aks-dev": "create",
                               "extension/azureml": "create", "namespace/azureml": "create",
                               "instance_type/cpu-small": "create", "compute/aks-dev": "attach"}
    assert not result.applied and writes(fake_azure) == {} and kube.writes() == []
    assert "aks-dev" not in fake_azure.aks.clusters


def test_up_on_a_new_cluster_creates_it_installs_the_extension_and_attaches(fake_azure, fake_credential, kube):
    result = infra(fake_azure, fake_credential).up()
    assert result.applied and result.attach == "attached"
    assert writes(fake_azure) == {"ManagedClusters_CreateOrUpdate": 1, "Extensions_Create": 1,
                                  "Compute_CreateOrUpdate": 1}
    body = fake_azure.calls("ManagedClusters_CreateOrUpdate")[0].request_json
    assert body["identity"] == {"type": "SystemAssigned"}
    assert [(p["name"], p["mode"]) for p in body["properties"]["agentPoolProfiles"]] == [("system", "System"),
                                                                                         ("inference", "User")]
    assert body["properties"]["securityProfile"]["workloadIdentity"]["enabled"] is True
    settings = fake_azure.calls("Extensions_Create")[0].request_json["properties"]["configurationSettings"]
    assert settings["enableInference"] == "True" and settings["allowInsecureConnections"] == "False"
    assert kube.writes() == [("POST", "/api/v1/namespaces"),
                             ("POST", "/apis/amlarc.azureml.com/v1alpha1/instancetypes")]
    assert kube.instance_types["cpu-small"]["spec"]["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    cluster = fake_azure.aks.clusters["aks-dev"]["properties"]
    assert cluster["provisioningState"] == "Succeeded" and cluster["oidcIssuerProfile"]["issuerURL"]


def test_up_on_a_matching_cluster_changes_nothing(fake_azure, fake_credential, kube):
    infra(fake_azure, fake_credential).up()
    fake_azure.reset_log()
    kube.requests.clear()
    result = infra(fake_azure, fake_credential).up()
    assert {c.action for c in result.changes} == {"none"} and result.attach == "already attached"
    assert writes(fake_azure) == {} and kube.writes() == []


def test_a_drifted_cluster_is_planned_then_brought_back_with_one_update_each(fake_azure, fake_credential, kube):
    infra(fake_azure, fake_credential).up()
    cluster = fake_azure.aks.clusters["aks-dev"]["properties"]
    cluster["agentPoolProfiles"][1].update(minCount=1, maxCount=10)
    cluster["oidcIssuerProfile"] = {"enabled": False}
    fake_azure.aks.extensions["aks-dev"]["azureml"]["properties"]["configurationSettings"][
        "allowInsecureConnections"] = "True"
    fake_azure.reset_log()
    plan = infra(fake_azure, fake_credential).plan()
    changed = {c.resource: c.details for c in plan.changes if c.changes}
    assert changed == {"cluster": ("oidcIssuerProfile.enabled: False -> True",
                                   "pool inference: autoscale 1..10 -> autoscale 1..3"),
                       "extension": ("allowInsecureConnections: True -> False",)}
    assert writes(fake_azure) == {}
    infra(fake_azure, fake_credential).up()
    assert writes(fake_azure) == {"ManagedClusters_CreateOrUpdate": 1, "Extensions_Update": 1}
    patch = fake_azure.calls("Extensions_Update")[0].request_json
    assert patch["properties"]["configurationSettings"] == {"allowInsecureConnections": "False"}
    assert cluster["agentPoolProfiles"][1]["maxCount"] == 3 and cluster["oidcIssuerProfile"]["enabled"]


def test_a_vm_size_drift_is_refused_before_any_write(fake_azure, fake_credential, kube):
    infra(fake_azure, fake_credential).up()
    fake_azure.reset_log()
    with pytest.raises(ConfigError, match="pool 'inference' runs Standard_D4s_v5, the spec says Standard_D8s_v5"):
        infra(fake_azure, fake_credential, text=SPEC.replace(
            "inference, vm_size: Standard_D4s_v5", "inference, vm_size: Standard_D8s_v5")).up()
    assert writes(fake_azure) == {}


def test_a_failed_cluster_lro_stops_the_run_with_the_service_code_and_the_next_step(
        fake_azure, fake_credential, kube):
    fake_azure.aks.fail_next_put("aks-dev")
    with pytest.raises(BackendError, match=r"creating AKS cluster 'aks-dev'.*ReconcileVMSSAgentPoolFailed") as info:
        infra(fake_azure, fake_credential).up()
    assert "az aks show -g rg-ml -n aks-dev" in info.value.hint and "infra up infra/dev.yaml" in info.value.hint
    assert fake_azure.aks.clusters["aks-dev"]["properties"]["provisioningState"] == "Failed"
    assert "Extensions_Create" not in fake_azure.arm_counts() and kube.writes() == []


def test_a_failed_extension_lro_stops_the_run_before_attach(fake_azure, fake_credential, kube):
    fake_azure.aks.fail_next_extension("aks-dev")
    with pytest.raises(BackendError, match=r"installing the AzureML extension 'azureml' on cluster 'aks-dev' ended "
                                           r"Failed: \(ExtensionOperationFailed\) Helm installation failed") as info:
        infra(fake_azure, fake_credential).up()
    assert info.value.code == "ExtensionOperationFailed" and "az k8s-extension show --name azureml" in info.value.hint
    assert "Compute_CreateOrUpdate" not in fake_azure.arm_counts()
    # the next run sees the Failed extension and applies it again
    plan = infra(fake_azure, fake_credential).plan()
    extension = next(c for c in plan.changes if c.resource == "extension")
    assert extension.action == "update" and "provisioningState Failed: apply again" in extension.details


def test_an_unregistered_provider_is_registered_and_waited_for(fake_azure, fake_credential, kube):
    fake_azure.aks.providers["Microsoft.KubernetesConfiguration"] = "NotRegistered"
    sleeps: list[float] = []
    infra(fake_azure, fake_credential, sleeps).up()
    assert writes(fake_azure)["Providers_Register"] == 1
    assert fake_azure.aks.providers["Microsoft.KubernetesConfiguration"] == "Registered"
    assert sleeps[0] == 10.0  # one poll interval while it was Registering


def test_throttled_writes_wait_exactly_the_retry_after(fake_azure, fake_credential, kube):
    fake_azure.faults.throttle("ManagedClusters_CreateOrUpdate", retry_after=5)
    fake_azure.faults.throttle("Extensions_Create", retry_after=2)
    sleeps: list[float] = []
    infra(fake_azure, fake_credential, sleeps).up()
    # 429 -> its Retry-After; cluster LRO poll (the SDK's 30 s, no Retry-After on a 201); 429 ->
    # its Retry-After; extension async operation: first wait, one InProgress; compute attach poll
    assert sleeps == [5.0, 30, 2.0, 10.0, 10.0, 30]
    assert [c.status for c in fake_azure.calls("ManagedClusters_CreateOrUpdate")] == [429, 201]
    assert [c.status for c in fake_azure.calls("Extensions_Create")] == [429, 201]


def test_plan_with_an_unreachable_api_server_says_what_it_cannot_know(fake_azure, fake_credential, kube):
    infra(fake_azure, fake_credential).up()
    fake_azure.aks.api_servers.clear()
    result = infra(fake_azure, fake_credential).plan()
    unknown = [c for c in result.changes if c.action == "unknown"]
    assert [c.resource for c in unknown] == ["namespace", "instance_type"]
    assert "cannot reach the API server at https://127.0.0.1:1" in unknown[0].details[0]


def test_up_waits_for_the_router_address_on_the_injected_clock_and_gives_up_naming_it(
        fake_azure, fake_credential, kube):
    kube.add_router(ip=None)  # the load balancer never gets an address
    sleeps: list[float] = []
    run = AksInfra(parse_infra(SPEC, source="infra/dev.yaml"), fake_credential, source="infra/dev.yaml",
                   sleep=lambda s: (sleeps.append(s), fake_azure.clock.sleep(s)), clock=fake_azure.clock.monotonic,
                   router_timeout=30)
    with pytest.raises(BackendError, match="waited 30 s for the inference router") as info:
        run.up()
    assert "kubectl get svc azureml-fe -n azureml" in info.value.hint
    # cluster LRO poll, extension operation (first wait, one InProgress), then the router: 3 polls
    assert sleeps == [30, 10.0, 10.0, 10.0, 10.0, 10.0]
    assert "Compute_CreateOrUpdate" not in fake_azure.arm_counts()


def test_instance_types_created_by_up_are_the_clusters_that_deployments_are_sized_by(
        fake_azure, fake_credential, kube):
    infra(fake_azure, fake_credential).up()
    assert fake_azure.instance_types.resources("aks-dev")["cpu-small"]["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}
