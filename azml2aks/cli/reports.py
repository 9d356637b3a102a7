"""The verbs that look back at runs: ``runs`` (each run's stages) and ``report`` (HTML +
Markdown of one run), and the report ``run`` and ``deploy`` write when they end."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from azml2aks.cli.output import ci_of, open_pipeline
from azml2aks.cli.registry import command
from azml2aks.errors import Azml2aksError


def add_report_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-report", action="store_true",
                   help="do not write the run's report (report.html + report.md beside its journal)")


def publish_report(args: argparse.Namespace, written: dict) -> None:
    """Say where the report is and put its Markdown on the CI run's summary page."""
    if not getattr(args, "quiet", False):
        print(f"report: {written['html']} (summary: {written['markdown']})", file=sys.stderr)
    ci_of(args).upload_summary(Path(written["markdown"]))


@contextlib.contextmanager
def reporting(args: argparse.Namespace, pipeline):
    """Write the report of ``pipeline``'s run when the verb ends, whether it succeeded or not
    (an aborted rollout's report is the one a reviewer needs most). A failure to write it is a
    warning and never hides the verb's own outcome."""
    try:
        yield
    finally:
        if not args.no_report and not getattr(args, "dry_run", False) and pipeline.journal.saved:
            try:
                publish_report(args, pipeline.report(pipeline.journal.run_id))
            except (Azml2aksError, OSError) as e:
                import logging

                logging.getLogger(__name__).warning("the run's report was not written: %s", e)
                print(f"{ci_of(args).warning_prefix()}the run's report was not written: {e}", file=sys.stderr)


def _runs_render(runs: list[dict]) -> str:
    if not runs:
        return "no runs in the work dir yet (azml2aks run PIPELINE starts one)"
    lines = []
    for r in runs:
        latest = " (latest)" if r["latest"] else ""
        lines.append(f"{r['run_id']}{latest}  {r['backend']}  started {r.get('started') or '-'}")
        for name, s in r["stages"].items():
            lines.append(f"  {name:<9} {s['state']:<8} {s['summary']}")
    return "\n".join(lines)


@command("runs", help="List the runs in the work dir with each stage's state and result.",
         example="azml2aks runs examples/wine-classification/pipeline.yaml --output json", render=_runs_render)
def cmd_runs(args):
    return open_pipeline(args).runs()


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", metavar="ID", help="run id (default: the latest run; see `azml2aks runs`)")
    p.add_argument("--dir", metavar="DIR", help="write the files here (default: beside the run's journal)")


def _report_render(d: dict) -> str:
    note = "" if d.get("plots") else "\n  (no plots: matplotlib is not installed)"
    return (f"report of run {d['run_id']}: {d['result']} — {d['reason']}\n"
            f"  html:     {d['html']}\n  markdown: {d['markdown']}{note}")


@command("report", help="Write a run's report: a self-contained HTML file with plots and a Markdown summary.",
         example="azml2aks report examples/wine-classification/pipeline.yaml --run 20260101-120000-ab12",
         configure=_report_args, render=_report_render)
def cmd_report(args):
    written = open_pipeline(args).report(args.run, directory=args.dir)
    ci_of(args).upload_summary(Path(written["markdown"]))
    return written
