"""`make demo`: the whole product on this machine, with the local backend.

Runs examples/wine-classification end to end twice, printing each command it runs:
  1. train, register, package and deploy -> blue serves 100 %;
  2. train a different model (another seed, forests only) and roll it out as green up the
     traffic ladder, printing each step's gate figures -> promoted, or rolled back.
It ends with the endpoint up, a curl command that scores a row, and how to stop it.
State lives in examples/wine-classification/.azml2aks-demo (removed at the start of each demo).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PIPELINE = HERE / "wine-classification" / "pipeline.yaml"
WORKDIR = PIPELINE.parent / ".azml2aks-demo"
AZML2AKS = [sys.executable, "-m", "azml2aks"]


def azml2aks(*args: str, env: dict | None = None, check: bool = True) -> dict | None:
    argv = [*AZML2AKS, *args, str(PIPELINE.relative_to(Path.cwd())) if PIPELINE.is_relative_to(Path.cwd())
            else str(PIPELINE), "--backend", "local",  # the demo is local even where AZURE_* is set
            "--workdir", str(WORKDIR), "--output", "json"]
    shown = " ".join(["azml2aks", *argv[len(AZML2AKS):]])
    extra = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    print(f"\n$ {extra + ' ' if extra else ''}{shown}", flush=True)
    done = subprocess.run(argv, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, text=True)
    if check and done.returncode not in (0, 4):
        print(done.stdout)
        raise SystemExit(f"demo stopped: the command above exited {done.returncode}")
    return json.loads(done.stdout) if done.stdout.strip() else None


def main() -> int:
    started = time.monotonic()
    if WORKDIR.exists():
        azml2aks("local", "down", check=False)
        shutil.rmtree(WORKDIR)

    print("== 1. the first model: train, register, package, deploy as blue")
    first = azml2aks("run", env={"AZML2AKS_SEED": "42"})
    deploy = first["deploy"]
    print(f"   -> {deploy['result']}: {deploy['traffic']} at {deploy['scoring_uri']}")

    print("\n== 2. a different model rolled out as green, up the ladder with gates")
    second = azml2aks("run", env={"AZML2AKS_SEED": "7", "AZML2AKS_ALGORITHMS": "[RandomForest, ExtremeRandomTrees]"})
    report = second.get("deploy") or second.get("report") or second
    print(f"   -> {report.get('result', 'rolled_back')}: traffic {report.get('traffic')}")

    status = azml2aks("status")
    keyfile = WORKDIR / "endpoints" / status["name"] / "keys.json"
    sample = '{"input_data": {"columns": ["alcohol","malic_acid","ash","alcalinity_of_ash","magnesium",' \
             '"total_phenols","flavanoids","nonflavanoid_phenols","proanthocyanins","color_intensity","hue",' \
             '"od280_od315","proline"], "data": [[13.2,1.78,2.14,11.2,100,2.65,2.76,0.26,1.28,4.38,1.05,3.4,1050]]}}'
    print(f"""
== the endpoint is up ({time.monotonic() - started:.0f} s)
traffic: {status['traffic']}
score a row (the key is read from {keyfile.relative_to(Path.cwd()) if keyfile.is_relative_to(Path.cwd()) else keyfile}, never printed):

  curl -s {status['scoring_uri']} \\
    -H "Authorization: Bearer $(python3 -c 'import json;print(json.load(open("{keyfile}"))["primaryKey"])')" \\
    -H "Content-Type: application/json" \\
    -d '{sample}'

stop it:  make demo-down""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
