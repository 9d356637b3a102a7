"""The driver's gated rounds through the real Prober and a mock transport (no server): rows
without replacement, interleaved pairs, and a round that stops once its verdict is settled."""

from __future__ import annotations

import itertools
import json
from types import SimpleNamespace

from azml2aks.config import PipelineConfig
from azml2aks.probe import PIN_HEADER, MockTransport, Payloads, Response
from azml2aks.rollout import Probe, Rollout, Shadow
from azml2aks.rollout.driver import Executor

ROWS = 36
PAYLOADS = Payloads(columns=["x"], rows=[[i] for i in range(ROWS)], labels=[i % 3 for i in range(ROWS)])


class OneEndpoint:
    """The two reads a round makes of the Endpoints port."""

    def get_endpoint(self, name):
        return SimpleNamespace(scoring_uri=f"http://127.0.0.1:1/api/v1/endpoint/{name}/score")

    def get_credentials(self, name):
        return SimpleNamespace(secret="k3y")


class Colours:
    """blue predicts each row's label; green does what ``green`` says: 'right', 'wrong', 'slow'."""

    def __init__(self, green="right"):
        self.green = green
        self.sent = []

    def __call__(self, request):
        colour = request.headers[PIN_HEADER]
        row = json.loads(request.body)["input_data"]["index"][0]
        self.sent.append((colour, row))
        label = row % 3
        ms = 5.0
        if colour == "green" and self.green == "wrong":
            label = (label + 1) % 3
        if colour == "green" and self.green == "slow":
            ms = 400.0
        return Response(200, {PIN_HEADER: colour}, json.dumps([label]).encode(), ms)


def executor(endpoint, **rollout):
    config = PipelineConfig.model_validate({
        "automl": {"task": "classification", "target_column_name": "y", "training_data": "unused.csv"},
        "rollout": {"probe_concurrency": 1, **rollout}})
    ticks = itertools.count()
    return Executor(config, OneEndpoint(), model=None, environment=None, code_dir=None, payloads=PAYLOADS,
                    sleep=lambda s: None, clock=lambda: float(next(ticks)), transport=MockTransport(endpoint)), config


def shadow(config, registered=None):
    engine = Rollout({"blue": 100}, "green", config.rollout, metric_name="accuracy", registered_metric=registered)
    return Shadow("green", "blue", 50, 30.0, engine.stop_rule())


def test_a_shadow_round_sends_each_hold_out_row_once_to_both_colours_in_alternating_order():
    endpoint = Colours()
    run, config = executor(endpoint)
    result = run(shadow(config))
    assert (result.rows, result.planned, result.candidate.samples) == (ROWS, ROWS, ROWS)  # 50 asked, 36 rows
    rows = [row for colour, row in endpoint.sent if colour == "green"]
    assert sorted(rows) == list(range(ROWS))
    assert [c for c, _ in endpoint.sent[:4]] == ["green", "blue", "blue", "green"]
    assert (result.agreement, result.compared, result.stopped) == (1.0, ROWS, "all 36 rows")


def test_a_wrong_green_stops_the_round_after_four_rows():
    endpoint = Colours(green="wrong")
    run, config = executor(endpoint)
    result = run(shadow(config, registered=0.97))
    assert result.stopped == "settled (fail) after 4 of 36 rows"
    assert len(endpoint.sent) == 8  # four rows, two colours: nothing sent after the verdict
    assert (result.compared, result.agreed, result.labelled, result.correct) == (4, 0, 4, 0)
    assert result.seconds is not None and result.seconds > 0  # measured on the injected clock


def test_a_slow_green_stops_the_round_once_the_sign_test_is_beyond_chance():
    run, config = executor(Colours(green="slow"))
    result = run(Probe("green", "blue", 10, 30, 30.0, Rollout({"blue": 100}, "green", config.rollout).stop_rule()))
    assert result.stopped == "settled (fail) after 5 of 30 rows"
    assert result.pairs == ((400.0, 5.0),) * 5


def test_the_next_round_uses_rows_the_last_one_did_not():
    endpoint = Colours()
    run, config = executor(endpoint, probe_requests=12)
    rule = Rollout({"blue": 100}, "green", config.rollout).stop_rule()
    run(Probe("green", "blue", 10, 12, 30.0, rule))
    first = {row for colour, row in endpoint.sent if colour == "green"}
    endpoint.sent.clear()
    run(Probe("green", "blue", 50, 12, 30.0, rule))
    second = {row for colour, row in endpoint.sent if colour == "green"}
    assert len(first) == len(second) == 12 and not first & second


def test_a_step_line_shows_each_interval_and_why_the_round_stopped():
    from azml2aks.rollout import format_step

    step = {"phase": "shadow", "percent": None, "attempt": 1, "verdict": "fail", "samples": 4, "rows": 4,
            "stopped": "settled (fail) after 4 of 36 rows", "seconds": 0.21,
            "gates": [{"gate": "agreement", "value": 0.0, "threshold": 0.85, "status": "fail", "n": 4,
                       "interval": [0.0, 0.3108]},
                      {"gate": "p99_ratio", "value": 3.0, "threshold": 2.0, "status": "fail", "n": 5,
                       "p_value": 0.0312}]}
    assert format_step(step) == ("  shadow: FAIL  agreement 0 [0,0.311]/0.85 fail, p99_ratio 3 p=0.031/2 fail"
                                 "  [settled (fail) after 4 of 36 rows, 0.21 s]")
