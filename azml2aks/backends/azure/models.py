"""Registered models on Azure ML: register the best child's MLflow model, list, alias, download.

A model version is registered from the child run's job output,
``azureml://jobs/<child>/outputs/artifacts/outputs/mlflow-model/`` (the form of the official
AutoML notebooks), as an ``mlflow_model`` with the lineage tags the pipeline computed (the
same tags as on the local backend, the training data asset ``name:version`` among them).
The same child run twice returns the existing version (found by its ``azml2aks.child_run_id``
tag): registering is idempotent.

The workspace registry has no aliases, so an alias is the tag ``azml2aks.alias.<alias>`` on
the one version that holds it (ports.py). Moving it is read-modify-write: the new holder is
tagged first, then the tag is taken off the others, so the alias is never missing.
``download_model`` fetches only the version's MLflow model folder (the registered path).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from azml2aks.backends.azure.client import create_next_version, translate
from azml2aks.config.specs import ModelSpec
from azml2aks.errors import Azml2aksError, NotFoundError
from azml2aks.results import ChildRun, ModelVersion, TrainResult

logger = logging.getLogger(__name__)

ALIAS_TAG = "azml2aks.alias."
MODEL_OUTPUT = "azureml://jobs/{run}/outputs/artifacts/outputs/mlflow-model/"


def model_version(model: Any, *, reused: bool = False) -> ModelVersion:
    """The port's ModelVersion of an SDK ``Model`` entity."""
    tags = {str(k): str(v) for k, v in (model.tags or {}).items()}
    value = tags.get("azml2aks.metric_value")
    created = getattr(getattr(model, "creation_context", None), "created_at", None)
    return ModelVersion(
        name=model.name, version=str(model.version),
        run_id=tags.get("azml2aks.child_run_id") or getattr(model, "job_name", None),
        job_name=tags.get("azml2aks.job"), metric_name=tags.get("azml2aks.primary_metric"),
        metric_value=float(value) if value else None, source=str(model.path or ""), tags=tags,
        aliases=tuple(sorted(k[len(ALIAS_TAG):] for k, v in tags.items() if k.startswith(ALIAS_TAG) and v == "true")),
        created=str(created) if created else None, reused=reused,
    )


def _version_key(model: Any) -> tuple[int, str]:
    v = str(model.version)
    return (int(v), "") if v.isdigit() else (-1, v)


