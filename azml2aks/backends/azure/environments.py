"""Inference environments on Azure ML, reused by fingerprint and never overwritten.

An environment version is immutable (a PUT that changes its image or conda file is a 409),
so ``environments.create_or_update`` without a version is not used: it re-PUTs the latest
version and relies on that 409. Instead the versions are listed, the one whose
``azml2aks.fingerprint`` tag (sha256 of the canonical conda file + image) matches is
reused, and otherwise the next free number is registered explicitly, with the fingerprint
tag; a 409 there (another agent took that number meanwhile) moves on to the next one.

The versions are read as the service's REST objects (version name and tags only), not as SDK
``Environment`` entities: converting one parses its conda file, and a version whose
``condaFile`` is no YAML mapping (the official EnvironmentVersion list example holds
``"string"``; any environment someone registered by hand may) makes the SDK raise for the
whole page, which would stop every later package of this environment.
"""

from __future__ import annotations

import logging
from typing import Any

from azml2aks.backends.azure.client import create_next_version, translate
from azml2aks.backends.ports import EnvironmentRef
from azml2aks.config.specs import EnvironmentSpec
from azml2aks.errors import NotFoundError

logger = logging.getLogger(__name__)

FINGERPRINT_TAG = "azml2aks.fingerprint"


class AzureEnvironments:
    """The Environments port on Azure ML (mixed into AzureBackend, which provides ``ml``)."""

    ml: Any

    def _environment_versions(self, name: str) -> list[tuple[str, dict]]:
        """(version, tags) of every active version of environment ``name`` (none when new)."""
        from azure.ai.ml.constants import ListViewType

        ops = self.ml.environments  # the SDK's own REST operation, without the entity conversion
        try:
            with translate(f"listing the versions of environment {name}"):
                rest = list(ops._version_operations.list(
                    name=name, workspace_name=ops._workspace_name, cls=lambda objs: objs,
                    list_view_type=ListViewType.ACTIVE_ONLY, **ops._scope_kwargs, **ops._kwargs))
        except NotFoundError:
            return []
        return [(str(v.name), dict(getattr(v.properties, "tags", None) or {})) for v in rest]

    def register_environment(self, spec: EnvironmentSpec) -> EnvironmentRef:
        versions = self._environment_versions(spec.name)
        for version, tags in versions:
            if tags.get(FINGERPRINT_TAG) == spec.fingerprint:
                logger.info("environment %s:%s has fingerprint %s; reused", spec.name, version, spec.fingerprint[:12])
                return EnvironmentRef(spec.name, version, reused=True)
        from azure.ai.ml.entities import Environment

        numbers = [int(v) for v, _ in versions if v.isdigit()]

        def create(version: str) -> Any:
            return self.ml.environments.create_or_update(Environment(
                name=spec.name, version=version, image=spec.image, conda_file=spec.conda_file,
                description=spec.description, tags={FINGERPRINT_TAG: spec.fingerprint}))

        created = create_next_version("environment", spec.name, max(numbers, default=0) + 1, create)
        logger.info("registered environment %s:%s", spec.name, created.version)
        return EnvironmentRef(spec.name, str(created.version), reused=False)
