"""`FakeKubernetes`: a small Kubernetes API server on 127.0.0.1, in a thread.

The official `kubernetes` client (urllib3, so `responses` never sees it) reaches it through the
kubeconfig that `fake.aks` hands out from `listClusterUserCredential` once a test connects
the two: `fake_azure.aks.connect("aks-ml", kube)`. It serves only what azml2aks reads and
writes, with the API server's shapes (kubernetes API reference, core/v1 and the
amlarc.azureml.com/v1alpha1 InstanceType CRD the AzureML extension installs):

    GET/POST  /api/v1/namespaces[/{name}]
    GET       /api/v1/namespaces/{ns}/services/{name}
    GET/POST  /apis/amlarc.azureml.com/v1alpha1/instancetypes        (cluster-scoped)
    GET/PUT   /apis/amlarc.azureml.com/v1alpha1/instancetypes/{name}
    GET       /version

Errors are `Status` objects (404 NotFound, 409 AlreadyExists, 401, 403 Forbidden). Requests
need `Authorization: Bearer <token>` (the token in the kubeconfig). Every request is logged in
`requests` as (method, path). `forbid(path_prefix)` answers 403 on matching paths (RBAC).
A fresh server holds namespaces `default`, `kube-system` and `azureml`, and the router
service `azureml-fe` (LoadBalancer, 20.1.2.3) in `azureml`, like a healthy extension install.
"""
from __future__ import annotations

