"""Blue/green rollouts on an Azure Kubernetes online endpoint, driven by the same engine as
locally, against the fake control plane (eventual consistency on, as the service behaves)."""
from __future__ import annotations

import pytest

from azml2aks.errors import ConfigError, RolloutAborted

EP_PATH = "/onlineEndpoints/ep-fraud"


def live(fake, endpoint="ep-fraud"):
    return {k: v for k, v in fake.endpoints.traffic(endpoint).items() if v}


def test_first_deployment_on_a_new_endpoint_creates_it_and_gives_blue_all_traffic(world):
    world.serve("blue")
    p = world.pipeline()
    result = p.deploy(world.package())
    assert result.result == "created"
    assert live(world.fake) == {"blue": 100}
    body = world.fake.endpoints.record("ep-fraud").body
    assert body["kind"] == "K8S" and body["properties"]["compute"].endswith("/computes/aks")
    assert body["properties"]["authMode"] == "Key"
    assert not [t for t in body["tags"] if t.startswith("azml2aks.lease")]  # released
    assert p.status()["traffic"] == {"blue": 100}


def test_the_idle_colour_carries_every_kubernetes_field_of_the_deployment_section(world):
    world.serve("blue")
    world.pipeline().deploy(world.package())
    props = world.fake.deployments.records[("ep-fraud", "blue")]["properties"]
    assert props["model"].endswith("/models/fraud-model/versions/1")
    assert props["environmentId"].endswith("/environments/fraud-env/versions/1")
    assert props["codeConfiguration"]["scoringScript"] == "score.py"
    assert props["instanceType"] == "defaultinstancetype"
    assert props["containerResourceRequirements"]["containerResourceRequests"]["cpu"] == "100m"
    assert props["containerResourceRequirements"]["containerResourceLimits"]["memory"] == "2Gi"
    assert props["requestSettings"] == {"requestTimeout": "PT3S", "maxQueueWait": "PT0.5S",
                                        "maxConcurrentRequestsPerInstance": 2}
    assert props["readinessProbe"]["failureThreshold"] == 3 and props["livenessProbe"]["initialDelay"] == "PT5S"
    assert props["environmentVariables"] == {"WORKERS": "2"}
    assert props["scaleSettings"] == {"scaleType": "Default"}


def test_second_rollout_walks_green_up_the_ladder_and_promotes_it_keeping_blue_idle(blue_live):
    w = blue_live
    result = w.pipeline().deploy(w.package())
    assert result.result == "promoted" and result.previous == "blue"
    assert live(w.fake) == {"green": 100}
    assert "blue" in w.fake.deployments.names("ep-fraud")  # kept at 0 % for an instant rollback
    phases = [(s["phase"], s["percent"], s["verdict"]) for s in result.steps]
    assert phases == [("smoke", None, "pass"), ("shadow", None, "pass"), ("step", 10, "pass"),
                      ("step", 50, "pass"), ("step", 100, "pass")]
    puts = [c.request_json["properties"]["traffic"] for c in w.fake.calls("OnlineEndpoints_CreateOrUpdate")
            if c.status == 201]
    assert puts == [{"blue": 90, "green": 10}, {"blue": 50, "green": 50}, {"blue": 0, "green": 100}]


def test_each_traffic_change_keeps_the_rest_of_the_endpoint_as_read(blue_live):
    w = blue_live
    w.fake.endpoints.record("ep-fraud").body["tags"]["team"] = "fraud"
    w.pipeline().deploy(w.package())
    for call in w.fake.calls("OnlineEndpoints_CreateOrUpdate"):
        assert call.request_json["tags"].get("team") == "fraud"
        assert call.request_json["properties"]["authMode"] == "Key"
    assert w.fake.endpoints.record("ep-fraud").body["tags"] == {"team": "fraud"}


def test_score_py_is_uploaded_once_by_content_hash(blue_live):
    w = blue_live
    w.pipeline().deploy(w.package())
    assert w.fake.count("CodeVersions_CreateOrUpdate") == 0  # blue uploaded the same score.py
    assert w.fake.count("CodeVersions_Get") == 1


def test_probes_post_to_the_scoring_uri_and_never_call_invoke(blue_live):
    w = blue_live
    w.pipeline().deploy(w.package())
    assert w.fake.count("OnlineEndpoints_ListKeys") == 1  # credentials fetched once per rollout
    pinned = [s for s in w.fake.scoring.history if s.pinned]
    assert pinned and {s.deployment for s in pinned} == {"blue", "green"}
    assert all(s.status == 200 for s in w.fake.scoring.history)


