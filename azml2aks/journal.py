"""The run journal: ``<workdir>/runs/<run-id>/journal.json`` holds what each stage of a run did.

A ``train`` or ``run`` starts a new run; later stage commands add to the latest run, which is
how ``register`` finds the job ``train`` submitted and ``deploy`` finds the package. Each stage
entry has a ``state``: ``running`` (started; still running, or the process was killed),
``done`` (with its ``result``) or ``failed`` (with the ``error``, and for an aborted rollout
the rollout's report). ``facts`` holds what the report needs beyond the results (each
registered job's ``leaderboard``: every trial, listed once by ``register``), which
``azml2aks report`` reads back instead of asking the backend again. ``progress`` records where
an unfinished rollout stands (``deploy --resume``).

Reading never writes: a journal nobody has recorded into yet exists only in memory, and its
folder and the ``runs/LATEST`` pointer appear with its first record. Writes are atomic (temp
file + rename). Nothing secret is ever written here.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from azml2aks.errors import NotFoundError

RUNNING, DONE, FAILED = "running", "done", "failed"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


class Journal:
    """One run's journal."""

    def __init__(self, path: Path, data: dict[str, Any] | None = None) -> None:
        self.path = path
        if data is not None:
            self.data = data
        else:
            self.data = json.loads(path.read_text()) if path.exists() else {}

    @property
    def run_id(self) -> str:
        return self.path.parent.name

    @property
    def saved(self) -> bool:
        return self.path.exists()

    # --- finding runs ------------------------------------------------------------------------
    @classmethod
    def new(cls, workdir: Path, *, pipeline: str, backend: str) -> Journal:
        """A new run, in memory until its first :meth:`record` (or :meth:`save`)."""
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
        return cls(workdir / "runs" / run_id / "journal.json",
                   {"run_id": run_id, "pipeline": pipeline, "backend": backend, "started": _now(), "stages": {}})

    @classmethod
    def start(cls, workdir: Path, *, pipeline: str, backend: str) -> Journal:
        """A new run, written now and made the latest."""
        journal = cls.new(workdir, pipeline=pipeline, backend=backend)
        journal.save()
        return journal

    @property
    def backend(self) -> str | None:
        return self.data.get("backend")

    @classmethod
    def latest(cls, workdir: Path, *, backend: str | None = None) -> Journal | None:
        """The latest run; with ``backend``, the latest run of that backend (a journal written
        by one backend is never continued by the other: its jobs and models live elsewhere)."""
        pointer = workdir / "runs" / "LATEST"
        if pointer.exists():
            path = workdir / "runs" / pointer.read_text().strip() / "journal.json"
            journal = cls(path) if path.exists() else None
            if journal is not None and (backend is None or journal.backend == backend):
                return journal
        return next(iter(cls.runs(workdir, backend=backend)), None) if backend else None

    @classmethod
    def runs(cls, workdir: Path, *, backend: str | None = None) -> list[Journal]:
        """Every run of ``backend`` (all when None), newest first."""
        return [j for j in reversed(cls.all(workdir)) if backend is None or j.backend == backend]

    @classmethod
    def find(cls, workdir: Path, stage: str, *, backend: str) -> Journal | None:
        """The newest run of ``backend`` that finished ``stage`` (an interrupted run has not)."""
        return next((j for j in cls.runs(workdir, backend=backend) if j.stage(stage)), None)

    @classmethod
    def load(cls, workdir: Path, run_id: str | None = None) -> Journal:
        """Run ``run_id`` (default: the latest); NotFoundError naming the runs there are."""
        journal = cls.latest(workdir) if run_id is None else None
        if run_id is not None:
            path = workdir / "runs" / run_id / "journal.json"
            journal = cls(path) if path.is_file() and "/" not in run_id else None
        if journal is None:
            known = [j.run_id for j in cls.all(workdir)][-5:]
            what = f"run {run_id!r}" if run_id else "run"
            raise NotFoundError(
                f"no {what} in the work dir {workdir}",
                hint=(f"runs there: {', '.join(known)} (azml2aks runs PIPELINE)" if known else
                      "run a stage first (azml2aks run PIPELINE), or pass the --workdir the run used"))
        return journal

    @classmethod
    def all(cls, workdir: Path) -> list[Journal]:
        """Every run in ``workdir``, oldest first (run ids start with their start time)."""
        root = workdir / "runs"
        if not root.is_dir():
            return []
        found = []
        for path in sorted(root.glob("*/journal.json")):
            try:
                found.append(cls(path))
            except (OSError, ValueError):  # a journal being written or damaged: skip it, do not fail
                continue
        return found

    # --- stages ------------------------------------------------------------------------------
    def stage(self, name: str) -> dict | None:
        """The stage's entry when it finished (``{"result": ...}``), else None."""
        entry = self.entry(name)
        return entry if entry is not None and entry.get("state", DONE) == DONE else None

    def entry(self, name: str) -> dict | None:
        """The stage's entry whatever its state."""
        return self.data.get("stages", {}).get(name)

    def begin(self, name: str) -> None:
        """Record that ``name`` started (its previous result stays until it ends)."""
        entry = self.data.setdefault("stages", {}).get(name) or {}
        self.data["stages"][name] = {**entry, "state": RUNNING, "started": _now()}
        self.save()

    def record(self, name: str, result: dict[str, Any], **extra: Any) -> None:
        """``name`` finished with ``result``; ``extra`` keys are stored beside it."""
        started = (self.entry(name) or {}).get("started")
        self.data.setdefault("stages", {})[name] = {
            "state": DONE, "started": started, "finished": _now(), "result": result, **extra}
        self.save()

    def fail(self, name: str, error: dict[str, Any]) -> None:
        """``name`` failed with ``error`` (an error's ``to_dict()``: nothing secret)."""
        started = (self.entry(name) or {}).get("started")
        self.data.setdefault("stages", {})[name] = {
            "state": FAILED, "started": started, "finished": _now(), "error": error}
        self.save()

    def add_fact(self, kind: str, key: str, value: Any) -> None:
        """Record a fact the report needs that no stage result holds (``leaderboard`` of a job:
        every trial), under ``facts.<kind>.<key>``; it survives the stage failing."""
        self.data.setdefault("facts", {}).setdefault(kind, {})[key] = value
        self.save()

    def progress(self, name: str) -> dict | None:
        """Where an unfinished operation of this run stands (e.g. a rollout), if recorded."""
        return self.data.get("progress", {}).get(name)

    def record_progress(self, name: str, value: dict[str, Any]) -> None:
        self.data.setdefault("progress", {})[name] = dict(value)
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        first = not self.path.exists()
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, default=str))
        os.replace(tmp, self.path)
        if first:
            (self.path.parent.parent / "LATEST").write_text(self.run_id)
