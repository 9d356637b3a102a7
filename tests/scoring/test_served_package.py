"""The generated package under the real Azure ML inference server on 127.0.0.1: bad inputs
get 4xx answers and the server keeps serving; swagger is served from the package."""

from __future__ import annotations

import json

import pytest
import requests

from azml2aks.packaging.writer import package_model
from azml2aks.serving import start_inference_server

from .conftest import make_config, model_version

pytestmark = pytest.mark.e2e
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def served(wine_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    config = make_config(scoring={"max_body_bytes": LIMIT})
    result = package_model(config, model_version(), wine_model_dir, root, run_contract=False)
    server = start_inference_server(result.directory, wine_model_dir, log_path=root / "server.log")
    sample = json.loads((root / "wine-1" / "sample-request.json").read_text())
    try:
        yield server, sample
    finally:
        server.stop()


def post(server, body, **kwargs):
    data = body if isinstance(body, (bytes, str)) or hasattr(body, "__next__") else json.dumps(body)
    return requests.post(server.score_url, data=data, headers={"Content-Type": "application/json"},
                         timeout=30, **kwargs)


def assert_still_serving(server, sample):
    answer = post(server, sample)
    assert answer.status_code == 200 and len(answer.json()["Results"]) == 3
    assert server.alive()


BAD = {
    "not json": (b"{oops", 400, "InvalidJson"),
    "empty body": (b"", 400, "EmptyBody"),
    "empty data": ({"Inputs": {"data": []}}, 400, "EmptyData"),
    "wrong method": (None, 400, "BadMethod"),
    "missing column": (None, 400, "MissingColumn"),
    "wrong type": (None, 400, "WrongType"),
    "null in required column": (None, 400, "MissingValue"),
    "mlflow format wrong width": ({"input_data": {"columns": ["a", "b"], "data": [[1]]}}, 400, "BadFormat"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gets_a_4xx_and_the_server_keeps_serving(served, case):
    server, sample = served
    body, status, code = BAD[case]
    rows = sample["Inputs"]["data"]
    if case == "wrong method":
        body = {**sample, "GlobalParameters": {"method": "explain"}}
    elif case == "missing column":
        body = {"Inputs": {"data": [{k: v for k, v in r.items() if k != "hue"} for r in rows]}}
    elif case == "wrong type":
        body = [rows[0], {**rows[1], "proline": "lots"}]
    elif case == "null in required column":
        body = {"input_data": {"columns": list(rows[0]), "data": [[*list(rows[0].values())[:-1], None]]}}
    answer = post(server, body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert_still_serving(server, sample)


def test_a_body_over_the_limit_gets_413_and_the_server_keeps_serving(served):
    server, sample = served
    huge = json.dumps({"Inputs": {"data": sample["Inputs"]["data"] * 2000}})
    assert len(huge) > LIMIT
    answer = post(server, huge)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "BodyTooLarge"
    chunked = post(server, iter([huge[:LIMIT].encode(), huge[LIMIT:].encode()]))
    assert chunked.status_code == 413
    assert_still_serving(server, sample)


def test_extra_columns_are_dropped_and_reported_in_a_header_over_http(served):
    server, sample = served
    rows = [{**r, "customer": "c-1"} for r in sample["Inputs"]["data"]]
    answer = post(server, {"Inputs": {"data": rows}})
    assert answer.status_code == 200
    assert json.loads(answer.headers["x-azml2aks-dropped-columns"]) == ["customer"]


def test_method_can_come_from_the_query_string_and_get_on_score_is_refused(served):
    server, sample = served
    answer = post(server, sample["Inputs"]["data"], params={"method": "predict_proba"})
    assert answer.status_code == 200 and answer.json()["classes"] == ["class_0", "class_1", "class_2"]
    assert requests.get(server.score_url, timeout=10).status_code == 405


def test_the_server_serves_the_generated_swagger_documents(served):
    server, sample = served
    v2 = requests.get(f"{server.url}/swagger.json", timeout=10).json()
    v3 = requests.get(f"{server.url}/swagger.json", params={"version": "3"}, timeout=10).json()
    assert v2["swagger"] == "2.0" and v2["definitions"]["ServiceInput"]["example"] == sample
    assert v3["openapi"].startswith("3.0") and v3["info"]["title"] == "wine 1"
