"""Probe traffic for smoke tests, shadow comparison and ladder gates, through a transport seam.

Sends hold-out rows, one row per request, to an endpoint's scoring URI with its key, either
pinned to a colour (the ``azureml-model-deployment`` header) or routed by the endpoint. The
only I/O is the *transport*: a callable that sends one :class:`Request` and returns one
:class:`Response` (status or None when nothing answered, headers, body, elapsed ms), in the
style of httpx's transports. :class:`HTTPTransport` is the real one (requests, a session per
thread); :class:`MockTransport` answers from a handler, so tests drive the real
:class:`Prober` without a server.

A round sends each row to every colour asked, back to back and in alternating order (row 0
candidate first, row 1 baseline first, ...), so machine noise hits both colours of a pair
alike. It is bounded three ways: the rows given (each once), ``max_seconds`` of sending (plus
one request timeout), and ``until``, a callback the prober consults after every row so the
caller's sequential test can end the round once its verdict is settled (:func:`gated_round`
feeds each row to a :class:`azml2aks.rollout.Tally` and asks the round's stopping rule).
:class:`RowSampler`
hands out hold-out rows without replacement across rounds, so no row counts twice in a round
and every row is used before any repeats.

The key goes in the Authorization header only; it is never logged nor kept in a result.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from azml2aks.config import PipelineConfig
from azml2aks.errors import ConfigError
from azml2aks.rollout.actions import ProbeResult
from azml2aks.rollout.sequential import RowOutcome, StopRule, Tally
from azml2aks.rollout.stats import percentile

logger = logging.getLogger(__name__)

PIN_HEADER = "azureml-model-deployment"
CONNECT_TIMEOUT = 2.0

__all__ = ["PIN_HEADER", "Answer", "HTTPTransport", "MockTransport", "Payloads", "ProbeRun", "Prober",
           "Request", "Response", "RowSampler", "Transport", "agreement", "check_holdout", "gated_round",
           "online_metric", "parse_predictions", "percentile", "same_prediction"]


# --- the transport seam ------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    url: str
    headers: Mapping[str, str] = field(repr=False)  # holds the key: never printed
    body: bytes
    timeout: float


@dataclass(frozen=True)
class Response:
    """``status`` None: nothing answered (``error`` names why: refused, timed out, ...)."""

    status: int | None
    headers: Mapping[str, str]
    body: bytes
    elapsed_ms: float
    error: str | None = None


class Transport(Protocol):
    def __call__(self, request: Request) -> Response: ...


class HTTPTransport:
    """The real transport: requests, one session per thread, connect timeout ``CONNECT_TIMEOUT``."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, request: Request) -> Response:
        import requests

        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        start = time.perf_counter()
        try:
            resp = session.post(request.url, data=request.body, headers=dict(request.headers),
                                timeout=(CONNECT_TIMEOUT, request.timeout))
        except requests.RequestException as e:
            return Response(None, {}, b"", (time.perf_counter() - start) * 1000, error=type(e).__name__)
        return Response(resp.status_code, dict(resp.headers), resp.content, (time.perf_counter() - start) * 1000)


class MockTransport:
    """Answers every request with ``handler(request)`` (a Response); nothing leaves the process."""

    def __init__(self, handler: Callable[[Request], Response]) -> None:
        self.handler = handler

    def __call__(self, request: Request) -> Response:
        return self.handler(request)


# --- payloads ----------------------------------------------------------------------------
@dataclass
class Payloads:
    """Hold-out rows as JSON-ready feature rows, plus labels when known."""

    columns: list[str]
    rows: list[list[Any]]
    labels: list[Any] | None = None

    def body(self, index: int) -> bytes:
        i = index % len(self.rows)
        return json.dumps({"input_data": {"columns": self.columns, "index": [i],
                                          "data": [self.rows[i]]}}).encode()

    def __len__(self) -> int:
        return len(self.rows)


class RowSampler:
    """Hold-out rows without replacement: a round gets distinct rows, and a row is used again
    only after every other row has been (a new shuffled pass starts with the rows the round
    has not just used). Deterministic for a given ``seed``."""

    def __init__(self, n_rows: int, *, seed: int = 0) -> None:
        self.n_rows = n_rows
        self._random = random.Random(seed)
        self._left: list[int] = []

    def take(self, count: int) -> list[int]:
        """``min(count, n_rows)`` distinct row indices."""
        count = min(count, self.n_rows)
        chosen = self._left[:count]
        self._left = self._left[count:]
        if len(chosen) < count:
            taken = set(chosen)
            fresh = [i for i in range(self.n_rows) if i not in taken]
            self._random.shuffle(fresh)
            used = list(chosen)
            self._random.shuffle(used)
            self._left = fresh + used
            need = count - len(chosen)
            chosen += self._left[:need]
            self._left = self._left[need:]
        return chosen


