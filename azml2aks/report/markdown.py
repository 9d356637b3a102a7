"""The report as Markdown: the summary CI shows on the run's page. PURE (view in, text out).

Azure DevOps renders it from ``##vso[task.uploadsummary]``, GitHub Actions from
``$GITHUB_STEP_SUMMARY``; both take GitHub-flavoured tables. Plots stay in the HTML file.
"""

from __future__ import annotations

from typing import Any

from azml2aks.report.view import number, split_text

ICONS = {"pass": "✅", "fail": "❌", "inconclusive": "⏸️", "re-measured": "🔁", "skipped": "➖", "planned": "·"}
STATE_ICONS = {"done": "✅", "failed": "❌", "running": "⏳"}


def cell(value: Any) -> str:
    """A table cell: pipes escaped, newlines as spaces."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def gate_text(g: dict[str, Any]) -> str:
    icon = ICONS.get(g.get("status"), g.get("status") or "")
    if g.get("threshold") is None:
        return f"{g['gate']} {number(g.get('value'))} {icon}"
    return f"{g['gate']} {number(g.get('value'))} {g['op']} {number(g.get('threshold'))} {icon}"


def latency_text(colours: dict[str, dict]) -> str:
    return "; ".join(f"{c} {number(s.get('p50_ms'), 3)}/{number(s.get('p99_ms'), 3)} ms" for c, s in colours.items())


def extras_text(step: dict[str, Any]) -> str:
    parts = [f"{k}={number(v) if not isinstance(v, (dict, list)) else v}" for k, v in step["extras"].items()]
    if step.get("note"):
        parts.append(step["note"])
    return ", ".join(parts)


def render_markdown(view: dict[str, Any], *, html_name: str | None = None) -> str:
    verdict = view["verdict"]
    icon = {True: "✅", False: "❌"}.get(verdict["ok"], "ℹ️")
    out = [f"## azml2aks run {view['run_id']}: {icon} {verdict['result']}", "",
           f"**Verdict:** {verdict['result']} — {verdict['reason']}", "",
           f"Pipeline `{view['pipeline']}` on the **{view['backend']}** backend, started {view.get('started') or '-'}."
           + (f" Full report with plots: `{html_name}` (published with the run's artifacts)." if html_name else ""), ""]
    out += ["### Stages", ""]
    out += table(["stage", "state", "finished", "what happened"],
                 [[s["stage"], f"{STATE_ICONS.get(s['state'], '')} {s['state']}", s.get("finished") or "-", s["summary"]]
                  for s in view["stages"]])

    train = view.get("train")
    if train:
        out += [f"### AutoML leaderboard — job `{train['job_name']}` ({train['status']})", ""]
        if not train["trained_here"]:
            out += ["(trained in an earlier run; registered in this one)", ""]
        if train["trials"]:
            direction = "higher" if train["higher_is_better"] else "lower"
            out += [f"{len(train['trials'])} trials ranked by {train['primary_metric']} ({direction} is better); "
                    "the registered trial is marked ⭐.", ""]
            out += table(["rank", "trial", "algorithm", train["primary_metric"], "duration (s)", "child run"],
                         [[t["rank"], t["trial"], t["algorithm"] + (" ⭐" if t["chosen"] else ""),
                           number(t["metric_value"]), number(t["duration_seconds"], 3), f"`{t['run_id']}`"]
                          for t in train["trials"]])
        else:
            out += [f"Trials: {train['note']}.", ""]

    model = view.get("model")
    if model:
        aliases = f" (aliases: {', '.join(model['aliases'])})" if model["aliases"] else ""
        out += [f"### Registered model `{model['ref']}`{aliases}", "",
                f"{model['metric_name']} = {number(model['metric_value'])}, from child run `{model['run_id']}` "
                f"of job `{model['job_name']}`.", ""]
        out += table(["lineage", "value"], [[k, f"`{v}`"] for k, v in sorted(model["lineage"].items())])

    package = view.get("package")
    if package:
        c = package["contract"]
        reused = "reused (same fingerprint)" if package["environment_reused"] else "registered"
        out += [f"### Package of `{package['model']}`", "",
                f"Environment `{package['environment']}` {reused}; fingerprint `{(package['fingerprint'] or '')[:12]}`.", ""]
        if c.get("ran"):
            out += [f"Contract test {'passed' if c.get('passed') else 'FAILED'}: {c.get('rows')} rows "
                    f"({c.get('method')}) scored over HTTP by the inference server.", ""]
            out += [f"- {check}" for check in c.get("checks") or []] + [""]
        else:
            out += [f"Contract test not run: {c.get('skipped') or 'skipped (`--no-contract`)'}.", ""]

    rollout = view.get("rollout")
    if rollout and rollout.get("steps") is not None and rollout["state"] != "running":
        out += [f"### Rollout of {rollout['colour']} on endpoint `{rollout['endpoint']}` "
                f"(live before: {rollout['previous'] or 'none'})", ""]
        if rollout["steps"]:
            out += table(["at (s)", "round", "traffic", "verdict", "gates (value vs threshold)",
                          "latency p50/p99 per colour", "details"],
                         [[number(s["at_seconds"], 3), s["label"], split_text(s["traffic"]),
                           f"{ICONS.get(s['shown_verdict'], '')} {s['shown_verdict']}",
                           ", ".join(gate_text(g) for g in s["gates"]), latency_text(s["colours"]) or "-",
                           extras_text(s) or "-"] for s in rollout["steps"]])
        out += [f"Final traffic: {split_text(rollout['traffic'])}."
                + (f" Scoring URI: {rollout['scoring_uri']}" if rollout.get("scoring_uri") else ""), ""]
        if rollout.get("log_tail"):
            out += [f"<details><summary>last lines of {rollout['colour']}'s log</summary>", "", "```",
                    rollout["log_tail"].rstrip(), "```", "</details>", ""]
    return "\n".join(out).rstrip() + "\n"
