"""The forecasting score.py: time column parsing and the forecast horizon, per series."""

from __future__ import annotations

import json

import pytest

from .conftest import load_score_module


@pytest.fixture(scope="module")
def forecaster(forecast_model_dir, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    try:
        yield load_score_module(forecast_model_dir, tmp_path_factory.mktemp("fc"), mp, task="forecasting",
                                time_column="date", series_columns=["store"], forecast_horizon=7, frequency="D")
    finally:
        mp.undo()


def rows(store, days, start=1):
    return [{"date": f"2024-03-{d:02d}T00:00:00", "store": store, "promo": float(d % 3)}
            for d in range(start, start + days)]


def score(module, records):
    return module.score_bytes(json.dumps({"Inputs": {"data": records}}).encode())


def test_a_full_horizon_for_each_series_is_scored_in_request_order(forecaster):
    status, payload, _ = score(forecaster, rows("north", 7) + rows("south", 7, start=10))
    assert status == 200 and len(payload["Results"]) == 14


def test_a_row_beyond_the_horizon_of_its_series_is_a_400_naming_row_and_series(forecaster):
    status, payload, _ = score(forecaster, rows("south", 3) + rows("north", 8))
    assert status == 400
    assert payload["error"] == {"code": "BeyondHorizon", "column": "date", "row": 10}
    assert "north" in payload["message"] and "at most 7 steps" in payload["message"]


def test_gaps_count_as_steps_when_the_frequency_is_known(forecaster):
    gap = rows("north", 1) + rows("north", 1, start=9)  # day 1 and day 9: step 9
    status, payload, _ = score(forecaster, gap)
    assert status == 400 and payload["error"]["row"] == 1


def test_the_same_time_twice_for_a_series_is_a_400(forecaster):
    status, payload, _ = score(forecaster, rows("north", 2) + rows("north", 1))
    assert status == 400 and payload["error"]["code"] == "DuplicateTime" and payload["error"]["row"] == 2


def test_an_unparseable_time_is_a_400_naming_the_row(forecaster):
    bad = rows("north", 3)
    bad[1]["date"] = "next tuesday"
    status, payload, _ = score(forecaster, bad)
    assert status == 400
    assert payload["error"] == {"code": "WrongType", "column": "date", "row": 1}


def test_forecasting_offers_predict_only(forecaster):
    body = {"Inputs": {"data": rows("north", 2)}, "GlobalParameters": {"method": "predict_proba"}}
    status, payload, _ = forecaster.score_bytes(json.dumps(body).encode())
    assert status == 400 and payload["error"]["code"] == "BadMethod"


def test_without_a_frequency_steps_are_distinct_timestamps_and_auto_turns_the_check_off(
        forecast_model_dir, tmp_path, monkeypatch):
    module = load_score_module(forecast_model_dir, tmp_path, monkeypatch, task="forecasting",
                               time_column="date", series_columns=["store"], forecast_horizon=2, frequency=None)
    assert score(module, rows("north", 1) + rows("north", 1, start=20))[0] == 200
    assert score(module, rows("north", 3))[0] == 400
    (tmp_path / "auto").mkdir()
    module = load_score_module(forecast_model_dir, tmp_path / "auto", monkeypatch, task="forecasting",
                               time_column="date", series_columns=["store"], forecast_horizon=None, frequency="D")
    assert score(module, rows("north", 20))[0] == 200
