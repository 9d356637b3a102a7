"""Shared set-up of the AKS doctor / attach / infra tests: a healthy cluster and its API server."""
from __future__ import annotations

import dataclasses

import pytest

from azml2aks.aks.doctor import Target
from azml2aks.backends.azure.compute import AksCompute
from tests.fakes.k8s import FakeKubernetes

#: extension settings of a production-like install: HTTPS through a TLS secret
TLS = {"allowInsecureConnections": "False", "sslSecret": "azureml-fe-tls", "sslCname": "ml.example.com"}


@pytest.fixture
def kube(fake_azure):
    """A FakeKubernetes reachable through aks-ml's cluster user kubeconfig."""
    server = FakeKubernetes().start()
    fake_azure.aks.connect("aks-ml", server)
    yield server
    server.stop()


@pytest.fixture
def healthy(fake_azure, kube):
    """aks-ml with an HTTPS AzureML extension, attached as compute 'aks' (namespace azureml)."""
    fake_azure.aks.add_extension("aks-ml", "azureml", settings=TLS)
    answer_attach(fake_azure)
    return fake_azure


def answer_attach(fake, name: str = "aks", cluster: str = "aks-ml", namespace: str = "azureml") -> None:
    import requests

    from .helpers import ws_url

    requests.put(f"{ws_url(fake)}/computes/{name}", json={"properties": {
        "computeType": "Kubernetes", "resourceId": fake.aks.cluster_id(cluster),
        "properties": {"namespace": namespace}}})
    fake.settle()
    fake.reset_log()


def target(fake, **changes) -> Target:
    c = fake.config
    base = Target(subscription_id=c.subscription_id, resource_group=c.resource_group, workspace=c.workspace,
                  compute="aks", cluster="aks-ml", cluster_resource_group=c.resource_group, namespace="azureml",
                  requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "2", "memory": "2Gi"})
    return dataclasses.replace(base, **changes)


def aks(fake, credential, sleeps: list | None = None, **changes) -> AksCompute:
    return AksCompute(target(fake, **changes), credential,
                      sleep=(sleeps.append if sleeps is not None else fake.clock.sleep))


def findings(fake, credential, *, require_cluster_access: bool = False, **changes) -> dict:
    report = aks(fake, credential, **changes).doctor(require_cluster_access=require_cluster_access)
    return {f.check: f for f in report.findings}
