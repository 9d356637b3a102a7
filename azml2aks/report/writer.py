"""Writes a run's report: ``report.html`` (self-contained, with plots) and ``report.md`` (the CI
summary), next to the run's journal unless told where. The only I/O of the report; the
rendering is :func:`render`, pure."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from azml2aks.journal import Journal
from azml2aks.report import plots as P
from azml2aks.report.markdown import render_markdown
from azml2aks.report.page import render_html
from azml2aks.report.view import build_view

logger = logging.getLogger(__name__)

HTML_NAME, MARKDOWN_NAME = "report.html", "report.md"


def _p99_ceiling(steps: list[dict[str, Any]]) -> float | None:
    for step in steps:
        for gate in step["gates"]:
            if gate["gate"] == "p99_ms" and gate.get("threshold") is not None:
                return gate["threshold"]
    return None


def render(data: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """A journal's data → (HTML, Markdown, the view they show). PURE."""
    view = build_view(data)
    train, rollout = view.get("train"), view.get("rollout") or {}
    steps = rollout.get("steps") or []
    figures = {
        "leaderboard": P.leaderboard_svg(train["trials"], train["primary_metric"]) if train else None,
        "ladder": P.ladder_svg(steps, rollout.get("colour")),
        "latency": P.latency_svg(steps, _p99_ceiling(steps)),
    }
    return render_html(view, figures), render_markdown(view, html_name=HTML_NAME), view


def write_report(journal: Journal, directory: Path | None = None) -> dict[str, Any]:
    """Render ``journal``'s run and write both files (atomically); return their paths and the verdict."""
    html, markdown, view = render(journal.data)
    folder = Path(directory) if directory else journal.path.parent
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in ((HTML_NAME, html), (MARKDOWN_NAME, markdown)):
        target = folder / name
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        paths[name] = str(target)
    logger.info("report of run %s written to %s", journal.run_id, folder)
    return {"run_id": journal.run_id, "html": paths[HTML_NAME], "markdown": paths[MARKDOWN_NAME],
            "result": view["verdict"]["result"], "reason": view["verdict"]["reason"],
            "plots": P.available()}
