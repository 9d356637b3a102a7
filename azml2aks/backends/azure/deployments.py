"""Kubernetes online deployments (one colour each): the REST body from a DeploymentSpec, the
scoring code uploaded once by content hash, and the create that waits with progress.

The body is the ``KubernetesOnlineDeployment`` of the REST API (2023-04-01-preview; the
official example's copy is in tests/fakes/examples): the registered model and the packaged environment version as
ARM ids, the code asset holding score.py, and every Kubernetes field of ``deployment:``
(instance type and count, resources, probes, request and scale settings, environment
variables). Durations go as ISO 8601 (``PT5S``), quantities as written.

The code asset holds only the files the inference server reads from the package folder
(``score.py`` and the swagger files; the model comes from the registry): they are copied to
``<workdir>/azure-code/<sha256>/`` and registered once as ``azml2aks-code-<sha16>`` version 1,
so a colour whose score.py did not change costs one GET and no upload.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from azml2aks.backends.azure.client import scrub
from azml2aks.config.specs import thaw
from azml2aks.errors import ConfigError

if TYPE_CHECKING:
    from azml2aks.config.specs import DeploymentSpec

logger = logging.getLogger(__name__)

#: Files of the package folder the inference server reads (the model comes from the registry).
CODE_FILES = ("swagger2.json", "swagger3.json")
CONTAINERS = {"inference-server": "InferenceServer", "storage-initializer": "StorageInitializer"}


def iso_seconds(seconds: float) -> str:
    """``PT5S``, ``PT0.5S``: an ISO 8601 duration as the REST API takes it."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"PT{text}S"


def _probe(probe: Any) -> dict[str, Any]:
    p = thaw(probe) or {}
    out: dict[str, Any] = {}
    for key, rest in (("initial_delay", "initialDelay"), ("period", "period"), ("timeout", "timeout")):
        if p.get(key) is not None:
            out[rest] = iso_seconds(p[key])
    for key, rest in (("success_threshold", "successThreshold"), ("failure_threshold", "failureThreshold")):
        if p.get(key) is not None:
            out[rest] = p[key]
    return out


def _scale(scale: Any) -> dict[str, Any]:
    s = thaw(scale) or {}
    if s.get("type", "default") != "target_utilization":
        return {"scaleType": "Default"}
    out: dict[str, Any] = {"scaleType": "TargetUtilization"}
    for key, rest in (("min_instances", "minInstances"), ("max_instances", "maxInstances"),
                      ("target_utilization_percentage", "targetUtilizationPercentage")):
        if s.get(key) is not None:
            out[rest] = s[key]
    if s.get("polling_interval") is not None:
        out["pollingInterval"] = iso_seconds(s["polling_interval"])
    return out


def _requests(settings: Any) -> dict[str, Any]:
    r = thaw(settings) or {}
    out: dict[str, Any] = {}
    if r.get("request_timeout_ms") is not None:
        out["requestTimeout"] = iso_seconds(r["request_timeout_ms"] / 1000)
    if r.get("max_queue_wait_ms") is not None:
        out["maxQueueWait"] = iso_seconds(r["max_queue_wait_ms"] / 1000)
    if r.get("max_concurrent_requests_per_instance") is not None:
        out["maxConcurrentRequestsPerInstance"] = r["max_concurrent_requests_per_instance"]
    return out


def _resources(resources: Any) -> dict[str, Any]:
    r = thaw(resources) or {}
    out: dict[str, Any] = {}
    for part, rest in (("requests", "containerResourceRequests"), ("limits", "containerResourceLimits")):
        given = r.get(part) or {}
        block = {k: str(given[k]) for k in ("cpu", "memory") if given.get(k) is not None}
        if given.get("nvidia.com/gpu") is not None:
            block["gpu"] = str(given["nvidia.com/gpu"])
        if block:
            out[rest] = block
    return out


