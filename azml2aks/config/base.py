"""What every pipeline.yaml section shares: the strict base class, Azure's naming rule and
the SDK's way of matching enum spellings. Pure."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from azml2aks import metrics as M

NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*[a-zA-Z0-9]$")


def check_azure_name(value: str, kind: str) -> str:
    """Azure's rule for endpoint and deployment names: 3-32 chars, letter first, no trailing dash."""
    if not 3 <= len(value) <= 32 or not NAME_RE.match(value):
        raise ValueError(
            f"{kind} name {value!r} breaks Azure's naming rule: 3-32 characters, "
            "a letter first, then letters, digits or '-', not ending with '-'"
        )
    return value


def enum_value(value: Any, allowed, what: str) -> str:
    """``value`` in Azure's spelling from ``allowed``, matched as the SDK's YAML schema does
    (``snake_case`` on both sides) or case-insensitively; else a ValueError listing the choices."""
    found = M.canonical(value, allowed) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(M.snake_case(a) for a in allowed)}")
    return found


class Section(BaseModel):
    """Base of every section: unknown keys are errors (the loader adds a 'did you mean')."""

    # defer_build: one schema for the whole tree on first validation, not one per section at import
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True, defer_build=True)
