"""From pipeline.yaml to resource specs. PURE: no I/O, no backend import.

A stage turns config into a spec here, hands the spec to a port (``backends/ports.py``) and
gets a state back. Specs are frozen dataclasses holding plain values (str, int, tuples,
read-only mappings), never a pydantic model and never a path only one backend has: each is
what one Azure resource needs, and the local backend implements the same resources.

    automl_job_spec(config, base_dir)             -> AutoMLJobSpec    (train)
    model_spec(config)                            -> ModelSpec        (register)
    environment_spec(config, conda_file, fp)      -> EnvironmentSpec  (package)
    compute_spec(config)                          -> ComputeSpec      (attach, doctor)
    endpoint_spec(config)                         -> EndpointSpec     (deploy)
    deployment_spec(config, colour, model=, environment=, code_dir=)
                                                  -> DeploymentSpec   (deploy: one colour)

Every field of ``deployment:`` reaches :class:`DeploymentSpec`; ``tests/config/test_specs.py``
walks each pipeline.yaml field into its spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from types import MappingProxyType
from typing import Any

from azml2aks.config.model import DataInput, PipelineConfig, Probe, ResourceSpec

ASSET_PREFIX = "azureml:"


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy (nested mappings too), so a spec cannot be changed after it is built."""
    if not mapping:
        return MappingProxyType({})
    return MappingProxyType({k: _frozen(v) if isinstance(v, Mapping) else
                             tuple(v) if isinstance(v, list) else v for k, v in mapping.items()})


def thaw(value: Any) -> Any:
    """Plain dicts and lists again (for JSON, SDK constructors and REST bodies)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


# --- train ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataRef:
    """One data input. ``kind``: ``asset`` (``azureml:name:version``), ``uri`` (an ``azureml://``,
    ``https://`` or ``abfss://`` path) or ``local`` (a file or MLTable folder on this machine,
    ``path`` made absolute against pipeline.yaml's folder)."""

    kind: str
    path: str
    type: str = "mltable"
    field: str = "automl.training_data"

    @property
    def asset(self) -> tuple[str, str | None] | None:
        """(name, version) of an ``azureml:name[:version]`` reference."""
        if self.kind != "asset":
            return None
        name, _, version = self.path[len(ASSET_PREFIX):].partition(":")
        return name, version or None


def data_ref(value: str | DataInput | None, base_dir: str | PurePath, *, field: str) -> DataRef | None:
    if value is None:
        return None
    path, kind = (value, "mltable") if isinstance(value, str) else (value.path, value.type)
    if path.startswith(ASSET_PREFIX) and not path.startswith("azureml://"):
        return DataRef("asset", path, kind, field)
    if "://" in path:
        return DataRef("uri", path, kind, field)
    p = PurePath(path)
    return DataRef("local", str(p if p.is_absolute() else PurePath(base_dir) / p), kind, field)


@dataclass(frozen=True)
class AutoMLJobSpec:
    """An AutoML job. ``settings`` is the whole ``automl:`` section as written (by alias, unset
    keys left out), so every official key reaches the Azure job; the typed fields are the ones
    azml2aks itself reads."""

    task: str
    target_column_name: str
    primary_metric: str
    experiment_name: str
    training_data: DataRef
    validation_data: DataRef | None = None
    test_data: DataRef | None = None
    compute: str | None = None
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    limits: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    training: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    featurization: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    forecasting: Mapping[str, Any] | None = None
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def automl_job_spec(config: PipelineConfig, base_dir: str | PurePath) -> AutoMLJobSpec:
    a = config.automl
    return AutoMLJobSpec(
        task=a.task, target_column_name=a.target_column_name, primary_metric=config.primary_metric,
        experiment_name=a.experiment_name,
        training_data=data_ref(a.training_data, base_dir, field="automl.training_data"),  # type: ignore[arg-type]
        validation_data=data_ref(a.validation_data, base_dir, field="automl.validation_data"),
        test_data=data_ref(a.test_data, base_dir, field="automl.test_data"),
        compute=_strip_asset(a.compute), name=a.name, display_name=a.display_name, description=a.description,
        tags=_frozen(a.tags), limits=_frozen(a.limits.model_dump(exclude_none=True)),
        training=_frozen(a.training.model_dump(exclude_none=True)),
        featurization=_frozen(a.featurization.model_dump(exclude_none=True)),
        forecasting=_frozen(a.forecasting.model_dump(exclude_none=True)) if a.forecasting else None,
        settings=_frozen(a.model_dump(by_alias=True, exclude_unset=True, mode="json")),
    )


def _strip_asset(name: str | None) -> str | None:
    return name[len(ASSET_PREFIX):] if name and name.startswith(ASSET_PREFIX) else name


# --- register / package --------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    """The registered model: name, the alias moved to a better version, the registration gate."""

    name: str
    primary_metric: str
    alias: str = "champion"
    min_metric: float | None = None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def model_spec(config: PipelineConfig) -> ModelSpec:
    m = config.model
    return ModelSpec(name=config.model_name, primary_metric=config.primary_metric, alias=m.alias,
                     min_metric=m.min_metric, description=m.description, tags=_frozen(m.tags))


@dataclass(frozen=True)
class EnvironmentSpec:
    """An inference environment: base image + the package's conda file, and its fingerprint
    (sha256 of the canonical conda file + image) by which an existing version is reused."""

    name: str
    image: str
    conda_file: str | None  # None: the image alone (an inline deployment environment without conda_file)
    fingerprint: str
    description: str | None = None


def environment_spec(config: PipelineConfig, conda_file: str | PurePath, fingerprint: str) -> EnvironmentSpec:
    return EnvironmentSpec(name=config.environment_name, image=config.environment.image,
                           conda_file=str(conda_file), fingerprint=fingerprint,
                           description=f"inference environment of {config.model_name} (azml2aks)")


# --- attach / deploy -----------------------------------------------------------------------
@dataclass(frozen=True)
class ComputeSpec:
    """The AKS cluster attached as Kubernetes compute ``name`` in the workspace."""

    name: str
    cluster_name: str | None
    cluster_resource_group: str | None
    subscription_id: str | None
    namespace: str
    min_vcpus: int
    min_memory_gib: int

    @property
    def cluster_id(self) -> str | None:
        if not (self.subscription_id and self.cluster_resource_group and self.cluster_name):
            return None
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.cluster_resource_group}"
                f"/providers/Microsoft.ContainerService/managedClusters/{self.cluster_name}")


