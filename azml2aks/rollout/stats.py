"""The statistics the gates rest on: PURE, standard library only (no numpy, no scipy).

Every function here works on counts or short lists of latencies, so a gate can be judged
from a few dozen probes and re-judged after every probe (the sequential test in
:mod:`azml2aks.rollout.sequential`):

- :func:`z_for` the one-sided normal quantile of a confidence (0.95 -> 1.645);
- :func:`wilson` the Wilson score interval of a proportion, whose ends are one-sided bounds
  at the confidence asked (good coverage down to a handful of samples, never outside 0..1);
- :func:`binomial_tail` and :func:`sign_test`, the exact one-sided sign test on paired
  differences (how likely k or more of m discordant pairs favour one side by chance);
- :func:`percentile` (nearest rank, as the probe reports it) and :func:`paired_latency`,
  which compares two colours measured in interleaved pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist


def z_for(confidence: float) -> float:
    """The one-sided standard-normal quantile for ``confidence`` (0.95 -> 1.645)."""
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence must be in [0.5, 1); got {confidence}")
    return NormalDist().inv_cdf(confidence)


def wilson(successes: int, n: int, confidence: float) -> tuple[float, float] | None:
    """Wilson score interval of ``successes / n``; each end is a one-sided ``confidence`` bound.

    None for ``n == 0`` (nothing measured, nothing claimed).
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in 0..{n}; got {successes}")
    z = z_for(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # the exact ends: no failure seen means the upper bound is 1, no success the lower bound 0
    return (0.0 if successes == 0 else low, 1.0 if successes == n else high)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exactly."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def sign_test(worse: int, better: int) -> float:
    """One-sided p-value that ``worse`` of ``worse + better`` discordant pairs is chance.

    Ties (pairs where neither side is clearly worse) carry no information and are left out
    by the caller. 1.0 when there is no discordant pair.
    """
    return binomial_tail(worse, worse + better, 0.5)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


@dataclass(frozen=True)
class PairedLatency:
    """Candidate against baseline over requests sent in interleaved pairs (same row, back to back).

    ``ratio``: p99 of the candidate over p99 of the reference, where the reference is
    ``max(baseline p99, live_ms, floor_ms)``. ``worse``/``better``: pairs where one colour took
    more than ``max_ratio`` times the other (each side floored at ``floor_ms``: a pair of
    sub-floor latencies is a tie). ``p_value``: the sign test of ``worse`` against ``better``.
    """

    pairs: int
    ratio: float | None
    worse: int
    better: int
    p_value: float


def paired_latency(pairs: Sequence[tuple[float, float]], *, max_ratio: float, floor_ms: float,
                   live_ms: float | None = None) -> PairedLatency:
    """Compare (candidate ms, baseline ms) pairs; machine noise hits both sides of a pair alike."""
    if not pairs:
        return PairedLatency(0, None, 0, 0, 1.0)
    cand = [c for c, _ in pairs]
    base = [b for _, b in pairs]
    reference = max(percentile(base, 99) or 0.0, live_ms or 0.0, floor_ms)
    ratio = (percentile(cand, 99) or 0.0) / reference if reference > 0 else None
    worse = sum(1 for c, b in pairs if c > max_ratio * max(b, floor_ms))
    better = sum(1 for c, b in pairs if b > max_ratio * max(c, floor_ms))
    return PairedLatency(len(pairs), ratio, worse, better, sign_test(worse, better))
