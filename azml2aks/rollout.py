"""The blue/green rollout engine: PURE (no I/O, no backend import, clock injected).

A sans-I/O flow in the style of httpx's auth flows. :meth:`Rollout.flow` is a generator that
*yields actions* and *receives observations*; a driver (``azml2aks.deploy``, ``plan`` here,
or a test) executes each action and sends back what it observed::

    flow = Rollout(traffic, "green", settings).flow()
    action = next(flow)
    while True:
        observation = execute(action)          # the only I/O, owned by the driver
        try:
            action = flow.send(observation)
        except StopIteration as stop:
            report = stop.value                # a Report: promoted | created | rolled_back
            break

Actions: CreateDeployment, SmokeTest, Shadow, SetTraffic, Wait, Probe, Promote,
DeleteDeployment, Rollback. Observations: Ok, Failed, ProbeResult (and Planned, which
``plan`` sends to walk the happy path for ``--dry-run``).

Rules enforced here: live traffic sums to 100 (or 0 for an empty endpoint); a deployment
with live traffic is never deleted; an empty endpoint gets the new colour at 100 % right
after its smoke test; an inconclusive step (fewer than ``gates.min_samples`` probes) is held
``gates.inconclusive_holds`` times, then fails; a step failing on latency alone is measured
again ``gates.latency_retries`` times before it fails; any failure restores the last good split
(Rollback) and the report says ``rolled_back``; the previous colour stays at 0 % after
promotion unless ``delete_previous``. Gate judgement is :func:`judge`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from azml2aks import metrics as M
from azml2aks.config import Gates, RolloutSettings

PASS, FAIL, INCONCLUSIVE, SKIPPED, PLANNED = "pass", "fail", "inconclusive", "skipped", "planned"
#: Gates whose failure on one round may be noise: measured again ``gates.latency_retries`` times.
LATENCY_GATES = frozenset({"p99_ms", "p99_ratio"})


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


# --- gate judgement ----------------------------------------------------------------------
@dataclass(frozen=True)
class GateFigure:
    gate: str
    value: float | None
    threshold: float | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Judgement:
    verdict: str  # pass | fail | inconclusive
    figures: tuple[GateFigure, ...]

    @property
    def failed(self) -> list[str]:
        return [f.gate for f in self.figures if f.status == FAIL]


def judge(result: ProbeResult, gates: Gates, *, metric_name: str | None = None,
          registered_metric: float | None = None, live_p99_ms: float | None = None) -> Judgement:
    """Judge one probe round against ``gates``; returns each gate's value, threshold and status.

    Fewer than ``min_samples`` answered probes makes every statistical gate inconclusive
    (error rate still fails when errors already exceed the allowance). p99 ratio is measured
    against ``max(baseline p99, live_p99_ms, gates.p99_floor_ms)``: ``live_p99_ms`` is the live
    colour's worst p99 earlier in this rollout (while it carried the load), so a new colour at
    100 % is not compared with an idle old colour, and sub-millisecond noise cannot fail it.
    """
    c, b = result.candidate, result.baseline
    enough = c.samples >= gates.min_samples
    soft = PASS if enough else INCONCLUSIVE

    def check(ok: bool | None) -> str:
        if ok is None:
            return SKIPPED
        return soft if ok else (FAIL if enough else INCONCLUSIVE)

    figures = [GateFigure("samples", c.samples, gates.min_samples, PASS if enough else INCONCLUSIVE)]
    rate = c.error_rate
    allowance = gates.max_error_rate * max(c.samples, gates.min_samples)
    figures.append(GateFigure("error_rate", rate, gates.max_error_rate,
                              FAIL if c.errors > allowance else check(rate is None or rate <= gates.max_error_rate)))
    p99_ok = None if c.samples == 0 else (c.p99_ms is not None and c.p99_ms <= gates.max_p99_ms)
    figures.append(GateFigure("p99_ms", c.p99_ms, gates.max_p99_ms, check(p99_ok)))
    ratio = None
    if b is not None and b.p99_ms is not None and c.p99_ms is not None:
        ratio = c.p99_ms / max(b.p99_ms, live_p99_ms or 0.0, gates.p99_floor_ms)
    figures.append(GateFigure("p99_ratio", ratio, gates.max_p99_ratio,
                              check(None if ratio is None else ratio <= gates.max_p99_ratio)))
    agreement = result.agreement
    figures.append(GateFigure("agreement", agreement, gates.min_agreement,
                              check(None if agreement is None else agreement >= gates.min_agreement)))
    if result.metric is not None and registered_metric is not None and metric_name:
        sign = 1 if M.higher_is_better(metric_name) else -1
        threshold = registered_metric - sign * gates.metric_tolerance
        figures.append(GateFigure(metric_name, result.metric, threshold,
                                  check(M.meets(result.metric, threshold, metric_name))))
    statuses = {f.status for f in figures}
    verdict = FAIL if FAIL in statuses else INCONCLUSIVE if INCONCLUSIVE in statuses else PASS
    return Judgement(verdict, tuple(figures))


def judge_smoke(result: ProbeResult) -> Judgement:
    """The smoke test passes when at least one request was answered and none failed."""
    c = result.candidate
    figures = (GateFigure("samples", c.samples, 1, PASS if c.samples >= 1 else FAIL),
               GateFigure("errors", c.errors, 0, PASS if c.errors == 0 else FAIL))
    verdict = PASS if all(f.status == PASS for f in figures) else FAIL
    return Judgement(verdict, figures)


# --- the report --------------------------------------------------------------------------
@dataclass
class Report:
    """What happened. ``result``: created | promoted | rolled_back."""

    colour: str
    previous: str | None
    last_good: dict[str, int]
    result: str = "running"
    traffic: dict[str, int] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    log_tail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the engine --------------------------------------------------------------------------
def check_split(traffic: dict[str, int]) -> None:
    """Raise ValueError unless ``traffic`` is a valid live split (sums to 100, or all 0)."""
    if any(not isinstance(p, int) or p < 0 or p > 100 for p in traffic.values()):
        raise ValueError(f"traffic percentages must be whole numbers in 0..100; got {traffic}")
    total = sum(traffic.values())
    if total not in (0, 100):
        raise ValueError(f"live traffic must sum to 100 (or 0); got {total} in {traffic}")


class Rollout:
    """One rollout of ``colour`` onto an endpoint whose live split is ``traffic``."""

    def __init__(self, traffic: dict[str, int], colour: str, settings: RolloutSettings, *,
                 metric_name: str | None = None, registered_metric: float | None = None,
                 clock: Callable[[], float] = lambda: 0.0) -> None:
        check_split(traffic)
        if traffic.get(colour, 0) > 0:
            raise ValueError(
                f"deployment {colour!r} has {traffic[colour]} % live traffic; "
                "promote or roll back the current split before deploying onto it")
        live = {c: p for c, p in traffic.items() if p > 0}
        if len(live) > 1:
            raise ValueError(f"the endpoint has a split in progress ({live}); promote or roll back first")
        self.traffic = dict(traffic)
        self.colour = colour
        self.settings = settings
        self.metric_name = metric_name
        self.registered_metric = registered_metric
        self.clock = clock
        self.previous = next(iter(live), None)
        self.report = Report(colour=colour, previous=self.previous, last_good=dict(traffic),
                             traffic=dict(traffic))
        self._start = clock()
        self._live_p99: float | None = None  # the live colour's worst p99 so far (see judge)

    # The split at ``percent`` for the new colour; every other deployment keeps its entry.
    def split(self, percent: int) -> dict[str, int]:
        new = {c: 0 for c in self.traffic}
        new[self.colour] = percent
        if self.previous is not None:
            new[self.previous] = 100 - percent
        check_split(new)
        return new

    def _record(self, phase: str, judgement: Judgement | None, *, percent: int | None = None,
                attempt: int = 1, note: str | None = None) -> None:
        entry: dict[str, Any] = {"phase": phase, "percent": percent, "attempt": attempt,
                                 "traffic": dict(self.report.traffic),
                                 "at_seconds": round(self.clock() - self._start, 3)}
        if judgement is None:
            entry.update(verdict=PLANNED, gates=[])
        else:
            entry.update(verdict=judgement.verdict, gates=[f.to_dict() for f in judgement.figures])
        if note:
            entry["note"] = note
        self.report.steps.append(entry)

    def _judge(self, obs: Observation) -> Judgement | None:
        if isinstance(obs, Planned):
            return None
        if isinstance(obs, Failed):
            return Judgement(FAIL, (GateFigure("probe", None, None, FAIL),))
        assert isinstance(obs, ProbeResult), obs
        judgement = judge(obs, self.settings.gates, metric_name=self.metric_name,
                          registered_metric=self.registered_metric, live_p99_ms=self._live_p99)
        if obs.baseline is not None and obs.baseline.p99_ms is not None:
            self._live_p99 = max(self._live_p99 or 0.0, obs.baseline.p99_ms)
        return judgement

    def _gated(self, make: Callable[[], Action], phase: str, percent: int | None
               ) -> Generator[Action, Observation, str | None]:
        """Probe, holding while inconclusive; return None on pass, else the failure reason."""
        holds = self.settings.gates.inconclusive_holds
        latency_retries = self.settings.gates.latency_retries
        attempt = 1
        while True:
            obs = yield make()
            judgement = self._judge(obs)
            self._record(phase, judgement, percent=percent, attempt=attempt,
                         note=obs.reason if isinstance(obs, Failed) else None)
            if judgement is None or judgement.verdict == PASS:
                return None
            if isinstance(obs, Failed):
                self.report.log_tail = obs.log_tail
                return f"{phase} failed: {obs.reason}"
            if judgement.verdict == INCONCLUSIVE and attempt <= holds:
                attempt += 1
                if self.settings.bake_seconds > 0:
                    yield Wait(self.settings.bake_seconds, f"hold {phase}: inconclusive")
                continue
            if judgement.verdict == FAIL and set(judgement.failed) <= LATENCY_GATES and latency_retries > 0:
                latency_retries -= 1
                attempt += 1
                if self.settings.bake_seconds > 0:
                    yield Wait(self.settings.bake_seconds, f"measure {phase} again: latency only")
                continue
            where = f"{phase} at {percent} %" if percent is not None else phase
            if judgement.verdict == INCONCLUSIVE:
                return f"{where} stayed inconclusive (fewer than {self.settings.gates.min_samples} samples)"
            return f"{where} failed gate(s): {', '.join(judgement.failed)}"

    def _rollback(self, reason: str) -> Generator[Action, Observation, Report]:
        self.report.reason = reason
        obs = yield Rollback(dict(self.report.last_good), reason)
        if isinstance(obs, Failed):
            self.report.reason = f"{reason}; restoring {self.report.last_good} failed: {obs.reason}"
        else:
            self.report.traffic = dict(self.report.last_good)
        self.report.result = "rolled_back"
        return self.report

    def _act(self, action: Action) -> Generator[Action, Observation, str | None]:
        obs = yield action
        if isinstance(obs, Failed):
            self.report.log_tail = obs.log_tail
            return f"{type(action).__name__} {self.colour!r} failed: {obs.reason}"
        if isinstance(action, SetTraffic):
            self.report.traffic = dict(action.traffic)
        return None

    def flow(self) -> Generator[Action, Observation, Report]:
        s, colour = self.settings, self.colour
        failure = yield from self._act(CreateDeployment(colour))
        if failure:
            return (yield from self._rollback(failure))
        obs = yield SmokeTest(colour, s.smoke_requests)
        smoke = None if isinstance(obs, Planned) else (
            Judgement(FAIL, (GateFigure("probe", None, None, FAIL),)) if isinstance(obs, Failed)
            else judge_smoke(obs))
        self._record("smoke", smoke, note=obs.reason if isinstance(obs, Failed) else None)
        if smoke is not None and smoke.verdict != PASS:
            if isinstance(obs, Failed):
                self.report.log_tail = obs.log_tail
            return (yield from self._rollback(f"smoke test of {colour!r} failed"))

        if self.previous is None:  # first deployment: nothing to compare with, no ladder
            failure = yield from self._act(SetTraffic(self.split(100)))
            if failure:
                return (yield from self._rollback(failure))
            yield from self._act(Promote(colour, None))
            self.report.result = "created"
            return self.report

        base = self.previous
        if s.shadow_requests > 0:
            failure = yield from self._gated(
                lambda: Shadow(colour, base, s.shadow_requests, s.probe_seconds), "shadow", None)
            if failure:
                return (yield from self._rollback(failure))
        for percent in s.steps:
            failure = yield from self._act(SetTraffic(self.split(percent)))
            if failure:
                return (yield from self._rollback(failure))
            if s.bake_seconds > 0:
                yield Wait(s.bake_seconds, f"bake at {percent} %")
            failure = yield from self._gated(
                lambda p=percent: Probe(colour, base, p, s.probe_requests, s.probe_seconds), "step", percent)
            if failure:
                return (yield from self._rollback(failure))
        failure = yield from self._act(Promote(colour, base))
        if failure:
            return (yield from self._rollback(failure))
        self.report.last_good = dict(self.report.traffic)
        self.report.result = "promoted"
        if s.delete_previous and self.report.traffic.get(base, 0) == 0:
            yield DeleteDeployment(base)  # a failed delete does not undo a promotion
        return self.report


def drive(flow: Generator[Action, Observation, Report], execute: Callable[[Action], Observation]) -> Report:
    """Run ``flow`` to the end, executing each action with ``execute``."""
    action = next(flow)
    while True:
        try:
            action = flow.send(execute(action))
        except StopIteration as stop:
            return stop.value


def plan(traffic: dict[str, int], colour: str, settings: RolloutSettings) -> list[Action]:
    """The actions of a rollout in which everything passes (for ``--dry-run``)."""
    actions: list[Action] = []

    def execute(action: Action) -> Observation:
        actions.append(action)
        return Planned()

    drive(Rollout(traffic, colour, settings).flow(), execute)
    return actions


def choose_colour(traffic: dict[str, int], colours: Iterable[str]) -> str:
    """The colour to deploy: the first configured colour without live traffic."""
    colours = list(colours)
    for c in colours:
        if traffic.get(c, 0) == 0:
            return c
    raise ValueError(f"every colour in {colours} has live traffic ({traffic}); promote or roll back first")
