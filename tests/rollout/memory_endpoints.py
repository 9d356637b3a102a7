"""An in-memory Endpoints port for the verbs' tests: a stateful double at the port seam
(``azml2aks.backends.ports.Endpoints``), recording every split it is asked for. Splits go
through the same ``Traffic`` rules as the real backends."""

from __future__ import annotations

import contextlib

from azml2aks.backends.ports import Credentials, DeploymentState, EndpointKeys, EndpointState
from azml2aks.errors import NotFoundError
from azml2aks.rollout.traffic import Traffic


class MemoryEndpoints:
    name = "memory"

    def __init__(self, traffic: dict[str, int], deployments=("blue", "green"), endpoint: str = "azml2aks-endpoint"):
        self.endpoint = endpoint
        self.traffic = Traffic(traffic)
        self.deployment_names = list(deployments)
        self.calls: list[dict[str, int]] = []
        self.ensure_calls = 0

    def get_endpoint(self, name: str) -> EndpointState:
        if name != self.endpoint:
            raise NotFoundError(f"endpoint {name!r} does not exist")
        return EndpointState(name, "http://127.0.0.1:9/score", self.traffic,
                             tuple(DeploymentState(d) for d in self.deployment_names))

    def ensure_endpoint(self, spec) -> EndpointState:
        self.ensure_calls += 1
        return self.get_endpoint(spec.name)

    def set_traffic(self, endpoint: str, traffic) -> Traffic:
        self.calls.append(dict(traffic))
        self.traffic = self.traffic.assign(dict(traffic), self.deployment_names)
        return self.traffic

    def create_or_update_deployment(self, spec, *, on_event=None) -> DeploymentState:
        raise AssertionError("these tests never create a deployment")

    def delete_deployment(self, endpoint: str, name: str) -> None:
        raise AssertionError("these tests never delete a deployment")

    def get_credentials(self, endpoint: str) -> Credentials:
        return Credentials("key", "not-a-real-key")

    def get_keys(self, endpoint: str) -> EndpointKeys:
        return EndpointKeys("not-a-real-key", "not-a-real-key-2")

    def get_logs(self, endpoint: str, name: str, *, tail: int = 50, container: str = "inference-server") -> str:
        return ""

    def hold_endpoint(self, name: str, *, holder, timeout: float):
        self.locked_by = holder
        return contextlib.nullcontext()
