"""The stage verbs (validate, schema, train, wait, register, models, package, doctor, attach, infra, run):
each parses, makes one :class:`Pipeline` call, renders."""

from __future__ import annotations

import json

from azml2aks.cli.output import open_pipeline, render_deploy, to_jsonable
from azml2aks.cli.registry import command
from azml2aks.cli.reports import add_report_flag, reporting


def _validate_render(data: dict) -> str:
    return (f"{data['pipeline']} is valid: {data['task']} on {data['target_column_name']!r}, "
            f"metric {data['primary_metric']}, model {data['model']}, endpoint {data['endpoint']}, "
            f"ladder {data['steps']}, backend {data['backend']}")


@command("validate", help="Check pipeline.yaml and that its data files exist, without touching Azure or training.",
         example="azml2aks validate examples/wine-classification/pipeline.yaml", render=_validate_render)
def cmd_validate(args):
    from pathlib import Path

    from azml2aks.config.loader import load_config
    from azml2aks.data import check_inputs

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


def _cancel_render(state) -> str:
    d = to_jsonable(state)
    return f"job {d['name']}: {d['status']}" + (f"  {d['portal_url']}" if d.get("portal_url") else "")


@command("cancel", help="Cancel a submitted AutoML job (a finished job is left as it is).",
         example="azml2aks cancel pipeline.yaml  # the job of the latest train",
         configure=lambda p: p.add_argument("job", nargs="?", help="job name (default: the latest train)"),
         render=_cancel_render)
def cmd_cancel(args):
    return open_pipeline(args).cancel(args.job)


def _register_args(p):
    p.add_argument("--job", help="job name (default: the job of the latest train)")
    p.add_argument("--force", action="store_true", help="move the champion alias even if the model is not better")


def _model_render(m) -> str:
    d = to_jsonable(m)
    alias = f" [{', '.join(d['aliases'])}]" if d.get("aliases") else ""
    value = f"{d['metric_name']}={d['metric_value']:.4f}" if d.get("metric_value") is not None else ""
    lineage = [f"child run {d['run_id']}"] if d.get("run_id") else []
    lineage += [f"job {d['job_name']}"] if d.get("job_name") else []
    return "  ".join(part for part in (f"{d['name']}:{d['version']}{alias}", value, *lineage) if part)


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


def _package_args(p):
    p.add_argument("--model", help="NAME:VERSION or NAME@alias (default: latest registered)")
    p.add_argument("--model-path", metavar="FOLDER",
                   help="package an MLflow model folder directly (e.g. an AutoML child's outputs/mlflow-model/)")
    p.add_argument("--no-contract", "--no-contract-test", dest="no_contract", action="store_true",
                   help="skip the local contract test (serving score.py on this machine), e.g. when the model "
                   "cannot load here")


def _package_render(result) -> str:
    d = to_jsonable(result)
    lines = [f"package {d['directory']} for {d['model']}: {', '.join(d['files'])}"]
    check = d.get("environment_check") or {}
    if check.get("status") == "resolved":
        versions = ", ".join(f"{k} {v}" for k, v in (check.get("versions") or {}).items())
        lines.append(f"environment: resolves for Python {check['python']} on Linux ({versions})")
    elif check:
        lines.append(f"environment: checked offline only (server range and Python support); full resolution "
                     f"skipped: {check.get('reason')}")
    for conflict in d.get("conflicts") or ():
        lines.append(f"conflict: {conflict}")
    contract = d.get("contract") or {}
    lines.append("contract test: " + ("passed" if contract.get("passed") else
                                      f"skipped ({contract.get('skipped', 'not run')})"))
    version = d.get("environment_version")
    lines.append(f"environment {d['environment_name']}:{version} "
                 f"({'reused' if d.get('environment_reused') else 'new'}), fingerprint {d['fingerprint'][:12]}")
    return "\n".join(lines)


@command("package", help="Generate score.py, conda.yaml and swagger for a model and prove them locally.",
         example="azml2aks package pipeline.yaml --model-path outputs/mlflow-model --no-contract",
         configure=_package_args, render=_package_render)
def cmd_package(args):
    return open_pipeline(args).package(args.model, contract=not args.no_contract, model_path=args.model_path)


_MARK = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL"}


def render_findings(findings: list[dict]) -> list[str]:
    lines = []
    for f in findings:
        lines.append(f"{_MARK.get(f['status'], f['status'])}  {f['check']:<27} {f['found']}")
        if f.get("remedy") and f["status"] != "pass":
            lines.append(f"{'':6}{'':<27} -> {f['remedy']}")
    return lines


def _doctor_render(report) -> str:
    d = to_jsonable(report)
    verdict = "no failed check" if d["ok"] else f"{d['fail']} failed check(s)"
    return "\n".join([f"doctor: cluster {d['cluster']}, compute {d['compute']}", *render_findings(d["findings"]),
                      f"{d['pass']} passed, {d['warn']} warning(s), {verdict}"])


