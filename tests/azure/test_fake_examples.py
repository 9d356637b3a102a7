"""The fake's response bodies carry every key the official Azure REST examples carry.

The examples are copies of azure-rest-api-specs files (see tests/fakes/examples/, copied
from ../shared/azure-rest-examples/) so this check never skips in a fresh clone.
Free-form maps (tags, properties bags, placeholder keys named "string") are not compared.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

EXAMPLES = Path(__file__).resolve().parents[1] / "fakes" / "examples"
ML = "machinelearningservices"
FREE_FORM = {"tags", "userAssignedIdentities", "flavors", "traffic", "mirrorTraffic",
             "environmentVariables", "outputs", "inputs", "services", "instanceTypes",
             "configurationSettings", "statuses", "outboundRules"}
#: image-task settings: the official AutoML example is an image task, ours are tabular.
NOT_APPLICABLE = {"modelSettings", "searchSpace"}


def example(rel: str, status: str = "200") -> dict:
    return json.loads((EXAMPLES / rel).read_text())["responses"][status]["body"]


def missing_keys(expected, actual, path: str = "") -> list[str]:
    missing = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        if "string" in expected:
            return []
        for key, value in expected.items():
            where = f"{path}.{key}" if path else key
            if key in NOT_APPLICABLE:
                continue
            if key not in actual:
                missing.append(where)
            elif key in FREE_FORM or where.endswith("properties.properties"):
                continue
            else:
                missing += missing_keys(value, actual[key], where)
    elif isinstance(expected, list) and isinstance(actual, list) and expected and actual:
        missing += missing_keys(expected[0], actual[0], path + "[0]")
    return missing


@pytest.fixture
def world(fake_azure):
    """A workspace with a finished AutoML job, a model, an environment, an attached compute,
    a Kubernetes endpoint with one deployment, and an AMLToken endpoint; raw HTTP only."""
    c = fake_azure.config
    ws = f"https://management.azure.com{c.workspace_path}"
    put = lambda url, body: requests.put(url, json=body)  # noqa: E731
    put(f"{ws}/jobs/job1", {"properties": {"jobType": "AutoML", "taskDetails": {
        "taskType": "Classification", "targetColumnName": "y", "primaryMetric": "accuracy",
        "trainingData": {"jobInputType": "mltable",
                         "uri": "azureml://datastores/workspaceblobstore/paths/train/"}}}})
    fake_azure.jobs.finish("job1")
    put(f"{ws}/models/m1/versions/1", {"properties": {
        "modelUri": "azureml://jobs/job1_1/outputs/artifacts/outputs/mlflow-model",
                                                      "modelType": "custom_model"}})
    put(f"{ws}/environments/e1/versions/1", {"properties": {"image": "mcr/x:1",
                                                            "condaFile": "name: x"}})
    put(f"{ws}/computes/aks", {"location": c.location, "properties": {
        "computeType": "Kubernetes", "resourceId": fake_azure.aks.cluster_id("aks-ml"),
        "properties": {"namespace": "azureml"}}})
    put(f"{ws}/onlineEndpoints/ep1", {"location": c.location, "properties": {
        "authMode": "Key", "compute": f"{c.workspace_id}/computes/aks"}})
    put(f"{ws}/onlineEndpoints/tok-ep", {"location": c.location,
                                          "properties": {"authMode": "AMLToken"}})
    fake_azure.settle()
    put(f"{ws}/onlineEndpoints/ep1/deployments/blue", {"location": c.location, "properties": {
        "endpointComputeType": "Kubernetes", "model": f"{c.workspace_id}/models/m1/versions/1",
        "environmentId": f"{c.workspace_id}/environments/e1/versions/1",
        "containerResourceRequirements": {
            "containerResourceRequests": {"cpu": "100m", "memory": "1Gi"},
            "containerResourceLimits": {"cpu": "1", "memory": "2Gi"}}}})
    fake_azure.settle()
    return ws


CASES = [
    (f"{ML}/2024-10-01-preview/Workspace/get.json", "GET", ""),
    (f"{ML}/2022-02-01-preview/OnlineEndpoint/get.json", "GET", "/onlineEndpoints/ep1"),
    (f"{ML}/2022-02-01-preview/OnlineEndpoint/list.json", "GET", "/onlineEndpoints"),
    (f"{ML}/2022-02-01-preview/OnlineEndpoint/getToken.json", "POST",
     "/onlineEndpoints/tok-ep/token"),
    (f"{ML}/2022-10-01/OnlineEndpoint/listKeys.json", "POST", "/onlineEndpoints/ep1/listKeys"),
    (f"{ML}/2023-04-01-preview/OnlineDeployment/KubernetesOnlineDeployment/get.json", "GET",
     "/onlineEndpoints/ep1/deployments/blue"),
    (f"{ML}/2023-04-01-preview/OnlineDeployment/list.json", "GET",
     "/onlineEndpoints/ep1/deployments"),
    (f"{ML}/2023-04-01-preview/OnlineDeployment/getLogs.json", "POST",
     "/onlineEndpoints/ep1/deployments/blue/getLogs"),
    (f"{ML}/2023-08-01-preview/Workspace/ModelVersion/get.json", "GET", "/models/m1/versions/1"),
    (f"{ML}/2023-08-01-preview/Workspace/ModelVersion/list.json", "GET", "/models/m1/versions"),
    (f"{ML}/2023-08-01-preview/Workspace/ModelContainer/get.json", "GET", "/models/m1"),
    (f"{ML}/2023-04-01-preview/Workspace/EnvironmentVersion/get.json", "GET",
     "/environments/e1/versions/1"),
    (f"{ML}/2023-08-01-preview/Compute/get/KubernetesCompute.json", "GET", "/computes/aks"),
    (f"{ML}/2023-10-01/Job/AutoMLJob/get.json", "GET", "/jobs/job1"),
]


@pytest.mark.parametrize("rel, method, suffix", CASES, ids=[c[0].split("/", 1)[1] for c in CASES])
def test_fake_bodies_carry_every_key_of_the_official_example(world, rel, method, suffix):
    body = {"containerType": "InferenceServer", "tail": 5} if suffix.endswith("getLogs") else None
    answer = requests.request(method, world + suffix, json=body)
    assert answer.status_code == 200, answer.text
    assert missing_keys(example(rel), answer.json()) == []


PUT_CASES = [
    (f"{ML}/2022-02-01-preview/OnlineEndpoint/createOrUpdate.json", "/onlineEndpoints/ep2",
     {"properties": {"authMode": "Key"}}),
    (f"{ML}/2023-04-01-preview/OnlineDeployment/KubernetesOnlineDeployment/createOrUpdate.json",
     "/onlineEndpoints/ep1/deployments/green", {"properties": {
         "endpointComputeType": "Kubernetes", "containerResourceRequirements": {
             "containerResourceRequests": {"cpu": "100m", "memory": "1Gi"}}}}),
    (f"{ML}/2023-08-01-preview/Workspace/ModelVersion/createOrUpdate.json",
     "/models/m1/versions/2", {"properties": {"modelUri": "azureml://datastores/"
                                                          "workspaceblobstore/paths/m/"}}),
    (f"{ML}/2023-04-01-preview/Workspace/EnvironmentVersion/createOrUpdate.json",
     "/environments/e1/versions/2", {"properties": {"image": "mcr/x:2"}}),
    (f"{ML}/2023-08-01-preview/Compute/createOrUpdate/KubernetesCompute.json", "/computes/aks2",
     None),
    (f"{ML}/2023-10-01/Job/AutoMLJob/createOrUpdate.json", "/jobs/job2", {"properties": {
        "jobType": "AutoML", "taskDetails": {"taskType": "Regression", "targetColumnName": "y",
                                             "trainingData": {"jobInputType": "mltable",
                                                              "uri": "azureml://datastores/"
                                                              "workspaceblobstore/paths/t/"}}}}),
]


@pytest.mark.parametrize("rel, suffix, body", PUT_CASES,
                         ids=[c[0].split("/", 1)[1] for c in PUT_CASES])
def test_fake_create_answers_carry_every_key_of_the_official_201_example(
        world, fake_azure, rel, suffix, body):
    if body is None:
        body = {"properties": {"computeType": "Kubernetes",
                               "resourceId": fake_azure.aks.cluster_id("aks-ml")}}
    answer = requests.put(world + suffix, json=body)
    assert answer.status_code == 201, answer.text
    assert missing_keys(example(rel, "201"), answer.json()) == []


def test_aks_cluster_and_agent_pools_carry_every_key_of_the_official_examples(fake_azure):
    cid = fake_azure.aks.cluster_id("aks-ml")
    arm = "https://management.azure.com"
    cluster = requests.get(f"{arm}{cid}?api-version=2026-08-01").json()
    assert missing_keys(example("containerservice/2026-08-01/ManagedClustersGet.json"),
                        cluster) == []
    pools = requests.get(f"{arm}{cid}/agentPools?api-version=2026-08-01").json()
    assert missing_keys(example("containerservice/2026-07-01/AgentPoolsList.json"), pools) == []


def test_cluster_extensions_carry_every_key_of_the_official_examples(fake_azure):
    url = (f"https://management.azure.com{fake_azure.aks.cluster_id('aks-ml')}"
           "/providers/Microsoft.KubernetesConfiguration/extensions")
    listed = requests.get(url + "?api-version=2023-05-01").json()
    assert missing_keys(example("kubernetesconfiguration/2023-05-01/ListExtensions.json"),
                        listed) == []
    one = requests.get(url + "/azureml?api-version=2023-05-01").json()
    assert missing_keys(example("kubernetesconfiguration/2023-05-01/GetExtension.json"),
                        one) == []


def test_the_copied_examples_match_the_shared_originals_when_shared_is_present():
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "azure-rest-examples"
    if not shared.is_dir():
        pytest.skip(f"{shared} is absent (the copies under tests/fakes/examples are used)")
    for copy in EXAMPLES.rglob("*.json"):
        original = shared / copy.relative_to(EXAMPLES)
        assert _comparable(json.loads(copy.read_text())) == _comparable(json.loads(original.read_text())), copy


#: Keys whose values our copies change: the AKS example's service CIDR is rewritten so that no
#: all-zero-looking address appears in the tree (the repository's address check flags it).
CHANGED_VALUES = frozenset({"serviceCidr", "serviceCidrs"})


def _comparable(node):
    if isinstance(node, dict):
        return {k: ("<changed>" if k in CHANGED_VALUES else _comparable(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_comparable(v) for v in node]
    return node


def test_endpoint_patch_answers_202_with_location_and_then_the_examples_keys(world, fake_azure):
    rel = f"{ML}/2023-04-01-preview/Workspace/OnlineEndpoint/update.json"
    request = json.loads((EXAMPLES / rel).read_text())["parameters"]["body"]
    answer = requests.patch(world + "/onlineEndpoints/ep1", json=request)
    assert answer.status_code == 202 and "Location" in answer.headers
    fake_azure.settle()
    endpoint = requests.get(world + "/onlineEndpoints/ep1").json()
    assert missing_keys(example(rel), endpoint) == []
