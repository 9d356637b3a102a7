"""`azml2aks package PIPELINE --model-path FOLDER --no-contract` on folders shaped like real
AutoML children (AutoML SDK 1.48 on Python 3.8, 1.59 on Python 3.9)."""

from __future__ import annotations

import json

import pytest
import yaml

from azml2aks.cli import main
from azml2aks.packaging.writer import FILES

from .automl_cases import pipeline_yaml, write_case
from .wheels import local_index


def package(capsys, pipeline, folder, *extra):
    code = main(["package", str(pipeline), "--model-path", str(folder), "--no-contract", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _deps(package_dir):
    env = yaml.safe_load((package_dir / "conda.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    return conda, pip


def _names(entries):
    import re

    return [re.split(r"[=<>~! ;\[]", e, maxsplit=1)[0].lower() for e in entries]


def test_the_automl_1_48_model_keeps_its_server_range_and_python_3_8(capsys, tmp_path):
    folder = write_case(tmp_path / "mlflow-model", "automl-1.48")
    code, out, err = package(capsys, pipeline_yaml(tmp_path / "p"), folder, "--output", "json")
    assert code == 0, err
    result = json.loads(out)
    package_dir = tmp_path / "p" / ".azml2aks" / "build" / result["directory"].rsplit("/", 1)[-1]  # under the work dir
    assert sorted(p.name for p in package_dir.iterdir()) == sorted(FILES)
    conda, pip = _deps(package_dir)
    assert conda[0] == "python=3.8.15"
    assert "azureml-defaults==1.48.0" in pip
    assert not [p for p in pip if p.startswith("azureml-inference-server-http")]  # no competing pin
    assert "mlflow-skinny==1.30.0" in pip  # the MLmodel's own MLflow
    names = _names(conda) + _names(pip)
    assert len(names) == len(set(names))  # numpy and pandas once, in the conda list
    assert "numpy=1.21.6" in conda and "pandas=1.1.5" in conda
    assert result["contract"]["ran"] is False
    assert result["environment_check"]["status"] == "skipped"
    assert "contract test skipped (--no-contract)" in err
    assert "full environment resolution skipped" in err and "checked offline only" in err


def test_the_automl_1_59_model_keeps_its_server_range_and_python_3_9(capsys, tmp_path):
    folder = write_case(tmp_path / "mlflow-model", "automl-1.59")
    code, out, err = package(capsys, pipeline_yaml(tmp_path / "p"), folder)
    assert code == 0, err
    package_dir = next((tmp_path / "p" / ".azml2aks" / "build").glob("churn-folder-*"))
    conda, pip = _deps(package_dir)
    assert conda[0] == "python=3.9.21"
    assert "azureml-defaults==1.59.0" in pip and "prophet==1.1.4" in pip and "xgboost<=1.5.2" in pip
    assert not [p for p in pip if p.startswith("azureml-inference-server-http")]
    names = _names(conda) + _names(pip)
    assert len(names) == len(set(names))
    assert "contract test: skipped" in out and "checked offline only" in out


def test_a_competing_server_pin_exits_1_naming_the_conflict_and_the_setting(capsys, tmp_path):
    folder = write_case(tmp_path / "mlflow-model", "automl-1.48")
    pipeline = pipeline_yaml(tmp_path / "p", environment={"extra_pip": ["azureml-inference-server-http==1.4.1"]})
    code, out, err = package(capsys, pipeline, folder)
    assert code == 1 and out == ""
    assert "azureml-inference-server-http==1.4.1 (environment.extra_pip)" in err
    assert "required by azureml-defaults==1.48.0" in err
    assert "environment.extra_pip" in err and "environment.python_version" in err
    assert not (tmp_path / "p" / ".azml2aks" / "build").exists()  # nothing written for an unbuildable environment


def test_a_python_the_models_server_range_cannot_run_exits_1(capsys, tmp_path):
    folder = write_case(tmp_path / "mlflow-model", "automl-1.48")
    code, _, err = package(capsys, pipeline_yaml(tmp_path / "p", environment={"python_version": "3.11"}), folder)
    assert code == 1
    assert "Python 3.11 is not supported" in err and "environment.python_version" in err


def test_with_an_index_the_1_48_environment_resolves_and_reports_the_server_it_gets(capsys, tmp_path, monkeypatch):
    local_index(tmp_path / "wheels", monkeypatch)
    folder = write_case(tmp_path / "mlflow-model", "automl-1.48")
    code, out, err = package(capsys, pipeline_yaml(tmp_path / "p", environment={"resolve": "always"}), folder,
                             "-o", "json")
    assert code == 0, err
    check = json.loads(out)["environment_check"]
    assert check["status"] == "resolved" and check["python"] == "3.8.15"
    assert check["versions"]["azureml-inference-server-http"] == "0.7.7"
    assert check["versions"]["mlflow-skinny"] == "1.30.0"
    assert "environment resolves for Python 3.8.15 on Linux" in err


def test_a_conflict_only_the_resolver_sees_exits_1_naming_the_packages(capsys, tmp_path, monkeypatch):
    local_index(tmp_path / "wheels", monkeypatch)
    folder = write_case(tmp_path / "mlflow-model", "automl-1.48")
    pipeline = pipeline_yaml(tmp_path / "p", environment={"extra_pip": ["mlflow-skinny==3.0.0"]})
    code, _, err = package(capsys, pipeline, folder)
    assert code == 1
    assert "does not resolve for Python 3.8.15 on Linux" in err
    assert "in conflict: mlflow-skinny==3.0.0" in err and "environment.extra_pip" in err


def test_the_old_no_contract_test_flag_still_works_and_a_folder_without_mlmodel_is_refused(capsys, tmp_path):
    folder = write_case(tmp_path / "mlflow-model", "automl-1.59")
    pipeline = pipeline_yaml(tmp_path / "p", environment={"resolve": "never"})
    code = main(["package", str(pipeline), "--model-path", str(folder), "--no-contract-test"])
    out, _ = capsys.readouterr()
    assert code == 0 and "full resolution skipped: environment.resolve is never" in out
    code = main(["package", str(pipeline), "--model-path", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 1 and "no MLmodel file" in err and "--model-path" in err


@pytest.mark.parametrize("case", ["automl-1.48", "automl-1.59"])
def test_the_same_folder_packages_to_the_same_version_and_fingerprint(capsys, tmp_path, case):
    folder = write_case(tmp_path / "mlflow-model", case)
    pipeline = pipeline_yaml(tmp_path / "p", environment={"resolve": "never"})
    first = package(capsys, pipeline, folder, "-o", "json")
    again = package(capsys, pipeline, folder, "-o", "json")
    a, b = json.loads(first[1]), json.loads(again[1])
    assert a["model"] == b["model"] and a["model"].startswith("churn:folder-")
    assert a["fingerprint"] == b["fingerprint"]


def automl_download(root, case: str = "automl-1.48"):
    """A best child's outputs as `az ml job download --all` lays them out: artifacts/outputs/ with
    model.pkl, conda_env_v_1_0_0.yml, scoring_file_v_2_0_0.py and the mlflow-model/ folder, which
    holds MLmodel, conda.yaml, python_env.yaml, requirements.txt and model.pkl (MLflow's own files)."""
    outputs = root / "artifacts" / "outputs"
    folder = write_case(outputs / "mlflow-model", case)
    python = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["python_function"]["python_version"]
    (folder / "python_env.yaml").write_text(f"python: {python}\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\n"
                                            "dependencies:\n- -r requirements.txt\n")
    pip = next(d["pip"] for d in yaml.safe_load((folder / "conda.yaml").read_text())["dependencies"]
               if isinstance(d, dict))
    (folder / "requirements.txt").write_text("\n".join(["mlflow", *pip]) + "\n")
    for name in ("model.pkl", "conda_env_v_1_0_0.yml", "scoring_file_v_2_0_0.py"):
        (outputs / name).write_bytes((folder / ("model.pkl" if name == "model.pkl" else "conda.yaml")).read_bytes())
    return folder


def test_the_mlflow_folder_automl_writes_with_python_env_and_requirements_packages(capsys, tmp_path):
    folder = automl_download(tmp_path / "download")
    code, out, err = package(capsys, pipeline_yaml(tmp_path / "p"), folder, "--output", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["environment_check"]["python"] == "3.8.15" and result["conflicts"] == []
    _, pip = _deps(tmp_path / "p" / ".azml2aks" / "build" / result["directory"].rsplit("/", 1)[1])
    assert "azureml-defaults==1.48.0" in pip


def test_pointing_at_the_downloaded_job_outputs_names_the_mlflow_model_folder_inside(capsys, tmp_path):
    folder = automl_download(tmp_path / "download")
    code, out, err = package(capsys, pipeline_yaml(tmp_path / "p"), tmp_path / "download")
    assert code == 1 and "has no MLmodel file" in err
    assert f"did you mean --model-path {folder}?" in err  # three levels down: artifacts/outputs/mlflow-model
