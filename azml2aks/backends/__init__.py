"""Backend selection. Backends are imported lazily so `--help` and `validate` stay fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azml2aks.config import PipelineConfig
from azml2aks.errors import ConfigError

BACKENDS = ("local", "azure")


def get_backend(name: str, config: PipelineConfig, *, base_dir: Path, workdir: Path, credential: Any = None):
    """The backend called ``name`` for ``config``; ``credential`` (an azure-core TokenCredential)
    replaces DefaultAzureCredential on the Azure backend."""
    if name == "local":
        from azml2aks.backends.local.backend import LocalBackend

        return LocalBackend(config, base_dir=base_dir, workdir=workdir)
    if name == "azure":
        from azml2aks.backends.azure import AzureBackend

        return AzureBackend(config, base_dir=base_dir, workdir=workdir, credential=credential)
    raise ConfigError(f"unknown backend {name!r}", hint=f"use one of {', '.join(BACKENDS)}")
