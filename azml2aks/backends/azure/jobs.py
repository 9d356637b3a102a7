"""AutoML jobs on Azure ML: submit from an :class:`AutoMLJobSpec`, follow, cancel, read trials.

The job is built by the SDK's own loader of the official AutoML job YAML
(``azure.ai.ml.load_job``) from the ``automl:`` section as written, so every official key
(limits, training, featurization, n_cross_validations, validation/test data and sizes,
forecasting, compute, experiment, tags, ...) reaches the job unchanged and is validated the
way ``az ml job create`` validates it. Local data inputs become MLTable data assets first
(:mod:`.data`). The job is tagged with the training data reference and content hash, so
``wait`` and ``register`` on another agent, with no local journal, know the lineage.

Following a job polls ``jobs.get`` through :class:`azml2aks.retry.Poller` (first wait
:data:`FOLLOW_INITIAL` s, growing by :data:`FOLLOW_FACTOR` up to :data:`FOLLOW_MAX` s) and
lists the child runs (trials) at most every :data:`CHILDREN_EVERY` s while the job runs,
plus once at the end: one status line per change, one line per finished trial with the best
metric so far. 429 and 5xx answers are retried inside each call by azure-core (honouring
Retry-After). A Failed, Canceled or NotResponding job raises BackendError with the
service's own error (read from run history, as ``az ml job stream`` does). Ctrl-C stops
following, never the job, and says how to resume or cancel.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable
from typing import Any

from azml2aks import metrics as M
from azml2aks.backends.azure import data as azure_data
from azml2aks.backends.azure.client import is_transient, scrub, translate
from azml2aks.backends.ports import TERMINAL_JOB_STATUSES, JobState
from azml2aks.config.specs import AutoMLJobSpec, thaw
from azml2aks.errors import BackendError, ConfigError, NotFoundError
from azml2aks.events import EventSink, ignore_event
from azml2aks.results import ChildRun, TrainResult
from azml2aks.retry import Poller

logger = logging.getLogger(__name__)

FOLLOW_INITIAL = 10.0  # seconds before the second status read
FOLLOW_FACTOR = 1.5
FOLLOW_MAX = 60.0  # the longest wait between two status reads
CHILDREN_EVERY = 120.0  # the shortest wait between two child-run listings while the job runs
MAX_TRANSIENT = 5  # consecutive throttled / 5xx polls a follower sits out before giving up
RUNNING = frozenset({"Running", "Finalizing", "CancelRequested"})
TAG = "azml2aks."
BEST_CHILD_TAG = "automl_best_child_run_id"
_DATA_FIELDS = ("training_data", "validation_data", "test_data")


def _text(value: Any) -> str | None:
    """An SDK enum or string as plain text (``JobStatus.COMPLETED`` -> ``Completed``)."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


def metric_name(value: Any, task: str) -> str:
    """The pipeline.yaml spelling of a primary metric the SDK returns (``AUCWeighted`` -> ``AUC_weighted``)."""
    text = _text(value) or M.DEFAULT_METRIC[task]
    wanted = text.replace("_", "").lower()
    return next((m for m in M.PRIMARY_METRICS[task] if m.replace("_", "").lower() == wanted), text)


def build_job(spec: AutoMLJobSpec, inputs: dict[str, azure_data.JobData]) -> Any:
    """The SDK's AutoML job for ``spec`` with data inputs replaced by their job references."""
    import yaml
    from azure.ai.ml import load_job

    body = thaw(spec.settings)
    body.pop("$schema", None)
    body.update(type="automl", task=spec.task, primary_metric=spec.primary_metric,
                experiment_name=spec.experiment_name, target_column_name=spec.target_column_name)
    if spec.compute:
        body["compute"] = spec.compute
    for field, value in inputs.items():
        body[field] = {"path": value.path, "type": value.type}
    training = inputs["training_data"]
    tags = {**thaw(spec.tags), TAG + "training_data": training.path}
    if training.sha256:
        tags[TAG + "training_data_sha256"] = training.sha256
    body["tags"] = tags
    try:
        return load_job(io.StringIO(yaml.safe_dump(body, sort_keys=False)))
    except Exception as e:  # the SDK's ValidationError / ValidationException: the section is wrong
        raise ConfigError(f"automl: the AutoML job YAML is not valid for Azure ML: {scrub(str(e), 400)}",
                          hint="fix the automl: section (it is the body of an official AutoML job YAML)") from e


