"""What is known, without a package index, about the inference server and the Pythons it runs on.

Pure: two small tables and the checks built on them. The package stage runs these checks
on every environment it writes, whether or not the full resolution
(:mod:`azml2aks.packaging.resolve`) can run; they catch the mistakes that made real AutoML
environments fail their image build on Azure:

- an ``azureml-inference-server-http`` release that does not support the environment's Python
  (server 1.4 and later need Python >= 3.9; AutoML SDK 1.48 models are Python 3.8);
- a server pin that contradicts the range ``azureml-defaults`` requires
  (``azureml-defaults==1.48.0`` requires ``azureml-inference-server-http~=0.7.2``);
- a server older than the generated score.py supports (0.7).

Facts, and where each was read (2026-11, from the releases' own metadata: the wheel's
``METADATA`` ``Requires-Dist`` / ``Classifier`` lines, and the changelog that the installed
azureml-inference-server-http 1.5.1 carries in its METADATA):
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

SERVER = "azureml-inference-server-http"
DEFAULTS = "azureml-defaults"

# Server release series -> (Pythons its releases list as supported, first .. last).
# Source: "Programming Language :: Python :: 3.x" classifiers of 0.4.14, 0.7.2, 0.7.7,
# 0.8.4.2, 1.0.0, 1.1.0, 1.2.2, 1.3.4, 1.4.0, 1.4.1, 1.5.0 and 1.5.1; the changelog agrees:
# 0.8.0 "Drop support for Python 3.6", 1.0.0 "Deprecate Python 3.7", 1.2.0 "Add python 3.11",
# 1.3.0 "Add python 3.12", 1.4.0 "dropped the support of Python 3.8".
SERVER_PYTHONS: dict[str, tuple[str, str]] = {
    "0.4": ("3.6", "3.9"),
    "0.7": ("3.6", "3.9"),
    "0.8": ("3.7", "3.10"),
    "1.0": ("3.8", "3.10"),
    "1.1": ("3.8", "3.10"),
    "1.2": ("3.8", "3.11"),
    "1.3": ("3.8", "3.12"),
    "1.4": ("3.9", "3.12"),
    "1.5": ("3.9", "3.12"),
}

# Every release of the server from 0.4 on, as the package index lists them (2026-11).
SERVER_RELEASES = tuple(Version(v) for v in (
    "0.4.0 0.4.1 0.4.2 0.4.9 0.4.10 0.4.11 0.4.13 0.4.14 0.5.0 0.5.1 0.5.2 0.5.3 0.5.4 0.6.0 0.6.1 "
    "0.7.1 0.7.2 0.7.3 0.7.4 0.7.5 0.7.6 0.7.7 0.8.0 0.8.1 0.8.2 0.8.3 0.8.4 0.8.4.1 0.8.4.2 "
    "1.0.0 1.1.0 1.2.0 1.2.1 1.2.2 1.3.0 1.3.2 1.3.3 1.3.4 1.4.0 1.4.1 1.5.0 1.5.1"
).split())

# The generated score.py imports rawhttp/AMLResponse from azureml.contrib.services (0.7) or
# azureml_inference_server_http.api (0.8 and later; the only place from 1.4.1 on: its
# changelog says "Remove azureml contrib service local references"). Older servers have neither.
SCORE_PY_MIN_SERVER = Version("0.7.0")

# azureml-defaults (first, last release) -> the server range it requires.
# Source: Requires-Dist of the azureml-defaults wheels 1.38.0, 1.41.0, 1.43.0, 1.44.0, 1.46.0,
# 1.48.0, 1.49.0, 1.52.0, 1.53.0, 1.54.0, 1.55.0, 1.56.0, 1.57.0, 1.58.0, 1.59.0, 1.60.0,
# 1.61.0, 1.62.0; each span's ends were read, the releases inside it assumed alike.
DEFAULTS_SERVER: tuple[tuple[str, str, str], ...] = (
    ("1.38.0", "1.43.99", "~=0.4.1"),
    ("1.44.0", "1.48.99", "~=0.7.2"),
    ("1.49.0", "1.54.99", "~=0.8.0"),
    ("1.55.0", "1.56.99", "~=1.0.0"),
    ("1.57.0", "1.57.99", "~=1.2.1"),
    ("1.58.0", "1.60.99", "~=1.3"),
    ("1.61.0", "1.62.99", "~=1.4"),
)

# The server azml2aks adds when the model brings none: the newest release for the Python.
SERVER_FOR_PYTHON: dict[str, str] = {"3.8": "==1.3.4"}
SERVER_DEFAULT = "==1.5.1"


def _minor(python: str) -> tuple[int, int]:
    parts = python.strip().split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ValueError(f"{python!r} is not a Python version such as 3.9 or 3.9.21") from None


def _series(version: Version) -> str:
    return f"{version.major}.{version.minor}"


def pythons_of(version: Version) -> tuple[str, str] | None:
    """The Python versions a server release lists as supported, or None when not in the table."""
    return SERVER_PYTHONS.get(_series(version))


def supports(version: Version, python: str) -> bool:
    span = pythons_of(version)
    return span is not None and _minor(span[0]) <= _minor(python) <= _minor(span[1])


def server_for_python(python: str | None) -> str:
    """The specifier azml2aks pins the server to when the model brings none."""
    if python is None:
        return SERVER_DEFAULT
    return SERVER_FOR_PYTHON.get("{}.{}".format(*_minor(python)), SERVER_DEFAULT)


def defaults_server_range(defaults_spec: str) -> str | None:
    """The server range an exact ``azureml-defaults==X`` pin requires, if the table knows X."""
    spec = defaults_spec.strip()
    if not spec.startswith("==") or "*" in spec:
        return None
    try:
        version = Version(spec[2:].strip())
    except InvalidVersion:
        return None
    for first, last, server in DEFAULTS_SERVER:
        if Version(first) <= version <= Version(last):
            return server
    return None


@dataclass(frozen=True)
class Requirement:
    """A requirement of the environment: package, specifier, and who asked for it."""

    name: str
    spec: str
    source: str

    def __str__(self) -> str:
        return f"{self.name}{self.spec}"


@dataclass
class Report:
    """What the offline check found: problems fail the package stage, notes are said."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    server: str | None = None  # the server range in force, e.g. "~=0.7.2 (from azureml-defaults==1.48.0)"