import copy
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CRD_GROUP = "amlarc.azureml.com"
CRD_VERSION = "v1alpha1"
_IT = f"/apis/{CRD_GROUP}/{CRD_VERSION}/instancetypes"


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class FakeKubernetes:
    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        self.tokens = {self.token}   # bearer tokens accepted (accept() adds an Entra ID one)
        self.namespaces: dict[str, dict] = {}
        self.services: dict[tuple[str, str], dict] = {}
        self._own_types: dict[str, dict] = {}
        self._store = None   # (fake.instance_types, cluster) once bound
        self.requests: list[tuple[str, str]] = []
        self.forbidden: list[str] = []
        self._lock = threading.Lock()
        for ns in ("default", "kube-system", "azureml"):
            self.add_namespace(ns)
        self.add_router()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-k8s", daemon=True)

    # ---- lifecycle ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeKubernetes:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ---- test API ----------------------------------------------------------------------
    def add_namespace(self, name: str) -> dict:
        body = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "uid": secrets.token_hex(8), "resourceVersion": "1"},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        self.namespaces[name] = body
        return body

    def add_router(self, *, namespace: str = "azureml", service_type: str = "LoadBalancer",
                   ip: str | None = "20.1.2.3") -> dict:
        """The extension's inference router service `azureml-fe`; `ip=None`: address pending."""
        ingress = [{"ip": ip}] if ip and service_type == "LoadBalancer" else []
        body = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "azureml-fe", "namespace": namespace, "resourceVersion": "1"},
                "spec": {"type": service_type, "clusterIP": "10.0.12.34",
                         "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 9001}]},
                "status": {"loadBalancer": {"ingress": ingress}}}
        self.services[(namespace, "azureml-fe")] = body
        return body

    def bind(self, store, cluster: str) -> None:
        """Keep InstanceTypes in the fake's per-cluster store (`fake.instance_types`, what
        deployments are sized by) instead of here; `fake.aks.connect()` does it."""
        self._store = (store, cluster)

    @property
    def instance_types(self) -> dict[str, dict]:
        """The InstanceType objects on this cluster, by name."""
        if self._store is not None:
            store, cluster = self._store
            return {o["metadata"]["name"]: o for o in store.objects(cluster)}
        return self._own_types

    def add_instance_type(self, name: str, *, requests: dict | None = None, limits: dict | None = None,
                          node_selector: dict | None = None) -> dict:
        if self._store is not None:
            store, cluster = self._store
            return store.apply(cluster, name, requests=requests, limits=limits, node_selector=node_selector)
        body = {"apiVersion": f"{CRD_GROUP}/{CRD_VERSION}", "kind": "InstanceType",
                "metadata": {"name": name, "resourceVersion": "1"},
                "spec": {"nodeSelector": node_selector,
                         "resources": {"requests": requests or {}, "limits": limits or {}}}}
        self._own_types[name] = body
        return body

    def _apply(self, body: dict) -> dict:
        spec = body.get("spec") or {}
        res = spec.get("resources") or {}
        return self.add_instance_type(body["metadata"]["name"], requests=res.get("requests"),
                                      limits=res.get("limits"), node_selector=spec.get("nodeSelector"))

    def accept(self, token: str) -> None:
        """Also accept `token` (an Entra ID token, as an AAD-enabled cluster does)."""
        self.tokens.add(token)

    def forbid(self, path_prefix: str) -> None:
        """Answer 403 Forbidden on every path starting with `path_prefix` (missing RBAC)."""
        self.forbidden.append(path_prefix)

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] in ("POST", "PUT", "PATCH", "DELETE")]

    # ---- HTTP --------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0].rstrip("/") or "/"
                with fake._lock:
                    fake.requests.append((self.command, path))
                    status, body = fake._route(self.command, path, self.headers.get("Authorization"), raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        return Handler

    def _route(self, method: str, path: str, auth: str | None, raw: bytes) -> tuple[int, dict]:
        if not auth or auth.removeprefix("Bearer ") not in self.tokens:
            return 401, _status(401, "Unauthorized", "Unauthorized")
        if any(path.startswith(p) for p in self.forbidden):
            return 403, _status(403, "Forbidden", f"User \"clusterUser\" cannot {method.lower()} {path}")
        body = json.loads(raw) if raw else None
        if path == "/version":
            return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.6",
                         "gitCommit": "0" * 40, "gitTreeState": "clean",
                         "buildDate": "2024-10-22T18:34:39Z", "goVersion": "go1.22.8",
                         "compiler": "gc", "platform": "linux/amd64"}
        if path == "/api/v1/namespaces" and method == "POST":
            return self._create(self.namespaces, body, "namespaces")
        if m := re.fullmatch(r"/api/v1/namespaces/([^/]+)", path):
            return self._get(self.namespaces, m[1], "namespaces")
        if m := re.fullmatch(r"/api/v1/namespaces/([^/]+)/services/([^/]+)", path):
            return self._get(self.services, (m[1], m[2]), "services")
        if path == _IT and method == "GET":
            return 200, {"apiVersion": f"{CRD_GROUP}/{CRD_VERSION}", "kind": "InstanceTypeList",
                         "metadata": {}, "items": list(self.instance_types.values())}
        if path == _IT and method == "POST":
            name = body["metadata"]["name"]
            if name in self.instance_types:
                return 409, _status(409, "AlreadyExists", f'instancetypes.{CRD_GROUP} "{name}" already exists')
            return 201, self._apply(body)
        if m := re.fullmatch(_IT + r"/([^/]+)", path):
            if method == "PUT":
                if m[1] not in self.instance_types:
                    return 404, _status(404, "NotFound", f'instancetypes.{CRD_GROUP} "{m[1]}" not found')
                return 200, self._apply(body)
            return self._get(self.instance_types, m[1], f"instancetypes.{CRD_GROUP}")
        return 404, _status(404, "NotFound", f"the server could not find the requested resource ({path})")

    def _get(self, store: dict, key, kind: str) -> tuple[int, dict]:
        if key not in store:
            name = key[1] if isinstance(key, tuple) else key
            return 404, _status(404, "NotFound", f'{kind} "{name}" not found')
        return 200, copy.deepcopy(store[key])

    def _create(self, store: dict, body: dict, kind: str) -> tuple[int, dict]:
        name = body["metadata"]["name"]
        if name in store:
            return 409, _status(409, "AlreadyExists", f'{kind} "{name}" already exists')
        body = copy.deepcopy(body)
        body["metadata"]["resourceVersion"] = "1"
        if kind == "namespaces":
            body["status"] = {"phase": "Active"}
        store[name] = body
        return 201, body
