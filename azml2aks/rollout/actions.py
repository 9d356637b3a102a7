"""The rollout's vocabulary: the actions the engine yields and the observations it receives.

PURE: frozen dataclasses, no I/O. A driver executes each action and answers with an
observation (``Ok``, ``Failed``, ``ProbeResult``, or ``Planned`` for ``--dry-run``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


# --- actions -----------------------------------------------------------------------------
class Action:
    def to_dict(self) -> dict[str, Any]:
        return {"action": type(self).__name__, **asdict(self)}  # type: ignore[call-overload]


@dataclass(frozen=True)
class CreateDeployment(Action):
    colour: str


@dataclass(frozen=True)
class SmokeTest(Action):
    colour: str
    requests: int


@dataclass(frozen=True)
class Shadow(Action):
    """Replay the same rows to ``colour`` and ``baseline`` (both pinned) and compare."""

    colour: str
    baseline: str
    requests: int
    seconds: float


@dataclass(frozen=True)
class SetTraffic(Action):
    traffic: dict[str, int]


@dataclass(frozen=True)
class Wait(Action):
    seconds: float
    reason: str


@dataclass(frozen=True)
class Probe(Action):
    """Probe ``colour`` (pinned) and ``baseline`` with the same rows at ``percent`` traffic."""

    colour: str
    baseline: str | None
    percent: int
    requests: int
    seconds: float


@dataclass(frozen=True)
class Promote(Action):
    colour: str
    previous: str | None


@dataclass(frozen=True)
class DeleteDeployment(Action):
    colour: str


@dataclass(frozen=True)
class Rollback(Action):
    """Restore ``traffic`` (the last good split)."""

    traffic: dict[str, int]
    reason: str


# --- observations ------------------------------------------------------------------------
@dataclass(frozen=True)
class Ok:
    detail: str = ""


@dataclass(frozen=True)
class Failed:
    reason: str
    log_tail: str | None = None


@dataclass(frozen=True)
class Planned:
    """Sent by :func:`plan`: assume the action succeeded and every gate passed."""


@dataclass(frozen=True)
class Stats:
    """Probe statistics of one colour. ``samples`` counts answered requests (errors included)."""

    samples: int
    errors: int
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.samples if self.samples else None


@dataclass(frozen=True)
class ProbeResult:
    candidate: Stats
    baseline: Stats | None = None
    agreement: float | None = None
    metric: float | None = None


Observation = Ok | Failed | Planned | ProbeResult
