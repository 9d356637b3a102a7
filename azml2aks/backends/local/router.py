"""The local endpoint router: one process on 127.0.0.1 speaking Azure's Kubernetes scoring contract.

    POST /api/v1/endpoint/<name>/score     Authorization: Bearer <key>   (401 otherwise)
         azureml-model-deployment: <colour> pins a colour (404 when unknown); otherwise the
         live traffic weights pick one. The answer names who served it in the same header.
         A colour that is down answers 503 at once (short connect timeout), never a hang.
    GET  /                                  health (no key): {"status": "healthy", "generation": N};
                                            with a valid key also the traffic split
    any other method on a known path        405 with an Allow header; unknown paths 404
    a body over max_body_bytes (state.json, default 10 MiB) gets 413 without being read

The router owns no state. It reads ``state.json`` (traffic, each colour's port) and
``keys.json`` from the endpoint's folder in the work dir, and reloads them when either
changes (writers replace files atomically), so a traffic change is atomic: a request is
routed with the old table or the new one, and both colours stay up across the change.
Restarting the router therefore recovers everything. Run as
``python -m azml2aks.backends.local.router --state PATH --port N`` (started by
``endpoints.py`` through ``processes.spawn``).
"""

from __future__ import annotations

import argparse
import hmac
import http.client
import json
import logging
import os
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
PIN_HEADER = "azureml-model-deployment"
CONNECT_TIMEOUT = 1.0
MAX_BODY_BYTES = 10 * 1024 * 1024


class Table:
    """An immutable routing table built from state.json and keys.json."""

    def __init__(self, state: dict[str, Any], keys: dict[str, str]) -> None:
        self.name = state.get("name", "")
        self.generation = int(state.get("generation", 0))
        self.timeout = float(state.get("request_timeout_ms", 5000)) / 1000
        self.max_body = int(state.get("max_body_bytes") or MAX_BODY_BYTES)
        self.targets: dict[str, tuple[str, int] | None] = {}
        for colour, dep in (state.get("deployments") or {}).items():
            server = dep.get("server") if dep.get("status") == "Succeeded" else None
            self.targets[colour] = (LOOPBACK, int(server["port"])) if server else None
        self.traffic = {c: int(p) for c, p in (state.get("traffic") or {}).items() if int(p) > 0}
        self.keys = [k.encode() for k in (keys.get("primaryKey"), keys.get("secondaryKey")) if k]

    def authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer ") or not self.keys:
            return False
        given = header[len("Bearer "):].strip().encode()
        return any(hmac.compare_digest(given, k) for k in self.keys)

    def pick(self, *, excluding: str | None = None) -> str | None:
        """A colour drawn by traffic weight (``excluding`` one that just failed), if any."""
        colours = [c for c in self.traffic if c != excluding]
        if not colours:
            return None
        return random.choices(colours, weights=[self.traffic[c] for c in colours])[0]


