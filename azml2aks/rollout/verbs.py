"""The endpoint verbs: ``status``, ``set_traffic``, ``promote``, ``rollback``, ``invoke``,
``logs``, ``get_keys``, ``local_down``. Each is a :class:`azml2aks.pipeline.Pipeline` method
that calls the function of the same name here (``pipeline`` is that Pipeline); the traffic
verbs hold the endpoint's lock (:func:`azml2aks.rollout.driver.held`) like a rollout does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from azml2aks import probe as P
from azml2aks.backends.ports import LocalProcesses
from azml2aks.errors import BackendError, ConfigError, DataError, NotFoundError, UnsupportedError
from azml2aks.rollout import resume as Z
from azml2aks.rollout.driver import endpoints_of, held
from azml2aks.rollout.traffic import Traffic, check_split, promote_target, rollback_target


def status(pipeline: Any) -> dict[str, Any]:
    """The endpoint's traffic, deployments and scoring URI (and process health when local)."""
    endpoints = endpoints_of(pipeline)
    out = endpoints.get_endpoint(pipeline.config.endpoint.name).to_dict()
    if isinstance(endpoints, LocalProcesses):
        out["health"] = endpoints.deployment_health(pipeline.config.endpoint.name)
    return out


def parse_assignments(items: list[str]) -> dict[str, int]:
    """``["blue=90", "green=10"]`` → ``{"blue": 90, "green": 10}``; ConfigError when malformed."""
    try:
        return Traffic.parse(items)
    except ValueError as e:
        raise ConfigError(str(e), hint="e.g. azml2aks traffic PIPELINE blue=90 green=10") from None


def set_traffic(pipeline: Any, traffic: dict[str, int] | list[str], *, wait_lock: float = 0,
                verb: str = "traffic", allow_empty: bool = False) -> dict[str, Any]:
    """Set the live split; colours not named go to 0. Bad arguments change nothing. An all-zero
    split on an endpoint that serves traffic is refused unless ``allow_empty``."""
    if isinstance(traffic, list):
        traffic = parse_assignments(traffic)
    endpoints, name = endpoints_of(pipeline), pipeline.config.endpoint.name
    try:  # the split itself first: its error holds whatever the endpoint has
        check_split(traffic)
    except ValueError as e:
        raise ConfigError(f"endpoint {name!r}: {e}", hint="e.g. azml2aks traffic PIPELINE blue=90 green=10") from None
    with held(pipeline, verb, timeout=wait_lock):
        state = endpoints.get_endpoint(name)
        try:
            new = state.traffic.assign(traffic, state.deployments)
        except ValueError as e:
            raise ConfigError(f"endpoint {name!r}: {e}",
                              hint="e.g. azml2aks traffic PIPELINE blue=90 green=10") from None
        live = {c: p for c, p in state.traffic.to_dict().items() if p}
        if live and not any(new.to_dict().values()) and not allow_empty:
            raise ConfigError(f"endpoint {name!r} serves {' '.join(f'{c}={p}' for c, p in live.items())}; a split "
                              "of 0 % everywhere would take it down (every request would get 503)",
                              hint="give one colour traffic (azml2aks traffic PIPELINE blue=100), or pass "
                              "--allow-empty to empty it on purpose")
        return {"endpoint": name, "traffic": endpoints.set_traffic(name, new).to_dict()}


def promote(pipeline: Any, colour: str | None = None, *, wait_lock: float = 0) -> dict[str, Any]:
    """Give ``colour`` (default: the minority colour of a split in progress) 100 %."""
    if colour is None:
        state = endpoints_of(pipeline).get_endpoint(pipeline.config.endpoint.name)
        try:
            colour = promote_target(state.traffic)
        except ValueError as e:
            raise ConfigError(str(e), hint="azml2aks promote PIPELINE --deployment green") from None
    return set_traffic(pipeline, {colour: 100}, wait_lock=wait_lock, verb="promote")


def rollback(pipeline: Any, colour: str | None = None, *, wait_lock: float = 0) -> dict[str, Any]:
    """Send all traffic back: to ``colour``, else the majority of a split in progress, else the
    idle previous colour (instant rollback after a promotion), else the colour an interrupted
    rollout of the journal started from."""
    name = pipeline.config.endpoint.name
    if colour is None:
        state = endpoints_of(pipeline).get_endpoint(name)
        try:
            colour, note = rollback_target(state.traffic, state.deployments, _last_promotion(pipeline, name))
        except ValueError as e:
            colour, note = Z.started_from(_progress(pipeline), name, state.traffic), None
            if colour is None:
                raise ConfigError(str(e), hint="azml2aks rollback PIPELINE --deployment blue") from None
        if colour is None:
            return {"endpoint": name, "traffic": state.traffic.to_dict(), "note": note}
    out = set_traffic(pipeline, {colour: 100}, wait_lock=wait_lock, verb="rollback")
    stand = Z.interrupted(_progress(pipeline), name)
    if stand is not None:  # undone: --resume no longer goes on with it
        pipeline.journal.record_progress(Z.PROGRESS, {**stand, "status": "rolled_back"})
    return out


