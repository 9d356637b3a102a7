"""resolve.py: the environment resolved with the real uv, against a local folder of wheels."""

from __future__ import annotations

import subprocess

import pytest

from azml2aks.errors import BackendError, DataError
from azml2aks.packaging.constraints import Requirement
from azml2aks.packaging.resolve import conflict_packages, resolve

from .wheels import local_index

AUTOML_148 = [
    Requirement("numpy", "==1.21.6.*", "conda"),
    Requirement("pandas", "==1.1.5.*", "conda"),
    Requirement("scikit-learn", "==0.22.1.*", "conda"),
    Requirement("azureml-train-automl-runtime", "==1.48.0.post2", "pip"),
    Requirement("azureml-defaults", "==1.48.0", "pip"),
    Requirement("mlflow-skinny", "==1.30.0", "pip"),
]
SERVER_141 = Requirement("azureml-inference-server-http", "==1.4.1", "environment.extra_pip")


def test_the_automl_1_48_environment_resolves_for_python_3_8_on_linux(tmp_path, monkeypatch):
    local_index(tmp_path / "wheels", monkeypatch)
    resolution = resolve(AUTOML_148, "3.8.15", mode="always")
    assert resolution.status == "resolved"
    assert resolution.pins["azureml-inference-server-http"] == "0.7.7"
    assert resolution.pins["mlflow-skinny"] == "1.30.0"
    assert resolution.command[:3] == ("uv", "pip", "compile")
    assert "--python-version" in resolution.command and "3.8" in resolution.command
    assert resolution.command[resolution.command.index("--python-platform") + 1] == "linux"
    assert resolution.summary()["versions"]["azureml-inference-server-http"] == "0.7.7"


def test_a_competing_server_pin_fails_naming_both_packages_and_the_settings(tmp_path, monkeypatch):
    local_index(tmp_path / "wheels", monkeypatch)
    with pytest.raises(DataError) as info:
        resolve([*AUTOML_148, SERVER_141], "3.8.15")
    message = info.value.message
    assert "does not resolve for Python 3.8.15 on Linux" in message
    assert "azureml-defaults==1.48.0" in message and "azureml-inference-server-http==1.4.1" in message
    assert "environment.extra_pip" in info.value.hint and "environment.python_version" in info.value.hint
    assert info.value.exit_code == 1


def test_a_package_that_needs_a_newer_python_fails_naming_it(tmp_path, monkeypatch):
    local_index(tmp_path / "wheels", monkeypatch)
    with pytest.raises(DataError) as info:
        resolve([SERVER_141], "3.8")
    assert "in conflict: azureml-inference-server-http==1.4.1" in info.value.message
    assert "Python >=3.9" in info.value.message


def test_auto_skips_with_the_reason_when_the_index_is_out_of_reach_and_always_fails():
    # the suite's uv is offline with an empty cache: no index can be reached
    resolution = resolve(AUTOML_148, "3.8.15", mode="auto")
    assert resolution.status == "skipped" and "could not be reached" in resolution.reason
    with pytest.raises(BackendError) as info:
        resolve(AUTOML_148, "3.8.15", mode="always")
    assert info.value.exit_code == 3 and "environment.resolve" in info.value.hint


def test_never_does_not_run_uv_at_all():
    def run(*args, **kwargs):
        raise AssertionError("uv was run")

    resolution = resolve(AUTOML_148, "3.8.15", mode="never", run=run)
    assert (resolution.status, resolution.reason) == ("skipped", "environment.resolve is never")


def test_a_resolution_that_outlives_its_timeout_is_skipped_under_auto_naming_the_setting():
    calls = []

    def run(argv, **kwargs):
        calls.append(kwargs["timeout"])
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    resolution = resolve(AUTOML_148, "3.8.15", mode="auto", timeout=42, run=run)
    assert calls == [42]
    assert resolution.status == "skipped" and "environment.resolve_timeout_seconds" in resolution.reason


def test_the_packages_in_conflict_are_read_from_uvs_explanation():
    explanation = (
        "error: No solution found when resolving dependencies\n"
        "  cause: Because azureml-defaults==1.48.0 depends on azureml-inference-server-http>=0.7.2,<0.8.dev0 "
        "and you require azureml-defaults==1.48.0, we can conclude that you require "
        "azureml-inference-server-http>=0.7.2,<0.8.dev0.\n"
        "         And because you require azureml-inference-server-http==1.4.1, we can conclude that your "
        "requirements are unsatisfiable.")
    assert conflict_packages(explanation)[:3] == [
        "azureml-defaults==1.48.0", "azureml-inference-server-http>=0.7.2,<0.8.dev0",
        "azureml-inference-server-http==1.4.1"]


def test_an_index_that_refuses_connections_counts_as_out_of_reach(monkeypatch):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.delenv("UV_OFFLINE")
    monkeypatch.setenv("UV_INDEX_URL", f"http://127.0.0.1:{port}/simple")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    resolution = resolve(AUTOML_148, "3.8.15", mode="auto")
    assert resolution.status == "skipped" and "could not be reached" in resolution.reason


def test_a_conda_only_package_the_index_lacks_is_named_with_the_way_out(tmp_path, monkeypatch):
    local_index(tmp_path / "wheels", monkeypatch)
    monkeypatch.delenv("UV_OFFLINE")  # no index anyway (UV_NO_INDEX); offline, uv would blame its cache
    with pytest.raises(DataError) as info:
        resolve([*AUTOML_148, Requirement("r-base", "==4.1.*", "conda")], "3.8.15")
    assert "r-base" in info.value.message
    assert "came from the conda list" in info.value.hint and "environment.resolve: never" in info.value.hint


def test_an_unknown_python_skips_under_auto_and_is_a_config_error_under_always():
    assert "Python version is unknown" in resolve(AUTOML_148, None, mode="auto").reason
    with pytest.raises(DataError, match="Python version is unknown") as info:
        resolve(AUTOML_148, None, mode="always")
    assert info.value.hint == "set environment.python_version"
