"""The rollout's vocabulary: the actions the engine yields and the observations it receives.

PURE: frozen dataclasses, no I/O. A driver executes each action and answers with an
observation (``Ok``, ``Failed``, ``ProbeResult``, or ``Planned`` for ``--dry-run``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azml2aks.rollout.sequential import StopRule


# --- actions -----------------------------------------------------------------------------
class Action:
    def to_dict(self) -> dict[str, Any]:
        """The action's fields; its stopping rule (``stop``) is how it is judged, not what it does."""
        return {"action": type(self).__name__,
                **{f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "stop"}}  # type: ignore[arg-type]


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


@dataclass(frozen=True)
class CreateDeployment(Action):
    colour: str


@dataclass(frozen=True)
class SmokeTest(Action):
    colour: str
    requests: int


@dataclass(frozen=True)
class Shadow(Action):
    """Replay the same rows to ``colour`` and ``baseline`` (both pinned, in interleaved pairs) and
    compare. ``requests`` is the round's budget; ``stop`` ends it early once the verdict is settled."""

    colour: str
    baseline: str
    requests: int
    seconds: float
    stop: StopRule | None = field(default=None, compare=False, repr=False)


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
    stop: StopRule | None = field(default=None, compare=False, repr=False)


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
    """One probe round. The counts below let the gates state an interval and how many rows a
    figure rests on; a result without them (``None``) is judged on its point values alone.

    ``compared``/``agreed``: rows answered by both colours / predicted alike. ``labelled``/
    ``correct``: answered rows with a label / predicted right (classification). ``pairs``:
    (candidate ms, baseline ms) of rows both answered, sent back to back; ``candidate_ms``: every
    latency the candidate answered with. ``rows``: distinct
    hold-out rows sent. ``planned``: the round's budget; fewer samples than that means the round
    was stopped (``stopped`` says why). ``seconds``: how long the round took to decide.
    """

    candidate: Stats
    baseline: Stats | None = None
    agreement: float | None = None
    metric: float | None = None
    compared: int | None = None
    agreed: int | None = None
    labelled: int | None = None
    correct: int | None = None
    pairs: tuple[tuple[float, float], ...] = ()
    candidate_ms: tuple[float, ...] = ()
    rows: int | None = None
    planned: int | None = None
    seconds: float | None = None
    stopped: str | None = None


Observation = Ok | Failed | Planned | ProbeResult
