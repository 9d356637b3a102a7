"""The endpoint verbs on Azure return the same JSON shapes as locally; aml_token auth."""
from __future__ import annotations

import json

import pytest

from azml2aks.errors import NotFoundError


def test_status_shows_traffic_deployments_and_the_kubernetes_scoring_uri(blue_live):
    s = blue_live.pipeline().status()
    assert s["traffic"] == {"blue": 100} and s["deployments"] == ["blue"]
    assert s["scoring_uri"].endswith("/api/v1/endpoint/ep-fraud/score")
    assert s["compute"] == "aks" and s["auth_mode"] == "key"
    assert set(s) >= {"name", "scoring_uri", "traffic", "deployments", "provisioning_state", "deployment_states"}


def test_traffic_promote_and_rollback_move_the_split_and_read_it_back(blue_live):
    w = blue_live
    p = w.pipeline()
    p.deploy(w.package())
    assert p.set_traffic(["blue=70", "green=30"]) == {"endpoint": "ep-fraud", "traffic": {"blue": 70, "green": 30}}
    assert p.promote()["traffic"] == {"blue": 0, "green": 100}
    assert p.rollback()["traffic"] == {"blue": 100, "green": 0}
    assert p.rollback()["note"] == "blue already serves 100 %"


def test_invoke_scores_a_file_pinned_to_a_colour(blue_live, tmp_path):
    w = blue_live
    request = tmp_path / "req.json"
    request.write_text(json.dumps({"input_data": {"columns": ["a", "b", "c"], "index": [0], "data": [[5, 2, 0]]}}))
    out = w.pipeline().invoke(request, deployment="blue")
    assert out["status_code"] == 200 and out["deployment"] == "blue" and out["response"] == [1]
    assert w.fake.scoring.history[-1].pinned


def test_logs_reads_either_container(blue_live):
    p = blue_live.pipeline()
    assert "Listening at" in p.logs("blue")
    assert "Downloading model" in p.backend.get_logs("ep-fraud", "blue", container="storage-initializer")


def test_logs_of_a_colour_that_does_not_exist_names_it(blue_live):
    with pytest.raises(NotFoundError, match="purple"):
        blue_live.pipeline().logs("purple")


def test_keys_are_returned_only_when_asked_and_never_repr(blue_live):
    w = blue_live
    keys = w.pipeline().keys()
    assert keys["primaryKey"] == w.fake.endpoints.record("ep-fraud").keys[0]
    creds = w.pipeline().backend.get_credentials("ep-fraud")
    assert keys["primaryKey"] not in repr(creds)


def test_token_auth_refreshes_the_token_before_it_expires_during_a_long_ladder(world):
    w = world
    w.write_pipeline(auth="aml_token", steps="[10, 20, 40, 60, 80, 100]", bake=900)
    w.serve("blue")
    w.serve("green")
    w.pipeline().deploy(w.package())
    w.fake.reset_log()
    result = w.pipeline().deploy(w.package())
    assert result.result == "promoted"
    tokens = w.fake.calls("OnlineEndpoints_GetToken")
    assert len(tokens) >= 2  # 6 bakes of 900 s outlast one 3600 s token
    assert w.fake.count("OnlineEndpoints_ListKeys") == 0
    assert all(s.status == 200 for s in w.fake.scoring.history)
