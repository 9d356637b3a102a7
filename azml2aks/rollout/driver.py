"""The rollout driver: the pure engine executed against a backend's Endpoints port.

:func:`deploy` ensures the endpoint (never zeroing traffic), then runs
:class:`azml2aks.rollout.engine.Rollout`: create the idle colour at 0 % from a
:class:`DeploymentSpec`, smoke test it pinned, shadow-compare it with the live colour, walk the
ladder with gates, then promote, or restore the last good split and raise
:class:`RolloutAborted` (exit 4). The engine decides; this module only executes its actions
(port calls, :mod:`probe` traffic, the injected ``sleep``) and reports each step's gate figures
as events. It never parses error text: a failed action is an azml2aks error, turned into a
``Failed`` observation.

The endpoint verbs (``status``, ``set_traffic``, ``promote``, ``rollback``, ``invoke``, ``logs``,
``get_keys``, ``local_down``) are :class:`azml2aks.pipeline.Pipeline` methods that call the
functions at the end of this module; ``pipeline`` there is a Pipeline.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from azml2aks import probe as P
from azml2aks import rollout as R
from azml2aks.backends.ports import Endpoints, LocalProcesses
from azml2aks.config import PipelineConfig, specs
from azml2aks.errors import (
    Azml2aksError,
    BackendError,
    ConfigError,
    DataError,
    NotFoundError,
    RolloutAborted,
    UnsupportedError,
)
from azml2aks.events import EventSink, ignore_event
from azml2aks.results import DeployResult, ModelVersion, PackageResult
from azml2aks.rollout.traffic import Traffic, check_split, promote_target, rollback_target

logger = logging.getLogger(__name__)

HOLDOUT_ROWS = 200


def endpoints_of(pipeline: Any) -> Endpoints:
    """The Endpoints port of ``pipeline``'s backend."""
    return pipeline.backend


def load_holdout(config: PipelineConfig, base_dir: Path, *, limit: int = HOLDOUT_ROWS) -> P.Payloads:
    """Probe rows: ``automl.test_data`` if set, else a deterministic sample of the training data."""
    import json

    from azml2aks import data

    ref = config.automl.test_data or config.automl.training_data
    field = "automl.test_data" if config.automl.test_data else "automl.training_data"
    frame = data.read_table(data.resolve(ref, base_dir, field=field), field=field)
    if len(frame) > limit:
        frame = frame.sample(n=limit, random_state=config.local.seed)
    target = config.automl.target_column_name
    labels = None
    if target in frame.columns:
        labels = json.loads(frame[target].to_json(orient="values"))
        frame = frame.drop(columns=[target])
    split = json.loads(frame.to_json(orient="split", index=False, date_format="iso"))
    return P.Payloads(columns=[str(c) for c in split["columns"]], rows=split["data"], labels=labels)