def test_promote_with_delete_previous_deletes_the_old_colour_after_promotion(blue_live):
    w = blue_live
    w.write_pipeline(extra="  delete_previous: true\n")
    w.pipeline().deploy(w.package())
    assert live(w.fake) == {"green": 100}
    assert w.fake.deployments.names("ep-fraud") == ["green"]


def test_an_endpoint_with_a_stray_third_deployment_keeps_it_at_zero(blue_live, tmp_path):
    from . import helpers

    w = blue_live
    helpers.k8s_deployment(w.ml, tmp_path, "ep-fraud", "canary", fake=w.fake, model_path=w.model.source)
    w.fake.settle()
    result = w.pipeline().deploy(w.package())
    assert result.result == "promoted"
    assert w.fake.endpoints.traffic("ep-fraud").get("canary", 0) == 0
    assert "canary" in w.fake.deployments.names("ep-fraud")


def test_a_stray_deployment_with_live_traffic_stops_the_rollout_before_any_change(blue_live, tmp_path):
    from . import helpers

    w = blue_live
    helpers.k8s_deployment(w.ml, tmp_path, "ep-fraud", "canary", fake=w.fake, model_path=w.model.source)
    w.fake.settle()
    helpers.set_traffic(w.ml, "ep-fraud", {"blue": 80, "canary": 20}, fake=w.fake)
    w.fake.reset_log()
    with pytest.raises(ConfigError) as info:
        w.pipeline().deploy(w.package())
    assert "split in progress" in str(info.value)
    assert w.fake.count("OnlineDeployments_CreateOrUpdate") == 0
    assert live(w.fake) == {"blue": 80, "canary": 20}


def test_names_at_azures_limits_roll_out(world):
    long_ep = "e" + "-x" * 15 + "9"  # 32 characters
    blue, green = "b" * 31 + "1", "g" * 31 + "2"
    assert len(long_ep) == len(blue) == len(green) == 32
    world.endpoint = long_ep
    world.write_pipeline(extra=f"  colours: [{blue}, {green}]\n")
    world.serve(blue)
    world.serve(green)
    world.pipeline().deploy(world.package())
    result = world.pipeline().deploy(world.package())
    assert result.result == "promoted"
    assert live(world.fake, long_ep) == {green: 100}


def test_a_failed_rollout_raises_rollout_aborted_with_exit_code_4(blue_live):
    w = blue_live
    w.fake.scoring.register("ep-fraud", "green", lambda payload: 1 / 0)
    with pytest.raises(RolloutAborted) as info:
        w.pipeline().deploy(w.package())
    assert info.value.exit_code == 4
    assert live(w.fake) == {"blue": 100}


def test_a_changed_instance_type_replaces_the_idle_colour_instead_of_updating_it(blue_live):
    w = blue_live
    w.pipeline().deploy(w.package())  # green live, blue idle on defaultinstancetype
    w.fake.instance_types.apply("aks-ml", "cpu-large", requests={"cpu": "100m", "memory": "1Gi"},
                                limits={"cpu": "4", "memory": "8Gi"})
    w.write_pipeline(instance_type="cpu-large")
    w.fake.reset_log()
    result = w.pipeline().deploy(w.package())
    assert result.result == "promoted" and result.colour == "blue"
    assert w.fake.count("OnlineDeployments_Delete") == 1
    assert w.fake.deployments.records[("ep-fraud", "blue")]["properties"]["instanceType"] == "cpu-large"
    assert any("cannot change it in place" in m for m in w.messages())
    assert live(w.fake) == {"blue": 100}


def test_run_resume_goes_from_the_journal_of_the_earlier_stages_to_a_promoted_green(blue_live):
    w = blue_live
    p = w.pipeline()
    p._new_journal()  # a new run whose earlier stages ran elsewhere (CI jobs)
    package = w.package()
    p.journal.record("train", {"job_name": "job-models"})
    p.journal.record("register", w.model.to_dict())
    p.journal.record("package", package.to_dict())
    p.journal.record("attach", {"compute": "aks", "backend": "azure", "status": "Succeeded"})
    out = p.run(resume=True)
    assert out["resumed"] == ["train", "register", "package", "attach"]  # their results from the journal
    assert set(out) == {"train", "register", "package", "attach", "deploy", "run_id", "resumed"}
    assert out["deploy"]["result"] == "promoted" and out["deploy"]["traffic"]["green"] == 100
    assert p.status()["traffic"] == {"blue": 0, "green": 100}
