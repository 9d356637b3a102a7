"""Azure AutoML primary metrics computed on predictions, by their Azure names.

One entry point, :func:`compute`, used by local training (to rank trials) and by the rollout
probes (the online primary metric on labelled hold-out rows). numpy and scikit-learn are
imported lazily so ``azml2aks --help`` stays fast.

Definitions follow Azure AutoML's documentation:

- ``accuracy``; ``precision_score_weighted``; ``AUC_weighted`` and
  ``average_precision_score_weighted`` (one-vs-rest, weighted by class support);
  ``norm_macro_recall`` = (macro recall - R) / (1 - R) with R = 1/n_classes, clipped at 0;
- ``normalized_root_mean_squared_error`` and ``normalized_mean_absolute_error`` divide by the
  range of ``y_true``; ``r2_score``; ``spearman_correlation``.

Without ``y_proba``, the probability metrics use the one-hot encoding of ``y_pred`` (a
degenerate but honest estimate: what the deployment answered).
"""

from __future__ import annotations

from typing import Any

from azml2aks import metrics as M

PROBABILITY_METRICS = frozenset({"AUC_weighted", "average_precision_score_weighted"})


def compute(metric_name: str, y_true: Any, y_pred: Any, y_proba: Any = None, labels: Any = None) -> float:
    """The value of Azure metric ``metric_name``.

    ``y_proba`` is an (n, k) array of class probabilities in the order of ``labels`` (default:
    the sorted union of classes in ``y_true`` and ``y_pred``). Raises ValueError for an
    unknown metric name or empty input.
    """
    import numpy as np

    if metric_name not in M.CLASSIFICATION_METRICS and metric_name not in M.REGRESSION_METRICS:
        near = M.closest(metric_name, M.CLASSIFICATION_METRICS + M.REGRESSION_METRICS)
        raise ValueError(f"unknown metric {metric_name!r}" + (f" (did you mean {near!r}?)" if near else ""))
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.size == 0:
        raise ValueError(f"cannot compute {metric_name} on no rows")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(f"{metric_name}: {y_true.shape[0]} labels but {y_pred.shape[0]} predictions")
    if metric_name in M.REGRESSION_METRICS:
        return _regression(metric_name, y_true.astype(float), y_pred.astype(float))
    return _classification(metric_name, y_true, y_pred, y_proba, labels)


def _regression(name: str, y_true, y_pred) -> float:
    import numpy as np

    if name == "r2_score":
        from sklearn.metrics import r2_score

        return float(r2_score(y_true, y_pred))
    if name == "spearman_correlation":
        from scipy.stats import spearmanr

        value = spearmanr(y_true, y_pred).statistic
        return float(0.0 if np.isnan(value) else value)
    spread = float(np.max(y_true) - np.min(y_true)) or 1.0
    if name == "normalized_root_mean_squared_error":
        return float(np.sqrt(np.mean((y_true - y_pred) ** 2)) / spread)
    return float(np.mean(np.abs(y_true - y_pred)) / spread)  # normalized_mean_absolute_error


def _classification(name: str, y_true, y_pred, y_proba, labels) -> float:
    import numpy as np
    from sklearn import metrics as skm

    if name == "accuracy":
        return float(skm.accuracy_score(y_true, y_pred))
    if name == "precision_score_weighted":
        return float(skm.precision_score(y_true, y_pred, average="weighted", zero_division=0))
    if name == "norm_macro_recall":
        classes = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.asarray(labels)
        recall = skm.recall_score(y_true, y_pred, average="macro", labels=classes, zero_division=0)
        chance = 1.0 / max(len(np.unique(y_true)), 2)
        return float(max(0.0, (recall - chance) / (1.0 - chance)))
    classes = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.asarray(labels)
    if y_proba is None:
        y_proba = (y_pred[:, None] == classes[None, :]).astype(float)
    y_proba = np.asarray(y_proba, dtype=float)
    onehot = (y_true[:, None] == classes[None, :]).astype(int)
    present = onehot.sum(axis=0) > 0
    if present.sum() < 2:
        return float("nan")  # one class only: AUC / AP are undefined
    if len(classes) == 2:  # binary: the positive class is the second label
        score = skm.roc_auc_score if name == "AUC_weighted" else skm.average_precision_score
        return float(score(onehot[:, 1], y_proba[:, 1]))
    onehot, y_proba = onehot[:, present], y_proba[:, present]
    if name == "AUC_weighted":
        return float(skm.roc_auc_score(onehot, y_proba, average="weighted"))
    return float(skm.average_precision_score(onehot, y_proba, average="weighted"))
