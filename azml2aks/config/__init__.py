"""pipeline.yaml: the pydantic model (:mod:`.model`, with the ``automl`` section in
:mod:`.automl` and the shared base in :mod:`.base`), the reader (:mod:`.loader`: YAML with
lines, ``${VAR}``, errors naming file, path and line) and the pure mapping from config to
resource specs (:mod:`.specs`). The model's classes are re-exported here."""

from azml2aks.config.automl import (
    AutoMLSettings,
    ColumnTransformer,
    DataInput,
    Featurization,
    Forecasting,
    JobResources,
    Limits,
    StackEnsembleSettings,
    Training,
)
from azml2aks.config.base import NAME_RE, Section, check_azure_name
from azml2aks.config.model import (
    CPU_RE,
    MEMORY_RE,
    CodeConfiguration,
    ComputeSettings,
    DeploymentSettings,
    EndpointSettings,
    EnvironmentAsset,
    EnvironmentSettings,
    Gates,
    LocalSettings,
    ModelAsset,
    ModelSettings,
    PipelineConfig,
    Probe,
    RequestSettings,
    Resources,
    ResourceSpec,
    RolloutSettings,
    ScaleSettings,
    ScoringSettings,
    WorkspaceSettings,
)

__all__ = [
    "CPU_RE", "MEMORY_RE", "NAME_RE", "AutoMLSettings", "CodeConfiguration", "ColumnTransformer", "ComputeSettings",
    "DataInput", "DeploymentSettings", "EndpointSettings", "EnvironmentAsset", "EnvironmentSettings", "Featurization",
    "Forecasting", "Gates", "JobResources", "Limits", "LocalSettings", "ModelAsset", "ModelSettings", "PipelineConfig",
    "Probe", "RequestSettings", "Resources", "ResourceSpec", "RolloutSettings", "ScaleSettings", "ScoringSettings",
    "Section", "StackEnsembleSettings", "Training", "WorkspaceSettings", "check_azure_name",
]
