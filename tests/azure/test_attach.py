"""`azml2aks attach`: Kubernetes compute attach after the doctor's blocking checks, idempotent;
a compute of that name on another cluster is an error; detach."""
from __future__ import annotations

import pytest

from azml2aks.errors import ConfigError

from .aks_helpers import TLS, aks, answer_attach


@pytest.fixture
def ready(fake_azure, kube):
    """aks-ml healthy but not attached yet."""
    fake_azure.aks.add_extension("aks-ml", "azureml", settings=TLS)
    return fake_azure


def test_attaching_twice_attaches_once(ready, fake_credential):
    compute = aks(ready, fake_credential)
    assert compute.attach()[0] == "attached"
    assert compute.attach()[0] == "already attached"
    (put,) = ready.calls("Compute_CreateOrUpdate")
    props = put.request_json["properties"]
    assert props["computeType"] == "Kubernetes" and props["resourceId"] == ready.aks.cluster_id("aks-ml")
    assert props["properties"]["namespace"] == "azureml"
    assert put.request_json["identity"]["type"].lower() == "systemassigned"
    assert ready.compute.computes["aks"]["properties"]["provisioningState"] == "Succeeded"


def test_attach_returns_the_doctor_findings(ready, fake_credential):
    status, report = aks(ready, fake_credential).attach()
    assert status == "attached" and report.blocking_attach() == []
    assert next(f for f in report.findings if f.check == "compute.attached").status == "fail"  # before the PUT


def test_a_compute_of_that_name_on_another_cluster_is_an_error_that_says_so(ready, fake_credential):
    ready.aks.add_cluster("aks-other")
    answer_attach(ready, cluster="aks-other")
    with pytest.raises(ConfigError, match="compute 'aks' in workspace 'ml-ws' already exists and points at "
                                          "another cluster: .*/managedClusters/aks-other") as info:
        aks(ready, fake_credential).attach()
    assert "az ml compute detach --name aks" in info.value.hint
    assert ready.count("Compute_CreateOrUpdate") == 0


def test_attach_refuses_a_cluster_without_the_azureml_extension(fake_azure, fake_credential, kube):
    fake_azure.aks.extensions["aks-ml"].clear()
    with pytest.raises(ConfigError, match="extension.installed: the AzureML extension") as info:
        aks(fake_azure, fake_credential).attach()
    assert "az k8s-extension create" in info.value.hint
    assert fake_azure.count("Compute_CreateOrUpdate") == 0


def test_attach_refuses_when_the_namespace_does_not_exist(ready, fake_credential, kube):
    del kube.namespaces["azureml"]
    with pytest.raises(ConfigError, match="k8s.namespace: namespace 'azureml' does not exist"):
        aks(ready, fake_credential).attach()
    assert ready.count("Compute_CreateOrUpdate") == 0


def test_attach_goes_ahead_when_the_api_server_is_unreachable_unless_access_is_required(ready, fake_credential):
    ready.aks.api_servers.clear()
    with pytest.raises(ConfigError, match="k8s.access: in-cluster checks skipped"):
        aks(ready, fake_credential).attach(require_cluster_access=True)
    assert aks(ready, fake_credential).attach()[0] == "attached"


def test_an_attached_compute_with_another_namespace_is_an_error(ready, fake_credential):
    answer_attach(ready, namespace="models")
    with pytest.raises(ConfigError, match="namespace 'models', compute.namespace says 'azureml'"):
        aks(ready, fake_credential).attach()


def test_detach_detaches_once_and_then_reports_not_attached(ready, fake_credential):
    compute = aks(ready, fake_credential)
    compute.attach()
    assert compute.detach() == "detached"
    assert compute.detach() == "not attached"
    (delete,) = ready.calls("Compute_Delete")
    assert "underlyingResourceAction=Detach" in delete.url
    assert "aks" not in ready.compute.computes and "aks-ml" in ready.aks.clusters


def test_detach_refuses_a_compute_on_another_cluster(ready, fake_credential):
    ready.aks.add_cluster("aks-other")
    answer_attach(ready, cluster="aks-other")
    with pytest.raises(ConfigError, match="points at another cluster"):
        aks(ready, fake_credential).detach()
    assert ready.count("Compute_Delete") == 0
