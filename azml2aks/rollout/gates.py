"""Gate judgement: one probe round against the ``rollout.gates`` thresholds. PURE.

:func:`judge` returns each gate's value, interval, threshold and status (pass / fail /
inconclusive / skipped); the engine turns a verdict into hold, re-measure, next step or
rollback. The statistics are in :mod:`azml2aks.rollout.stats`; every interval end is a
one-sided bound at ``gates.confidence``.

The gates, and when each one fails:

- ``samples``: fewer than ``min_samples`` answered probes is inconclusive, never a pass;
- ``error_rate``: more failed probes than ``max_error_rate`` of the round's budget (at least
  ``min_samples``): with the defaults, one failed probe fails the round;
- ``p99_ms``: the candidate's p99 (nearest rank) above ``max_p99_ms``, an absolute ceiling;
- ``p99_ratio``: the candidate's p99 over the reference (the baseline's p99 in the same
  interleaved pairs, the live colour's p99 while it carried the load, ``p99_floor_ms``) above
  ``max_p99_ratio`` AND a sign test on the pairs says the candidate is slower beyond chance
  (``p_value`` below ``1 - confidence``): one slow request on a busy machine is not a verdict;
- ``agreement`` and an ``accuracy`` primary metric: proportions over distinct hold-out rows;
  they fail only when the whole interval lies below the threshold;
- any other primary metric: its point value against the registered one minus the tolerance.

A round that was stopped before its budget (``planned``) is judged by curtailment: a gate
that would fail even if every remaining probe went well has failed; one that would pass even
if every remaining probe went badly has passed (or, for the proportion gates, once its whole
interval lies above the threshold with at least ``min_samples``). :func:`settled` says when a
round's verdict can no longer change, which is what the sequential test stops on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from azml2aks import metrics as M
from azml2aks.config import Gates
from azml2aks.events import number
from azml2aks.rollout.actions import ProbeResult, Stats
from azml2aks.rollout.stats import paired_latency, percentile, wilson

PASS, FAIL, INCONCLUSIVE, SKIPPED, PLANNED = "pass", "fail", "inconclusive", "skipped", "planned"
#: Gates whose failure on one round may be noise: measured again ``gates.latency_retries`` times.
LATENCY_GATES = frozenset({"p99_ms", "p99_ratio"})


# --- gate judgement ----------------------------------------------------------------------
@dataclass(frozen=True)
class GateFigure:
    """One gate on one round. ``n``: the samples the figure rests on (for ``agreement`` and the
    metric, distinct hold-out rows); ``interval``: [low, high] one-sided bounds at the
    confidence; ``p_value``: the paired sign test of ``p99_ratio``."""

    gate: str
    value: float | None
    threshold: float | None
    status: str
    n: int | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.interval is not None:
            out["interval"] = [round(self.interval[0], 4), round(self.interval[1], 4)]
        if self.p_value is not None:
            out["p_value"] = round(self.p_value, 4)
        return out


@dataclass(frozen=True)
class Judgement:
    verdict: str  # pass | fail | inconclusive
    figures: tuple[GateFigure, ...]
    settled: bool = True  # False: a stopped round whose verdict could still change

    @property
    def failed(self) -> list[str]:
        return [f.gate for f in self.figures if f.status == FAIL]


@dataclass(frozen=True)
class Context:
    """What a round is judged against besides the gates."""

    gates: Gates
    metric_name: str | None = None
    registered_metric: float | None = None
    live_p99_ms: float | None = None


def judge(result: ProbeResult, gates: Gates, *, metric_name: str | None = None,
          registered_metric: float | None = None, live_p99_ms: float | None = None) -> Judgement:
    """Judge one probe round against ``gates``; returns each gate's value, threshold and status.

    p99 ratio is measured against ``max(baseline p99, live_p99_ms, gates.p99_floor_ms)``:
    ``live_p99_ms`` is the live colour's worst p99 earlier in this rollout (while it carried the
    load), so a new colour at 100 % is not compared with an idle old colour, and sub-millisecond
    noise cannot fail it.
    """
    return judge_in(result, Context(gates, metric_name, registered_metric, live_p99_ms))


def judge_in(result: ProbeResult, ctx: Context) -> Judgement:
    actual = _figures(result, ctx)
    remaining = _remaining(result)
    if not remaining:
        return Judgement(_verdict(actual.values()), tuple(actual.values()))
    best = _figures(complete(result, remaining, best=True), ctx)
    worst = _figures(complete(result, remaining, best=False), ctx)
    figures, open_gates = [], 0
    for gate, figure in actual.items():
        if gate == "samples":  # counted, not predicted: settled once there are enough
            status = figure.status
            open_gates += status != PASS
        elif best.get(gate) is not None and best[gate].status == FAIL:
            status = FAIL
        elif worst.get(gate) is not None and worst[gate].status in (PASS, SKIPPED) or _clear(figure, ctx):
            status = PASS if figure.status != SKIPPED else SKIPPED
        else:
            status, open_gates = figure.status, open_gates + 1
        figures.append(replace(figure, status=status))
    verdict = _verdict(figures)
    return Judgement(verdict, tuple(figures), settled=verdict == FAIL or open_gates == 0)


def settled(result: ProbeResult, ctx: Context) -> str | None:
    """``"fail"`` or ``"pass"`` once the round's verdict can no longer change; else None."""
    judgement = judge_in(result, ctx)
    if not judgement.settled:
        return None
    return FAIL if judgement.verdict == FAIL else PASS if judgement.verdict == PASS else None


