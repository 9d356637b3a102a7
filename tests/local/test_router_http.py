"""The local router's HTTP surface without any colour running: health, methods, body bound.

The router is started in-process on 127.0.0.1 (port chosen by the OS) over a state.json and
keys.json in a temporary folder, as endpoints.py writes them."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from azml2aks.backends.local.router import Router, RouterServer

KEY = "k" * 43


@pytest.fixture
def router(tmp_path):
    state = {"name": "wine-endpoint", "generation": 3, "traffic": {"blue": 90, "green": 10},
             "deployments": {}, "max_body_bytes": 2048}
    (tmp_path / "state.json").write_text(json.dumps(state))
    (tmp_path / "keys.json").write_text(json.dumps({"primaryKey": KEY, "secondaryKey": "s" * 43}))
    server = RouterServer(0, Router(tmp_path / "state.json"))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def request(port, method, path, *, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


SCORE = "/api/v1/endpoint/wine-endpoint/score"


def test_health_without_a_key_does_not_show_the_traffic_split(router):
    status, _, body = request(router, "GET", "/")
    assert status == 200
    health = json.loads(body)
    assert health["status"] == "healthy" and health["generation"] == 3 and "traffic" not in health


def test_health_with_the_key_shows_the_traffic_split(router):
    _, _, body = request(router, "GET", "/", headers={"Authorization": f"Bearer {KEY}"})
    assert json.loads(body)["traffic"] == {"blue": 90, "green": 10}


@pytest.mark.parametrize("method, path, allow", [("PUT", SCORE, "POST"), ("GET", SCORE, "POST"),
                                                 ("DELETE", "/", "GET"), ("POST", "/", "GET")])
def test_an_unsupported_method_on_a_known_path_gets_405_naming_the_allowed_one(router, method, path, allow):
    status, headers, _ = request(router, method, path)
    assert status == 405 and headers["Allow"] == allow


def test_an_unknown_path_is_still_404(router):
    assert request(router, "PUT", "/nowhere")[0] == 404


def test_a_body_over_the_limit_gets_413_before_the_key_is_even_checked(router):
    status, _, body = request(router, "POST", SCORE, body=b"x" * 4096)
    assert status == 413 and "2048" in json.loads(body)["message"]


def test_a_body_within_the_limit_reaches_the_key_check(router):
    assert request(router, "POST", SCORE, body=b"{}")[0] == 401


def test_invoke_pinned_to_an_unknown_colour_says_which_colours_exist_not_which_column_to_fix(router, tmp_path):
    from types import SimpleNamespace

    from azml2aks.config import PipelineConfig
    from azml2aks.errors import NotFoundError
    from azml2aks.rollout import verbs as V

    config = PipelineConfig.model_validate({"automl": {"task": "classification", "target_column_name": "y",
                                                       "training_data": "x.csv"},
                                            "endpoint": {"name": "wine-endpoint"}})
    uri = f"http://127.0.0.1:{router}{SCORE}"
    backend = SimpleNamespace(get_endpoint=lambda name: SimpleNamespace(scoring_uri=uri),
                              get_credentials=lambda name: SimpleNamespace(secret=KEY))
    request_file = tmp_path / "request.json"
    request_file.write_text('{"input_data": {"columns": ["x"], "data": [[1]]}}')
    with pytest.raises(NotFoundError) as info:
        V.invoke(SimpleNamespace(config=config, backend=backend), request_file, deployment="purple")
    assert "404" in info.value.message and "azml2aks status" in info.value.hint
    assert "column" not in info.value.hint
