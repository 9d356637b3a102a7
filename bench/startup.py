"""Start-up benchmark: ``azml2aks --help`` and ``azml2aks validate`` wall time.

Side by side in one run: the bare interpreter (``python -c pass``) is the floor every command
pays; the target is under 0.5 s for each command, with no azure, mlflow or flaml import.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WINE = REPO / "examples" / "wine-classification" / "pipeline.yaml"
TARGET_SECONDS = 0.5


def wall(argv: list[str], runs: int) -> float:
    """Median wall time of ``runs`` runs (after one warm-up)."""
    subprocess.run(argv, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heavy_imports(argv_tail: list[str]) -> list[str]:
    code = (f"import sys, azml2aks.cli as c\n"
            f"try:\n    c.main({argv_tail!r})\nexcept SystemExit:\n    pass\n"
            "print('HEAVY:' + ','.join(m for m in ('azure', 'mlflow', 'flaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    line = next(x for x in reversed(out.splitlines()) if x.startswith("HEAVY:"))
    return [m for m in line.removeprefix("HEAVY:").split(",") if m]


def main(runs: int = 7) -> dict:
    py = sys.executable
    floor = wall([py, "-c", "pass"], runs)
    rows = {
        "azml2aks --help": wall([py, "-m", "azml2aks", "--help"], runs),
        "azml2aks validate": wall([py, "-m", "azml2aks", "validate", str(WINE)], runs),
    }
    print(f"start-up (median of {runs}; python -c pass = {floor * 1000:.0f} ms)")
    print(f"  {'command':<20} {'wall ms':>8} {'x floor':>8} {'target':>8}  heavy imports")
    for name, seconds in rows.items():
        tail = ["--help"] if name.endswith("--help") else ["validate", str(WINE)]
        heavy = heavy_imports(tail)
        ok = "ok" if seconds < TARGET_SECONDS and not heavy else "MISSED"
        print(f"  {name:<20} {seconds * 1000:>8.0f} {seconds / floor:>8.2f} {'<500':>8}  "
              f"{', '.join(heavy) or 'none'} [{ok}]")
    return {"floor_seconds": floor, **rows}


if __name__ == "__main__":
    main()
