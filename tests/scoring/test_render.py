"""scoring.py: strict rendering, columns, samples and swagger — pure, no model needed."""

from __future__ import annotations

import pytest

from azml2aks.errors import Azml2aksError, DataError
from azml2aks.packaging import render as scoring

COLS = [scoring.Column("x", "double"), scoring.Column("kind", "string", required=False)]


def test_render_fills_placeholders_with_python_literals():
    assert scoring.render("A = {{ a }}\nB = {{b}}\n", {"a": "it's", "b": [1, None]}) == 'A = "it\'s"\nB = [1, None]\n'


def test_render_fails_loudly_on_a_placeholder_without_a_value():
    with pytest.raises(Azml2aksError, match="no value was given"):
        scoring.render("A = {{ a }}", {})


def test_render_fails_loudly_on_a_value_without_a_placeholder():
    with pytest.raises(Azml2aksError, match="no {{ b }} placeholder"):
        scoring.render("A = {{ a }}", {"a": 1, "b": 2})


def test_render_refuses_malformed_placeholders_and_non_plain_values():
    with pytest.raises(Azml2aksError, match="malformed"):
        scoring.render("A = {{ a }} {{ 9x }}", {"a": 1})
    with pytest.raises(Azml2aksError, match="not plain data"):
        scoring.render("A = {{ a }}", {"a": object()})
    with pytest.raises(Azml2aksError, match="no JSON form"):
        scoring.render("A = {{ a }}", {"a": float("nan")})


def test_rendered_score_py_compiles_for_every_task_and_embeds_the_columns():
    for task in ("classification", "regression"):
        text = scoring.render_score_py(task=task, columns=COLS, model_ref="m:3",
                                       sample_records=scoring.sample_records(COLS))
        compile(text, "score.py", "exec")
        assert "COLUMNS = [('x', 'double', True), ('kind', 'string', False)]" in text
        assert "@rawhttp" in text and "{{" not in text
    text = scoring.render_score_py(
        task="forecasting", columns=[*COLS, scoring.Column("t", "datetime")], model_ref="m:3",
        sample_records=[], time_column="t", series_columns=["kind"], forecast_horizon=5, frequency="D")
    assert "FORECAST_HORIZON = 5" in text and "TIME_COLUMN = 't'" in text


def test_column_names_with_quotes_cannot_break_out_of_the_literal():
    cols = [scoring.Column("a'\"); import os #", "double")]
    text = scoring.render_score_py(task="regression", columns=cols, model_ref="m:1", sample_records=[])
    namespace: dict = {}
    settings = text[text.index("MODEL_REF =") : text.index("# ---- request parsing")]
    exec(compile(settings, "settings", "exec"), namespace)
    assert namespace["COLUMNS"][0][0] == "a'\"); import os #"


def test_forecasting_columns_must_be_model_inputs():
    with pytest.raises(DataError, match="time_column_name"):
        scoring.render_score_py(task="forecasting", columns=COLS, model_ref="m:1", sample_records=[],
                                time_column="when", forecast_horizon=3)


def test_unknown_task_and_empty_signature_are_refused():
    with pytest.raises(DataError, match="no score.py template"):
        scoring.render_score_py(task="ranking", columns=COLS, model_ref="m:1", sample_records=[])
    with pytest.raises(DataError, match="no input columns"):
        scoring.render_score_py(task="regression", columns=[], model_ref="m:1", sample_records=[])


def test_signature_columns_keep_type_and_required_and_tensor_signatures_are_refused():
    cols = scoring.columns_from_signature([{"type": "long", "name": "n", "required": False}])
    assert cols == [scoring.Column("n", "long", False)]
    with pytest.raises(DataError, match="tabular"):
        scoring.columns_from_signature([{"type": "tensor", "tensor-spec": {"dtype": "float32"}}])


def test_columns_from_an_input_example_map_dtypes_to_mlflow_types():
    cols = scoring.columns_from_example(["a", "b", "c", "d"], ["float64", "int64", "bool", "object"])
    assert [c.type for c in cols] == ["double", "long", "boolean", "string"]


def test_sample_records_come_from_the_example_with_nan_as_null_else_from_types():
    example = [{"x": float("nan"), "kind": "k", "extra": 1}] * 5
    assert scoring.sample_records(COLS, example, n=2) == [{"x": None, "kind": "k"}] * 2
    assert scoring.sample_records(COLS, None, n=1) == [{"x": 0.0, "kind": "a"}]


def test_swagger_documents_carry_the_sample_and_the_column_types():
    records = scoring.sample_records(COLS)
    s2 = scoring.swagger2(title="wine 1", columns=COLS, records=records, task="classification")
    s3 = scoring.swagger3(title="wine 1", columns=COLS, records=records, task="classification")
    assert s2["swagger"] == "2.0" and s3["openapi"].startswith("3.0")
    inp2 = s2["definitions"]["ServiceInput"]
    assert inp2["example"] == scoring.sample_request(records)
    record = inp2["properties"]["Inputs"]["properties"]["data"]["items"]
    assert record["properties"]["x"] == {"type": "number", "format": "double"}
    assert record["required"] == ["x"]
    assert s3["components"]["schemas"]["ServiceInput"] == inp2
    assert "predict_proba" in inp2["properties"]["GlobalParameters"]["properties"]["method"]["enum"]
