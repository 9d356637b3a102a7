"""Local online endpoints: the deploy half of the backend port on one machine.

An endpoint is a folder ``<workdir>/endpoints/<name>/`` holding

    state.json   traffic, each colour's inference server (pid, port, log), the router's pid/port
    keys.json    primary and secondary keys (mode 0600; never logged)
    logs/        router.log, <colour>.log

plus two kinds of process started through :mod:`processes` and found again by pid: the
router (:mod:`router`, weighted traffic, key auth, pin header) and one inference server per
colour (:mod:`serving`). Writers replace state.json atomically under a lock; the router
reloads it on change, so traffic changes are atomic. A dead router is restarted on its old
port from the files, so state survives it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from azml2aks import processes, serving
from azml2aks.backends.ports import Credentials, DeploymentState, EndpointKeys, EndpointState
from azml2aks.errors import BackendError, ConfigError, LockedError, NotFoundError
from azml2aks.retry import Poller
from azml2aks.rollout.traffic import Traffic

if TYPE_CHECKING:
    from azml2aks.config.specs import DeploymentSpec, EndpointSpec

logger = logging.getLogger(__name__)


class LocalEndpoints:
    """Endpoints under ``workdir``: the Endpoints port, plus the LocalProcesses capability
    (``stop_endpoint``, ``deployment_health``). ``request_timeout_ms`` is the router's upstream
    timeout (the deployment's request_settings)."""

    def __init__(self, workdir: str | os.PathLike, *, startup_timeout: float = 60.0, workers: int = 1,
                 router_port: int = 0, request_timeout_ms: int = 5000,
                 max_body_bytes: int = 10 * 1024 * 1024) -> None:
        self.root = Path(workdir).resolve() / "endpoints"
        self.startup_timeout = startup_timeout
        self.workers = workers
        self.router_port = router_port
        self.request_timeout_ms = request_timeout_ms
        self.max_body_bytes = max_body_bytes  # the router answers 413 above it (scoring.max_body_bytes)

    # --- files ---------------------------------------------------------------------------
    def _dir(self, name: str) -> Path:
        return self.root / name

    def _read(self, name: str) -> dict[str, Any]:
        path = self._dir(name) / "state.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise NotFoundError(f"local endpoint {name!r} does not exist under {self.root}",
                                hint="run `azml2aks deploy PIPELINE` to create it") from None

    def _write(self, name: str, state: dict[str, Any]) -> None:
        state["generation"] = int(state.get("generation", 0)) + 1
        path = self._dir(name) / "state.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        os.replace(tmp, path)

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        folder = self._dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _view(self, state: dict[str, Any]) -> EndpointState:
        router = state.get("router") or {}
        alive = bool(router.get("pid")) and processes.is_alive(router["pid"])
        deployments = tuple(
            DeploymentState(colour, dep.get("status") or "Unknown", model=dep.get("model"), instance_count=1)
            for colour, dep in sorted(state["deployments"].items()))
        return EndpointState(state["name"], state["scoring_uri"], Traffic(state["traffic"], check=False),
                             deployments, "Succeeded" if alive else "RouterDown", auth_mode="key", compute="local")

    # --- the port ------------------------------------------------------------------------
    def get_endpoint(self, name: str) -> EndpointState:
        return self._view(self._read(name))

    def ensure_endpoint(self, spec: EndpointSpec) -> EndpointState:
        """Create the endpoint (keys, router) when missing; restart a dead router; never
        touches traffic."""
        name = spec.name
        timeout_ms = self.request_timeout_ms
        with self._locked(name):
            folder = self._dir(name)
            try:
                state = self._read(name)
            except NotFoundError:
                port = self.router_port or processes.free_port()
                self._check_router_port(name, port)  # before anything of the endpoint exists
                state = {"name": name, "traffic": {}, "deployments": {}, "generation": 0,
                         "router": {"port": port},
                         "scoring_uri": f"http://{processes.LOOPBACK}:{port}/api/v1/endpoint/{name}/score"}
            keys = folder / "keys.json"
            if not keys.exists():
                fd = os.open(keys, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    json.dump({"primaryKey": secrets.token_urlsafe(32),
                               "secondaryKey": secrets.token_urlsafe(32)}, f)
            limits = {"request_timeout_ms": timeout_ms, "max_body_bytes": self.max_body_bytes}
            if any(state.get(k) != v for k, v in limits.items()):
                state.update(limits)
                self._write(name, state)
            self._ensure_router(name, state)
            return self._view(state)

    def _check_router_port(self, name: str, port: int) -> None:
        """ConfigError naming who holds ``port`` (another endpoint's router, or another program)."""
        if not processes.port_in_use(port):
            return
        holder = "another program"
        for other in self.list_endpoints():
            try:
                router = self._read(other).get("router") or {}
            except (NotFoundError, OSError, ValueError):
                continue
            if other != name and router.get("port") == port and router.get("pid") and processes.is_alive(router["pid"]):
                holder = f"the router of local endpoint {other!r} (pid {router['pid']})"
        raise ConfigError(
            f"router port {port} of endpoint {name!r} is already in use by {holder}; nothing was started",
            hint="set local.router_port to a free port (or 0 to pick one), or stop the other endpoint "
            "with `azml2aks local down PIPELINE`")

    def _ensure_router(self, name: str, state: dict[str, Any]) -> None:
        router = state["router"]
        if router.get("pid") and processes.is_alive(router["pid"]):
            return
        self._check_router_port(name, router["port"])
        log = self._dir(name) / "logs" / "router.log"
        argv = [sys.executable, "-m", "azml2aks.backends.local.router",
                "--state", str(self._dir(name) / "state.json"), "--port", str(router["port"])]
        pid = processes.spawn(argv, env=dict(os.environ), log_path=log)
        router["pid"] = pid
        self._write(name, state)
        processes.wait_http(f"http://{processes.LOOPBACK}:{router['port']}/", timeout=15, pid=pid, log_path=log)
        logger.info("router of endpoint %s listening on port %s (pid %s)", name, router["port"], pid)

    def create_or_update_deployment(self, spec: DeploymentSpec, *, on_event=None) -> DeploymentState:
        """Start colour ``spec.name`` at 0 % traffic from the package folder ``spec.code_dir`` (its
        score.py and the model the package stage copied into ``mlflow-model/``); raises
        BackendError (with the log tail) when its inference server does not come up. A colour
        with live traffic is never replaced."""
        name, colour = spec.endpoint_name, spec.name
        if not spec.code_dir:
            raise ConfigError(f"deployment {colour!r}: no package folder to serve",
                              hint="run `azml2aks package PIPELINE` first")
        package_dir = Path(spec.code_dir)
        model_dir = package_dir / "mlflow-model"
        if not model_dir.is_dir():
            raise NotFoundError(f"deployment {colour!r}: {package_dir} holds no model folder (mlflow-model/)",
                                hint="package the model again: azml2aks package PIPELINE")
        with self._locked(name):
            state = self._read(name)
            if state["traffic"].get(colour, 0) > 0:
                raise BackendError(f"deployment {colour!r} of endpoint {name!r} has "
                                   f"{state['traffic'][colour]} % live traffic and cannot be replaced")
            old = state["deployments"].get(colour, {}).get("server")
            state["deployments"][colour] = {"status": "Creating", "model": spec.model,
                                            "environment": spec.environment,
                                            "package_dir": str(package_dir), "model_dir": str(model_dir),
                                            "log_path": str(self._dir(name) / "logs" / f"{colour}.log")}
            state["traffic"].setdefault(colour, 0)
            self._write(name, state)
        if old:
            serving.InferenceServer.from_dict(old).stop()
        log = Path(state["deployments"][colour]["log_path"])
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")  # each deployment starts a fresh log
        try:
            server = serving.start_inference_server(
                package_dir, model_dir, workers=self.workers, log_path=log,
                startup_timeout=self.startup_timeout, extra_env=dict(spec.environment_variables),
                memory_limit=(spec.resources.get("limits") or {}).get("memory"),  # enforced like a pod's
                entry_script=spec.scoring_script,
                # the pid is in state.json before the wait: `local down` finds it whatever happens next
                on_spawned=lambda s: self._set_status(name, colour, "Creating", s.to_dict()))
        except BackendError:
            self._set_status(name, colour, "Failed", None)
            raise
        except KeyboardInterrupt:  # Ctrl-C / SIGTERM: the server is already stopped; say so
            self._set_status(name, colour, "Failed", None, error="interrupted while starting")
            raise
        self._set_status(name, colour, "Succeeded", server.to_dict())
        return DeploymentState(colour, "Succeeded", model=spec.model, instance_count=1)

    def _set_status(self, name: str, colour: str, status: str, server: dict | None, *,
                    error: str | None = None) -> None:
        with self._locked(name):
            state = self._read(name)
            dep = state["deployments"].setdefault(colour, {})
            dep.update(status=status, server=server, updated=time.time())
            if error:
                dep["error"] = error
            self._write(name, state)

    def delete_deployment(self, endpoint: str, colour: str) -> None:
        with self._locked(endpoint):
            state = self._read(endpoint)
            if state["traffic"].get(colour, 0) > 0:
                raise BackendError(f"deployment {colour!r} has {state['traffic'][colour]} % live traffic; "
                                   "move it away before deleting", hint="azml2aks traffic PIPELINE ...")
            dep = state["deployments"].pop(colour, None)
            state["traffic"].pop(colour, None)
            self._write(endpoint, state)
        if dep and dep.get("server"):
            serving.InferenceServer.from_dict(dep["server"]).stop()

    def set_traffic(self, endpoint: str, traffic: Mapping[str, int]) -> Traffic:
        """Replace the live split (colours not named go to 0) and wait until the router serves it."""
        with self._locked(endpoint):
            state = self._read(endpoint)
            try:
                new = Traffic(state["traffic"], check=False).assign(dict(traffic), state["deployments"]).to_dict()
            except ValueError as e:
                raise ConfigError(f"endpoint {endpoint!r}: {e}") from None
            not_ready = [c for c, p in new.items() if p > 0 and state["deployments"][c].get("status") != "Succeeded"]
            if not_ready:
                raise BackendError(f"deployment {not_ready[0]!r} is not ready; it cannot take live traffic")
            state["traffic"] = new
            self._write(endpoint, state)
            self._ensure_router(endpoint, state)
            generation = state["generation"]
        self._await_generation(state, generation)
        return Traffic(new)

    def _await_generation(self, state: dict[str, Any], generation: int, timeout: float = 10.0) -> None:
        import urllib.request

        url = f"http://{processes.LOOPBACK}:{state['router']['port']}/"
        for _ in Poller(initial=0.05, factor=1.0, timeout=timeout):
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback only
                    if json.loads(resp.read()).get("generation", 0) >= generation:
                        return
            except OSError:
                pass
        raise BackendError(f"the router at {url} did not pick up traffic generation {generation}")

    def get_keys(self, endpoint: str) -> EndpointKeys:
        self._read(endpoint)
        data = json.loads((self._dir(endpoint) / "keys.json").read_text())
        return EndpointKeys(data["primaryKey"], data["secondaryKey"])

    def get_credentials(self, endpoint: str) -> Credentials:
        return Credentials("key", self.get_keys(endpoint).primary)

    def get_logs(self, endpoint: str, colour: str, *, tail: int = 50, container: str = "inference-server") -> str:
        state = self._read(endpoint)
        dep = state["deployments"].get(colour)
        if dep is None:
            raise NotFoundError(f"endpoint {endpoint!r} has no deployment {colour!r}; "
                                f"deployments: {sorted(state['deployments'])}")
        return processes.log_tail(dep["log_path"], lines=tail)

    @contextlib.contextmanager
    def hold_endpoint(self, name: str, *, holder: Mapping[str, Any], timeout: float) -> Iterator[None]:
        """One rollout at a time on this machine: an exclusive lock on ``<endpoint>/rollout.lock``
        (released by the OS if the process dies), holding ``holder``'s verb and run id for the
        refusal."""
        me = {"run_id": holder.get("run_id") or "unknown-run", "verb": holder.get("verb") or "rollout",
              "pid": os.getpid()}
        folder = self._dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "rollout.lock", "a+") as f:
            for _ in Poller(initial=0.5, factor=1.5, max_delay=5.0, timeout=timeout or 0):
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    continue
            else:
                f.seek(0)
                try:
                    other = json.loads(f.read())
                except ValueError:
                    other = {}
                raise LockedError(f"local endpoint {name!r} is busy: {other.get('verb', 'a rollout')} of run "
                                  f"{other.get('run_id', '?')} (pid {other.get('pid', '?')}) holds its rollout lock",
                                  hint="wait for it (add --wait-lock), or run again when it is done",
                                  holder=other.get("run_id"))
            try:
                f.seek(0)
                f.truncate()
                f.write(json.dumps(me))
                f.flush()
                yield
            finally:
                f.seek(0)
                f.truncate()
                fcntl.flock(f, fcntl.LOCK_UN)

    # --- local only ----------------------------------------------------------------------
    def deployment_health(self, endpoint: str) -> dict[str, dict[str, Any]]:
        """Each colour's status, pid, port and whether its process is alive."""
        state = self._read(endpoint)
        out = {}
        for colour, dep in state["deployments"].items():
            server = dep.get("server") or {}
            out[colour] = {"status": dep.get("status"), "model": dep.get("model"), "pid": server.get("pid"),
                           "port": server.get("port"),
                           "alive": bool(server.get("pid")) and processes.is_alive(server["pid"])}
        return out

    def stop_endpoint(self, name: str) -> list[int]:
        """Stop the router and every colour of ``name``, forget its state; return the pids stopped.
        Succeeds when the endpoint does not exist."""
        try:
            state = self._read(name)
        except NotFoundError:
            return []
        pids = []
        for dep in state["deployments"].values():
            if dep.get("server"):
                serving.InferenceServer.from_dict(dep["server"]).stop()
                pids.append(dep["server"]["pid"])
        if state["router"].get("pid"):
            processes.terminate(state["router"]["pid"])
            pids.append(state["router"]["pid"])
        for leftover in ("state.json", "keys.json"):
            (self._dir(name) / leftover).unlink(missing_ok=True)
        return pids

    def list_endpoints(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob("*/state.json")) if self.root.exists() else []
