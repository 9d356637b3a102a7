"""`azml2aks run` and `deploy` in an Azure DevOps job, end to end on the local backend: grouped
stages, output variables, the report on the summary page, and a rolled-back rollout recorded."""

from __future__ import annotations

import contextlib
import json

import pytest

from azml2aks.cli import main
from tests.conftest import copy_example

pytestmark = pytest.mark.e2e


def test_a_run_in_azure_devops_sets_outputs_and_uploads_the_report_and_a_rollback_is_reported(
        capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TF_BUILD", "True")
    pipeline = copy_example(tmp_path, max_trials=3)
    pipeline.write_text(pipeline.read_text().replace("  bake_seconds: 1", "  bake_seconds: 0\n  shadow_requests: 20"))
    workdir = pipeline.parent / ".azml2aks"
    try:
        code = main(["run", str(pipeline)])
        out, err = capsys.readouterr()
        assert code == 0, err
        lines = err.splitlines()
        assert "##[group]train (local)" in lines and lines.count("##[endgroup]") == 5
        assert "##vso[task.setvariable variable=modelVersion;isOutput=true]1" in lines
        assert "##vso[task.setvariable variable=endpointName;isOutput=true]wine-endpoint" in lines
        assert "##vso[task.setvariable variable=rolloutResult;isOutput=true]created" in lines
        uploads = [line for line in lines if line.startswith("##vso[task.uploadsummary]")]
        assert len(uploads) == 1
        summary = uploads[0].removeprefix("##vso[task.uploadsummary]")
        assert summary.startswith(str(workdir / "runs")) and open(summary).read().count("⭐ |") == 1
        key = json.loads((workdir / "endpoints" / "wine-endpoint" / "keys.json").read_text())["primaryKey"]
        assert key not in out + err

        # the same package again as green, against a p99 ceiling nothing can meet: rolled back
        pipeline.write_text(pipeline.read_text().replace("max_p99_ms: 1000", "max_p99_ms: 0.001\n    latency_retries: 0"))
        code = main(["deploy", str(pipeline)])
        _, err = capsys.readouterr()
        assert code == 4
        assert "##vso[task.setvariable variable=rolloutResult;isOutput=true]rolled_back" in err.splitlines()
        assert "##vso[task.logissue type=error]rollout of 'green' on endpoint 'wine-endpoint' aborted" in err
        report = open(summary).read()
        assert "❌ rolled back" in report and "p99_ms" in report and "❌" in report
        assert "Final traffic: blue=100 green=0." in report or "Final traffic: blue=100." in report

        main(["runs", str(pipeline), "-o", "json"])
        runs = json.loads(capsys.readouterr().out)
        assert len(runs) == 1 and runs[0]["stages"]["deploy"]["state"] == "failed"
    finally:
        with contextlib.suppress(Exception):  # stop only what this test started
            main(["local", "down", str(pipeline)])
