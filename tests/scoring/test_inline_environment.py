"""deployment.environment given inline, as the official Kubernetes deployment YAML does
({image, conda_file}), is the environment registered and deployed in the packaged one's place."""

from __future__ import annotations

import json

import pytest
import yaml

from azml2aks.config import specs
from azml2aks.errors import ConfigError
from azml2aks.packaging.conda import fingerprint
from azml2aks.pipeline import load_pipeline
from tests.scoring.automl_cases import write_case

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"
CONDA = "name: model-env\nchannels: [conda-forge]\ndependencies:\n  - python=3.9\n  - pip\n  - pip: [azureml-inference-server-http~=1.3, scikit-learn==1.5.1]\n"


def pipeline(tmp_path, environment):
    doc = {"automl": {"task": "classification", "target_column_name": "churned", "training_data": "data.csv"},
           "model": {"name": "churn"}, "environment": {"resolve": "never"},
           "deployment": {"environment": environment}, "local": {"workdir": str(tmp_path / "work")}}
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(doc))
    return load_pipeline(tmp_path / "pipeline.yaml", backend="local")


def test_an_inline_environment_is_registered_reused_and_reaches_the_deployment_spec(tmp_path):
    (tmp_path / "env.yml").write_text(CONDA)
    p = pipeline(tmp_path, {"name": "churn-serving", "image": IMAGE, "conda_file": "env.yml"})
    model = write_case(tmp_path / "model", "automl-1.59")
    first = p.package(model_path=model, contract=False)
    assert (first.environment_name, first.environment_version, first.environment_reused) == \
        ("churn-serving", "1", False)
    stored = tmp_path / "work" / "environments" / "churn-serving" / "1"
    assert (stored / "conda.yaml").read_text() == CONDA
    assert json.loads((stored / "environment.json").read_text())["fingerprint"] == fingerprint(CONDA, IMAGE)
    again = p.package(model_path=model, contract=False)
    assert (again.environment_version, again.environment_reused) == ("1", True)
    spec = specs.deployment_spec(p.config, "blue", model=again.model, code_dir=again.directory,
                                 environment=f"{again.environment_name}:{again.environment_version}")
    assert spec.environment == "churn-serving:1"


def test_an_inline_environment_whose_conda_file_is_missing_names_the_field(tmp_path):
    p = pipeline(tmp_path, {"image": IMAGE, "conda_file": "nope.yml"})
    with pytest.raises(ConfigError, match="deployment.environment.conda_file 'nope.yml' cannot be read"):
        p.package(model_path=write_case(tmp_path / "model", "automl-1.59"), contract=False)


def test_a_docker_build_context_without_an_image_is_refused_when_the_file_is_read(tmp_path):
    with pytest.raises(ConfigError, match="deployment.environment: an inline environment needs image"):
        pipeline(tmp_path, {"build": {"path": "docker/"}})