class AzureJobs:
    """The Jobs port on Azure ML. Mixed into AzureBackend, which provides ``ml`` (an MLClient),
    ``workspace_name``, ``sleep`` and ``clock``."""

    ml: Any
    workspace_name: str
    sleep: Callable[[float], None]
    clock: Callable[[], float]

    def submit_job(self, spec: AutoMLJobSpec, *, on_event: EventSink = ignore_event,
                   detach: bool = False) -> JobState:
        """Upload local data once, submit the AutoML job, return its state (it runs on Azure)."""
        inputs: dict[str, azure_data.JobData] = {}
        for field in _DATA_FIELDS:
            ref = getattr(spec, field)
            if ref is not None:
                inputs[field] = azure_data.resolve(self.ml, ref, experiment=spec.experiment_name)
                if inputs[field].uploaded:
                    on_event({"event": "data", "field": ref.field, "asset": inputs[field].path,
                              "message": f"uploaded {ref.field} as data asset {inputs[field].path}"})
        job = build_job(spec, inputs)
        try:
            with translate(f"submitting the AutoML job to workspace {self.workspace_name}"):
                created = self.ml.jobs.create_or_update(job)
        except NotFoundError as e:  # the job names a data asset, compute or environment the workspace lacks
            e.hint = e.hint or (f"check automl.training_data / validation_data / test_data (`az ml data list -w "
                                f"{self.workspace_name}`) and automl.compute (`az ml compute list -w "
                                f"{self.workspace_name}`) in pipeline.yaml")
            raise
        except ConfigError as e:
            if getattr(e, "status", None) == 409 and spec.name:
                e.hint = (f"job names are unique in a workspace: follow the existing one with `azml2aks wait "
                          f"PIPELINE {spec.name}`, or remove automl.name so that Azure ML names each job")
            raise
        state = self._state(created)
        logger.info("submitted AutoML job %s (%s)", state.name, state.status)
        if detach:
            on_event({"event": "queued", "job": state.name,
                      "message": f"job {state.name} submitted; follow it with `azml2aks wait PIPELINE {state.name}`"})
        return state

    def job_state(self, name: str) -> JobState:
        return self._state(self._get(name))

    def get_job(self, name: str) -> TrainResult:
        job = _tabular_automl(self._get(name))
        return self._result(job, self._children(name) if _text(job.status) in TERMINAL_JOB_STATUSES | RUNNING else [])

    def list_child_runs(self, name: str) -> list[ChildRun]:
        return self._children(name)

    def cancel_job(self, name: str) -> JobState:
        """Ask Azure ML to cancel the job; a finished job is returned as it is."""
        state = self.job_state(name)
        if state.terminal:
            return state
        with translate(f"canceling job {name}"):
            # polling=False: the request is accepted at once; the job then passes CancelRequested
            self.ml.jobs.begin_cancel(name, polling=False)
        return self.job_state(name)

    def wait_job(self, name: str, *, on_event: EventSink = ignore_event) -> TrainResult:
        """Follow ``name`` to a terminal status (see the module doc); raise unless Completed."""
        poller = Poller(initial=FOLLOW_INITIAL, factor=FOLLOW_FACTOR, max_delay=FOLLOW_MAX,
                        sleep=self.sleep, clock=self.clock)
        status, listed_at, children, transient = None, None, [], 0
        follow = _TrialReporter(on_event)
        try:
            for _ in poller:
                try:
                    job = self._get(name) if status else _tabular_automl(self._get(name))
                    if _text(job.status) != status:
                        status = _text(job.status) or "Unknown"
                        on_event({"event": "status", "job": name, "status": status,
                                  "message": f"job {name}: {status}"})
                    terminal = status in TERMINAL_JOB_STATUSES
                    if terminal or (status in RUNNING and (listed_at is None or
                                                           self.clock() - listed_at >= CHILDREN_EVERY)):
                        children = self._children(name)
                        listed_at = self.clock()
                        follow.report(children, metric_name(getattr(job, "primary_metric", None), _task(job)))
                except BackendError as e:  # azure-core retried it already; sit it out until the next poll
                    transient += 1
                    if not is_transient(e) or transient > MAX_TRANSIENT:
                        raise
                    logger.warning("job %s: %s; reading it again at the next poll", name, e.message)
                    continue
                transient = 0
                if terminal:
                    break
        except KeyboardInterrupt:
            on_event({"event": "warning", "job": name, "message":
                      f"stopped following job {name}; it keeps running in Azure ML. Follow it again with "
                      f"`azml2aks wait PIPELINE {name}`, or stop it with `azml2aks cancel PIPELINE {name}`"})
            raise
        result = self._result(job, children)
        if status != "Completed":
            raise self._failure(job, status)
        return result

    # --- reading ---------------------------------------------------------------------------
    def _get(self, name: str) -> Any:
        with translate(f"reading job {name}"):
            return self.ml.jobs.get(name)

    def _children(self, name: str) -> list[ChildRun]:
        with translate(f"listing the trials of job {name}"):
            runs = list(self.ml.jobs.list(parent_job_name=name))
        out = []
        for run in runs:
            props = dict(getattr(run, "properties", None) or {})
            if "run_algorithm" not in props:
                continue  # not a trial (AutoML's setup and featurization runs are children too)
            status = _text(run.status) or "Unknown"
            out.append(ChildRun(
                run_id=run.name, algorithm=props["run_algorithm"],
                metric_value=_score(props.get("score")) if status == "Completed" else None,
                status=status, params={k: v for k, v in props.items() if k in ("run_preprocessor", "iteration")},
                has_model=status == "Completed" and bool(props.get("model_output_path", "outputs/mlflow-model")),
            ))
        return sorted(out, key=_iteration)

    def _state(self, job: Any) -> JobState:
        return JobState(job.name, _text(job.status) or "Unknown", portal_url=getattr(job, "studio_url", None))

    def _result(self, job: Any, children: list[ChildRun]) -> TrainResult:
        task = _task(job)
        tags = dict(job.tags or {})
        best_id = tags.get(BEST_CHILD_TAG)
        best = next((c for c in children if c.run_id == best_id), None)
        return TrainResult(
            job_name=job.name, backend="azure", status=_text(job.status) or "Unknown", task=task,
            primary_metric=metric_name(getattr(job, "primary_metric", None), task),
            experiment_name=job.experiment_name or "Default", best_child_run_id=best_id,
            best_metric_value=best.metric_value if best else None, best_algorithm=best.algorithm if best else None,
            trials=len(children), training_data=tags.get(TAG + "training_data"),
            training_data_sha256=tags.get(TAG + "training_data_sha256"),
        )

    def _failure(self, job: Any, status: str) -> BackendError:
        code, message = self._service_error(job.name)
        what = {"Canceled": "was canceled", "NotResponding": "stopped responding", "Paused": "is paused"}.get(
            status, "failed")
        detail = f": ({code}) {message}" if code and message else f": {message}" if message else ""
        url = getattr(job, "studio_url", None)
        return BackendError(f"AutoML job {job.name} {what}{detail}",
                            hint=(f"see the job in Azure ML studio: {url}; " if url else "") +
                            "fix the cause and train again with `azml2aks train PIPELINE`", code=code or status)

    def _service_error(self, name: str) -> tuple[str | None, str | None]:
        """The run's error as run history holds it (what ``az ml job stream`` prints)."""
        try:
            with translate(f"reading the error of job {name}"):
                # the SDK's own run-history client (JobOperations._runs_operations), as jobs.stream() uses it
                details = self.ml.jobs._runs_operations.get_run_details(name)
        except Exception as e:  # noqa: BLE001 - the status alone still tells the user what happened
            logger.debug("no run details for %s: %s", name, e)
            return None, None
        error = getattr(getattr(details, "error", None), "error", None)
        if error is None:
            return None, None
        return getattr(error, "code", None), scrub(getattr(error, "message", None) or "", 400) or None


