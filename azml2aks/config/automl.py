"""The ``automl`` section: the body of an official ``az ml`` AutoML job YAML (tabular tasks).

Every key of azure-ai-ml's YAML schema for classification, regression and forecasting jobs
(``_schema/automl/``) is accepted and carried, so a pasted job file validates and the Azure
backend can pass each value through. Enum values are matched the way that schema matches
them: ``snake_case(given) == snake_case(allowed)`` (``light_gbm``, ``LightGBM``, ``LIGHT_GBM``),
and also case-insensitively (``lightgbm``); the model stores the REST spelling (``LightGBM``).
Algorithm problems are collected and reported all at once, each at its own YAML path.
Pure: no I/O, no Azure import.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from azml2aks import metrics as M
from azml2aks.config.base import Section, enum_value

#: azure-ai-ml enum values, copied (config/ never imports azure): LogVerbosity,
#: BlockedTransformers, AutoMLTransformerParameterKeys, StackMetaLearnerType, TabularTrainingMode.
LOG_VERBOSITY = ("NotSet", "Debug", "Info", "Warning", "Error", "Critical")
BLOCKED_TRANSFORMERS = ("TextTargetEncoder", "OneHotEncoder", "CatTargetEncoder", "TfIdf", "WoETargetEncoder",
                        "LabelEncoder", "WordEmbedding", "NaiveBayes", "CountVectorizer", "HashOneHotEncoder")
TRANSFORMER_PARAM_KEYS = ("Imputer", "TfIdf", "HashOneHotEncoder")
STACK_META_LEARNERS = ("None", "LogisticRegression", "LogisticRegressionCV", "LightGBMClassifier", "ElasticNet",
                       "ElasticNetCV", "LightGBMRegressor", "LinearRegression")
TRAINING_MODES = ("Auto", "Distributed", "NonDistributed")
SHORT_SERIES = ("auto", "pad", "drop")
STL_MODES = ("none", "season", "season_trend")
AGGREGATES = ("sum", "max", "min", "mean")


class DataInput(Section):
    """The official ``{path, type}`` input form."""

    path: str
    type: Literal["mltable", "uri_file", "uri_folder"] = "mltable"


class Limits(Section):
    timeout_minutes: float | None = Field(None, gt=0, description="Whole experiment budget (minutes).")
    trial_timeout_minutes: float | None = Field(None, gt=0, description="Per-trial budget (Azure only).")
    max_trials: int = Field(1000, ge=1, description="Most trials to run.")
    max_concurrent_trials: int = Field(1, ge=1, description="Trials run at once (Azure).")
    enable_early_termination: bool = Field(True, description="Stop when the score stops improving (Azure).")
    exit_score: float | None = Field(None, description="Stop once the primary metric reaches this (Azure).")
    max_cores_per_trial: int | None = Field(None, description="Cores per trial (Azure).")
    max_nodes: int | None = Field(None, description="Nodes for distributed training (Azure).")


class StackEnsembleSettings(Section):
    stack_meta_learner_type: str | None = Field(None, description="Meta learner of the stack ensemble (Azure).")
    stack_meta_learner_train_percentage: float | None = Field(None, ge=0, le=1)
    stack_meta_learner_kwargs: dict[str, Any] | None = None

    @field_validator("stack_meta_learner_type")
    @classmethod
    def _learner(cls, value: str | None) -> str | None:
        return None if value is None else enum_value(value, STACK_META_LEARNERS, "stack_meta_learner_type")


class Training(Section):
    allowed_training_algorithms: list[str] | None = Field(
        None, description="Algorithms to try (`LightGBM` or `light_gbm`); default per task.")
    blocked_training_algorithms: list[str] | None = Field(None, description="Algorithms never to try.")
    enable_stack_ensemble: bool = False
    enable_vote_ensemble: bool = False
    enable_model_explainability: bool = False
    enable_onnx_compatible_models: bool = False
    enable_dnn_training: bool | None = Field(None, description="Azure only.")
    ensemble_model_download_timeout: int | None = Field(None, description="Azure only (seconds).")
    stack_ensemble_settings: StackEnsembleSettings | None = None
    training_mode: str | None = Field(None, description="auto, distributed or non_distributed (Azure only).")

    @field_validator("training_mode")
    @classmethod
    def _mode(cls, value: str | None) -> str | None:
        return None if value is None else enum_value(value, TRAINING_MODES, "training_mode")


class ColumnTransformer(Section):
    fields: list[str] = Field(default_factory=list, description="Columns the transformer applies to.")
    parameters: dict[str, float | str | None] = Field(default_factory=dict)


class Featurization(Section):
    mode: Literal["auto", "off", "custom"] = Field("auto", description="auto: impute and encode; off: numeric columns as they are.")
    blocked_transformers: list[str] | None = Field(None, description="Transformers AutoML must not use (Azure).")
    column_name_and_types: dict[str, str] | None = Field(
        None, description="Column purpose overrides, e.g. {CHMIN: Categorical} (Azure).")
    transformer_params: dict[str, list[ColumnTransformer]] | None = Field(
        None, description="Per-transformer settings, keys imputer/tf_idf/hash_one_hot_encoder (Azure).")
    enable_dnn_featurization: bool | None = None
    dataset_language: str | None = None

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_any_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("blocked_transformers")
    @classmethod
    def _transformers(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [enum_value(v, BLOCKED_TRANSFORMERS, "blocked transformer") for v in value]

    @field_validator("transformer_params")
    @classmethod
    def _param_keys(cls, value: dict | None) -> dict | None:
        if value is None:
            return None
        return {enum_value(k, TRANSFORMER_PARAM_KEYS, "transformer_params key"): v for k, v in value.items()}


class Forecasting(Section):
    time_column_name: str | None = Field(None, description="Column with each row's timestamp (required for forecasting).")
    forecast_horizon: int | Literal["auto"] = Field(1, description="Periods ahead to forecast.")
    time_series_id_column_names: list[str] | str | None = Field(None, description="Columns that identify a series.")
    frequency: str | None = Field(None, description="pandas offset alias, e.g. D, H, MS.")
    target_lags: Any = None
    target_rolling_window_size: Any = None
    country_or_region_for_holidays: str | None = None
    cv_step_size: int | None = None
    feature_lags: Literal["none", "auto"] | None = None
    seasonality: int | Literal["auto"] | None = None
    short_series_handling_config: str | None = None
    use_stl: str | None = None
    target_aggregate_function: str | None = None
    features_unknown_at_forecast_time: list[str] | str | None = None

    @field_validator("short_series_handling_config", "use_stl", "target_aggregate_function")
    @classmethod
    def _enums(cls, value: str | None, info: ValidationInfo) -> str | None:
        allowed = {"short_series_handling_config": SHORT_SERIES, "use_stl": STL_MODES,
                   "target_aggregate_function": AGGREGATES}[info.field_name]
        return None if value is None else enum_value(value, allowed, info.field_name)


class JobResources(Section):
    """The job's ``resources`` (Azure: the serverless or cluster shape of the AutoML job)."""

    instance_count: int | None = Field(None, ge=1)
    instance_type: str | None = None
    max_instance_count: int | None = None
    shm_size: str | None = None
    locations: list[str] | None = None
    docker_args: str | list[str] | None = None
    properties: dict[str, Any] | None = None


