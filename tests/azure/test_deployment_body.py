"""A colour's REST body from its DeploymentSpec: every field of `deployment:` reaches Azure."""
from __future__ import annotations

import pytest

from azml2aks.backends.azure.deployments import (
    asset_id,
    code_name,
    deployment_body,
    iso_seconds,
    stage_code,
)
from azml2aks.config.loader import parse_config
from azml2aks.config.specs import deployment_spec
from azml2aks.errors import ConfigError

WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"

YAML = """
automl: {task: classification, target_column_name: y, training_data: d.csv}
endpoint: {name: ep-one}
deployment:
  instance_type: gpu-small
  instance_count: 3
  resources:
    requests: {cpu: 500m, memory: 2Gi}
    limits: {cpu: "2", memory: 4Gi, nvidia.com/gpu: 1}
  request_settings: {request_timeout_ms: 2500, max_concurrent_requests_per_instance: 4, max_queue_wait_ms: 0}
  liveness_probe: {initial_delay: 30, period: 15, timeout: 3, success_threshold: 1, failure_threshold: 5}
  readiness_probe: {initial_delay: 1, period: 2, timeout: 1, success_threshold: 2, failure_threshold: 9}
  scale_settings: {type: target_utilization, min_instances: 2, max_instances: 6,
                   target_utilization_percentage: 70, polling_interval: 5}
  environment_variables: {A: "1"}
  app_insights_enabled: true
  tags: {team: fraud}
"""


def spec():
    config = parse_config(YAML)
    return deployment_spec(config, "green", model="fraud:3", environment="fraud-env:2", code_dir="/pkg")


def test_every_kubernetes_field_of_the_deployment_section_is_in_the_body():
    body = deployment_body(spec(), workspace_path=WS, location="westeurope", code_id=f"{WS}/codes/c/versions/1")
    p = body["properties"]
    assert body["sku"] == {"name": "Default", "capacity": 3} and body["tags"] == {"team": "fraud"}
    assert p["endpointComputeType"] == "Kubernetes" and p["instanceType"] == "gpu-small"
    assert p["model"] == f"{WS}/models/fraud/versions/3" and p["environmentId"] == f"{WS}/environments/fraud-env/versions/2"
    assert p["codeConfiguration"] == {"codeId": f"{WS}/codes/c/versions/1", "scoringScript": "score.py"}
    assert p["containerResourceRequirements"] == {
        "containerResourceRequests": {"cpu": "500m", "memory": "2Gi"},
        "containerResourceLimits": {"cpu": "2", "memory": "4Gi", "gpu": "1"}}
    assert p["requestSettings"] == {"requestTimeout": "PT2.5S", "maxQueueWait": "PT0S", "maxConcurrentRequestsPerInstance": 4}
    assert p["livenessProbe"] == {"initialDelay": "PT30S", "period": "PT15S", "timeout": "PT3S",
                                  "successThreshold": 1, "failureThreshold": 5}
    assert p["readinessProbe"]["failureThreshold"] == 9 and p["readinessProbe"]["period"] == "PT2S"
    assert p["scaleSettings"] == {"scaleType": "TargetUtilization", "minInstances": 2, "maxInstances": 6,
                                  "targetUtilizationPercentage": 70, "pollingInterval": "PT5S"}
    assert p["environmentVariables"] == {"A": "1"} and p["appInsightsEnabled"] is True


def test_iso_durations_keep_fractions_and_drop_trailing_zeros():
    assert [iso_seconds(s) for s in (5, 0.5, 2.25, 0)] == ["PT5S", "PT0.5S", "PT2.25S", "PT0S"]


def test_a_reference_without_a_version_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match="the deployment's model must be NAME:VERSION"):
        asset_id(WS, "models", "fraud", field="the deployment's model")
    assert asset_id(WS, "models", "azureml:fraud:2", field="m").endswith("/models/fraud/versions/2")


def test_the_code_asset_is_named_by_the_content_of_the_scoring_files(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "score.py").write_text("def run(x):\n    return x\n")
    (pkg / "conda.yaml").write_text("name: e\n")  # not code: the environment carries it
    folder, sha = stage_code(pkg, "score.py", tmp_path / "staging")
    assert sorted(p.name for p in folder.iterdir()) == ["score.py"]
    assert stage_code(pkg, "score.py", tmp_path / "staging") == (folder, sha)
    (pkg / "score.py").write_text("def run(x):\n    return [x]\n")
    assert stage_code(pkg, "score.py", tmp_path / "staging")[1] != sha
    assert code_name(sha) == f"azml2aks-code-{sha[:16]}"
