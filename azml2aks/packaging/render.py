"""Renders a scoring package's text: score.py, conda.yaml, swagger documents, sample request.

Pure: the only reads are the templates shipped as package data (``azml2aks._scoring``, the
repository's ``scoring/`` folder, and ``azml2aks._environments``, its ``environments/``).
Nothing here imports MLflow or Azure; the model's signature and environment come in as
plain data, so every function is testable without a model. :mod:`azml2aks.packaging.writer` does the
reading and writing.

Templates use ``{{ name }}`` placeholders, each replaced by the Python literal of a plain
value (str, int, float, bool, None, list, tuple, dict). Rendering is strict both ways: a
placeholder without a value and a value without a placeholder are errors, and the result
must compile.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from azml2aks.errors import Azml2aksError, DataError
from azml2aks.packaging.conda import (
    build_conda,
    canonical,
    fingerprint,
    requirement_name,
    requirements,
    requirements_txt,
)

__all__ = [
    "Column",
    "build_conda",
    "canonical",
    "columns_from_example",
    "columns_from_signature",
    "fingerprint",
    "render",
    "requirement_name",
    "requirements",
    "requirements_txt",
    "render_score_py",
    "sample_records",
    "sample_request",
    "swagger2",
    "swagger3",
]

SCORING_PACKAGE = "azml2aks._scoring"
TASK_TEMPLATES = {
    "classification": "tabular.py.tmpl",
    "regression": "tabular.py.tmpl",
    "forecasting": "forecasting.py.tmpl",
}
MLFLOW_TYPES = ("double", "float", "long", "integer", "string", "boolean", "datetime", "binary")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")


@dataclass(frozen=True)
class Column:
    """One input column of a model's signature (MLflow ColSpec vocabulary)."""

    name: str
    type: str
    required: bool = True


def columns_from_signature(inputs: Sequence[Mapping[str, Any]]) -> list[Column]:
    """MLflow's ``signature.inputs`` (decoded JSON) -> columns; tensor signatures are refused."""
    columns = []
    for spec in inputs:
        kind = spec.get("type")
        if kind not in MLFLOW_TYPES or not spec.get("name"):
            raise DataError(
                f"the model's signature has an input {spec!r} that is not a named column of a "
                f"supported type ({', '.join(MLFLOW_TYPES)})",
                hint="azml2aks packages tabular models: save them with a signature inferred from a "
                "pandas DataFrame with named columns",
            )
        columns.append(Column(spec["name"], kind, bool(spec.get("required", True))))
    return columns


def columns_from_example(columns: Sequence[str], dtypes: Sequence[str]) -> list[Column]:
    """An input example's column names and numpy/pandas dtype names -> columns."""
    table = {"f": "double", "i": "long", "u": "long", "b": "boolean", "M": "datetime"}
    out = []
    for name, dtype in zip(columns, dtypes, strict=True):
        kind = _dtype_kind(str(dtype))
        out.append(Column(str(name), table.get(kind, "string"), required=False))
    return out


def _dtype_kind(dtype: str) -> str:
    if dtype.startswith(("float", "Float")):
        return "f"
    if dtype.startswith(("int", "Int")):
        return "i"
    if dtype.startswith(("uint", "UInt")):
        return "u"
    if dtype in ("bool", "boolean"):
        return "b"
    if dtype.startswith("datetime"):
        return "M"
    return "O"


# ---- strict rendering ----


def _literal(value: Any, where: str) -> str:
    def check(v: Any, path: str) -> None:
        if v is None or isinstance(v, (str, bool, int)):
            return
        if isinstance(v, float):
            if not math.isfinite(v):
                raise Azml2aksError(f"template value {path} is {v}, which has no JSON form")
            return
        if isinstance(v, (list, tuple)):
            for i, item in enumerate(v):
                check(item, f"{path}[{i}]")
            return
        if isinstance(v, dict):
            for key, item in v.items():
                if not isinstance(key, str):
                    raise Azml2aksError(f"template value {path} has a non-string key {key!r}")
                check(item, f"{path}[{key!r}]")
            return
        raise Azml2aksError(f"template value {path} is a {type(v).__name__}, not plain data")

    check(value, where)
    return repr(value)


