"""The Azure ML backend. Only this package imports ``azure.*``.

Its stages arrive one issue at a time; until a stage's Azure half exists, calling it raises
:class:`UnsupportedError` with a clear message instead of pretending to succeed.
"""

from __future__ import annotations

from pathlib import Path

from azml2aks.config import PipelineConfig
from azml2aks.errors import ConfigError, UnsupportedError


class AzureBackend:
    """The Azure ML workspace named in ``workspace:``."""

    name = "azure"

    def __init__(self, config: PipelineConfig, *, base_dir: Path, workdir: Path) -> None:
        ws = config.workspace
        missing = [f for f in ("subscription_id", "resource_group", "name") if not getattr(ws, f)]
        if missing:
            raise ConfigError(
                f"--backend azure needs workspace.{missing[0]} in pipeline.yaml",
                hint="set workspace.subscription_id, workspace.resource_group and workspace.name "
                "(e.g. from ${AZURE_SUBSCRIPTION_ID}), or run with --backend local",
            )
        self.config = config
        self.base_dir = base_dir
        self.workdir = workdir

    def __getattr__(self, operation: str):
        if operation.startswith("_"):
            raise AttributeError(operation)
        raise UnsupportedError(
            f"the Azure backend cannot run '{operation}' yet: this stage's Azure half is not built",
            hint="run the pipeline with --backend local meanwhile; nothing was sent to Azure",
        )
