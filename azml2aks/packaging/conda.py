"""Builds the inference environment's conda.yaml and its fingerprint.

Pure: reads only ``base.yaml`` from the package data ``azml2aks._environments`` (the
repository's ``environments/`` folder). The model's own environment comes in as text (its
MLflow ``conda.yaml`` and/or ``requirements.txt``). Merge rules, in rising precedence
base < model < extra_pip, are in ``environments/README.md``; each disagreement that is not a
pin the other side allows is returned as a conflict line, never silently dropped. The
inference server comes from the model when it brings one, else from
:mod:`azml2aks.packaging.constraints`; a package is listed once across conda and pip.
:func:`requirements` turns a conda.yaml into pip requirements for the checks and the resolver.
:mod:`azml2aks.packaging.render` re-exports the public functions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

import yaml

from azml2aks.errors import DataError
from azml2aks.packaging.constraints import DEFAULTS, SERVER, Requirement, server_for_python

ENVIRONMENTS_PACKAGE = "azml2aks._environments"
_PIP_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_CONDA_NAME = re.compile(r"^\s*(?:[\w.-]+::)?([A-Za-z0-9_][A-Za-z0-9._-]*)\s*(.*)$")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Spec:
    """One requirement line split into a merge key, a specifier and its source."""

    def __init__(self, line: str, source: str, *, conda: bool) -> None:
        self.line, self.source = line.strip(), source
        match = (_CONDA_NAME if conda else _PIP_NAME).match(self.line)
        if not match or (not conda and self.line.startswith("-")) or "://" in self.line:
            self.key, self.spec = None, self.line  # an option or URL: kept verbatim, unmerged
            return
        self.key = _normalise(match.group(1))
        rest = match.group(2) if conda else match.group(3)
        self.spec = rest.strip() if conda else rest.split(";")[0].strip()

    @property
    def pinned(self) -> bool:
        return bool(self.spec)


def _allows(specifier: str, pin: str) -> bool:
    """True when the exact pin ``==V`` satisfies ``specifier`` (PEP 440, if packaging exists)."""
    if not pin.startswith("==") or "*" in pin:
        return False
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:  # pragma: no cover - packaging ships with pip-based installs
        return False
    try:
        return SpecifierSet(specifier).contains(pin[2:].strip(), prereleases=True)
    except InvalidSpecifier:
        return False


def _merge(layers: Sequence[list[_Spec]], kind: str, conflicts: list[str]) -> list[_Spec]:
    """Merge requirement layers listed from lowest to highest precedence."""
    merged: dict[str, _Spec] = {}
    verbatim: list[_Spec] = []
    for layer in layers:
        for new in layer:
            if new.key is None:
                if all(v.line != new.line for v in verbatim):
                    verbatim.append(new)
                continue
            old = merged.get(new.key)
            if old is None or old.spec == new.spec or not old.pinned:
                merged[new.key] = new
            elif not new.pinned:
                continue  # pins are kept
            elif _allows(new.spec, old.spec):
                continue  # the lower layer's exact pin fits the higher one's range
            elif _allows(old.spec, new.spec):
                merged[new.key] = new
            else:
                conflicts.append(
                    f"{kind} {new.key}: {old.source} wants {old.spec}, {new.source} wants {new.spec}; "
                    f"kept {new.spec} ({new.source})"
                )
                merged[new.key] = new
    return [*merged.values(), *verbatim]


def _python_version(conda: dict[str, Any]) -> str | None:
    for dep in conda.get("dependencies") or []:
        if isinstance(dep, str):
            match = re.match(r"^\s*python\s*=+\s*([0-9][0-9.]*)\s*$", dep)
            if match:
                return match.group(1)
    return None


def _load_yaml(text: str, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise DataError(f"{what} is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise DataError(f"{what} is not a conda environment mapping (name, channels, dependencies)")
    return data


def _split_deps(conda: dict[str, Any], source: str) -> tuple[list[_Spec], list[_Spec]]:
    conda_specs, pip_specs = [], []
    for dep in conda.get("dependencies") or []:
        if isinstance(dep, str):
            conda_specs.append(_Spec(dep, source, conda=True))
        elif isinstance(dep, dict) and "pip" in dep:
            pip_specs += [_Spec(str(p), source, conda=False) for p in dep["pip"] or []]
    return conda_specs, pip_specs


def _requirements(text: str, source: str) -> list[_Spec]:
    lines = (line.split(" #")[0].strip() for line in text.splitlines())
    return [_Spec(line, source, conda=False) for line in lines if line and not line.startswith("#")]


def build_conda(
    *,
    model_conda: str | None = None,
    model_requirements: str | None = None,
    python_version: str | None = None,
    mlflow_version: str | None = None,
    extra_pip: Sequence[str] = (),
    name: str = "azml2aks-inference",
    base: str = "base.yaml",
) -> tuple[str, tuple[str, ...]]:
    """The inference conda.yaml text and the conflicts found while merging.

    ``model_conda`` / ``model_requirements`` are the model's files as text (MLflow writes
    both; pip entries of conda.yaml win when both are given). ``python_version`` overrides the
    model's own Python version (a difference is reported as a conflict). ``mlflow_version``
    (the MLmodel's) pins the base's ``mlflow-skinny`` when the model names no MLflow itself.
    The inference server comes from the model when it brings one (directly or through
    ``azureml-defaults``); otherwise a release that supports the Python is added. A package
    is listed once: in the conda list, or in the pip list when pip pins it.
    """
    if model_conda is None and model_requirements is None:
        raise DataError(
            "the model's environment is unknown: neither conda.yaml nor requirements.txt was given",
            hint="re-save the model with mlflow.<flavor>.save_model(..., pip_requirements=[...])",
        )
    conflicts: list[str] = []
    base_env = _load_yaml(resources.files(ENVIRONMENTS_PACKAGE).joinpath(base).read_text("utf-8"), base)
    base_conda, base_pip = _split_deps(base_env, "base")
    model_env = _load_yaml(model_conda, "the model's conda.yaml") if model_conda is not None else {}
    model_conda_specs, model_pip = _split_deps(model_env, "model")
    if model_requirements is not None:
        req = _requirements(model_requirements, "model")
        model_pip = _merge([req, model_pip], "pip", conflicts) if model_pip else req

    model_python = _python_version(model_env)
    python = python_version or model_python
    if python_version and model_python and python_version != model_python:
        conflicts.append(
            f"conda python: model was saved with {model_python}, environment.python_version wants "
            f"{python_version}; kept {python_version} (environment.python_version)"
        )
    model_conda_specs = [s for s in model_conda_specs if s.key != "python"]
    base_conda = [s for s in base_conda if s.key != "python"]
    model_keys = {s.key for s in [*model_pip, *model_conda_specs]}
    if model_keys & {"mlflow", "mlflow-skinny"}:
        base_pip = [s for s in base_pip if s.key != "mlflow-skinny"]
    elif mlflow_version:
        base_pip = [_Spec(f"mlflow-skinny=={mlflow_version}", "base", conda=False) if s.key == "mlflow-skinny"
                    else s for s in base_pip]
    extra = [_Spec(p, "extra_pip", conda=False) for p in extra_pip]
    if not (model_keys | {s.key for s in extra}) & {SERVER, DEFAULTS}:
        base_pip.append(_Spec(f"{SERVER}{server_for_python(python)}", "base", conda=False))

    conda_specs = _merge([base_conda, model_conda_specs], "conda", conflicts)
    pip_specs = _merge([base_pip, model_pip, extra], "pip", conflicts)
    conda_specs, pip_specs = _once(conda_specs, pip_specs, conflicts)
    channels = list(dict.fromkeys([*(model_env.get("channels") or []), *(base_env.get("channels") or [])]))
    deps: list[Any] = [f"python={python}" if python else "python"]
    deps += sorted((s.line for s in conda_specs), key=str.lower)
    deps.append({"pip": sorted((s.line for s in pip_specs if s.key), key=str.lower)
                 + [s.line for s in pip_specs if not s.key]})
    env = {"name": name, "channels": channels, "dependencies": deps}
    return yaml.safe_dump(env, sort_keys=False, default_flow_style=False), tuple(conflicts)


def _once(conda_specs: list[_Spec], pip_specs: list[_Spec], conflicts: list[str]) -> tuple[list[_Spec], list[_Spec]]:
    """A package named in both lists keeps one entry: pip's when pip pins it (pip installs last
    and would win in the image anyway), else conda's."""
    pip_by_key = {s.key: s for s in pip_specs if s.key}
    keep_conda, drop_pip = [], set()
    for c in conda_specs:
        p = pip_by_key.get(c.key) if c.key else None
        if p is None or c.key == "pip":
            keep_conda.append(c)
        elif p.pinned:
            pip_form = _conda_to_pip(c.spec)
            if c.pinned and pip_form != p.spec and not _allows(p.spec, pip_form) and not _allows(pip_form, p.spec):
                conflicts.append(f"{c.key}: conda list has {c.line} ({c.source}), pip list has {p.line} "
                                 f"({p.source}); kept the pip entry {p.spec}")
        else:
            keep_conda.append(c)
            drop_pip.add(c.key)
    return keep_conda, [s for s in pip_specs if s.key not in drop_pip]


