"""Forecasting on the local backend: train on calendar features, register, package with the
horizon-aware score.py and pass its contract test."""

from __future__ import annotations

import pytest

from azml2aks.pipeline import load_pipeline

pytestmark = pytest.mark.e2e

PIPELINE = """
automl:
  experiment_name: sales-forecast
  task: forecasting
  target_column_name: sales
  primary_metric: normalized_root_mean_squared_error
  training_data: data/sales.csv
  forecasting:
    time_column_name: date
    time_series_id_column_names: [store]
    forecast_horizon: 7
    frequency: D
  limits: {max_trials: 3, timeout_minutes: 1}
  training:
    allowed_training_algorithms: [RandomForest]
model:
  name: sales-forecaster
"""


def write_sales(folder):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = [{"date": day.strftime("%Y-%m-%d"), "store": store, "promo": int(rng.integers(0, 2)),
             "sales": 100 + 10 * np.sin(i / 7 * 2 * np.pi) + (20 if store == "a" else 0) + rng.standard_normal()}
            for store in ("a", "b") for i, day in enumerate(pd.date_range("2024-01-01", periods=200, freq="D"))]
    (folder / "data").mkdir()
    pd.DataFrame(rows).to_csv(folder / "data" / "sales.csv", index=False)


def test_forecasting_trains_registers_and_packages_with_a_passing_contract(tmp_path):
    write_sales(tmp_path)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    p = load_pipeline(tmp_path / "pipeline.yaml")
    job = p.train()
    assert job.task == "forecasting" and job.best_algorithm == "RandomForest"
    assert job.best_metric_value < 0.25  # normalised RMSE of a weekly pattern learnt from calendar features
    model = p.register(job)
    package = p.package(model)
    assert package.contract["passed"] is True
    assert "missing column 'date' answered 400" in package.contract["checks"]
