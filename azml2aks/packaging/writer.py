"""The ``package`` stage: turn an MLflow model into a proven scoring package.

Reads the model folder (MLmodel, signature, input example, conda.yaml / requirements.txt) of
a registered model or of a folder given directly (:func:`model_from_folder`), builds the
environment and proves it buildable before anything is written (:func:`prove_environment`:
the offline server/Python table, then the resolution for its Python on Linux), renders the
package with :mod:`azml2aks.packaging.render`, writes
``<out_root>/<model>-<version>/{score.py, conda.yaml, swagger2.json, swagger3.json,
sample-request.json}`` and then runs the contract test: the Azure ML inference server is
started on 127.0.0.1 with exactly those files and the model, the sample is scored over HTTP
and compared with the model's in-process predictions, a malformed request must get a 400,
and the server is stopped. Registering the environment is the pipeline's job, not this one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from azml2aks.config import PipelineConfig
from azml2aks.errors import BackendError, DataError
from azml2aks.packaging import constraints, render
from azml2aks.packaging.resolve import resolve as resolve_environment
from azml2aks.results import ModelVersion, PackageResult

logger = logging.getLogger(__name__)

FILES = ("score.py", "conda.yaml", "swagger2.json", "swagger3.json", "sample-request.json")
EventSink = Callable[[dict[str, Any]], None]


def _ignore(event: dict[str, Any]) -> None:
    pass


def read_model_info(model_dir: Path) -> dict[str, Any]:
    """What the package needs from an MLflow model folder, as plain data."""
    mlmodel_path = model_dir / "MLmodel"
    try:
        mlmodel = yaml.safe_load(mlmodel_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise DataError(
            f"{model_dir} is not a readable MLflow model folder (MLmodel: {e})",
            hint="package a model saved with mlflow.<flavor>.save_model or log_model",
        ) from e
    flavors = mlmodel.get("flavors") or {}
    example = _read_example(model_dir, mlmodel)
    inputs = (mlmodel.get("signature") or {}).get("inputs")
    if inputs:
        columns = render.columns_from_signature(json.loads(inputs) if isinstance(inputs, str) else inputs)
    elif example:
        names = list(example[0])
        columns = render.columns_from_example(names, [_json_dtype(example, n) for n in names])
        logger.warning("model in %s has no signature; columns and types taken from its input example", model_dir)
    else:
        raise DataError(
            f"the model in {model_dir} has neither a signature nor an input example, so requests "
            "cannot be validated",
            hint="save it with signature=mlflow.models.infer_signature(X, model.predict(X)) "
            "and input_example=X.head(3)",
        )
    return {
        "loader": "sklearn" if "sklearn" in flavors else "pyfunc",
        "columns": columns,
        "example": example,
        "python_version": (flavors.get("python_function") or {}).get("python_version"),
        "mlflow_version": mlmodel.get("mlflow_version"),
        "conda": _read_text(model_dir / "conda.yaml"),
        "requirements": _read_text(model_dir / "requirements.txt"),
    }


def model_from_folder(path: str | Path, name: str) -> tuple[ModelVersion, Path]:
    """An MLflow model folder as an unregistered model version named ``name``.

    The version is ``folder-`` and 10 hex digits of the sha256 of the folder's MLmodel and
    environment files, so the package directory and fingerprint are stable per model.
    """
    folder = Path(path).expanduser().resolve()
    if not (folder / "MLmodel").is_file():
        hint = "point --model-path at the folder that holds the MLmodel file"
        # a downloaded AutoML child holds it at outputs/mlflow-model/ (`az ml job download`: under artifacts/)
        nested = sorted((p.parent for depth in ("*", "*/*", "*/*/*") for p in folder.glob(f"{depth}/MLmodel")),
                        key=lambda p: (len(p.parts), str(p))) if folder.is_dir() else []
        if nested:
            hint = f"did you mean --model-path {nested[0]}?"
        raise DataError(f"{folder} is not an MLflow model folder: it has no MLmodel file", hint=hint)
    digest = hashlib.sha256()
    for file in ("MLmodel", "conda.yaml", "requirements.txt", "python_env.yaml"):
        if (folder / file).is_file():
            digest.update(file.encode() + b"\0" + (folder / file).read_bytes())
    version = "folder-" + digest.hexdigest()[:10]
    return ModelVersion(name=name, version=version, run_id=None, job_name=None, metric_name=None,
                        metric_value=None, source=str(folder)), folder


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read the model's environment file {path}: {e}") from e


def _read_example(model_dir: Path, mlmodel: dict[str, Any]) -> list[dict[str, Any]] | None:
    info = mlmodel.get("saved_input_example_info") or {}
    path = model_dir / info.get("artifact_path", "input_example.json")
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        logger.warning("ignoring the unreadable input example %s: %s", path, e)
        return None
    if isinstance(data, dict) and "dataframe_split" in data:
        data = data["dataframe_split"]
    if isinstance(data, dict) and isinstance(data.get("columns"), list) and isinstance(data.get("data"), list):
        return [dict(zip(data["columns"], row, strict=False)) for row in data["data"]]
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return data
    return None


def _json_dtype(rows: list[dict[str, Any]], name: str) -> str:
    values = [r.get(name) for r in rows if r.get(name) is not None]
    if values and all(isinstance(v, bool) for v in values):
        return "bool"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "float64"
    return "object"


def package_model(
    config: PipelineConfig,
    model: ModelVersion,
    model_dir: str | Path,
    out_root: str | Path,
    *,
    run_contract: bool = True,
    on_event: EventSink | None = None,
    base_dir: str | Path | None = None,
) -> PackageResult:
    """Write the scoring package of ``model`` under ``out_root`` and prove it (see module doc).

    With ``deployment.code_configuration`` the user's code folder (relative to ``base_dir``,
    the folder of pipeline.yaml) is copied over the generated files and its
    ``scoring_script`` is what the contract test serves (:func:`run_user_contract_test`)."""
    emit = on_event or _ignore
    model_dir = Path(model_dir)
    info = read_model_info(model_dir)
    task = config.automl.task
    columns: list[render.Column] = info["columns"]
    n_sample = config.scoring.sample_rows
    method = config.scoring.default_method
    forecasting: dict[str, Any] = {}
    if task == "forecasting":
        fc = config.automl.forecasting
        ids = fc.time_series_id_column_names or [] if fc else []
        forecasting = {
            "time_column": fc.time_column_name if fc else None,
            "series_columns": [ids] if isinstance(ids, str) else list(ids),
            "forecast_horizon": fc.forecast_horizon if fc and fc.forecast_horizon != "auto" else None,
            "frequency": fc.frequency if fc else None,
        }
        method = "predict"
        if forecasting["forecast_horizon"]:  # the sample must itself fit the horizon
            n_sample = min(n_sample, forecasting["forecast_horizon"])
    records = render.sample_records(columns, info["example"], n=n_sample)
    score_py = render.render_score_py(
        task=task, columns=columns, model_ref=model.ref, sample_records=records, loader=info["loader"],
        max_body_bytes=config.scoring.max_body_bytes, default_method=method, **forecasting,
    )
    if info["conda"] is None and info["requirements"] is None:
        raise DataError(
            f"model {model.ref}: its environment cannot be read (no conda.yaml or requirements.txt in {model_dir})",
            hint="re-save the model with mlflow.<flavor>.save_model(..., pip_requirements=[...])",
        )
    env = config.environment
    conda_yaml, conflicts = render.build_conda(
        model_conda=info["conda"],
        model_requirements=info["requirements"],
        python_version=env.python_version or (None if info["conda"] else info["python_version"]),
        mlflow_version=info["mlflow_version"],
        extra_pip=env.extra_pip,
    )
    for line in conflicts:
        logger.warning("environment conflict: %s", line)
        emit({"event": "warning", "message": f"environment conflict: {line}"})
    check = prove_environment(conda_yaml, info, env, model.ref, emit)
    title = f"{model.name} {model.version}"
    documents = {
        "score.py": score_py,
        "conda.yaml": conda_yaml,
        "swagger2.json": _json(render.swagger2(title=title, columns=columns, records=records, task=task, method=method)),
        "swagger3.json": _json(render.swagger3(title=title, columns=columns, records=records, task=task, method=method)),
        "sample-request.json": _json(render.sample_request(records, method)),
    }
    package_dir = Path(out_root) / f"{model.name}-{model.version}"
    package_dir.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        tmp = package_dir / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(package_dir / name)
    emit({"event": "package", "message": f"wrote {', '.join(FILES)} to {package_dir}", "directory": str(package_dir)})
    user_code = config.deployment.code_configuration
    if user_code is not None:
        _copy_user_code(Path(base_dir or "."), user_code.code, user_code.scoring_script, package_dir)
        emit({"event": "package", "message": f"copied your code {user_code.code} over it; the entry script is "
              f"{user_code.scoring_script}", "directory": str(package_dir)})
    contract: dict[str, Any] = {"ran": False}
    if run_contract and user_code is not None:
        contract = run_user_contract_test(config, package_dir, model_dir, user_code.scoring_script,
                                          log_path=Path(out_root) / "logs" / f"{package_dir.name}-contract.log")
        emit({"event": "contract", "message": f"contract test passed: your {user_code.scoring_script} loaded the "
              "model and answered sample-request.json with HTTP 200", "contract": contract})
    elif run_contract:
        contract = run_contract_test(config, package_dir, model_dir, info["loader"], records, method,
                                     log_path=Path(out_root) / "logs" / f"{package_dir.name}-contract.log")
        emit({"event": "contract", "message": f"contract test passed: {contract['rows']} rows scored over HTTP "
              "match in-process predictions", "contract": contract})
    else:
        contract["skipped"] = "--no-contract: the package was not served and scored on this machine"
        emit({"event": "contract", "message": "contract test skipped (--no-contract): score.py was not served "
              "and scored on this machine", "contract": contract})
    return PackageResult(
        model=model.ref,
        directory=str(package_dir),
        files=FILES,
        environment_name=config.environment_name,
        environment_version=None,
        environment_reused=False,
        fingerprint=render.fingerprint(conda_yaml, env.image),
        contract=contract,
        conflicts=tuple(conflicts),
        environment_check=check,
    )


def prove_environment(conda_yaml: str, info: dict[str, Any], env: Any, model_ref: str,
                      emit: EventSink = _ignore) -> dict[str, Any]:
    """Check the environment offline (server/Python table), then resolve it as ``env.resolve`` says.

    Raises :class:`DataError` naming the conflict; returns what was checked, for the result.
    """
    python, reqs = render.requirements(conda_yaml)
    extra = {render.requirement_name(p) for p in env.extra_pip}
    model_names = set()
    for text, is_conda in ((info["conda"], True), (info["requirements"], False)):
        if text:
            model_names |= {r.name for r in (render.requirements(text)[1] if is_conda
                                             else render.requirements_txt(text))}
    reqs = [dataclasses.replace(r, source="environment.extra_pip" if r.name in extra else
                                "the model's environment" if r.name in model_names else "added by azml2aks")
            for r in reqs]
    report = constraints.check(reqs, python)
    if report.problems:
        raise DataError(
            f"model {model_ref}: its inference environment cannot be built: " + "; ".join(report.problems),
            hint="change environment.extra_pip or environment.python_version in pipeline.yaml",
        )
    for note in report.notes:
        emit({"event": "warning", "message": f"environment: {note}"})
    resolution = resolve_environment(reqs, python, mode=env.resolve, timeout=env.resolve_timeout_seconds)
    summary = resolution.summary()
    summary["offline_check"] = {"server": report.server or "added by azml2aks for Python " + str(python),
                                "passed": True}
    if resolution.status == "resolved":
        versions = ", ".join(f"{k} {v}" for k, v in summary.get("versions", {}).items())
        emit({"event": "environment", "message": f"environment resolves for Python {python} on Linux "
              f"({summary['packages']} packages, {summary['seconds']} s): {versions}"})
    else:
        emit({"event": "environment" if env.resolve == "never" else "warning",
              "message": f"full environment resolution skipped ({resolution.reason}); "
              f"checked offline only: the inference server's Python support and the azureml-defaults "
              f"server range"})
    return summary


def _copy_user_code(base_dir: Path, code: str, scoring_script: str, package_dir: Path) -> None:
    import shutil

    source = Path(code) if Path(code).is_absolute() else base_dir / code
    if not source.is_dir():
        raise DataError(f"deployment.code_configuration.code: {source} is not a folder",
                        hint="point it at the folder holding your scoring script (relative to pipeline.yaml)")
    if not (source / scoring_script).is_file():
        raise DataError(f"deployment.code_configuration.scoring_script: {source / scoring_script} does not exist",
                        hint="name the script inside code_configuration.code, e.g. score.py")
    shutil.copytree(source, package_dir, dirs_exist_ok=True)  # the user's files win over generated ones


def run_user_contract_test(config: PipelineConfig, package_dir: Path, model_dir: Path, entry_script: str, *,
                           log_path: Path) -> dict[str, Any]:
    """Serve the user's ``entry_script`` on 127.0.0.1: its init() must load the model and its
    run() must answer ``sample-request.json`` (ours, or the one the user's code folder brings)
    with HTTP 200. Its answer's format is the user's, so it is not compared with predictions."""
    from azml2aks.serving import start_inference_server

    server = start_inference_server(package_dir, model_dir, workers=1, log_path=log_path, entry_script=entry_script,
                                    startup_timeout=config.local.startup_timeout_seconds)
    try:
        status, answer = _post(server.score_url, (package_dir / "sample-request.json").read_bytes())
        if status != 200:
            raise BackendError(f"contract test: your {entry_script} answered sample-request.json with HTTP {status}: "
                               f"{str(answer)[:300]}", hint=f"server log: {log_path}; put a sample-request.json "
                               "in your code folder if your script expects another format", code="ContractFailed")
    finally:
        server.stop()
    return {"ran": True, "passed": True, "user_code": True, "entry_script": entry_script,
            "checks": ["init() loaded the model", "sample-request.json answered HTTP 200"], "server_log": str(log_path)}


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def _post(url: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310 - loopback only
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def in_process_predictions(model_dir: Path, loader: str, records: list[dict], columns: list, method: str):
    """The model's own answer for ``records``, loaded the way score.py loads it."""
    import pandas as pd

    if loader == "sklearn":
        import mlflow.sklearn

        model = mlflow.sklearn.load_model(str(model_dir))
    else:
        import mlflow.pyfunc

        model = mlflow.pyfunc.load_model(str(model_dir))
    frame = pd.DataFrame(records)[[c.name for c in columns]]
    for column in columns:
        if column.type == "datetime":
            frame[column.name] = pd.to_datetime(frame[column.name], format="ISO8601")
    result = model.predict_proba(frame) if method == "predict_proba" else model.predict(frame)
    return json.loads(json.dumps(getattr(result, "tolist", lambda: list(result))(), default=str))


def _same(served: Any, local: Any) -> bool:
    if isinstance(served, list) and isinstance(local, list):
        return len(served) == len(local) and all(_same(a, b) for a, b in zip(served, local, strict=True))
    if isinstance(served, (int, float)) and isinstance(local, (int, float)):
        return math.isclose(served, local, rel_tol=1e-6, abs_tol=1e-9)
    return served == local


def run_contract_test(config: PipelineConfig, package_dir: Path, model_dir: Path, loader: str,
                      records: list[dict], method: str, *, log_path: Path) -> dict[str, Any]:
    """Serve the package on 127.0.0.1, score the sample, compare, probe a 400, stop."""
    from azml2aks.serving import start_inference_server

    columns = read_model_info(model_dir)["columns"]
    expected = in_process_predictions(model_dir, loader, records, columns, method)
    server = start_inference_server(package_dir, model_dir, workers=1, log_path=log_path,
                                    startup_timeout=config.local.startup_timeout_seconds)
    try:
        status, answer = _post(server.score_url, (package_dir / "sample-request.json").read_bytes())
        if status != 200:
            raise BackendError(f"contract test: the sample got HTTP {status}: {answer}",
                               hint=f"server log: {log_path}", code="ContractFailed")
        served = answer.get("Results")
        if not _same(served, expected):
            raise BackendError(
                f"contract test: served predictions {str(served)[:200]} differ from in-process "
                f"predictions {str(expected)[:200]}", hint=f"server log: {log_path}", code="ContractFailed")
        bad = [{k: v for k, v in r.items() if k != columns[0].name} for r in records]
        bad_status, bad_answer = _post(server.score_url, json.dumps(render.sample_request(bad, method)).encode())
        if bad_status != 400:
            raise BackendError(f"contract test: a request without column {columns[0].name!r} got HTTP "
                               f"{bad_status}, not 400: {bad_answer}", code="ContractFailed")
        if not server.alive():
            raise BackendError("contract test: the server died while scoring", hint=f"server log: {log_path}")
    finally:
        server.stop()
    logger.info("contract test of %s passed (%d rows)", package_dir.name, len(records))
    return {"ran": True, "passed": True, "rows": len(records), "method": method,
            "checks": ["sample scored over HTTP equals in-process predictions",
                       f"missing column {columns[0].name!r} answered 400"],
            "server_log": str(log_path)}
