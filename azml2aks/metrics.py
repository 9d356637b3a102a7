"""Azure AutoML vocabulary: primary metrics per task (with direction) and algorithm names.

Pure data and tiny helpers; imports nothing heavy so ``validate`` stays fast. The functions
that compute a metric on predictions live in :mod:`azml2aks.scorers` (numpy, lazily).
"""

from __future__ import annotations

import difflib
import re

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


def snake_case(name: str) -> str:
    """The azure-ai-ml YAML spelling of an enum value: ``XGBoostRegressor`` -> ``xg_boost_regressor``.

    The same two substitutions as the SDK's ``camel_to_snake``; its YAML schema compares
    ``snake_case(given)`` with ``snake_case(allowed)``, so ``LightGBM``, ``light_gbm`` and
    ``LIGHT_GBM`` are one name.
    """
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def canonical(name: str, choices) -> str | None:
    """The enum value in ``choices`` that ``name`` spells (SDK snake_case or any case), or None."""
    if not isinstance(name, str):
        return None
    for choice in choices:
        if snake_case(name) == snake_case(choice) or name.lower() == choice.lower():
            return choice
    return None


def canonical_algorithm(name: str, task: str) -> str | None:
    """The Azure algorithm name (``LightGBM``) that ``name`` spells for ``task``, or None."""
    return canonical(name, ALGORITHMS[task])


def algorithm_task(name: str) -> str | None:
    """The first task that knows ``name`` (for 'it is a classification algorithm' hints)."""
    return next((task for task in ALGORITHMS if canonical_algorithm(name, task)), None)
