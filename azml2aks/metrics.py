"""Azure AutoML vocabulary: primary metrics per task (with direction) and algorithm names.

Pure data and tiny helpers; imports nothing heavy so ``validate`` stays fast. The functions
that compute a metric on predictions live in :mod:`azml2aks.scorers` (numpy, lazily).
"""

from __future__ import annotations

import difflib

CLASSIFICATION_METRICS = (
    "accuracy",
    "AUC_weighted",
    "average_precision_score_weighted",
    "norm_macro_recall",
    "precision_score_weighted",
)
REGRESSION_METRICS = (
    "normalized_root_mean_squared_error",
    "r2_score",
    "spearman_correlation",
    "normalized_mean_absolute_error",
)

PRIMARY_METRICS: dict[str, tuple[str, ...]] = {
    "classification": CLASSIFICATION_METRICS,
    "regression": REGRESSION_METRICS,
    "forecasting": REGRESSION_METRICS,
}

DEFAULT_METRIC = {
    "classification": "accuracy",
    "regression": "normalized_root_mean_squared_error",
    "forecasting": "normalized_root_mean_squared_error",
}

#: Metrics where smaller is better; every other one is maximised.
MINIMISED = frozenset({"normalized_root_mean_squared_error", "normalized_mean_absolute_error"})

_COMMON = ("DecisionTree", "KNN", "RandomForest", "ExtremeRandomTrees", "LightGBM", "GradientBoosting", "SGD")
ALGORITHMS: dict[str, tuple[str, ...]] = {
    "classification": _COMMON
    + (
        "LogisticRegression",
        "MultinomialNaiveBayes",
        "BernoulliNaiveBayes",
        "SVM",
        "LinearSVM",
        "XGBoostClassifier",
    ),
    "regression": _COMMON + ("ElasticNet", "LassoLars", "XGBoostRegressor"),
    "forecasting": _COMMON
    + (
        "ElasticNet",
        "LassoLars",
        "XGBoostRegressor",
        "AutoArima",
        "Prophet",
        "Naive",
        "SeasonalNaive",
        "Average",
        "SeasonalAverage",
        "ExponentialSmoothing",
        "Arimax",
        "TCNForecaster",
    ),
}


def higher_is_better(metric: str) -> bool:
    return metric not in MINIMISED


def is_better(candidate: float, incumbent: float | None, metric: str) -> bool:
    """True when ``candidate`` strictly beats ``incumbent`` on ``metric``."""
    if incumbent is None:
        return True
    return candidate > incumbent if higher_is_better(metric) else candidate < incumbent


def meets(value: float, threshold: float, metric: str) -> bool:
    """True when ``value`` is at least as good as ``threshold``."""
    return value >= threshold if higher_is_better(metric) else value <= threshold


def closest(word: str, choices) -> str | None:
    """The closest spelling among ``choices`` (case-insensitive), or None."""
    lowered = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None
