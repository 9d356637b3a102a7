"""The Pipeline's operations beside its stages: the endpoint verbs (status, traffic, promote,
rollback, invoke, logs, keys, local down) and the run history (runs, report).

:class:`PipelineOperations` is a mixin of :class:`azml2aks.pipeline.Pipeline` (which provides
``config``, ``backend``, ``workdir``, ``journal`` and ``on_event``); each method is one call
into :mod:`azml2aks.rollout.verbs` or :mod:`azml2aks.report`, so the CLI calls Pipeline methods
only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from azml2aks.journal import Journal


class PipelineOperations:
    def status(self) -> dict[str, Any]:
        """The endpoint's traffic, deployments and scoring URI (and process health when local)."""
        from azml2aks.rollout import verbs as V

        return V.status(self)

    def set_traffic(self, traffic: dict[str, int] | list[str], *, wait_lock: float = 0,
                    allow_empty: bool = False) -> dict[str, Any]:
        """Set the live split (``{"blue": 90, "green": 10}`` or ``["blue=90", "green=10"]``);
        0 % everywhere on a live endpoint only with ``allow_empty``."""
        from azml2aks.rollout import verbs as V

        return V.set_traffic(self, traffic, wait_lock=wait_lock, allow_empty=allow_empty)

    def promote(self, colour: str | None = None, *, wait_lock: float = 0) -> dict[str, Any]:
        """Give ``colour`` (default: the new colour of a split in progress) 100 %."""
        from azml2aks.rollout import verbs as V

        return V.promote(self, colour, wait_lock=wait_lock)

    def rollback(self, colour: str | None = None, *, wait_lock: float = 0) -> dict[str, Any]:
        """Send all traffic back to ``colour`` (default: the previous colour)."""
        from azml2aks.rollout import verbs as V

        return V.rollback(self, colour, wait_lock=wait_lock)

    def invoke(self, file: str | os.PathLike, *, deployment: str | None = None) -> dict[str, Any]:
        """Score the JSON request in ``file`` through the endpoint (pinned to ``deployment``)."""
        from azml2aks.rollout import verbs as V

        return V.invoke(self, file, deployment=deployment)

    def logs(self, colour: str, *, tail: int = 50, container: str = "inference-server") -> str:
        """The last ``tail`` lines of ``colour``'s log (``container``: ``inference-server``, or
        on Azure ``storage-initializer``, which downloads the model)."""
        from azml2aks.rollout import verbs as V

        return V.logs(self, colour, tail=tail, container=container)

    def keys(self) -> dict[str, str]:
        """The endpoint's keys (only for a caller that asked; never logged)."""
        from azml2aks.rollout import verbs as V

        return V.get_keys(self)

    def local_down(self) -> dict[str, Any]:
        """Stop the local endpoint's router and servers (local backend only)."""
        from azml2aks.rollout import verbs as V

        return V.local_down(self)

    # --- runs and their reports ---------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        """Every run in the work dir, oldest first, with each stage's state and result."""
        from azml2aks.report.view import stage_summary

        latest = Journal.latest(self.workdir)
        out = []
        for j in Journal.all(self.workdir):
            stages = {}
            for name, entry in (j.data.get("stages") or {}).items():
                stages[name] = {"state": entry.get("state", "done"), "started": entry.get("started"),
                                "finished": entry.get("finished"), "summary": stage_summary(name, entry),
                                **({"result": entry["result"]} if "result" in entry else {}),
                                **({"error": entry["error"]} if "error" in entry else {})}
            out.append({"run_id": j.run_id, "started": j.data.get("started"), "backend": j.data.get("backend"),
                        "latest": latest is not None and latest.run_id == j.run_id, "stages": stages})
        return out

    def report(self, run_id: str | None = None, *, directory: str | os.PathLike | None = None) -> dict[str, Any]:
        """Write run ``run_id``'s report (default: the latest run) as report.html and report.md
        beside its journal (or in ``directory``); return their paths and the verdict."""
        from azml2aks.report.writer import write_report

        return write_report(Journal.load(self.workdir, run_id), Path(directory) if directory else None)

