"""deploy refuses to start on an endpoint whose split is unsettled, with the next step named."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from azml2aks.rollout import driver as D
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


class TwoColours:
    """An endpoint with blue and green deployed; records every split it is asked for."""

    def __init__(self, traffic):
        self.traffic = dict(traffic)
        self.calls = []

    def get_endpoint(self, name):
        return EndpointState(name, "http://127.0.0.1:9/score", self.traffic, ["blue", "green"])

    def set_traffic(self, name, traffic):
        self.calls.append(dict(traffic))
        self.traffic = dict(traffic)
        return self.traffic


class Journal:
    def __init__(self, deploy):
        self.deploy = deploy

    def stage(self, name):
        return {"result": self.deploy} if name == "deploy" else None


def test_rollback_after_a_promotion_goes_to_the_previous_colour_once_and_then_says_so():
    endpoint = TwoColours({"blue": 0, "green": 100})
    p = pipeline()
    p.backend = endpoint
    p.journal = Journal({"endpoint": p.config.endpoint.name, "result": "promoted", "colour": "green",
                         "previous": "blue"})
    assert D.rollback(p)["traffic"] == {"blue": 100, "green": 0}
    again = D.rollback(p)
    assert again["note"] == "blue already serves 100 %"
    assert endpoint.calls == [{"blue": 100, "green": 0}]
