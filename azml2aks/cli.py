"""The ``azml2aks`` command line: each verb is parse → one library call → render.

Verbs mirror :class:`azml2aks.pipeline.Pipeline` methods. ``--output json`` prints the result
as JSON on stdout; progress lines go to stderr. Exit codes: 0 ok, 1 user/config error,
2 usage, 3 Azure/system error, 4 rollout aborted and rolled back. Heavy modules (pipeline,
backends, mlflow, flaml, azure) are imported inside the verbs that need them, so ``--help``
and ``validate`` start fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azml2aks.errors import Azml2aksError

logger = logging.getLogger("azml2aks")


@dataclass
class Command:
    name: str
    func: Callable[[argparse.Namespace], Any]
    help: str
    example: str
    configure: Callable[[argparse.ArgumentParser], None] | None
    pipeline: bool = True
    render: Callable[[Any], str] | None = None


COMMANDS: dict[str, Command] = {}


def command(name: str, *, help: str, example: str, pipeline: bool = True,
            configure: Callable[[argparse.ArgumentParser], None] | None = None,
            render: Callable[[Any], str] | None = None):
    """Register a verb. ``func(args)`` returns a result with ``to_dict()``, a dict or a list."""

    def wrap(func):
        COMMANDS[name] = Command(name, func, help, example, configure, pipeline, render)
        return func

    return wrap


# --- shared plumbing ---------------------------------------------------------------------------

def in_ci() -> str | None:
    """'azure-devops', 'github' or None: decides how errors and secrets are written."""
    if os.environ.get("TF_BUILD"):
        return "azure-devops"
    if os.environ.get("GITHUB_ACTIONS"):
        return "github"
    return None


def mask(secret: str) -> None:
    """Tell the CI log to mask ``secret`` from now on (before anything could print it)."""
    ci = in_ci()
    if ci == "azure-devops":
        print(f"##vso[task.setsecret]{secret}", file=sys.stderr)
    elif ci == "github":
        print(f"::add-mask::{secret}", file=sys.stderr)


def open_pipeline(args: argparse.Namespace):
    from azml2aks.pipeline import load_pipeline

    return load_pipeline(args.pipeline, backend=args.backend, workdir=args.workdir, on_event=progress_printer(args))


def progress_printer(args: argparse.Namespace) -> Callable[[dict], None]:
    """Events → one stderr line each (both output modes; stdout stays clean for JSON)."""
    quiet = getattr(args, "quiet", False)

    def emit(event: dict) -> None:
        if quiet:
            return
        line = format_event(event)
        if line:
            print(line, file=sys.stderr, flush=True)

    return emit


def format_event(event: dict) -> str | None:
    kind = event.get("event")
    if kind == "trial":
        return (f"  trial {event['trial']:>3}  {event['algorithm']:<20} {event['metric']}={event['value']:.4f}"
                f"  best={event['best']:.4f}")
    if kind == "job":
        return (f"job {event['job']} {event['status'].lower()}: trying {', '.join(event.get('estimators', []))} "
                f"for up to {event.get('time_budget_seconds', 0):.0f}s")
    if kind == "stage" and event.get("status") == "started":
        return f"== {event['stage']} ({event.get('backend', '')})"
    if kind == "warning":
        prefix = "##vso[task.logissue type=warning]" if in_ci() == "azure-devops" else "warning: "
        return prefix + event["message"]
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
    return str(data)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


# --- verbs -------------------------------------------------------------------------------------

def _validate_render(data: dict) -> str:
    return (f"{data['pipeline']} is valid: {data['task']} on {data['target_column_name']!r}, "
            f"metric {data['primary_metric']}, model {data['model']}, endpoint {data['endpoint']}, "
            f"ladder {data['steps']}, backend {data['backend']}")


@command("validate", help="Check pipeline.yaml and that its data files exist, without touching Azure or training.",
         example="azml2aks validate examples/wine-classification/pipeline.yaml", render=_validate_render)
def cmd_validate(args):
    from pathlib import Path

    from azml2aks.configfile import check_inputs, load_config

    config = load_config(args.pipeline)
    backend = args.backend or config.workspace.default_backend()
    check_inputs(config, Path(args.pipeline).resolve().parent, backend=backend)
    return {"pipeline": args.pipeline, "valid": True, "task": config.automl.task,
            "target_column_name": config.automl.target_column_name, "primary_metric": config.primary_metric,
            "model": config.model_name, "endpoint": config.endpoint.name, "steps": config.rollout.steps,
            "backend": backend}


@command("schema", help="Print the JSON schema of pipeline.yaml (for editors and reviews).",
         example="azml2aks schema > pipeline.schema.json", pipeline=False, render=lambda d: json.dumps(d, indent=2))
def cmd_schema(args):
    from azml2aks.config import PipelineConfig

    return PipelineConfig.model_json_schema(by_alias=True)


def _train_args(p):
    p.add_argument("--no-wait", action="store_true", help="submit and return; follow later with `azml2aks wait`")


def _train_render(job) -> str:
    d = to_jsonable(job)
    best = f"{d['primary_metric']}={d['best_metric_value']:.4f} ({d['best_algorithm']})" if d.get("best_metric_value") is not None else "no trial yet"
    return (f"job {d['job_name']} {d['status']}: {d['trials']} trials, best {best}, "
            f"child run {d['best_child_run_id']}")


@command("train", help="Submit the AutoML job and follow it to the end.",
         example="azml2aks train examples/wine-classification/pipeline.yaml --backend local",
         configure=_train_args, render=_train_render)
def cmd_train(args):
    return open_pipeline(args).train(wait=not args.no_wait)


@command("wait", help="Follow a job submitted with `train --no-wait` to its end.",
         example="azml2aks wait pipeline.yaml  # the job of the latest train",
         configure=lambda p: p.add_argument("job", nargs="?", help="job name (default: the latest train)"),
         render=_train_render)
def cmd_wait(args):
    return open_pipeline(args).wait(args.job)


def _register_args(p):
    p.add_argument("--job", help="job name (default: the job of the latest train)")
    p.add_argument("--force", action="store_true", help="move the champion alias even if the model is not better")


def _model_render(m) -> str:
    d = to_jsonable(m)
    alias = f" [{', '.join(d['aliases'])}]" if d.get("aliases") else ""
    value = f"{d['metric_name']}={d['metric_value']:.4f}" if d.get("metric_value") is not None else ""
    return f"{d['name']}:{d['version']}{alias}  {value}  child run {d['run_id']}  job {d['job_name']}"


@command("register", help="Register the best child run of the job, gated on model.min_metric.",
         example="azml2aks register examples/wine-classification/pipeline.yaml", configure=_register_args,
         render=_model_render)
def cmd_register(args):
    return open_pipeline(args).register(args.job, force=args.force)


@command("models", help="List the registered versions of the pipeline's model with their tags.",
         example="azml2aks models examples/wine-classification/pipeline.yaml --output json",
         render=lambda ms: "\n".join(_model_render(m) for m in ms) or "no registered versions")
def cmd_models(args):
    return open_pipeline(args).models()


@command("package", help="Generate score.py, conda.yaml and swagger for a model and prove them locally.",
         example="azml2aks package examples/wine-classification/pipeline.yaml --model wine-classifier:1",
         configure=lambda p: (p.add_argument("--model", help="NAME:VERSION or NAME@alias (default: latest registered)"),
                              p.add_argument("--no-contract-test", action="store_true",
                                             help="skip starting the inference server to prove the package")))
def cmd_package(args):
    return open_pipeline(args).package(args.model, contract=not args.no_contract_test)


@command("attach", help="Preflight the AKS cluster and attach it as Kubernetes compute.",
         example="azml2aks attach pipeline.yaml --backend azure")
def cmd_attach(args):
    return open_pipeline(args).attach()


def _run_render(out: dict) -> str:
    """One line per stage that ran, the deploy outcome last."""
    lines = []
    if "train" in out:
        lines.append("train:    " + _train_render(out["train"]))
    if "register" in out:
        lines.append("register: " + _model_render(out["register"]))
    if "package" in out:
        p = out["package"]
        reused = "reused" if p["environment_reused"] else "new"
        lines.append(f"package:  {p['directory']} (environment {p['environment_name']}:{p['environment_version']}, {reused})")
    if "attach" in out:
        lines.append(f"attach:   {out['attach']['compute']} ({out['attach']['status']})")
    if "deploy" in out:
        lines.append("deploy:   " + _deploy_render(out["deploy"]).replace("\n", "\n          "))
    if "run_id" in out:
        lines.append(f"run id:   {out['run_id']} (journal under the work dir's runs/)")
    return "\n".join(lines)


@command("run", help="Run every stage: train, register, package, attach, deploy.",
         example="azml2aks run examples/wine-classification/pipeline.yaml",
         configure=lambda p: (p.add_argument("--resume", action="store_true", help="skip stages the latest run finished"),
                              p.add_argument("--dry-run", action="store_true", help="print the rollout plan only")),
         render=_run_render)
def cmd_run(args):
    return open_pipeline(args).run(resume=args.resume, dry_run=args.dry_run)


# --- deploy and the endpoint verbs (azml2aks.deploy) ---------------------------------------------

def _deploy_render(result) -> str:
    d = to_jsonable(result)
    if d["result"] == "planned":
        lines = [f"plan for endpoint {d['endpoint']}: deploy {d['colour']} (live: {d['previous'] or 'none'})"]
        for a in d["steps"]:
            args = ", ".join(f"{k}={_short(v)}" for k, v in a.items() if k != "action")
            lines.append(f"  {a['action']}({args})")
        return "\n".join(lines)
    return (f"{d['result']}: {d['colour']} on endpoint {d['endpoint']}; traffic {_short(d['traffic'])}\n"
            f"scoring URI: {d['scoring_uri']}  (key: azml2aks keys PIPELINE)")


@command("deploy", help="Blue/green rollout: new colour idle, smoke, shadow, ladder with gates, promote or roll back.",
         example="azml2aks deploy examples/wine-classification/pipeline.yaml --dry-run",
         configure=lambda p: p.add_argument("--dry-run", action="store_true", help="print the plan; touch nothing"),
         render=_deploy_render)
def cmd_deploy(args):
    return open_pipeline(args).deploy(dry_run=args.dry_run)


def _status_render(d: dict) -> str:
    lines = [f"endpoint {d['name']} ({d['provisioning_state']}): {d['scoring_uri']}",
             f"traffic: {_short(d['traffic']) or 'none'}"]
    for colour, h in (d.get("health") or {}).items():
        lines.append(f"  {colour}: {h['status']}, {'up' if h['alive'] else 'down'}, model {h['model']}, port {h['port']}")
    return "\n".join(lines)


@command("status", help="Show the endpoint's traffic split, deployments and scoring URI.",
         example="azml2aks status examples/wine-classification/pipeline.yaml --output json", render=_status_render)
def cmd_status(args):
    from azml2aks import deploy

    return deploy.status(open_pipeline(args))


def _traffic_render(d: dict) -> str:
    note = f" ({d['note']}; nothing changed)" if d.get("note") else ""
    return f"endpoint {d['endpoint']} traffic: {_short(d['traffic'])}{note}"


@command("traffic", help="Set the live split by hand (colours not named go to 0; must sum to 100).",
         example="azml2aks traffic examples/wine-classification/pipeline.yaml blue=90 green=10",
         configure=lambda p: p.add_argument("assignments", nargs="+", metavar="COLOUR=PERCENT"),
         render=_traffic_render)
def cmd_traffic(args):
    from azml2aks import deploy

    return deploy.set_traffic(open_pipeline(args), args.assignments)


def _colour_arg(p):
    p.add_argument("--deployment", help="the colour (default: decided from the current split)")


@command("promote", help="Give one colour all traffic (default: the new colour of a split in progress).",
         example="azml2aks promote examples/wine-classification/pipeline.yaml --deployment green",
         configure=_colour_arg, render=_traffic_render)
def cmd_promote(args):
    from azml2aks import deploy

    return deploy.promote(open_pipeline(args), args.deployment)


@command("rollback", help="Send all traffic back to the previous colour (kept idle after a promotion).",
         example="azml2aks rollback examples/wine-classification/pipeline.yaml",
         configure=_colour_arg, render=_traffic_render)
def cmd_rollback(args):
    from azml2aks import deploy

    return deploy.rollback(open_pipeline(args), args.deployment)


@command("invoke", help="Score a JSON request file through the endpoint, optionally pinned to a colour.",
         example="azml2aks invoke examples/wine-classification/pipeline.yaml --file sample-request.json --deployment green",
         configure=lambda p: (p.add_argument("--file", required=True, help="JSON request body"),
                              p.add_argument("--deployment", help="pin this colour (azureml-model-deployment)")),
         render=lambda d: f"HTTP {d['status_code']} from {d['deployment']} in {d['latency_ms']} ms\n"
                          + json.dumps(d["response"], indent=2))
def cmd_invoke(args):
    from azml2aks import deploy

    return deploy.invoke(open_pipeline(args), args.file, deployment=args.deployment)


@command("logs", help="Show the last lines of a deployment's inference server log.",
         example="azml2aks logs examples/wine-classification/pipeline.yaml --deployment green --tail 100",
         configure=lambda p: (p.add_argument("--deployment", required=True),
                              p.add_argument("--tail", type=int, default=50)),
         render=str)
def cmd_logs(args):
    from azml2aks import deploy

    return deploy.logs(open_pipeline(args), args.deployment, tail=args.tail)


def _keys(args):
    from azml2aks import deploy

    keys = deploy.get_keys(open_pipeline(args))
    mask(keys["primaryKey"])
    mask(keys["secondaryKey"])
    return keys


@command("keys", help="Print the endpoint's keys (asked for explicitly; masked in CI logs).",
         example="azml2aks keys examples/wine-classification/pipeline.yaml --output json",
         render=lambda d: f"primary: {d['primaryKey']}\nsecondary: {d['secondaryKey']}")
def cmd_keys(args):
    return _keys(args)


def _local_args(p):
    p.add_argument("action", choices=("down",), help="down: stop the router and every colour, forget the endpoint")
    p.add_argument("pipeline", help="path of pipeline.yaml")


@command("local", help="Manage the local endpoint's processes (`local down` stops them).",
         example="azml2aks local down examples/wine-classification/pipeline.yaml", pipeline=False,
         configure=_local_args,
         render=lambda d: f"endpoint {d['endpoint']}: stopped {len(d['stopped_pids'])} process(es)")
def cmd_local(args):
    from azml2aks import deploy

    return deploy.local_down(open_pipeline(args))


# --- main --------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="azml2aks",
        description="From an Azure ML AutoML experiment to a blue/green Kubernetes online endpoint.",
        epilog="Example: azml2aks run examples/wine-classification/pipeline.yaml",
    )
    from azml2aks import __version__

    parser.add_argument("--version", action="version", version=f"azml2aks {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help, epilog=f"Example: {cmd.example}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if cmd.pipeline:
            p.add_argument("pipeline", help="path of pipeline.yaml")
        p.add_argument("--backend", choices=("local", "azure"),
                       help="default: workspace.backend, else azure when a subscription is set, else local")
        p.add_argument("--output", "-o", choices=("text", "json"), default="text")
        p.add_argument("--workdir", help="state folder (default: local.workdir next to pipeline.yaml)")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
        p.add_argument("--verbose", "-v", action="store_true", help="debug logging (never shows secrets)")
        if cmd.configure:
            cmd.configure(p)
        p.set_defaults(_command=cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cmd: Command = args._command
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        result = cmd.func(args)
    except Azml2aksError as e:
        return report_error(e, args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.output == "json":
        print(json.dumps(to_jsonable(result), indent=2, default=str))
    else:
        print((cmd.render or render_default)(result))
    return 0


def report_error(error: Azml2aksError, args: argparse.Namespace) -> int:
    if args.output == "json":
        print(json.dumps(to_jsonable(error.to_dict()), indent=2, default=str))
    ci = in_ci()
    first, *rest = str(error).splitlines() or [""]
    if ci == "azure-devops":
        print(f"##vso[task.logissue type=error]{first}", file=sys.stderr)
    elif ci == "github":
        print(f"::error::{first}", file=sys.stderr)
    print("\n".join([f"error: {first}", *rest]), file=sys.stderr)
    return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
