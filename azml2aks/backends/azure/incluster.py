"""Inside the AKS cluster: the official ``kubernetes`` client on the cluster user kubeconfig.

ARM hands the kubeconfig out (``listClusterUserCredential``); it is parsed in memory and never
logged or written anywhere but the client library's own temp files for certificate data. On
an Entra ID (AAD) cluster that kubeconfig's user runs ``kubelogin`` (exec) or names the
legacy ``azure`` auth provider; instead of needing kubelogin on the agent, the user is
replaced by a bearer token for the AKS server application obtained from the same Azure
credential the pipeline already uses (what kubelogin does in its ``azurecli``/``spn`` modes).

Every call is bounded (``timeout`` = connect, read seconds; no urllib3 retries), so an API
server that cannot be reached (private cluster, authorized IP ranges, no route from the agent)
costs seconds and surfaces as :class:`ClusterUnreachable` with the reason.
"""

from __future__ import annotations

import logging
from typing import Any

import yaml

logger = logging.getLogger(__name__)

#: the AKS Entra ID server application (the audience of AKS AAD tokens, as kubelogin uses it)
AKS_AAD_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
GROUP, VERSION, PLURAL = "amlarc.azureml.com", "v1alpha1", "instancetypes"
ROUTER_SERVICE = "azureml-fe"


class ClusterUnreachable(Exception):
    """Raised when the API server cannot be reached or refuses the credentials; ``str`` is the reason."""


def connect(kubeconfig: bytes, *, credential: Any = None, timeout: tuple[float, float] = (3.0, 10.0)) -> KubeClient:
    """A client on the kubeconfig's current context. Sends nothing."""
    from kubernetes import client, config

    data = yaml.safe_load(kubeconfig)
    for entry in data.get("users") or []:
        user = entry.get("user") or {}
        if ("exec" in user or "auth-provider" in user) and credential is not None:
            try:
                token = credential.get_token(f"{AKS_AAD_SERVER_APP}/.default").token
            except Exception as e:  # azure-identity's errors; the message names no secret
                raise ClusterUnreachable(f"no Entra ID token for the cluster's API server "
                                         f"({type(e).__name__})") from None
            entry["user"] = {"token": token}
    cfg = client.Configuration()
    try:
        config.load_kube_config_from_dict(data, client_configuration=cfg, persist_config=False)
    except Exception as e:  # the loader raises ConfigException and friends; keep the kubeconfig out of it
        raise ClusterUnreachable(f"the cluster user kubeconfig cannot be used ({type(e).__name__})") from None
    cfg.retries = 0
    return KubeClient(client.ApiClient(cfg), timeout, server=cfg.host)


class KubeClient:
    def __init__(self, api: Any, timeout: tuple[float, float], *, server: str) -> None:
        from kubernetes import client

        self.server = server
        self.timeout = timeout
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.version = client.VersionApi(api)

    def _call(self, what: str, fn, *args, missing_ok: bool = False, **kwargs):
        """``fn(...)`` bounded; None for a 404 when ``missing_ok``; ClusterUnreachable otherwise."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, _request_timeout=self.timeout, **kwargs)
        except ApiException as e:
            if e.status == 404 and missing_ok:
                return None
            if e.status in (401, 403):
                raise ClusterUnreachable(f"the API server at {self.server} refused the cluster user credentials "
                                         f"while {what} (HTTP {e.status} {e.reason})") from None
            raise ClusterUnreachable(f"the API server at {self.server} answered HTTP {e.status} while {what}") from None
        except (HTTPError, OSError) as e:
            reason = getattr(e, "reason", None) or e
            raise ClusterUnreachable(f"cannot reach the API server at {self.server} ({type(reason).__name__})") from None

    def probe(self) -> str:
        """The server's version (``v1.30.6``); raises ClusterUnreachable."""
        return self._call("reading /version", self.version.get_code).git_version

    def namespace_exists(self, name: str) -> bool:
        return self._call(f"reading namespace {name}", self.core.read_namespace, name, missing_ok=True) is not None

    def instance_type(self, name: str) -> dict | None:
        """The InstanceType's ``spec.resources`` ({requests, limits}), or None when not defined."""
        obj = self._call(f"reading instance type {name}", self.custom.get_cluster_custom_object,
                         GROUP, VERSION, PLURAL, name, missing_ok=True)
        if obj is None:
            return None
        return (obj.get("spec") or {}).get("resources") or {}

    def instance_type_spec(self, name: str) -> dict | None:
        """The InstanceType's whole ``spec`` ({nodeSelector, resources}), or None."""
        obj = self._call(f"reading instance type {name}", self.custom.get_cluster_custom_object,
                         GROUP, VERSION, PLURAL, name, missing_ok=True)
        return None if obj is None else (obj.get("spec") or {})

    def router(self, namespace: str) -> tuple[str, str | None] | None:
        """(service type, address or None) of azureml-fe, or None when the service is missing."""
        svc = self._call(f"reading service {ROUTER_SERVICE}", self.core.read_namespaced_service,
                         ROUTER_SERVICE, namespace, missing_ok=True)
        if svc is None:
            return None
        kind = svc.spec.type
        if kind == "LoadBalancer":
            ingress = (svc.status.load_balancer.ingress or []) if svc.status and svc.status.load_balancer else []
            address = next((i.ip or i.hostname for i in ingress if i.ip or i.hostname), None)
        elif kind == "NodePort":
            ports = [p.node_port for p in svc.spec.ports or [] if p.node_port]
            address = f"<node IP>:{ports[0]}" if ports else None
        else:
            address = svc.spec.cluster_ip
        return kind, address

    # --- writes (infra up) --------------------------------------------------------------------------
    def ensure_namespace(self, name: str) -> bool:
        """Create the namespace when missing; True when it was created."""
        if self.namespace_exists(name):
            return False
        self._call(f"creating namespace {name}", self.core.create_namespace,
                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        return True

    def apply_instance_type(self, name: str, resources: dict, node_selector: dict | None) -> str:
        """Create or replace an InstanceType; 'created', 'updated' or 'unchanged'."""
        spec = {"nodeSelector": node_selector, "resources": resources}
        current = self._call(f"reading instance type {name}", self.custom.get_cluster_custom_object,
                             GROUP, VERSION, PLURAL, name, missing_ok=True)
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "InstanceType", "metadata": {"name": name}, "spec": spec}
        if current is None:
            self._call(f"creating instance type {name}", self.custom.create_cluster_custom_object,
                       GROUP, VERSION, PLURAL, body)
            return "created"
        if _same_spec(current.get("spec") or {}, spec):
            return "unchanged"
        body["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
        self._call(f"updating instance type {name}", self.custom.replace_cluster_custom_object,
                   GROUP, VERSION, PLURAL, name, body)
        return "updated"


def _same_spec(current: dict, wanted: dict) -> bool:
    return ((current.get("nodeSelector") or None) == (wanted.get("nodeSelector") or None)
            and _norm(current.get("resources")) == _norm(wanted.get("resources")))


def _norm(resources: dict | None) -> dict:
    return {k: {rk: str(rv) for rk, rv in (v or {}).items()} for k, v in (resources or {}).items() if v}
