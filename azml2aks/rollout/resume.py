"""Where an unfinished rollout stands, as the run journal keeps it. PURE (no I/O).

The driver records a *stand* under the journal's progress entry ``rollout`` when a rollout
starts and after each ladder step that passes; ``deploy --resume`` reads it back into a
:class:`azml2aks.rollout.engine.Resume`, and ``rollback`` reads which colour it started from::

    {"endpoint": "wine-endpoint", "colour": "green", "previous": "blue", "start": {"blue": 100},
     "passed": 50, "model": "wine-classifier:3", "environment": "wine-env:2",
     "status": "running" | "interrupted" | "promoted" | "created" | "rolled_back"}

A stand whose status is ``running`` (the process died) or ``interrupted`` (Ctrl-C, restored)
can be resumed; any other status is finished.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azml2aks.results import ModelVersion
from azml2aks.rollout.engine import Resume, Rollout
from azml2aks.rollout.traffic import Traffic

#: The journal's progress entry of a rollout.
PROGRESS = "rollout"
UNFINISHED = ("running", "interrupted")


def stand(endpoint: str, colour: str, engine: Rollout, *, model: str | None, environment: str | None) -> dict[str, Any]:
    """Where ``engine``'s rollout of ``colour`` stands as it starts."""
    return {"endpoint": endpoint, "colour": colour, "previous": engine.previous, "start": dict(engine.report.last_good),
            "passed": engine.resume.passed if engine.resume is not None else 0, "model": model,
            "environment": environment, "status": "running"}


def interrupted(progress: Mapping[str, Any] | None, endpoint: str) -> dict[str, Any] | None:
    """The stand of an unfinished rollout on ``endpoint``, if the journal holds one."""
    if progress and progress.get("endpoint") == endpoint and progress.get("status") in UNFINISHED:
        return dict(progress)
    return None


def resume_point(where: Mapping[str, Any]) -> tuple[str, Resume]:
    """(colour, Resume) to go on with the rollout ``where`` describes."""
    return where["colour"], Resume(where.get("previous"), dict(where["start"]), int(where.get("passed") or 0))


def started_from(progress: Mapping[str, Any] | None, endpoint: str, traffic: Traffic) -> str | None:
    """The live colour the rollout in ``progress`` started from, if it still has traffic."""
    previous = (progress or {}).get("previous")
    if (progress or {}).get("endpoint") == endpoint and previous and traffic.get_ci(previous) > 0:
        return previous
    return None


def registered_model(register: Mapping[str, Any] | None, ref: str) -> ModelVersion | None:
    """The journal's ``register`` result as a ModelVersion when it is ``ref`` (no registry call)."""
    if register and f"{register.get('name')}:{register.get('version')}" == ref:
        return ModelVersion(**{k: tuple(v) if k == "aliases" else v for k, v in register.items()})
    return None
