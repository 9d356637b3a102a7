"""deploy refuses to start on an endpoint whose split is unsettled, with the next step named."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from azml2aks import deploy as D
from azml2aks.backends.base import EndpointState
from azml2aks.config import PipelineConfig
from azml2aks.errors import ConfigError


class SplitEndpoint:
    """A backend whose endpoint has blue and green both serving; any change would be a bug."""

    def get_endpoint(self, name):
        return EndpointState(name, "http://127.0.0.1:9/score", {"blue": 50, "green": 50}, ["blue", "green"])

    ensure_endpoint = None  # deploy must refuse before touching the endpoint


def pipeline():
    config = PipelineConfig.model_validate(
        {"automl": {"task": "classification", "target_column_name": "y", "training_data": "x.csv"}})
    return SimpleNamespace(config=config, backend=SplitEndpoint(), on_event=lambda e: None)


def test_dry_run_on_a_split_in_progress_names_promote_and_rollback():
    with pytest.raises(ConfigError) as info:
        D.deploy(pipeline(), None, dry_run=True)
    assert "every colour in ['blue', 'green'] has live traffic" in info.value.message
    assert "azml2aks promote PIPELINE" in info.value.hint and "azml2aks rollback PIPELINE" in info.value.hint
