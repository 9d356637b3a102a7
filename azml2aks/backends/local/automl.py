"""Local AutoML with FLAML: Azure's task, metric and algorithm names mapped to FLAML's.

``plan_search`` is pure (settings -> FLAML arguments + warnings); ``search`` runs FLAML and
reports each trial as it finishes (FLAML writes one JSON line per trial to its log file; a
small thread follows it). The best estimator comes back wrapped as a
:class:`~azml2aks.backends.local.servable.TabularModel`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azml2aks import metrics as M
from azml2aks.backends.local.tail import JsonLinesTail
from azml2aks.config import AutoMLSettings, LocalSettings

logger = logging.getLogger(__name__)

#: Azure AutoML algorithm name -> FLAML estimator name, per task family.
CLASSIFIERS = {
    "LightGBM": "lgbm",
    "XGBoostClassifier": "xgboost",
    "RandomForest": "rf",
    "ExtremeRandomTrees": "extra_tree",
    "LogisticRegression": "lrl2",
    "KNN": "kneighbor",
    "SGD": "sgd",
    "LinearSVM": "svc",
    "SVM": "svc",
    "GradientBoosting": "histgb",
}
REGRESSORS = {
    "LightGBM": "lgbm",
    "XGBoostRegressor": "xgboost",
    "RandomForest": "rf",
    "ExtremeRandomTrees": "extra_tree",
    "ElasticNet": "enet",
    "LassoLars": "lassolars",
    "KNN": "kneighbor",
    "SGD": "sgd",
    "GradientBoosting": "histgb",
}
DEFAULTS = {
    "classification": ["LightGBM", "RandomForest", "ExtremeRandomTrees", "XGBoostClassifier", "LogisticRegression"],
    "regression": ["LightGBM", "RandomForest", "ExtremeRandomTrees", "XGBoostRegressor", "ElasticNet"],
}
#: FLAML estimator -> the Azure name shown to users.
AZURE_NAME = {**{v: k for k, v in REGRESSORS.items()}, **{v: k for k, v in CLASSIFIERS.items()}}
AZURE_NAME.update({"xgboost": "XGBoost", "svc": "LinearSVM"})
NEEDS_PROBA = {"AUC_weighted", "average_precision_score_weighted"}
NO_PROBA = {"svc"}


@dataclass
class SearchPlan:
    """FLAML arguments derived from the AutoML settings, plus what could not be honoured."""

    flaml_task: str
    estimators: list[str]
    time_budget: float
    max_iter: int
    eval: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def plan_search(settings: AutoMLSettings, local: LocalSettings, *, has_validation_data: bool) -> SearchPlan:
    """Map Azure AutoML settings to FLAML's arguments (pure)."""
    task = settings.task
    family = "classification" if task == "classification" else "regression"
    table = CLASSIFIERS if family == "classification" else REGRESSORS
    warnings: list[str] = []
    blocked = set(settings.training.blocked_training_algorithms or [])
    allowed = settings.training.allowed_training_algorithms
    if not allowed:  # the defaults, or (when they are all blocked) every other local algorithm
        allowed = [a for a in DEFAULTS[family] if a not in blocked] or [a for a in table if a not in blocked]
    estimators: list[str] = []
    for name in allowed:
        if name in blocked:
            continue
        flaml_name = table.get(name)
        if flaml_name is None:
            warnings.append(f"algorithm {name!r} has no local (FLAML) equivalent and is skipped; "
                            f"the local backend supports {', '.join(sorted(table))}")
        elif settings.primary_metric in NEEDS_PROBA and flaml_name in NO_PROBA:
            warnings.append(f"algorithm {name!r} gives no probabilities, which {settings.primary_metric} needs; skipped")
        elif flaml_name not in estimators:
            estimators.append(flaml_name)
    if not estimators:
        raise ValueError("no algorithm is left to try after allowed/blocked_training_algorithms; "
                         f"the local backend supports {', '.join(sorted(table))}")
    if local.time_budget_seconds:
        budget = local.time_budget_seconds
    elif settings.limits.timeout_minutes:
        budget = settings.limits.timeout_minutes * 60
    else:
        budget = 60.0
    azure_only = settings.azure_only_settings() + [
        name for name, value in (("limits.exit_score", settings.limits.exit_score),
                                 ("limits.trial_timeout_minutes", settings.limits.trial_timeout_minutes))
        if value is not None]
    if azure_only:
        warnings.append(f"the local backend does not honour {', '.join(azure_only)} (Azure AutoML does)")
    if settings.training.enable_stack_ensemble or settings.training.enable_vote_ensemble:
        warnings.append("ensembles are built on Azure only; the local backend keeps the best single model")
    eval_args: dict[str, Any] = {}
    if has_validation_data:
        eval_args["eval_method"] = "holdout"
    elif isinstance(settings.n_cross_validations, int):
        eval_args.update(eval_method="cv", n_splits=settings.n_cross_validations)
    elif settings.validation_data_size:
        eval_args.update(eval_method="holdout", split_ratio=settings.validation_data_size)
    else:
        eval_args["eval_method"] = "auto"
    if task == "forecasting":
        eval_args.update(eval_method="holdout", split_type="time", split_ratio=settings.validation_data_size or 0.2)
    return SearchPlan(
        flaml_task=family,
        estimators=estimators,
        time_budget=float(budget),
        # FLAML's max_iter=1 fits its starting point without evaluating it; 2 evaluates one trial
        max_iter=max(2, settings.limits.max_trials),
        eval=eval_args,
        warnings=warnings,
    )


