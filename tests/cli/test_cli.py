"""The CLI: verbs, --output json, exit codes, and the fast paths that import nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from azml2aks.cli import COMMANDS, main
from tests.conftest import REPO, copy_example

WINE = str(REPO / "examples" / "wine-classification" / "pipeline.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_summarises_a_valid_pipeline(capsys):
    code, out, _ = run(capsys, "validate", WINE)
    assert code == 0
    assert "is valid: classification on 'cultivar', metric accuracy" in out


def test_validate_json_is_machine_readable(capsys):
    code, out, _ = run(capsys, "validate", WINE, "--output", "json")
    assert code == 0 and json.loads(out)["endpoint"] == "wine-endpoint"


def test_config_error_exits_1_with_the_message_on_stderr(capsys, tmp_path):
    bad = tmp_path / "pipeline.yaml"
    bad.write_text("automl:\n  task: classification\n  target_column_name: y\n  training_data: x.csv\n  colour: red\n")
    code, out, err = run(capsys, "validate", str(bad))
    assert code == 1 and out == ""
    assert f"error: {bad}:5: unknown key automl.colour" in err


def test_config_error_in_json_mode_is_json_on_stdout(capsys, tmp_path):
    bad = tmp_path / "pipeline.yaml"
    bad.write_text("automl: [")
    code, out, _ = run(capsys, "validate", str(bad), "-o", "json")
    assert code == 1 and json.loads(out)["error"] == "ConfigError"


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train"])
    assert info.value.code == 2


def test_azure_errors_are_annotated_for_azure_devops(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TF_BUILD", "True")
    code, _, err = run(capsys, "validate", str(tmp_path / "missing.yaml"))
    assert code == 1 and "##vso[task.logissue type=error]" in err


def test_schema_is_a_json_schema_of_every_section(capsys):
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0
    assert {"workspace", "automl", "model", "scoring", "environment", "compute", "endpoint", "deployment",
            "rollout", "local"} <= set(schema["properties"])


def test_azure_backend_without_workspace_names_the_missing_field(capsys):
    code, _, err = run(capsys, "train", WINE, "--backend", "azure")
    assert code == 1 and "workspace.subscription_id" in err


def test_run_slices_name_the_same_stages_as_the_pipeline():
    from azml2aks.cli.stages import STAGES as CLI_STAGES
    from azml2aks.pipeline import STAGES

    assert CLI_STAGES == STAGES


def test_train_register_models_round_trip_in_json(capsys, tmp_path):
    pipeline = str(copy_example(tmp_path, max_trials=3))
    code, out, err = run(capsys, "train", pipeline, "--output", "json")
    assert code == 0, err
    job = json.loads(out)
    assert "trial   1" in err  # one progress line per trial
    code, out, _ = run(capsys, "register", pipeline, "--output", "json")
    model = json.loads(out)
    assert code == 0
    assert model["tags"]["azml2aks.child_run_id"] == job["best_child_run_id"]
    assert float(model["tags"]["azml2aks.metric_value"]) == pytest.approx(job["best_metric_value"])
    code, out, _ = run(capsys, "models", pipeline, "--output", "json")
    assert [m["version"] for m in json.loads(out)] == [model["version"]]


def test_register_before_train_says_what_to_run(capsys, tmp_path):
    pipeline = str(copy_example(tmp_path))
    code, _, err = run(capsys, "register", pipeline)
    assert code == 1 and "azml2aks train" in err


def test_every_command_has_an_example_in_its_help():
    assert all(c.example.startswith("azml2aks ") for c in COMMANDS.values())


def test_help_and_validate_import_no_azure_mlflow_or_flaml():
    code = (
        "import sys, azml2aks.cli as c\n"
        f"c.main(['validate', {WINE!r}])\n"
        "heavy = [m for m in ('azure', 'mlflow', 'flaml', 'pandas', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_console_script_runs(tmp_path):
    done = subprocess.run([sys.executable, "-m", "azml2aks", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "validate" in done.stdout


def test_run_dry_run_prints_the_plan_and_touches_nothing(capsys, tmp_path):
    pipeline = copy_example(tmp_path)
    code, out, _ = run(capsys, "run", str(pipeline), "--dry-run")
    assert code == 0
    assert "deploy:   plan for endpoint wine-endpoint: deploy blue (live: none)" in out
    assert "CreateDeployment(colour=blue)" in out and "SetTraffic(traffic=blue=100)" in out
    assert not (pipeline.parent / ".azml2aks" / "endpoints").exists()


def test_validate_names_every_missing_data_file_and_azure_assets_on_local(capsys, tmp_path):
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("automl:\n  task: classification\n  target_column_name: y\n  training_data: data/train.csv\n"
                        "  test_data: azureml:holdout:1\n")
    code, _, err = run(capsys, "validate", str(pipeline))
    assert code == 1 and "2 problems" in err
    assert f"automl.training_data: {tmp_path / 'data' / 'train.csv'} does not exist" in err
    assert "automl.test_data is the Azure data asset 'azureml:holdout:1'" in err


def test_run_from_until_runs_only_that_slice_taking_earlier_results_from_the_journal(capsys, trained_wine):
    pipeline, job, model = trained_wine
    code, out, err = run(capsys, "run", str(pipeline), "--from", "register", "--until", "register", "-o", "json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"register", "run_id"}  # no train, package, attach or deploy
    assert result["register"]["version"] == model.version and result["register"]["reused"]
    assert result["register"]["tags"]["azml2aks.job"] == job.job_name


def test_run_refuses_a_slice_that_ends_before_it_starts(capsys, tmp_path):
    code, _, err = run(capsys, "run", str(copy_example(tmp_path)), "--from", "deploy", "--until", "train")
    assert code == 1 and "--from deploy comes after --until train" in err
    with pytest.raises(SystemExit) as usage:
        main(["run", str(copy_example(tmp_path / "b")), "--from", "trian"])
    assert usage.value.code == 2
