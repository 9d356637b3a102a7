"""Builders shared by the Azure tests: attach the fake cluster, create endpoints and
deployments through the real SDK, and raw-HTTP shortcuts for rule tests.

The SDK builders behave like a careful client on an eventually consistent service (the
fake's default): a deployment create refused because the endpoint still looks Updating is
retried after a pause, a traffic update that cannot see a just-created deployment yet is
retried, and the new split is re-read until it shows (../shared/azure-ml-wire.md). Pauses
go through the fake clock, so they cost no wall time.
"""
from __future__ import annotations

from pathlib import Path

import requests
from azure.core.exceptions import HttpResponseError

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


def retrying(call, *, retry_if, sleep=None, attempts: int = 6, pause: float = 10.0):
    """`call()`, retried while it raises an HttpResponseError that `retry_if(err)` accepts."""
    for attempt in range(attempts):
        try:
            return call()
        except HttpResponseError as err:
            if attempt == attempts - 1 or not retry_if(err):
                raise
            if sleep is not None:
                sleep(pause)
    raise AssertionError("unreachable")


def endpoint_still_updating(err: HttpResponseError) -> bool:
    return err.status_code == 409 and "Updating provisioning state" in str(err)


def deployment_not_visible_yet(err: HttpResponseError) -> bool:
    return err.status_code == 404 and "not found in endpoint" in str(err)


def training_data(ml, name: str = "fraud-train") -> str:
    """A registered MLTable data asset (a folder with an MLTable file); returns its ref."""
    from azure.ai.ml.entities import Data

    if "1" not in _fake_of(ml).assets.versions("data", name):
        ml.data.create_or_update(Data(
            name=name, version="1", type="mltable",
            path="azureml://datastores/workspaceblobstore/paths/fraud/train/"))
    return f"azureml:{name}:1"


def submit_automl(ml, name: str = "automl-fraud-1", metric: str = "accuracy", *,
                  data: str | None = None):
    """Submit a classification AutoML job through the SDK (training data as MLTable)."""
    from azure.ai.ml import Input, automl

    job = automl.classification(
        compute="cpu-cluster", experiment_name="fraud",
        training_data=Input(type="mltable", path=data or training_data(ml)),
        target_column_name="is_fraud", primary_metric=metric, n_cross_validations=3)
    job.set_limits(timeout_minutes=60, max_trials=3)
    job.name = name
    return ml.jobs.create_or_update(job)


def finished_job_with_model(ml, fake, name: str = "job1") -> str:
    """Submit an AutoML job on the fake (once per name) and let it finish; returns its best
    child run id."""
    if name not in fake.jobs.records:
        submit_automl(ml, name)
    fake.jobs.finish(name)
    return ml.jobs.get(name).tags["automl_best_child_run_id"]


def k8s_deployment(ml, tmp_path: Path, endpoint: str, name: str, *, cpu: str | None = "100m",
                   memory: str | None = "1Gi", model_type: str = "custom_model",
                   instance_type: str | None = None, fake=None, model_path: str | None = None,
                   retry: bool = True):
    """A Kubernetes deployment with a local code folder (so the code upload happens).

    `cpu`/`memory` None leaves `resources` out. The model is registered from the best child
    of an AutoML job on the fake (one is submitted when `model_path` is not given). With
    `fake`, a create refused while the endpoint still looks Updating is retried after a
    pause on the fake clock; without it, at once; `retry=False` makes one attempt only.
    """
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
    if model_path is None:
        owner = fake or _fake_of(ml)
        child = finished_job_with_model(ml, owner, "job-models")
        model_path = f"azureml://jobs/{child}/outputs/artifacts/outputs/mlflow-model/"
    model = ml.models.create_or_update(Model(name="fraud-model", type=model_type,
                                             path=model_path))
    env = ml.environments.create_or_update(Environment(
        name="fraud-env", image="mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference"))
    resources = None
    if cpu or memory:
        resources = ResourceRequirementsSettings(
            requests=ResourceSettings(cpu=cpu, memory=memory),
            limits=ResourceSettings(cpu="2", memory="2Gi"))
    deployment = KubernetesOnlineDeployment(
        name=name, endpoint_name=endpoint, model=model.id, environment=env.id,
        code_configuration=CodeConfiguration(code=str(code), scoring_script="score.py"),
        instance_count=1, instance_type=instance_type, resources=resources)
    if not retry:
        return ml.online_deployments.begin_create_or_update(deployment)
    return retrying(lambda: ml.online_deployments.begin_create_or_update(deployment),
                    retry_if=endpoint_still_updating,
                    sleep=fake.clock.sleep if fake is not None else None)


def _fake_of(ml):
    """The FakeAzure the test runs against (the fixture registers it for the helpers)."""
    from tests.fakes import fixtures

    return fixtures.current()


def set_traffic(ml, endpoint: str, traffic: dict, *, fake=None, reads: int = 10, **extra):
    """Read-modify-write the endpoint's traffic, retry while the service cannot see a new
    deployment yet, then re-read until the new split shows; returns the endpoint read."""
    sleep = fake.clock.sleep if fake is not None else None

    def update():
        ep = ml.online_endpoints.get(endpoint)
        ep.traffic = traffic
        for key, value in extra.items():
            setattr(ep, key, value)
        return ml.online_endpoints.begin_create_or_update(ep).result()

    seen = retrying(update, retry_if=deployment_not_visible_yet, sleep=sleep)
    wanted = {k.lower(): v for k, v in traffic.items() if v}
    for _ in range(reads):
        if {k.lower(): v for k, v in seen.traffic.items() if v} == wanted:
            return seen
        if sleep is not None:
            sleep(5)
        seen = ml.online_endpoints.get(endpoint)
    raise AssertionError(f"endpoint {endpoint} still shows {seen.traffic}, not {traffic}")


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
    """(status, most specific code, message): the first detail's code, else the top code."""
    err = answer.json()["error"]
    reason = err["details"][0]["code"] if err.get("details") else err["code"]
    return answer.status_code, reason, err["message"]