def render(template: str, values: Mapping[str, Any], *, name: str = "template") -> str:
    """Replace each ``{{ key }}`` by the literal of ``values[key]``; strict both ways."""
    used = set(_PLACEHOLDER.findall(template))
    missing = sorted(used - set(values))
    if missing:
        raise Azml2aksError(f"{name} uses {{{{ {missing[0]} }}}} but no value was given for it")
    unused = sorted(set(values) - used)
    if unused:
        raise Azml2aksError(f"{name} has no {{{{ {unused[0]} }}}} placeholder for the value given")
    rest = _PLACEHOLDER.sub("", template)
    if "{{" in rest:
        raise Azml2aksError(f"{name} has a malformed placeholder near {rest[rest.find('{{'):][:40]!r}")
    return _PLACEHOLDER.sub(lambda m: _literal(values[m.group(1)], m.group(1)), template)


def _template(package: str, filename: str) -> str:
    return resources.files(package).joinpath(filename).read_text(encoding="utf-8")


def render_score_py(
    *,
    task: str,
    columns: Sequence[Column],
    model_ref: str,
    sample_records: list[dict[str, Any]],
    loader: str = "sklearn",
    max_body_bytes: int = 10 * 1024 * 1024,
    default_method: str = "predict",
    time_column: str | None = None,
    series_columns: Sequence[str] = (),
    forecast_horizon: int | None = None,
    frequency: str | None = None,
) -> str:
    """The score.py for one model: header + shared runtime + the task's part."""
    if task not in TASK_TEMPLATES:
        raise DataError(f"task {task!r} has no score.py template; known: {', '.join(TASK_TEMPLATES)}")
    if loader not in ("sklearn", "pyfunc"):
        raise Azml2aksError(f"loader must be 'sklearn' or 'pyfunc', not {loader!r}")
    if not columns:
        raise DataError(f"model {model_ref} has no input columns to validate requests against")
    values: dict[str, Any] = {
        "model_ref": model_ref,
        "task": task,
        "loader": loader,
        "columns": [(c.name, c.type, c.required) for c in columns],
        "max_body_bytes": int(max_body_bytes),
        "default_method": default_method,
        "sample_records": sample_records,
    }
    parts = [("header.py.tmpl", values), ("runtime.py.tmpl", {})]
    if task == "forecasting":
        names = {c.name for c in columns}
        for col in [time_column, *series_columns]:
            if col not in names:
                raise DataError(
                    f"forecasting column {col!r} is not an input of model {model_ref}; "
                    f"its signature has: {sorted(names)}",
                    hint="check automl.forecasting.time_column_name / time_series_id_column_names",
                )
        forecasting = {
            "time_column": time_column,
            "series_columns": list(series_columns),
            "forecast_horizon": forecast_horizon,
            "frequency": frequency,
        }
        parts.append((TASK_TEMPLATES[task], forecasting))
    else:
        parts.append((TASK_TEMPLATES[task], {}))
    text = "".join(render(_template(SCORING_PACKAGE, f), v, name=f) for f, v in parts)
    try:
        compile(text, "score.py", "exec")
    except SyntaxError as e:  # a template bug, never the user's
        raise Azml2aksError(f"rendered score.py does not compile: {e}") from e
    return text


# ---- sample request and swagger ----

_SYNTHETIC = {
    "double": 0.0, "float": 0.0, "long": 0, "integer": 0, "string": "a",
    "boolean": False, "datetime": "2024-01-01T00:00:00", "binary": "",
}
_JSON_TYPES = {
    "double": {"type": "number", "format": "double"},
    "float": {"type": "number", "format": "float"},
    "long": {"type": "integer", "format": "int64"},
    "integer": {"type": "integer", "format": "int32"},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "binary": {"type": "string", "format": "byte"},
}


def sample_records(
    columns: Sequence[Column], example: Sequence[Mapping[str, Any]] | None = None, n: int = 3
) -> list[dict[str, Any]]:
    """``n`` sample rows: the model's input example (NaN -> null) or values made from types."""
    if example:
        rows = [dict(r) for r in list(example)[:n]]
        for row in rows:
            for key, value in row.items():
                if isinstance(value, float) and not math.isfinite(value):
                    row[key] = None
        names = [c.name for c in columns]
        return [{name: row.get(name) for name in names} for row in rows]
    return [{c.name: _SYNTHETIC[c.type] for c in columns} for _ in range(n)]


