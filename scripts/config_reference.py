"""Render the pipeline.yaml reference (README.md) from the pydantic models.

    python scripts/config_reference.py          # rewrite the block in README.md
    python scripts/config_reference.py --check  # exit 1 when README.md is stale (a test runs this)
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from azml2aks.config import PipelineConfig

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- reference:start -->", "<!-- reference:end -->"


def _type(annotation) -> str:
    text = str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace("azml2aks.config.model.", "").replace("azml2aks.config.automl.", "").replace("azml2aks.config.", "").replace("NoneType", "None").replace("|", "\\|")


def _default(field) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()
    else:
        return "**required**"
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{value!r}`" if value not in (None, {}, []) else ("—" if value is None else f"`{value!r}`")


def _sub_model(annotation):
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def render_model(model: type[BaseModel], prefix: str, out: list[str]) -> None:
    rows, nested = [], []
    for name, field in model.model_fields.items():
        key = field.alias or name
        sub = _sub_model(field.annotation)
        if sub is not None and sub.__name__ not in ("DataInput",):
            nested.append((f"{prefix}.{key}", sub))
            continue
        rows.append(f"| `{key}` | {_type(field.annotation)} | {_default(field)} | {field.description or ''} |")
    if rows:
        doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        out += [f"#### `{prefix}`", "", doc, "", "| key | type | default | meaning |", "|---|---|---|---|", *rows, ""]
    for path, sub in nested:
        render_model(sub, path, out)


def render() -> str:
    out: list[str] = []
    for name, field in PipelineConfig.model_fields.items():
        render_model(_sub_model(field.annotation), name, out)
    return "\n".join(out).replace("\n\n\n", "\n\n")


def main(argv: list[str]) -> int:
    text = README.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    fresh = f"{head}{START}\n{render()}\n{END}{tail}"
    if "--check" in argv:
        if fresh != text:
            print("README.md's pipeline.yaml reference is stale: run python scripts/config_reference.py")
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
