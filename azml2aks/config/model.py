"""The pipeline.yaml model: one pydantic class per section, defaults documented per field.

Field names follow the official ``az ml`` YAML schemas where one exists (the AutoML job YAML
for ``automl``, the Kubernetes online deployment YAML for ``deployment``) so a user can paste
from files they already have. This module is pure: reading the file, ``${VAR}`` interpolation
and turning validation errors into messages with line numbers live in :mod:`azml2aks.config.loader`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from azml2aks import metrics as M

NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*[a-zA-Z0-9]$")
MEMORY_RE = re.compile(r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$")
CPU_RE = re.compile(r"^\d+(\.\d+)?m?$")


def check_azure_name(value: str, kind: str) -> str:
    """Azure's rule for endpoint and deployment names: 3-32 chars, letter first, no trailing dash."""
    if not 3 <= len(value) <= 32 or not NAME_RE.match(value):
        raise ValueError(
            f"{kind} name {value!r} breaks Azure's naming rule: 3-32 characters, "
            "a letter first, then letters, digits or '-', not ending with '-'"
        )
    return value


class Section(BaseModel):
    """Base of every section: unknown keys are errors (the loader adds a 'did you mean')."""

    # defer_build: one schema for the whole tree on first validation, not one per section at import
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True, defer_build=True)


class WorkspaceSettings(Section):
    """Where the Azure ML workspace is. Empty on the local backend."""

    backend: Literal["local", "azure"] | None = Field(
        None, description="Default backend; else 'azure' when subscription_id is set, else 'local'."
    )
    subscription_id: str | None = Field(None, description="Azure subscription id (a GUID).")
    resource_group: str | None = Field(None, description="Resource group of the workspace.")
    name: str | None = Field(None, description="Azure ML workspace name.")
    tenant_id: str | None = Field(None, description="Entra tenant for azure-identity, when not the default.")

    def default_backend(self) -> str:
        if self.backend:
            return self.backend
        return "azure" if self.subscription_id else "local"


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
    max_cores_per_trial: int | None = None
    max_nodes: int | None = None


class Training(Section):
    allowed_training_algorithms: list[str] | None = Field(None, description="Azure algorithm names to try; default per task.")
    blocked_training_algorithms: list[str] | None = Field(None, description="Azure algorithm names never to try.")
    enable_stack_ensemble: bool = False
    enable_vote_ensemble: bool = False
    enable_model_explainability: bool = False
    enable_onnx_compatible_models: bool = False


class Featurization(Section):
    mode: Literal["auto", "off", "custom"] = Field("auto", description="auto: impute and encode; off: numeric columns as they are.")
    blocked_transformers: list[str] | None = None


class Forecasting(Section):
    time_column_name: str | None = Field(None, description="Column with each row's timestamp (required for forecasting).")
    forecast_horizon: int | Literal["auto"] = Field(1, description="Periods ahead to forecast.")
    time_series_id_column_names: list[str] | str | None = Field(None, description="Columns that identify a series.")
    frequency: str | None = Field(None, description="pandas offset alias, e.g. D, H, MS.")
    target_lags: Any = None
    target_rolling_window_size: Any = None
    country_or_region_for_holidays: str | None = None


class AutoMLSettings(Section):
    """The body of an AutoML job YAML (``type: automl``)."""

    schema_: str | None = Field(None, alias="$schema")
    type: Literal["automl"] = "automl"
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    experiment_name: str = Field("azml2aks", description="Experiment (Azure) / MLflow experiment (local).")
    compute: str | None = Field(None, description="Azure ML compute cluster for training.")
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
    log_verbosity: str | None = None
    limits: Limits = Field(default_factory=Limits)
    training: Training = Field(default_factory=Training)
    featurization: Featurization = Field(default_factory=Featurization)
    forecasting: Forecasting | None = None

    @field_validator("primary_metric")
    @classmethod
    def _metric_fits_task(cls, value: str | None, info: ValidationInfo) -> str | None:
        task = info.data.get("task")
        if value is None or task is None:
            return value
        allowed = M.PRIMARY_METRICS[task]
        if value not in allowed:
            near = M.closest(value, allowed)
            raise ValueError(
                f"{value!r} does not fit task {task!r}; use one of {', '.join(allowed)}"
                + (f" (did you mean {near!r}?)" if near else "")
            )
        return value

    @model_validator(mode="after")
    def _fits_task(self) -> AutoMLSettings:
        if self.primary_metric is None:
            self.primary_metric = M.DEFAULT_METRIC[self.task]
        if self.task == "forecasting" and not (self.forecasting and self.forecasting.time_column_name):
            raise ValueError(
                "task 'forecasting' needs forecasting.time_column_name "
                "(the column holding each row's timestamp)"
            )
        for field in ("allowed_training_algorithms", "blocked_training_algorithms"):
            names = getattr(self.training, field) or []
            known = M.ALGORITHMS[self.task]
            bad = [n for n in names if n not in known]
            if bad:
                near = M.closest(bad[0], known)
                raise ValueError(
                    f"training.{field}: {bad[0]!r} is not an Azure AutoML {self.task} algorithm"
                    + (f" (did you mean {near!r}?)" if near else f"; known: {', '.join(known)}")
                )
        return self

    @property
    def data_path(self) -> str:
        return self.training_data if isinstance(self.training_data, str) else self.training_data.path


