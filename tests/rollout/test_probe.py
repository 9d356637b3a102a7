"""Probe helpers: percentiles, answer parsing, agreement, and the count and time bounds."""

from __future__ import annotations

import itertools

from azml2aks.probe import Payloads, Prober, agreement, online_metric, parse_predictions, percentile


class CannedProber(Prober):
    """A Prober whose requests never leave the process: colour 'bad' fails, others echo row i % 3."""

    def __init__(self, **kw):
        super().__init__("http://127.0.0.1:1/api/v1/endpoint/x/score", "secret-key", **kw)
        self.sent = []

    def send(self, body, deployment):
        self.sent.append(deployment)
        if deployment == "bad":
            return 503, deployment, {"message": "down"}, 1.0
        return 200, deployment or "blue", [len(self.sent) % 3], float(len(self.sent))


PAYLOADS = Payloads(columns=["a"], rows=[[1], [2], [3]], labels=[0, 1, 2])


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99 and percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None


def test_predictions_are_found_in_every_answer_shape():
    assert parse_predictions([1, 2]) == [1, 2]
    assert parse_predictions({"predictions": [3]}) == [3]
    assert parse_predictions({"Results": ["a"]}) == ["a"]
    assert parse_predictions(5) == [5]


def test_agreement_compares_rows_answered_by_both():
    assert agreement({0: 1, 1: 2, 2: 3}, {0: 1, 1: 0}) == 0.5
    assert agreement({0: 1.0}, {0: 1.0 + 1e-9}) == 1.0
    assert agreement({0: 1.0}, {0: 1.5}, tolerance=0.1) == 0.0
    assert agreement({}, {0: 1}) is None


def test_probe_stops_at_the_request_count():
    prober = CannedProber(concurrency=2)
    (run,) = prober.run(PAYLOADS, ["green"], max_requests=7, max_seconds=60)
    assert run.samples == 7 and run.errors == 0 and len(run.predictions) == 7
    assert run.answered_by == {"green": 7}


def test_probe_stops_at_the_time_limit():
    ticks = itertools.count()
    prober = CannedProber(concurrency=1, clock=lambda: next(ticks))
    (run,) = prober.run(PAYLOADS, ["green"], max_requests=1000, max_seconds=5)
    assert run.samples == 4  # the deadline was set at tick 0; ticks 1..4 are before it


def test_errors_are_counted_and_sampled_without_the_key():
    prober = CannedProber()
    good, bad = prober.run(PAYLOADS, ["green", "bad"], max_requests=4, max_seconds=60)
    assert (good.errors, bad.errors, bad.samples) == (0, 4, 4)
    assert bad.p99_ms is None and "down" in bad.error_samples[0]
    assert "secret-key" not in repr(prober) and "secret-key" not in str(bad.summary())


def test_online_metric_scores_the_answered_rows():
    prober = CannedProber(concurrency=1)
    (run,) = prober.run(PAYLOADS, ["green"], max_requests=3, max_seconds=60)
    assert online_metric("accuracy", run, PAYLOADS) is not None
    assert online_metric("accuracy", run, Payloads(["a"], [[1]], labels=None)) is None
