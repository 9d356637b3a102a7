"""The generated score.py, imported in-process: every request format, every bad input.

score_bytes() is the whole request path minus HTTP; run() adds only body reading (tested
over HTTP in test_served_package.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import load_score_module


@pytest.fixture(scope="module")
def rows(wine_frame):
    X, _ = wine_frame
    return json.loads(X.head(4).to_json(orient="records"))


def mlflow_body(rows, **extra):
    columns = list(rows[0])
    return {"input_data": {"columns": columns, "index": list(range(len(rows))),
                           "data": [[r[c] for c in columns] for r in rows]}, **extra}


def automl_body(rows, method="predict"):
    return {"Inputs": {"data": rows}, "GlobalParameters": {"method": method}}


def score(module, body, method=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return module.score_bytes(raw, method)


@pytest.fixture(scope="module")
def expected(wine_model_dir, rows):
    import mlflow.sklearn
    import pandas as pd

    model = mlflow.sklearn.load_model(str(wine_model_dir))
    frame = pd.DataFrame(rows)
    return model.predict(frame).tolist(), model.predict_proba(frame).tolist()


def test_the_three_request_formats_give_the_in_process_predictions(wine_score, rows, expected):
    labels, _ = expected
    assert score(wine_score, mlflow_body(rows)) == (200, {"predictions": labels}, {})
    assert score(wine_score, automl_body(rows)) == (200, {"Results": labels}, {})
    assert score(wine_score, rows) == (200, {"predictions": labels}, {})
    assert score(wine_score, {"dataframe_records": rows})[1] == {"predictions": labels}


def test_predict_proba_answers_probabilities_with_their_class_order(wine_score, rows, expected):
    _, proba = expected
    status, payload, _ = score(wine_score, automl_body(rows, "predict_proba"))
    assert status == 200
    assert np.allclose(payload["Results"], proba)
    assert payload["classes"] == ["class_0", "class_1", "class_2"]
    assert score(wine_score, mlflow_body(rows, params={"method": "predict_proba"}))[1]["classes"]
    assert "classes" in score(wine_score, rows, method="predict_proba")[1]


def test_extra_columns_are_dropped_and_named_in_a_response_header(wine_score, rows, expected):
    sent = [{**r, "customer_id": 7, "note": "x"} for r in rows]
    status, payload, headers = score(wine_score, automl_body(sent))
    assert status == 200 and payload["Results"] == expected[0]
    assert json.loads(headers["x-azml2aks-dropped-columns"]) == ["customer_id", "note"]


def test_integers_are_accepted_for_double_columns(wine_score, rows):
    sent = [{**r, "magnesium": int(r["magnesium"])} for r in rows]
    assert score(wine_score, sent)[0] == 200


def test_optional_columns_take_null_and_required_ones_refuse_it_naming_column_and_row(wine_score, rows):
    assert score(wine_score, [{**r, "ash": None} for r in rows])[0] == 200
    for body in (
        [rows[0], {**rows[1], "hue": None}],
        mlflow_body([rows[0], {**rows[1], "hue": None}]),
        automl_body([rows[0], {k: v for k, v in rows[1].items() if k != "hue"}, *rows[2:]]),
    ):
        status, payload, _ = score(wine_score, body)
        assert status == 400, payload
        assert payload["error"] == {"code": "MissingValue", "column": "hue", "row": 1}
        assert "'hue' row 1" in payload["message"]


def test_nan_sent_as_a_bare_json_token_is_a_missing_value(wine_score, rows):
    raw = json.dumps([rows[0], {**rows[1], "proline": float("nan")}]).encode()
    assert b"NaN" in raw
    status, payload, _ = score(wine_score, raw)
    assert (status, payload["error"]["column"], payload["error"]["row"]) == (400, "proline", 1)


@pytest.mark.parametrize("fmt", ["mlflow", "automl", "records"])
def test_a_missing_column_is_a_400_naming_it_in_every_format(wine_score, rows, fmt):
    sent = [{k: v for k, v in r.items() if k != "proline"} for r in rows]
    body = {"mlflow": mlflow_body, "automl": automl_body, "records": lambda r: r}[fmt](sent)
    status, payload, _ = score(wine_score, body)
    assert status == 400
    assert payload["error"]["code"] == "MissingColumn" and payload["error"]["column"] == "proline"


@pytest.mark.parametrize("fmt", ["mlflow", "automl", "records"])
@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [("alcohol", "strong", '"strong" is not a number'),
     ("alcohol", True, "true is not a number"),
     ("alcohol", [1.0], "[1.0] is not a number"),
     ("color", 3, "3 is not a string")],
)
def test_a_wrong_type_is_a_400_naming_column_row_and_value(wine_score, rows, fmt, column, value, fragment):
    sent = [rows[0], rows[1], {**rows[2], column: value}]
    body = {"mlflow": mlflow_body, "automl": automl_body, "records": lambda r: r}[fmt](sent)
    status, payload, _ = score(wine_score, body)
    assert status == 400, payload
    assert payload["error"] == {"code": "WrongType", "column": column, "row": 2}
    assert fragment in payload["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"", "EmptyBody"), (b"   ", "EmptyBody"), (b"{not json", "InvalidJson"), (b"\xff\xfe", "InvalidJson"),
     (b'"just a string"', "BadFormat"), (b'{"rows": []}', "BadFormat"), (b"[]", "EmptyData"),
     (b'{"Inputs": {"data": []}}', "EmptyData"), (b'{"input_data": {"columns": ["a"], "data": []}}', "EmptyData"),
     (b'{"Inputs": [1, 2]}', "BadFormat"), (b"[1, 2]", "BadFormat"),
     (b'{"input_data": {"columns": ["a", "a"], "data": [[1, 2]]}}', "DuplicateColumn"),
     (b'{"input_data": {"columns": ["a", "b"], "data": [[1, 2], [3]]}}', "BadFormat"),
     (b'{"input_data": {"columns": "a", "data": [[1]]}}', "BadFormat"),
     (b'{"Inputs": {"data": [{}]}, "GlobalParameters": "predict"}', "BadFormat")],
)
def test_malformed_bodies_are_400s_with_a_code(wine_score, body, code):
    status, payload, _ = score(wine_score, body)
    assert status == 400 and payload["error"]["code"] == code, payload


def test_a_wrong_method_is_a_400_listing_the_allowed_ones(wine_score, rows):
    status, payload, _ = score(wine_score, automl_body(rows, "predict_log_proba"))
    assert status == 400 and payload["error"]["code"] == "BadMethod"
    assert "predict_proba" in payload["message"]
    assert score(wine_score, automl_body(rows, 5))[1]["error"]["code"] == "BadMethod"


def test_a_body_over_the_limit_is_a_413(wine_score):
    status, payload, _ = score(wine_score, b"[" + b" " * wine_score.MAX_BODY_BYTES + b"]")
    assert status == 413 and payload["error"]["code"] == "BodyTooLarge"


def test_a_regression_model_answers_predict_and_refuses_predict_proba(diabetes_model_dir, tmp_path, monkeypatch):
    module = load_score_module(diabetes_model_dir, tmp_path, monkeypatch, task="regression")
    rows = module.SAMPLE_RECORDS
    status, payload, _ = score(module, automl_body(rows))
    assert status == 200 and all(isinstance(v, float) for v in payload["Results"])
    status, payload, _ = score(module, automl_body(rows, "predict_proba"))
    assert status == 400 and "regression" in payload["message"]


def test_init_fails_loudly_when_no_model_is_under_the_model_dir(wine_model_dir, tmp_path, monkeypatch):
    module = load_score_module(wine_model_dir, tmp_path, monkeypatch)
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError, match="no MLflow model"):
        module.init()


def test_init_finds_the_model_folder_below_the_model_dir_as_azure_mounts_it(wine_model_dir, tmp_path, monkeypatch):
    module = load_score_module(wine_model_dir, tmp_path, monkeypatch)
    assert module.find_model_dir(str(wine_model_dir.parent)) == str(wine_model_dir)
