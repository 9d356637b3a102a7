"""Azure metric names computed on predictions (used by the online metric gate and training)."""

from __future__ import annotations

import math

import pytest

from azml2aks import metrics as M
from azml2aks.scorers import compute


@pytest.mark.parametrize("name", M.CLASSIFICATION_METRICS)
def test_every_classification_metric_is_perfect_on_perfect_predictions(name):
    y = [0, 1, 2, 1, 0, 2]
    assert compute(name, y, y) == pytest.approx(1.0)


@pytest.mark.parametrize("name,best", [("normalized_root_mean_squared_error", 0.0), ("r2_score", 1.0),
                                       ("spearman_correlation", 1.0), ("normalized_mean_absolute_error", 0.0)])
def test_every_regression_metric_is_best_on_perfect_predictions(name, best):
    y = [1.0, 2.0, 3.5, 4.0]
    assert compute(name, y, y) == pytest.approx(best)


def test_normalised_errors_divide_by_the_range_of_the_labels():
    assert compute("normalized_mean_absolute_error", [0, 10], [1, 9]) == pytest.approx(0.1)
    assert compute("normalized_root_mean_squared_error", [0, 10], [2, 10]) == pytest.approx(math.sqrt(2) / 10)


def test_binary_auc_uses_the_positive_class_probability():
    proba = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]
    assert compute("AUC_weighted", [0, 1, 1, 0], [0, 1, 0, 0], y_proba=proba) == 1.0


def test_norm_macro_recall_is_zero_at_chance():
    assert compute("norm_macro_recall", [0, 1, 0, 1], [0, 0, 0, 0]) == 0.0


def test_string_labels_work():
    assert compute("accuracy", ["a", "b"], ["a", "a"]) == 0.5


def test_unknown_metric_names_suggest_the_closest():
    with pytest.raises(ValueError, match="did you mean 'accuracy'"):
        compute("acuracy", [1], [1])