class AutoMLSettings(Section):
    """The body of an AutoML job YAML (``type: automl``)."""

    schema_: str | None = Field(None, alias="$schema")
    type: Literal["automl"] = "automl"
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str | None] = Field(default_factory=dict)
    properties: dict[str, str | None] = Field(default_factory=dict)
    experiment_name: str = Field("azml2aks", description="Experiment (Azure) / MLflow experiment (local).")
    compute: str | None = Field(None, description="Azure ML compute cluster for training.")
    resources: JobResources | None = Field(None, description="Job resources (Azure).")
    queue_settings: dict[str, Any] | None = Field(None, description="Job tier and priority (Azure).")
    identity: dict[str, Any] | None = Field(None, description="Identity the job runs as (Azure).")
    environment_id: str | None = None
    environment_variables: dict[str, str] = Field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    services: dict[str, Any] | None = None
    task: Literal["classification", "regression", "forecasting"] = Field(description="The AutoML task.")
    target_column_name: str = Field(description="The column to predict.")
    primary_metric: str | None = Field(None, description="Azure's metric name; default per task.")
    positive_label: Any = None
    weight_column_name: str | None = None
    training_data: str | DataInput = Field(description="CSV, Parquet or MLTable folder, `azureml:name:version`, or {path, type}.")
    validation_data: str | DataInput | None = Field(None, description="Hold-out for model selection; default cross-validation.")
    test_data: str | DataInput | None = Field(None, description="Labelled rows the rollout gates score against.")
    validation_data_size: float | None = Field(None, gt=0, lt=1, description="Share of training rows held out.")
    test_data_size: float | None = Field(None, gt=0, lt=1)
    n_cross_validations: int | Literal["auto"] | None = Field(None, description="Folds; default decided by AutoML.")
    cv_split_column_names: list[str] | None = None
    log_verbosity: str | None = Field(None, description="not_set, debug, info, warning, error, critical.")
    limits: Limits = Field(default_factory=Limits)
    training: Training = Field(default_factory=Training)
    featurization: Featurization = Field(default_factory=Featurization)
    forecasting: Forecasting | None = None

    @field_validator("task", mode="before")
    @classmethod
    def _task_any_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_verbosity")
    @classmethod
    def _verbosity(cls, value: str | None) -> str | None:
        return None if value is None else enum_value(value, LOG_VERBOSITY, "log_verbosity")

    @field_validator("primary_metric")
    @classmethod
    def _metric_fits_task(cls, value: str | None, info: ValidationInfo) -> str | None:
        task = info.data.get("task")
        if value is None or task is None:
            return value
        allowed = M.PRIMARY_METRICS[task]
        found = next((m for m in allowed if m.lower() == value.lower()), None)
        if found is None:
            near = M.closest(value, allowed)
            raise ValueError(
                f"{value!r} does not fit task {task!r}; use one of {', '.join(allowed)}"
                + (f" (did you mean {near!r}?)" if near else "")
            )
        return found

    @model_validator(mode="after")
    def _fits_task(self) -> AutoMLSettings:
        if self.primary_metric is None:
            self.primary_metric = M.DEFAULT_METRIC[self.task]
        if self.task == "forecasting" and not (self.forecasting and self.forecasting.time_column_name):
            raise ValueError(
                "task 'forecasting' needs forecasting.time_column_name "
                "(the column holding each row's timestamp)"
            )
        self._check_algorithms()
        return self

    def _check_algorithms(self) -> None:
        """Map every algorithm name to Azure's spelling; report every bad one at its own path."""
        known = M.ALGORITHMS[self.task]
        problems: list[tuple[tuple, str]] = []
        for field in ("allowed_training_algorithms", "blocked_training_algorithms"):
            names = getattr(self.training, field)
            if names is None:
                continue
            mapped = []
            for i, name in enumerate(names):
                found = M.canonical_algorithm(name, self.task)
                if found is None:
                    problems.append((("training", field, i), _algorithm_problem(name, self.task)))
                elif found not in mapped:
                    mapped.append(found)
            setattr(self.training, field, mapped)
        if problems:
            raise _problems(problems)
        allowed = self.training.allowed_training_algorithms or list(known)
        blocked = set(self.training.blocked_training_algorithms or [])
        if all(name in blocked for name in allowed):
            raise _problems([(("training", "blocked_training_algorithms"),
                              f"blocks every algorithm AutoML could try ({', '.join(allowed)}); "
                              "unblock at least one, or list the ones to try in training.allowed_training_algorithms")])

    @property
    def data_path(self) -> str:
        return self.training_data if isinstance(self.training_data, str) else self.training_data.path

    def azure_only_settings(self) -> list[str]:
        """The YAML paths of the settings given here that only Azure AutoML honours."""
        given = []
        for name in ("compute", "resources", "queue_settings", "identity", "environment_id", "outputs", "services",
                     "log_verbosity", "cv_split_column_names", "positive_label", "test_data_size"):
            if getattr(self, name) not in (None, {}, []):
                given.append(name)
        if self.environment_variables:
            given.append("environment_variables")
        f = self.featurization
        for name in ("blocked_transformers", "column_name_and_types", "transformer_params", "enable_dnn_featurization",
                     "dataset_language"):
            if getattr(f, name) not in (None, {}, []):
                given.append(f"featurization.{name}")
        t = self.training
        for name in ("enable_model_explainability", "enable_onnx_compatible_models", "enable_dnn_training"):
            if getattr(t, name):
                given.append(f"training.{name}")
        for name in ("ensemble_model_download_timeout", "stack_ensemble_settings", "training_mode"):
            if getattr(t, name) is not None:
                given.append(f"training.{name}")
        for name in ("max_concurrent_trials", "max_cores_per_trial", "max_nodes"):
            if getattr(self.limits, name) not in (None, 1):
                given.append(f"limits.{name}")
        if self.forecasting:
            for name in ("target_lags", "target_rolling_window_size", "country_or_region_for_holidays", "cv_step_size",
                         "feature_lags", "seasonality", "short_series_handling_config", "use_stl",
                         "target_aggregate_function", "features_unknown_at_forecast_time", "time_series_id_column_names"):
                if getattr(self.forecasting, name) is not None:
                    given.append(f"forecasting.{name}")
        return given


def _algorithm_problem(name: Any, task: str) -> str:
    other = M.algorithm_task(name) if isinstance(name, str) else None
    if other:
        return f"{name!r} is a {other} algorithm, not one for task {task!r}"
    known = M.ALGORITHMS[task]
    near = None
    if isinstance(name, str):  # suggest in the spelling the user writes: snake_case or Azure's
        snake = "_" in name or name.islower()
        near = M.closest(M.snake_case(name), [M.snake_case(k) for k in known])
        near = near if snake or near is None else M.canonical(near, known)
    return (f"{name!r} is not an Azure AutoML {task} algorithm"
            + (f" (did you mean {near!r}?)" if near else f"; known: {', '.join(known)}"))


def _problems(problems: list[tuple[tuple, str]]) -> PydanticCustomError:
    """One validation error carrying several (sub-path, message) problems; the loader gives each its line."""
    summary = "; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems)
    return PydanticCustomError("azml2aks_problems", "{summary}", {"summary": summary, "problems": problems})
