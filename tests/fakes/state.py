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
    #: simulated duration (fake-clock seconds) per LRO operation name; an operation named
    #: here ignores `lro_polls` and ends once the clock passed its start + duration. Use
    #: `AZURE_LRO_SECONDS` for durations like Azure's (needs the simulated sleep: fixtures).
    lro_seconds: dict = field(default_factory=dict)
    #: `Retry-After` (seconds) of 202 answers (DELETE, PATCH, POST actions). Assumption:
    #: the REST spec declares the header but not its value.
    lro_retry_after: int = 10
    # ---- eventual consistency (ON by default; `strongly_consistent()` turns it off) ----
    #: reads of an endpoint that still show the previous traffic split after an update.
    stale_traffic_reads: int = 2
    #: deployment PUTs refused 409 "...because it is in Updating provisioning state" right
    #: after an endpoint operation reported Succeeded (Azure/azure-sdk-for-net#36961).
    updating_after_success: int = 1
    #: endpoint updates whose traffic names a just-created deployment answered 404
    #: "Deployment X not found in endpoint" (Azure-Samples/contoso-chat#139).
    traffic_404_after_create: int = 1
    #: each eventual-consistency window also closes after this many fake-clock seconds.
    consistency_seconds: float = 15.0
    #: job GETs answered `Queued`, then `Running`, before the job reaches its outcome.
    job_queued_polls: int = 1
    job_running_polls: int = 1
    #: GETs spent in each of the other phases of a job (see jobs.py for the sequence).
    job_phase_polls: dict = field(default_factory=lambda: {
        "Starting": 1, "Preparing": 1, "Finalizing": 1})
    #: optional fake-clock seconds per phase; a phase named here ends by time, not GETs.
    job_phase_seconds: dict = field(default_factory=dict)
    #: AKS clusters known to the fake, by name (see aks.py for the shape of a cluster).
    clusters: dict = field(default_factory=dict)

    def strongly_consistent(self) -> FakeConfig:
        """Turn every eventual-consistency window off (a test that does says why)."""
        self.stale_traffic_reads = 0
        self.updating_after_success = 0
        self.traffic_404_after_create = 0
        return self

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


#: LRO durations like Azure's, for `FakeConfig.lro_seconds`. The 5-minute image build of a
#: deployment is from ../shared/azure-ml-wire.md (~60 polls at the SDK's 5 s); the others
#: are assumptions (minutes for an endpoint, seconds for traffic updates and deletes).
AZURE_LRO_SECONDS = {
    "OnlineDeployments_CreateOrUpdate": 300.0,
    "OnlineEndpoints_CreateOrUpdate": 90.0,
    "OnlineDeployments_Delete": 60.0,
    "OnlineEndpoints_Delete": 60.0,
    "Compute_CreateOrUpdate": 60.0,
}


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


@dataclass
class Window:
    """An eventual-consistency window: it answers `hit()` True for the next `count` calls,
    and closes early once the fake clock reaches `until` (a client that waits gets through,
    and so does one that retries without sleeping on the fake clock)."""

    count: int = 0
    until: float = 0.0

    @classmethod
    def open(cls, count: int, clock: FakeClock, seconds: float) -> Window:
        return cls(count, clock.time() + seconds)

    def hit(self, clock: FakeClock) -> bool:
        if self.count > 0 and clock.time() < self.until:
            self.count -= 1
            return True
        self.count = 0
        return False

    def close(self) -> None:
        self.count = 0
