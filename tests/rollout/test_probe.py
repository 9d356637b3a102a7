"""The prober through its transport seam: the real Prober, a mock transport, no server.

Percentiles, answer parsing, agreement, the count, time and ``until`` bounds, interleaved
pairs, rows without replacement, and keys that never reach a result.
"""

from __future__ import annotations

import itertools
import json

from azml2aks.probe import (
    PIN_HEADER,
    MockTransport,
    Payloads,
    Prober,
    Response,
    RowSampler,
    agreement,
    online_metric,
    parse_predictions,
    percentile,
)

URI = "http://127.0.0.1:1/api/v1/endpoint/x/score"
PAYLOADS = Payloads(columns=["a"], rows=[[1], [2], [3]], labels=[0, 1, 2])


class Colours:
    """A mock endpoint: colour 'bad' answers 503, others echo the row's index % 3; each answer
    takes ``ms[colour]``. Records (colour, row, Authorization) per request."""

    def __init__(self, ms=None):
        self.ms = ms or {}
        self.sent = []

    def __call__(self, request):
        colour = request.headers.get(PIN_HEADER)
        row = json.loads(request.body)["input_data"]["index"][0]
        self.sent.append((colour, row, request.headers["Authorization"]))
        headers = {PIN_HEADER: colour or "blue"}
        if colour == "bad":
            return Response(503, headers, b'{"message": "down"}', 1.0)
        return Response(200, headers, json.dumps([row % 3]).encode(), self.ms.get(colour, 1.0))


def prober(handler, **kw):
    return Prober(URI, "secret-key", transport=MockTransport(handler), **kw)


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
    (run,) = prober(Colours(), concurrency=2).run(PAYLOADS, ["green"], max_requests=7, max_seconds=60)
    assert run.samples == 7 and run.errors == 0 and len(run.predictions) == 7
    assert run.answered_by == {"green": 7}


def test_probe_stops_at_the_time_limit():
    ticks = itertools.count()
    (run,) = prober(Colours(), concurrency=1, clock=lambda: next(ticks)).run(
        PAYLOADS, ["green"], max_requests=1000, max_seconds=5)
    assert run.samples == 4  # the deadline was set at tick 0; ticks 1..4 are before it


def test_probe_stops_starting_rows_once_until_says_so():
    seen = []

    def until(row, answers):
        seen.append((row, [a.status for a in answers]))
        return len(seen) == 2

    runs = prober(Colours(), concurrency=1).run(PAYLOADS, ["green", "blue"], max_requests=3, max_seconds=60,
                                                 rows=[2, 0, 1], until=until)
    assert seen == [(2, [200, 200]), (0, [200, 200])]
    assert [r.samples for r in runs] == [2, 2]


def test_pairs_alternate_which_colour_goes_first():
    endpoint = Colours()
    prober(endpoint, concurrency=1).run(PAYLOADS, ["green", "blue"], max_requests=3, max_seconds=60, rows=[0, 1, 2])
    assert [(colour, row) for colour, row, _ in endpoint.sent] == [
        ("green", 0), ("blue", 0), ("blue", 1), ("green", 1), ("green", 2), ("blue", 2)]


def test_latency_is_what_the_transport_measured():
    (green, blue) = prober(Colours(ms={"green": 30.0, "blue": 10.0}), concurrency=1).run(
        PAYLOADS, ["green", "blue"], max_requests=3, max_seconds=60)
    assert green.latencies_ms == [30.0] * 3 and blue.latencies_ms == [10.0] * 3


def test_errors_are_counted_and_sampled_without_the_key():
    endpoint = Colours()
    p = prober(endpoint)
    good, bad = p.run(PAYLOADS, ["green", "bad"], max_requests=4, max_seconds=60)
    assert (good.errors, bad.errors, bad.samples) == (0, 4, 4)
    assert bad.p99_ms is None and "down" in bad.error_samples[0]
    assert all(auth == "Bearer secret-key" for _, _, auth in endpoint.sent)  # the key went in the header
    assert "secret-key" not in repr(p) and "secret-key" not in str(bad.summary())


def test_no_answer_is_an_answer_with_no_status():
    answer = prober(lambda request: Response(None, {}, b"", 2.0, error="ConnectionError")).send(b"{}", "green")
    assert (answer.status, answer.deployment, answer.content) == (None, None, "ConnectionError")
    assert answer.prediction == (False, None)


def test_online_metric_scores_the_answered_rows():
    (run,) = prober(Colours(), concurrency=1).run(PAYLOADS, ["green"], max_requests=3, max_seconds=60)
    assert online_metric("accuracy", run, PAYLOADS) == 1.0  # the mock echoes each row's label
    assert online_metric("accuracy", run, Payloads(["a"], [[1]], labels=None)) is None


def test_row_sampler_uses_every_row_once_before_repeating_any():
    sampler = RowSampler(10, seed=1)
    first, second, third = sampler.take(4), sampler.take(4), sampler.take(4)
    assert len(set(first + second)) == 8
    assert len(set(third)) == 4  # a round never repeats a row, even across a new pass
    assert set(first + second) | set(third[:2]) == set(range(10))  # the pass finished before repeats


def test_row_sampler_caps_a_round_at_the_hold_out_size():
    sampler = RowSampler(3, seed=0)
    assert sorted(sampler.take(50)) == [0, 1, 2]
    assert sorted(sampler.take(50)) == [0, 1, 2]


def test_a_hold_out_smaller_than_min_samples_is_refused_naming_both_settings():
    import pytest

    from azml2aks.config import PipelineConfig
    from azml2aks.errors import ConfigError
    from azml2aks.probe import check_holdout

    config = PipelineConfig.model_validate({"automl": {"task": "classification", "target_column_name": "y",
                                                       "training_data": "t.csv", "test_data": "h.csv"}})
    with pytest.raises(ConfigError) as caught:
        check_holdout(Payloads(["a"], [[i] for i in range(12)]), config)
    assert "automl.test_data" in str(caught.value) and "min_samples is 20" in str(caught.value)
    assert caught.value.exit_code == 1 and "lower rollout.gates.min_samples to 12" in caught.value.hint
    check_holdout(Payloads(["a"], [[i] for i in range(20)]), config)  # 20 rows: enough
