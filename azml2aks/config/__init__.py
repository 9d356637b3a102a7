"""pipeline.yaml: the pydantic model (:mod:`.model`), the reader (:mod:`.loader`: YAML with
lines, ``${VAR}``, errors naming file, path and line) and the pure mapping from config to
resource specs (:mod:`.specs`). The model's classes are re-exported here."""

from azml2aks.config.model import (
    CPU_RE,
    MEMORY_RE,
    NAME_RE,
    AutoMLSettings,
    ComputeSettings,
    DataInput,
    DeploymentSettings,
    EndpointSettings,
    EnvironmentSettings,
    Featurization,
    Forecasting,
    Gates,
    Limits,
    LocalSettings,
    ModelSettings,
    PipelineConfig,
    Probe,
    RequestSettings,
    Resources,
    ResourceSpec,
    RolloutSettings,
    ScaleSettings,
    ScoringSettings,
    Section,
    Training,
    WorkspaceSettings,
    check_azure_name,
)

__all__ = [
    "CPU_RE", "MEMORY_RE", "NAME_RE", "AutoMLSettings", "ComputeSettings", "DataInput", "DeploymentSettings",
    "EndpointSettings", "EnvironmentSettings", "Featurization", "Forecasting", "Gates", "Limits",
    "LocalSettings", "ModelSettings", "PipelineConfig", "Probe", "RequestSettings", "Resources",
    "ResourceSpec", "RolloutSettings", "ScaleSettings", "ScoringSettings", "Section", "Training",
    "WorkspaceSettings", "check_azure_name",
]
