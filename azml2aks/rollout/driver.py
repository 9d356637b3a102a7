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
``get_keys``, ``local_down``) live in :mod:`azml2aks.rollout.verbs`. :func:`held` is the one
way a rollout or a verb takes the endpoint's lock; where an unfinished rollout stands is kept
in the run journal (:mod:`azml2aks.rollout.resume`) for ``deploy --resume``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from azml2aks import probe as P
from azml2aks import rollout as R
from azml2aks.backends.ports import Credentials, EndpointLocks, Endpoints
from azml2aks.config import PipelineConfig, specs
from azml2aks.errors import (
    Azml2aksError,
    ConfigError,
    DataError,
    NotFoundError,
    RolloutAborted,
)
from azml2aks.events import EventSink, ignore_event
from azml2aks.results import DeployResult, ModelVersion, PackageResult
from azml2aks.rollout import resume as Z
from azml2aks.rollout.traffic import Traffic

logger = logging.getLogger(__name__)

HOLDOUT_ROWS = 200
#: An aml_token is fetched again when it has less than this many seconds left.
TOKEN_REFRESH_SECONDS = 300.0


def endpoints_of(pipeline: Any) -> Endpoints:
    """The Endpoints port of ``pipeline``'s backend."""
    return pipeline.backend


def load_holdout(config: PipelineConfig, base_dir: Path, *, limit: int = HOLDOUT_ROWS) -> P.Payloads:
    """Probe rows: ``automl.test_data`` if set, else a deterministic sample of the training data."""

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
    elif config.automl.test_data is not None:
        raise DataError(f"automl.test_data has no target column {target!r}; the rollout's metric gate scores the "
                        "new colour on these labelled rows",
                        hint="add the target column to the test data, or remove automl.test_data "
                        "(the gates then probe with a sample of the training data)")
    split = json.loads(frame.to_json(orient="split", index=False, date_format="iso"))
    return P.Payloads(columns=[str(c) for c in split["columns"]], rows=split["data"], labels=labels)


class Executor:
    """Executes the engine's actions against an endpoint; each returns an observation."""

    def __init__(self, config: PipelineConfig, endpoints: Endpoints, *, model: str | None, environment: str | None,
                 code_dir: str | Path | None, payloads: P.Payloads, sleep: Callable[[float], None],
                 on_event: EventSink = ignore_event, clock: Callable[[], float] = time.monotonic,
                 transport: P.Transport | None = None, scoring_uri: str | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.config, self.endpoints = config, endpoints
        self.model, self.environment, self.code_dir = model, environment, code_dir
        self.payloads, self.sleep, self.on_event = payloads, sleep, on_event
        self.clock, self.transport = clock, transport
        self.name = config.endpoint.name
        self.gates = config.rollout.gates
        self.sampler = P.RowSampler(len(payloads), seed=config.local.seed)
        self.scoring_uri, self.now = scoring_uri, now
        self._prober: P.Prober | None = None
        self._credentials: Credentials | None = None
        self.traffic_changed = False

    def secret(self) -> str:
        """The probes' credential: fetched once, and again before an aml_token expires."""
        held = self._credentials
        if held is None or (isinstance(held, Credentials) and held.expires_within(TOKEN_REFRESH_SECONDS, self.now())):
            self._credentials = self.endpoints.get_credentials(self.name)
        return self._credentials.secret

    def prober(self) -> P.Prober:
        if self._prober is None:
            uri = self.scoring_uri or self.endpoints.get_endpoint(self.name).scoring_uri
            timeout = self.config.deployment.request_settings.request_timeout_ms / 1000 + 1
            self.secret()  # fetched now: a failure shows before any probe
            self._prober = P.Prober(uri, self.secret, timeout=timeout,
                                    concurrency=self.config.rollout.probe_concurrency, transport=self.transport)
        return self._prober

    def __call__(self, action: R.Action) -> R.Observation:
        try:
            return self._run(action)
        except Azml2aksError as e:
            tail = None
            if isinstance(action, (R.CreateDeployment, R.SmokeTest)):
                tail = self._log_tails(action.colour)
            reason = e.message.split("; last lines of", 1)[0].splitlines()[0]
            return R.Failed(reason, log_tail=tail)

    def _log_tails(self, colour: str) -> str | None:
        """The tails of both containers' logs (the storage initializer downloads the model)."""
        parts = []
        for container in ("storage-initializer", "inference-server"):
            try:
                text = self.endpoints.get_logs(self.name, colour, tail=30, container=container)
            except Azml2aksError:
                continue
            parts.append(f"[{container}]\n{text.rstrip()}" if text and text.strip() else f"[{container}] (no lines)")
        return "\n".join(parts) or None

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
            self.traffic_changed = True  # before the call: a failed change may still have applied
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
        """Set the last good split again, even when a read already shows it: on Azure a read can
        lag behind the last update (set_traffic is idempotent). Nothing to do when this rollout
        never changed the split: the live colour was not touched."""
        if self.traffic_changed:
            self.endpoints.set_traffic(self.name, Traffic(traffic))


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
                on_event: EventSink = ignore_event, transport: P.Transport | None = None,
                now: Callable[[], float] = time.time, resume: tuple[str, R.Resume] | None = None,
                progress: Callable[[dict[str, Any]], None] | None = None) -> DeployResult:
    """Roll ``model`` served by the package in ``code_dir`` (with ``environment``, a
    ``name:version``) out as a new colour; raise RolloutAborted when rolled back. ``resume``:
    (colour, where it stood) of an interrupted rollout to go on with; ``progress`` receives
    where the rollout stands after each passed step (the journal keeps it for ``--resume``)."""
    name = config.endpoint.name
    state = endpoints.ensure_endpoint(specs.endpoint_spec(config))
    colour = resume[0] if resume else _next_colour(name, state.traffic, config)
    registered = model.metric_value if model is not None and model.metric_name == config.primary_metric else None
    try:
        engine = R.Rollout(state.traffic.to_dict(), colour, config.rollout, metric_name=config.primary_metric,
                           registered_metric=registered, clock=clock, resume=resume[1] if resume else None)
    except ValueError as e:
        raise ConfigError(f"endpoint {name!r}: {e}", hint=_SETTLE_FIRST) from None
    if engine.previous is not None:
        P.check_holdout(payloads, config)
    stand = Z.stand(name, colour, engine, model=getattr(model, "ref", None), environment=environment)
    record = progress or (lambda _: None)
    record(stand)
    execute = Executor(config, endpoints, model=getattr(model, "ref", None), environment=environment,
                       code_dir=code_dir, payloads=payloads, sleep=sleep, on_event=on_event, clock=clock,
                       transport=transport, scoring_uri=state.scoring_uri or None, now=now)
    execute.traffic_changed = state.traffic != engine.report.last_good  # a resumed rollout may start mid-ladder
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
                    if step["phase"] == "step" and step["verdict"] == R.PASS:
                        stand["passed"] = step["percent"]
                        record(stand)
                seen = len(engine.report.steps)
    except BaseException as e:  # Ctrl-C or a crash mid-ladder: the live colour gets its traffic back
        restored = _restore_after_interruption(execute, engine.report.last_good, on_event)
        record({**stand, "status": "interrupted"})
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
    record({**stand, "status": report.result})
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


