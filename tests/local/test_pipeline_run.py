"""Pipeline.run end to end on the local backend: every stage, the journal, resume, reuse."""

from __future__ import annotations

import contextlib
import json

import pytest

from azml2aks.errors import NotFoundError
from azml2aks.pipeline import STAGES, load_pipeline
from tests.conftest import copy_example

pytestmark = pytest.mark.e2e


def test_run_takes_a_pipeline_from_data_to_a_serving_endpoint_and_resume_redoes_nothing(tmp_path):
    pipeline = copy_example(tmp_path, max_trials=3)
    p = load_pipeline(pipeline)
    try:
        out = p.run()
        assert list(out) == ["train", "register", "package", "attach", "deploy", "run_id"]
        assert out["deploy"]["result"] == "created" and out["deploy"]["traffic"] == {"blue": 100}
        assert out["package"]["contract"]["passed"] is True
        assert out["package"]["environment_reused"] is False
        journal = json.loads((p.workdir / "runs" / out["run_id"] / "journal.json").read_text())
        assert set(journal["stages"]) == {"train", "register", "package", "attach", "deploy"}
        assert journal["stages"]["register"]["result"]["run_id"] == out["train"]["best_child_run_id"]

        again = load_pipeline(pipeline)
        resumed = again.run(resume=True)  # nothing left to do: every stage's result, from the journal
        assert resumed["run_id"] == out["run_id"] and resumed["resumed"] == list(STAGES)
        assert {s: resumed[s] for s in STAGES} == json.loads(json.dumps({s: out[s] for s in STAGES}))
        repackaged = again.package(again.resolve_model(f"{out['register']['name']}:{out['register']['version']}"))
        assert repackaged.environment_reused is True
        assert repackaged.environment_version == out["package"]["environment_version"]
        assert again.backend.get_endpoint("wine-endpoint").traffic == {"blue": 100}
    finally:
        with contextlib.suppress(NotFoundError):  # stop only what this test started
            p.backend.stop_endpoint("wine-endpoint")
