"""Load during a rollout: N client threads for T seconds against the local endpoint while a
new colour walks the full traffic ladder (10 → 50 → 100 %).

Everything runs on 127.0.0.1 in a temporary work dir: a small scikit-learn model behind a
hand-written score.py, blue created at 100 %, then green rolled out with probes and gates
while the clients score unpinned requests through the router. Reports requests, errors
(target: zero — traffic changes must not lose or fail a request), p50/p99 latency and who
answered, then stops every process it started. Bounded: at most 32 clients, 300 s.

    python -m bench.load [--clients 4] [--seconds 20] [--output json]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

SCORE_PY = '''
import json, os, pickle

model = None

def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)

def run(raw_data):
    data = json.loads(raw_data)["input_data"]
    return model.predict(data["data"]).tolist()
'''


def build(root: Path) -> tuple[Path, Path, Path]:
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier

    frame = load_wine(as_frame=True).frame
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(frame.drop(columns=["target"]), frame["target"])
    (root / "pkg" / "mlflow-model").mkdir(parents=True)  # where the package stage puts the model
    (root / "pkg" / "mlflow-model" / "model.pkl").write_bytes(pickle.dumps(model))
    (root / "pkg" / "score.py").write_text(SCORE_PY)
    frame.to_csv(root / "wine.csv", index=False)
    return root / "pkg", root / "pkg" / "mlflow-model", root / "wine.csv"


def config_for(root: Path, csv: Path, bake: float):
    from azml2aks.config import PipelineConfig

    return PipelineConfig.model_validate({
        "automl": {"task": "classification", "target_column_name": "target", "training_data": str(csv)},
        "endpoint": {"name": "bench-load"},
        "rollout": {"bake_seconds": bake, "shadow_requests": 20, "probe_requests": 20,
                    # default gates: at 100 % the loaded new colour is compared with the live
                    # colour's p99 from when it carried the load (rollout.judge), not an idle one
                    "gates": {"min_samples": 10}},
        "local": {"workdir": str(root / "work")},
    })


def clients(uri: str, key: str, body: bytes, n: int, stop: threading.Event, deadline: float) -> list[dict]:
    """Run ``n`` threads posting ``body`` until ``stop`` or ``deadline``; one record per thread."""
    import requests

    records = [{"latencies": [], "errors": Counter(), "by": Counter()} for _ in range(n)]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def work(rec: dict) -> None:
        session = requests.Session()
        while not stop.is_set() and time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                resp = session.post(uri, data=body, headers=headers, timeout=(2, 10))
                status = resp.status_code
                rec["by"][resp.headers.get("azureml-model-deployment", "?")] += 1
            except requests.RequestException as e:
                status = type(e).__name__
            if status == 200:
                rec["latencies"].append((time.perf_counter() - start) * 1000)
            else:
                rec["errors"][str(status)] += 1

    threads = [threading.Thread(target=work, args=(r,), daemon=True) for r in records]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records


def run(n_clients: int, seconds: float) -> dict:
    from azml2aks.backends.local.endpoints import LocalEndpoints
    from azml2aks.errors import RolloutAborted
    from azml2aks.probe import percentile
    from azml2aks.rollout import driver as D

    n_clients, seconds = max(1, min(n_clients, 32)), max(5.0, min(seconds, 300.0))
    with tempfile.TemporaryDirectory(prefix="azml2aks-load-") as tmp:
        root = Path(tmp)
        pkg, model, csv = build(root)
        eps = LocalEndpoints(root / "work")
        try:
            config = config_for(root, csv, bake=seconds / 6)
            payloads = D.load_holdout(config, root)
            D.run_rollout(config, eps, code_dir=pkg, model=None, payloads=payloads)
            state = eps.get_endpoint("bench-load")
            stop = threading.Event()
            out: dict = {}
            load = threading.Thread(target=lambda: out.update(records=clients(
                state.scoring_uri, eps.get_keys("bench-load").primary, payloads.body(0), n_clients, stop,
                time.monotonic() + seconds)))
            started = time.monotonic()
            load.start()
            time.sleep(min(1.0, seconds / 10))  # load first, then shift traffic under it
            try:
                result = D.run_rollout(config, eps, code_dir=pkg, model=None, payloads=payloads)
                outcome, traffic = result.result, result.traffic
            except RolloutAborted as e:
                outcome, traffic = f"rolled_back ({e.report.get('reason')})", e.report.get("traffic")
            ladder_seconds = time.monotonic() - started
            time.sleep(min(1.0, seconds / 10))
            stop.set()
            load.join()
            elapsed = time.monotonic() - started
        finally:
            eps.stop_endpoint("bench-load")
    latencies = [ms for r in out["records"] for ms in r["latencies"]]
    errors = sum((r["errors"] for r in out["records"]), Counter())
    by = sum((r["by"] for r in out["records"]), Counter())
    total = len(latencies) + sum(errors.values())
    return {"clients": n_clients, "seconds": round(elapsed, 1), "ladder_seconds": round(ladder_seconds, 1),
            "rollout": outcome, "final_traffic": traffic, "requests": total,
            "errors": sum(errors.values()), "error_kinds": dict(errors), "answered_by": dict(by),
            "requests_per_second": round(total / elapsed, 1), "p50_ms": round(percentile(latencies, 50) or 0, 2),
            "p99_ms": round(percentile(latencies, 99) or 0, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="client threads (max 32)")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration, about the ladder's (max 300)")
    parser.add_argument("--output", choices=("text", "json"), default="text")
    args = parser.parse_args(argv or [])
    report = run(args.clients, args.seconds)
    if args.output == "json":
        print(json.dumps(report, indent=2))
    else:
        print(f"load during a full ladder ({report['rollout']}, final {report['final_traffic']}):")
        print(f"  {report['clients']} clients, {report['seconds']} s (ladder {report['ladder_seconds']} s): "
              f"{report['requests']} requests, {report['requests_per_second']} req/s")
        print(f"  errors: {report['errors']} {report['error_kinds'] or ''}(target 0)")
        print(f"  latency p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms; answered by {report['answered_by']}")
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
