"""plan_search: Azure AutoML settings mapped to FLAML's arguments (pure, no training)."""

from __future__ import annotations

import pytest

from azml2aks.backends.local.automl import loss_to_metric, plan_search
from azml2aks.config import AutoMLSettings, LocalSettings


def settings(**kw) -> AutoMLSettings:
    return AutoMLSettings.model_validate({"task": "classification", "target_column_name": "y",
                                          "training_data": "x.csv", **kw})


def test_azure_algorithm_names_map_to_flaml_estimators_in_order():
    plan = plan_search(settings(training={"allowed_training_algorithms": [
        "LightGBM", "XGBoostClassifier", "RandomForest", "ExtremeRandomTrees", "LogisticRegression"]}),
        LocalSettings(), has_validation_data=False)
    assert plan.estimators == ["lgbm", "xgboost", "rf", "extra_tree", "lrl2"]
    assert plan.flaml_task == "classification" and plan.warnings == []


def test_an_algorithm_without_a_local_equivalent_is_skipped_with_a_warning():
    plan = plan_search(settings(training={"allowed_training_algorithms": ["LightGBM", "MultinomialNaiveBayes"]}),
                       LocalSettings(), has_validation_data=False)
    assert plan.estimators == ["lgbm"]
    assert "'MultinomialNaiveBayes' has no local (FLAML) equivalent" in plan.warnings[0]


def test_blocked_algorithms_are_removed_from_the_defaults():
    plan = plan_search(settings(training={"blocked_training_algorithms": ["XGBoostClassifier", "LightGBM"]}),
                       LocalSettings(), has_validation_data=False)
    assert "xgboost" not in plan.estimators and "lgbm" not in plan.estimators and plan.estimators


def test_probability_metrics_skip_estimators_without_probabilities():
    plan = plan_search(settings(primary_metric="AUC_weighted",
                                training={"allowed_training_algorithms": ["LinearSVM", "LightGBM"]}),
                       LocalSettings(), has_validation_data=False)
    assert plan.estimators == ["lgbm"] and "gives no probabilities" in plan.warnings[0]


def test_nothing_left_to_try_is_an_error_naming_what_is_supported():
    with pytest.raises(ValueError, match="no algorithm is left to try"):
        plan_search(settings(training={"allowed_training_algorithms": ["MultinomialNaiveBayes", "LightGBM"],
                                       "blocked_training_algorithms": ["LightGBM"]}),
                    LocalSettings(), has_validation_data=False)


@pytest.mark.parametrize("limits, local, budget", [
    ({}, {}, 60.0),
    ({"timeout_minutes": 2}, {}, 120.0),
    ({"timeout_minutes": 2}, {"time_budget_seconds": 15}, 15.0),
])
def test_time_budget_comes_from_local_then_timeout_minutes_then_60s(limits, local, budget):
    assert plan_search(settings(limits=limits), LocalSettings(**local), has_validation_data=False).time_budget == budget


def test_one_trial_still_evaluates_a_model():
    assert plan_search(settings(limits={"max_trials": 1}), LocalSettings(), has_validation_data=False).max_iter == 2


@pytest.mark.parametrize("kw, has_val, expected", [
    ({"n_cross_validations": 5}, False, {"eval_method": "cv", "n_splits": 5}),
    ({"validation_data_size": 0.25}, False, {"eval_method": "holdout", "split_ratio": 0.25}),
    ({}, True, {"eval_method": "holdout"}),
    ({}, False, {"eval_method": "auto"}),
])
def test_validation_settings_map_to_flaml_evaluation(kw, has_val, expected):
    assert plan_search(settings(**kw), LocalSettings(), has_validation_data=has_val).eval == expected


def test_azure_only_limits_are_named_as_ignored_locally():
    plan = plan_search(settings(limits={"exit_score": 0.9, "trial_timeout_minutes": 1},
                                training={"enable_stack_ensemble": True}), LocalSettings(), has_validation_data=False)
    assert any("limits.exit_score" in w for w in plan.warnings)
    assert any("limits.trial_timeout_minutes" in w for w in plan.warnings)
    assert any("ensembles" in w for w in plan.warnings)


def test_losses_become_azure_metric_values_in_the_right_direction():
    assert loss_to_metric(0.25, "accuracy") == 0.75
    assert loss_to_metric(0.25, "normalized_root_mean_squared_error") == 0.25


def test_settings_only_azure_honours_are_named_once_in_one_warning():
    plan = plan_search(settings(log_verbosity="debug", resources={"instance_count": 4},
                                featurization={"mode": "custom", "blocked_transformers": ["LabelEncoder"],
                                               "column_name_and_types": {"CHMIN": "Categorical"}}),
                       LocalSettings(), has_validation_data=False)
    notes = [w for w in plan.warnings if "the local backend does not honour" in w]
    assert len(notes) == 1
    for name in ("log_verbosity", "resources", "featurization.blocked_transformers",
                 "featurization.column_name_and_types"):
        assert name in notes[0]


def test_blocking_every_default_falls_back_to_the_other_local_algorithms():
    blocked = ["LightGBM", "RandomForest", "ExtremeRandomTrees", "XGBoostClassifier", "LogisticRegression"]
    plan = plan_search(settings(training={"blocked_training_algorithms": blocked}), LocalSettings(),
                       has_validation_data=False)
    assert plan.estimators and not {"lgbm", "rf", "extra_tree", "xgboost", "lrl2"} & set(plan.estimators)
