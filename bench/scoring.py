"""Scoring benchmark: the generated score.py against the alternatives, side by side.

Same model (a 100-tree random forest on scikit-learn's wine data), same rows, one run:

- ``generated``   the score.py `azml2aks package` writes, under the Azure ML inference server
- ``automl-style`` a score.py in the style Azure AutoML generates (inference_schema
                   decorators with a pandas parameter type), under the same server
- ``mlflow-serve`` ``mlflow models serve`` (1 worker)
- ``in-process``   JSON decode + DataFrame + predict + JSON encode, no HTTP (the limit)

Each server gets 1 worker on 127.0.0.1 and a fixed number of sequential requests per payload
(1 row and 1000 rows). Serving overhead = p50 minus the in-process p50 on the same payload
format; the targets compare the generated script's overhead with the others'.

    python -m bench scoring        (or python -m bench.scoring)
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

REQUESTS = {1: 300, 1000: 60}
WARMUP = 5
TARGETS = {1: 0.6, 1000: 0.25}  # generated overhead / automl-style overhead, at most

AUTOML_STYLE = '''
import json
import os

import numpy as np
import pandas as pd
import mlflow.sklearn
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

input_sample = pd.DataFrame(json.loads(%(sample)r))
output_sample = np.array(["class_0"])
method_sample = StandardPythonParameterType("predict")
sample_global_params = StandardPythonParameterType({"method": method_sample})


def init():
    global model
    model = mlflow.sklearn.load_model(os.environ["AZUREML_MODEL_DIR"])


@input_schema("GlobalParameters", sample_global_params, convert_to_provided_type=False)
@input_schema("Inputs", StandardPythonParameterType({"data": PandasParameterType(input_sample)}))
@output_schema(StandardPythonParameterType({"Results": NumpyParameterType(output_sample)}))
def run(Inputs, GlobalParameters={"method": "predict"}):
    data = Inputs["data"]
    if GlobalParameters.get("method", None) == "predict_proba":
        result = model.predict_proba(data)
    elif GlobalParameters.get("method", None) == "predict":
        result = model.predict(data)
    else:
        raise Exception(f"Invalid predict method argument received. GlobalParameters: {GlobalParameters}")
    if isinstance(result, pd.DataFrame):
        result = result.values
    return {"Results": result.tolist()}
'''


def build_model(root: Path):
    import mlflow
    import pandas as pd
    import sklearn
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_wine(as_frame=True, return_X_y=True)
    y = y.map(lambda i: f"class_{i}")
    model = RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(
            model, str(root / "model"), serialization_format="cloudpickle",
            signature=mlflow.models.infer_signature(X, model.predict(X)), input_example=X.head(3),
            pip_requirements=[f"scikit-learn=={sklearn.__version__}", "pandas", "cloudpickle",
                              f"mlflow=={mlflow.__version__}"],
        )
    rows = pd.concat([X] * 6, ignore_index=True).head(1000)
    return root / "model", json.loads(rows.to_json(orient="records"))


def payloads(rows: list[dict]) -> dict[str, dict[int, bytes]]:
    out: dict[str, dict[int, bytes]] = {"records": {}, "split": {}}
    for n in REQUESTS:
        chunk = rows[:n]
        columns = list(chunk[0])
        out["records"][n] = json.dumps({"Inputs": {"data": chunk}, "GlobalParameters": {"method": "predict"}}).encode()
        out["split"][n] = json.dumps(
            {"dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in chunk]}}
        ).encode()
    return out


def in_process_scorer(model_dir: Path):
    """fmt -> callable(body) doing JSON decode + DataFrame + predict + JSON encode."""
    import mlflow.sklearn
    import pandas as pd

    model = mlflow.sklearn.load_model(str(model_dir))

    def records(body: bytes) -> bytes:
        frame = pd.DataFrame(json.loads(body)["Inputs"]["data"])
        return json.dumps({"Results": model.predict(frame).tolist()}).encode()

    def split(body: bytes) -> bytes:
        doc = json.loads(body)["dataframe_split"]
        frame = pd.DataFrame(doc["data"], columns=doc["columns"])
        return json.dumps({"predictions": model.predict(frame).tolist()}).encode()

    return {"records": records, "split": split}


def http_post(port: int, path: str, body: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status} from port {port}: {data[:300]!r}")


def interleaved(contenders: dict, count: int) -> dict[str, list[float]]:
    """Time ``count`` calls of each contender, round-robin, so load drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for i in range(WARMUP + count):
        for name, call in contenders.items():
            start = time.perf_counter()
            call()
            if i >= WARMUP:
                times[name].append(time.perf_counter() - start)
    return times