class Executor:
    """Executes the engine's actions against an endpoint; each returns an observation."""

    def __init__(self, config: PipelineConfig, endpoints: Endpoints, *, model: str | None, environment: str | None,
                 code_dir: str | Path | None, payloads: P.Payloads, sleep: Callable[[float], None],
                 on_event: EventSink = ignore_event, clock: Callable[[], float] = time.monotonic,
                 transport: P.Transport | None = None) -> None:
        self.config, self.endpoints = config, endpoints
        self.model, self.environment, self.code_dir = model, environment, code_dir
        self.payloads, self.sleep, self.on_event = payloads, sleep, on_event
        self.clock, self.transport = clock, transport
        self.name = config.endpoint.name
        self.gates = config.rollout.gates
        self.sampler = P.RowSampler(len(payloads), seed=config.local.seed)
        self._prober: P.Prober | None = None

    def prober(self) -> P.Prober:
        if self._prober is None:
            state = self.endpoints.get_endpoint(self.name)
            timeout = self.config.deployment.request_settings.request_timeout_ms / 1000 + 1
            self._prober = P.Prober(state.scoring_uri, self.endpoints.get_credentials(self.name).secret,
                                    timeout=timeout, concurrency=self.config.rollout.probe_concurrency,
                                    transport=self.transport)
        return self._prober

    def __call__(self, action: R.Action) -> R.Observation:
        try:
            return self._run(action)
        except Azml2aksError as e:
            tail = None
            if isinstance(action, (R.CreateDeployment, R.SmokeTest)):
                try:
                    tail = self.endpoints.get_logs(self.name, action.colour, tail=30) or None
                except Azml2aksError:
                    tail = None
            reason = e.message.split("; last lines of", 1)[0].splitlines()[0]
            return R.Failed(reason, log_tail=tail)

    def _agreement_tolerance(self) -> float:
        # class labels agree only when equal (label 10 is not "close to" label 11)
        return 0.0 if self.config.automl.task == "classification" else self.gates.agreement_tolerance

    def _run(self, action: R.Action) -> R.Observation:
        s = self.config.rollout
        if isinstance(action, R.CreateDeployment):
            spec = specs.deployment_spec(self.config, action.colour, model=self.model,
                                         environment=self.environment, code_dir=self.code_dir)
            self.endpoints.create_or_update_deployment(spec, on_event=self.on_event)
        elif isinstance(action, R.SmokeTest):
            (run,) = self.prober().run(self.payloads, [action.colour], max_requests=action.requests,
                                       max_seconds=s.probe_seconds)
            return R.ProbeResult(_stats(run))
        elif isinstance(action, (R.Shadow, R.Probe)):
            return self.probe_round(action)
        elif isinstance(action, R.SetTraffic):
            self.endpoints.set_traffic(self.name, Traffic(action.traffic))
        elif isinstance(action, R.Rollback):
            self.restore(dict(action.traffic))
        elif isinstance(action, R.Wait):
            self.sleep(action.seconds)
        elif isinstance(action, R.DeleteDeployment):
            self.endpoints.delete_deployment(self.name, action.colour)
        return R.Ok()

    def probe_round(self, action: R.Shadow | R.Probe) -> R.ProbeResult:
        """One gated round on distinct hold-out rows; stops when the action's rule says settled."""
        return P.gated_round(self.prober(), self.payloads, self.sampler.take(action.requests),
                             action.colour, action.baseline, max_seconds=action.seconds, stop=action.stop,
                             metric_name=self.config.primary_metric, tolerance=self._agreement_tolerance(),
                             clock=self.clock)

    def restore(self, traffic: dict[str, int]) -> None:
        wanted = Traffic(traffic)
        if self.endpoints.get_endpoint(self.name).traffic != wanted:
            self.endpoints.set_traffic(self.name, wanted)


def _stats(run: P.ProbeRun) -> R.Stats:
    return R.Stats(samples=run.samples, errors=run.errors, p50_ms=run.p50_ms, p99_ms=run.p99_ms)


_SETTLE_FIRST = "settle the split first: azml2aks promote PIPELINE, or azml2aks rollback PIPELINE"


def _next_colour(name: str, traffic: dict[str, int], config: PipelineConfig) -> str:
    try:
        return R.choose_colour(traffic, config.rollout.colours)
    except ValueError as e:
        raise ConfigError(f"endpoint {name!r}: {e}", hint=_SETTLE_FIRST) from None