class ModelSettings(Section):
    name: str | None = Field(None, description="Registered model name; default <experiment_name>-model.")
    min_metric: float | None = Field(
        None, description="Refuse to register when the best primary metric is worse than this."
    )
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    alias: str = Field("champion", description="Alias moved to a new version that beats the current one.")


class ScoringSettings(Section):
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Larger request bodies get 413.")
    default_method: Literal["predict", "predict_proba"] = "predict"
    sample_rows: int = Field(3, ge=1, le=100, description="Rows in swagger / sample-request.json.")


class EnvironmentSettings(Section):
    name: str | None = Field(None, description="Registered environment name; default <model>-env.")
    image: str = Field(
        "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest",
        description="Base image for the inference environment.",
    )
    python_version: str | None = Field(None, description="Default: the model's own Python version.")
    extra_pip: list[str] = Field(
        default_factory=list,
        description="pip requirements added over the model's own (they win a disagreement).",
    )
    resolve: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Resolve the environment for its Python on Linux before registering it (uv): "
        "auto skips with a warning when the package index is out of reach; never skips; "
        "always fails then. The known server/Python constraints are checked in every case.",
    )
    resolve_timeout_seconds: float = Field(
        300.0, gt=0, description="Longest the resolution may take (seconds); longer counts as out of reach."
    )

    @field_validator("python_version", mode="before")
    @classmethod
    def _python_is_text(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f"python_version {value!r} is a number (YAML reads 3.10 as 3.1); "
                             "quote it: python_version: '3.10'")
        return value

    @field_validator("python_version")
    @classmethod
    def _python(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^3\.\d+(\.\d+)?$", value.strip()):
            raise ValueError(f"python_version {value!r} is not a Python 3 version such as '3.9' or '3.9.21'")
        return value.strip() if value is not None else None


class ComputeSettings(Section):
    name: str = Field("aks-compute", description="Kubernetes compute name in the workspace.")
    cluster_name: str | None = Field(None, description="AKS managed cluster name.")
    resource_group: str | None = Field(None, description="AKS resource group; default the workspace's.")
    namespace: str = Field("azureml", description="Kubernetes namespace of the deployments.")
    min_vcpus: int = Field(4, ge=1, description="Capacity preflight: total vCPUs required.")
    min_memory_gib: int = Field(14, ge=1, description="Capacity preflight: total memory required.")


class EndpointSettings(Section):
    name: str = Field("azml2aks-endpoint", description="Online endpoint name (Azure naming rules).")
    auth_mode: Literal["key", "aml_token"] = Field("key", description="How clients authenticate.")
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _azure_name(cls, value: str) -> str:
        return check_azure_name(value, "endpoint")


class ResourceSpec(Section):
    cpu: str | None = None
    memory: str | None = None
    nvidia_com_gpu: str | int | None = Field(None, alias="nvidia.com/gpu")

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str | None) -> str | None:
        if value is not None and not CPU_RE.match(str(value)):
            raise ValueError(f"cpu {value!r} is not a Kubernetes quantity such as '2' or '500m'")
        return None if value is None else str(value)

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not MEMORY_RE.match(str(value)):
            raise ValueError(f"memory {value!r} is not a Kubernetes quantity such as '4Gi' or '512Mi'")
        return value


class Resources(Section):
    requests: ResourceSpec = Field(default_factory=lambda: ResourceSpec(cpu="2", memory="4Gi"))
    limits: ResourceSpec | None = None


class RequestSettings(Section):
    request_timeout_ms: int = Field(5000, ge=1, le=300000)
    max_concurrent_requests_per_instance: int = Field(1, ge=1)
    max_queue_wait_ms: int = Field(500, ge=0)


class Probe(Section):
    initial_delay: int = 10
    period: int = 10
    timeout: int = 2
    success_threshold: int = 1
    failure_threshold: int = 30


class ScaleSettings(Section):
    type: Literal["default", "target_utilization"] = "default"
    min_instances: int | None = None
    max_instances: int | None = None
    target_utilization_percentage: int | None = None
    polling_interval: int | None = None


class DeploymentSettings(Section):
    """The body of a Kubernetes online deployment YAML."""

    schema_: str | None = Field(None, alias="$schema")
    description: str | None = None
    instance_type: str | None = Field(None, description="Kubernetes instance type; default the cluster's.")
    instance_count: int = Field(1, ge=1, description="Pods per colour.")
    resources: Resources = Field(default_factory=Resources)
    request_settings: RequestSettings = Field(default_factory=RequestSettings)
    liveness_probe: Probe = Field(default_factory=Probe)
    readiness_probe: Probe = Field(default_factory=Probe)
    scale_settings: ScaleSettings = Field(default_factory=ScaleSettings)
    environment_variables: dict[str, str] = Field(default_factory=dict, description="Set in the scoring container.")
    app_insights_enabled: bool = False
    tags: dict[str, str] = Field(default_factory=dict)


