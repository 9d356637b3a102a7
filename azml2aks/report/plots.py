"""The report's plots as inline SVG strings, drawn with matplotlib. PURE (facts in, text out).

matplotlib is imported inside each function (``--help`` and ``validate`` never pay for it) and
used without pyplot: each figure gets its own Agg canvas, so nothing global changes in the
caller's process (a notebook keeps its backend). The SVG is stripped of its XML prologue, DTD
and metadata so it can sit inside an HTML page that opens with no network. Each function
returns None when there is nothing to draw or matplotlib is not installed.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

#: Colours of the verdicts and of the deployments (colour-blind-safe palette).
VERDICT_COLOURS = {"pass": "#1a9850", "fail": "#d73027", "inconclusive": "#fdae61", "re-measured": "#f46d43",
                   "planned": "#999999"}
SERIES = ("#4575b4", "#1a9850", "#984ea3", "#ff7f00", "#a65628")
DEPLOYMENT_COLOURS = {"blue": "#4575b4", "green": "#1a9850"}


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _svg(fig) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "azml2aks"}):
        fig.savefig(buffer, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return text.strip()


def _colour_of(name: str, index: int) -> str:
    return DEPLOYMENT_COLOURS.get(name, SERIES[index % len(SERIES)])


def leaderboard_svg(trials: list[dict[str, Any]], metric: str) -> str | None:
    """The primary metric of every trial in the order they ran; the chosen one marked."""
    scored = sorted((t for t in trials if t.get("metric_value") is not None), key=lambda t: t["trial"])
    if not scored or not available():
        return None
    fig = _figure(7.5, 2.8)
    ax = fig.subplots()
    xs = [t["trial"] for t in scored]
    ys = [t["metric_value"] for t in scored]
    algorithms = sorted({t.get("algorithm") or "?" for t in scored})
    for i, algorithm in enumerate(algorithms):
        mine = [t for t in scored if (t.get("algorithm") or "?") == algorithm]
        ax.scatter([t["trial"] for t in mine], [t["metric_value"] for t in mine], s=28,
                   color=SERIES[i % len(SERIES)], label=algorithm, zorder=3)
    ax.plot(xs, ys, color="#bbbbbb", linewidth=0.8, zorder=1)
    for t in scored:
        if t.get("chosen"):
            ax.scatter([t["trial"]], [t["metric_value"]], s=160, facecolors="none", edgecolors="#d73027",
                       linewidths=2, zorder=4, label="chosen")
            ax.annotate("chosen", (t["trial"], t["metric_value"]), textcoords="offset points", xytext=(6, -12),
                        fontsize=8, color="#d73027")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return _svg(fig)


def ladder_svg(steps: list[dict[str, Any]], colour: str | None) -> str | None:
    """The new colour's share of live traffic over the rollout, each gate round a dot in its verdict's colour."""
    timed = [s for s in steps if s.get("at_seconds") is not None]
    if not timed or not colour or not available():
        return None
    fig = _figure(7.5, 2.6)
    ax = fig.subplots()
    xs = [s["at_seconds"] for s in timed]
    ys = [(s.get("traffic") or {}).get(colour, 0) for s in timed]
    ax.step(xs, ys, where="post", color=_colour_of(colour, 1), linewidth=1.5, label=f"{colour} live traffic %")
    seen = set()
    for s, x, y in zip(timed, xs, ys, strict=True):
        verdict = s.get("shown_verdict") or s.get("verdict") or "planned"
        ax.scatter([x], [y], s=40, color=VERDICT_COLOURS.get(verdict, "#666666"), zorder=3,
                   label=verdict if verdict not in seen else None)
        seen.add(verdict)
        ax.annotate(s.get("label", ""), (x, y), textcoords="offset points", xytext=(4, 6), fontsize=7)
    ax.set_ylim(-5, 110)
    ax.set_xlabel("seconds since the rollout started")
    ax.set_ylabel(f"{colour} traffic %")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return _svg(fig)


def latency_svg(steps: list[dict[str, Any]], max_p99_ms: float | None = None) -> str | None:
    """p50 and p99 latency of each colour at each gate round, with the p99 ceiling."""
    rounds = [s for s in steps if s.get("colours")]
    if not rounds or not available():
        return None
    colours: list[str] = []
    for s in rounds:
        colours += [c for c in s["colours"] if c not in colours]
    fig = _figure(7.5, 3.0)
    ax = fig.subplots()
    xs = list(range(len(rounds)))
    highest = 0.0
    for i, name in enumerate(colours):
        colour = _colour_of(name, i)
        for key, style, label in (("p99_ms", "-", "p99"), ("p50_ms", "--", "p50")):
            ys = [(s["colours"].get(name) or {}).get(key) for s in rounds]
            points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
            if points:
                highest = max(highest, *(p[1] for p in points))
                ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", markersize=4,
                        color=colour, label=f"{name} {label}")
    if max_p99_ms is not None and max_p99_ms <= 3 * highest:  # the ceiling, when it is near the figures
        ax.axhline(max_p99_ms, color="#d73027", linewidth=1, linestyle=":", label=f"max p99 {max_p99_ms:g} ms")
    elif max_p99_ms is not None:
        ax.set_title(f"p99 ceiling {max_p99_ms:g} ms (above the plot)", fontsize=8, loc="right")
    ax.set_xticks(xs, [s.get("label", str(i)) for i, s in enumerate(rounds)], rotation=20, fontsize=7, ha="right")
    ax.set_ylabel("latency (ms)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best", ncol=2)
    return _svg(fig)