def _conda_to_pip(spec: str) -> str:
    """A conda version spec in pip form: ``=1.2`` and ``1.2`` mean ``==1.2.*``, build strings go."""
    spec = spec.strip().replace(" ", "")
    if not spec:
        return ""
    if spec[0].isdigit():
        spec = "=" + spec
    if spec.startswith("=") and not spec.startswith("=="):
        version = spec[1:].split("=")[0]
        return f"=={version}" if version.endswith("*") else f"=={version}.*"
    return spec


# Conda packages whose pip name differs, and conda-only packages (no pip counterpart).
CONDA_TO_PIP_NAMES = {"py-xgboost": "xgboost", "pytorch": "torch", "py-lightgbm": "lightgbm"}
CONDA_ONLY = {"pip", "python", "nomkl", "mkl", "mkl-service", "libgcc-ng", "libstdcxx-ng", "openssl",
              "ca-certificates", "cudatoolkit", "_libgcc_mutex", "_openmp_mutex"}


def requirement_name(line: str) -> str:
    """The normalised package name of a pip requirement line ('' for options and URLs)."""
    return _Spec(line, "", conda=False).key or ""


def requirements_txt(text: str) -> list[Requirement]:
    """The entries of a requirements.txt as requirements (options and URLs left out)."""
    return [Requirement(s.key, s.spec, "pip") for s in _requirements(text, "requirements.txt") if s.key]