# --- results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """One request's outcome: status (None: no answer), who answered, JSON body or text, ms."""

    status: int | None
    deployment: str | None
    content: Any
    ms: float

    @property
    def prediction(self) -> tuple[bool, Any]:
        """(True, the first prediction) for a 200 with a non-empty answer, else (False, None)."""
        if self.status != 200:
            return False, None
        predictions = parse_predictions(self.content)
        return (True, predictions[0]) if predictions else (False, None)


@dataclass
class ProbeRun:
    """What one colour (or the routed endpoint) answered."""

    deployment: str | None
    samples: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    predictions: dict[int, Any] = field(default_factory=dict)
    answered_by: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float | None:
        return percentile(self.latencies_ms, 99)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.samples if self.samples else None

    def record(self, index: int, answer: Answer) -> None:
        self.samples += 1
        if answer.deployment:
            self.answered_by[answer.deployment] += 1
        ok, prediction = answer.prediction
        if ok:
            self.latencies_ms.append(answer.ms)
            self.predictions[index] = prediction
            return
        self.errors += 1
        if len(self.error_samples) < 5:
            content = "empty prediction list" if answer.status == 200 else answer.content
            self.error_samples.append(f"{answer.status or 'no answer'}: {str(content)[:160]}")

    def summary(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "samples": self.samples, "errors": self.errors,
                "p50_ms": _round(self.p50_ms), "p99_ms": _round(self.p99_ms),
                "answered_by": dict(self.answered_by), "error_samples": self.error_samples[:3]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def parse_predictions(body: Any) -> list[Any]:
    """The list of predictions in a scoring answer (list, or a dict holding one)."""
    if isinstance(body, dict):
        for key in ("predictions", "Results", "result", "output", "outputs"):
            if key in body:
                return parse_predictions(body[key])
        return [body]
    return body if isinstance(body, list) else [body]


def agreement(a: dict[int, Any], b: dict[int, Any], *, tolerance: float = 1e-6) -> float | None:
    """Share of rows answered by both where the predictions agree (numbers: relative tolerance)."""
    common = [i for i in a if i in b]
    if not common:
        return None
    return sum(same_prediction(a[i], b[i], tolerance) for i in common) / len(common)


def same_prediction(x: Any, y: Any, tolerance: float) -> bool:
    """Equal labels, or numbers within ``tolerance`` relative difference."""
    if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
        return x == y
    return abs(x - y) <= tolerance * max(1.0, abs(x), abs(y))


# --- the prober --------------------------------------------------------------------------
class Prober:
    """Sends bounded probe traffic to one scoring URI through ``transport``."""

    def __init__(self, scoring_uri: str, key: str | Callable[[], str], *, timeout: float = 5.0,
                 concurrency: int = 2, clock: Callable[[], float] = time.monotonic,
                 transport: Transport | None = None) -> None:
        self.scoring_uri = scoring_uri
        self._key = key  # the secret, or a function returning a current one (an expiring token)
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.clock = clock
        self.transport: Transport = transport or HTTPTransport()

    def __repr__(self) -> str:
        return f"Prober({self.scoring_uri!r}, key=***)"

    def send(self, body: bytes, deployment: str | None) -> Answer:
        """One request, pinned to ``deployment`` when given."""
        key = self._key() if callable(self._key) else self._key  # a function: a token that expires
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if deployment:
            headers[PIN_HEADER] = deployment
        resp = self.transport(Request(self.scoring_uri, headers, body, self.timeout))
        if resp.status is None:
            return Answer(None, None, resp.error or "no answer", resp.elapsed_ms)
        try:
            content = json.loads(resp.body) if resp.body else None
        except ValueError:
            content = resp.body[:200].decode(errors="replace")
        who = next((v for k, v in resp.headers.items() if k.lower() == PIN_HEADER), None)
        return Answer(resp.status, who, content, resp.elapsed_ms)

    def run(self, payloads: Payloads, deployments: Sequence[str | None], *, max_requests: int,
            max_seconds: float, rows: Sequence[int] | None = None,
            until: Callable[[int, list[Answer]], bool] | None = None) -> list[ProbeRun]:
        """Send ``rows`` (default 0..max_requests-1) to each of ``deployments``, the colours of a
        row back to back in alternating order; at most ``max_requests`` rows. Stop starting
        rows after ``max_seconds``, or once ``until(row, answers)`` (called under a lock after
        every row, answers in ``deployments`` order) returns True. One ProbeRun per deployment."""
        runs = [ProbeRun(d) for d in deployments]
        order = list(rows if rows is not None else range(max_requests))[:max(0, max_requests)]
        if not len(payloads) or not order:
            return runs
        lock = threading.Lock()
        queue = iter(enumerate(order))
        deadline = self.clock() + max_seconds
        done = threading.Event()

        def worker() -> None:
            while not done.is_set() and self.clock() < deadline:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                position, index = item
                body = payloads.body(index)
                turn = list(range(len(runs)))
                if position % 2:
                    turn.reverse()
                answers: list[Answer | None] = [None] * len(runs)
                for k in turn:
                    answers[k] = self.send(body, runs[k].deployment)
                with lock:
                    for run, answer in zip(runs, answers, strict=True):
                        run.record(index, answer)  # type: ignore[arg-type]
                    if until is not None and until(index, answers):  # type: ignore[arg-type]
                        done.set()

        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="probe") as pool:
            for future in [pool.submit(worker) for _ in range(self.concurrency)]:
                future.result()
        for run in runs:
            logger.debug("probe %s: %s", run.deployment or "(routed)", run.summary())
        return runs


