"""Proves an inference environment resolves, for its own Python on Linux, before it is registered.

The one place azml2aks runs ``uv`` (the binary the ``uv`` package installs, found with
``uv.find_uv_bin()``), always with an argv list: ``uv pip compile --python-version X.Y
--python-platform linux`` over the environment's pip and conda requirements (conda entries in
pip form). pip cannot do this for a foreign Python when a dependency ships only an sdist
(``fusepy``, pulled in by ``azureml-defaults``); uv can. uv reads its own settings from the
environment (``UV_INDEX_URL``, ``UV_EXTRA_INDEX_URL``, ``UV_FIND_LINKS``, ``UV_OFFLINE``, ...),
so a private index or a local folder of wheels works as it does for uv itself.

``environment.resolve`` decides what happens:

- ``never``: skipped (the offline checks of :mod:`azml2aks.packaging.constraints` still run);
- ``auto`` (default): resolved when the index answers; skipped with a warning when it cannot
  be reached, uv is missing, or the resolution outlives ``environment.resolve_timeout_seconds``;
- ``always``: must resolve; an unreachable index is a system error (exit 3).

An environment that does not resolve is a :class:`DataError` (exit 1) naming the packages in
conflict, as uv explained it, and the settings to change.
"""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from azml2aks.errors import BackendError, DataError
from azml2aks.packaging.constraints import Requirement

logger = logging.getLogger(__name__)

Runner = Callable[..., subprocess.CompletedProcess]

# uv's words for "could not ask the index" (as opposed to "the index said no").
_UNREACHABLE = re.compile(
    r"network (?:was|is) disabled|not found in the cache|error sending request|dns error|"
    r"failed to fetch|request failed after|connection (?:refused|reset)|timed out|"
    r"could not connect|tcp connect error|certificate", re.IGNORECASE)
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.MULTILINE)
_REQ = r"([A-Za-z][A-Za-z0-9._-]*(?:\[[^\]]*\])?(?:(?:===|==|!=|<=|>=|~=|<|>)[^\s,]+(?:,(?:===|==|!=|<=|>=|~=|<|>)[^\s,]+)*)?)"
_YOU_REQUIRE = re.compile(r"you require " + _REQ)
_MENTIONED = re.compile(r"(?:Because|because|and|depends on|requires) (?:only )?" + _REQ)


@dataclass(frozen=True)
class Resolution:
    """What the resolver said about one environment."""

    status: str  # "resolved" or "skipped"
    python: str | None
    reason: str = ""  # why it was skipped
    pins: dict[str, str] = field(default_factory=dict)  # every resolved package -> version
    command: tuple[str, ...] = ()
    seconds: float = 0.0

    def summary(self) -> dict:
        """The part the package result keeps: status, reason, and the versions that matter."""
        keep = ("azureml-inference-server-http", "mlflow", "mlflow-skinny", "pandas", "numpy",
                "scikit-learn", "azureml-defaults")
        out = {"status": self.status, "python": self.python, "seconds": round(self.seconds, 1)}
        if self.reason:
            out["reason"] = self.reason
        if self.pins:
            out["versions"] = {k: self.pins[k] for k in keep if k in self.pins}
            out["packages"] = len(self.pins)
        return out


def _uv_binary() -> str:
    from uv import find_uv_bin  # the uv package: a project dependency

    return find_uv_bin()


def python_minor(python: str) -> str:
    parts = python.split(".")
    return ".".join(parts[:2])


def compile_command(uv: str, requirements_file: Path, python: str) -> list[str]:
    return [uv, "pip", "compile", str(requirements_file), "--python-version", python_minor(python),
            "--python-platform", "linux", "--no-header", "--no-annotate", "--color", "never",
            "--no-python-downloads", "--quiet"]


def conflict_packages(explanation: str) -> list[str]:
    """The requirements uv names in its explanation: first the ones 'you require', then the rest."""
    first = [m.group(1) for m in _YOU_REQUIRE.finditer(explanation)]
    rest = [m.group(1) for m in _MENTIONED.finditer(explanation)]
    seen: dict[str, None] = {}
    for name in [*first, *rest]:
        name = name.rstrip(".,;")
        if name.lower() not in ("the", "we", "you", "your", "all", "python") and name not in seen:
            seen[name] = None
    return list(seen)


