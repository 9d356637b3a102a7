"""The promised defaults (README documents each; changing one is a visible decision)."""

from azml2aks.config import (
    EnvironmentSettings,
    Gates,
    LocalSettings,
    RequestSettings,
    Resources,
    RolloutSettings,
    ScoringSettings,
)


def test_rollout_defaults():
    r = RolloutSettings()
    assert r.steps == [10, 50, 100]
    assert r.colours == ("blue", "green")
    assert r.bake_seconds == 5.0
    assert r.delete_previous is False


def test_gate_defaults():
    g = Gates()
    assert (g.min_samples, g.max_error_rate, g.max_p99_ms, g.max_p99_ratio) == (20, 0.01, 500.0, 2.0)
    assert (g.min_agreement, g.metric_tolerance, g.inconclusive_holds) == (0.95, 0.05, 1)
    assert (g.latency_retries, g.p99_floor_ms, g.agreement_tolerance) == (1, 100.0, 0.1)
    assert g.confidence == 0.95


def test_deployment_defaults_request_what_mlflow_models_need_on_kubernetes():
    requests = Resources().requests
    assert (requests.cpu, requests.memory) == ("2", "4Gi")
    assert RequestSettings().request_timeout_ms == 5000


def test_local_and_scoring_defaults():
    local = LocalSettings()
    assert (local.workdir, local.seed, local.router_port) == (".azml2aks", 42, 0)
    assert ScoringSettings().max_body_bytes == 10 * 1024 * 1024


def test_environment_defaults_resolve_when_the_index_answers():
    env = EnvironmentSettings()
    assert (env.python_version, env.extra_pip, env.resolve, env.resolve_timeout_seconds) == (None, [], "auto", 300.0)