def compute_spec(config: PipelineConfig) -> ComputeSpec:
    c, ws = config.compute, config.workspace
    return ComputeSpec(name=c.name, cluster_name=c.cluster_name,
                       cluster_resource_group=c.resource_group or ws.resource_group,
                       subscription_id=ws.subscription_id, namespace=c.namespace,
                       min_vcpus=c.min_vcpus, min_memory_gib=c.min_memory_gib)


@dataclass(frozen=True)
class EndpointSpec:
    """A Kubernetes online endpoint on ``compute``."""

    name: str
    compute: str
    auth_mode: str = "key"
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def endpoint_spec(config: PipelineConfig) -> EndpointSpec:
    e = config.endpoint
    return EndpointSpec(name=e.name, compute=config.compute.name, auth_mode=e.auth_mode,
                        description=e.description, tags=_frozen(e.tags))


@dataclass(frozen=True)
class DeploymentSpec:
    """One colour of the endpoint: what runs (model, environment, code) and every Kubernetes
    deployment field. ``model`` and ``environment`` are ``name:version`` references;
    ``code_dir`` is the package folder holding ``scoring_script``."""

    endpoint_name: str
    name: str
    model: str | None
    environment: str | None
    code_dir: str | None
    scoring_script: str = "score.py"
    instance_type: str | None = None
    instance_count: int = 1
    resources: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    liveness_probe: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    readiness_probe: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    request_settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    scale_settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    environment_variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    app_insights_enabled: bool = False
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def request_timeout_seconds(self) -> float:
        return float(self.request_settings.get("request_timeout_ms", 5000)) / 1000


def _resource(spec: ResourceSpec | None) -> dict[str, Any]:
    return spec.model_dump(by_alias=True, exclude_none=True) if spec is not None else {}


def _probe(probe: Probe) -> dict[str, Any]:
    return probe.model_dump(exclude_none=True)


def asset_override(value: Any) -> str | None:
    """``name:version`` (or ``name@label``) of a ``deployment.model``/``environment`` override that
    is already registered; None when there is none or it is inline (``{path}``, ``{image}``), which
    the package stage registers first and passes in as ``model``/``environment``."""
    if isinstance(value, str):
        return _strip_asset(value)
    if value is not None and getattr(value, "path", None) is None and getattr(value, "image", None) is None:
        if value.name and value.version is not None:
            return f"{value.name}:{value.version}"
    return None


def deployment_spec(config: PipelineConfig, colour: str, *, model: str | None, environment: str | None,
                    code_dir: str | PurePath | None) -> DeploymentSpec:
    """``model``/``environment``/``code_dir`` are what the pipeline registered and packaged;
    ``deployment.model``/``environment`` references override them, and with
    ``deployment.code_configuration`` ``code_dir`` holds the user's code and ``scoring_script``."""
    d = config.deployment
    model = asset_override(d.model) or model
    environment = asset_override(d.environment) or environment
    scoring_script = d.code_configuration.scoring_script if d.code_configuration else "score.py"
    resources = {"requests": _resource(d.resources.requests)}
    if d.resources.limits is not None:
        resources["limits"] = _resource(d.resources.limits)
    return DeploymentSpec(
        endpoint_name=config.endpoint.name, name=colour, model=model, environment=environment,
        code_dir=None if code_dir is None else str(code_dir), scoring_script=scoring_script,
        instance_type=d.instance_type, instance_count=d.instance_count, resources=_frozen(resources),
        liveness_probe=_frozen(_probe(d.liveness_probe)), readiness_probe=_frozen(_probe(d.readiness_probe)),
        request_settings=_frozen(d.request_settings.model_dump(exclude_none=True)),
        scale_settings=_frozen(d.scale_settings.model_dump(exclude_none=True)),
        environment_variables=_frozen(d.environment_variables), app_insights_enabled=d.app_insights_enabled,
        description=d.description, tags=_frozen(d.tags),
    )
