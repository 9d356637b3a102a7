"""The official Azure REST example bodies (tests/fakes/examples/, copies of azure-rest-api-specs
files), loaded for serving VERBATIM through ``fake.serve``: only what our request must match is
substituted (resource ids and names, a placeholder ``nextLink``), each substitution spelled out
at the call site."""
from __future__ import annotations

import copy
import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "fakes" / "examples"


def body(rel: str, status: str = "200") -> dict:
    """The example's response body for ``status``, as stored."""
    return copy.deepcopy(json.loads((EXAMPLES / rel).read_text())["responses"][status]["body"])


def headers(rel: str, status: str = "200") -> dict:
    """The example's response headers for ``status``, as stored."""
    return dict(json.loads((EXAMPLES / rel).read_text())["responses"][status].get("headers") or {})


def named(rel: str, resource_id: str, status: str = "200") -> dict:
    """The body with ``id`` and ``name`` set to ``resource_id`` and its last segment."""
    answer = body(rel, status)
    answer["id"], answer["name"] = resource_id, resource_id.rsplit("/", 1)[1]
    return answer


def page(rel: str, ids: list[str], *, next_link: str | None = None) -> dict:
    """A list example (``{"value": [...], "nextLink": ...}``): item i gets ``ids[i]`` as id and
    name (items beyond ``ids`` are dropped); the placeholder nextLink becomes ``next_link``."""
    answer = body(rel)
    items = answer["value"][: len(ids)]
    for item, rid in zip(items, ids, strict=True):
        item["id"], item["name"] = rid, rid.rsplit("/", 1)[1]
    answer["value"] = items
    answer["nextLink"] = next_link
    return answer
