"""The scoring data plane: registered functions answer, key auth, pinning, weighted routing
and latency on the injected clock."""
from __future__ import annotations

import random

import pytest
import requests

from tests.fakes import PIN_HEADER, FakeAzure, ScoringError

from .helpers import raw_endpoint, raw_k8s_deployment


@pytest.fixture
def endpoint(fake_azure):
    """ep-k8s: blue 90 %, green 10 %; returns (scoring URI, primary key, secondary key)."""
    raw_endpoint(fake_azure, "ep-k8s")
    raw_k8s_deployment(fake_azure, "ep-k8s", "blue")
    raw_k8s_deployment(fake_azure, "ep-k8s", "green")
    raw_endpoint(fake_azure, "ep-k8s", traffic={"blue": 90, "green": 10})
    fake_azure.scoring.register("ep-k8s", "blue", lambda rows: {"colour": "blue", "n": len(rows)})
    fake_azure.scoring.register("ep-k8s", "green", lambda rows: {"colour": "green"})
    rec = fake_azure.endpoints.record("ep-k8s")
    return fake_azure.endpoints.scoring_uri("ep-k8s"), rec.keys[0], rec.keys[1]


def post(uri, key, pin=None, data=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if pin:
        headers[PIN_HEADER] = pin
    return requests.post(uri, json=data if data is not None else [1, 2], headers=headers)


def test_request_without_a_key_is_unauthorized(endpoint):
    uri, _, _ = endpoint
    assert post(uri, None).status_code == 401


def test_request_with_a_wrong_key_is_unauthorized(endpoint):
    uri, _, _ = endpoint
    assert post(uri, "not-the-key").status_code == 401


def test_primary_and_secondary_keys_are_both_accepted(endpoint):
    uri, primary, secondary = endpoint
    assert post(uri, primary).status_code == 200
    assert post(uri, secondary).status_code == 200


def test_token_auth_endpoint_accepts_an_issued_token_and_not_a_key(fake_azure):
    from .helpers import raw_put, ws_url

    raw_endpoint(fake_azure, "ep-tok")
    raw_k8s_deployment(fake_azure, "ep-tok", "blue")
    raw_put(fake_azure, "/onlineEndpoints/ep-tok", {"properties": {
        "authMode": "AMLToken", "compute": f"{fake_azure.config.workspace_id}/computes/aks",
        "traffic": {"blue": 100}}})
    fake_azure.settle()
    fake_azure.scoring.register("ep-tok", "blue", lambda rows: "ok")
    token = requests.post(ws_url(fake_azure) + "/onlineEndpoints/ep-tok/token").json()
    uri = fake_azure.endpoints.scoring_uri("ep-tok")
    assert post(uri, token["accessToken"]).status_code == 200
    assert post(uri, fake_azure.endpoints.record("ep-tok").keys[0]).status_code == 401


def test_registered_function_answers_with_its_return_value(endpoint):
    uri, key, _ = endpoint
    assert post(uri, key, pin="blue", data=[1, 2, 3]).json() == {"colour": "blue", "n": 3}


def test_pin_header_routes_to_the_named_deployment_even_at_zero_traffic(fake_azure, endpoint):
    uri, key, _ = endpoint
    raw_endpoint(fake_azure, "ep-k8s", traffic={"blue": 100})
    answer = post(uri, key, pin="green")
    assert answer.json() == {"colour": "green"}
    assert answer.headers[PIN_HEADER] == "green"


def test_pin_to_an_unknown_deployment_is_a_404(endpoint):
    uri, key, _ = endpoint
    assert post(uri, key, pin="purple").status_code == 404


def test_response_header_names_the_deployment_that_answered(endpoint):
    uri, key, _ = endpoint
    answer = post(uri, key)
    assert answer.headers[PIN_HEADER] == answer.json()["colour"]


def test_weighted_routing_follows_the_endpoint_traffic(fake_azure, endpoint):
    uri, key, _ = endpoint
    for _ in range(400):
        post(uri, key)
    answered = fake_azure.scoring.answered_by()
    assert 340 <= answered.count("blue") <= 380
    assert answered.count("blue") + answered.count("green") == 400


def test_weighted_routing_is_deterministic_for_a_seed():
    def run() -> list:
        import responses

        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            fake = FakeAzure(rng=random.Random(42)).install(mock)
            raw_endpoint(fake, "ep-k8s")
            for colour in ("blue", "green"):
                raw_k8s_deployment(fake, "ep-k8s", colour)
                fake.scoring.register("ep-k8s", colour, lambda rows: None)
            raw_endpoint(fake, "ep-k8s", traffic={"blue": 50, "green": 50})
            key = fake.endpoints.record("ep-k8s").keys[0]
            for _ in range(20):
                post(fake.endpoints.scoring_uri("ep-k8s"), key)
            return fake.scoring.answered_by()

    assert run() == run()


def test_zero_traffic_deployment_gets_no_unpinned_requests(fake_azure, endpoint):
    uri, key, _ = endpoint
    raw_endpoint(fake_azure, "ep-k8s", traffic={"blue": 100, "green": 0})
    for _ in range(50):
        post(uri, key)
    assert set(fake_azure.scoring.answered_by()) == {"blue"}


def test_latency_advances_the_injected_clock_instead_of_sleeping(fake_azure, endpoint):
    uri, key, _ = endpoint
    fake_azure.scoring.register("ep-k8s", "green", lambda rows: "slow", latency=2.5)
    before = fake_azure.clock.time()
    post(uri, key, pin="green")
    assert fake_azure.clock.time() - before == 2.5
    assert fake_azure.scoring.history[-1].latency == 2.5


def test_latency_can_be_drawn_from_the_seeded_random_source(fake_azure, endpoint):
    uri, key, _ = endpoint
    fake_azure.scoring.register("ep-k8s", "blue", lambda rows: 1,
                                latency=lambda rng: rng.uniform(0.01, 0.02))
    post(uri, key, pin="blue")
    assert 0.01 <= fake_azure.scoring.history[-1].latency <= 0.02


def test_failing_colour_answers_500_with_the_error(fake_azure, endpoint):
    uri, key, _ = endpoint

    def broken(rows):
        raise ValueError("model expects 30 features")

    fake_azure.scoring.register("ep-k8s", "green", broken)
    answer = post(uri, key, pin="green")
    assert answer.status_code == 500
    assert "model expects 30 features" in answer.json()["message"]


def test_scoring_error_answers_its_own_status(fake_azure, endpoint):
    uri, key, _ = endpoint

    def overloaded(rows):
        raise ScoringError(503, "too many requests in flight")

    fake_azure.scoring.register("ep-k8s", "green", overloaded)
    assert post(uri, key, pin="green").status_code == 503


def test_a_wrong_colour_is_visible_in_its_answers(fake_azure, endpoint):
    uri, key, _ = endpoint
    fake_azure.scoring.register("ep-k8s", "green", lambda rows: [1 - x for x in rows])
    assert post(uri, key, pin="blue", data=[1, 0]).json()["n"] == 2
    assert post(uri, key, pin="green", data=[1, 0]).json() == [0, 1]


def test_deployment_that_is_not_ready_answers_503(fake_azure, endpoint):
    uri, key, _ = endpoint
    fake_azure.faults.readiness_probe_failure("ep-k8s", "green")
    raw_k8s_deployment(fake_azure, "ep-k8s", "green")
    assert post(uri, key, pin="green").status_code == 503


def test_unregistered_deployment_answers_502_naming_the_missing_function(fake_azure):
    raw_endpoint(fake_azure, "ep-k8s")
    raw_k8s_deployment(fake_azure, "ep-k8s", "blue")
    key = fake_azure.endpoints.record("ep-k8s").keys[0]
    answer = post(fake_azure.endpoints.scoring_uri("ep-k8s"), key, pin="blue")
    assert answer.status_code == 502
    assert "no scoring function registered" in answer.json()["message"]


def test_endpoint_without_live_traffic_answers_503_unless_pinned(fake_azure):
    raw_endpoint(fake_azure, "ep-k8s")
    raw_k8s_deployment(fake_azure, "ep-k8s", "blue")
    fake_azure.scoring.register("ep-k8s", "blue", lambda rows: "ok")
    key = fake_azure.endpoints.record("ep-k8s").keys[0]
    uri = fake_azure.endpoints.scoring_uri("ep-k8s")
    assert post(uri, key).status_code == 503
    assert post(uri, key, pin="blue").status_code == 200


def test_mirror_traffic_on_a_managed_endpoint_copies_requests_to_the_shadow(fake_azure):
    from .helpers import raw_managed_deployment

    raw_endpoint(fake_azure, "ep-m", kubernetes=False)
    for colour in ("blue", "green"):
        raw_managed_deployment(fake_azure, "ep-m", colour)
        fake_azure.scoring.register("ep-m", colour, lambda rows: "ok")
    raw_endpoint(fake_azure, "ep-m", kubernetes=False, traffic={"blue": 100},
                 mirror={"green": 50})
    key = fake_azure.endpoints.record("ep-m").keys[0]
    for _ in range(100):
        post(fake_azure.endpoints.scoring_uri("ep-m"), key)
    mirrored = [s for s in fake_azure.scoring.history if s.mirrored]
    assert set(fake_azure.scoring.answered_by()) == {"blue"}
    assert 30 <= len(mirrored) <= 70 and {s.deployment for s in mirrored} == {"green"}


def test_sdk_invoke_reaches_the_scoring_uri_with_key_auth(ml_client, fake_azure, tmp_path):
    from .helpers import k8s_deployment, k8s_endpoint, set_traffic

    k8s_endpoint(ml_client, fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue").result()
    set_traffic(ml_client, "ep-fraud", {"blue": 100})
    fake_azure.scoring.register("ep-fraud", "blue", lambda body: {"predictions": [0, 1]})
    request_file = tmp_path / "request.json"
    request_file.write_text('{"input_data": [[1, 2], [3, 4]]}')
    fake_azure.reset_log()
    answer = ml_client.online_endpoints.invoke("ep-fraud", request_file=str(request_file),
                                               deployment_name="blue")
    assert '"predictions": [0, 1]' in answer
    arm = fake_azure.arm_counts()
    assert sum(arm.values()) == 3  # the cost wire doc warns about: 3 ARM calls per invoke
