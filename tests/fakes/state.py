"""Shared state of the fake: its configuration, the injected clock and resource ids.

Everything the resource modules (jobs, assets, compute, endpoints, aks) have in common
lives here and nowhere else: the `FakeConfig` knobs a test turns (LRO poll counts,
eventual-consistency window, job pacing), the `FakeClock` that stands in for wall time
(latency is simulated by advancing it, never by sleeping), and the helpers that build
ARM ids and timestamps the way the service prints them.
"""
from __future__ import annotations

import datetime as _dt
import re
import uuid
from dataclasses import dataclass, field

ARM_HOST = "https://management.azure.com"
ML_PROVIDER = "Microsoft.MachineLearningServices"
NAME_RULE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*[a-zA-Z0-9]$")


@dataclass
class FakeConfig:
    """Knobs of the fake. Every field has a default a test can override."""

    subscription_id: str = "00000000-1111-2222-3333-444444444444"
    resource_group: str = "rg-ml"
    workspace: str = "ml-ws"
    location: str = "eastus"
    #: InProgress answers an async-operation URL gives before its terminal state.
    lro_polls: int = 1
    #: reads of an endpoint that still show the previous traffic split after an update.
    stale_traffic_reads: int = 0
    #: job GETs answered `Queued`, then `Running`, before the job reaches its outcome.
    job_queued_polls: int = 1
    job_running_polls: int = 1
    #: AKS clusters known to the fake, by name (see aks.py for the shape of a cluster).
    clusters: dict = field(default_factory=dict)

    @property
    def workspace_path(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{ML_PROVIDER}/workspaces/{self.workspace}"
        )

    @property
    def workspace_id(self) -> str:
        return self.workspace_path

    @property
    def api_host(self) -> str:
        """The regional data-plane host (discovery, run history)."""
        return f"https://{self.location}.api.azureml.ms"


class FakeClock:
    """An injected clock: `time()`/`monotonic()` read it, `sleep()`/`advance()` move it.

    Simulated latency advances this clock; a test reads it before and after a call.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self._now

    monotonic = time
    perf_counter = time

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        self._now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def now(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self._now, tz=_dt.timezone.utc)

    def iso(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id() -> str:
    return str(uuid.uuid4())


def system_data(clock: FakeClock, created: dict | None = None) -> dict:
    """`systemData` as the service prints it; keeps `createdAt` of an earlier version."""
    now = clock.iso()
    base = {
        "createdAt": now,
        "createdBy": "fake-user@example.com",
        "createdByType": "User",
    }
    if created:
        base = {k: created[k] for k in ("createdAt", "createdBy", "createdByType") if k in created}
    return {
        **base,
        "lastModifiedAt": now,
        "lastModifiedBy": "fake-user@example.com",
        "lastModifiedByType": "User",
    }


def valid_name(name: str) -> bool:
    """The Azure rule for endpoint and deployment names: 3-32 chars, letters first."""
    return 3 <= len(name) <= 32 and bool(NAME_RULE.match(name))
