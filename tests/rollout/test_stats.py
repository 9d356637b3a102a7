"""The gates' statistics, without servers: Wilson intervals, the exact sign test, paired latency."""

from __future__ import annotations

import math

import pytest

from azml2aks.rollout.stats import binomial_tail, paired_latency, sign_test, wilson, z_for


def test_z_is_the_one_sided_normal_quantile_of_the_confidence():
    assert z_for(0.95) == pytest.approx(1.6449, abs=1e-4)
    assert z_for(0.5) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="confidence"):
        z_for(1.0)


def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson(30, 36, 0.95)
    assert (round(low, 4), round(high, 4)) == (0.7088, 0.9113)
    assert wilson(0, 0, 0.95) is None


def test_wilson_interval_ends_are_exact_at_zero_and_all():
    assert wilson(36, 36, 0.95)[1] == 1.0 and wilson(0, 40, 0.95)[0] == 0.0
    assert 0.9 < wilson(36, 36, 0.95)[0] < 1.0


def test_wilson_interval_narrows_with_more_rows_and_widens_with_more_confidence():
    small, large = wilson(9, 10, 0.95), wilson(90, 100, 0.95)
    assert large[1] - large[0] < small[1] - small[0]
    assert wilson(9, 10, 0.99)[0] < small[0]


def test_binomial_tail_is_exact():
    assert binomial_tail(0, 5, 0.5) == 1.0 and binomial_tail(6, 5, 0.5) == 0.0
    assert binomial_tail(5, 5, 0.5) == pytest.approx(1 / 32)
    assert binomial_tail(4, 5, 0.5) == pytest.approx(6 / 32)
    assert binomial_tail(1, 3, 0.1) == pytest.approx(1 - 0.9**3)


def test_sign_test_needs_five_one_sided_pairs_for_95_percent():
    assert sign_test(4, 0) > 0.05 and sign_test(5, 0) < 0.05
    assert sign_test(0, 0) == 1.0
    assert sign_test(3, 3) > 0.5


def test_paired_latency_counts_pairs_where_one_colour_took_ratio_times_the_other():
    pairs = [(300.0, 10.0)] * 5 + [(5.0, 250.0)] + [(8.0, 9.0)] * 4
    paired = paired_latency(pairs, max_ratio=2.0, floor_ms=100.0)
    assert (paired.pairs, paired.worse, paired.better) == (10, 5, 1)
    assert paired.ratio == pytest.approx(300.0 / 250.0)
    assert paired.p_value == pytest.approx(7 / 64)


def test_paired_latency_floors_small_latencies_so_noise_below_the_floor_is_a_tie():
    paired = paired_latency([(9.0, 1.0)] * 20, max_ratio=2.0, floor_ms=100.0)
    assert (paired.worse, paired.better, paired.p_value) == (0, 0, 1.0)
    assert paired.ratio == pytest.approx(0.09)


def test_paired_latency_compares_with_the_live_colour_when_it_carried_the_load():
    paired = paired_latency([(300.0, 10.0)] * 3, max_ratio=2.0, floor_ms=100.0, live_ms=200.0)
    assert paired.ratio == pytest.approx(1.5)


def test_paired_latency_of_nothing_claims_nothing():
    paired = paired_latency([], max_ratio=2.0, floor_ms=100.0)
    assert paired.ratio is None and paired.p_value == 1.0 and not math.isnan(paired.p_value)
