"""Runs the Azure ML inference server for one scoring package on 127.0.0.1.

The inference server's own launcher (``azmlinfsrv``) always binds every interface, so this
module serves its WSGI application, ``azureml_inference_server_http.server.entry:app``,
under gunicorn bound to the loopback address only, with the environment Azure ML sets in
the cluster: ``AZUREML_ENTRY_SCRIPT`` (the generated score.py), ``AML_APP_ROOT`` (the
package folder, where the server looks for ``swagger2.json`` / ``swagger3.json``) and
``AZUREML_MODEL_DIR`` (the MLflow model folder).

:class:`InferenceServer` is a small record (pid, port, url, log) that survives as a dict
in a state file, so a later CLI command can find the server and stop it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from azml2aks import processes
from azml2aks.errors import BackendError

logger = logging.getLogger(__name__)

APP = "azureml_inference_server_http.server.entry:app"
ENTRY_SCRIPT = "score.py"


@dataclass(frozen=True)
class InferenceServer:
    """A running inference server that this package started."""

    pid: int
    port: int
    url: str
    log_path: str

    @property
    def score_url(self) -> str:
        return f"{self.url}/score"

    def alive(self) -> bool:
        return processes.is_alive(self.pid)

    def stop(self, timeout: float = 10) -> None:
        """Stop the server (and its workers); succeeds when it is already gone."""
        processes.terminate(self.pid, timeout=timeout)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InferenceServer:
        return cls(
            pid=int(data["pid"]),
            port=int(data["port"]),
            url=str(data["url"]),
            log_path=str(data["log_path"]),
        )


def server_argv(port: int, workers: int) -> list[str]:
    """The gunicorn command line: loopback only, logs to stdout (the log file)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-b",
        f"{processes.LOOPBACK}:{port}",
        "-w",
        str(workers),
        "--timeout",
        "300",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        APP,
    ]


def server_env(
    package_dir: Path, model_dir: Path, extra_env: Mapping[str, str] | None = None, *,
    entry_script: str = ENTRY_SCRIPT,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZUREML_", "AML_"))}
    env.update(
        {
            "AZUREML_ENTRY_SCRIPT": str(package_dir / entry_script),
            "AML_APP_ROOT": str(package_dir),
            "AZUREML_MODEL_DIR": str(model_dir),
            "AML_APP_INSIGHTS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            # MLflow must not try to reach a tracking server or install anything at load.
            "MLFLOW_DISABLE_ENV_MANAGER_CONDA_WARNING": "1",
        }
    )
    env.update(extra_env or {})
    return env


def start_inference_server(
    package_dir: str | os.PathLike,
    model_dir: str | os.PathLike,
    *,
    port: int = 0,
    workers: int = 1,
    log_path: str | os.PathLike,
    startup_timeout: float = 60,
    extra_env: Mapping[str, str] | None = None,
    on_spawned: Callable[[InferenceServer], None] | None = None,
    memory_limit: str | None = None,
    entry_script: str = ENTRY_SCRIPT,
) -> InferenceServer:
    """Start the inference server for ``package_dir`` (holding score.py) and wait until GET /
    answers 200.

    ``port=0`` picks a free port. Raises BackendError with the log tail when the server
    exits or does not come up within ``startup_timeout`` seconds; the process is stopped
    in that case. ``on_spawned`` gets the server as soon as its process exists (before the
    wait), so a caller can record the pid first; interrupted while waiting, the server is
    stopped before the interrupt goes on. ``memory_limit`` (a Kubernetes quantity such as
    ``2Gi``) runs the server under :mod:`azml2aks.memwatch`, killed like an OOM-killed pod when
    its processes' resident memory goes over it.
    """
    package = Path(package_dir).resolve()
    model = Path(model_dir).resolve()
    if not (package / entry_script).is_file():
        raise BackendError(
            f"no {entry_script} in {package}", hint="run `azml2aks package` to generate it"
        )
    if not model.is_dir():
        raise BackendError(f"model folder {model} does not exist")
    port = port or processes.free_port()
    log = Path(log_path)
    argv = server_argv(port, workers)
    if memory_limit:
        argv = [sys.executable, "-m", "azml2aks.memwatch", "--limit", str(memory_limit), "--", *argv]
    pid = processes.spawn(
        argv,
        env=server_env(package, model, extra_env, entry_script=entry_script),
        log_path=log,
        cwd=package,
    )
    server = InferenceServer(
        pid=pid, port=port, url=f"http://{processes.LOOPBACK}:{port}", log_path=str(log)
    )
    try:
        if on_spawned is not None:
            on_spawned(server)
        processes.wait_http(server.url + "/", timeout=startup_timeout, pid=pid, log_path=log)
    except KeyboardInterrupt:
        server.stop(timeout=5)
        raise
    except BackendError as e:
        server.stop(timeout=5)
        raise BackendError(
            f"the inference server for {package.name} did not start: {e.message}",
            hint=e.hint,
        ) from e
    logger.info("inference server for %s serving at %s (pid %s)", package.name, server.url, pid)
    return server
