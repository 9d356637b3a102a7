"""Reading pipeline.yaml: YAML with line numbers, ``${VAR}`` interpolation, and validation errors
that name the file, the YAML path and line, and the closest valid key.

``load_config(path)`` is the only entry point; everything it raises is a :class:`ConfigError`.
"""

from __future__ import annotations

import os
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from azml2aks.config.model import PipelineConfig
from azml2aks.errors import ConfigError
from azml2aks.metrics import closest

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Loc = tuple[Any, ...]


def _compose(text: str, source: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML into plain data plus a map from each path to its 1-based line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(
            f"{where}: YAML syntax error: {problem}",
            hint="check indentation and that every 'key: value' has a space after the colon",
        ) from None
    lines: dict[Loc, int] = {}

    def walk(n: yaml.Node | None, loc: Loc) -> Any:
        if n is None:
            return None
        lines.setdefault(loc, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for k, v in n.value:
                key = k.value
                if key in out:
                    first = lines[loc + (key,)]
                    raise ConfigError(
                        f"{source}:{k.start_mark.line + 1}: {_dotted(loc + (key,))} is given twice "
                        f"(lines {first} and {k.start_mark.line + 1}); YAML would keep only the last",
                        hint="delete or merge one of the two")
                lines[loc + (key,)] = k.start_mark.line + 1
                out[key] = walk(v, loc + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [walk(v, loc + (i,)) for i, v in enumerate(n.value)]
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(n, deep=True)
        finally:
            loader.dispose()

    return walk(node, ()), lines


def _interpolate(data: Any, lines: dict[Loc, int], source: str, env: dict[str, str], loc: Loc = ()) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string; an undefined VAR is an error."""
    if isinstance(data, dict):
        return {k: _interpolate(v, lines, source, env, loc + (k,)) for k, v in data.items()}
    if isinstance(data, list):
        return [_interpolate(v, lines, source, env, loc + (i,)) for i, v in enumerate(data)]
    if not isinstance(data, str) or "${" not in data:
        return data

    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(
            f"{_where(source, lines, loc)}: {_dotted(loc)} uses ${{{name}}}, which is not set",
            hint=f"export {name}=... (in Azure DevOps, define a pipeline variable), "
            f"or give a default: ${{{name}:-value}}",
        )

    value = _VAR.sub(sub, data)
    if value != data and _VAR.fullmatch(data):
        # a whole-value substitution is typed as YAML would ("3" -> 3, "true" -> True,
        # "[LightGBM, RandomForest]" -> a list), so a CI variable can carry any value
        try:
            typed = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        return typed if isinstance(typed, (int, float, bool, list)) else value
    return value


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _where(source: str, lines: dict[Loc, int], loc: Loc) -> str:
    for i in range(len(loc), -1, -1):
        if loc[:i] in lines:
            return f"{source}:{lines[loc[:i]]}"
    return source


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at ``loc``'s parent."""
    model: Any = PipelineConfig
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        model = _unwrap_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap_model(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return annotation


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _real_loc(raw: Loc, data: Any) -> Loc:
    """``raw`` without the union members and validator names pydantic inserts: keep each part
    that is a key or index of the data at that point (so an upper-case key such as WORKERS stays)."""
    loc: list = []
    node = data
    for part in raw:
        if isinstance(node, dict) and part in node:
            loc.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            loc.append(part)
            node = node[part]
        elif not (isinstance(part, int) or _looks_like_type(part)):
            loc.append(part)  # a key the data lacks (missing / extra): still the user's name
            node = None
    return tuple(loc)


def _explain(error: dict, source: str, lines: dict[Loc, int], data: Any) -> list[str]:
    loc = _real_loc(error["loc"], data)
    kind = error["type"]
    if kind == "azml2aks_problems":  # several problems found by one validator, each at its own path
        return [f"{_where(source, lines, loc + tuple(sub))}: {_dotted(loc + tuple(sub))}: {message}"
                for sub, message in error["ctx"]["problems"]]
    return [_explain_one(error, kind, loc, source, lines)]


def _explain_one(error: dict, kind: str, loc: Loc, source: str, lines: dict[Loc, int]) -> str:
    where = _where(source, lines, loc)
    if kind == "extra_forbidden":
        model = _model_at(loc)
        known = _field_names(model) if model else []
        near = closest(str(loc[-1]), known)
        tip = f"did you mean {near!r}?" if near else f"valid keys here: {', '.join(known)}"
        return f"{where}: unknown key {_dotted(loc)!s} ({tip})"
    if kind == "missing":
        return f"{where}: {_dotted(loc)} is required"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {_dotted(loc)}: {message}"


def _looks_like_type(part: Any) -> bool:
    text = str(part)
    return text in {"str", "int", "float", "bool"} or text.startswith(("literal[", "list[", "dict[", "function-")) or (
        text[:1].isupper() and text not in {"AUC_weighted"}
    )


def parse_config(text: str, *, source: str = "pipeline.yaml", env: dict[str, str] | None = None) -> PipelineConfig:
    """Validate pipeline.yaml ``text``; raise :class:`ConfigError` listing every problem."""
    data, lines = _compose(text, source)
    if data is None:
        raise ConfigError(f"{source}: the file is empty", hint="start from examples/wine-classification/pipeline.yaml")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections (automl:, endpoint:, ...)")
    data = _interpolate(data, lines, source, dict(os.environ) if env is None else env)
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as e:
        problems = [line for err in e.errors() for line in _explain(err, source, lines, data)]
        problems = list(dict.fromkeys(problems))
        head = problems[0] if len(problems) == 1 else f"{source}: {len(problems)} problems:\n  " + "\n  ".join(problems)
        raise ConfigError(head, hint="see `azml2aks schema` or the pipeline.yaml reference in README.md") from None


def load_config(path: str | os.PathLike, *, env: dict[str, str] | None = None) -> PipelineConfig:
    """Read and validate a pipeline.yaml file."""
    p = Path(path)
    if p.is_dir():
        inside = next((p / n for n in ("pipeline.yaml", "pipeline.yml") if (p / n).is_file()), None)
        raise ConfigError(f"{p} is a folder, not a pipeline.yaml file",
                          hint=f"pass {inside}" if inside else "pass the path of your pipeline.yaml file")
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file", hint="pass the path of your pipeline.yaml") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read it: {e.strerror or e}", hint="check the path and its permissions") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p} is not a UTF-8 text file (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                          "is it the right file?", hint="pass the path of your pipeline.yaml") from None
    if "\x00" in text:
        raise ConfigError(f"{p} is a binary file, not YAML", hint="pass the path of your pipeline.yaml") from None
    return parse_config(text, source=str(p), env=env)
