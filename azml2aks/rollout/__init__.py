"""The blue/green rollout: a pure engine and the driver that executes it.

``traffic`` (the split value), ``actions`` (what the engine asks for and what it is told),
``stats`` (intervals and the paired sign test), ``gates`` (judging one probe round),
``sequential`` (when a round may stop) and ``engine`` (the sans-I/O flow, ``plan`` and
``drive``) are PURE. ``driver`` is the only module here with I/O: it executes actions on a
backend's Endpoints port and the prober; import it as ``azml2aks.rollout.driver``.
The pure names are re-exported here (``from azml2aks import rollout as R; R.Rollout``).
"""

from azml2aks.rollout.actions import (
    Action,
    CreateDeployment,
    DeleteDeployment,
    Failed,
    Observation,
    Ok,
    Planned,
    Probe,
    ProbeResult,
    Promote,
    Rollback,
    SetTraffic,
    Shadow,
    SmokeTest,
    Stats,
    Wait,
)
from azml2aks.rollout.engine import Report, Resume, Rollout, drive, plan
from azml2aks.rollout.gates import (
    FAIL,
    INCONCLUSIVE,
    LATENCY_GATES,
    PASS,
    PLANNED,
    SKIPPED,
    GateFigure,
    Judgement,
    format_step,
    judge,
    judge_smoke,
)
from azml2aks.rollout.sequential import RowOutcome, StopRule, Tally
from azml2aks.rollout.traffic import (
    Traffic,
    check_split,
    choose_colour,
    promote_target,
    rollback_target,
)

__all__ = [
    "Action", "CreateDeployment", "DeleteDeployment", "Failed", "Observation", "Ok", "Planned", "Probe",
    "ProbeResult", "Promote", "Rollback", "SetTraffic", "Shadow", "SmokeTest", "Stats", "Wait",
    "Report", "Resume", "Rollout", "drive", "plan", "FAIL", "INCONCLUSIVE", "LATENCY_GATES", "PASS", "PLANNED",
    "SKIPPED", "GateFigure", "Judgement", "judge", "judge_smoke", "Traffic", "check_split",
    "choose_colour", "promote_target", "rollback_target", "RowOutcome", "StopRule", "Tally", "format_step",
]
