"""Reading what a writer appended to a JSON-lines file since the last read.

Used to follow FLAML's trial log while it searches and a detached job's events while it runs.
A line counts only once it ends with a newline, so a half-written line is read next time.
"""

from __future__ import annotations

import json
from pathlib import Path


class JsonLinesTail:
    """Yields each complete JSON line appended to ``path`` since the previous call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def read_new(self) -> list[dict]:
        if not self.path.exists():
            return []
        records = []
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            for line in iter(fh.readline, b""):
                if not line.endswith(b"\n"):
                    break
                self.offset += len(line)
                records.append(json.loads(line))
        return records
