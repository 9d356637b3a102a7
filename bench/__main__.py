"""``python -m bench [NAME ...]`` (``make bench``): every benchmark, or the ones named.

Each prints ratios measured side by side in the same run, never absolute pass/fail timings
inside the test suite. Benchmarks only talk to 127.0.0.1 and are bounded in count and time.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("startup", "controlplane", "scoring", "load", "gates", "demo")


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in names:
        print(f"\n### {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
