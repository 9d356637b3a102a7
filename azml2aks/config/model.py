"""The pipeline.yaml model: one pydantic class per section, defaults documented per field.

Field names follow the official ``az ml`` YAML schemas where one exists (the AutoML job YAML
for ``automl``, the Kubernetes online deployment YAML for ``deployment``) so a user can paste
from files they already have. This module is pure: reading the file, ``${VAR}`` interpolation
and turning validation errors into messages with line numbers live in :mod:`azml2aks.config.loader`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from azml2aks import metrics as M
from azml2aks.config.automl import (  # noqa: F401 - the automl classes are re-exported here too
    AutoMLSettings,
    DataInput,
    Featurization,
    Forecasting,
    Limits,
    Training,
)
from azml2aks.config.base import NAME_RE, Section, check_azure_name  # noqa: F401 - NAME_RE re-exported

MEMORY_RE = re.compile(r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$")
CPU_RE = re.compile(r"^\d+(\.\d+)?m?$")


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
    """The body of a Kubernetes online endpoint YAML (``kubernetesOnlineEndpoint.schema.json``)."""

    schema_: str | None = Field(None, alias="$schema")
    name: str = Field("azml2aks-endpoint", description="Online endpoint name (Azure naming rules).")
    auth_mode: Literal["key", "aml_token"] = Field("key", description="How clients authenticate (`Key`, `key`, `AMLToken`, `aml_token`).")
    compute: str | None = Field(None, description="`azureml:<name>` of the Kubernetes compute; must match compute.name.")
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    identity: dict[str, Any] | None = Field(None, description="Managed identity of the endpoint (Azure).")

    @field_validator("name")
    @classmethod
    def _azure_name(cls, value: str) -> str:
        return check_azure_name(value, "endpoint")

    @field_validator("auth_mode", mode="before")
    @classmethod
    def _auth_any_case(cls, value: Any) -> Any:
        if isinstance(value, str) and M.snake_case(value) == "aad_token":
            raise ValueError("aad_token is for managed endpoints; Kubernetes endpoints take key or aml_token")
        return M.canonical(value, ("key", "aml_token")) or value if isinstance(value, str) else value

    @property
    def compute_name(self) -> str | None:
        return self.compute.removeprefix("azureml:") if self.compute else None


class ModelAsset(Section):
    """An inline model of the deployment YAML: a local MLflow model folder, or a name and version."""

    path: str | None = Field(None, description="Folder of an MLflow model (relative to pipeline.yaml).")
    name: str | None = None
    version: str | int | None = None
    type: str | None = Field(None, description="mlflow_model (others need code_configuration).")
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)


class EnvironmentAsset(Section):
    """An inline environment of the deployment YAML: an image, optionally with a conda file."""

    image: str | None = None
    conda_file: str | None = Field(None, description="Conda YAML (relative to pipeline.yaml).")
    name: str | None = None
    version: str | int | None = None
    build: dict[str, Any] | None = None
    inference_config: dict[str, Any] | None = None
    os_type: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class CodeConfiguration(Section):
    code: str = Field(description="Folder holding the scoring script (relative to pipeline.yaml).")
    scoring_script: str = Field("score.py", description="The script's path inside `code`.")


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
    """The body of a Kubernetes online deployment YAML (``kubernetesOnlineDeployment.schema.json``).

    ``name`` and ``endpoint_name`` are accepted but the pipeline names the colours
    (rollout.colours) and the endpoint (endpoint.name). ``model``, ``environment`` and
    ``code_configuration`` override what the pipeline would deploy.
    """

    schema_: str | None = Field(None, alias="$schema")
    name: str | None = Field(None, description="Ignored: the colours are rollout.colours.")
    type: Literal["kubernetes"] = Field("kubernetes", description="Only Kubernetes deployments are rolled out here.")
    endpoint_name: str | None = Field(None, description="Must equal endpoint.name when given.")
    description: str | None = None
    model: str | ModelAsset | None = Field(
        None, description="Deploy this model instead of the registered champion: `azureml:<name>:<version>` or {path}.")
    environment: str | EnvironmentAsset | None = Field(
        None, description="Deploy in this environment instead of the packaged one: `azureml:<name>:<version>` or {image, conda_file}.")
    code_configuration: CodeConfiguration | None = Field(
        None, description="Your own score.py instead of the generated one (the contract test still runs).")
    instance_type: str | None = Field(None, description="Kubernetes instance type; default the cluster's.")
    instance_count: int = Field(1, ge=1, description="Pods per colour.")
    resources: Resources = Field(default_factory=Resources)
    request_settings: RequestSettings = Field(default_factory=RequestSettings)
    liveness_probe: Probe = Field(default_factory=Probe)
    readiness_probe: Probe = Field(default_factory=Probe)
    scale_settings: ScaleSettings = Field(default_factory=ScaleSettings)
    environment_variables: dict[str, str] = Field(default_factory=dict, description="Set in the scoring container.")
    app_insights_enabled: bool = False
    model_mount_path: str | None = None
    data_collector: dict[str, Any] | None = Field(None, description="Azure only.")
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)

    @field_validator("type", mode="before")
    @classmethod
    def _type_any_case(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() == "managed":
            raise ValueError("'managed' deployments are not rolled out by azml2aks; use type: kubernetes")
        return value.lower() if isinstance(value, str) else value

    @field_validator("model", "environment")
    @classmethod
    def _asset_ref(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and not _ASSET_REF.match(value):
            raise ValueError(f"{value!r} is not a registered {info.field_name} reference; write "
                             f"azureml:<name>:<version> (or azureml:<name>@latest), or give a mapping with path")
        if isinstance(value, ModelAsset) and not (value.path or (value.name and value.version)):
            raise ValueError("an inline model needs path (an MLflow model folder), or name and version")
        if isinstance(value, EnvironmentAsset) and not (value.image or (value.name and value.version)):
            raise ValueError("an inline environment needs image (and optionally conda_file), or name and version")
        return value


_ASSET_REF = re.compile(r"^(azureml:)?[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+|@[A-Za-z0-9_.-]+)$")


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
    lock_timeout_seconds: float = Field(
        0.0, ge=0, description="How long deploy/traffic/promote/rollback wait for another one on the same "
        "endpoint to finish before refusing (naming its run id); 0 refuses at once.")
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

    @model_validator(mode="after")
    def _sections_agree(self) -> PipelineConfig:
        named = self.deployment.endpoint_name
        if named is not None and named != self.endpoint.name:
            raise ValueError(f"deployment.endpoint_name {named!r} conflicts with endpoint.name "
                             f"{self.endpoint.name!r}; remove deployment.endpoint_name or make them equal")
        wanted = self.endpoint.compute_name
        if wanted is not None:
            if "name" in self.compute.model_fields_set and self.compute.name != wanted:
                raise ValueError(f"endpoint.compute {self.endpoint.compute!r} conflicts with compute.name "
                                 f"{self.compute.name!r}; make them name the same Kubernetes compute")
            self.compute.name = wanted
        return self

    @property
    def model_name(self) -> str:
        return self.model.name or f"{self.automl.experiment_name}-model"

    @property
    def environment_name(self) -> str:
        return self.environment.name or f"{self.model_name}-env"

    @property
    def primary_metric(self) -> str:
        return self.automl.primary_metric or M.DEFAULT_METRIC[self.automl.task]
