"""Output of the CLI: progress lines, results as text or JSON, errors, CI annotations and masks.

``print`` lives here and in the verbs' renderers only. Nothing secret is printed unless a verb
was asked for it (``keys``), and then it is masked in CI logs first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from azml2aks.cli import ci as ci_syntax
from azml2aks.errors import Azml2aksError
from azml2aks.events import number


def in_ci() -> str | None:
    """'azure-devops', 'github' or None: decides how errors, outputs and secrets are written."""
    return ci_syntax.detect()


def ci_of(args: argparse.Namespace | None) -> ci_syntax.CI:
    """The CI writer of this invocation (one per command, so groups open and close in pairs)."""
    found = getattr(args, "_ci", None) if args is not None else None
    if found is None:
        found = ci_syntax.CI()
        if args is not None:
            args._ci = found
    return found


def mask(secret: str, args: argparse.Namespace | None = None) -> None:
    """Tell the CI log to mask ``secret`` from now on (before anything could print it)."""
    ci_of(args).mask(secret)


def open_pipeline(args: argparse.Namespace):
    from azml2aks.pipeline import load_pipeline

    return load_pipeline(args.pipeline, backend=args.backend, workdir=args.workdir, on_event=progress_printer(args))


def progress_printer(args: argparse.Namespace) -> Callable[[dict], None]:
    """Events → one stderr line each (both output modes; stdout stays clean for JSON); each
    stage's lines sit in a collapsible group in CI."""
    quiet = getattr(args, "quiet", False)
    ci = ci_of(args)

    def emit(event: dict) -> None:
        if event.get("event") == "stage":  # outputs for later steps, even when --quiet
            if event.get("status") == "done" and isinstance(event.get("result"), dict):
                ci.publish(event["stage"], event["result"])
            elif event.get("status") == "failed" and (event.get("error") or {}).get("report"):
                ci.publish(event["stage"], event["error"]["report"])  # a rolled-back rollout's result
        if quiet:
            return
        if event.get("event") == "stage":
            if event.get("status") == "started":
                backend = f" ({event['backend']})" if event.get("backend") else ""
                ci.group(f"{event['stage']}{backend}")
            elif event.get("status") in ("done", "failed"):
                ci.end_group()
            return
        line = format_event(event, ci)
        if line:
            print(line, file=sys.stderr, flush=True)

    return emit


def format_event(event: dict, ci: ci_syntax.CI | None = None) -> str | None:
    kind = event.get("event")
    if kind == "trial":
        return (f"  trial {event['trial']:>3}  {event['algorithm']:<20} {event['metric']}={event['value']:.4f}"
                f"  best={event['best']:.4f}")
    if kind == "job" and "estimators" in event:  # the local backend's search plan
        return (f"job {event['job']} {event['status'].lower()}: trying {', '.join(event.get('estimators', []))} "
                f"for up to {event.get('time_budget_seconds', 0):.0f}s")
    if kind == "stage" and event.get("status") == "started":
        return f"== {event['stage']} ({event.get('backend', '')})"
    if kind == "warning":
        return (ci or ci_syntax.CI()).warning_prefix() + event["message"]
    if kind == "registered":
        note = " (already registered)" if event.get("reused") else ""
        alias = ", alias moved" if event.get("alias_moved") else ""
        return f"registered {event['model']}{note}{alias}"
    if "message" in event:
        return str(event["message"])
    return None


def to_jsonable(result: Any) -> Any:
    if hasattr(result, "to_dict"):
        return result.to_dict()
    if isinstance(result, list):
        return [to_jsonable(r) for r in result]
    if isinstance(result, dict):
        return {k: to_jsonable(v) for k, v in result.items()}
    return result


def render_default(result: Any) -> str:
    data = to_jsonable(result)
    if isinstance(data, dict):
        return "\n".join(f"{k}: {_short(v)}" for k, v in data.items() if v not in (None, {}, [], ()))
    if isinstance(data, list):
        return "\n".join(render_default(item) + "\n" for item in data).rstrip()
    return number(data)


def _short(value: Any) -> str:
    """A value on one line for humans: no Python ``None``, no ``1e+03``."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={_short(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, (list, tuple)):
        return ", ".join(_short(v) for v in value if v is not None)
    return number(value)


def report_error(error: Azml2aksError, args: argparse.Namespace) -> int:
    if args.output == "json":
        print(json.dumps(to_jsonable(error.to_dict()), indent=2, default=str))
    ci = ci_of(args)
    ci.end_group()
    first, *rest = str(error).splitlines() or [""]
    ci.error(first)
    print("\n".join([f"error: {first}", *rest]), file=sys.stderr)
    return error.exit_code


def render_deploy(result) -> str:
    d = to_jsonable(result)
    if d["result"] == "planned":
        lines = [f"plan for endpoint {d['endpoint']}: deploy {d['colour']} (live: {d['previous'] or 'none'})"]
        for a in d["steps"]:
            args = ", ".join(f"{k}={_short(v)}" for k, v in a.items() if k != "action")
            lines.append(f"  {a['action']}({args})")
        if d.get("requests"):
            lines.append(f"requests it would send ({len(d['requests'])}):")
            lines += [f"  {r}" for r in d["requests"]]
        return "\n".join(lines)
    return (f"{d['result']}: {d['colour']} on endpoint {d['endpoint']}; traffic {_short(d['traffic'])}\n"
            f"scoring URI: {d['scoring_uri']}  (key: azml2aks keys PIPELINE)")
