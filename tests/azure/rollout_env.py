"""A deploy-ready world for the Azure rollout tests: the fake's workspace with the AKS cluster
attached, a registered model and environment version (created through azure-ai-ml, as the
register and package stages would), a package folder with score.py, a pipeline.yaml pointing
at all of it, and scoring functions for the colours.

`World.pipeline()` binds azml2aks to the fake through the product's own seams: an
`AzureBackend` built with the test credential and the fake's simulated clock (sleep, clock,
now), handed to `load_pipeline(backend=...)`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azml2aks.pipeline import load_pipeline
from azml2aks.results import ModelVersion, PackageResult

from . import helpers

ROWS = [[float(i % 7), float(i % 3), float(i % 5)] for i in range(40)]
LABELS = [int(r[0] + r[1] > 4) for r in ROWS]


def predict(payload: dict) -> list[int]:
    """The model both healthy colours serve: the label rule of the hold-out rows."""
    data = payload["input_data"]["data"]
    return [int(row[0] + row[1] > 4) for row in data]


PIPELINE = """\
workspace:
  subscription_id: {sub}
  resource_group: {rg}
  name: {ws}
automl:
  task: classification
  target_column_name: label
  primary_metric: accuracy
  training_data: data.csv
model:
  name: fraud-model
compute:
  name: aks
endpoint:
  name: {endpoint}
  auth_mode: {auth}
deployment:
  instance_type: {instance_type}
  instance_count: 1
  resources:
    requests: {{cpu: 100m, memory: 1Gi}}
    limits: {{cpu: "1", memory: 2Gi}}
  request_settings: {{request_timeout_ms: 3000, max_concurrent_requests_per_instance: 2}}
  liveness_probe: {{initial_delay: 5, period: 10, timeout: 2, success_threshold: 1, failure_threshold: 30}}
  readiness_probe: {{initial_delay: 5, period: 10, timeout: 2, success_threshold: 1, failure_threshold: 3}}
  environment_variables: {{WORKERS: "2"}}
rollout:
  steps: {steps}
  bake_seconds: {bake}
  smoke_requests: 3
  shadow_requests: 20
  probe_requests: 20
  probe_concurrency: 1
  gates:
    min_samples: 10
    min_agreement: 0.9
    max_error_rate: 0.05
{extra}"""


@dataclass
class World:
    fake: Any
    ml: Any
    credential: Any
    root: Path
    endpoint: str = "ep-fraud"
    model: ModelVersion | None = None
    environment: str = ""
    events: list = field(default_factory=list)

    def write_pipeline(self, *, auth: str = "key", steps: str = "[10, 50, 100]", bake: float = 30,
                       instance_type: str = "defaultinstancetype", extra: str = "") -> Path:
        c = self.fake.config
        path = self.root / "pipeline.yaml"
        path.write_text(PIPELINE.format(sub=c.subscription_id, rg=c.resource_group, ws=c.workspace,
                                        endpoint=self.endpoint, auth=auth, steps=steps, bake=bake,
                                        instance_type=instance_type, extra=extra))
        return path

    def pipeline(self, **pipeline_args: Any):
        path = self.root / "pipeline.yaml"
        if not path.exists():
            self.write_pipeline(**pipeline_args)
        from azml2aks.backends.azure import AzureBackend
        from azml2aks.config.loader import load_config

        clock = self.fake.clock
        backend = AzureBackend(load_config(path), base_dir=self.root, workdir=self.root / "work",
                               credential=self.credential, sleep=clock.sleep, clock=clock.time, now=clock.time)
        p = load_pipeline(path, backend=backend, workdir=self.root / "work", on_event=self.events.append)
        if self.model is not None and not p.journal.stage("register"):
            p.journal.record("register", self.model.to_dict())
        return p

    def package(self, score: str = "def init():\n    pass\n\n\ndef run(raw):\n    return raw\n") -> PackageResult:
        folder = self.root / "package"
        folder.mkdir(exist_ok=True)
        (folder / "score.py").write_text(score)
        (folder / "swagger2.json").write_text(json.dumps({"swagger": "2.0"}))
        name, version = self.environment.split(":")
        return PackageResult(model=self.model.ref, directory=str(folder), files=("score.py", "swagger2.json"),
                             environment_name=name, environment_version=version, environment_reused=False,
                             fingerprint="f" * 64)

    def serve(self, colour: str, fn=predict, **kwargs: Any) -> None:
        self.fake.scoring.register(self.endpoint, colour, fn, **kwargs)

    def messages(self) -> list[str]:
        return [e.get("message", "") for e in self.events]


def make_world(fake, ml, credential, root: Path) -> World:
    """Attach the cluster, register a model (from an AutoML child run) and an environment."""
    from azure.ai.ml.entities import Environment, Model

    helpers.attach(ml, fake)
    child = helpers.finished_job_with_model(ml, fake, "job-models")
    model = ml.models.create_or_update(Model(
        name="fraud-model", type="mlflow_model",
        path=f"azureml://jobs/{child}/outputs/artifacts/outputs/mlflow-model/"))
    env = ml.environments.create_or_update(Environment(
        name="fraud-env", image="mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference"))
    (root / "data.csv").write_text("a,b,c,label\n" + "".join(
        f"{r[0]},{r[1]},{r[2]},{y}\n" for r, y in zip(ROWS, LABELS, strict=True)))
    mv = ModelVersion(name=model.name, version=str(model.version), run_id=child, job_name="job-models",
                      metric_name="accuracy", metric_value=0.9, source=model.path or "")
    fake.reset_log()
    return World(fake=fake, ml=ml, credential=credential, root=root, model=mv,
                 environment=f"{env.name}:{env.version}")