def sample_request(records: list[dict[str, Any]], method: str = "predict") -> dict[str, Any]:
    """The AutoML-format request body used in swagger and sample-request.json."""
    return {"Inputs": {"data": records}, "GlobalParameters": {"method": method}}


def _schemas(columns: Sequence[Column], records: list[dict], method: str, task: str) -> tuple[dict, dict]:
    record = {
        "type": "object",
        "required": [c.name for c in columns if c.required],
        "properties": {c.name: dict(_JSON_TYPES[c.type]) for c in columns},
    }
    methods = ["predict", "predict_proba"] if task == "classification" else ["predict"]
    service_input = {
        "type": "object",
        "description": "AutoML format; {\"input_data\": {\"columns\", \"data\"}} and a plain list "
        "of records are accepted too.",
        "properties": {
            "Inputs": {"type": "object", "properties": {"data": {"type": "array", "items": record}}},
            "GlobalParameters": {
                "type": "object",
                "properties": {"method": {"type": "string", "enum": methods}},
            },
        },
        "example": sample_request(records, method),
    }
    service_output = {
        "type": "object",
        "properties": {
            "Results": {"type": "array", "items": {}},
            "classes": {"type": "array", "items": {}},
        },
    }
    return service_input, service_output


def _paths(body_ref: dict, out_ref: dict, err_ref: dict, v3: bool) -> dict:
    def answer(description: str, ref: dict) -> dict:
        if v3:
            return {"description": description, "content": {"application/json": {"schema": ref}}}
        return {"description": description, "schema": ref}

    score = {
        "operationId": "RunMLService",
        "description": "Score rows with the model.",
        "security": [{"Bearer": []}],
        "responses": {
            "200": answer("Predictions, one per row, in request order.", out_ref),
            "400": answer("The body does not fit the model's signature (names column and row).", err_ref),
            "413": answer("The body is larger than scoring.max_body_bytes.", err_ref),
        },
    }
    if v3:
        score["requestBody"] = {"content": {"application/json": {"schema": body_ref}}}
    else:
        score["parameters"] = [{"name": "serviceInputPayload", "in": "body", "schema": body_ref}]
    health = {"operationId": "ServiceHealthCheck", "responses": {"200": {"description": "Healthy"}}}
    return {"/": {"get": health}, "/score": {"post": score}}


def swagger2(
    *, title: str, columns: Sequence[Column], records: list[dict], task: str, method: str = "predict"
) -> dict:
    """Swagger 2.0 document; the inference server serves it from swagger2.json next to score.py."""
    service_input, service_output = _schemas(columns, records, method, task)
    return {
        "swagger": "2.0",
        "info": {"title": title, "description": f"Azure ML online endpoint scoring {title}", "version": "1.0"},
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {"Bearer": {"type": "apiKey", "name": "Authorization", "in": "header"}},
        "paths": _paths(
            {"$ref": "#/definitions/ServiceInput"},
            {"$ref": "#/definitions/ServiceOutput"},
            {"$ref": "#/definitions/ErrorResponse"},
            v3=False,
        ),
        "definitions": {
            "ServiceInput": service_input,
            "ServiceOutput": service_output,
            "ErrorResponse": _ERROR,
        },
    }


def swagger3(
    *, title: str, columns: Sequence[Column], records: list[dict], task: str, method: str = "predict"
) -> dict:
    """OpenAPI 3.0 document; the inference server serves it from swagger3.json next to score.py."""
    service_input, service_output = _schemas(columns, records, method, task)
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "description": f"Azure ML online endpoint scoring {title}", "version": "1.0"},
        "security": [{"Bearer": []}],
        "paths": _paths(
            {"$ref": "#/components/schemas/ServiceInput"},
            {"$ref": "#/components/schemas/ServiceOutput"},
            {"$ref": "#/components/schemas/ErrorResponse"},
            v3=True,
        ),
        "components": {
            "securitySchemes": {"Bearer": {"type": "apiKey", "name": "Authorization", "in": "header"}},
            "schemas": {
                "ServiceInput": service_input,
                "ServiceOutput": service_output,
                "ErrorResponse": _ERROR,
            },
        },
    }


_ERROR = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "column": {"type": "string"}, "row": {"type": "integer"}},
        },
    },
}
