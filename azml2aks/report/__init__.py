"""The run report: what one run did, for a reviewer, as a self-contained HTML file and a Markdown
summary (the one CI shows on the run's summary page).

Everything it shows was recorded in the run journal while the run happened; nothing is asked
of a backend again. The modules split pure from I/O:

- :mod:`.view` turns a journal into the report's facts (leaderboard, model and lineage, the
  package's contract test, the rollout timeline, the verdict with its reason) — PURE;
- :mod:`.plots` draws them as inline SVG with matplotlib (Agg, imported lazily) — PURE;
- :mod:`.markdown` and :mod:`.page` render the facts as Markdown and as HTML — PURE;
- :mod:`.writer` writes ``report.html`` and ``report.md`` beside the journal — the only I/O.
"""

from __future__ import annotations

from azml2aks.report.view import build_view

__all__ = ["build_view"]