def _remaining(result: ProbeResult) -> int:
    if result.planned is None:
        return 0
    return max(0, result.planned - result.candidate.samples)


def _verdict(figures) -> str:
    statuses = {f.status for f in figures}
    return FAIL if FAIL in statuses else INCONCLUSIVE if INCONCLUSIVE in statuses else PASS


def _clear(figure: GateFigure, ctx: Context) -> bool:
    """A proportion gate whose whole interval already lies on the passing side, on enough rows."""
    g = ctx.gates
    if figure.interval is None or figure.n is None or figure.n < g.min_samples:
        return False
    low, high = figure.interval
    if figure.gate == "error_rate":
        return high <= g.max_error_rate
    if figure.gate == "agreement" or figure.gate == ctx.metric_name == "accuracy":
        return figure.threshold is not None and low >= figure.threshold
    return False


def complete(result: ProbeResult, remaining: int, *, best: bool) -> ProbeResult:
    """``result`` as if ``remaining`` more probes had all gone well (``best``) or all badly."""
    c = result.candidate
    # each gate's own worst case: every remaining probe failed, slow and wrong alike
    candidate_ms = result.candidate_ms + (0.0 if best else math.inf,) * remaining
    errors = c.errors if best else c.errors + remaining
    pairs = result.pairs + (((0.0, 0.0) if best else (math.inf, 0.0)),) * remaining
    stats = Stats(c.samples + remaining, errors, percentile(candidate_ms, 50), percentile(candidate_ms, 99))
    agreed = None if result.agreed is None else result.agreed + (remaining if best else 0)
    compared = None if result.compared is None else result.compared + remaining
    correct = None if result.correct is None else result.correct + (remaining if best else 0)
    labelled = None if result.labelled is None else result.labelled + remaining
    metric = None
    if correct is not None and labelled:
        metric = correct / labelled
    elif result.metric is not None:
        metric = None if best else math.nan  # unknown until measured: never settles a pass early
    return replace(result, candidate=stats, candidate_ms=candidate_ms, pairs=pairs, agreed=agreed,
                   compared=compared, correct=correct, labelled=labelled, metric=metric,
                   agreement=None if compared is None else agreed / compared if compared else None,
                   planned=None)


def _figures(result: ProbeResult, ctx: Context) -> dict[str, GateFigure]:
    g = ctx.gates
    c = result.candidate
    confidence = g.confidence
    enough = c.samples >= g.min_samples
    soft = PASS if enough else INCONCLUSIVE

    def check(ok: bool | None) -> str:
        if ok is None:
            return SKIPPED
        return soft if ok else (FAIL if enough else INCONCLUSIVE)

    out = {"samples": GateFigure("samples", c.samples, g.min_samples, soft, n=c.samples)}
    allowance = g.max_error_rate * max(result.planned or c.samples, g.min_samples)
    out["error_rate"] = GateFigure(
        "error_rate", c.error_rate, g.max_error_rate,
        FAIL if c.errors > allowance else check(c.error_rate is None or c.error_rate <= g.max_error_rate),
        n=c.samples, interval=wilson(c.errors, c.samples, confidence))
    p99 = percentile(result.candidate_ms, 99) if result.candidate_ms else c.p99_ms
    answered = len(result.candidate_ms) if result.candidate_ms else c.samples - c.errors
    out["p99_ms"] = GateFigure("p99_ms", p99, g.max_p99_ms,
                               check(None if c.samples == 0 else (p99 is not None and p99 <= g.max_p99_ms)),
                               n=answered)
    out["p99_ratio"] = _ratio(result, ctx, check)
    out["agreement"] = _proportion("agreement", result.agreement, result.agreed, result.compared, c.samples,
                                   g.min_agreement, confidence, check)
    if result.metric is not None and ctx.registered_metric is not None and ctx.metric_name:
        sign = 1 if M.higher_is_better(ctx.metric_name) else -1
        threshold = ctx.registered_metric - sign * g.metric_tolerance
        if ctx.metric_name == "accuracy" and result.labelled:
            out[ctx.metric_name] = _proportion(ctx.metric_name, result.metric, result.correct, result.labelled,
                                               c.samples, threshold, confidence, check)
        else:
            out[ctx.metric_name] = GateFigure(ctx.metric_name, result.metric, threshold,
                                              check(M.meets(result.metric, threshold, ctx.metric_name)),
                                              n=result.labelled if result.labelled is not None else answered)
    return out