class Gates(Section):
    """Per-step gates. Each default is the promise tested in tests/config/test_defaults.py."""

    min_samples: int = Field(20, ge=1, description="Fewer answered probes = inconclusive.")
    max_error_rate: float = Field(0.01, ge=0, le=1, description="Fraction of failed probes.")
    max_p99_ms: float = Field(500.0, gt=0, description="Absolute p99 latency of the new colour (ms).")
    max_p99_ratio: float = Field(2.0, gt=0, description="p99 of new colour / p99 of live colour.")
    min_agreement: float = Field(0.95, ge=0, le=1, description="Share of rows predicted like the live colour.")
    metric_tolerance: float = Field(
        0.05, ge=0, description="Online primary metric may be worse than the registered one by this much."
    )
    inconclusive_holds: int = Field(1, ge=0, description="Times an inconclusive step is held before failing.")
    latency_retries: int = Field(
        1, ge=0, description="Times a step failing on latency alone (p99_ms, p99_ratio) is measured again "
        "before it fails: the p99 of a few dozen probes is their slowest one, and one hiccup is not a trend.")
    p99_floor_ms: float = Field(
        100.0, ge=0, description="p99 ratio is taken against max(live p99, this): small-sample noise below it cannot fail the ratio gate (ms)."
    )
    confidence: float = Field(
        0.95, ge=0.5, lt=1, description="Confidence of every gate's decision: each interval end is a one-sided bound "
        "at this level, agreement and accuracy fail only when their whole interval lies below the threshold, the "
        "paired latency test fails only below 1 - confidence, and a round stops once its verdict is settled.")
    agreement_tolerance: float = Field(
        0.1, ge=0, description="Regression and forecasting: predictions within this relative difference agree "
        "(two different models never match exactly). Classification labels must be equal."
    )


class RolloutSettings(Section):
    colours: tuple[str, str] = ("blue", "green")
    steps: list[int] = Field(default_factory=lambda: [10, 50, 100], description="Traffic % ladder.")
    bake_seconds: float = Field(5.0, ge=0, description="Wait at each step before probing.")
    smoke_requests: int = Field(5, ge=1)
    shadow_requests: int = Field(50, ge=0, description="Rows replayed to both colours; 0 skips shadow.")
    probe_requests: int = Field(40, ge=1, description="Probe requests per step.")
    probe_seconds: float = Field(30.0, gt=0, description="Time limit of one step's probing.")
    probe_concurrency: int = Field(2, ge=1, le=32)
    delete_previous: bool = Field(False, description="Delete the old colour after promotion.")
    gates: Gates = Field(default_factory=Gates)

    @field_validator("colours")
    @classmethod
    def _colours(cls, value: tuple[str, str]) -> tuple[str, str]:
        if value[0] == value[1]:
            raise ValueError("the two colours must differ")
        for colour in value:
            check_azure_name(colour, "deployment")
        return value

    @field_validator("steps")
    @classmethod
    def _ladder(cls, steps: list[int]) -> list[int]:
        if not steps:
            raise ValueError("the traffic ladder needs at least one step")
        if any(not 0 < s <= 100 for s in steps):
            raise ValueError(f"every step is a percentage in 1..100; got {steps}")
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            raise ValueError(f"steps must rise strictly; got {steps}")
        if steps[-1] != 100:
            raise ValueError(f"the traffic ladder must end at 100; got {steps} (add 100 as the last step)")
        return steps


class LocalSettings(Section):
    workdir: str = Field(".azml2aks", description="State, registry and processes; relative to pipeline.yaml.")
    time_budget_seconds: float | None = Field(
        None, gt=0, description="FLAML budget; default limits.timeout_minutes*60, else 60."
    )
    seed: int = 42
    n_jobs: int = Field(1, ge=-1)
    router_port: int = Field(0, ge=0, le=65535, description="0 picks a free port.")
    workers: int = Field(1, ge=1, le=8, description="Inference server workers per colour.")
    startup_timeout_seconds: float = Field(60.0, gt=0)


class PipelineConfig(Section):
    """The whole pipeline.yaml."""

    workspace: WorkspaceSettings = Field(default_factory=WorkspaceSettings)
    automl: AutoMLSettings
    model: ModelSettings = Field(default_factory=ModelSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    environment: EnvironmentSettings = Field(default_factory=EnvironmentSettings)
    compute: ComputeSettings = Field(default_factory=ComputeSettings)
    endpoint: EndpointSettings = Field(default_factory=EndpointSettings)
    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings)
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)
    local: LocalSettings = Field(default_factory=LocalSettings)

    @property
    def model_name(self) -> str:
        return self.model.name or f"{self.automl.experiment_name}-model"

    @property
    def environment_name(self) -> str:
        return self.environment.name or f"{self.model_name}-env"

    @property
    def primary_metric(self) -> str:
        return self.automl.primary_metric or M.DEFAULT_METRIC[self.automl.task]