def run_rollout(config: PipelineConfig, endpoints: Endpoints, *, code_dir: str | Path | None,
                model: ModelVersion | None, environment: str | None = None, payloads: P.Payloads,
                sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                on_event: EventSink = ignore_event, transport: P.Transport | None = None) -> DeployResult:
    """Roll ``model`` served by the package in ``code_dir`` (with ``environment``, a
    ``name:version``) out as a new colour; raise RolloutAborted when rolled back."""
    name = config.endpoint.name
    state = endpoints.ensure_endpoint(specs.endpoint_spec(config))
    colour = _next_colour(name, state.traffic, config)
    registered = model.metric_value if model is not None and model.metric_name == config.primary_metric else None
    try:
        engine = R.Rollout(state.traffic.to_dict(), colour, config.rollout, metric_name=config.primary_metric,
                           registered_metric=registered, clock=clock)
    except ValueError as e:
        raise ConfigError(f"endpoint {name!r}: {e}", hint=_SETTLE_FIRST) from None
    if engine.previous is not None:
        P.check_holdout(payloads, config)
    execute = Executor(config, endpoints, model=getattr(model, "ref", None), environment=environment,
                       code_dir=code_dir, payloads=payloads, sleep=sleep, on_event=on_event, clock=clock,
                       transport=transport)
    on_event({"event": "rollout", "message": f"rolling {colour} out on endpoint {name} "
                                             f"(live: {engine.previous or 'none'}, ladder {config.rollout.steps})"})
    seen = 0

    def observed(action: R.Action) -> R.Observation:
        if not isinstance(action, R.Wait):
            on_event({"event": "rollout_action", "message": _describe(action), "action": action.to_dict()})
        return execute(action)

    flow = engine.flow()
    try:
        action = next(flow)
        while True:
            obs = observed(action)
            try:
                action = flow.send(obs)
            except StopIteration as stop:
                report: R.Report = stop.value
                break
            finally:
                for step in engine.report.steps[seen:]:
                    on_event({"event": "rollout_step", "message": R.format_step(step), "step": step})
                seen = len(engine.report.steps)
    except BaseException as e:  # Ctrl-C or a crash mid-ladder: the live colour gets its traffic back
        restored = _restore_after_interruption(execute, engine.report.last_good, on_event)
        if not isinstance(e, KeyboardInterrupt):
            raise
        payload = {**engine.report.to_dict(), "result": "rolled_back", "endpoint": name,
                   "scoring_uri": state.scoring_uri}
        raise RolloutAborted(
            f"rollout of {colour!r} on endpoint {name!r} interrupted; "
            + (f"traffic restored to {_split(engine.report.last_good)}" if restored else
               "restoring the last good split FAILED"),
            hint="run `azml2aks status PIPELINE` to check the split" if restored else
            "run `azml2aks rollback PIPELINE` now", report=payload) from None
    if report.result == "rolled_back":
        payload = {**report.to_dict(), "endpoint": name, "scoring_uri": state.scoring_uri}
        tail = f"\nlast lines of {colour}'s log:\n{report.log_tail}" if report.log_tail else ""
        raise RolloutAborted(
            f"rollout of {colour!r} on endpoint {name!r} aborted: {report.reason}; "
            f"traffic restored to {_split(report.traffic)}{tail}",
            hint=f"inspect it with `azml2aks logs PIPELINE --deployment {colour}`; it stays deployed at 0 %",
            report=payload)
    on_event({"event": "rollout", "message": f"{report.result}: {colour} on {name}, traffic {_split(report.traffic)}"})
    return DeployResult(endpoint=name, scoring_uri=state.scoring_uri, result=report.result, colour=colour,
                        previous=report.previous, traffic=report.traffic, steps=tuple(report.steps),
                        model=getattr(model, "ref", None))


def _restore_after_interruption(execute: Executor, last_good: dict[str, int], on_event: EventSink) -> bool:
    """Put the last good split back after an interruption; False when that failed too."""
    try:
        execute.restore(last_good)
    except (Azml2aksError, OSError) as e:
        logger.error("could not restore traffic %s: %s", last_good, e)
        return False
    on_event({"event": "rollout", "message": f"interrupted: traffic restored to {_split(last_good)}"})
    return True


def _describe(action: R.Action) -> str:
    d = action.to_dict()
    kind = d.pop("action")
    return f"  {kind} " + " ".join(f"{k}={_split(v) if isinstance(v, dict) else v}" for k, v in d.items())


def _split(traffic: dict[str, int]) -> str:
    return " ".join(f"{c}={p}" for c, p in traffic.items()) or "(empty)"


