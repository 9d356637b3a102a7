"""deploy refuses to start on an endpoint whose split is unsettled, with the next step named."""

from __future__ import annotations

import pytest

from azml2aks.backends.ports import Endpoints
from azml2aks.errors import ConfigError
from azml2aks.pipeline import load_pipeline
from azml2aks.results import DeployResult
from tests.rollout.memory_endpoints import MemoryEndpoints

PIPELINE = """
automl: {task: classification, target_column_name: y, training_data: x.csv}
local: {workdir: work}
"""


def pipeline(tmp_path, traffic):
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    p = load_pipeline(tmp_path / "pipeline.yaml", backend="local")
    p.backend = MemoryEndpoints(traffic)  # the Endpoints port, in memory
    assert isinstance(p.backend, Endpoints)
    return p


def test_dry_run_on_a_split_in_progress_names_promote_and_rollback(tmp_path):
    p = pipeline(tmp_path, {"blue": 50, "green": 50})
    with pytest.raises(ConfigError) as info:
        p.deploy(dry_run=True)
    assert "every colour in ['blue', 'green'] has live traffic" in info.value.message
    assert "azml2aks promote PIPELINE" in info.value.hint and "azml2aks rollback PIPELINE" in info.value.hint
    assert p.backend.ensure_calls == 0 and p.backend.calls == []


def test_rollback_after_a_promotion_goes_to_the_previous_colour_once_and_then_says_so(tmp_path):
    p = pipeline(tmp_path, {"blue": 0, "green": 100})
    p._new_journal()
    p.journal.record("deploy", DeployResult(endpoint=p.config.endpoint.name, scoring_uri="", result="promoted",
                                            colour="green", previous="blue", traffic={"green": 100}).to_dict())
    assert p.rollback()["traffic"] == {"blue": 100, "green": 0}
    again = p.rollback()
    assert again["note"] == "blue already serves 100 %"
    assert p.backend.calls == [{"blue": 100, "green": 0}]
