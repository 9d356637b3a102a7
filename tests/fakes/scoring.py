"""The endpoints' data plane: POST to the scoring URI, answered by functions the test registers.

Each deployment answers with `fn(payload)` registered through `register()`: its return
value is the JSON body; raising `ScoringError(status, message)` answers that status, any
other exception answers 500 (a failing colour). `latency` (seconds, or a function of the
fake's `random.Random`) advances the injected clock instead of sleeping (a slow colour).

Routing follows the service: `Authorization: Bearer <key>` is required (primary or
secondary key for Key auth, a token from `/token` for AMLToken auth) else 401; the header
`azureml-model-deployment` pins a deployment (even one at 0 %); otherwise the endpoint's
live traffic picks one with the fake's seeded random source. The answer carries the
header `azureml-model-deployment` naming who answered. `history` records every request.
"""
from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .arm import FakeRequest, Reply

PIN_HEADER = "azureml-model-deployment"
Latency = float | Callable[[random.Random], float]


class ScoringError(Exception):
    """Raise from a scoring function to answer with `status` and `message`."""

    def __init__(self, status: int, message: str = "scoring failed") -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Scored:
    endpoint: str
    deployment: str | None
    status: int
    latency: float
    pinned: bool
    mirrored: bool = False


class Scoring:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.scorers: dict[tuple[str, str], tuple[Callable[[Any], Any], Latency]] = {}
        self.history: list[Scored] = []
        host = r"https://(?P<host_ep>[^./]+)\." + re.escape(fake.config.location)
        host += r"\.inference\.ml\.azure\.com"
        score = host + r"(?:/api/v1/endpoint/(?P<endpoint>[^/]+))?/score"
        swagger = host + r"(?:/api/v1/endpoint/[^/]+)?/swagger\.json"
        fake.router.add("POST", score, "Scoring_Invoke", self.invoke)
        fake.router.add("GET", swagger, "Scoring_Swagger", self.swagger)

    # ---- test API ------------------------------------------------------------------------
    def register(self, endpoint: str, deployment: str, fn: Callable[[Any], Any], *,
                 latency: Latency = 0.0) -> None:
        """`deployment` of `endpoint` answers requests with `fn(payload)` after `latency` s."""
        self.scorers[(endpoint, deployment)] = (fn, latency)

    def answered_by(self) -> list[str | None]:
        """Which deployment answered each scoring request, in order (mirrors excluded)."""
        return [s.deployment for s in self.history if not s.mirrored]

    # ---- handlers ------------------------------------------------------------------------
    def swagger(self, req: FakeRequest, host_ep: str) -> Reply:
        return Reply(200, {"swagger": "2.0", "info": {"title": host_ep, "version": "1.0"},
                           "paths": {"/score": {"post": {}}}})

    def invoke(self, req: FakeRequest, host_ep: str, endpoint: str | None = None) -> Reply:
        name = endpoint or host_ep
        ep = self.fake.endpoints.records.get(name)
        if ep is None:
            return self._reply(name, None, 404, {"message": f"endpoint '{name}' not found"})
        if not self._authorized(ep, req):
            return self._reply(name, None, 401, {"message": "Unauthorized: a valid key or "
                                                 "token is required (Authorization: Bearer)."})
        pinned = req.header(PIN_HEADER)
        deployments = self.fake.deployments
        if pinned:
            if pinned not in deployments.names(name):
                return self._reply(name, None, 404, {"message": f"deployment '{pinned}' not "
                                                     f"found on endpoint '{name}'"}, True)
            chosen = pinned
        else:
            weights = {d: w for d, w in ep.traffic.items() if w > 0}
            if not weights:
                return self._reply(name, None, 503, {"message": f"endpoint '{name}' has no "
                                                     "deployment with traffic"})
            chosen = self.fake.rng.choices(list(weights), weights=list(weights.values()))[0]
        payload = _payload(req.body)
        mirror = {d: w for d, w in ep.mirror.items() if w > 0}
        if not pinned and mirror:
            (target, pct), = mirror.items()
            if self.fake.rng.random() * 100 < pct:
                self._score(name, target, payload, pinned=False, mirrored=True)
        return self._score(name, chosen, payload, pinned=bool(pinned))

    def _authorized(self, ep, req: FakeRequest) -> bool:
        auth = req.header("Authorization") or ""
        if not auth.startswith("Bearer "):
            return False
        secret = auth[len("Bearer "):].strip()
        valid = ep.keys[:2] if ep.body["properties"]["authMode"] == "Key" else ep.keys[2:]
        return secret in valid

    def _score(self, endpoint: str, deployment: str, payload: Any, *, pinned: bool,
               mirrored: bool = False) -> Reply:
        state = self.fake.deployments.state(endpoint, deployment)
        if state != "Succeeded":
            return self._reply(endpoint, deployment, 503, {"message": f"deployment "
                               f"'{deployment}' is not ready ({state})"}, pinned, mirrored)
        fn, latency = self.scorers.get((endpoint, deployment), (None, 0.0))
        if fn is None:
            return self._reply(endpoint, deployment, 502, {"message": "fake: no scoring "
                               f"function registered for {endpoint}/{deployment}"}, pinned,
                               mirrored)
        seconds = latency(self.fake.rng) if callable(latency) else float(latency)
        self.fake.clock.advance(seconds)
        try:
            status, body = 200, fn(payload)
        except ScoringError as err:
            status, body = err.status, {"message": err.message}
        except Exception as err:  # noqa: BLE001 - a failing colour answers 500
            status, body = 500, {"message": f"{type(err).__name__}: {err}"}
        return self._reply(endpoint, deployment, status, body, pinned, mirrored, seconds)

    def _reply(self, endpoint: str, deployment: str | None, status: int, body: Any,
               pinned: bool = False, mirrored: bool = False, latency: float = 0.0) -> Reply:
        self.history.append(Scored(endpoint, deployment, status, latency, pinned, mirrored))
        headers = {"Content-Type": "application/json"}
        if deployment:
            headers[PIN_HEADER] = deployment
        return Reply(status, json.dumps(body), headers)


def _payload(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body
