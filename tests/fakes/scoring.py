"""The endpoints' data plane: POST to the scoring URI, answered by functions the test registers.

Where a Kubernetes endpoint listens: the cluster's inference router (azureml-fe), so its
scoring URI is `http://<router IP>/api/v1/endpoint/<name>/score`, or
`https://<sslCname>/api/v1/endpoint/<name>/score` when the AzureML extension has TLS
settings (`sslCname` with `sslSecret` or the PEM files). The router serves plain http only
when the extension has `allowInsecureConnections=True`; otherwise a plain-http request is
refused at the connection (requests.ConnectionError), so with neither TLS nor insecure
connections the endpoint cannot serve (learn.microsoft.com/azure/machine-learning/
how-to-deploy-kubernetes-extension, "Review AzureML extension configuration settings";
how-to-secure-kubernetes-online-endpoint). The router IP is the LoadBalancer IP of the
router service (deterministic per cluster here; `router_ip(cluster)`). Managed endpoints
answer on `https://<name>.<region>.inference.ml.azure.com/score`.

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

import requests

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
        fake.router.add("POST", host + "/score", "Scoring_Invoke", self.invoke)
        fake.router.add("GET", host + r"/swagger\.json", "Scoring_Swagger", self.swagger)
        router = r"https?://[^/]+/api/v1/endpoint/(?P<endpoint>[^/]+)"
        fake.router.add("POST", router + "/score", "Scoring_Invoke", self.invoke_router)
        fake.router.add("GET", router + r"/swagger\.json", "Scoring_Swagger",
                        self.swagger_router)

    # ---- the Kubernetes inference router ----------------------------------------------------
    def router_ip(self, cluster: str) -> str:
        """The LoadBalancer IP of `cluster`'s inference router (stable per cluster name)."""
        n = sum(ord(ch) * (i + 1) for i, ch in enumerate(cluster))
        return f"20.62.{n % 200 + 20}.{n // 200 % 200 + 20}"

    def _extension_settings(self, cluster: str | None) -> dict:
        if cluster is None:
            return {}
        for ext in self.fake.aks.extensions.get(cluster, {}).values():
            props = ext["properties"]
            if props["extensionType"].lower() == "microsoft.azureml.kubernetes":
                return props.get("configurationSettings") or {}
        return {}

    def kubernetes_base(self, compute: str) -> str:
        """`scheme://host` of the router serving endpoints on attached compute `compute`."""
        cluster = self.fake.compute.cluster(compute)
        cname = self._extension_settings(cluster).get("sslCname")
        if cname:
            return f"https://{cname}"
        return f"http://{self.router_ip(cluster or compute)}"

    def kubernetes_uris(self, endpoint: str, compute: str) -> tuple[str, str]:
        base = f"{self.kubernetes_base(compute)}/api/v1/endpoint/{endpoint}"
        return f"{base}/score", f"{base}/swagger.json"

    def _router_accepts(self, req: FakeRequest, endpoint: str) -> None:
        """Raise ConnectionError unless the router of `endpoint` listens where `req` goes."""
        ep = self.fake.endpoints.records.get(endpoint)
        if ep is None or not ep.is_kubernetes:
            raise requests.ConnectionError(f"fake: nothing listens at {req.url}")
        expected = ep.body["properties"]["scoringUri"].split("/api/v1/", 1)[0]
        actual = req.url.split("/api/v1/", 1)[0]
        if actual.lower() != expected.lower():
            raise requests.ConnectionError(f"fake: {actual} is not the inference router of "
                                           f"endpoint '{endpoint}' ({expected})")
        compute = ep.body["properties"]["compute"].rstrip("/").split("/")[-1]
        settings = self._extension_settings(self.fake.compute.cluster(compute))
        insecure = str(settings.get("allowInsecureConnections", "False")).lower() == "true"
        if expected.startswith("http://") and not insecure:
            raise requests.ConnectionError(
                f"fake: connection refused by {expected}: the AzureML extension does not allow "
                "insecure connections (allowInsecureConnections=False) and has no TLS settings "
                "(sslCname, sslSecret): the endpoint cannot serve")

    def invoke_router(self, req: FakeRequest, endpoint: str) -> Reply:
        self._router_accepts(req, endpoint)
        return self.invoke(req, endpoint, endpoint)

    def swagger_router(self, req: FakeRequest, endpoint: str) -> Reply:
        self._router_accepts(req, endpoint)
        return self.swagger(req, endpoint)

    # ---- test API ------------------------------------------------------------------------
    def register(self, endpoint: str, deployment: str, fn: Callable[[Any], Any], *,
                 latency: Latency = 0.0) -> None:
        """`deployment` of `endpoint` answers requests with `fn(payload)` after `latency` s."""
        self.scorers[(endpoint, deployment.lower())] = (fn, latency)

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
            chosen = deployments.resolve(name, pinned)
            if chosen is None:
                return self._reply(name, None, 404, {"message": f"deployment '{pinned}' not "
                                                     f"found on endpoint '{name}'"}, True)
        else:
            weights = {d: w for d, w in ep.traffic.items() if w > 0}
            if not weights:
                return self._reply(name, None, 503, {"message": f"endpoint '{name}' has no "
                                                     "deployment with traffic"})
            chosen = self.fake.rng.choices(list(weights), weights=list(weights.values()))[0]
            chosen = deployments.resolve(name, chosen) or chosen
        payload = _payload(req.body)
        mirror = {d: w for d, w in ep.mirror.items() if w > 0}
        if not pinned and mirror:
            (target, pct), = mirror.items()
            if self.fake.rng.random() * 100 < pct:
                target = deployments.resolve(name, target) or target
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
        fn, latency = self.scorers.get((endpoint, deployment.lower()), (None, 0.0))
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
