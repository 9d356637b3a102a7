"""The deploy verb and the endpoint verbs: each parses, makes one :class:`Pipeline` call, renders."""

from __future__ import annotations

import json

from azml2aks.cli.output import _short, ci_of, mask, open_pipeline, render_deploy
from azml2aks.cli.registry import command
from azml2aks.cli.reports import add_report_flag, reporting

#: ``--wait-lock`` without a value waits this long for another rollout to end.
WAIT_LOCK_SECONDS = 1800.0


def _wait_lock_arg(p):
    p.add_argument("--wait-lock", nargs="?", type=float, const=WAIT_LOCK_SECONDS, default=0, metavar="SECONDS",
                   help="while another rollout holds the endpoint, wait for it (default 1800 s) instead of refusing")


def _deploy_args(p):
    p.add_argument("--dry-run", action="store_true", help="print the plan and the requests it would send; touch nothing")
    p.add_argument("--resume", action="store_true",
                   help="go on with the rollout this work dir's journal says was interrupted")
    _wait_lock_arg(p)
    add_report_flag(p)


@command("deploy", help="Blue/green rollout: new colour idle, smoke, shadow, ladder with gates, promote or roll back.",
         example="azml2aks deploy examples/wine-classification/pipeline.yaml --dry-run",
         configure=_deploy_args, render=render_deploy)
def cmd_deploy(args):
    pipeline = open_pipeline(args)
    with reporting(args, pipeline):
        return pipeline.deploy(dry_run=args.dry_run, wait_lock=args.wait_lock, resume=args.resume)


def _status_render(d: dict) -> str:
    lines = [f"endpoint {d['name']} ({d['provisioning_state']}): {d['scoring_uri']}",
             f"traffic: {_short(d['traffic']) or 'none'}"]
    for colour, h in (d.get("health") or {}).items():
        parts = [h["status"], "up" if h["alive"] else "down"]
        parts += [f"model {h['model']}"] if h.get("model") else []
        parts += [f"port {h['port']}"] if h.get("port") else []
        lines.append(f"  {colour}: {', '.join(parts)}")
    return "\n".join(lines)


@command("status", help="Show the endpoint's traffic split, deployments and scoring URI.",
         example="azml2aks status examples/wine-classification/pipeline.yaml --output json", render=_status_render)
def cmd_status(args):
    return open_pipeline(args).status()


def _traffic_render(d: dict) -> str:
    note = f" ({d['note']}; nothing changed)" if d.get("note") else ""
    return f"endpoint {d['endpoint']} traffic: {_short(d['traffic'])}{note}"


@command("traffic", help="Set the live split by hand (colours not named go to 0; must sum to 100).",
         example="azml2aks traffic examples/wine-classification/pipeline.yaml blue=90 green=10",
         configure=lambda p: (p.add_argument("assignments", nargs="+", metavar="COLOUR=PERCENT"), _wait_lock_arg(p),
                              p.add_argument("--allow-empty", action="store_true",
                                             help="allow 0 %% everywhere on a live endpoint (takes it down)")),
         render=_traffic_render)
def cmd_traffic(args):
    return open_pipeline(args).set_traffic(args.assignments, wait_lock=args.wait_lock, allow_empty=args.allow_empty)


def _colour_arg(p):
    p.add_argument("--deployment", help="the colour (default: decided from the current split)")
    _wait_lock_arg(p)


@command("promote", help="Give one colour all traffic (default: the new colour of a split in progress).",
         example="azml2aks promote examples/wine-classification/pipeline.yaml --deployment green",
         configure=_colour_arg, render=_traffic_render)
def cmd_promote(args):
    return open_pipeline(args).promote(args.deployment, wait_lock=args.wait_lock)


@command("rollback", help="Send all traffic back to the previous colour (kept idle after a promotion).",
         example="azml2aks rollback examples/wine-classification/pipeline.yaml",
         configure=_colour_arg, render=_traffic_render)
def cmd_rollback(args):
    return open_pipeline(args).rollback(args.deployment, wait_lock=args.wait_lock)


@command("invoke", help="Score a JSON request file through the endpoint, optionally pinned to a colour.",
         example="azml2aks invoke examples/wine-classification/pipeline.yaml --file sample-request.json --deployment green",
         configure=lambda p: (p.add_argument("--file", required=True, help="JSON request body"),
                              p.add_argument("--deployment", help="pin this colour (azureml-model-deployment)")),
         render=lambda d: f"HTTP {d['status_code']} from {d['deployment']} in {d['latency_ms']} ms\n"
                          + json.dumps(d["response"], indent=2))
def cmd_invoke(args):
    return open_pipeline(args).invoke(args.file, deployment=args.deployment)


@command("logs", help="Show the last lines of a deployment's inference server log.",
         example="azml2aks logs examples/wine-classification/pipeline.yaml --deployment green --tail 100",
         configure=lambda p: (p.add_argument("--deployment", required=True),
                              p.add_argument("--tail", type=int, default=50),
                              p.add_argument("--container", choices=("inference-server", "storage-initializer"),
                                             default="inference-server",
                                             help="on Azure, storage-initializer shows the model download")),
         render=str)
def cmd_logs(args):
    return open_pipeline(args).logs(args.deployment, tail=args.tail, container=args.container)


def _keys(args):
    keys = open_pipeline(args).keys()
    mask(keys["primaryKey"], args)
    mask(keys["secondaryKey"], args)
    ci_of(args).publish_key(keys["primaryKey"])  # the one secret output, set only when asked for
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
    return open_pipeline(args).local_down()