def _score(value: Any) -> float | None:
    """A trial's ``score`` property as a number; None when absent or not a finite number (AutoML
    writes "NaN" for a metric it could not compute, and a NaN would win or lose every comparison)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _iteration(child: ChildRun) -> int:
    """AutoML's iteration number of a trial (trials without one sort last)."""
    value = str(child.params.get("iteration", ""))
    return int(value) if value.isdigit() else 10**6


def _tabular_automl(job: Any) -> Any:
    """``job`` when it is a tabular AutoML job; else a ConfigError naming what it is (a command
    job, or an image/NLP AutoML task such as the official AutoMLJob example's ImageClassification)."""
    kind = (_text(getattr(job, "type", None)) or "").lower()
    task = (_text(getattr(job, "task_type", None)) or "").lower()
    if kind == "automl" and task in M.PRIMARY_METRICS:
        return job
    what = f"an AutoML {_text(job.task_type)} job" if kind == "automl" else f"a {kind or 'non-AutoML'} job"
    raise ConfigError(f"job {job.name} is {what}; azml2aks follows and registers tabular AutoML jobs only "
                      f"({', '.join(sorted(M.PRIMARY_METRICS))})",
                      hint="name the AutoML job that `azml2aks train` submitted (its name is in the train output), "
                      "or train one with `azml2aks train PIPELINE`")


def _task(job: Any) -> str:
    """classification / regression / forecasting of an AutoML job entity."""
    return (_text(getattr(job, "task_type", None)) or "classification").lower()


class _TrialReporter:
    """One event per trial that finished since the last listing, with the best metric so far."""

    def __init__(self, on_event: EventSink) -> None:
        self.on_event = on_event
        self.seen: set[str] = set()
        self.best: float | None = None
        self.count = 0

    def report(self, children: list[ChildRun], metric: str) -> None:
        for child in children:
            if child.run_id in self.seen or child.status not in TERMINAL_JOB_STATUSES:
                continue
            self.seen.add(child.run_id)
            self.count += 1
            if child.metric_value is None:
                self.on_event({"event": "trial_failed", "trial": self.count, "algorithm": child.algorithm,
                               "status": child.status, "message":
                               f"  trial {self.count:>3}  {child.algorithm:<20} {child.status.lower()}"})
                continue
            if M.is_better(child.metric_value, self.best, metric):
                self.best = child.metric_value
            self.on_event({"event": "trial", "trial": self.count, "algorithm": child.algorithm, "metric": metric,
                           "value": child.metric_value, "best": self.best, "run_id": child.run_id})
