"""The one module of azml2aks that starts, watches and stops operating-system processes.

Everything here takes argv lists (never a shell string), writes a child's stdout and stderr
to a log file, and only ever signals processes this package started (callers keep the pid
they got from :func:`spawn`). Children are detached (``start_new_session=True``) so a
server started by one CLI command keeps running after that command exits; another command
finds it again by pid and port.

    spawn(argv, env=..., log_path=...)   -> pid
    is_alive(pid)                        -> bool
    terminate(pid, timeout=10)           SIGTERM to the process group, then SIGKILL
    wait_http(url, timeout=..., pid=..., log_path=...)   poll until HTTP 200
    log_tail(path, lines=40)             -> the last lines of a log, for error messages
    free_port()                          -> a free TCP port on 127.0.0.1
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from azml2aks.errors import BackendError
from azml2aks.retry import Poller

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
_POLL_SECONDS = 0.1


def sigterm_interrupts() -> None:
    """Make SIGTERM raise KeyboardInterrupt in the main thread, so the cleanup that runs on
    Ctrl-C (restore the split, stop a half-created colour, mark a job Canceled) runs for it too."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: str | os.PathLike,
    cwd: str | os.PathLike | None = None,
) -> int:
    """Start ``argv`` detached from this process and return its pid.

    ``env`` is the child's whole environment (pass ``{**os.environ, ...}`` to inherit).
    stdout and stderr are appended to ``log_path``; stdin is closed.
    """
    if isinstance(argv, str) or not argv:
        raise TypeError("spawn() takes a non-empty argv list, never a shell string")
    log = Path(log_path)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        try:
            proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
                list(argv),
                env=dict(env),
                cwd=str(cwd) if cwd is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as e:
            raise BackendError(
                f"could not start {argv[0]!r}: {e.strerror or e}",
                hint="check that the program is installed in this environment",
            ) from e
    # The Popen object is dropped on purpose: the child outlives us and is found by pid.
    # Mark it as reaped-by-nobody so Python does not warn; reaping happens in _reap().
    proc.returncode = 0
    logger.debug("started pid %s: %s (log %s)", proc.pid, argv[0], log)
    return proc.pid


def _reap(pid: int) -> bool:
    """Collect ``pid`` if it is our exited child; True when it is gone."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False  # not our child (another command started it): cannot tell from here
    return done == pid


def is_alive(pid: int) -> bool:
    """True while the process ``pid`` exists and is not a zombie."""
    if pid <= 0:
        return False
    if _reap(pid):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def terminate(pid: int, timeout: float = 10, *, sleep: Callable[[float], None] = time.sleep) -> None:
    """Stop a process we started: SIGTERM its group, wait up to ``timeout`` s, then SIGKILL.

    Succeeds when the process is already gone.
    """
    if not is_alive(pid):
        return
    _signal_group(pid, signal.SIGTERM)
    for _ in Poller(initial=_POLL_SECONDS, factor=1.0, timeout=timeout, sleep=sleep):
        if not is_alive(pid):
            logger.debug("pid %s stopped", pid)
            return
    logger.warning("pid %s ignored SIGTERM for %.0f s; killing it", pid, timeout)
    _signal_group(pid, signal.SIGKILL)
    for _ in Poller(initial=_POLL_SECONDS, factor=1.0, timeout=50 * _POLL_SECONDS, sleep=sleep):
        if not is_alive(pid):
            return


def _signal_group(pid: int, sig: int) -> None:
    # spawn() made each child a session (and group) leader, so its group id is its pid;
    # signalling the group also reaches gunicorn's workers.
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_http(
    url: str,
    *,
    timeout: float,
    pid: int | None = None,
    log_path: str | os.PathLike | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll ``url`` with GET until it answers 200.

    Raises BackendError with the log tail if the process ``pid`` exits first or ``timeout``
    seconds pass.
    """
    last = "no answer yet"
    for _ in Poller(initial=_POLL_SECONDS, factor=1.0, timeout=timeout, sleep=sleep):
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback only
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            last = str(getattr(e, "reason", e))
        if pid is not None and not is_alive(pid):
            raise BackendError(
                f"process {pid} exited before {url} answered" + _tail_suffix(log_path),
                hint=f"read the whole log: {log_path}" if log_path else None,
            )
    raise BackendError(
        f"{url} did not answer 200 within {timeout:g} s (last: {last})" + _tail_suffix(log_path),
        hint=f"read the whole log: {log_path}" if log_path else None,
    )


def _tail_suffix(log_path: str | os.PathLike | None) -> str:
    if not log_path:
        return ""
    tail = log_tail(log_path)
    return f"; last lines of {log_path}:\n{tail}" if tail else ""


def log_tail(path: str | os.PathLike, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ('' when it does not exist)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(deque(f, maxlen=lines)).rstrip("\n")
    except OSError:
        return ""


def port_in_use(port: int) -> bool:
    """True when something listens on 127.0.0.1:``port`` (binding as the router does fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]