def start_mlflow_serve(model_dir: Path, log: Path):
    from azml2aks import processes

    port = processes.free_port()
    argv = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir), "--env-manager", "local",
            "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"file:{log.parent / 'mlruns'}",
           # mlflow starts uvicorn by name: make this interpreter's scripts findable
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    pid = processes.spawn(argv, env=env, log_path=log)
    try:
        processes.wait_http(f"http://127.0.0.1:{port}/ping", timeout=120, pid=pid, log_path=log)
    except Exception:
        processes.terminate(pid)
        raise
    return pid, port


def stats(times: list[float], rows: int) -> dict[str, float]:
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return {"p50": statistics.median(ms), "p99": p99, "rows_s": rows * len(ms) / (sum(ms) / 1000)}


def main() -> None:
    from azml2aks import processes
    from azml2aks.config import PipelineConfig
    from azml2aks.packaging.writer import package_model
    from azml2aks.results import ModelVersion
    from azml2aks.serving import start_inference_server

    with tempfile.TemporaryDirectory(prefix="bench-scoring-") as tmp:
        root = Path(tmp)
        model_dir, rows = build_model(root)
        bodies = payloads(rows)
        config = PipelineConfig.model_validate(
            {"automl": {"task": "classification", "target_column_name": "y", "training_data": "x.csv"}})
        mv = ModelVersion(name="wine-rf", version="1", run_id=None, job_name=None, metric_name=None,
                          metric_value=None, source=str(model_dir))
        generated = Path(package_model(config, mv, model_dir, root / "build", run_contract=False).directory)
        automl_dir = root / "automl-style"
        automl_dir.mkdir()
        (automl_dir / "score.py").write_text(AUTOML_STYLE % {"sample": json.dumps(rows[:3])})

        scorer = in_process_scorer(model_dir)
        servers, pids = {}, []
        try:
            for name, package in (("generated", generated), ("automl-style", automl_dir)):
                server = start_inference_server(package, model_dir, log_path=root / f"{name}.log",
                                                startup_timeout=120)
                servers[name] = server.port
                pids.append(server.pid)
            pid, servers["mlflow-serve"] = start_mlflow_serve(model_dir, root / "mlflow.log")
            pids.append(pid)
            results: dict[tuple[str, str, int], dict[str, float]] = {}
            for n in REQUESTS:
                rec, spl = bodies["records"][n], bodies["split"][n]
                contenders = {
                    ("in-process", "records"): lambda b=rec: scorer["records"](b),
                    ("in-process", "split"): lambda b=spl: scorer["split"](b),
                    ("generated", "records"): lambda b=rec: http_post(servers["generated"], "/score", b),
                    ("generated", "split"): lambda b=spl: http_post(servers["generated"], "/score", b),
                    ("automl-style", "records"): lambda b=rec: http_post(servers["automl-style"], "/score", b),
                    ("mlflow-serve", "split"): lambda b=spl: http_post(servers["mlflow-serve"], "/invocations", b),
                }
                for (name, fmt), times in interleaved(contenders, REQUESTS[n]).items():
                    results[(name, fmt, n)] = stats(times, n)
        finally:
            for pid in pids:
                processes.terminate(pid)
    report(results)


def report(results: dict[tuple[str, str, int], dict[str, float]]) -> None:
    def overhead(name: str, fmt: str, n: int) -> float:
        return results[(name, fmt, n)]["p50"] - results[("in-process", fmt, n)]["p50"]

    print(f"{'contender':<14}{'payload':<9}{'rows':>6}{'rows/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'overhead ms':>13}")
    for (name, fmt, n), s in sorted(results.items(), key=lambda kv: (kv[0][2], kv[0][0] != "in-process", kv[0])):
        extra = "" if name == "in-process" else f"{overhead(name, fmt, n):>13.2f}"
        print(f"{name:<14}{fmt:<9}{n:>6}{s['rows_s']:>11.0f}{s['p50']:>9.2f}{s['p99']:>9.2f}{extra}")
    print("\nserving overhead of the generated score.py (records payload, full validation):")
    for n, target in TARGETS.items():
        ours = overhead("generated", "records", n)
        automl = overhead("automl-style", "records", n)
        mlflow = overhead("mlflow-serve", "split", n)
        ours_split = overhead("generated", "split", n)
        print(f"  {n:>4} rows: {ours:.2f} ms = {ours / automl:.2f}x automl-style ({automl:.2f} ms; "
              f"target <= {target}x: {'met' if ours / automl <= target else 'MISSED'}); "
              f"split payload {ours_split:.2f} ms vs mlflow-serve {mlflow:.2f} ms "
              f"(target below: {'met' if ours_split < mlflow else 'MISSED'})")


if __name__ == "__main__":
    main()
