"""azml2aks: from an Azure ML AutoML experiment to a blue/green Kubernetes online endpoint.

The public Python API::

    from azml2aks import load_pipeline

    p = load_pipeline("pipeline.yaml", backend="local")
    job = p.train()            # TrainResult
    model = p.register(job)    # ModelVersion
    package = p.package(model) # PackageResult
    p.attach()                 # AttachResult
    result = p.deploy(package) # DeployResult (raises RolloutAborted after a rollback)

Names are imported lazily so that ``import azml2aks`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "load_pipeline": "azml2aks.pipeline",
    "Pipeline": "azml2aks.pipeline",
    "load_config": "azml2aks.config.loader",
    "parse_config": "azml2aks.config.loader",
    "PipelineConfig": "azml2aks.config",
    "TrainResult": "azml2aks.results",
    "ChildRun": "azml2aks.results",
    "ModelVersion": "azml2aks.results",
    "PackageResult": "azml2aks.results",
    "AttachResult": "azml2aks.results",
    "DeployResult": "azml2aks.results",
    "Azml2aksError": "azml2aks.errors",
    "ConfigError": "azml2aks.errors",
    "DataError": "azml2aks.errors",
    "GateError": "azml2aks.errors",
    "NotFoundError": "azml2aks.errors",
    "UnsupportedError": "azml2aks.errors",
    "BackendError": "azml2aks.errors",
    "LockedError": "azml2aks.errors",
    "RolloutAborted": "azml2aks.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'azml2aks' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from azml2aks.config import PipelineConfig
    from azml2aks.config.loader import load_config, parse_config
    from azml2aks.errors import (
        Azml2aksError,
        BackendError,
        ConfigError,
        DataError,
        GateError,
        LockedError,
        NotFoundError,
        RolloutAborted,
        UnsupportedError,
    )
    from azml2aks.pipeline import Pipeline, load_pipeline
    from azml2aks.results import (
        AttachResult,
        ChildRun,
        DeployResult,
        ModelVersion,
        PackageResult,
        TrainResult,
    )
