"""Journal data as the stages record it, for the report tests (no training, no servers)."""

from __future__ import annotations

import copy


def gate(name, value, threshold, status="pass"):
    return {"gate": name, "value": value, "threshold": threshold, "status": status}


def stats(p50, p99, samples=30, errors=0):
    return {"samples": samples, "errors": errors, "p50_ms": p50, "p99_ms": p99}


def probe_gates(p99=12.0, ratio=1.1, agreement=0.97, accuracy=0.95, verdict_of=None):
    verdict_of = verdict_of or {}
    return [gate("samples", 30, 20), gate("error_rate", 0.0, 0.01), gate("p99_ms", p99, 1000.0),
            gate("p99_ratio", ratio, 2.0, verdict_of.get("p99_ratio", "pass")),
            gate("agreement", agreement, 0.85, verdict_of.get("agreement", "pass")),
            gate("accuracy", accuracy, 0.915, verdict_of.get("accuracy", "pass"))]


def steps_promoted():
    return [
        {"phase": "smoke", "percent": None, "attempt": 1, "traffic": {"blue": 100}, "at_seconds": 2.1,
         "verdict": "pass", "gates": [gate("samples", 5, 1), gate("errors", 0, 0)],
         "colours": {"green": stats(9.0, 14.0, samples=5)}},
        {"phase": "shadow", "percent": None, "attempt": 1, "traffic": {"blue": 100}, "at_seconds": 3.5,
         "verdict": "pass", "gates": probe_gates(), "colours": {"green": stats(8.0, 12.0), "blue": stats(7.5, 11.0)}},
        {"phase": "step", "percent": 10, "attempt": 1, "traffic": {"blue": 90, "green": 10}, "at_seconds": 5.0,
         "verdict": "fail", "gates": probe_gates(p99=40.0, ratio=3.6, verdict_of={"p99_ratio": "fail"}),
         "colours": {"green": stats(9.0, 40.0), "blue": stats(8.0, 11.0)}},
        {"phase": "step", "percent": 10, "attempt": 2, "traffic": {"blue": 90, "green": 10}, "at_seconds": 6.2,
         "verdict": "pass", "gates": probe_gates(), "colours": {"green": stats(8.0, 12.5), "blue": stats(8.0, 11.5)},
         # keys another engineer's statistics add: shown when present, never required
         "samples_distinct": 36, "decision_seconds": 0.8},
        {"phase": "step", "percent": 100, "attempt": 1, "traffic": {"blue": 0, "green": 100}, "at_seconds": 8.0,
         "verdict": "pass", "gates": probe_gates(), "colours": {"green": stats(8.1, 13.0), "blue": stats(7.9, 11.0)}},
    ]


TRAIN = {
    "state": "done", "started": "2026-01-01T10:00:00", "finished": "2026-01-01T10:01:00",
    "result": {"job_name": "job-1", "backend": "local", "status": "Completed", "task": "classification",
               "primary_metric": "accuracy", "experiment_name": "wine", "best_child_run_id": "run-b",
               "best_metric_value": 0.97, "best_algorithm": "LightGBM", "trials": 3},
}
LEADERBOARD = {
    "job-1": [
        {"run_id": "run-a", "algorithm": "RandomForest", "metric_value": 0.93, "duration_seconds": 0.4,
         "status": "Completed"},
        {"run_id": "run-b", "algorithm": "LightGBM", "metric_value": 0.97, "duration_seconds": 1.2,
         "status": "Completed"},
        {"run_id": "run-c", "algorithm": "LogisticRegression", "metric_value": None, "duration_seconds": None,
         "status": "Failed"},
    ],
}
REGISTER = {
    "state": "done", "started": "2026-01-01T10:01:00", "finished": "2026-01-01T10:01:05",
    "result": {"name": "wine-classifier", "version": "2", "run_id": "run-b", "job_name": "job-1",
               "metric_name": "accuracy", "metric_value": 0.97, "source": "runs:/run-b/outputs/mlflow-model",
               "tags": {"azml2aks.job": "job-1", "azml2aks.git_commit": "a" * 40, "azml2aks.ci_build_id": "4711",
                        "team": "ml"},
               "aliases": ["champion"]},
}
PACKAGE = {
    "state": "done", "started": "2026-01-01T10:01:05", "finished": "2026-01-01T10:01:20",
    "result": {"model": "wine-classifier:2", "directory": "/build/wine-classifier-2", "files": ["score.py", "conda.yaml"],
               "environment_name": "wine-env", "environment_version": "1", "environment_reused": True,
               "fingerprint": "f" * 64, "conflicts": [],
               "contract": {"ran": True, "passed": True, "rows": 5, "method": "predict",
                            "checks": ["sample scored over HTTP equals in-process predictions",
                                       "missing column 'alcohol' answered 400"]}},
}


def promoted() -> dict:
    return copy.deepcopy({
        "run_id": "20260101-100000-abcd", "pipeline": "/p/pipeline.yaml", "backend": "local",
        "started": "2026-01-01T10:00:00", "facts": {"leaderboard": LEADERBOARD},
        "stages": {"train": TRAIN, "register": REGISTER, "package": PACKAGE,
                   "attach": {"state": "done", "result": {"compute": "local", "status": "local"}},
                   "deploy": {"state": "done", "started": "2026-01-01T10:01:20", "finished": "2026-01-01T10:01:30",
                              "result": {"endpoint": "wine-endpoint", "scoring_uri": "http://127.0.0.1:1/score",
                                         "result": "promoted", "colour": "green", "previous": "blue",
                                         "traffic": {"blue": 0, "green": 100}, "steps": steps_promoted(),
                                         "model": "wine-classifier:2"}}},
    })


def rolled_back() -> dict:
    data = promoted()
    steps = steps_promoted()[:2]
    steps[1].update(verdict="fail", gates=probe_gates(agreement=0.5, verdict_of={"agreement": "fail"}))
    report = {"colour": "green", "previous": "blue", "last_good": {"blue": 100}, "result": "rolled_back",
              "traffic": {"blue": 100}, "steps": steps, "reason": "shadow failed gate(s): agreement",
              "log_tail": "Traceback: <boom>", "endpoint": "wine-endpoint", "scoring_uri": "http://127.0.0.1:1/score"}
    data["stages"]["deploy"] = {
        "state": "failed", "started": "2026-01-01T10:01:20", "finished": "2026-01-01T10:01:30",
        "error": {"error": "RolloutAborted", "message": "rollout of 'green' on endpoint 'wine-endpoint' aborted: "
                  "shadow failed gate(s): agreement; traffic restored to blue=100",
                  "hint": "inspect it with `azml2aks logs PIPELINE --deployment green`", "report": report}}
    return data
