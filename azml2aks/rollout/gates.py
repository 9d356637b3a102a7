"""Gate judgement: one probe round against the ``rollout.gates`` thresholds. PURE.

:func:`judge` returns each gate's value, threshold and status (pass / fail / inconclusive /
skipped); the engine turns a verdict into hold, re-measure, next step or rollback.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from azml2aks import metrics as M
from azml2aks.config import Gates
from azml2aks.rollout.actions import ProbeResult

PASS, FAIL, INCONCLUSIVE, SKIPPED, PLANNED = "pass", "fail", "inconclusive", "skipped", "planned"
#: Gates whose failure on one round may be noise: measured again ``gates.latency_retries`` times.
LATENCY_GATES = frozenset({"p99_ms", "p99_ratio"})

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

