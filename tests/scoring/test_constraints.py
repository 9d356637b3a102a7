"""constraints.py: the offline server/Python table, checked without any package index."""

from __future__ import annotations

import pytest
from packaging.version import Version

from azml2aks.packaging import constraints as C
from azml2aks.packaging.constraints import Requirement


def _req(line: str, source: str = "the model's environment") -> Requirement:
    name, _, spec = line.partition("==")
    if spec:
        return Requirement(name, "==" + spec, source)
    for op in ("~=", ">=", "<"):
        if op in line:
            name, _, spec = line.partition(op)
            return Requirement(name, op + spec, source)
    return Requirement(line, "", source)


def test_azureml_defaults_releases_map_to_the_server_range_their_wheels_require():
    assert C.defaults_server_range("==1.48.0") == "~=0.7.2"
    assert C.defaults_server_range("==1.49.0") == "~=0.8.0"
    assert C.defaults_server_range("==1.59.0") == "~=1.3"
    assert C.defaults_server_range("==1.62.0") == "~=1.4"
    assert C.defaults_server_range("==1.20.0") is None  # older than the table: unknown
    assert C.defaults_server_range(">=1.48") is None  # only exact pins are looked up


def test_server_series_list_the_pythons_their_classifiers_name():
    assert C.supports(Version("0.7.7"), "3.8.15") and not C.supports(Version("0.7.7"), "3.10")
    assert C.supports(Version("1.3.4"), "3.8") and C.supports(Version("1.3.4"), "3.12")
    assert not C.supports(Version("1.4.1"), "3.8") and C.supports(Version("1.4.1"), "3.9.21")


def test_the_server_added_for_a_model_that_brings_none_supports_its_python():
    assert C.server_for_python("3.8.15") == "==1.3.4"
    assert C.server_for_python("3.9") == "==1.5.1" and C.server_for_python(None) == "==1.5.1"
    for python in ("3.8", "3.9", "3.10", "3.11", "3.12"):
        assert C.supports(Version(C.server_for_python(python)[2:]), python)


def test_the_automl_1_48_environment_passes_with_the_range_its_defaults_require():
    report = C.check([_req("azureml-defaults==1.48.0"), _req("numpy==1.21.6.*")], "3.8.15")
    assert report.problems == []
    assert report.server == "azureml-inference-server-http~=0.7.2 (required by azureml-defaults==1.48.0, the model's environment)"


def test_a_server_pin_that_contradicts_azureml_defaults_is_a_problem_naming_both_and_the_setting():
    report = C.check([_req("azureml-defaults==1.48.0"),
                      _req("azureml-inference-server-http==1.4.1", "environment.extra_pip")], "3.8.15")
    [problem] = report.problems
    assert "azureml-inference-server-http==1.4.1 (environment.extra_pip)" in problem
    assert "required by azureml-defaults==1.48.0" in problem and "environment.extra_pip" in problem


def test_a_python_the_models_server_range_does_not_support_is_a_problem_naming_the_setting():
    report = C.check([_req("azureml-defaults==1.48.0")], "3.10")
    [problem] = report.problems
    assert "Python 3.10" in problem and "0.7 (Python 3.6-3.9)" in problem
    assert "environment.python_version" in problem
    [problem] = C.check([_req("azureml-inference-server-http==1.4.1")], "3.8.15").problems
    assert "Python 3.8.15" in problem


@pytest.mark.parametrize("python", ["3.7", "3.6.9"])
def test_a_python_older_than_3_8_is_refused_for_score_py(python):
    [problem] = C.check([], python).problems
    assert "3.8 or later" in problem and "environment.python_version" in problem


def test_a_defaults_release_whose_server_predates_score_py_is_a_problem():
    [problem] = C.check([_req("azureml-defaults==1.40.0")], "3.8").problems
    assert "older than 0.7.0" in problem and "environment.extra_pip" in problem


def test_what_the_table_does_not_know_is_a_note_not_a_problem():
    report = C.check([_req("azureml-defaults==1.99.0"), _req("azureml-inference-server-http>=9")], None)
    assert report.problems == []
    assert any("not in azml2aks's table" in n for n in report.notes)
    assert any("matches no server release" in n for n in report.notes)
    assert any("Python version is unknown" in n for n in report.notes)