class AzureModels:
    """The Models port on Azure ML (mixed into AzureBackend, which provides ``ml``)."""

    ml: Any

    def _versions(self, name: str) -> list[Any]:
        """Every version of model ``name`` (none when the model does not exist yet), oldest first."""
        try:
            with translate(f"listing the versions of model {name}"):
                return sorted(self.ml.models.list(name=name), key=_version_key)
        except NotFoundError:
            return []

    def register_model(self, spec: ModelSpec, job: TrainResult, child: ChildRun, *,
                       tags: Mapping[str, str]) -> ModelVersion:
        versions = self._versions(spec.name)
        for existing in versions:
            if (existing.tags or {}).get("azml2aks.child_run_id") == child.run_id:
                logger.info("child run %s is already model %s:%s", child.run_id, spec.name, existing.version)
                return model_version(existing, reused=True)
        from azure.ai.ml.entities import Model

        path = MODEL_OUTPUT.format(run=child.run_id)
        # the version is numbered here, after the listed ones: without one the SDK numbers it from
        # the container's latestVersion, and a container body without it (the official
        # ModelContainer example) makes the SDK fail building the request
        first = max((int(m.version) for m in versions if str(m.version).isdigit()), default=0) + 1

        def create(version: str) -> Any:
            return self.ml.models.create_or_update(Model(
                name=spec.name, version=version, type="mlflow_model", path=path, description=spec.description,
                tags={k: v for k, v in tags.items() if not k.startswith(ALIAS_TAG)}))

        created = create_next_version("model", spec.name, first, create)
        logger.info("registered %s:%s from child run %s of job %s (%s)", created.name, created.version,
                    child.run_id, job.job_name, path)
        return model_version(created)

    def list_models(self, name: str | None = None) -> list[ModelVersion]:
        if name is not None:
            return [model_version(m) for m in self._versions(name)]
        with translate("listing the workspace's models"):
            names = sorted(m.name for m in self.ml.models.list())
        return [mv for n in names for mv in self.list_models(n)]

    def get_model(self, name: str, version: str | None = None, *, alias: str | None = None) -> ModelVersion:
        if alias is not None:
            holders = [m for m in self._versions(name) if (m.tags or {}).get(ALIAS_TAG + alias) == "true"]
            if not holders:
                raise NotFoundError(f"model {name!r} has no version with alias {alias!r} in the workspace",
                                    hint="register one with `azml2aks register PIPELINE` (the first version gets it)")
            return model_version(holders[-1])
        if version is not None:
            try:
                with translate(f"reading model {name}:{version}"):
                    return model_version(self.ml.models.get(name, version=str(version)))
            except NotFoundError as e:
                raise NotFoundError(f"model {name}:{version} is not registered in workspace "
                                    f"{getattr(self, 'workspace_name', '')}".rstrip(),
                                    hint="list its versions with `azml2aks models PIPELINE`, or register one "
                                    "with `azml2aks register PIPELINE`") from e
        versions = self._versions(name)
        if not versions:
            raise NotFoundError(f"model {name!r} is not registered in the workspace",
                                hint="run `azml2aks train PIPELINE` then `azml2aks register PIPELINE`")
        return model_version(versions[-1])

    def set_model_alias(self, name: str, alias: str, version: str) -> None:
        key = ALIAS_TAG + alias
        versions = self._versions(name)
        target = next((m for m in versions if str(m.version) == str(version)), None)
        if target is None:
            raise NotFoundError(f"model {name}:{version} does not exist in the workspace",
                                hint="list versions with `azml2aks models PIPELINE`")
        if (target.tags or {}).get(key) != "true":
            self._retag(target, {**(target.tags or {}), key: "true"})
        for other in versions:
            if other is not target and (other.tags or {}).get(key) == "true":
                self._retag(other, {k: v for k, v in (other.tags or {}).items() if k != key})

    def _retag(self, model: Any, tags: dict[str, str]) -> None:
        """Re-PUT a version with new tags. The body repeats the registration (same job-output
        path, so the service keeps the version's job link); only the tags differ."""
        child = (model.tags or {}).get("azml2aks.child_run_id")
        if child:
            model.path = MODEL_OUTPUT.format(run=child)
        model.tags = tags
        with translate(f"updating the tags of model {model.name}:{model.version}"):
            self.ml.models.create_or_update(model)

    def download_model(self, model: ModelVersion, destination: Path) -> Path:
        """Download the version's MLflow model folder to ``destination/mlflow-model``."""
        target = Path(destination) / "mlflow-model"
        Path(destination).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="azml2aks-model-", dir=destination) as tmp:
            try:
                with translate(f"downloading model {model.ref}"):
                    self.ml.models.download(model.name, version=model.version, download_path=tmp)
            except Azml2aksError as e:  # e.g. a path the SDK cannot read (the official ModelVersion example's)
                e.hint = e.hint or (f"its registered path is {model.source or 'empty'}; register the AutoML job's "
                                    "best child with `azml2aks register PIPELINE`, or package a downloaded MLflow "
                                    "model folder with `azml2aks package PIPELINE --model-path FOLDER`")
                raise
            found = sorted(Path(tmp).rglob("MLmodel"))
            if not found:
                raise NotFoundError(f"model {model.ref} has no MLflow model (no MLmodel file under {model.source})",
                                    hint="register the AutoML job's best child run with `azml2aks register PIPELINE`")
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(found[0].parent), target)
        return target
