"""The stage verbs (validate, schema, train, wait, register, models, package, attach, run):
each parses, makes one :class:`Pipeline` call, renders."""

from __future__ import annotations

import json

from azml2aks.cli.output import open_pipeline, render_deploy, to_jsonable
from azml2aks.cli.registry import command


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
        lines.append("deploy:   " + render_deploy(out["deploy"]).replace("\n", "\n          "))
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
