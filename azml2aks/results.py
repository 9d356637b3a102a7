"""Typed results of each stage. Each is a frozen dataclass with ``to_dict()`` for the journal
and ``--output json``; nothing secret is ever stored in one."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


class _Result:
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class ChildRun(_Result):
    """One AutoML trial."""

    run_id: str
    algorithm: str
    metric_value: float | None
    status: str = "Completed"
    params: dict[str, Any] = field(default_factory=dict)
    has_model: bool = False
    duration_seconds: float | None = None


@dataclass(frozen=True)
class TrainResult(_Result):
    """An AutoML job (the parent run) and its outcome."""

    job_name: str
    backend: str
    status: str
    task: str
    primary_metric: str
    experiment_name: str
    best_child_run_id: str | None = None
    best_metric_value: float | None = None
    best_algorithm: str | None = None
    trials: int = 0
    training_data: str | None = None
    training_data_sha256: str | None = None
    duration_seconds: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class ModelVersion(_Result):
    """A registered model version with its lineage tags."""

    name: str
    version: str
    run_id: str | None
    job_name: str | None
    metric_name: str | None
    metric_value: float | None
    source: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    created: str | None = None
    reused: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class PackageResult(_Result):
    """What the package stage wrote and proved."""

    model: str
    directory: str
    files: tuple[str, ...]
    environment_name: str
    environment_version: str | None
    environment_reused: bool
    fingerprint: str
    contract: dict[str, Any] = field(default_factory=dict)
    conflicts: tuple[str, ...] = ()
    # the offline server/Python check and the resolution (status, reason, resolved versions)
    environment_check: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AttachResult(_Result):
    compute: str
    backend: str
    status: str
    checks: tuple[dict, ...] = ()


@dataclass(frozen=True)
class DeployResult(_Result):
    """The outcome of a rollout."""

    endpoint: str
    scoring_uri: str
    result: str  # "promoted" | "rolled_back" | "created" | "planned"
    colour: str
    previous: str | None
    traffic: dict[str, int]
    steps: tuple[dict, ...] = ()
    model: str | None = None
    requests: tuple[str, ...] = ()  # --dry-run: what the backend would send, one line per request
