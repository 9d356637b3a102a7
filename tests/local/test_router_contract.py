"""The local endpoint speaks Azure's Kubernetes scoring contract (real processes on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import stat

import pytest
import requests

from azml2aks import processes
from azml2aks.config import specs
from tests.local.conftest import make_config

pytestmark = pytest.mark.e2e

ROW = json.dumps({"input_data": {"columns": ["a", "b", "c", "d"], "index": [0],
                                 "data": [[5.1, 3.5, 1.4, 0.2]]}})


@pytest.fixture(scope="module")
def shared(tmp_path_factory, iris_files):
    """One endpoint with blue (100 %) and green (0 %) for the whole module (starting a colour
    costs seconds). Tests that change it put it back."""
    from azml2aks.backends.local.endpoints import LocalEndpoints

    pkg, model, csv = iris_files
    root = tmp_path_factory.mktemp("router")
    config = make_config(root, csv)
    eps = LocalEndpoints(root / "work", startup_timeout=60)
    state = eps.ensure_endpoint(specs.endpoint_spec(config))
    try:
        for colour in ("blue", "green"):
            eps.create_or_update_deployment(specs.deployment_spec(config, colour, model=None, environment=None, code_dir=pkg))
        eps.set_traffic("iris-ep", {"blue": 100})
        yield config, state.scoring_uri, eps.get_keys("iris-ep").primary, eps, root
    finally:
        eps.stop_endpoint("iris-ep")


@pytest.fixture
def two_colours(shared):
    config, uri, key, eps, _ = shared
    return config, uri, key


@pytest.fixture
def endpoints(shared):
    return shared[3]


def post(uri, key=None, colour=None, body=ROW):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if colour:
        headers["azureml-model-deployment"] = colour
    return requests.post(uri, data=body, headers=headers, timeout=10)


def test_router_answers_scores_and_names_the_colour(two_colours):
    _, uri, key = two_colours
    assert uri.startswith("http://127.0.0.1:") and uri.endswith("/api/v1/endpoint/iris-ep/score")
    resp = post(uri, key)
    assert resp.status_code == 200 and resp.json() == [0]
    assert resp.headers["azureml-model-deployment"] == "blue"
    assert post(uri, key, "green").headers["azureml-model-deployment"] == "green"


def test_router_refuses_missing_and_wrong_keys(two_colours):
    _, uri, key = two_colours
    assert post(uri).status_code == 401
    assert post(uri, key + "x").status_code == 401


def test_router_answers_404_for_an_unknown_colour(two_colours):
    _, uri, key = two_colours
    resp = post(uri, key, "purple")
    assert resp.status_code == 404 and "purple" in resp.json()["message"]


def test_router_answers_503_at_once_when_a_colour_is_down(two_colours, endpoints, iris_files):
    config, uri, key = two_colours
    processes.terminate(endpoints.deployment_health("iris-ep")["green"]["pid"])
    resp = post(uri, key, "green")
    assert resp.status_code == 503
    assert resp.headers["azureml-model-deployment"] == "green"
    pkg, model, _ = iris_files
    endpoints.create_or_update_deployment(specs.deployment_spec(config, "green", model=None, environment=None, code_dir=pkg))


def test_keys_are_private_to_the_user(shared):
    mode = stat.S_IMODE(os.stat(shared[4] / "work" / "endpoints" / "iris-ep" / "keys.json").st_mode)
    assert mode == 0o600


def test_traffic_split_is_served_by_weight(two_colours, endpoints):
    _, uri, key = two_colours
    endpoints.set_traffic("iris-ep", {"blue": 0, "green": 100})
    assert {post(uri, key).headers["azureml-model-deployment"] for _ in range(5)} == {"green"}
    endpoints.set_traffic("iris-ep", {"blue": 100, "green": 0})


def test_no_request_fails_while_traffic_shifts_back_and_forth(two_colours, endpoints):
    import threading

    _, uri, key = two_colours
    stop, statuses = threading.Event(), []

    def client():
        session = requests.Session()
        while not stop.is_set():
            statuses.append(session.post(uri, data=ROW, timeout=10, headers={
                "Authorization": f"Bearer {key}", "Content-Type": "application/json"}).status_code)

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for split in [{"blue": 90, "green": 10}, {"blue": 50, "green": 50}, {"blue": 0, "green": 100}] * 3:
            endpoints.set_traffic("iris-ep", split)
    finally:
        stop.set()
        for t in threads:
            t.join()
        endpoints.set_traffic("iris-ep", {"blue": 100, "green": 0})
    assert statuses and set(statuses) == {200}


def test_router_restarted_recovers_traffic_and_keys_from_the_work_dir(two_colours, endpoints, shared):
    config, uri, key = two_colours
    endpoints.set_traffic("iris-ep", {"blue": 0, "green": 100})
    state = json.loads((shared[4] / "work" / "endpoints" / "iris-ep" / "state.json").read_text())
    processes.terminate(state["router"]["pid"])
    assert endpoints.get_endpoint("iris-ep").provisioning_state == "RouterDown"
    again = endpoints.ensure_endpoint(specs.endpoint_spec(config))
    assert again.scoring_uri == uri and again.traffic == {"blue": 0, "green": 100}
    resp = post(uri, key)
    assert resp.status_code == 200 and resp.headers["azureml-model-deployment"] == "green"
    endpoints.set_traffic("iris-ep", {"blue": 100, "green": 0})


def test_a_deployment_with_live_traffic_is_never_deleted(two_colours, endpoints):  # runs last: deletes green
    from azml2aks.errors import BackendError

    with pytest.raises(BackendError, match="live traffic"):
        endpoints.delete_deployment("iris-ep", "blue")
    endpoints.delete_deployment("iris-ep", "green")
    endpoints.delete_deployment("iris-ep", "green")  # already gone: fine
    assert endpoints.get_endpoint("iris-ep").deployments == ["blue"]