def check_holdout(payloads: Payloads, config: PipelineConfig) -> None:
    """A gated round uses each hold-out row at most once: it needs ``min_samples`` distinct rows."""
    s = config.rollout
    if len(payloads) < s.gates.min_samples:
        where = "automl.test_data" if config.automl.test_data else "automl.training_data"
        raise ConfigError(
            f"the hold-out ({where}) has {len(payloads)} rows, but rollout.gates.min_samples is "
            f"{s.gates.min_samples}: a gate round sends each row once, so it could never pass",
            hint=f"add rows to {where}, or lower rollout.gates.min_samples to {max(1, len(payloads))} or less")


def gated_round(prober: Prober, payloads: Payloads, rows: Sequence[int], colour: str, baseline: str | None, *,
                max_seconds: float, stop: StopRule | None, metric_name: str, tolerance: float,
                clock: Callable[[], float] = time.monotonic) -> ProbeResult:
    """One gate round: ``rows`` (distinct) to ``colour`` and ``baseline`` in interleaved pairs,
    each row's outcome fed to a :class:`Tally`; ends once ``stop`` says the verdict is settled.

    The observation says how many rows it rests on, why it stopped and how long it took.
    ``correct`` is counted only when the primary metric is accuracy; any other metric is
    computed on the answered rows at the end (:func:`online_metric`).
    """
    tally = Tally(planned=len(rows))
    accuracy = metric_name == "accuracy"
    labels = payloads.labels
    verdict: list[str] = []

    def until(index: int, answers: list[Answer]) -> bool:
        (ok, pred), base = answers[0].prediction, answers[1] if len(answers) > 1 else None
        base_ok, base_pred = base.prediction if base is not None else (False, None)
        correct = None
        if ok and accuracy and labels:
            label = labels[index % len(labels)]
            correct = same_prediction(pred, label, 0.0) or str(pred) == str(label)
        tally.add(RowOutcome(index, answers[0].ms if ok else None,
                             base.ms if base is not None and base_ok else None, has_baseline=base is not None,
                             agree=same_prediction(pred, base_pred, tolerance) if ok and base_ok else None,
                             correct=correct))
        settled = stop.settled(tally.result()) if stop is not None else None
        if settled:
            verdict.append(settled)
        return settled is not None

    start = clock()
    runs = prober.run(payloads, [colour, baseline], max_requests=len(rows), max_seconds=max_seconds,
                      rows=rows, until=until)
    seconds = clock() - start
    if len(tally) >= len(rows):
        stopped = f"all {len(rows)} rows"
    elif verdict:
        stopped = f"settled ({verdict[0]}) after {len(tally)} of {len(rows)} rows"
    else:
        stopped = f"time limit ({max_seconds:g} s) after {len(tally)} of {len(rows)} rows"
    metric = None if accuracy else online_metric(metric_name, runs[0], payloads)
    return tally.result(metric=metric, seconds=seconds, stopped=stopped)


def online_metric(metric_name: str, run: ProbeRun, payloads: Payloads) -> float | None:
    """The primary metric of ``run``'s predictions on labelled rows; None when not computable."""
    if not payloads.labels or not run.predictions:
        return None
    from azml2aks import scorers

    indices = sorted(run.predictions)
    y_true = [payloads.labels[i % len(payloads.labels)] for i in indices]
    y_pred = [run.predictions[i] for i in indices]
    if any(isinstance(p, (dict, list)) for p in y_pred):
        return None
    if any(isinstance(t, str) for t in y_true) != any(isinstance(p, str) for p in y_pred):
        y_true, y_pred = [str(t) for t in y_true], [str(p) for p in y_pred]
    try:
        value = scorers.compute(metric_name, y_true, y_pred)
    except (ValueError, TypeError) as e:
        logger.debug("online %s not computable: %s", metric_name, e)
        return None
    return None if math.isnan(value) else value
