"""Builders shared by the Azure tests: attach the fake cluster, create endpoints and
deployments through the real SDK, and raw-HTTP shortcuts for rule tests."""
from __future__ import annotations

from pathlib import Path

import requests

ARM = "https://management.azure.com"


def ws_url(fake) -> str:
    return ARM + fake.config.workspace_path


def attach(ml, fake, name: str = "aks"):
    from azure.ai.ml.entities import KubernetesCompute

    compute = KubernetesCompute(name=name, resource_id=fake.aks.cluster_id("aks-ml"),
                                namespace="azureml")
    return ml.compute.begin_create_or_update(compute).result()


def k8s_endpoint(ml, fake, name: str = "ep-fraud", *, auth_mode: str = "key"):
    from azure.ai.ml.entities import KubernetesOnlineEndpoint

    if "aks" not in fake.compute.computes:
        attach(ml, fake)
    endpoint = KubernetesOnlineEndpoint(name=name, compute="aks", auth_mode=auth_mode)
    return ml.online_endpoints.begin_create_or_update(endpoint).result()


def k8s_deployment(ml, tmp_path: Path, endpoint: str, name: str, *, cpu: str = "100m",
                   memory: str = "1Gi", model_type: str = "custom_model"):
    """A Kubernetes deployment with a local code folder (so the code upload happens)."""
    from azure.ai.ml.entities import (
        CodeConfiguration,
        Environment,
        KubernetesOnlineDeployment,
        Model,
        ResourceRequirementsSettings,
        ResourceSettings,
    )

    code = tmp_path / f"src-{name}"
    code.mkdir(exist_ok=True)
    (code / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    model = ml.models.create_or_update(Model(
        name="fraud-model", type=model_type,
        path="azureml://jobs/job1_1/outputs/artifacts/outputs/mlflow-model/"))
    env = ml.environments.create_or_update(Environment(
        name="fraud-env", image="mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference"))
    deployment = KubernetesOnlineDeployment(
        name=name, endpoint_name=endpoint, model=model.id, environment=env.id,
        code_configuration=CodeConfiguration(code=str(code), scoring_script="score.py"),
        instance_count=1,
        resources=ResourceRequirementsSettings(
            requests=ResourceSettings(cpu=cpu, memory=memory),
            limits=ResourceSettings(cpu="2", memory="2Gi")))
    return ml.online_deployments.begin_create_or_update(deployment)


def set_traffic(ml, endpoint: str, traffic: dict, **extra):
    ep = ml.online_endpoints.get(endpoint)
    ep.traffic = traffic
    for key, value in extra.items():
        setattr(ep, key, value)
    return ml.online_endpoints.begin_create_or_update(ep).result()


def raw_put(fake, suffix: str, body: dict) -> requests.Response:
    return requests.put(ws_url(fake) + suffix, json=body)


def raw_k8s_deployment(fake, endpoint: str, name: str, *, cpu: str = "100m",
                       memory: str = "1Gi", settle: bool = True) -> requests.Response:
    answer = raw_put(fake, f"/onlineEndpoints/{endpoint}/deployments/{name}", {
        "location": fake.config.location, "properties": {
            "endpointComputeType": "Kubernetes", "containerResourceRequirements": {
                "containerResourceRequests": {"cpu": cpu, "memory": memory}}}})
    if settle:
        fake.settle()
    return answer


def raw_endpoint(fake, name: str, *, kubernetes: bool = True, traffic: dict | None = None,
                 mirror: dict | None = None, settle: bool = True) -> requests.Response:
    if kubernetes and "aks" not in fake.compute.computes:
        raw_put(fake, "/computes/aks", {"properties": {
            "computeType": "Kubernetes", "resourceId": fake.aks.cluster_id("aks-ml")}})
        fake.settle()
    props = {"authMode": "Key", "traffic": traffic or {}, "mirrorTraffic": mirror or {}}
    if kubernetes:
        props["compute"] = f"{fake.config.workspace_id}/computes/aks"
    answer = raw_put(fake, f"/onlineEndpoints/{name}", {"location": fake.config.location,
                                                         "properties": props})
    if settle:
        fake.settle()
    return answer


def raw_managed_deployment(fake, endpoint: str, name: str) -> requests.Response:
    answer = raw_put(fake, f"/onlineEndpoints/{endpoint}/deployments/{name}", {
        "location": fake.config.location,
        "properties": {"endpointComputeType": "Managed", "instanceType": "Standard_DS3_v2"}})
    fake.settle()
    return answer


def error_of(answer: requests.Response) -> tuple[int, str, str]:
    err = answer.json()["error"]
    return answer.status_code, err["code"], err["message"]