def requirements(conda_yaml: str) -> tuple[str | None, list[Requirement]]:
    """The Python version and every package of a conda.yaml, as pip requirements.

    Conda entries become their pip form (``numpy=1.21.6`` -> ``numpy==1.21.6.*``,
    ``py-xgboost`` -> ``xgboost``); conda-only packages (``pip``, ``mkl``, ...) and pip
    options or URLs are left out.
    """
    env = _load_yaml(conda_yaml, "conda.yaml")
    conda_specs, pip_specs = _split_deps(env, "conda.yaml")
    out: list[Requirement] = []
    for s in conda_specs:
        if s.key and s.key not in CONDA_ONLY:
            out.append(Requirement(CONDA_TO_PIP_NAMES.get(s.key, s.key), _conda_to_pip(s.spec), "conda"))
    for s in pip_specs:
        if s.key:
            marker = s.line.split(";", 1)[1].strip() if ";" in s.line else ""
            extras = _PIP_NAME.match(s.line).group(2) or ""
            out.append(Requirement(s.key + extras, s.spec + (f"; {marker}" if marker else ""), "pip"))
    return _python_version(env), out


def canonical(conda_yaml: str) -> str:
    """A byte-stable form of a conda YAML: key order, list order and formatting ignored."""
    env = _load_yaml(conda_yaml, "conda.yaml")

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): norm(v) for k, v in value.items()}
        if isinstance(value, list):
            items = [norm(v) for v in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return value

    return json.dumps(norm(env), sort_keys=True, separators=(",", ":"))


def fingerprint(conda_yaml: str, image: str) -> str:
    """sha256 of the canonical conda content plus the base image: equal means reusable."""
    digest = hashlib.sha256()
    digest.update(canonical(conda_yaml).encode("utf-8"))
    digest.update(b"\n")
    digest.update(image.strip().encode("utf-8"))
    return digest.hexdigest()
