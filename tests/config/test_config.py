"""pipeline.yaml: what is accepted, and the message a user gets for what is not."""

from __future__ import annotations

import textwrap

import pytest

from azml2aks.config import PipelineConfig
from azml2aks.config.loader import load_config, parse_config
from azml2aks.errors import ConfigError

MINIMAL = """
automl:
  task: classification
  target_column_name: cultivar
  training_data: data/wine.csv
"""


def parse(text: str, env: dict | None = None) -> PipelineConfig:
    return parse_config(textwrap.dedent(text), source="pipeline.yaml", env=env or {})


def error_of(text: str, env: dict | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text, env)
    return str(info.value)


def test_minimal_pipeline_gets_the_default_metric_and_names():
    config = parse(MINIMAL)
    assert config.primary_metric == "accuracy"
    assert config.model_name == "azml2aks-model"
    assert config.environment_name == "azml2aks-model-env"
    assert config.workspace.default_backend() == "local"


def test_a_subscription_makes_azure_the_default_backend():
    config = parse(MINIMAL + "workspace:\n  subscription_id: 00000000-0000-0000-0000-000000000000\n")
    assert config.workspace.default_backend() == "azure"


def test_unknown_key_names_line_and_suggests_the_closest_key():
    message = error_of(MINIMAL + "  limits:\n    max_trails: 3\n")
    assert "pipeline.yaml:7" in message
    assert "automl.limits.max_trails" in message
    assert "did you mean 'max_trials'" in message


def test_unknown_section_suggests_the_closest_section():
    message = error_of(MINIMAL + "endpont:\n  name: abc\n")
    assert "unknown key endpont" in message and "did you mean 'endpoint'" in message


def test_metric_that_does_not_fit_the_task_lists_the_valid_ones():
    message = error_of(MINIMAL.replace("classification", "regression") + "  primary_metric: accuracy\n")
    assert "'accuracy' does not fit task 'regression'" in message
    assert "r2_score" in message


def test_misspelled_metric_gets_a_did_you_mean():
    assert "did you mean 'AUC_weighted'" in error_of(MINIMAL + "  primary_metric: auc_weigthed\n")


def test_forecasting_without_time_column_is_refused():
    message = error_of(MINIMAL.replace("classification", "forecasting"))
    assert "forecasting.time_column_name" in message


def test_unknown_algorithm_is_named_with_a_suggestion():
    message = error_of(MINIMAL + "  training:\n    allowed_training_algorithms: [LightGMB]\n")
    assert "'LightGMB' is not an Azure AutoML classification algorithm" in message
    assert "did you mean 'LightGBM'" in message


def test_yaml_syntax_error_names_line_and_column():
    message = error_of("automl:\n  task: [classification\n  target_column_name: x\n")
    assert message.startswith("pipeline.yaml:") and "YAML syntax error" in message


def test_undefined_variable_names_the_variable_and_the_fix():
    message = error_of(MINIMAL.replace("data/wine.csv", "${DATA_PATH}"))
    assert "${DATA_PATH}" in message and "not set" in message
    assert "pipeline.yaml:5" in message
    assert "${DATA_PATH:-value}" in message


def test_variables_and_defaults_are_interpolated_with_yaml_types():
    config = parse(MINIMAL.replace("data/wine.csv", "${DATA:-fallback.csv}") + "  limits:\n    max_trials: ${TRIALS}\n",
                   env={"TRIALS": "7"})
    assert config.automl.training_data == "fallback.csv"
    assert config.automl.limits.max_trials == 7


@pytest.mark.parametrize("name", ["ab", "1endpoint", "ends-with-", "under_score", "x" * 33])
def test_endpoint_names_follow_azure_rules(name):
    assert "naming rule" in error_of(MINIMAL + f"endpoint:\n  name: '{name}'\n")


@pytest.mark.parametrize("steps, fragment", [("[10, 50]", "must end at 100"), ("[50, 10, 100]", "rise strictly"),
                                             ("[0, 100]", "1..100"), ("[]", "at least one step")])
def test_traffic_ladders_that_cannot_work_are_refused(steps, fragment):
    assert fragment in error_of(MINIMAL + f"rollout:\n  steps: {steps}\n")


def test_a_whole_value_variable_can_carry_a_yaml_list():
    config = parse(MINIMAL + "  training:\n    allowed_training_algorithms: ${ALGOS:-[LightGBM]}\n",
                   env={"ALGOS": "[RandomForest, ExtremeRandomTrees]"})
    assert config.automl.training.allowed_training_algorithms == ["RandomForest", "ExtremeRandomTrees"]
    default = parse(MINIMAL + "  training:\n    allowed_training_algorithms: ${ALGOS:-[LightGBM]}\n")
    assert default.automl.training.allowed_training_algorithms == ["LightGBM"]


def test_official_data_input_form_is_accepted():
    config = parse(MINIMAL.replace("training_data: data/wine.csv", "training_data:\n    path: ./train\n    type: mltable"))
    assert config.automl.data_path == "./train"


def test_kubernetes_quantities_are_checked():
    message = error_of(MINIMAL + "deployment:\n  resources:\n    requests:\n      cpu: two\n")
    assert "cpu 'two' is not a Kubernetes quantity" in message


def test_several_problems_are_reported_together():
    message = error_of(MINIMAL + "  primary_metric: nope\nendpoint:\n  name: a\n")
    assert "2 problems" in message


def test_empty_and_missing_files_are_clear(tmp_path):
    empty = tmp_path / "pipeline.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="the file is empty"):
        load_config(empty)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.yaml")


def test_missing_required_field_is_named():
    assert "automl.target_column_name is required" in error_of(MINIMAL.replace("  target_column_name: cultivar\n", ""))


def test_examples_are_valid():
    from pathlib import Path

    for path in Path(__file__).resolve().parents[2].glob("examples/*/pipeline.yaml"):
        assert load_config(path, env={}).automl.task in {"classification", "regression", "forecasting"}


def test_an_unquoted_python_version_is_refused_before_yaml_turns_3_10_into_3_1():
    text = MINIMAL
    assert "quote it: python_version: '3.10'" in error_of(text + "environment:\n  python_version: 3.10\n")
    assert "not a Python 3 version" in error_of(text + "environment:\n  python_version: py39\n")
    assert parse(text + "environment:\n  python_version: '3.10'\n  resolve: never\n").environment.python_version == "3.10"
    assert "resolve" in error_of(text + "environment:\n  resolve: sometimes\n")


def test_a_bad_value_under_an_upper_case_key_points_at_that_key_not_its_parent():
    message = error_of(MINIMAL + "deployment:\n  environment_variables:\n    WORKERS: [1, 2]\n")
    assert "pipeline.yaml:8: deployment.environment_variables.WORKERS" in message


def test_a_key_given_twice_is_an_error_naming_the_key_and_both_lines():
    message = error_of(MINIMAL + "endpoint:\n  name: first-endpoint\n  name: second-endpoint\n")
    assert "endpoint.name is given twice (lines 7 and 8)" in message
