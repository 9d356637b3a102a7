"""A memory limit for a local process tree, as Kubernetes enforces ``resources.limits.memory``.

``python -m azml2aks.memwatch --limit BYTES -- ARGV...`` runs ARGV (the inference server:
gunicorn's master and its workers) in this process's group and, every ``--period`` seconds,
sums the resident memory (RSS) of every process of the group but itself. Over the limit, it
writes ``OOMKilled: ...`` to the log (its stdout), SIGKILLs the group's other processes and
exits with 137, which is what a container killed by the kernel's cgroup OOM killer does. When
ARGV exits on its own, the watchdog exits with its code.

Why a watchdog and not ``RLIMIT_AS``: RLIMIT_AS caps *virtual* address space per process.
numpy/OpenBLAS, LightGBM and gunicorn's threads reserve far more address space than they
touch, so a limit that Kubernetes would honour kills a healthy server at import; and it applies
to each process on its own, so gunicorn's master and N workers would get N+1 times the budget.
Kubernetes limits the resident memory of the whole container (its cgroup), so the sum of RSS
over the process group is the faithful measure (page cache, which the cgroup also counts, is
not). ``RLIMIT_RSS`` is ignored by Linux. Linux-only (/proc), like the local backend.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable

#: Kubernetes memory quantities: binary (Ki, Mi, Gi, Ti) and decimal (k/K, M, G, T) suffixes.
_UNITS = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$")
OOM_EXIT = 137


def memory_bytes(quantity: str | int) -> int:
    """``"200Mi"`` -> 209715200; ``"0.1Gi"``, ``"512M"``, ``"1073741824"`` as Kubernetes reads them."""
    match = _QUANTITY.match(str(quantity).strip())
    if not match:
        raise ValueError(f"{quantity!r} is not a Kubernetes memory quantity such as '4Gi' or '512Mi'")
    return int(float(match.group(1)) * _UNITS[match.group(2) or ""])


def mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def group_rss(pgid: int, *, exclude: int, proc: str = "/proc") -> dict[int, int]:
    """RSS in bytes of each process of process group ``pgid`` but ``exclude``, read from /proc."""
    page = os.sysconf("SC_PAGE_SIZE")
    out: dict[int, int] = {}
    for entry in os.scandir(proc):
        if not entry.name.isdigit() or int(entry.name) == exclude:
            continue
        try:
            with open(f"{proc}/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        # after "pid (comm)": state ppid pgrp ... ; rss (pages) is field 24 of stat, index 21 here
        if int(fields[2]) == pgid:
            out[int(entry.name)] = int(fields[21]) * page
    return out


def watch(child: subprocess.Popen, limit: int, *, period: float, rss: Callable[[], dict[int, int]],
          kill: Callable[[Iterable[int]], None], log: Callable[[str], None],
          sleep: Callable[[float], None] = time.sleep) -> int:
    """Poll until ``child`` exits (its code) or the group's RSS goes over ``limit`` (137)."""
    while child.poll() is None:
        usage = rss()
        total = sum(usage.values())
        if total > limit:
            log(f"OOMKilled: the server's processes use {mib(total)}, over the memory limit of {mib(limit)} "
                f"(deployment.resources.limits.memory); killing {len(usage)} process(es) as Kubernetes would")
            kill(usage)
            child.wait()
            return OOM_EXIT
        sleep(period)
    return child.returncode


def _kill(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m azml2aks.memwatch", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", required=True, help="bytes, or a Kubernetes quantity such as 2Gi")
    parser.add_argument("--period", type=float, default=0.5, help="seconds between two measurements")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    limit = memory_bytes(args.limit)
    if os.getpgid(0) != os.getpid():  # measure and kill our own group only, never our caller's
        os.setpgid(0, 0)
    child = subprocess.Popen(command)  # noqa: S603 - argv list; same process group as this watchdog
    # SIGTERM to the group (processes.terminate) reaches the child too; wait for it, then leave
    signal.signal(signal.SIGTERM, lambda *_: None)
    me = os.getpid()

    def log(line: str) -> None:
        print(line, flush=True)

    code = watch(child, limit, period=args.period, rss=lambda: group_rss(os.getpgid(me), exclude=me),
                 kill=_kill, log=log)
    return code


if __name__ == "__main__":
    sys.exit(main())
