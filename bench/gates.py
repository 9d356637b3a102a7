"""Gate verdicts: a catalogue of good and bad new colours rolled out under client load.

Built from ``examples/wine-classification`` (its pipeline.yaml, training data and 36-row
hold-out): blue is a random forest at 100 %; each case deploys a green (another model, or
the same model behind a score.py with a fault switched on by an environment variable) and
rolls it out with the example's rollout settings on the local backend, on 127.0.0.1, while
client threads score unpinned requests through the router the whole time.

Good greens: refits with other seeds, other estimators of equal accuracy, a slow start. Bad
greens: a wrong model, partly wrong, wrong on one class, slow, crashing, flaky 5xx, a changed
response schema, failing at start-up, memory-hungry (over ``deployment.resources.limits.memory``,
which the local backend enforces: OOMKilled). Gray, reported but not counted: five times
the compute, which is slower than ``max_p99_ratio`` above ``p99_floor_ms`` only when the
machine is saturated.

Prints one line per case, the confusion matrix, client requests lost (any non-200 a client
saw), and the median seconds from "green ready" (its server answered, smoke test next) to
the verdict (the Promote or Rollback action) for bad and for good greens (a green that never
became ready counts from the start of its rollout). The next case replaces green's server at
once: a client request still queued on it is sent again to blue by the router. Bounded: at most
the catalogue's cases, 2 client threads by default (max 8), every process stopped at the end.

    python -m bench.gates [--clients 2] [--only NAME ...] [--output json]
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "wine-classification"
ENDPOINT = "bench-gates"
MEMORY_LIMIT = "1Gi"

SCORE_PY = '''
import json, os, pickle, time

model = None
calls = 0
ballast = None


def init():
    global model, ballast
    if os.environ.get("FAULT_INIT"):
        raise RuntimeError("FAULT_INIT: the model file is corrupt")
    time.sleep(float(os.environ.get("FAULT_INIT_SLEEP_S", "0")))
    megabytes = int(os.environ.get("FAULT_MEMORY_MB", "0"))
    if megabytes:
        ballast = b"\\x01" * (megabytes * 1024 * 1024)  # touched, so it is resident
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)


def run(raw_data):
    global calls
    calls += 1
    crash_after = int(os.environ.get("FAULT_CRASH_AFTER", "0"))
    if crash_after and calls > crash_after:
        os._exit(1)
    every = int(os.environ.get("FAULT_5XX_EVERY", "0"))
    if every and calls % every == 0:
        raise RuntimeError("FAULT_5XX: flaky dependency")
    delay = float(os.environ.get("FAULT_DELAY_MS", "0"))
    if delay:
        time.sleep(delay / 1000)
    rows = json.loads(raw_data)["input_data"]["data"]
    predictions = [str(p) for p in model.predict(rows)]
    share = float(os.environ.get("FAULT_WRONG_SHARE", "0"))
    if share:
        labels = sorted(getattr(model, "classes_", []))
        predictions = [labels[(labels.index(p) + 1) % len(labels)] if hash(tuple(r)) % 100 < share * 100 else p
                       for p, r in zip(predictions, rows)]
    wrong_class = os.environ.get("FAULT_WRONG_CLASS")
    if wrong_class:
        predictions = ["class_2" if p == wrong_class else p for p in predictions]
    if os.environ.get("FAULT_SCHEMA"):
        return {"labels": predictions}
    return predictions
'''


@dataclass
class Case:
    """``good``: True or False, or None for a gray case (reported, not counted in the matrix)."""

    name: str
    good: bool | None
    model: str = "blue"
    env: dict[str, str] = field(default_factory=dict)


CATALOGUE = [
    Case("rf seed 1", True, "rf1"), Case("rf seed 2", True, "rf2"), Case("rf seed 3", True, "rf3"),
    Case("rf seed 4", True, "rf4"), Case("rf seed 5", True, "rf5"), Case("rf seed 6", True, "rf6"),
    Case("extra trees seed 0", True, "et0"), Case("extra trees seed 1", True, "et1"),
    Case("extra trees seed 2", True, "et2"),
    Case("logistic regression", True, "logreg"), Case("gradient boosting", True, "gb"),
    Case("k nearest neighbours", True, "knn"),
    Case("slow start (4 s init)", True, "rf1", {"FAULT_INIT_SLEEP_S": "4"}),
    Case("wrong model (shuffled labels)", False, "shuffled"),
    Case("partly wrong (30 % of rows)", False, "blue", {"FAULT_WRONG_SHARE": "0.3"}),
    Case("wrong on one class", False, "blue", {"FAULT_WRONG_CLASS": "class_1"}),
    Case("slow (+250 ms a request)", False, "blue", {"FAULT_DELAY_MS": "250"}),
    # Gray: 300 trees cost 5x blue's compute a request (40 ms against 8 ms in-process), both under
    # p99_floor_ms unloaded; only a saturated machine pushes it past 2x the floor, so its verdict
    # follows the load of the moment (rolled back at 10 % or 50 % in some runs, promoted in others).
    Case("5x the compute (300 trees)", None, "rf300"),
    Case("crashing after 10 requests", False, "blue", {"FAULT_CRASH_AFTER": "10"}),
    Case("flaky 5xx (1 in 5)", False, "blue", {"FAULT_5XX_EVERY": "5"}),
    Case("changed response schema", False, "blue", {"FAULT_SCHEMA": "1"}),
    Case("fails at start-up", False, "blue", {"FAULT_INIT": "1"}),
    Case("memory-hungry (+900 MB)", False, "blue", {"FAULT_MEMORY_MB": "900"}),
]


def build_models(root: Path) -> tuple[dict[str, Path], float]:
    """One model folder per name, trained on the example's data; and blue's CV accuracy."""
    import pandas as pd
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        GradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(EXAMPLE / "data" / "wine.csv")
    x, y = frame.drop(columns=["cultivar"]).to_numpy(), frame["cultivar"]
    estimators = {
        "blue": RandomForestClassifier(n_estimators=50, random_state=0),
        **{f"rf{s}": RandomForestClassifier(n_estimators=50, random_state=s) for s in range(1, 7)},
        **{f"et{s}": ExtraTreesClassifier(n_estimators=50, random_state=s) for s in range(3)},
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "gb": GradientBoostingClassifier(random_state=0),
        "knn": make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=7)),
        "rf300": RandomForestClassifier(n_estimators=300, random_state=7),
    }
    registered = float(cross_val_score(estimators["blue"], x, y, cv=5, scoring="accuracy").mean())
    folders = {}
    for name, estimator in estimators.items():
        estimator.fit(x, y)
        folders[name] = _package(root / "packages" / name, estimator)
    shuffled = RandomForestClassifier(n_estimators=50, random_state=0).fit(x, y.sample(frac=1, random_state=3).to_numpy())
    folders["shuffled"] = _package(root / "packages" / "shuffled", shuffled)
    return folders, registered


def _package(folder: Path, estimator) -> Path:
    """A package folder as the package stage leaves it: score.py and the model in mlflow-model/."""
    (folder / "mlflow-model").mkdir(parents=True)
    (folder / "mlflow-model" / "model.pkl").write_bytes(pickle.dumps(estimator))
    (folder / "score.py").write_text(SCORE_PY)
    return folder


def config_for(root: Path, env: dict[str, str]):
    """The example's pipeline.yaml, pointed at this run's work dir, with ``env`` in the deployment."""
    from azml2aks.config import PipelineConfig
    from azml2aks.config.loader import load_config

    base = load_config(EXAMPLE / "pipeline.yaml", env={})
    data = base.model_dump(by_alias=True, exclude_none=True)
    data["automl"]["training_data"] = str(EXAMPLE / "data" / "wine.csv")
    data["automl"]["test_data"] = str(EXAMPLE / "data" / "wine-holdout.csv")
    data["endpoint"]["name"] = ENDPOINT
    data["deployment"]["environment_variables"] = env
    # sized like a small pod: a colour's server (master + worker with the model) is far below the
    # limit, which the local backend enforces as Kubernetes would (OOMKilled)
    data["deployment"]["resources"] = {"requests": {"cpu": "1", "memory": "512Mi"},
                                       "limits": {"cpu": "2", "memory": MEMORY_LIMIT}}
    data["local"]["workdir"] = str(root / "work")
    return PipelineConfig.model_validate(data)


class Clients:
    """``n`` threads scoring hold-out rows through the router until stopped; every non-200 is
    a lost request, kept with its time so it can be put down to a case."""

    def __init__(self, uri: str, key: str, bodies: list[bytes], n: int) -> None:
        self.uri, self._key, self.bodies, self.n = uri, key, bodies, n
        self.stop = threading.Event()
        self.sent = 0
        self.lost: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._work, args=(i,), daemon=True) for i in range(n)]

    def _work(self, offset: int) -> None:
        import requests

        session = requests.Session()
        headers = {"Authorization": f"Bearer {self._key}", "Content-Type": "application/json"}
        i = offset
        while not self.stop.is_set():
            i += self.n
            try:
                resp = session.post(self.uri, data=self.bodies[i % len(self.bodies)], headers=headers,
                                    timeout=(2, 10))
                status = str(resp.status_code)
                if status != "200":
                    status += f" {resp.headers.get('azureml-model-deployment', '?')}: {resp.text[:100]}"
            except requests.RequestException as e:
                status = type(e).__name__
            with self._lock:
                self.sent += 1
                if status != "200":
                    self.lost.append((time.monotonic(), status))

    def __enter__(self) -> Clients:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)


def roll(case: Case, root: Path, eps, folders: dict[str, Path], payloads, model, clients: Clients) -> dict:
    from azml2aks.errors import RolloutAborted
    from azml2aks.rollout import driver as D

    marks: dict[str, float] = {}

    def on_event(event: dict) -> None:
        action = (event.get("action") or {}).get("action")
        if action == "SmokeTest":
            marks.setdefault("ready", time.monotonic())
        if action in ("Promote", "Rollback"):
            marks.setdefault("verdict", time.monotonic())

    config = config_for(root, case.env)
    lost_before = len(clients.lost)
    start = time.monotonic()
    try:
        result = D.run_rollout(config, eps, code_dir=folders[case.model], model=model, payloads=payloads,
                               on_event=on_event)
        outcome, reason, steps = result.result, "", list(result.steps)
    except RolloutAborted as e:
        outcome, reason, steps = "rolled_back", str(e.report.get("reason")), e.report.get("steps", [])
    end = time.monotonic()
    if eps.get_endpoint(ENDPOINT).traffic.get_ci("blue") != 100:
        eps.set_traffic(ENDPOINT, {"blue": 100, "green": 0})  # the next case starts from blue again
    verdict_at = marks.get("verdict", end)
    return {"case": case.name, "good": case.good, "result": outcome, "reason": reason,
            "ready_to_verdict_s": round(verdict_at - marks.get("ready", start), 2),
            "ready": "ready" in marks, "steps": steps,
            "client_lost": [kind for _, kind in clients.lost[lost_before:]]}


def run(n_clients: int, only: list[str] | None = None) -> dict:
    from azml2aks.backends.local.endpoints import LocalEndpoints
    from azml2aks.results import ModelVersion
    from azml2aks.rollout import driver as D

    cases = [c for c in CATALOGUE if not only or any(o.lower() in c.name.lower() for o in only)]
    with tempfile.TemporaryDirectory(prefix="azml2aks-gates-") as tmp:
        root = Path(tmp)
        folders, registered = build_models(root)
        model = ModelVersion(name="wine-classifier", version="1", run_id=None, job_name=None,
                             metric_name="accuracy", metric_value=registered, source="bench")
        eps = LocalEndpoints(root / "work", startup_timeout=60)
        try:
            config = config_for(root, {})
            payloads = D.load_holdout(config, EXAMPLE)
            D.run_rollout(config, eps, code_dir=folders["blue"], model=model, payloads=payloads)
            state = eps.get_endpoint(ENDPOINT)
            bodies = [payloads.body(i) for i in range(len(payloads))]
            with Clients(state.scoring_uri, eps.get_credentials(ENDPOINT).secret, bodies, n_clients) as clients:
                time.sleep(1.0)
                rows = []
                for case in cases:
                    rows.append(roll(case, root, eps, folders, payloads, model, clients))
                    print(_line(rows[-1]), flush=True)
                time.sleep(0.5)
        finally:
            eps.stop_endpoint(ENDPOINT)
    return summarise(rows, clients, registered)


def summarise(rows: list[dict], clients: Clients, registered: float) -> dict:
    def median(values):
        return round(statistics.median(values), 2) if values else None

    good = [r for r in rows if r["good"] is True]
    bad = [r for r in rows if r["good"] is False]
    matrix = {"good promoted": sum(r["result"] == "promoted" for r in good),
              "good rolled back": sum(r["result"] != "promoted" for r in good),
              "bad promoted": sum(r["result"] == "promoted" for r in bad),
              "bad rolled back": sum(r["result"] != "promoted" for r in bad),
              "gray": {r["case"]: r["result"] for r in rows if r["good"] is None}}
    return {"cases": rows, "confusion": matrix, "client_requests": clients.sent,
            "client_lost": len(clients.lost), "lost_kinds": sorted({k.split(":")[0] for _, k in clients.lost}),
            "registered_accuracy": round(registered, 4),
            "median_ready_to_verdict_s": {"bad": median([r["ready_to_verdict_s"] for r in bad]),
                                          "good": median([r["ready_to_verdict_s"] for r in good])}}


def _line(r: dict) -> str:
    decided = next((s for s in reversed(r["steps"]) if s.get("verdict") == "fail"), None)
    where = ""
    if decided:
        failed = ",".join(g["gate"] for g in decided.get("gates", []) if g["status"] == "fail") or "probe"
        where = f"{decided['phase']}{'' if decided.get('percent') is None else ' ' + str(decided['percent']) + ' %'}: {failed}"
        if decided.get("samples") is not None:
            where += f" ({decided['samples']} samples, {decided.get('seconds') or 0:.1f} s)"
    mark = "    " if r["good"] is None else "ok  " if (r["result"] == "promoted") == r["good"] else "MISS"
    kind = "gray" if r["good"] is None else "good" if r["good"] else "bad"
    lost = f"  LOST {len(r['client_lost'])}: {r['client_lost'][0]}" if r["client_lost"] else ""
    return (f"  {mark} {kind:4} {r['case']:32} {r['result']:12} "
            f"{r['ready_to_verdict_s']:6.1f} s  {where}{lost}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gates", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2, help="client threads under load (max 8)")
    parser.add_argument("--only", nargs="*", help="run the cases whose name contains one of these")
    parser.add_argument("--output", choices=("text", "json"), default="text")
    args = parser.parse_args(argv or [])
    print("gate verdicts under client load (examples/wine-classification, local backend):", flush=True)
    report = run(max(1, min(args.clients, 8)), args.only)
    if args.output == "json":
        print(json.dumps(report, indent=2, default=str))
        return 0
    m = report["confusion"]
    print(f"\n  confusion     promoted  rolled back\n  good green    {m['good promoted']:8}  {m['good rolled back']:11}\n"
          f"  bad green     {m['bad promoted']:8}  {m['bad rolled back']:11}")
    if m["gray"]:
        print("  gray (not counted): " + ", ".join(f"{case} {result}" for case, result in m["gray"].items()))
    print(f"  client requests: {report['client_requests']}, lost: {report['client_lost']} "
          f"{report['lost_kinds'] or ''}(target 0)")
    med = report["median_ready_to_verdict_s"]
    print(f"  median seconds from green ready to verdict: bad {med['bad']} (target <= 10), good {med['good']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