def deploy(pipeline: Any, package: PackageResult | None, *, dry_run: bool = False,
           sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> DeployResult:
    """The deploy stage of ``pipeline`` for ``package`` (``dry_run``: the plan, touching nothing)."""
    config, endpoints = pipeline.config, endpoints_of(pipeline)
    name = config.endpoint.name
    if dry_run:
        try:
            state = endpoints.get_endpoint(name)
            traffic, uri = state.traffic.to_dict(), state.scoring_uri
        except NotFoundError:
            traffic, uri = {}, ""
        colour = _next_colour(name, traffic, config)
        try:
            actions = R.plan(traffic, colour, config.rollout)
        except ValueError as e:
            raise ConfigError(f"endpoint {name!r}: {e}", hint=_SETTLE_FIRST) from None
        live = next((c for c, p in traffic.items() if p), None)
        return DeployResult(endpoint=name, scoring_uri=uri, result="planned", colour=colour, previous=live,
                            traffic=traffic, steps=tuple(a.to_dict() for a in actions),
                            model=package.model if package else None)
    if package is None:
        raise ConfigError("nothing to deploy: package a model first (azml2aks package PIPELINE)")
    model = pipeline.resolve_model(package.model)
    environment = (f"{package.environment_name}:{package.environment_version}"
                   if package.environment_version else None)
    payloads = load_holdout(config, pipeline.base_dir)
    return run_rollout(config, endpoints, code_dir=package.directory, model=model, environment=environment,
                       payloads=payloads, sleep=sleep, clock=clock, on_event=pipeline.on_event)


# --- verbs ---------------------------------------------------------------------------------
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


def set_traffic(pipeline: Any, traffic: dict[str, int] | list[str]) -> dict[str, Any]:
    """Set the live split; colours not named go to 0. Bad arguments change nothing."""
    if isinstance(traffic, list):
        traffic = parse_assignments(traffic)
    endpoints, name = endpoints_of(pipeline), pipeline.config.endpoint.name
    try:  # the split itself first: its error holds whatever the endpoint has
        check_split(traffic)
        state = endpoints.get_endpoint(name)
        new = state.traffic.assign(traffic, state.deployments)
    except ValueError as e:
        raise ConfigError(f"endpoint {name!r}: {e}", hint="e.g. azml2aks traffic PIPELINE blue=90 green=10") from None
    return {"endpoint": name, "traffic": endpoints.set_traffic(name, new).to_dict()}


def promote(pipeline: Any, colour: str | None = None) -> dict[str, Any]:
    """Give ``colour`` (default: the minority colour of a split in progress) 100 %."""
    if colour is None:
        state = endpoints_of(pipeline).get_endpoint(pipeline.config.endpoint.name)
        try:
            colour = promote_target(state.traffic)
        except ValueError as e:
            raise ConfigError(str(e), hint="azml2aks promote PIPELINE --deployment green") from None
    return set_traffic(pipeline, {colour: 100})


def rollback(pipeline: Any, colour: str | None = None) -> dict[str, Any]:
    """Send all traffic back: to ``colour``, else the majority of a split in progress, else the
    idle previous colour (instant rollback after a promotion)."""
    name = pipeline.config.endpoint.name
    if colour is None:
        state = endpoints_of(pipeline).get_endpoint(name)
        try:
            colour, note = rollback_target(state.traffic, state.deployments, _last_promotion(pipeline, name))
        except ValueError as e:
            raise ConfigError(str(e), hint="azml2aks rollback PIPELINE --deployment blue") from None
        if colour is None:
            return {"endpoint": name, "traffic": state.traffic.to_dict(), "note": note}
    return set_traffic(pipeline, {colour: 100})


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


def logs(pipeline: Any, colour: str, *, tail: int = 50) -> str:
    return endpoints_of(pipeline).get_logs(pipeline.config.endpoint.name, colour, tail=tail)


def local_down(pipeline: Any) -> dict[str, Any]:
    """Stop the local endpoint's router and inference servers and forget its state."""
    endpoints = endpoints_of(pipeline)
    if not isinstance(endpoints, LocalProcesses):
        raise UnsupportedError("`local down` only applies to the local backend",
                               hint="on Azure, delete the endpoint with `az ml online-endpoint delete`")
    name = pipeline.config.endpoint.name
    return {"endpoint": name, "stopped_pids": endpoints.stop_endpoint(name)}
