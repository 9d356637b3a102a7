"""Probe traffic for smoke tests, shadow comparison and ladder gates.

Sends hold-out rows, one row per request, to an endpoint's scoring URI with its key, either
pinned to a colour (the ``azureml-model-deployment`` header) or routed by the endpoint. Every
probe is bounded twice: at most ``max_requests`` requests and at most ``max_seconds`` of
sending (plus one request timeout), from a small thread pool. Results carry latency
percentiles, error counts, who answered, and the predictions by row, so two colours can be
compared (:func:`agreement`) and scored against labels.

The key goes in the Authorization header only; it is never logged nor kept in a result.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

PIN_HEADER = "azureml-model-deployment"
CONNECT_TIMEOUT = 2.0


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

    def summary(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "samples": self.samples, "errors": self.errors,
                "p50_ms": _round(self.p50_ms), "p99_ms": _round(self.p99_ms),
                "answered_by": dict(self.answered_by), "error_samples": self.error_samples[:3]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


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
    return sum(_same(a[i], b[i], tolerance) for i in common) / len(common)


def _same(x: Any, y: Any, tolerance: float) -> bool:
    if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
        return x == y
    return abs(x - y) <= tolerance * max(1.0, abs(x), abs(y))


class Prober:
    """Sends bounded probe traffic to one scoring URI."""

    def __init__(self, scoring_uri: str, key: str, *, timeout: float = 5.0, concurrency: int = 2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.scoring_uri = scoring_uri
        self._key = key
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.clock = clock
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"Prober({self.scoring_uri!r}, key=***)"

    def _session(self):
        import requests

        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def send(self, body: bytes, deployment: str | None) -> tuple[int | None, str | None, Any, float]:
        """One request: (status or None, who answered, JSON body or error text, latency ms)."""
        import requests

        headers = {"Authorization": f"Bearer {self._key}", "Content-Type": "application/json"}
        if deployment:
            headers[PIN_HEADER] = deployment
        start = time.perf_counter()
        try:
            resp = self._session().post(self.scoring_uri, data=body, headers=headers,
                                        timeout=(CONNECT_TIMEOUT, self.timeout))
        except requests.RequestException as e:
            return None, None, type(e).__name__, (time.perf_counter() - start) * 1000
        elapsed = (time.perf_counter() - start) * 1000
        try:
            content = resp.json()
        except ValueError:
            content = resp.text[:200]
        return resp.status_code, resp.headers.get(PIN_HEADER), content, elapsed

    def run(self, payloads: Payloads, deployments: Sequence[str | None], *, max_requests: int,
            max_seconds: float) -> list[ProbeRun]:
        """Send rows 0..max_requests-1 to each of ``deployments`` (same rows, in that order per
        row); stop starting new rows after ``max_seconds``. One ProbeRun per deployment."""
        runs = [ProbeRun(d) for d in deployments]
        if not len(payloads) or max_requests <= 0:
            return runs
        lock = threading.Lock()
        counter = iter(range(max_requests))
        deadline = self.clock() + max_seconds

        def worker() -> None:
            while self.clock() < deadline:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                body = payloads.body(index)
                for run in runs:
                    status, who, content, ms = self.send(body, run.deployment)
                    with lock:
                        _record(run, index, status, who, content, ms)

        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="probe") as pool:
            for future in [pool.submit(worker) for _ in range(self.concurrency)]:
                future.result()
        for run in runs:
            logger.debug("probe %s: %s", run.deployment or "(routed)", run.summary())
        return runs


def _record(run: ProbeRun, index: int, status: int | None, who: str | None, content: Any, ms: float) -> None:
    run.samples += 1
    if who:
        run.answered_by[who] += 1
    if status == 200:
        predictions = parse_predictions(content)
        if predictions:
            run.latencies_ms.append(ms)
            run.predictions[index] = predictions[0]
            return
        content = "empty prediction list"
    run.errors += 1
    if len(run.error_samples) < 5:
        run.error_samples.append(f"{status or 'no answer'}: {str(content)[:160]}")


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
