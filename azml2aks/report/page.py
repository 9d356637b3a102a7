"""The report as one self-contained HTML page. PURE (view and SVG strings in, text out).

No script, no stylesheet link, no font or image fetched: the CSS is inline and the plots are
inline SVG, so the file opens from a pipeline artifact with no network. Every value from the
journal is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from azml2aks.report.view import number, split_text

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
     color:#222;padding:0 1rem;line-height:1.4}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.9rem}
.verdict{padding:.8rem 1rem;border-radius:6px;margin:1rem 0;font-size:1.05rem}
.ok{background:#e6f4ea;border-left:6px solid #1a9850} .bad{background:#fdecea;border-left:6px solid #d73027}
.info{background:#eef3fb;border-left:6px solid #4575b4}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5} tr.chosen td{background:#fff7d6;font-weight:600}
code{font-size:.85em;background:#f3f3f3;padding:0 .2em;border-radius:3px}
.pass{color:#1a7f37}.fail{color:#c62828;font-weight:600}.inconclusive,.re-measured{color:#b35c00}
.skipped,.planned{color:#888}
.gate{display:inline-block;margin-right:.6rem;white-space:nowrap}
.plot svg{max-width:100%;height:auto} pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.8rem}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{_e(classes[i])}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _status(status: str | None) -> str:
    return f'<span class="{_e(status or "")}">{_e(status or "-")}</span>'


def _gate(g: dict[str, Any]) -> str:
    figure = _e(number(g.get("value")))
    if g.get("threshold") is not None:
        figure += f" {_e(g['op'])} {_e(number(g['threshold']))}"
    return f'<span class="gate">{_e(g["gate"])} {figure} {_status(g.get("status"))}</span>'


def _plot(svg: str | None, what: str) -> str:
    if svg:
        return f'<div class="plot">{svg}</div>'
    return f'<p class="meta">({_e(what)}: no plot — nothing recorded, or matplotlib is not installed)</p>'


def _train(train: dict[str, Any], svg: str | None) -> str:
    out = [f"<h2>AutoML leaderboard — job <code>{_e(train['job_name'])}</code> ({_e(train['status'])})</h2>"
           + ("" if train["trained_here"] else "<p class=\"meta\">trained in an earlier run; registered in this one</p>")]
    if not train["trials"]:
        return out[0] + f"<p>Trials: {_e(train['note'])}.</p>"
    direction = "higher" if train["higher_is_better"] else "lower"
    out.append(f"<p>{len(train['trials'])} trials ranked by <b>{_e(train['primary_metric'])}</b> "
               f"({direction} is better); the registered trial is highlighted.</p>")
    out.append(_plot(svg, "leaderboard"))
    rows = [[_e(t["rank"]), _e(t["trial"]), _e(t["algorithm"]) + (" ★ chosen" if t["chosen"] else ""),
             _e(number(t["metric_value"])), _e(number(t["duration_seconds"], 3)), f"<code>{_e(t['run_id'])}</code>"]
            for t in train["trials"]]
    out.append(_table(["rank", "trial", "algorithm", train["primary_metric"], "duration (s)", "child run"], rows,
                      ["chosen" if t["chosen"] else "" for t in train["trials"]]))
    return "".join(out)


def _model(model: dict[str, Any]) -> str:
    aliases = f" (aliases: {_e(', '.join(model['aliases']))})" if model["aliases"] else ""
    rows = [[_e(k), f"<code>{_e(v)}</code>"] for k, v in sorted(model["lineage"].items())]
    rows += [[_e(k), f"<code>{_e(v)}</code>"] for k, v in sorted(model["tags"].items())]
    return (f"<h2>Registered model <code>{_e(model['ref'])}</code>{aliases}</h2>"
            f"<p>{_e(model['metric_name'])} = {_e(number(model['metric_value']))}, from child run "
            f"<code>{_e(model['run_id'])}</code> of job <code>{_e(model['job_name'])}</code>; source "
            f"<code>{_e(model['source'])}</code>.</p>" + _table(["lineage tag", "value"], rows))


def _package(package: dict[str, Any]) -> str:
    c = package["contract"]
    reused = "reused (same fingerprint)" if package["environment_reused"] else "registered"
    out = [f"<h2>Package of <code>{_e(package['model'])}</code></h2>",
           f"<p>Environment <code>{_e(package['environment'])}</code> {reused}; fingerprint "
           f"<code>{_e(package['fingerprint'])}</code>; files {_e(', '.join(package['files']))}.</p>"]
    if c.get("ran"):
        verdict = "passed" if c.get("passed") else "FAILED"
        out.append(f"<p>Contract test <b>{verdict}</b>: {_e(c.get('rows'))} rows ({_e(c.get('method'))}) scored over "
                   "HTTP by the inference server.</p><ul>"
                   + "".join(f"<li>{_e(check)}</li>" for check in c.get("checks") or []) + "</ul>")
    else:
        out.append(f"<p>Contract test not run: {_e(c.get('skipped') or 'skipped (--no-contract)')}.</p>")
    if package["conflicts"]:
        out.append("<p>Pins resolved: " + _e("; ".join(package["conflicts"])) + "</p>")
    return "".join(out)


def _rollout(rollout: dict[str, Any], ladder: str | None, latency: str | None) -> str:
    if rollout["state"] == "running":
        return "<h2>Rollout</h2><p>The deploy stage started and did not finish.</p>"
    out = [f"<h2>Rollout of {_e(rollout['colour'])} on endpoint <code>{_e(rollout['endpoint'])}</code></h2>",
           f"<p>Live before: {_e(rollout['previous'] or 'none')}; model {_e(rollout.get('model') or '-')}; "
           f"final traffic <b>{_e(split_text(rollout['traffic']))}</b>"
           + (f"; scoring URI <code>{_e(rollout['scoring_uri'])}</code>" if rollout.get("scoring_uri") else "")
           + ".</p>"]
    if rollout["steps"]:
        out.append("<h3>Traffic ladder</h3>" + _plot(ladder, "ladder"))
        out.append("<h3>Latency per colour</h3>" + _plot(latency, "latency"))
        out.append("<h3>Timeline</h3>")
        rows = []
        for s in rollout["steps"]:
            latency_cell = "<br>".join(f"{_e(c)}: p50 {_e(number(st.get('p50_ms'), 3))} ms, p99 "
                                       f"{_e(number(st.get('p99_ms'), 3))} ms ({_e(st.get('samples'))} answers, "
                                       f"{_e(st.get('errors'))} errors)" for c, st in s["colours"].items())
            details = [f"{_e(k)}={_e(number(v) if not isinstance(v, (dict, list)) else v)}" for k, v in s["extras"].items()]
            if s.get("note"):
                details.append(_e(s["note"]))
            rows.append([_e(number(s["at_seconds"], 3)), _e(s["label"]), _e(split_text(s["traffic"])),
                         _status(s["shown_verdict"]), " ".join(_gate(g) for g in s["gates"]) or "-",
                         latency_cell or "-", _e(number(s["agreement"])), _e(number(s["metric"])),
                         "<br>".join(details) or "-"])
        out.append(_table(["at (s)", "round", "traffic", "verdict", "gates (value vs threshold)", "latency",
                           "agreement", "online metric", "details"], rows))
    if rollout.get("log_tail"):
        out.append(f"<h3>Last lines of {_e(rollout['colour'])}'s log</h3><pre>{_e(rollout['log_tail'])}</pre>")
    if rollout.get("error") and rollout["error"].get("hint"):
        out.append(f"<p>Next step: {_e(rollout['error']['hint'])}</p>")
    return "".join(out)


def render_html(view: dict[str, Any], plots: dict[str, str | None]) -> str:
    """The whole page; ``plots`` maps leaderboard / ladder / latency to SVG text (or None)."""
    verdict = view["verdict"]
    cls = {True: "ok", False: "bad"}.get(verdict["ok"], "info")
    stages = _table(["stage", "state", "started", "finished", "what happened"],
                    [[_e(s["stage"]), _status(s["state"]), _e(s.get("started") or "-"), _e(s.get("finished") or "-"),
                      _e(s["summary"])] for s in view["stages"]])
    body = [f"<h1>azml2aks run {_e(view['run_id'])}</h1>",
            f"<p class=\"meta\">pipeline <code>{_e(view['pipeline'])}</code> · backend {_e(view['backend'])} · "
            f"started {_e(view.get('started') or '-')}</p>",
            f"<div class=\"verdict {cls}\"><b>{_e(verdict['result'])}</b> — {_e(verdict['reason'])}</div>",
            "<h2>Stages</h2>", stages]
    if view.get("train"):
        body.append(_train(view["train"], plots.get("leaderboard")))
    if view.get("model"):
        body.append(_model(view["model"]))
    if view.get("package"):
        body.append(_package(view["package"]))
    if view.get("rollout"):
        body.append(_rollout(view["rollout"], plots.get("ladder"), plots.get("latency")))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>azml2aks run {_e(view['run_id'])}: {_e(verdict['result'])}</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