def loss_to_metric(loss: float, metric: str) -> float:
    """FLAML minimises a loss; maximised Azure metrics are stored as ``1 - value``."""
    return 1.0 - loss if M.higher_is_better(metric) else loss


def make_flaml_metric(metric: str, labels_count: int) -> Callable:
    """A FLAML custom metric computing Azure's ``metric`` on the validation fold."""
    from azml2aks.scorers import compute

    def flaml_metric(X_val, y_val, estimator, labels, X_train, y_train, *args, **kwargs):
        y_pred = estimator.predict(X_val)
        proba = estimator.predict_proba(X_val) if metric in NEEDS_PROBA else None
        value = compute(metric, y_val, y_pred, y_proba=proba, labels=list(range(labels_count)) if labels_count else None)
        loss = 1.0 - value if M.higher_is_better(metric) else value
        return loss, {metric: value}

    return flaml_metric


def follow_trials(log_file: Path, stop: threading.Event, on_trial: Callable[[dict], None]) -> threading.Thread:
    """Call ``on_trial`` for each trial record FLAML appends to ``log_file``."""

    def run() -> None:
        tail = JsonLinesTail(log_file)
        while True:
            done = stop.is_set()
            for record in tail.read_new():
                if "record_id" in record and "learner" in record:
                    on_trial(record)
            if done:
                return
            stop.wait(0.1)

    thread = threading.Thread(target=run, name="azml2aks-trials", daemon=True)
    thread.start()
    return thread


@dataclass
class SearchOutcome:
    model: Any
    best_estimator: str
    trials: list[dict]
    best_record_id: int | None


def search(X, y, *, plan: SearchPlan, metric: str, seed: int, n_jobs: int, log_file: Path,
           classes_count: int, X_val=None, y_val=None, on_trial: Callable[[dict], None]) -> SearchOutcome:
    """Run FLAML over numeric matrices ``X``/``y``; trials are reported as they finish."""
    from flaml import AutoML

    for name in ("flaml", "flaml.automl", "flaml.tune"):  # FLAML's own INFO chatter; trials are our events
        logging.getLogger(name).setLevel(logging.WARNING)
    automl = AutoML()
    trials: list[dict] = []

    def collect(record: dict) -> None:
        trials.append(record)
        on_trial(record)

    stop = threading.Event()
    follower = follow_trials(log_file, stop, collect)
    kwargs: dict[str, Any] = dict(plan.eval)
    if X_val is not None:
        kwargs.update(X_val=X_val, y_val=y_val)
    try:
        automl.fit(
            X, y,
            task=plan.flaml_task,
            metric=make_flaml_metric(metric, classes_count),
            estimator_list=plan.estimators,
            time_budget=plan.time_budget,
            max_iter=plan.max_iter,
            seed=seed,
            n_jobs=n_jobs,
            log_file_name=str(log_file),
            log_type="all",
            verbose=0,
            mlflow_logging=False,
            # FLAML's default picks the next learner by measured cost, which varies with machine
            # load; round robin keeps a seeded run repeatable trial for trial
            learner_selector="roundrobin",
            retrain_full=True,
            **kwargs,
        )
    finally:
        stop.set()
        follower.join()
    if automl.model is None:
        raise RuntimeError("FLAML finished without a model; raise limits.timeout_minutes or local.time_budget_seconds")
    best = min(trials, key=lambda t: t["validation_loss"]) if trials else None
    return SearchOutcome(
        model=automl.model.estimator,
        best_estimator=automl.best_estimator,
        trials=trials,
        best_record_id=best["record_id"] if best else None,
    )
