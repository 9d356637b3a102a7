"""score.py runs on every Python and inference server it may meet (Python 3.8-3.12, server 0.7-1.x).

Every rendered variant must parse as Python 3.8 and use no API newer than 3.8 at run time;
and it must import and answer under a shim of the server 0.7 API (``azureml.contrib.services``
only, no ``azureml_inference_server_http.api``), as in AutoML SDK 1.44-1.48 environments.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys

import pytest

from azml2aks.packaging import render as scoring
from azml2aks.packaging.render import Column
from azml2aks.packaging.writer import read_model_info

COLUMNS = [Column("age", "long"), Column("income", "double", False), Column("segment", "string"),
           Column("member", "boolean"), Column("date", "datetime"), Column("store", "string")]
FORECASTING = {"time_column": "date", "series_columns": ["store"], "forecast_horizon": 7}
VARIANTS = {
    "classification-sklearn": dict(task="classification", loader="sklearn"),
    "classification-pyfunc": dict(task="classification", loader="pyfunc", default_method="predict_proba"),
    "regression-sklearn": dict(task="regression", loader="sklearn"),
    "forecasting-frequency": dict(task="forecasting", loader="pyfunc", frequency="D", **FORECASTING),
    "forecasting-distinct-times": dict(task="forecasting", loader="sklearn", frequency=None,
                                       **{**FORECASTING, "forecast_horizon": None}),
}
# Names whose use needs a Python newer than 3.8 at run time.
NEWER_METHODS = {"removeprefix", "removesuffix", "is_relative_to", "with_stem", "bit_count"}
BUILTIN_GENERICS = {"list", "dict", "tuple", "set", "frozenset", "type"}

# The server 0.7 API, as azureml_inference_server_http 0.7.7 ships it (server/azureml_contrib_services/).
OLD_AML_REQUEST = '''
from flask import Request

_rawHttpRequested = False


def rawhttp(func):
    global _rawHttpRequested
    _rawHttpRequested = True
    return func


class AMLRequest(Request):
    def __init__(self):
        super().__init__()
'''
OLD_AML_RESPONSE = '''
import json

from flask import Response


class AMLResponse(Response):
    def __init__(self, message, status_code, response_headers={}, json_str=False, run_function_failed=False):
        if message is not None:
            if json_str:
                super().__init__(json.dumps(message), status=status_code, mimetype="application/json")
            else:
                super().__init__(message, status=status_code)
                if "Content-Type" in response_headers:
                    self.headers.remove("Content-Type")
        else:
            super().__init__(json.dumps({}), status=status_code, mimetype="application/json")
        self.headers["x-ms-run-function-failed"] = run_function_failed
        for header, value in response_headers.items():
            for v in value.split(","):
                self.headers.add_header(header, v.strip())
'''


def _render(variant: str) -> str:
    options = dict(VARIANTS[variant])
    columns = COLUMNS if options["task"] == "forecasting" else COLUMNS[:4]
    return scoring.render_score_py(columns=columns, model_ref="m:1",
                                   sample_records=scoring.sample_records(columns), **options)


def _newer_than_3_8(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "zip":
            found += [f"line {node.lineno}: zip(strict=)" for k in node.keywords if k.arg == "strict"]
        if isinstance(node, ast.Attribute) and node.attr in NEWER_METHODS:
            found.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in BUILTIN_GENERICS:
            found.append(f"line {node.lineno}: {node.value.id}[...]")
        if isinstance(node, (ast.AnnAssign, ast.arg)) and node.annotation is not None:
            found.append(f"line {node.lineno}: an annotation")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            found.append(f"line {node.lineno}: a return annotation")
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            found.append(f"line {node.lineno}: from __future__ import")
    return found


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_rendered_score_py_is_python_3_8_with_no_newer_runtime_api(variant):
    text = _render(variant)
    tree = ast.parse(text, filename=f"score-{variant}.py", feature_version=(3, 8))
    assert _newer_than_3_8(tree) == []


def test_the_newer_api_scan_itself_sees_what_3_8_lacks():
    tree = ast.parse("def f(x: list[int]) -> dict:\n    return zip(a, b, strict=True), 'x'.removeprefix('y')\n")
    assert len(_newer_than_3_8(tree)) == 5


@pytest.fixture
def old_server(tmp_path, monkeypatch):
    """Only azureml.contrib.services on the path, and the new API made unimportable."""
    services = tmp_path / "old-server" / "azureml" / "contrib" / "services"
    services.mkdir(parents=True)
    (services / "aml_request.py").write_text(OLD_AML_REQUEST)
    (services / "aml_response.py").write_text(OLD_AML_RESPONSE)
    monkeypatch.syspath_prepend(str(tmp_path / "old-server"))
    new_api = [m for m in sys.modules if m.split(".")[0] == "azureml_inference_server_http"]
    for name in {"azureml_inference_server_http", *new_api}:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: ImportError
    for name in [m for m in sys.modules if m.split(".")[0] == "azureml"]:
        monkeypatch.delitem(sys.modules, name)
    yield
    for name in [m for m in sys.modules if m.split(".")[0] == "azureml"]:
        del sys.modules[name]  # the shim goes with the test


def _request(body: bytes):
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    return Request(EnvironBuilder(method="POST", path="/score", data=body,
                                  content_type="application/json").get_environ())


def test_score_py_imports_and_answers_under_the_server_0_7_api(old_server, wine_model_dir, tmp_path, monkeypatch):
    info = read_model_info(wine_model_dir)
    records = scoring.sample_records(info["columns"], info["example"])
    path = tmp_path / "score.py"
    path.write_text(scoring.render_score_py(task="classification", columns=info["columns"], model_ref="wine:1",
                                            sample_records=records, loader=info["loader"]))
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(wine_model_dir))
    spec = importlib.util.spec_from_file_location("score_under_server_0_7", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    old_api = sys.modules["azureml.contrib.services.aml_request"]
    assert module.AMLResponse.__module__ == "azureml.contrib.services.aml_response"
    assert old_api._rawHttpRequested  # the 0.7 server passes the raw request only then

    module.init()
    answer = module.run(_request(json.dumps(scoring.sample_request(records)).encode()))
    assert answer.status_code == 200
    assert len(json.loads(answer.get_data())["Results"]) == len(records)
    missing = [{k: v for k, v in r.items() if k != "alcohol"} for r in records]
    bad = module.run(_request(json.dumps(missing).encode()))
    assert bad.status_code == 400 and json.loads(bad.get_data())["error"]["column"] == "alcohol"