def asset_id(workspace_path: str, kind: str, ref: str | None, *, field: str) -> str | None:
    """The ARM id of ``name:version`` (an ``azureml:`` prefix or a full id is accepted)."""
    if ref is None:
        return None
    if ref.startswith("/subscriptions/"):
        return ref
    ref = ref.removeprefix("azureml:")
    name, sep, version = ref.partition(":")
    if not sep or not name or not version:
        raise ConfigError(f"{field} must be NAME:VERSION, got {ref!r}",
                          hint="register it first (azml2aks register / package) and pass its version")
    return f"{workspace_path}/{kind}/{name}/versions/{version}"


def deployment_body(spec: DeploymentSpec, *, workspace_path: str, location: str, code_id: str | None) -> dict[str, Any]:
    """The REST body of colour ``spec.name``: every field of ``deployment:`` that Azure takes."""
    props: dict[str, Any] = {
        "endpointComputeType": "Kubernetes",
        "model": asset_id(workspace_path, "models", spec.model, field="the deployment's model"),
        "environmentId": asset_id(workspace_path, "environments", spec.environment,
                                  field="the deployment's environment"),
        "instanceType": spec.instance_type,
        "scaleSettings": _scale(spec.scale_settings),
        "requestSettings": _requests(spec.request_settings),
        "livenessProbe": _probe(spec.liveness_probe),
        "readinessProbe": _probe(spec.readiness_probe),
        "containerResourceRequirements": _resources(spec.resources),
        "environmentVariables": dict(spec.environment_variables),
        "appInsightsEnabled": spec.app_insights_enabled,
        "description": spec.description,
    }
    if code_id:
        props["codeConfiguration"] = {"codeId": code_id, "scoringScript": spec.scoring_script}
    return {"location": location, "kind": "Kubernetes", "tags": dict(spec.tags),
            "sku": {"name": "Default", "capacity": spec.instance_count},
            "properties": {k: v for k, v in props.items() if v is not None}}


def stage_code(code_dir: str | Path, scoring_script: str, staging_root: Path) -> tuple[Path, str]:
    """Copy the scoring files of ``code_dir`` to ``staging_root/<sha256>/``; return (folder, sha256).

    The hash covers the file names and bytes, so the same score.py is the same code asset."""
    source = Path(code_dir)
    script = source / scoring_script
    if not script.is_file():
        raise ConfigError(f"the package folder {source} has no {scoring_script}",
                          hint="run `azml2aks package PIPELINE` first")
    files = [script] + [source / f for f in CODE_FILES if (source / f).is_file()]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    sha = digest.hexdigest()
    folder = staging_root / sha
    if not folder.is_dir():
        tmp = staging_root / f".{sha}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for f in files:
            shutil.copy2(f, tmp / f.name)
        tmp.rename(folder)
    return folder, sha


def code_name(sha: str) -> str:
    return f"azml2aks-code-{sha[:16]}"


def upload_code(ml_client: Any, folder: Path, sha: str) -> str:
    """Register ``folder`` as code asset ``azml2aks-code-<sha16>:1`` through azure-ai-ml (it
    uploads to the workspace's default datastore); return its ARM id."""
    from azure.ai.ml.entities._assets import Code  # not re-exported by azure.ai.ml.entities

    # the SDK's own code upload (blob upload + version PUT); MLClient has no public name for it
    code = ml_client._code.create_or_update(Code(name=code_name(sha), version="1", path=str(folder)))
    return code.id


def failure_message(endpoint: str, name: str, error: Exception, logs: dict[str, str]) -> str:
    """The service's error, then the tail of each container's log."""
    text = f"deployment {name!r} of endpoint {endpoint!r} did not become ready: {getattr(error, 'message', error)}"
    for container, tail in logs.items():
        body = "\n".join(scrub(line, limit=300) for line in tail.splitlines()) if tail else "(empty)"
        text += f"; last lines of {container}:\n{body}"
    return text
