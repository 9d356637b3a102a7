"""Start-up benchmark: how fast the everyday verbs answer, as ratios to a bare interpreter.

Side by side in one run: the bare interpreter (``python -c pass``) is the floor every command
pays. Targets (issue 14): ``--help`` <= 3x the floor, ``validate`` <= 5x (neither imports
azure, mlflow or flaml); on a trained and deployed local wine pipeline, ``models``, ``status``,
``traffic``, ``promote``, ``rollback`` and ``keys`` <= 1 s and ``register`` <= 2 s (MLflow stays
the registry; these verbs read and write its sqlite store without importing MLflow, see
``azml2aks/backends/local/store_sql.py``). The pipeline is trained and deployed once in a
temporary folder first (a few trials), and its endpoint is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WINE = REPO / "examples" / "wine-classification" / "pipeline.yaml"
RATIO_TARGETS = {"--help": 3.0, "validate": 5.0}
SECOND_TARGETS = {"models": 1.0, "status": 1.0, "traffic": 1.0, "promote": 1.0, "rollback": 1.0, "keys": 1.0,
                  "register": 2.0}


def wall(argv: list[str], runs: int, *, env: dict | None = None) -> float:
    """Median wall time of ``runs`` runs (after one warm-up)."""
    subprocess.run(argv, capture_output=True, check=True, env=env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heavy_imports(argv_tail: list[str], env: dict | None = None) -> list[str]:
    code = (f"import sys, azml2aks.cli as c\n"
            f"try:\n    c.main({argv_tail!r})\nexcept SystemExit:\n    pass\n"
            "print('HEAVY:' + ','.join(m for m in ('azure', 'mlflow', 'flaml', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    line = next(x for x in reversed(out.splitlines()) if x.startswith("HEAVY:"))
    return [m for m in line.removeprefix("HEAVY:").split(",") if m]


def deployed_wine(root: Path) -> Path:
    """The wine example trained (4 trials) and deployed under ``root``; its pipeline.yaml."""
    shutil.copytree(WINE.parent, root / "wine", ignore=shutil.ignore_patterns(".azml2aks*", "build"))
    pipeline = root / "wine" / "pipeline.yaml"
    env = {**os.environ, "AZML2AKS_MAX_TRIALS": "4"}
    subprocess.run([sys.executable, "-m", "azml2aks", "run", str(pipeline), "-q"], check=True, env=env,
                   capture_output=True)
    return pipeline


def main(runs: int = 5) -> dict:
    py = sys.executable
    floor = wall([py, "-c", "pass"], runs)
    print(f"start-up (median of {runs}; python -c pass = {floor * 1000:.0f} ms)")
    print(f"  {'command':<22} {'wall ms':>8} {'x floor':>8} {'target':>9}  heavy imports")
    rows: dict[str, float] = {"floor": floor}
    for verb, tail in (("--help", ["--help"]), ("validate", ["validate", str(WINE)])):
        seconds = wall([py, "-m", "azml2aks", *tail], runs)
        heavy = heavy_imports(tail)
        ok = "ok" if seconds / floor <= RATIO_TARGETS[verb] and not heavy else "MISSED"
        print(f"  {'azml2aks ' + verb:<22} {seconds * 1000:>8.0f} {seconds / floor:>8.2f} "
              f"{'<=' + str(RATIO_TARGETS[verb]) + 'x':>9}  {', '.join(heavy) or 'none'} [{ok}]")
        rows[verb] = seconds
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        pipeline = deployed_wine(Path(tmp))
        p = str(pipeline)
        verbs = {"models": ["models", p], "status": ["status", p], "keys": ["keys", p],
                 "traffic": ["traffic", p, "blue=100"], "promote": ["promote", p, "--deployment", "blue"],
                 "rollback": ["rollback", p, "--deployment", "blue"], "register": ["register", p]}
        try:
            for verb, tail in verbs.items():
                seconds = wall([py, "-m", "azml2aks", *tail], runs)
                heavy = heavy_imports(tail)
                ok = "ok" if seconds <= SECOND_TARGETS[verb] else "MISSED"
                print(f"  {'azml2aks ' + verb:<22} {seconds * 1000:>8.0f} {seconds / floor:>8.2f} "
                      f"{'<=' + str(SECOND_TARGETS[verb]) + 's':>9}  {', '.join(heavy) or 'none'} [{ok}]")
                rows[verb] = seconds
        finally:
            subprocess.run([py, "-m", "azml2aks", "local", "down", p], capture_output=True)
    print("  (register re-registers the same best child run: the reuse path; a new version adds one "
          "sqlite transaction)")
    return rows


if __name__ == "__main__":
    main()
