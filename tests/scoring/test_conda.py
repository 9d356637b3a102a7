"""conda.py (re-exported by scoring): the inference environment merge and its fingerprint."""

from __future__ import annotations

import pytest
import yaml

from azml2aks.errors import DataError
from azml2aks.packaging import render as scoring

MLFLOW_CONDA = """
channels: [conda-forge]
dependencies:
- python=3.11.7
- pip<=26.3
- pip:
  - mlflow==3.17.2
  - scikit-learn==1.9.1
  - pandas
name: mlflow-env
"""

AUTOML_CONDA = """
name: project_environment
channels: [anaconda, conda-forge]
dependencies:
- python=3.9.19
- pip=22.1.2
- numpy~=1.23.5
- py-xgboost<=1.5.0
- pip:
  - azureml-automl-runtime==1.57.0
  - azureml-inference-server-http==1.0.0
  - inference-schema
  - scikit-learn==1.5.1
  - pandas==1.5.3
"""


def _env(text):
    env = yaml.safe_load(text)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return env, pip


def test_model_environment_is_merged_over_the_base_with_the_models_python():
    text, conflicts = scoring.build_conda(model_conda=MLFLOW_CONDA)
    env, pip = _env(text)
    assert env["dependencies"][0] == "python=3.11.7"
    assert "pip<=26.3" in env["dependencies"]
    assert "azureml-inference-server-http==1.5.1" in pip  # the newest server for Python 3.11
    assert "mlflow==3.17.2" in pip and "scikit-learn==1.9.1" in pip
    assert "mlflow-skinny" not in pip  # the model brings mlflow itself
    assert conflicts == ()


def test_automl_pins_are_kept_and_the_server_the_model_brings_stands_alone():
    text, conflicts = scoring.build_conda(model_conda=AUTOML_CONDA)
    env, pip = _env(text)
    assert env["dependencies"][0] == "python=3.9.19"
    assert "azureml-automl-runtime==1.57.0" in pip
    assert "pandas==1.5.3" in pip  # base's unpinned pandas does not replace the pin
    assert "numpy~=1.23.5" in env["dependencies"]
    assert env["channels"] == ["anaconda", "conda-forge"]
    servers = [p for p in pip if p.startswith("azureml-inference-server-http")]
    assert servers == ["azureml-inference-server-http==1.0.0"]  # the model's, no competing pin
    assert conflicts == ()


def test_extra_pip_wins_and_reports_the_conflict_but_a_fitting_range_keeps_the_pin_quietly():
    text, conflicts = scoring.build_conda(model_conda=MLFLOW_CONDA,
                                          extra_pip=["scikit-learn==1.5.0", "pandas>=2", "mlflow>=3"])
    _, pip = _env(text)
    assert "scikit-learn==1.5.0" in pip and "pandas>=2" in pip and "mlflow==3.17.2" in pip
    assert conflicts == ("pip scikit-learn: model wants ==1.9.1, extra_pip wants ==1.5.0; kept ==1.5.0 (extra_pip)",)


def test_requirements_txt_alone_is_enough_and_python_version_comes_from_the_setting():
    text, conflicts = scoring.build_conda(model_requirements="mlflow==3.17.2\n# comment\nnumpy<3  # x\n",
                                          python_version="3.10")
    env, pip = _env(text)
    assert env["dependencies"][0] == "python=3.10"
    assert "numpy<3" in pip and "mlflow==3.17.2" in pip
    assert conflicts == ()


def test_a_python_version_setting_that_differs_from_the_model_is_reported():
    _, conflicts = scoring.build_conda(model_conda=MLFLOW_CONDA, python_version="3.12")
    assert conflicts and conflicts[0].startswith("conda python: model was saved with 3.11.7")


def test_an_unknown_or_unreadable_model_environment_is_a_data_error():
    with pytest.raises(DataError, match="environment is unknown"):
        scoring.build_conda()
    with pytest.raises(DataError, match="not valid YAML"):
        scoring.build_conda(model_conda="dependencies: [unclosed")
    with pytest.raises(DataError, match="not a conda environment"):
        scoring.build_conda(model_conda="- just\n- a list\n")


def test_options_and_urls_in_pip_lists_are_kept_verbatim():
    conda = MLFLOW_CONDA.replace("  - pandas\n", "  - pandas\n  - --extra-index-url https://example.invalid/simple\n")
    text, _ = scoring.build_conda(model_conda=conda)
    _, pip = _env(text)
    assert pip[-1] == "--extra-index-url https://example.invalid/simple"


def test_the_output_is_deterministic_and_fingerprint_ignores_order_but_not_content_or_image():
    a, _ = scoring.build_conda(model_conda=MLFLOW_CONDA)
    b, _ = scoring.build_conda(model_conda=MLFLOW_CONDA)
    assert a == b
    env = yaml.safe_load(a)
    env["dependencies"].reverse()
    shuffled = yaml.safe_dump(env, default_flow_style=True)
    image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
    assert scoring.fingerprint(a, image) == scoring.fingerprint(shuffled, image)
    assert len(scoring.fingerprint(a, image)) == 64
    assert scoring.fingerprint(a, image) != scoring.fingerprint(a, image + "-2")
    c, _ = scoring.build_conda(model_conda=MLFLOW_CONDA, extra_pip=["lightgbm==4.5.0"])
    assert scoring.fingerprint(a, image) != scoring.fingerprint(c, image)
