"""The local model registry (MLflow, in the work dir's sqlite file) and environment store.

Models: the best child run's ``outputs/mlflow-model`` registered as a new version with the
lineage tags; the same child run twice returns the existing version. Environments: files under
``<workdir>/environments/<name>/<version>/``, reused when the fingerprint matches.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from azml2aks.backends.local import store_sql, tracking
from azml2aks.errors import NotFoundError
from azml2aks.results import ChildRun, ModelVersion, TrainResult


def _version(mv, aliases: tuple[str, ...] = (), reused: bool = False) -> ModelVersion:
    tags = dict(mv.tags)
    value = tags.get("azml2aks.metric_value")
    return ModelVersion(
        name=mv.name, version=str(mv.version), run_id=mv.run_id, job_name=tags.get("azml2aks.job"),
        metric_name=tags.get("azml2aks.primary_metric"), metric_value=float(value) if value else None,
        source=mv.source, tags=tags, aliases=tuple(sorted(aliases or getattr(mv, "aliases", ()) or ())),
        created=str(mv.creation_timestamp), reused=reused,
    )


def register_model(workdir: Path, name: str, job: TrainResult, child: ChildRun, *, tags: dict[str, str],
                   description: str | None = None) -> ModelVersion:
    existing = [v for v in (store_sql.read_versions(workdir, name) or []) if v.run_id == child.run_id]
    if existing:
        return dataclasses.replace(existing[0], reused=True)
    run = store_sql.read_run(workdir, child.run_id)
    if run:  # the fast path (no MLflow import): the model folder is where the run keeps its artifacts
        source = tracking.artifact_path(run["artifact_uri"]) / tracking.MODEL_ARTIFACT_PATH
        _require_model(source, job, child)
        created = store_sql.create_version(workdir, name, source=str(source), run_id=child.run_id, tags=tags,
                                           description=description)
        if created is not None:
            return created
    return _register_via_mlflow(workdir, name, job, child, tags=tags, description=description)


def _require_model(source: Path, job: TrainResult, child: ChildRun) -> None:
    if not (source / "MLmodel").exists():
        raise NotFoundError(f"child run {child.run_id} of job {job.job_name} has no MLflow model at "
                            f"{tracking.MODEL_ARTIFACT_PATH}/", hint="register the job's best child run")


def _register_via_mlflow(workdir: Path, name: str, job: TrainResult, child: ChildRun, *, tags: dict[str, str],
                         description: str | None = None) -> ModelVersion:
    mlflow = tracking.client(workdir)
    existing = mlflow.search_model_versions(f"name = '{name}' and run_id = '{child.run_id}'")
    if existing:
        return _version(mlflow.get_model_version(name, existing[0].version), reused=True)
    if not mlflow.search_registered_models(filter_string=f"name = '{name}'"):
        mlflow.create_registered_model(name, description=description)
    source = tracking.artifact_dir(mlflow.get_run(child.run_id)) / tracking.MODEL_ARTIFACT_PATH
    _require_model(source, job, child)
    mv = mlflow.create_model_version(name, source=str(source), run_id=child.run_id, tags=tags,
                                     description=description)
    return _version(mlflow.get_model_version(name, mv.version))


def list_models(workdir: Path, name: str | None = None) -> list[ModelVersion]:
    fast = store_sql.read_versions(workdir, name)  # no MLflow import (see store_sql)
    if fast is not None:
        return fast
    mlflow = tracking.client(workdir)
    query = f"name = '{name}'" if name else ""
    versions = mlflow.search_model_versions(query, max_results=10000)
    out = [_version(mlflow.get_model_version(v.name, v.version)) for v in versions]
    return sorted(out, key=lambda m: (m.name, int(m.version)))


def get_model(workdir: Path, name: str, version: str | None = None, *, alias: str | None = None) -> ModelVersion:
    if alias or version:
        fast = store_sql.read_versions(workdir, name, version=version, alias=alias)
        if fast:
            return fast[-1]
        if fast == []:
            raise _not_found(name, version, alias)
        return _get_model_mlflow(workdir, name, version, alias=alias)
    versions = list_models(workdir, name)
    if not versions:
        raise NotFoundError(f"model {name!r} is not registered in the local registry",
                            hint="run `azml2aks train PIPELINE` then `azml2aks register PIPELINE`")
    return versions[-1]


def _not_found(name: str, version: str | None, alias: str | None) -> NotFoundError:
    what = f"alias {alias!r}" if alias else f"version {version}"
    return NotFoundError(f"model {name!r} has no {what} in the local registry",
                        hint="list versions with `azml2aks models PIPELINE`; register with `azml2aks register PIPELINE`")


def _get_model_mlflow(workdir: Path, name: str, version: str | None, *, alias: str | None) -> ModelVersion:
    from mlflow.exceptions import MlflowException

    mlflow = tracking.client(workdir)
    try:
        if alias:
            return _version(mlflow.get_model_version_by_alias(name, alias))
        if version:
            return _version(mlflow.get_model_version(name, str(version)))
    except MlflowException:
        raise _not_found(name, version, alias) from None
    raise AssertionError("unreachable: either alias or version is given")


def set_model_alias(workdir: Path, name: str, alias: str, version: str) -> None:
    if not store_sql.set_alias(workdir, name, alias, str(version)):
        tracking.client(workdir).set_registered_model_alias(name, alias, str(version))


def download_model(model: ModelVersion, destination: Path) -> Path:
    source = Path(model.source)
    if not (source / "MLmodel").exists():
        raise NotFoundError(f"model {model.ref}: its files are missing at {source}",
                            hint="the work dir was changed by hand; register the model again")
    target = destination / "mlflow-model"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def register_environment(workdir: Path, name: str, *, conda_file: Path | None, image: str,
                         fingerprint: str) -> tuple[str, bool]:
    root = workdir / "environments" / name
    versions = sorted((int(p.name) for p in root.glob("*") if p.name.isdigit()), reverse=True) if root.exists() else []
    for v in versions:
        meta = json.loads((root / str(v) / "environment.json").read_text())
        if meta.get("fingerprint") == fingerprint:
            return str(v), True
    version = str((versions[0] if versions else 0) + 1)
    folder = root / version
    folder.mkdir(parents=True)
    if conda_file is not None:
        shutil.copyfile(conda_file, folder / "conda.yaml")
    (folder / "environment.json").write_text(json.dumps({"name": name, "version": version, "image": image,
                                                          "fingerprint": fingerprint}, indent=2))
    return version, False
