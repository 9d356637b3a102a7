"""AutoML jobs: submission, the Queued -> Running -> Completed/Failed/Canceled lifecycle,
child runs (run history on the regional data-plane host) and their metrics.

A job advances one step per ARM GET: `config.job_queued_polls` answers `Queued`, then
`config.job_running_polls` answers `Running`, then the outcome. A completed parent carries
the tag `automl_best_child_run_id` naming its best child by the primary metric (lower is
better for metrics with "error" in the name). `script()` sets the children of the next
jobs; `faults.job_failure()` makes a job end `Failed` with a message.

Child runs: GET `{api}/history/v1.0{WS}/runs/{id}` (and `/details`, `/children`), and the
MLflow REST route `{api}/mlflow/v2.0{WS}/api/2.0/mlflow/runs/get?run_id=` for metrics.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .arm import FakeRequest, Reply, ServiceError, bad_request, not_found
from .state import ARM_HOST, new_id, system_data

BEST_CHILD_TAG = "automl_best_child_run_id"
DEFAULT_CHILDREN = (
    {"algorithm": "LightGBM", "preprocessor": "MaxAbsScaler", "score": 0.87},
    {"algorithm": "XGBoostClassifier", "preprocessor": "StandardScalerWrapper", "score": 0.91},
    {"algorithm": "LogisticRegression", "preprocessor": "MaxAbsScaler", "score": 0.84},
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
    children: list[dict] = field(default_factory=list)
    failure: str | None = None
    reads: int = 0
    canceled: bool = False
    experiment_id: str = field(default_factory=new_id)

    @property
    def primary_metric(self) -> str:
        """The metric name AutoML logs (`Accuracy` -> `accuracy`, `AUCWeighted` -> `AUC_weighted`)."""
        task = self.properties.get("taskDetails") or {}
        return metric_name(task.get("primaryMetric") or "Accuracy")

    def status(self, queued: int, running: int) -> str:
        if self.canceled:
            return "Canceled"
        if self.reads <= queued:
            return "Queued"
        if self.reads <= queued + running:
            return "Running"
        return "Failed" if self.failure else "Completed"

    def best_child(self) -> dict | None:
        if not self.children:
            return None
        lower = "error" in self.primary_metric.lower()
        pick = min if lower else max
        return pick(self.children, key=lambda c: c["score"])


class Jobs:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.records: dict[str, JobRecord] = {}
        self.children_script: list[dict] = [dict(c) for c in DEFAULT_CHILDREN]
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
        """Children of jobs submitted from now on: dicts with algorithm, score[, preprocessor]."""
        self.children_script = [dict(c) for c in children]

    def finish(self, name: str) -> None:
        """Move a job straight to its outcome (as if time passed)."""
        rec = self._record(name)
        rec.reads = 10**6

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
        if name in self.records:
            raise ServiceError(409, "UserError", f"A job with name '{name}' already exists. "
                               "Job names must be unique in a workspace.")
        props["taskDetails"] = {**task, "limitSettings": {**LIMIT_DEFAULTS,
                                                           **(task.get("limitSettings") or {})}}
        rec = JobRecord(name, props, system_data(self.fake.clock))
        rec.failure = self.fake.faults.take_job_failure(name)
        rec.children = [
            {**c, "run_id": f"{name}_{i}", "iteration": i}
            for i, c in enumerate(self.children_script)
        ]
        self.records[name] = rec
        return Reply(201, self._body(rec, status="NotStarted"))

    def get(self, req: FakeRequest, name: str) -> Reply:
        rec = self._record(name)
        rec.reads += 1
        return Reply(200, self._body(rec))

    def list(self, req: FakeRequest) -> Reply:
        return Reply(200, {"value": [self._body(r) for r in self.records.values()],
                           "nextLink": None})

    def cancel(self, req: FakeRequest, name: str) -> Reply:
        rec = self._record(name)
        if self._status(rec) in ("Completed", "Failed", "Canceled"):
            raise bad_request(f"job '{name}' has already finished and cannot be canceled.",
                              code="UserError")

        def effect() -> None:
            rec.canceled = True

        return self.fake.lros.accepted_delete(self.fake.lros.start(effect))

    def _record(self, name: str) -> JobRecord:
        rec = self.records.get(name)
        if rec is None:
            raise not_found("Job", name)
        return rec

    def _status(self, rec: JobRecord) -> str:
        c = self.fake.config
        return rec.status(c.job_queued_polls, c.job_running_polls)

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
        if status == "Completed" and best:
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

    def _run(self, rec: JobRecord, child: dict | None) -> dict:
        started = rec.system_data["createdAt"]
        if child is None:
            job = self._body(rec)["properties"]
            return {"runId": rec.name, "parentRunId": None, "rootRunId": rec.name,
                    "experimentId": rec.experiment_id, "status": job["status"],
                    "displayName": rec.name, "runType": "automl",
                    "createdUtc": started, "startTimeUtc": started, "endTimeUtc": None,
                    "properties": job["properties"], "tags": job["tags"], "target": None}
        parent_status = self._status(rec)
        status = "Completed" if parent_status in ("Completed", "Failed") else parent_status
        return {
            "runId": child["run_id"], "parentRunId": rec.name, "rootRunId": rec.name,
            "experimentId": rec.experiment_id, "status": status,
            "displayName": f"{child['algorithm']} {child['run_id']}", "runType": "automl",
            "createdUtc": started, "startTimeUtc": started, "endTimeUtc": started,
            "properties": {"score": str(child["score"]), "run_algorithm": child["algorithm"],
                           "run_preprocessor": child.get("preprocessor", ""),
                           "iteration": str(child["iteration"]),
                           "primary_metric": rec.primary_metric,
                           "model_output_path": "outputs/mlflow-model"},
            "tags": {"model_explain_run": "best_run"} if child is rec.best_child() else {},
            "target": None,
        }

    def run_get(self, req: FakeRequest, run_id: str) -> Reply:
        return Reply(200, self._run(*self._find_run(run_id)))

    def run_children(self, req: FakeRequest, run_id: str) -> Reply:
        rec, child = self._find_run(run_id)
        kids = [] if child is not None or self._status(rec) == "Queued" else rec.children
        return Reply(200, {"value": [self._run(rec, k) for k in kids],
                           "continuationToken": None, "count": len(kids), "nextLink": None})

    def mlflow_run(self, req: FakeRequest) -> Reply:
        rec, child = self._find_run(req.query.get("run_id", ""))
        run = self._run(rec, child)
        metrics = [] if child is None else [
            {"key": rec.primary_metric, "value": child["score"], "timestamp": 0, "step": 0}]
        tags = [{"key": k, "value": v} for k, v in run["tags"].items()]
        return Reply(200, {"run": {
            "info": {"run_id": run["runId"], "run_uuid": run["runId"],
                     "experiment_id": rec.experiment_id, "status": "FINISHED"
                     if run["status"] == "Completed" else run["status"].upper(),
                     "artifact_uri": f"azureml://experiments/Default/runs/{run['runId']}/artifacts"},
            "data": {"metrics": metrics, "params": [], "tags": tags}}})