@contextmanager
def held(pipeline: Any, verb: str, *, timeout: float) -> Iterator[None]:
    """Hold the endpoint's rollout lock (DESIGN.md "one rollout at a time") for the block, as
    ``verb`` of the pipeline's run: wait up to ``timeout`` seconds, else LockedError naming the
    holder's run id. A backend without locks says so and goes on."""
    endpoints, name = endpoints_of(pipeline), pipeline.config.endpoint.name
    if not isinstance(endpoints, EndpointLocks):
        pipeline.on_event({"event": "warning", "message": f"the {getattr(endpoints, 'name', '')} backend does not "
                           f"lock endpoints: nothing stops a second rollout on {name!r} meanwhile"})
        yield
        return
    journal = getattr(pipeline, "journal", None)
    holder = {"run_id": getattr(journal, "run_id", None), "verb": verb}
    # --wait-lock, else rollout.lock_timeout_seconds from pipeline.yaml
    timeout = timeout or pipeline.config.rollout.lock_timeout_seconds
    with endpoints.hold_endpoint(name, holder=holder, timeout=timeout):
        yield


def deploy(pipeline: Any, package: PackageResult | None, *, dry_run: bool = False,
           sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
           now: Callable[[], float] = time.time, wait_lock: float = 0, resume: bool = False) -> DeployResult:
    """The deploy stage of ``pipeline`` for ``package`` (``dry_run``: the plan, touching nothing),
    holding the endpoint's lock (``wait_lock``: seconds to wait for another rollout to end);
    ``resume`` goes on with the interrupted rollout the run journal recorded."""
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
        describe = getattr(endpoints, "planned_requests", None)  # a backend that can name its wire
        requests = tuple(describe(name, actions, exists=bool(uri))) if describe else ()
        return DeployResult(endpoint=name, scoring_uri=uri, result="planned", colour=colour, previous=live,
                            traffic=traffic, steps=tuple(a.to_dict() for a in actions),
                            model=package.model if package else None, requests=requests)
    if package is None:
        raise ConfigError("nothing to deploy: package a model first (azml2aks package PIPELINE)")
    environment = (f"{package.environment_name}:{package.environment_version}"
                   if package.environment_version else None)
    journal = getattr(pipeline, "journal", None)
    where = Z.interrupted(journal.progress(Z.PROGRESS) if journal is not None else None, name) if resume else None
    if resume and where is None:
        raise ConfigError(f"no interrupted rollout of endpoint {name!r} in the run journal to resume",
                          hint="run `azml2aks deploy PIPELINE` to start one")
    model = _model_of(pipeline, where["model"] if where and where.get("model") else package.model)
    environment = where.get("environment") or environment if where else environment
    payloads = load_holdout(config, pipeline.base_dir)
    progress = (lambda stand: journal.record_progress(Z.PROGRESS, stand)) if journal is not None else None
    point = Z.resume_point(where) if where else None
    with held(pipeline, "deploy", timeout=wait_lock):
        return run_rollout(config, endpoints, code_dir=package.directory, model=model, environment=environment,
                           payloads=payloads, sleep=sleep, clock=clock, on_event=pipeline.on_event, now=now,
                           resume=point, progress=progress)


def _model_of(pipeline: Any, ref: str) -> ModelVersion:
    """The registered model ``ref``: from the run journal when this run registered it (no call),
    else from the backend's registry."""
    stage = pipeline.journal.stage("register") if getattr(pipeline, "journal", None) is not None else None
    return Z.registered_model(stage["result"] if stage else None, ref) or pipeline.resolve_model(ref)
