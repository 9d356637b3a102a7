"""package.py: the package stage end to end, with the contract test against a real server."""

from __future__ import annotations

import json

import pytest
import yaml

from azml2aks.errors import DataError
from azml2aks.packaging.writer import FILES, package_model, read_model_info

from .conftest import make_config, model_version, strip_model


@pytest.mark.e2e
def test_package_writes_the_five_files_and_its_contract_test_passes(wine_model_dir, tmp_path):
    events = []
    result = package_model(make_config(), model_version(), wine_model_dir, tmp_path / "build",
                           on_event=events.append)
    package = tmp_path / "build" / "wine-1"
    assert result.directory == str(package)
    assert sorted(p.name for p in package.iterdir()) == sorted(FILES)
    assert result.contract["passed"] and result.contract["rows"] == 3
    assert len(result.fingerprint) == 64 and result.conflicts == ()
    sample = json.loads((package / "sample-request.json").read_text())
    assert sample["GlobalParameters"] == {"method": "predict"} and len(sample["Inputs"]["data"]) == 3
    conda = yaml.safe_load((package / "conda.yaml").read_text())
    assert conda["dependencies"][0].startswith("python=3.")
    assert json.loads((package / "swagger3.json").read_text())["info"]["title"] == "wine 1"
    assert [e["event"] for e in events] == ["warning", "package", "contract"]
    assert "full environment resolution skipped" in events[0]["message"]  # the tests reach no index
    assert result.environment_check["status"] == "skipped"


@pytest.mark.e2e
def test_a_forecasting_model_is_packaged_and_proven(forecast_model_dir, tmp_path):
    result = package_model(make_config("forecasting"), model_version("sales", "2"), forecast_model_dir,
                           tmp_path / "build")
    assert result.contract["passed"]
    assert "FORECAST_HORIZON = 7" in (tmp_path / "build" / "sales-2" / "score.py").read_text()


def test_packaging_without_the_contract_touches_no_server_and_is_repeatable(wine_model_dir, tmp_path):
    first = package_model(make_config(), model_version(), wine_model_dir, tmp_path, run_contract=False)
    again = package_model(make_config(), model_version(), wine_model_dir, tmp_path, run_contract=False)
    assert first.contract["ran"] is False and "--no-contract" in first.contract["skipped"]
    assert first.fingerprint == again.fingerprint


def test_extra_pip_conflicts_are_reported_in_the_result_and_as_events(wine_model_dir, tmp_path):
    events = []
    config = make_config(environment={"extra_pip": ["mlflow==2.16.0"]})
    result = package_model(config, model_version(), wine_model_dir, tmp_path, run_contract=False,
                           on_event=events.append)
    assert result.conflicts and "mlflow" in result.conflicts[0]
    assert any(e["event"] == "warning" and "mlflow" in e["message"] for e in events)


def test_a_model_without_a_signature_falls_back_to_its_input_example(wine_model_dir, tmp_path):
    model = strip_model(wine_model_dir, tmp_path / "nosig", signature=True)
    info = read_model_info(model)
    types = {c.name: c.type for c in info["columns"]}
    assert types["alcohol"] == "double" and types["color"] == "string"
    assert package_model(make_config(), model_version(), model, tmp_path / "b", run_contract=False).files == FILES


def test_a_model_without_signature_or_example_is_refused_with_the_fix(wine_model_dir, tmp_path):
    model = strip_model(wine_model_dir, tmp_path / "bare", signature=True, example=True)
    with pytest.raises(DataError) as info:
        package_model(make_config(), model_version(), model, tmp_path / "b", run_contract=False)
    assert "neither a signature nor an input example" in info.value.message
    assert "infer_signature" in info.value.hint


def test_a_model_whose_environment_cannot_be_read_is_a_clear_error(wine_model_dir, tmp_path):
    model = strip_model(wine_model_dir, tmp_path / "noenv", env=True)
    with pytest.raises(DataError, match="environment cannot be read"):
        package_model(make_config(), model_version(), model, tmp_path / "b", run_contract=False)
    (model / "conda.yaml").write_text("dependencies: [unclosed")
    with pytest.raises(DataError, match="not valid YAML"):
        package_model(make_config(), model_version(), model, tmp_path / "b", run_contract=False)


def test_a_folder_that_is_not_an_mlflow_model_is_refused(tmp_path):
    with pytest.raises(DataError, match="not a readable MLflow model"):
        read_model_info(tmp_path)


@pytest.mark.e2e
def test_a_model_folder_is_packaged_and_proven_like_a_registered_model(wine_model_dir, tmp_path):
    from azml2aks.pipeline import load_pipeline

    from .automl_cases import pipeline_yaml

    pipeline = load_pipeline(pipeline_yaml(tmp_path / "p"))
    result = pipeline.package(model_path=wine_model_dir)
    assert result.model.startswith("churn:folder-") and result.files == FILES
    assert result.contract["passed"] and result.contract["rows"] == 3
    assert result.environment_version == "1" and result.environment_check["status"] == "skipped"
    assert pipeline.journal.stage("package")["result"]["directory"] == result.directory
