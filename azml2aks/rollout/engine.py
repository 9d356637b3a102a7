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
with live traffic is never deleted; a ``Resume`` skips the create and the shadow phase and goes
on from the last ladder step that passed; an empty endpoint gets the new colour at 100 % right
after its smoke test; an inconclusive step (fewer than ``gates.min_samples`` probes) is held
``gates.inconclusive_holds`` times, then fails; a step failing on latency alone is measured
again ``gates.latency_retries`` times before it fails; any failure restores the last good split
(Rollback) and the report says ``rolled_back``; the previous colour stays at 0 % after
promotion unless ``delete_previous``. Gate judgement is :func:`judge`; every ``Shadow`` and
``Probe`` carries a :class:`StopRule` (the same judgement), which the driver consults between
probes so a round ends as soon as its verdict is settled. Each step records what the decision
rested on: samples, distinct rows, the budget, why it stopped, how long it took, and per gate
the value, interval, threshold and status.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from typing import Any

from azml2aks.config import RolloutSettings
from azml2aks.rollout.actions import (
    Action,
    CreateDeployment,
    DeleteDeployment,
    Failed,
    Observation,
    Planned,
    Probe,
    ProbeResult,
    Promote,
    Rollback,
    SetTraffic,
    Shadow,
    SmokeTest,
    Wait,
)
from azml2aks.rollout.gates import (
    FAIL,
    INCONCLUSIVE,
    LATENCY_GATES,
    PASS,
    PLANNED,
    GateFigure,
    Judgement,
    judge,
    judge_smoke,
)
from azml2aks.rollout.sequential import StopRule
from azml2aks.rollout.traffic import Traffic


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


@dataclass(frozen=True)
class Resume:
    """Where an interrupted rollout stood (from the run journal): the live colour it started
    from, the split before it (``start``, the last good one) and the highest ladder percent that
    passed (0: none)."""

    previous: str | None
    start: dict[str, int]
    passed: int = 0


# --- the engine --------------------------------------------------------------------------
class Rollout:
    """One rollout of ``colour`` onto an endpoint whose live split is ``traffic``."""

    def __init__(self, traffic: dict[str, int], colour: str, settings: RolloutSettings, *,
                 metric_name: str | None = None, registered_metric: float | None = None,
                 clock: Callable[[], float] = lambda: 0.0, resume: Resume | None = None) -> None:
        split = Traffic(traffic)
        self.resume = resume
        if resume is not None:  # an interrupted rollout of ``colour``: its split may be mid-ladder
            stray = set(split.live) - {colour, resume.previous}
            if stray:
                raise ValueError(f"cannot resume the rollout of {colour!r}: {sorted(stray)} took traffic meanwhile "
                                 f"({split.live}); promote or roll back first")
        elif split.get_ci(colour) > 0:
            raise ValueError(
                f"deployment {colour!r} has {traffic[colour]} % live traffic; "
                "promote or roll back the current split before deploying onto it")
        elif split.in_progress:
            raise ValueError(f"the endpoint has a split in progress ({split.live}); promote or roll back first")
        self.traffic = split
        self.colour = colour
        self.settings = settings
        self.metric_name = metric_name
        self.registered_metric = registered_metric
        self.clock = clock
        self.previous = resume.previous if resume is not None else split.live_colour
        last_good = dict(resume.start) if resume is not None else dict(traffic)
        self.report = Report(colour=colour, previous=self.previous, last_good=last_good,
                             traffic=dict(traffic))
        self._start = clock()
        self._live_p99: float | None = None  # the live colour's worst p99 so far (see judge)

    # The split at ``percent`` for the new colour; every other deployment keeps its entry.
    def split(self, percent: int) -> dict[str, int]:
        return self.traffic.at(self.colour, percent, self.previous).to_dict()

    def _record(self, phase: str, judgement: Judgement | None, *, percent: int | None = None,
                attempt: int = 1, note: str | None = None, obs: Observation | None = None,
                stats: Observation | None = None) -> None:
        entry: dict[str, Any] = {"phase": phase, "percent": percent, "attempt": attempt,
                                 "traffic": dict(self.report.traffic),
                                 "at_seconds": round(self.clock() - self._start, 3)}
        if judgement is None:
            entry.update(verdict=PLANNED, gates=[])
        else:
            entry.update(verdict=judgement.verdict, gates=[f.to_dict() for f in judgement.figures])
        probed = obs if isinstance(obs, ProbeResult) else stats
        if isinstance(probed, ProbeResult):  # each colour's probe statistics, for the report
            entry["colours"] = {self.colour: asdict(probed.candidate)}
            if probed.baseline is not None and self.previous:
                entry["colours"][self.previous] = asdict(probed.baseline)
        if note:
            entry["note"] = note
        if isinstance(obs, ProbeResult):  # what the decision rests on, and how long it took
            entry.update(samples=obs.candidate.samples, rows=obs.rows, planned=obs.planned,
                         seconds=None if obs.seconds is None else round(obs.seconds, 3), stopped=obs.stopped,
                         confidence=self.settings.gates.confidence)
        self.report.steps.append(entry)

    def stop_rule(self) -> StopRule:
        """How a round stops early: judged as :meth:`_judge` will judge its observation."""
        return StopRule(self.settings.gates, self.metric_name, self.registered_metric, self._live_p99)

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

    def _gated(self, make: Callable[[], Action], phase: str, percent: int | None, baseline: str | None = None
               ) -> Generator[Action, Observation, str | None]:
        """Probe, holding while inconclusive; return None on pass, else the failure reason."""
        holds = self.settings.gates.inconclusive_holds
        latency_retries = self.settings.gates.latency_retries
        attempt = 1
        while True:
            obs = yield make()
            judgement = self._judge(obs)
            self._record(phase, judgement, percent=percent, attempt=attempt,
                         note=obs.reason if isinstance(obs, Failed) else None, obs=obs)
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
                # not a failure yet: the step is measured again, and its line says so
                self.report.steps[-1]["then"] = "re-measure"
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
        s, colour, resume = self.settings, self.colour, self.resume
        if resume is None:  # resuming: the colour exists; the smoke test checks it still answers
            failure = yield from self._act(CreateDeployment(colour))
            if failure:
                return (yield from self._rollback(failure))
        obs = yield SmokeTest(colour, s.smoke_requests)
        smoke = None if isinstance(obs, Planned) else (
            Judgement(FAIL, (GateFigure("probe", None, None, FAIL),)) if isinstance(obs, Failed)
            else judge_smoke(obs))
        self._record("smoke", smoke, note=obs.reason if isinstance(obs, Failed) else None, stats=obs)
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
        if s.shadow_requests > 0 and resume is None:
            failure = yield from self._gated(
                lambda: Shadow(colour, base, s.shadow_requests, s.probe_seconds, self.stop_rule()), "shadow", None)
            if failure:
                return (yield from self._rollback(failure))
        for percent in s.steps:
            if resume is not None and percent < resume.passed:
                continue  # passed before the interruption; the last passed step is measured again
            failure = yield from self._act(SetTraffic(self.split(percent)))
            if failure:
                return (yield from self._rollback(failure))
            if s.bake_seconds > 0:
                yield Wait(s.bake_seconds, f"bake at {percent} %")
            failure = yield from self._gated(
                lambda p=percent: Probe(colour, base, p, s.probe_requests, s.probe_seconds, self.stop_rule()),
                "step", percent)
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

