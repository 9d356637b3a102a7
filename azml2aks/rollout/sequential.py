"""The sequential test: a probe round that stops as soon as its verdict is settled. PURE.

The engine puts a :class:`StopRule` on every ``Shadow`` and ``Probe`` action: the gates, the
confidence and what the round is judged against. The driver opens a :class:`Tally` for the
round, feeds it one :class:`RowOutcome` per hold-out row (the candidate's and the baseline's
answers to the same row, sent back to back), and asks the rule after each row whether the
round is settled::

    tally = Tally(planned=len(rows))
    for outcome in answers:                 # the prober's loop, one row at a time
        tally.add(outcome)
        if action.stop.settled(tally.result()):
            break                           # no new rows; the ones in flight still count
    observation = tally.result(seconds=..., stopped=...)

"Settled" is decided by the same :func:`azml2aks.rollout.gates.judge` the engine uses on the
observation, so a round never stops on a verdict the engine would not reach: it fails once a
gate would fail even if every remaining probe went well (errors already over the allowance,
agreement already out of reach, a sign test already beyond chance), and passes once every
gate would pass even if every remaining probe went badly, or its interval already clears the
threshold at the confidence asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from azml2aks.config import Gates
from azml2aks.rollout.actions import ProbeResult, Stats
from azml2aks.rollout.gates import Context, settled
from azml2aks.rollout.stats import percentile


@dataclass(frozen=True)
class StopRule:
    """When a round of probes may stop: the gates and what the round is judged against."""

    gates: Gates
    metric_name: str | None = None
    registered_metric: float | None = None
    live_p99_ms: float | None = None

    @property
    def context(self) -> Context:
        return Context(self.gates, self.metric_name, self.registered_metric, self.live_p99_ms)

    def settled(self, result: ProbeResult) -> str | None:
        """``"fail"``/``"pass"`` once ``result``'s verdict can no longer change, else None."""
        return settled(result, self.context)


@dataclass(frozen=True)
class RowOutcome:
    """One hold-out row sent to the candidate (and the baseline, when there is one).

    ``ms``/``base_ms``: latency when answered well, None when the request failed.
    ``agree``: both answered and the predictions match (None: not comparable).
    ``correct``: the candidate's prediction equals the row's label (None: no label, or the
    primary metric is not accuracy).
    """

    row: int
    ms: float | None
    base_ms: float | None = None
    has_baseline: bool = False
    agree: bool | None = None
    correct: bool | None = None


@dataclass
class Tally:
    """The running counts of one round (not thread-safe: the caller holds the lock)."""

    planned: int
    outcomes: list[RowOutcome] = field(default_factory=list)

    def add(self, outcome: RowOutcome) -> None:
        self.outcomes.append(outcome)

    def __len__(self) -> int:
        return len(self.outcomes)

    def result(self, *, metric: float | None = None, seconds: float | None = None,
               stopped: str | None = None) -> ProbeResult:
        """The round so far as the observation the engine judges."""
        outs = self.outcomes
        cand_ms = tuple(o.ms for o in outs if o.ms is not None)
        candidate = Stats(len(outs), sum(o.ms is None for o in outs), percentile(cand_ms, 50), percentile(cand_ms, 99))
        baseline = None
        if any(o.has_baseline for o in outs):
            base = [o for o in outs if o.has_baseline]
            base_ms = [o.base_ms for o in base if o.base_ms is not None]
            baseline = Stats(len(base), sum(o.base_ms is None for o in base), percentile(base_ms, 50),
                             percentile(base_ms, 99))
        compared = [o.agree for o in outs if o.agree is not None]
        labelled = [o.correct for o in outs if o.correct is not None]
        correct = sum(labelled)
        if metric is None and labelled:
            metric = correct / len(labelled)
        return ProbeResult(
            candidate, baseline,
            agreement=sum(compared) / len(compared) if compared else None,
            metric=metric,
            compared=len(compared) if baseline is not None else None,
            agreed=sum(compared) if baseline is not None else None,
            labelled=len(labelled) if labelled else None,
            correct=correct if labelled else None,
            pairs=tuple((o.ms, o.base_ms) for o in outs if o.ms is not None and o.base_ms is not None),
            candidate_ms=cand_ms,
            rows=len({o.row for o in outs}),
            planned=self.planned,
            seconds=seconds,
            stopped=stopped,
        )
