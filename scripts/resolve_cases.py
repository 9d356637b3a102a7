"""Resolve the two AutoML cases of issue 13 against the real package index (not a test).

For each case (AutoML SDK 1.48 on Python 3.8, 1.59 on Python 3.9) this writes the model
folder (tests/scoring/automl_cases.py), runs

    azml2aks package PIPELINE --model-path FOLDER --no-contract      (environment.resolve: always)

then resolves the conda.yaml it wrote once more, by hand, with the uv command printed below,
and prints the time and the server / MLflow versions it resolved to. Last, the 1.48 case with
``azureml-inference-server-http==1.4.1`` added to environment.extra_pip must exit 1 naming
the conflict, and uv alone must reject that environment too.

Usage: .venv/bin/python scripts/resolve_cases.py [--cold]   (--cold: an empty uv cache)
Needs the package index; `make test` never runs this.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from azml2aks.cli import main  # noqa: E402
from azml2aks.packaging import render as scoring  # noqa: E402
from azml2aks.packaging.resolve import _uv_binary, compile_command  # noqa: E402
from tests.scoring.automl_cases import CASES, pipeline_yaml, write_case  # noqa: E402


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _uv_by_hand(conda_yaml: Path, work: Path, extra: list[str] = ()) -> tuple[subprocess.CompletedProcess, float, list[str]]:
    python, reqs = scoring.requirements(conda_yaml.read_text())
    req_file = work / "requirements.in"
    req_file.write_text("\n".join([*(str(r) for r in reqs), *extra]) + "\n")
    argv = compile_command(_uv_binary(), req_file, python)
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc, time.monotonic() - started, ["uv", *argv[1:]]


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="resolve with an empty uv cache")
    args = parser.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="azml2aks-cases-") as tmp:
        root = Path(tmp)
        if args.cold:
            os.environ["UV_CACHE_DIR"] = str(root / "uv-cache")
        for case in CASES:
            folder = write_case(root / case / "mlflow-model", case)
            pipeline = pipeline_yaml(root / case / "p", environment={"resolve": "always"})
            started = time.monotonic()
            code, out, err = _cli("package", str(pipeline), "--model-path", str(folder), "--no-contract", "-o", "json")
            seconds = time.monotonic() - started
            if code != 0:
                print(f"{case}: package exited {code}\n{err}")
                failures += 1
                continue
            result = json.loads(out)
            check = result["environment_check"]
            print(f"== {case}: `azml2aks package --model-path --no-contract` exit 0 in {seconds:.1f} s; "
                  f"stage resolution {check['status']} in {check['seconds']} s "
                  f"({check.get('packages')} packages): {check.get('versions')}")
            conda_yaml = Path(result["directory"]) / "conda.yaml"
            print("   conda.yaml:", json.dumps(yaml_deps(conda_yaml)))
            proc, secs, shown = _uv_by_hand(conda_yaml, root / case)
            pins = dict(line.split("==", 1) for line in proc.stdout.splitlines() if "==" in line)
            print(f"   by hand: {' '.join(shown[:3])} requirements.in {' '.join(shown[4:])}")
            print(f"   -> exit {proc.returncode} in {secs:.1f} s: azureml-inference-server-http "
                  f"{pins.get('azureml-inference-server-http')}, mlflow-skinny {pins.get('mlflow-skinny')}, "
                  f"mlflow {pins.get('mlflow', '-')}, {len(pins)} packages")
            failures += proc.returncode != 0

        case = "automl-1.48"
        folder = root / case / "mlflow-model"
        bad = pipeline_yaml(root / case / "bad", environment={
            "resolve": "always", "extra_pip": ["azureml-inference-server-http==1.4.1"]})
        code, _, err = _cli("package", str(bad), "--model-path", str(folder), "--no-contract")
        print(f"== {case} + extra_pip azureml-inference-server-http==1.4.1: exit {code}")
        print("   " + err.strip().replace("\n", "\n   "))
        failures += code != 1
        good = next((root / case / "p" / "build").glob("churn-folder-*")) / "conda.yaml"
        proc, secs, _ = _uv_by_hand(good, root / case, ["azureml-inference-server-http==1.4.1"])
        print(f"   uv alone on that environment: exit {proc.returncode} in {secs:.1f} s")
        print("   " + "\n   ".join(ln for ln in proc.stderr.splitlines() if not ln.startswith("warning:")))
        failures += proc.returncode != 1
    print("all cases as expected" if not failures else f"{failures} unexpected result(s)")
    return 1 if failures else 0


def yaml_deps(path: Path) -> list:
    import yaml

    return yaml.safe_load(path.read_text())["dependencies"]


if __name__ == "__main__":
    sys.exit(main_())