def _cluster_access(p):
    p.add_argument("--require-cluster-access", action="store_true",
                   help="fail (instead of warn) when the cluster's API server cannot be reached from here")


@command("doctor", help="Preflight the AKS cluster, its AzureML extension and the compute: one line per check; "
         "exit 1 on any failed check.",
         example="azml2aks doctor pipeline.yaml --backend azure --require-cluster-access",
         configure=_cluster_access, render=_doctor_render)
def cmd_doctor(args):
    report = open_pipeline(args).doctor(require_cluster_access=args.require_cluster_access)
    args.exit_code = 0 if report.ok else 1
    return report


def _attach_args(p):
    _cluster_access(p)
    p.add_argument("--detach", action="store_true", help="detach the compute instead (the cluster is untouched)")


def _attach_render(result) -> str:
    d = to_jsonable(result)
    lines = [f"compute {d['compute']}: {d['status']} ({d['backend']})"]
    failing = [f for f in d.get("checks") or [] if f.get("status") in ("warn", "fail")]
    return "\n".join(lines + render_findings(failing))


@command("attach", help="Preflight the AKS cluster (the doctor's blocking checks) and attach it as Kubernetes "
         "compute, idempotently; --detach detaches it.",
         example="azml2aks attach pipeline.yaml --backend azure", configure=_attach_args, render=_attach_render)
def cmd_attach(args):
    return open_pipeline(args).attach(detach=args.detach, require_cluster_access=args.require_cluster_access)


def _infra_args(p):
    p.add_argument("action", choices=("plan", "up"), help="plan: print what would change; up: apply it")
    p.add_argument("spec", help="path of infra/<env>.yaml")


_SIGN = {"create": "+", "update": "~", "register": "+", "attach": "+", "none": "=", "unknown": "?"}


def _infra_render(result) -> str:
    d = to_jsonable(result)
    lines = [f"infra {d['source']}: cluster {d['cluster']}"]
    for c in d["changes"]:
        word = "up to date" if c["action"] == "none" else c["action"]
        lines.append(f"  {_SIGN.get(c['action'], '?')} {c['resource']} {c['name']}: {word}")
        lines += [f"      {x}" for x in c["details"] if c["action"] != "none"]
    if d["applied"]:
        lines.append(f"applied {d['changed']} change(s); compute {d['attach']}")
    else:
        lines.append(f"{d['changed']} change(s) planned; nothing was changed (apply with `infra up`)")
    return "\n".join(lines)


@command("infra", help="Create or update an environment's AKS cluster, AzureML extension, namespace and instance "
         "types from infra/<env>.yaml, then attach (plan: print the changes only).",
         example="azml2aks infra plan infra/dev.yaml", pipeline=False, configure=_infra_args, render=_infra_render)
def cmd_infra(args):
    from azml2aks.pipeline import infra

    return infra(args.spec, apply=args.action == "up")


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
        lines.append("deploy:   " + render_deploy(out["deploy"]).replace("\n", "\n          "))
    if out.get("resumed"):
        lines.append(f"resumed:  {', '.join(out['resumed'])} (finished earlier in this run; results from its journal)")
    if "run_id" in out:
        lines.append(f"run id:   {out['run_id']} (journal under the work dir's runs/)")
    return "\n".join(lines)


#: azml2aks.pipeline.STAGES, repeated so that building the parser imports no pipeline (tests keep them equal)
STAGES = ("train", "register", "package", "attach", "deploy")


def _run_args(p):
    p.add_argument("--resume", action="store_true",
                   help="skip stages the latest run finished; go on with its interrupted rollout")
    p.add_argument("--dry-run", action="store_true", help="print the rollout plan only")
    p.add_argument("--from", dest="start", choices=STAGES, metavar="STAGE",
                   help=f"first stage to run ({', '.join(STAGES)}; default train); earlier results come from the journal")
    p.add_argument("--until", choices=STAGES, metavar="STAGE", help="last stage to run (default deploy)")
    add_report_flag(p)
    p.add_argument("--wait-lock", nargs="?", type=float, const=1800.0, default=0, metavar="SECONDS",
                   help="while another rollout holds the endpoint, wait for it (default 1800 s) instead of refusing")


@command("run", help="Run the stages in order: train, register, package, attach, deploy (or a slice of them).",
         example="azml2aks run examples/wine-classification/pipeline.yaml --from register --until package",
         configure=_run_args, render=_run_render)
def cmd_run(args):
    pipeline = open_pipeline(args)
    with reporting(args, pipeline):
        return pipeline.run(resume=args.resume, dry_run=args.dry_run, start=args.start, until=args.until,
                            wait_lock=args.wait_lock)
