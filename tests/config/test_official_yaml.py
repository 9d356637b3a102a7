"""Pasting the official ``az ml`` YAML files (Azure/azureml-examples) into pipeline.yaml.

The bodies under tests/config/official/ are copies of the published files (source in each
file's opening comment); each one validates verbatim when indented under its section.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from azml2aks.config import ModelAsset
from azml2aks.config.loader import parse_config
from azml2aks.errors import ConfigError

OFFICIAL = Path(__file__).parent / "official"


def body(name: str) -> str:
    return (OFFICIAL / name).read_text(encoding="utf-8")


def section(name: str, text: str) -> str:
    return f"{name}:\n" + textwrap.indent(text, "  ")


def parse(text: str):
    return parse_config(text, source="pipeline.yaml", env={})


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return str(info.value)


@pytest.mark.parametrize("name, task, algorithms", [
    ("automl-classification-bankmarketing.yml", "classification", ["GradientBoosting", "LogisticRegression"]),
    ("automl-regression-hardware-perf.yml", "regression", ["LightGBM", "XGBoostRegressor"]),
    ("automl-forecasting-energy-demand.yml", "forecasting", None),
])
def test_each_official_automl_job_body_validates_verbatim(name, task, algorithms):
    config = parse(section("automl", body(name)))
    assert config.automl.task == task
    assert config.automl.training.allowed_training_algorithms == algorithms


def test_snake_case_blocked_algorithms_map_to_azure_names():
    config = parse(section("automl", body("automl-forecasting-energy-demand.yml")))
    assert config.automl.training.blocked_training_algorithms == ["ExtremeRandomTrees", "AutoArima", "Prophet"]


def test_featurization_resources_and_verbosity_of_the_official_files_are_carried():
    regression = parse(section("automl", body("automl-regression-hardware-perf.yml"))).automl
    assert regression.resources.instance_count == 4 and regression.resources.instance_type == "Standard_DS3_v2"
    assert regression.featurization.column_name_and_types == {"CHMIN": "Categorical"}
    assert [t.fields for t in regression.featurization.transformer_params["Imputer"]] == [["CACH"], ["PRP"]]
    assert regression.featurization.blocked_transformers == ["LabelEncoder"]
    assert regression.log_verbosity == "Debug"
    classification = parse(section("automl", body("automl-classification-bankmarketing.yml"))).automl
    assert list(classification.featurization.transformer_params) == ["Imputer"]  # `imputer` in the file
    assert classification.featurization.transformer_params["Imputer"][0].parameters == {"strategy": "most_frequent"}


def test_the_official_kubernetes_endpoint_and_deployment_bodies_validate_together():
    text = (section("automl", body("automl-regression-hardware-perf.yml"))
            + section("endpoint", body("kubernetes-endpoint.yml"))
            + section("deployment", body("kubernetes-blue-deployment.yml")))
    config = parse(text)
    assert config.endpoint.name == "my-endpoint" and config.endpoint.auth_mode == "key"
    assert config.compute.name == "kubernetescompute"  # taken from endpoint.compute: azureml:<name>
    deployment = config.deployment
    assert isinstance(deployment.model, ModelAsset) and deployment.model.path == "../model-1/model/"
    assert deployment.code_configuration.scoring_script == "score.py"
    assert deployment.environment.image.endswith("ubuntu22.04:latest")
    assert deployment.resources.limits.memory == "200Mi"


@pytest.mark.parametrize("spelling", ["Key", "KEY", "key"])
def test_auth_mode_is_accepted_in_any_case(spelling):
    config = parse(section("automl", body("automl-regression-hardware-perf.yml")) + f"endpoint:\n  auth_mode: {spelling}\n")
    assert config.endpoint.auth_mode == "key"


def test_aml_token_is_accepted_in_the_rest_spelling():
    config = parse(section("automl", body("automl-regression-hardware-perf.yml")) + "endpoint:\n  auth_mode: AMLToken\n")
    assert config.endpoint.auth_mode == "aml_token"


@pytest.mark.parametrize("spelling", ["light_gbm", "LightGBM", "LIGHT_GBM", "lightgbm", "Light_GBM"])
def test_algorithm_names_are_accepted_in_every_spelling_the_sdk_accepts(spelling):
    text = MINIMAL + f"  training:\n    allowed_training_algorithms: [{spelling}]\n"
    assert parse(text).automl.training.allowed_training_algorithms == ["LightGBM"]


MINIMAL = """\
automl:
  task: regression
  target_column_name: y
  training_data: data.csv
"""


def test_every_bad_algorithm_name_is_reported_at_once_each_at_its_own_line():
    text = MINIMAL + ("  training:\n"
                      "    allowed_training_algorithms:\n"
                      "      - light_gmb\n"
                      "      - random_forest\n"
                      "      - xg_boost_classifier\n"
                      "    blocked_training_algorithms: [Prophett]\n")
    message = error_of(text)
    assert "3 problems" in message
    assert "pipeline.yaml:7: automl.training.allowed_training_algorithms[0]: 'light_gmb'" in message
    assert "did you mean 'light_gbm'" in message
    assert "pipeline.yaml:9: automl.training.allowed_training_algorithms[2]: 'xg_boost_classifier' is a classification algorithm" in message
    assert "pipeline.yaml:10: automl.training.blocked_training_algorithms[0]: 'Prophett'" in message


def test_blocking_every_algorithm_is_caught_before_training():
    text = MINIMAL + "  training:\n    allowed_training_algorithms: [light_gbm]\n    blocked_training_algorithms: [LightGBM]\n"
    message = error_of(text)
    assert "automl.training.blocked_training_algorithms: blocks every algorithm" in message and "LightGBM" in message


def test_a_conflicting_endpoint_name_in_the_deployment_names_both():
    text = MINIMAL + "endpoint:\n  name: prod-endpoint\ndeployment:\n  endpoint_name: my-endpoint\n"
    message = error_of(text)
    assert "'my-endpoint'" in message and "'prod-endpoint'" in message


def test_a_conflicting_endpoint_compute_names_both():
    text = MINIMAL + "endpoint:\n  compute: azureml:k8s-a\ncompute:\n  name: k8s-b\n"
    message = error_of(text)
    assert "'azureml:k8s-a'" in message and "'k8s-b'" in message


def test_a_managed_deployment_type_is_refused_with_the_kubernetes_alternative():
    assert "use type: kubernetes" in error_of(MINIMAL + "deployment:\n  type: managed\n")


def test_a_registered_model_override_must_be_a_reference():
    assert "azureml:<name>:<version>" in error_of(MINIMAL + "deployment:\n  model: my model\n")
    config = parse(MINIMAL + "deployment:\n  model: azureml:wine-model:3\n  environment: azureml:wine-env:2\n")
    assert config.deployment.model == "azureml:wine-model:3"


def test_an_unknown_transformer_params_key_lists_the_sdk_spellings():
    text = MINIMAL + "  featurization:\n    transformer_params:\n      scaler: []\n"
    assert "imputer, tf_idf, hash_one_hot_encoder" in error_of(text)
