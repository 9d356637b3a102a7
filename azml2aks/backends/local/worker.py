"""A detached local AutoML job (``train --no-wait``): runs one Queued job, writes its events.

    python -m azml2aks.backends.local.worker JOB_DIR

``JOB_DIR`` (``<workdir>/jobs/<job>/``) holds ``config.json`` (the validated pipeline, already
interpolated) and ``spec.json`` (base dir, work dir, job name). Progress events are appended to
``events.jsonl``, one JSON object a line, which ``wait`` follows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from azml2aks.backends.local import jobs
    from azml2aks.config import PipelineConfig
    from azml2aks.errors import Azml2aksError
    from azml2aks.processes import sigterm_interrupts

    sigterm_interrupts()  # `cancel` (SIGTERM) marks the job Canceled like Ctrl-C does

    job_dir = Path(argv[0])
    spec = json.loads((job_dir / "spec.json").read_text())
    config = PipelineConfig.model_validate(json.loads((job_dir / "config.json").read_text()))
    workdir = Path(spec["workdir"])
    with (job_dir / "events.jsonl").open("a") as events:

        def emit(event: dict) -> None:
            events.write(json.dumps(event) + "\n")
            events.flush()

        try:
            jobs.execute_job(config, spec["job"], base_dir=Path(spec["base_dir"]), workdir=workdir, on_event=emit)
        except Azml2aksError as e:
            emit({"event": "warning", "message": str(e)})
            return 1
        except KeyboardInterrupt:
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