def _explanation(output: str) -> str:
    lines = [ln.rstrip() for ln in output.splitlines()
             if ln.strip() and not ln.startswith("warning:")]
    return "\n".join(lines[:20])


def resolve(
    requirements: Sequence[Requirement],
    python: str | None,
    *,
    mode: str = "auto",
    timeout: float = 300.0,
    run: Runner = subprocess.run,
    clock: Callable[[], float] = time.monotonic,
) -> Resolution:
    """Resolve ``requirements`` for ``python`` on Linux with uv (see the module doc for ``mode``)."""
    if mode == "never":
        return Resolution("skipped", python, reason="environment.resolve is never")
    if python is None:
        if mode == "always":
            raise DataError("the environment cannot be resolved: its Python version is unknown (the model's "
                            "conda.yaml names no python=X.Y)", hint="set environment.python_version")
        return _unavailable(mode, python, "the environment's Python version is unknown; set "
                            "environment.python_version")
    try:
        uv = _uv_binary()
    except (ImportError, FileNotFoundError) as e:
        return _unavailable(mode, python, f"uv is not installed ({e}); reinstall azml2aks")
    lines = [str(r) for r in requirements]
    with tempfile.TemporaryDirectory(prefix="azml2aks-resolve-") as tmp:
        req_file = Path(tmp) / "requirements.in"
        req_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        argv = compile_command(uv, req_file, python)
        started = clock()
        logger.info("resolving %d requirements for Python %s on Linux: %s", len(lines), python, " ".join(argv))
        try:
            proc = run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return _unavailable(mode, python, f"the resolution took longer than {timeout:.0f} s "
                                "(environment.resolve_timeout_seconds)")
        except OSError as e:
            return _unavailable(mode, python, f"uv could not start: {e}")
        seconds = clock() - started
    shown = tuple(["uv", *argv[1:3], "requirements.in", *argv[4:]])
    if proc.returncode == 0:
        pins = {name.lower(): version for name, version in _PINNED.findall(proc.stdout)}
        logger.info("environment resolves for Python %s: %d packages in %.1f s", python, len(pins), seconds)
        return Resolution("resolved", python, pins=pins, command=shown, seconds=seconds)
    output = "\n".join(part for part in (proc.stderr, proc.stdout) if part)
    if _UNREACHABLE.search(output):
        lines = [ln.strip() for ln in output.splitlines() if _UNREACHABLE.search(ln)]
        said = next((ln for ln in lines if "not found in the cache" not in ln), lines[0])
        said = re.sub(r"^(?:hint|cause|error):\s*", "", said)
        return _unavailable(mode, python, f"the package index could not be reached: {said[:160]}")
    explanation = _explanation(output)
    if "No solution found" not in output:
        raise BackendError(f"uv could not resolve the environment (exit {proc.returncode}):\n{explanation}",
                           hint="run the same command by hand: " + " ".join(shown))
    packages = conflict_packages(explanation)
    hint = ("change environment.extra_pip (pin a version that fits the model's own pins, or drop the "
            "competing pin) or environment.python_version; environment.resolve: never skips this check")
    missing = [r.name for r in requirements if r.source == "conda" and re.search(
        rf"\b{re.escape(r.name)}\S* was not found in the", explanation)]
    if missing:
        hint = (f"{', '.join(missing)} came from the conda list and has no package of that name on the "
                "package index (conda entries are resolved by their pip name); if it is conda-only, set "
                "environment.resolve: never (the offline checks still run)")
    raise DataError(
        f"the inference environment does not resolve for Python {python} on Linux; in conflict: "
        f"{', '.join(packages) or 'see below'}\n{explanation}",
        hint=hint,
    )


def _unavailable(mode: str, python: str | None, reason: str) -> Resolution:
    if mode == "always":
        raise BackendError(f"the environment could not be resolved: {reason}",
                           hint="environment.resolve is always; use auto to skip the resolution when "
                           "the package index is out of reach")
    logger.info("full environment resolution skipped: %s", reason)
    return Resolution("skipped", python, reason=reason)
