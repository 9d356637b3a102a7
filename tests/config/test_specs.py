"""Every pipeline.yaml field reaches its resource spec (config/specs.py is pure)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from azml2aks.config import DeploymentSettings, PipelineConfig, specs
from azml2aks.config.loader import load_config

REPO = Path(__file__).resolve().parents[2]

#: One non-default value for every field of ``deployment:`` (a new field fails the coverage test
#: below until it is given a value here and mapped into DeploymentSpec).
DEPLOYMENT = {
    "$schema": "https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json",
    "description": "green colour",
    "instance_type": "gpuinstancetype",
    "instance_count": 3,
    "resources": {"requests": {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": "1"},
                  "limits": {"cpu": "1", "memory": "2Gi"}},
    "request_settings": {"request_timeout_ms": 3000, "max_concurrent_requests_per_instance": 4,
                         "max_queue_wait_ms": 900},
    "liveness_probe": {"initial_delay": 11, "period": 12, "timeout": 3, "success_threshold": 1, "failure_threshold": 31},
    "readiness_probe": {"initial_delay": 21, "period": 22, "timeout": 4, "success_threshold": 2, "failure_threshold": 5},
    "scale_settings": {"type": "target_utilization", "min_instances": 2, "max_instances": 6,
                       "target_utilization_percentage": 70, "polling_interval": 10},
    "environment_variables": {"WORKERS": "2", "LOG_LEVEL": "debug"},
    "app_insights_enabled": True,
    "tags": {"team": "ml"},
    # the official file's keys the pipeline decides itself (colours, endpoint) or overrides with
    "name": "blue", "type": "kubernetes", "endpoint_name": "wine-ep",
    "model": "azureml:wine:7", "environment": {"name": "wine-env", "version": "5"},
    "code_configuration": {"code": "../onlinescoring", "scoring_script": "serve.py"},
    "model_mount_path": "/var/model", "data_collector": {"collections": {}}, "properties": {"p": "q"},
}


def config(**sections) -> PipelineConfig:
    return PipelineConfig.model_validate({
        "workspace": {"subscription_id": "sub", "resource_group": "rg", "name": "ws"},
        "automl": {"task": "classification", "target_column_name": "y", "training_data": "data/x.csv"},
        **sections,
    })


def test_the_test_gives_every_deployment_field_a_value():
    declared = {f.alias or name for name, f in DeploymentSettings.model_fields.items()}
    assert declared <= set(DEPLOYMENT), f"give these fields a value here: {declared - set(DEPLOYMENT)}"


def test_every_deployment_field_reaches_the_deployment_spec():
    plain = {k: v for k, v in DEPLOYMENT.items() if k not in ("model", "environment", "code_configuration")}
    spec = specs.deployment_spec(config(deployment=plain, endpoint={"name": "wine-ep"}), "green",
                                 model="wine:3", environment="wine-env:2", code_dir="/build/wine-3")
    assert (spec.endpoint_name, spec.name, spec.model, spec.environment, spec.code_dir) == \
        ("wine-ep", "green", "wine:3", "wine-env:2", "/build/wine-3")
    assert spec.scoring_script == "score.py"
    mapped = {
        "description": spec.description, "instance_type": spec.instance_type, "instance_count": spec.instance_count,
        "resources": specs.thaw(spec.resources), "request_settings": specs.thaw(spec.request_settings),
        "liveness_probe": specs.thaw(spec.liveness_probe), "readiness_probe": specs.thaw(spec.readiness_probe),
        "scale_settings": specs.thaw(spec.scale_settings),
        "environment_variables": specs.thaw(spec.environment_variables),
        "app_insights_enabled": spec.app_insights_enabled, "tags": specs.thaw(spec.tags),
    }
    for field, value in mapped.items():
        assert value == DEPLOYMENT[field], field
    assert spec.request_timeout_seconds == 3.0


def test_deployment_model_environment_and_scoring_script_override_what_the_pipeline_packaged():
    spec = specs.deployment_spec(config(deployment=DEPLOYMENT, endpoint={"name": "wine-ep"}), "green",
                                 model="wine:3", environment="wine-env:2", code_dir="/build/user-code")
    assert (spec.model, spec.environment, spec.scoring_script) == ("wine:7", "wine-env:5", "serve.py")


def test_inline_model_and_environment_leave_the_registered_ones_to_the_package_stage():
    inline = {"model": {"path": "../model-1/model/"}, "environment": {"image": "mcr.microsoft.com/x:1"}}
    spec = specs.deployment_spec(config(deployment=inline), "green", model="wine:8", environment="env:4",
                                 code_dir="/b")
    assert (spec.model, spec.environment, spec.scoring_script) == ("wine:8", "env:4", "score.py")


def test_the_wine_example_carries_instance_type_count_probes_and_scale_settings():
    cfg = load_config(REPO / "examples" / "wine-classification" / "pipeline.yaml")
    spec = specs.deployment_spec(cfg, "blue", model="wine-classifier:1", environment="wine-classifier-env:1",
                                 code_dir="build/wine-classifier-1")
    assert spec.instance_type == "defaultinstancetype" and spec.instance_count == 1
    assert spec.liveness_probe["failure_threshold"] == 30 and spec.readiness_probe["failure_threshold"] == 3
    assert spec.scale_settings == {"type": "default"}
    assert spec.resources["limits"] == {"cpu": "2", "memory": "4Gi"}


def test_specs_are_frozen_all_the_way_down():
    spec = specs.deployment_spec(config(deployment=DEPLOYMENT, endpoint={"name": "wine-ep"}), "green", model=None,
                                 environment=None, code_dir=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.instance_count = 9  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.resources["requests"]["cpu"] = "8"  # type: ignore[index]


def test_automl_job_spec_carries_the_whole_section_and_resolves_data_references():
    cfg = config(automl={
        "task": "forecasting", "target_column_name": "sales", "training_data": "data/sales.csv",
        "validation_data": "azureml:sales-val:3", "test_data": {"path": "azureml://datastores/d/paths/t/",
                                                                "type": "mltable"},
        "compute": "azureml:cpu-cluster", "experiment_name": "sales", "tags": {"team": "ml"},
        "limits": {"timeout_minutes": 30, "max_trials": 8}, "forecasting": {"time_column_name": "date",
                                                                          "forecast_horizon": 14},
        "training": {"blocked_training_algorithms": ["Prophet"]}, "n_cross_validations": 3})
    spec = specs.automl_job_spec(cfg, "/repo/examples/sales")
    assert spec.training_data == specs.DataRef("local", "/repo/examples/sales/data/sales.csv", "mltable",
                                               "automl.training_data")
    assert spec.validation_data.kind == "asset" and spec.validation_data.asset == ("sales-val", "3")
    assert spec.test_data.kind == "uri"
    assert spec.compute == "cpu-cluster" and spec.primary_metric == "normalized_root_mean_squared_error"
    assert spec.limits["max_trials"] == 8 and spec.forecasting["forecast_horizon"] == 14
    assert spec.settings["n_cross_validations"] == 3 and spec.settings["tags"] == {"team": "ml"}
    assert spec.training["blocked_training_algorithms"] == ("Prophet",)


def test_model_environment_compute_and_endpoint_specs():
    cfg = config(model={"name": "wine", "min_metric": 0.9, "tags": {"a": "b"}},
                 compute={"name": "aks-prod", "cluster_name": "aks1", "namespace": "ml"},
                 endpoint={"name": "wine-ep", "auth_mode": "aml_token"})
    assert specs.model_spec(cfg) == specs.ModelSpec("wine", "accuracy", "champion", 0.9, None, {"a": "b"})
    env = specs.environment_spec(cfg, "/b/conda.yaml", "abc123")
    assert (env.name, env.conda_file, env.fingerprint) == ("wine-env", "/b/conda.yaml", "abc123")
    compute = specs.compute_spec(cfg)
    assert compute.cluster_id == "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1"
    assert compute.namespace == "ml"
    ep = specs.endpoint_spec(cfg)
    assert (ep.name, ep.compute, ep.auth_mode) == ("wine-ep", "aks-prod", "aml_token")