def _specifier(spec: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(spec)
    except InvalidSpecifier:
        return None


def check(requirements: Iterable[Requirement], python: str | None) -> Report:
    """Check the server and Python facts above against the environment's requirements.

    ``requirements`` are the environment's pip and conda entries, names normalised and conda
    specifiers in pip form (see :func:`azml2aks.packaging.conda.requirements`);
    ``python`` its Python version (``3.8.15`` or ``3.8``), None when unknown.
    """
    report = Report()
    reqs = list(requirements)
    if python is None:
        report.notes.append("the environment's Python version is unknown, so the server's Python "
                            "support was not checked; set environment.python_version")
    else:
        low = _minor(python)
        if low < (3, 8):
            report.problems.append(
                f"Python {python}: the generated score.py and every inference server release that "
                "serves it need Python 3.8 or later; set environment.python_version to 3.8 or newer")
            return report
    ranges: list[tuple[str, SpecifierSet]] = []
    for req in reqs:
        if req.name == SERVER and req.spec:
            spec = _specifier(req.spec)
            if spec is not None:
                ranges.append((f"{req} ({req.source})", spec))
        elif req.name == DEFAULTS and req.spec:
            server = defaults_server_range(req.spec)
            if server is None:
                report.notes.append(f"{req} is not in azml2aks's table of azureml-defaults releases; "
                                    "only the full resolution checks the server range it requires")
            else:
                ranges.append((f"{SERVER}{server} (required by {req}, {req.source})", SpecifierSet(server)))
    if not ranges:
        return report
    report.server = "; ".join(label for label, _ in ranges)
    candidates = [v for v in SERVER_RELEASES if all(v in spec for _, spec in ranges)]
    beyond_table = all(not list(spec.filter(SERVER_RELEASES)) for _, spec in ranges)
    if beyond_table:
        report.notes.append(f"{report.server} matches no server release azml2aks knows; only the full "
                            "resolution checks it")
        return report
    if not candidates:
        report.problems.append(
            f"no release of {SERVER} satisfies both " + " and ".join(label for label, _ in ranges)
            + "; remove the competing pin from environment.extra_pip (the model's own range stands)")
        return report
    if all(v < SCORE_PY_MIN_SERVER for v in candidates):
        report.problems.append(
            f"{report.server} allows only server releases older than {SCORE_PY_MIN_SERVER}, which the "
            "generated score.py does not support; add a newer azureml-defaults (1.44 or later) or "
            f"{SERVER}>=0.7 to environment.extra_pip")
        return report
    if python is not None and not any(supports(v, python) for v in candidates):
        spans = sorted({"{} (Python {}-{})".format(_series(v), *pythons_of(v)) for v in candidates if pythons_of(v)})
        report.problems.append(
            f"Python {python} is not supported by any server release that {report.server} allows "
            f"(series {', '.join(spans)}); set environment.python_version to one of those Pythons, "
            "or pin a server release for it in environment.extra_pip")
    return report