def _progress(pipeline: Any) -> dict[str, Any] | None:
    journal = getattr(pipeline, "journal", None)
    return journal.progress(Z.PROGRESS) if journal is not None else None


def _last_promotion(pipeline: Any, endpoint: str) -> tuple[str, str] | None:
    """(new colour, previous colour) of the latest promoted rollout in the run journal."""
    journal = getattr(pipeline, "journal", None)
    stage = journal.stage("deploy") if journal is not None else None
    result = stage["result"] if stage else {}
    if result.get("endpoint") == endpoint and result.get("result") == "promoted" and result.get("previous"):
        return result["colour"], result["previous"]
    return None


def invoke(pipeline: Any, file: str | Path, *, deployment: str | None = None) -> dict[str, Any]:
    """Score the JSON in ``file`` through the endpoint (pinned to ``deployment`` if given)."""
    endpoints, name = endpoints_of(pipeline), pipeline.config.endpoint.name
    try:
        body = Path(file).read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read request file {file}: {e.strerror}") from None
    state = endpoints.get_endpoint(name)
    timeout = pipeline.config.deployment.request_settings.request_timeout_ms / 1000 + 1
    prober = P.Prober(state.scoring_uri, endpoints.get_credentials(name).secret, timeout=timeout)
    answer = prober.send(body, deployment)
    code, who, content, ms = answer.status, answer.deployment, answer.content, answer.ms
    if code is None:
        where = f"deployment {deployment!r} of endpoint {name!r}" if deployment else f"endpoint {name!r}"
        raise BackendError(f"{where} did not answer at {state.scoring_uri} ({content})",
                           hint="check it with `azml2aks status PIPELINE`; a stopped local endpoint comes back "
                                "with `azml2aks deploy PIPELINE`")
    if code >= 400:
        detail = json.dumps(content)[:500] if not isinstance(content, str) else content[:500]
        where = f"deployment {who!r} of endpoint {name!r}" if who else f"endpoint {name!r}"
        if code == 404:
            raise NotFoundError(f"{where} answered HTTP 404 for the request in {file}: {detail}",
                                hint="see the deployments with `azml2aks status PIPELINE`; --deployment takes one of them")
        if code in (401, 403):
            raise BackendError(f"{where} refused the key: HTTP {code} {detail}",
                               hint="the endpoint's keys changed; see `azml2aks keys PIPELINE`")
        if 400 <= code < 500:
            raise DataError(f"{where} refused the request in {file}: HTTP {code} {detail}",
                            hint="the message names the column or row to fix; see scoring/README.md for the formats")
        raise BackendError(f"{where} failed to answer the request in {file}: HTTP {code} {detail}",
                           hint=f"see `azml2aks logs PIPELINE --deployment {who or deployment or 'COLOUR'}`")
    return {"status_code": code, "deployment": who, "latency_ms": round(ms, 2), "response": content}


def get_keys(pipeline: Any) -> dict[str, str]:
    """The endpoint's keys (only for a caller that asked for them; never logged)."""
    name = pipeline.config.endpoint.name
    keys = endpoints_of(pipeline).get_keys(name)
    return {"endpoint": name, "primaryKey": keys.primary, "secondaryKey": keys.secondary}


def logs(pipeline: Any, colour: str, *, tail: int = 50, container: str = "inference-server") -> str:
    return endpoints_of(pipeline).get_logs(pipeline.config.endpoint.name, colour, tail=tail, container=container)


def local_down(pipeline: Any) -> dict[str, Any]:
    """Stop the local endpoint's router and inference servers and forget its state."""
    endpoints = endpoints_of(pipeline)
    if not isinstance(endpoints, LocalProcesses):
        raise UnsupportedError("`local down` only applies to the local backend",
                               hint="on Azure, delete the endpoint with `az ml online-endpoint delete`")
    name = pipeline.config.endpoint.name
    return {"endpoint": name, "stopped_pids": endpoints.stop_endpoint(name)}
