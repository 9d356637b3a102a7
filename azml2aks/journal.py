"""The run journal: ``<workdir>/runs/<run-id>/journal.json`` holds each finished stage's result.

A ``train`` or ``run`` starts a new run; later stage commands add to the latest run, which is
how ``register`` finds the job ``train`` submitted and ``deploy`` finds the package.
Writes are atomic (temp file + rename). Nothing secret is ever written here.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any


class Journal:
    """One run's journal."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}

    @property
    def run_id(self) -> str:
        return self.path.parent.name

    @classmethod
    def start(cls, workdir: Path, *, pipeline: str, backend: str) -> Journal:
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
        folder = workdir / "runs" / run_id
        folder.mkdir(parents=True, exist_ok=True)
        journal = cls(folder / "journal.json")
        journal.data = {"run_id": run_id, "pipeline": pipeline, "backend": backend, "stages": {}}
        journal.save()
        (workdir / "runs" / "LATEST").write_text(run_id)
        return journal

    @classmethod
    def latest(cls, workdir: Path) -> Journal | None:
        pointer = workdir / "runs" / "LATEST"
        if not pointer.exists():
            return None
        path = workdir / "runs" / pointer.read_text().strip() / "journal.json"
        return cls(path) if path.exists() else None

    def stage(self, name: str) -> dict | None:
        return self.data.get("stages", {}).get(name)

    def record(self, name: str, result: dict[str, Any]) -> None:
        self.data.setdefault("stages", {})[name] = {"finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "result": result}
        self.save()

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, default=str))
        os.replace(tmp, self.path)