class Router:
    """Holds the current table; reloads it when the files change (checked per request)."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = Path(state_path)
        self.keys_path = self.state_path.with_name("keys.json")
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self.table = Table({}, {})
        self.refresh()

    def _signature(self) -> tuple:
        out = []
        for p in (self.state_path, self.keys_path):
            try:
                st = p.stat()
                out.append((st.st_ino, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                out.append(None)
        return tuple(out)

    def refresh(self) -> Table:
        stamp = self._signature()
        if stamp == self._stamp:
            return self.table
        with self._lock:
            stamp = self._signature()
            if stamp != self._stamp:
                try:
                    state = json.loads(self.state_path.read_text())
                    keys = json.loads(self.keys_path.read_text()) if self.keys_path.exists() else {}
                except (OSError, ValueError) as e:  # keep serving the last good table
                    logger.warning("could not reload %s: %s", self.state_path, e)
                    return self.table
                self.table = Table(state, keys)
                self._stamp = stamp
                logger.info("routing table generation %s: traffic %s", self.table.generation, self.table.traffic)
        return self.table


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid the 40 ms delayed-ACK stall
    server: RouterServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("%s " + format, self.address_string(), *args)

    def _reply(self, status: int, body: bytes | dict, *, content_type: str = "application/json",
               deployment: str | None = None) -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if deployment:
            self.send_header(PIN_HEADER, deployment)
        self.end_headers()
        self.wfile.write(data)

    def _score_path(self, table: Table) -> str:
        return f"/api/v1/endpoint/{table.name}/score"

    def _not_allowed(self) -> None:
        table = self.server.router.refresh()
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        allow = {"/": "GET", self._score_path(table): "POST"}.get(path)
        self.close_connection = True  # the body (if any) is not read
        if allow is None:
            return self._reply(404, {"message": f"no route for {self.command} {self.path}"})
        self.send_response(405)
        self.send_header("Allow", allow)
        data = json.dumps({"message": f"{self.command} is not allowed on {path}; use {allow}"}).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed  # noqa: N815 - stdlib names

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
        self._not_allowed()

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        table = self.server.router.refresh()
        if self.path.split("?", 1)[0] not in ("/", ""):
            return self._not_allowed()
        health: dict[str, Any] = {"status": "healthy", "endpoint": table.name, "generation": table.generation}
        if table.authorised(self.headers.get("Authorization")):
            health["traffic"] = table.traffic
        self._reply(200, health)

    def _read_body(self, table: Table) -> bytes | None:
        """The request body, or None after answering 400/411/413 (a body too large is never read)."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._reply(411, {"message": "send a Content-Length (chunked bodies are not accepted)"})
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._reply(400, {"message": "invalid Content-Length"})
            return None
        if length > table.max_body:
            self.close_connection = True
            self._reply(413, {"message": f"request body of {length} bytes is over the limit of {table.max_body} "
                                         "bytes (scoring.max_body_bytes); send fewer rows per request"})
            return None
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        table = self.server.router.refresh()
        expected = self._score_path(table)
        if self.path.split("?", 1)[0].rstrip("/") != expected:
            return self._not_allowed()
        body = self._read_body(table)
        if body is None:
            return None
        if not table.authorised(self.headers.get("Authorization")):
            return self._reply(401, {"message": "missing or invalid key: send 'Authorization: Bearer <key>'"})
        pinned = self.headers.get(PIN_HEADER)
        if pinned:
            if pinned not in table.targets:
                return self._reply(404, {"message": f"deployment {pinned!r} does not exist on endpoint "
                                                    f"{table.name!r}; deployments: {sorted(table.targets)}"})
            colour = pinned
        else:
            colour = table.pick()
            if colour is None:
                return self._reply(503, {"message": "no valid deployments to route to: every deployment has "
                                                    f"0 % traffic; pin one with the {PIN_HEADER} header"})
        self._forward(table, colour, body, retry=not pinned)

    def _forward(self, table: Table, colour: str, body: bytes, *, retry: bool) -> None:
        """Send ``body`` to ``colour``. An unpinned request whose colour refused or dropped the
        connection (a colour being replaced or stopped; scoring is idempotent) is sent once more
        to another colour with live traffic, as an ingress with passive health checks would;
        pinned requests (the rollout's probes) never are, so the gates see every failure."""
        target = table.targets.get(colour)
        if target is None:
            return self._reply(503, {"message": f"deployment {colour!r} is not ready"}, deployment=colour)
        conn = http.client.HTTPConnection(*target, timeout=CONNECT_TIMEOUT)
        try:
            conn.connect()
            conn.sock.settimeout(table.timeout)
            conn.request("POST", "/score", body=body,
                         headers={"Content-Type": self.headers.get("Content-Type", "application/json")})
            resp = conn.getresponse()
            data = resp.read()
            self._reply(resp.status, data, content_type=resp.getheader("Content-Type", "application/json"),
                        deployment=colour)
        except TimeoutError as e:
            status = 504 if conn.sock is not None else 503
            self._reply(status, {"message": f"deployment {colour!r} did not answer in time ({e})"}, deployment=colour)
        except (ConnectionError, OSError, http.client.HTTPException) as e:
            fresh = self.server.router.refresh() if retry and isinstance(e, ConnectionError) else None
            other = fresh.pick(excluding=colour) if fresh is not None else None
            if other is not None:
                logger.warning("deployment %s dropped a request (%s); sent again to %s", colour,
                               type(e).__name__, other)
                return self._forward(fresh, other, body, retry=False)
            self._reply(503, {"message": f"deployment {colour!r} is unavailable: {type(e).__name__}"},
                        deployment=colour)
        finally:
            conn.close()


class RouterServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, port: int, router: Router) -> None:
        self.router = router
        super().__init__((LOOPBACK, port), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="azml2aks-router", description=__doc__.splitlines()[0])
    parser.add_argument("--state", required=True, help="the endpoint's state.json")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("AZML2AKS_ROUTER_LOG", "INFO"),
                        format="%(asctime)s %(levelname)s %(message)s")
    server = RouterServer(args.port, Router(Path(args.state)))
    logger.info("router for %s listening on %s:%s", server.router.table.name, LOOPBACK, args.port)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
