"""Rollout faults end to end: real router and inference servers on 127.0.0.1.

One endpoint per module with blue live at 100 %; each fault test rolls a faulty green out and
checks that blue keeps 100 %. Sleeps are injected and recorded; no test asserts on timing.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from azml2aks import processes
from azml2aks.errors import ConfigError, RolloutAborted
from azml2aks.rollout import driver as D
from azml2aks.rollout import verbs as V
from tests.local.conftest import make_config

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory, iris_files):
    """(root, endpoints, first-deploy result): blue created at 100 % by a first rollout."""
    from azml2aks.backends.local.endpoints import LocalEndpoints

    pkg, model, csv = iris_files
    root = tmp_path_factory.mktemp("faults")
    eps = LocalEndpoints(root / "work", startup_timeout=60)
    payloads = D.load_holdout(make_config(root, csv), csv.parent)
    try:
        first = D.run_rollout(make_config(root, csv), eps, code_dir=pkg, model=None,
                              payloads=payloads, sleep=lambda s: None)
        yield SimpleNamespace(root=root, eps=eps, first=first, payloads=payloads, pkg=pkg, model=model, csv=csv)
    finally:
        eps.stop_endpoint("iris-ep")


def roll(site, *, sleep=None, env=None, memory_limit=None, **rollout):
    sleeps = []

    def record(seconds):
        sleeps.append(seconds)
        if sleep:
            sleep(len(sleeps))

    config = make_config(site.root, site.csv, env=env, memory_limit=memory_limit, **rollout)
    events = []
    try:
        result = D.run_rollout(config, site.eps, code_dir=site.pkg, model=None,
                               payloads=site.payloads, sleep=record, on_event=events.append)
    except RolloutAborted as e:
        return e, sleeps, events
    return result, sleeps, events


def test_first_deploy_creates_blue_at_100(site):
    assert site.first.result == "created"
    assert site.first.colour == "blue" and site.first.traffic == {"blue": 100}
    assert [s["phase"] for s in site.first.steps] == ["smoke"]


def test_green_failing_at_init_leaves_blue_at_100_and_shows_the_log_tail(site):
    error, sleeps, _ = roll(site, env={"FAULT_INIT": "1"})
    assert isinstance(error, RolloutAborted) and error.exit_code == 4
    assert "FAULT_INIT: the model file is corrupt" in str(error)
    assert error.report["result"] == "rolled_back"
    assert site.eps.get_endpoint("iris-ep").traffic == {"blue": 100, "green": 0}
    assert sleeps == []


def test_green_over_its_memory_limit_is_oom_killed_and_rolled_back(site):
    # the server itself needs a few hundred MiB at most: only the 1200 MiB its init holds breaks 1Gi
    error, _, _ = roll(site, env={"FAULT_ALLOCATE_MB": "1200"}, memory_limit="1Gi")
    assert isinstance(error, RolloutAborted) and error.exit_code == 4
    assert "OOMKilled" in str(error) and "over the memory limit of 1024 MiB" in str(error)
    assert site.eps.get_endpoint("iris-ep").traffic == {"blue": 100, "green": 0}
    assert not site.eps.deployment_health("iris-ep")["green"]["alive"]


def test_green_that_disagrees_fails_the_agreement_gate_in_shadow(site):
    error, _, _ = roll(site, env={"FAULT_FLIP": "1"})
    assert isinstance(error, RolloutAborted)
    shadow = error.report["steps"][-1]
    assert shadow["phase"] == "shadow"
    gates = {g["gate"]: g for g in shadow["gates"]}
    assert gates["agreement"]["status"] == "fail" and gates["agreement"]["value"] == 0.0
    assert site.eps.get_endpoint("iris-ep").traffic == {"blue": 100, "green": 0}


def test_slow_green_fails_the_p99_gate(site):
    error, _, _ = roll(site, env={"FAULT_DELAY_MS": "150"}, gates={"min_samples": 10, "max_p99_ms": 100})
    assert isinstance(error, RolloutAborted)
    gates = {g["gate"]: g for g in error.report["steps"][-1]["gates"]}
    assert gates["p99_ms"]["status"] == "fail" and gates["p99_ms"]["value"] >= 150
    assert site.eps.get_endpoint("iris-ep").traffic == {"blue": 100, "green": 0}


def test_green_killed_mid_ladder_is_rolled_back(site):
    def kill_green_at_second_bake(calls):
        if calls == 2:
            processes.terminate(site.eps.deployment_health("iris-ep")["green"]["pid"])

    error, sleeps, _ = roll(site, sleep=kill_green_at_second_bake, bake_seconds=0.01)
    assert isinstance(error, RolloutAborted)
    assert sleeps == [0.01, 0.01]
    last = error.report["steps"][-1]
    assert (last["phase"], last["percent"]) == ("step", 50)
    assert "error_rate" in error.report["reason"]
    assert site.eps.get_endpoint("iris-ep").traffic == {"blue": 100, "green": 0}


def test_ctrl_c_mid_ladder_restores_blue_to_100_and_exits_4(site):
    def interrupt_at_second_bake(count):
        if count == 2:  # baking at 50 %: green already serves half the traffic
            raise KeyboardInterrupt

    result, sleeps, events = roll(site, sleep=interrupt_at_second_bake, bake_seconds=0.01)
    assert isinstance(result, RolloutAborted) and result.exit_code == 4
    assert "interrupted; traffic restored to blue=100" in result.message
    assert site.eps.get_endpoint("iris-ep").traffic == {"blue": 100, "green": 0}
    assert any("interrupted: traffic restored" in e.get("message", "") for e in events)


def test_bad_traffic_arguments_change_nothing(site):
    pipeline = SimpleNamespace(config=make_config(site.root, site.csv), backend=site.eps)
    before = site.eps.get_endpoint("iris-ep").traffic
    with pytest.raises(ConfigError, match="sum to 100"):
        V.set_traffic(pipeline, ["blue=90", "green=20"])
    with pytest.raises(ConfigError, match="no deployment 'purple'"):
        V.set_traffic(pipeline, ["blue=90", "purple=10"])
    with pytest.raises(ConfigError, match="COLOUR=PERCENT"):
        V.set_traffic(pipeline, ["blue:90"])
    assert site.eps.get_endpoint("iris-ep").traffic == before


def test_cli_traffic_with_bad_arguments_exits_1_and_status_never_prints_keys(site, capsys):
    from azml2aks import cli

    yaml = site.root / "pipeline.yaml"
    yaml.write_text(f"automl: {{task: classification, target_column_name: target, training_data: {site.csv}}}\n"
                    f"endpoint: {{name: iris-ep}}\nlocal: {{workdir: {site.root / 'work'}}}\n")
    assert cli.main(["traffic", str(yaml), "blue=90", "green=20"]) == 1
    assert "sum to 100" in capsys.readouterr().err
    assert cli.main(["traffic", str(yaml), "blue=90", "purple=10"]) == 1
    assert "no deployment 'purple'" in capsys.readouterr().err
    assert cli.main(["status", str(yaml), "--output", "json"]) == 0
    out = capsys.readouterr().out
    assert '"blue": 100' in out
    key = site.eps.get_keys("iris-ep")
    assert key.primary not in out and key.secondary not in out


def test_cli_invoke_exits_non_zero_when_the_endpoint_refuses_or_fails(site, capsys, tmp_path):
    from azml2aks import cli

    yaml = site.root / "pipeline.yaml"
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(site.payloads.body(0))
    bad.write_text("{not json")
    assert cli.main(["invoke", str(yaml), "--file", str(good), "-o", "json"]) == 0
    assert '"status_code": 200' in capsys.readouterr().out
    assert cli.main(["invoke", str(yaml), "--file", str(good), "--deployment", "purple"]) == 1
    err = capsys.readouterr().err  # an unknown colour: the hint names the colours, not a column to fix
    assert "answered HTTP 404" in err and "azml2aks status" in err and "column" not in err
    assert cli.main(["invoke", str(yaml), "--file", str(bad), "--deployment", "blue"]) == 3
    err = capsys.readouterr().err
    assert "deployment 'blue' of endpoint 'iris-ep' failed to answer" in err and "azml2aks logs" in err


def test_healthy_green_walks_the_ladder_and_blue_stays_at_zero(site):  # runs last: moves traffic
    result, sleeps, events = roll(site, bake_seconds=0.01)
    assert result.result == "promoted", getattr(result, "message", result)
    assert result.traffic == {"blue": 0, "green": 100}
    assert sleeps == [0.01, 0.01, 0.01]
    assert [(s["phase"], s["percent"]) for s in result.steps] == [
        ("smoke", None), ("shadow", None), ("step", 10), ("step", 50), ("step", 100)]
    assert any("step 50 %: PASS" in e.get("message", "") for e in events)
    state = site.eps.get_endpoint("iris-ep")
    key = site.eps.get_keys("iris-ep").primary
    resp = requests.post(state.scoring_uri, data=site.payloads.body(0), timeout=10,
                         headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    assert resp.headers["azureml-model-deployment"] == "green"
    pipeline = SimpleNamespace(config=make_config(site.root, site.csv), backend=site.eps)
    assert V.rollback(pipeline)["traffic"] == {"blue": 100, "green": 0}
