"""Demo benchmark: wall time of ``make demo`` after install (examples/demo.py), against the
3-minute target, then the endpoint it leaves is stopped again."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 180.0


def main() -> dict:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(REPO / "examples" / "demo.py")], cwd=REPO,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    outcome = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("->")]
    workdir = REPO / "examples" / "wine-classification" / ".azml2aks-demo"
    subprocess.run([sys.executable, "-m", "azml2aks", "local", "down",
                    str(REPO / "examples" / "wine-classification" / "pipeline.yaml"), "--workdir", str(workdir)],
                   capture_output=True)
    status = "ok" if done.returncode == 0 and seconds < TARGET_SECONDS else "MISSED"
    print(f"demo (examples/demo.py: two full runs, blue then green up the ladder): {seconds:.1f} s "
          f"= {seconds / TARGET_SECONDS:.2f}x of the {TARGET_SECONDS:.0f} s target [{status}]")
    for line in outcome:
        print(f"  {line}")
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:])
    return {"seconds": seconds, "returncode": done.returncode}


if __name__ == "__main__":
    main()