def _ratio(result: ProbeResult, ctx: Context, check) -> GateFigure:
    g, c, b = ctx.gates, result.candidate, result.baseline
    if result.pairs:
        paired = paired_latency(result.pairs, max_ratio=g.max_p99_ratio, floor_ms=g.p99_floor_ms,
                                live_ms=ctx.live_p99_ms)
        slower = paired.ratio is not None and paired.ratio > g.max_p99_ratio and paired.p_value < 1 - g.confidence
        return GateFigure("p99_ratio", paired.ratio, g.max_p99_ratio, check(not slower), n=paired.pairs,
                          p_value=paired.p_value)
    ratio = None
    if b is not None and b.p99_ms is not None and c.p99_ms is not None:
        ratio = c.p99_ms / max(b.p99_ms, ctx.live_p99_ms or 0.0, g.p99_floor_ms)
    return GateFigure("p99_ratio", ratio, g.max_p99_ratio, check(None if ratio is None else ratio <= g.max_p99_ratio))


def _proportion(gate: str, value: float | None, k: int | None, n: int | None, samples: int,
                threshold: float, confidence: float, check) -> GateFigure:
    """A share over distinct rows: fails only when its whole interval lies below ``threshold``."""
    if value is None and not n:
        return GateFigure(gate, None, threshold, check(None))
    if n is None or k is None:  # a point value without counts: as many rows as samples
        n, k = samples, round((value or 0.0) * samples)
    else:
        value = k / n if n else None
    interval = wilson(k, n, confidence)
    return GateFigure(gate, value, threshold, check(interval is None or interval[1] >= threshold),
                      n=n, interval=interval)


def judge_smoke(result: ProbeResult) -> Judgement:
    """The smoke test passes when at least one request was answered and none failed."""
    c = result.candidate
    figures = (GateFigure("samples", c.samples, 1, PASS if c.samples >= 1 else FAIL),
               GateFigure("errors", c.errors, 0, PASS if c.errors == 0 else FAIL))
    verdict = PASS if all(f.status == PASS for f in figures) else FAIL
    return Judgement(verdict, figures)


def format_step(step: dict[str, Any]) -> str:
    """One line per round: ``step 10 %: PASS  agreement 0.97 [0.88,1]>=0.95 pass (36 rows), ...``,
    then what the decision rested on: samples, distinct rows, why the round stopped, seconds."""
    where = f"{step['phase']} {step['percent']} %" if step.get("percent") is not None else step["phase"]
    if step.get("attempt", 1) > 1:
        where += f" (hold {step['attempt'] - 1})"
    figures = []
    for g in step.get("gates", []):
        value = number(g["value"])  # never Python's None or 1e+03
        interval = g.get("interval")
        if interval:
            value = f"{value} [{number(interval[0])},{number(interval[1])}]"
        if g.get("p_value") is not None and g["p_value"] < 1:
            value = f"{value} p={g['p_value']:.2g}"
        figures.append(f"{g['gate']} {value}/{number(g['threshold'])} {g['status']}" if g["threshold"] is not None
                       else f"{g['gate']} {g['status']}")
    # a round failing on latency alone that is measured again is a re-measure, not a failure
    label = "RE-MEASURE" if step.get("then") == "re-measure" else step["verdict"].upper()
    line = f"  {where}: {label}  " + ", ".join(figures)
    if step.get("stopped"):
        seconds = f", {step['seconds']:.2f} s" if step.get("seconds") is not None else ""
        line += f"  [{step['stopped']}{seconds}]"
    note = step.get("note") or ("latency only; measured again" if step.get("then") == "re-measure" else None)
    return line + (f"  ({note})" if note else "")
