"""AutoML jobs as they run: submission, the status sequence, child runs, metrics, cancel.

A job answers the PUT with `NotStarted`, then moves one phase at a time through
`Starting, Preparing, Queued, Running, Finalizing` to `Completed` (or `Failed`); a cancel
answers `CancelRequested` until the cancel operation ends, then `Canceled` (statuses:
the SDK's `JobStatus` in `constants/_job/job.py` and azure-ml-wire.md). Each phase lasts
`config.job_phase_polls[phase]` GETs (`job_queued_polls`/`job_running_polls` for Queued and
Running), or `config.job_phase_seconds[phase]` seconds on the fake clock when given.
`finish(name)` jumps to the outcome. A completed parent carries the tag
`automl_best_child_run_id` naming its best child by the primary metric (lower is better
for metrics with "error" in the name).

Children (`script()` sets those of the next jobs): trials that can be `Failed` or
`Canceled` and the `VotingEnsemble`/`StackEnsemble` iterations AutoML runs last; they show
once the parent runs. `jobs.get(<child id>)` works as on Azure: the Jobs GET answers a body
without `properties`, and the SDK reads the run from run history (`_job_operations.py`
`get`, `job.py` `_is_pipeline_child_job`). Completed children leave their artifacts in the
artifact store (artifacts.py).

Training data must be an MLTable: a `mltable` input whose path is a single file (a CSV
labelled mltable) or a folder without an `MLTable` file makes the job end `Failed` with a
UserError (AutoML reads tabular data only through MLTable; the job-time failure is an
assumption about where Azure refuses it). A data asset reference must exist (404).

Run history: GET `{api}/history/v1.0{WS}/runs/{id}` (and `/details`, `/children`), and
the MLflow route `{api}/mlflow/v2.0{WS}/api/2.0/mlflow/runs/get?run_id=` for metrics.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .arm import FakeRequest, Reply, bad_request, conflict, not_found
from .state import ARM_HOST, new_id, system_data

BEST_CHILD_TAG = "automl_best_child_run_id"
PHASES = ("Starting", "Preparing", "Queued", "Running", "Finalizing")
TERMINAL = ("Completed", "Failed", "Canceled")
ENSEMBLES = ("VotingEnsemble", "StackEnsemble")
DEFAULT_CHILDREN = (
    {"algorithm": "LightGBM", "preprocessor": "MaxAbsScaler", "score": 0.87},
    {"algorithm": "XGBoostClassifier", "preprocessor": "StandardScalerWrapper", "score": 0.91},
    {"algorithm": "LogisticRegression", "preprocessor": "MaxAbsScaler", "score": 0.84},
    {"algorithm": "RandomForest", "preprocessor": "MinMaxScaler", "status": "Failed",
     "error": "Iteration failed: the trial ran out of memory."},
    {"algorithm": "ExtremeRandomTrees", "preprocessor": "MaxAbsScaler", "status": "Canceled"},
    {"algorithm": "VotingEnsemble", "score": 0.92},
    {"algorithm": "StackEnsemble", "score": 0.915},
)

#: what the service fills into `taskDetails.limitSettings` of a tabular task.
LIMIT_DEFAULTS = {"maxTrials": 1000, "maxConcurrentTrials": 1, "maxCoresPerTrial": -1,
                  "timeout": "PT6H", "trialTimeout": "PT30M", "enableEarlyTermination": True,
                  "exitScore": None}


def metric_name(rest_name: str) -> str:
    if rest_name.startswith("AUC"):
        return "AUC_" + rest_name[3:].lower()
    return re.sub(r"(?<!^)(?=[A-Z])", "_", rest_name).lower()


@dataclass
class JobRecord:
    name: str
    properties: dict
    system_data: dict
    started: float = 0.0
    children: list[dict] = field(default_factory=list)
    failure: str | None = None
    phase: int = -1                     # -1: NotStarted, then an index of PHASES
    phase_reads: int = 0
    phase_started: float = 0.0
    outcome: str | None = None          # set once the job reached a terminal status
    cancel_requested: bool = False
    reads: int = 0                      # kept from v1
    experiment_id: str = field(default_factory=new_id)

    @property
    def primary_metric(self) -> str:
        """The metric name AutoML logs (`Accuracy` -> `accuracy`, `AUCWeighted` -> `AUC_weighted`)."""
        task = self.properties.get("taskDetails") or {}
        return metric_name(task.get("primaryMetric") or "Accuracy")

    @property
    def canceled(self) -> bool:
        return self.outcome == "Canceled"

    def best_child(self) -> dict | None:
        done = [c for c in self.children if c.get("status", "Completed") == "Completed"]
        if not done:
            return None
        pick = min if "error" in self.primary_metric.lower() else max
        return pick(done, key=lambda c: c["score"])


class Jobs:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.records: dict[str, JobRecord] = {}
        self.children_script: list[dict] = [dict(c) for c in DEFAULT_CHILDREN]
        #: tag completed parents with `automl_best_child_run_id` (False: a parent read without
        #: it, e.g. during the consistency lag after it completed; assumption)
        self.tag_best_child = True
        c = fake.config
        ws = re.escape(ARM_HOST + c.workspace_path)
        r = fake.router
        r.add("PUT", ws + r"/jobs/(?P<name>[^/]+)", "Jobs_CreateOrUpdate", self.put)
        r.add("GET", ws + r"/jobs/(?P<name>[^/]+)", "Jobs_Get", self.get)
        r.add("GET", ws + r"/jobs", "Jobs_List", self.list)
        r.add("POST", ws + r"/jobs/(?P<name>[^/]+)/cancel", "Jobs_Cancel", self.cancel)
        hist = re.escape(c.api_host + "/history/v1.0" + c.workspace_path)
        exp = r"(?:/experiments/[^/]+|/experimentids/[^/]+)?"
        r.add("GET", hist + exp + r"/runs/(?P<run_id>[^/]+)/children", "RunHistory_GetChildren",
              self.run_children)
        r.add("GET", hist + exp + r"/runs/(?P<run_id>[^/]+)/details", "RunHistory_GetDetails",
              self.run_get)
        r.add("GET", hist + exp + r"/runs/(?P<run_id>[^/]+)", "RunHistory_GetRun", self.run_get)
        mlflow = re.escape(c.api_host + "/mlflow/v2.0" + c.workspace_path)
        r.add("GET", mlflow + r"/api/2\.0/mlflow/runs/get", "Mlflow_RunsGet", self.mlflow_run)

    # ---- test API ------------------------------------------------------------------------
    def script(self, children: list[dict]) -> None:
        """Children of jobs submitted from now on: dicts with algorithm, score[, preprocessor,
        status ("Completed", "Failed", "Canceled"), error]."""
        self.children_script = [dict(c) for c in children]

    def finish(self, name: str) -> None:
        """Move a job straight to its outcome (as if time passed)."""
        rec = self._record(name)
        rec.phase = len(PHASES)
        self._conclude(rec)

    def stop_responding(self, name: str, message: str = "The job stopped sending heartbeats "
                        "(its compute was lost).") -> None:
        """The job ends `NotResponding` (terminal for the SDK: `JobStatus`, azure-ml-wire.md)."""
        rec = self._record(name)
        rec.failure, rec.outcome = message, "NotResponding"

    def status(self, name: str) -> str:
        """The job's status now, without counting as a GET."""
        return self._status(self._record(name))

    def child(self, run_id: str) -> dict | None:
        """The scripted child with this run id (None for a parent or an unknown run)."""
        try:
            return self._find_run(run_id)[1]
        except Exception:  # noqa: BLE001 - not found
            return None

    # ---- ARM -----------------------------------------------------------------------------
    def put(self, req: FakeRequest, name: str) -> Reply:
        body = req.json() or {}
        props = dict(body.get("properties") or {})
        if props.get("jobType") != "AutoML":
            raise bad_request(f"job '{name}': only AutoML jobs are supported by the fake, "
                              f"got jobType {props.get('jobType')!r}")
        task = props.get("taskDetails") or {}
        missing = [k for k in ("taskType", "targetColumnName", "trainingData") if not task.get(k)]
        if missing:
            raise bad_request(f"job '{name}': taskDetails lacks {', '.join(missing)}")
        if name in self.records or self.child(name) is not None:
            raise conflict(f"A job with name '{name}' already exists. Job names must be unique "
                           "in a workspace.", code="UserError")
        props["taskDetails"] = {**task, "limitSettings": {**LIMIT_DEFAULTS,
                                                           **(task.get("limitSettings") or {})}}
        now = self.fake.clock.time()
        rec = JobRecord(name, props, system_data(self.fake.clock), started=now,
                        phase_started=now)
        rec.failure = self.fake.faults.take_job_failure(name) or self._data_problem(task)
        rec.children = [
            {**c, "run_id": f"{name}_{i}", "iteration": i}
            for i, c in enumerate(self.children_script)
        ]
        self.records[name] = rec
        return Reply(201, self._body(rec, status="NotStarted"))

    def get(self, req: FakeRequest, name: str) -> Reply:
        if name not in self.records:
            rec, child = self._find_run(name)
            # a child run: MFE answers without properties; the SDK then reads run history
            c = self.fake.config
            return Reply(200, {"id": f"{c.workspace_id}/jobs/{name}", "name": name,
                               "type": "Microsoft.MachineLearningServices/workspaces/jobs",
                               "systemData": rec.system_data})
        rec = self._record(name)
        rec.reads += 1
        self._advance(rec)
        return Reply(200, self._body(rec))

    def list(self, req: FakeRequest) -> Reply:
        return Reply(200, {"value": [self._body(r) for r in self.records.values()],
                           "nextLink": None})

    def cancel(self, req: FakeRequest, name: str) -> Reply:
        rec = self._record(name)
        if self._status(rec) in TERMINAL:
            raise bad_request(f"job '{name}' has already finished and cannot be canceled.",
                              code="UserError")
        rec.cancel_requested = True

        def effect() -> None:
            rec.outcome = "Canceled"

        return self.fake.lros.accepted_delete(self.fake.lros.start(effect, kind="Jobs_Cancel"))

    # ---- lifecycle -----------------------------------------------------------------------
    def _record(self, name: str) -> JobRecord:
        rec = self.records.get(name)
        if rec is None:
            raise not_found("Job", name)
        return rec

    def _phase_over(self, rec: JobRecord) -> bool:
        phase = PHASES[rec.phase]
        c = self.fake.config
        seconds = c.job_phase_seconds.get(phase)
        if seconds is not None:
            return self.fake.clock.time() - rec.phase_started >= seconds
        polls = {"Queued": c.job_queued_polls, "Running": c.job_running_polls}.get(
            phase, c.job_phase_polls.get(phase, 1))
        return rec.phase_reads >= polls

    def _advance(self, rec: JobRecord) -> None:
        """One GET's worth of progress: leave every phase that is over, then count the read."""
        if rec.outcome or rec.cancel_requested:
            return
        if rec.phase < 0:
            rec.phase, rec.phase_reads, rec.phase_started = 0, 0, self.fake.clock.time()
        while rec.phase < len(PHASES) and self._phase_over(rec):
            rec.phase, rec.phase_reads, rec.phase_started = (rec.phase + 1, 0,
                                                             self.fake.clock.time())
        if rec.phase >= len(PHASES):
            self._conclude(rec)
        else:
            rec.phase_reads += 1

    def _conclude(self, rec: JobRecord) -> None:
        if rec.outcome:
            return
        rec.outcome = "Failed" if rec.failure else "Completed"
        if rec.outcome == "Completed":
            for child in rec.children:
                if child.get("status", "Completed") == "Completed":
                    self.fake.artifacts.store(child["run_id"])

    def _status(self, rec: JobRecord) -> str:
        if rec.outcome:
            return rec.outcome
        if rec.cancel_requested:
            return "CancelRequested"
        return "NotStarted" if rec.phase < 0 else PHASES[rec.phase]

    def _data_problem(self, task: dict) -> str | None:
        """Why the training data is not an MLTable AutoML can read, or None."""
        data = task.get("trainingData") or {}
        uri = data.get("uri") or ""
        asset = (re.match(r"^(?:azureml:)?/?subscriptions/.*/data/([^/]+)/versions/([^/]+)$", uri)
                 or re.match(r"^azureml:([^:/]+):([^:/]+)$", uri))
        if asset:
            name, version = asset.groups()
            if version not in self.fake.assets.versions("data", name):
                raise not_found("Data asset", f"{name}:{version}")
            body = self.fake.assets.get("data", name, version)["properties"]
            if body.get("dataType", "").lower() != "mltable":
                return (f"UserError: data asset {name}:{version} is a {body.get('dataType')}; "
                        "AutoML training data must be an MLTable.")
            uri = body.get("dataUri") or ""
        path = re.sub(r"^azureml://datastores/[^/]+/paths/", "", uri).split("?", 1)[0]
        if re.search(r"\.(csv|tsv|parquet|json|txt)$", path, re.IGNORECASE):
            return (f"UserError: training data '{uri}' is a single file, not an MLTable: "
                    "create a folder with an MLTable file beside the data and use it as an "
                    "mltable input.")
        blobs = self.fake.blob.blobs
        folder = path.strip("/")
        under = [k for k in blobs if k.split("/", 1)[-1].startswith(folder + "/")]
        if under and not any(k.endswith(folder + "/MLTable") for k in under):
            return (f"UserError: no MLTable file found in '{uri}'; AutoML training data must "
                    "be an MLTable folder.")
        return None

    def _body(self, rec: JobRecord, status: str | None = None) -> dict:
        status = status or self._status(rec)
        props = {
            "description": None, "tags": {}, "properties": {}, "displayName": rec.name,
            "experimentName": "Default", "services": {}, "computeId": None,
            "isArchived": False, "identity": None, "resources": None,
            "environmentId": None, "environmentVariables": {}, "outputs": {},
            **rec.properties,
        }
        props["status"] = status
        props["tags"] = dict(props.get("tags") or {})
        props["properties"] = {**(props.get("properties") or {}),
                               "runTemplate": "AutoML", "primary_metric": rec.primary_metric}
        best = rec.best_child()
        if status == "Completed" and best and self.tag_best_child:
            props["tags"][BEST_CHILD_TAG] = best["run_id"]
            props["properties"]["score"] = str(best["score"])
        if status == "Failed":
            props["error"] = {"code": "UserError", "message": rec.failure}
        props["services"] = props.get("services") or {
            "Studio": {"jobServiceType": "Studio", "port": None, "status": None,
                       "errorMessage": None, "properties": None,
                       "endpoint": f"https://ml.azure.com/runs/{rec.name}"},
        }
        c = self.fake.config
        return {"id": f"{c.workspace_id}/jobs/{rec.name}", "name": rec.name,
                "type": "Microsoft.MachineLearningServices/workspaces/jobs",
                "properties": props, "systemData": rec.system_data}

    # ---- run history and metrics ---------------------------------------------------------
    def _find_run(self, run_id: str) -> tuple[JobRecord, dict | None]:
        if run_id in self.records:
            return self.records[run_id], None
        for rec in self.records.values():
            for child in rec.children:
                if child["run_id"] == run_id:
                    return rec, child
        raise not_found("Run", run_id)

    def _child_status(self, rec: JobRecord, child: dict) -> str:
        parent = self._status(rec)
        scripted = child.get("status", "Completed")
        if parent in ("Canceled", "CancelRequested") and scripted == "Completed":
            return "Canceled"
        return scripted

    def _visible_children(self, rec: JobRecord) -> list[dict]:
        status = self._status(rec)
        if status in TERMINAL or status in ("Running", "Finalizing", "CancelRequested"):
            return rec.children
        return []

    def _run(self, rec: JobRecord, child: dict | None) -> dict:
        started = rec.system_data["createdAt"]
        if child is None:
            job = self._body(rec)["properties"]
            run = {"runId": rec.name, "parentRunId": None, "rootRunId": rec.name,
                   "experimentId": rec.experiment_id, "status": job["status"],
                   "displayName": rec.name, "runType": "automl",
                   "createdUtc": started, "startTimeUtc": started, "endTimeUtc": None,
                   "properties": job["properties"], "tags": job["tags"], "target": None}
            if job["status"] in ("Failed", "NotResponding") and rec.failure:
                # run details carry the error `az ml job stream` prints (_job_ops_helper.py)
                run["error"] = {"error": {"code": "UserError", "message": rec.failure}}
            return run
        status = self._child_status(rec, child)
        props = {"run_algorithm": child["algorithm"],
                 "run_preprocessor": child.get("preprocessor", ""),
                 "iteration": str(child["iteration"]), "primary_metric": rec.primary_metric,
                 "ensembled_iterations": "[0, 1]" if child["algorithm"] in ENSEMBLES else None}
        if status == "Completed":
            # a real remote child says outputs/model.pkl here even though it also writes
            # outputs/mlflow-model/ (a published VotingEnsemble child run's properties; README)
            props.update({"score": str(child["score"]), "model_output_path": "outputs/model.pkl",
                          "runTemplate": "automl_child"})
        run = {
            "runId": child["run_id"], "parentRunId": rec.name, "rootRunId": rec.name,
            "experimentId": rec.experiment_id, "status": status,
            "displayName": f"{child['algorithm']} {child['run_id']}", "runType": "automl",
            "createdUtc": started, "startTimeUtc": started, "endTimeUtc": started,
            "properties": {k: v for k, v in props.items() if v is not None},
            "tags": {"model_explain_run": "best_run"} if child is rec.best_child() else {},
            "target": None,
        }
        if status == "Failed":
            run["error"] = {"error": {"code": "UserError",
                                      "message": child.get("error", "Iteration failed.")}}
        return run

    def run_get(self, req: FakeRequest, run_id: str) -> Reply:
        return Reply(200, self._run(*self._find_run(run_id)))

    def run_children(self, req: FakeRequest, run_id: str) -> Reply:
        rec, child = self._find_run(run_id)
        kids = [] if child is not None else self._visible_children(rec)
        return Reply(200, {"value": [self._run(rec, k) for k in kids],
                           "continuationToken": None, "count": len(kids), "nextLink": None})

    def mlflow_run(self, req: FakeRequest) -> Reply:
        rec, child = self._find_run(req.query.get("run_id", ""))
        run = self._run(rec, child)
        metrics = [] if child is None or "score" not in child else [
            {"key": rec.primary_metric, "value": child["score"], "timestamp": 0, "step": 0}]
        tags = [{"key": k, "value": v} for k, v in run["tags"].items()]
        return Reply(200, {"run": {
            "info": {"run_id": run["runId"], "run_uuid": run["runId"],
                     "experiment_id": rec.experiment_id, "status": "FINISHED"
                     if run["status"] == "Completed" else run["status"].upper(),
                     "artifact_uri": f"azureml://experiments/Default/runs/{run['runId']}/artifacts"},
            "data": {"metrics": metrics, "params": [], "tags": tags}}})
