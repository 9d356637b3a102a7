"""Online endpoints and deployments through azure-ai-ml against the fake: the whole
lifecycle, code upload to blob, keys, logs, LRO shapes."""
from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError

from .helpers import k8s_deployment, k8s_endpoint, set_traffic


def test_kubernetes_endpoint_is_created_with_a_scoring_uri_and_no_traffic(ml_client, fake_azure):
    endpoint = k8s_endpoint(ml_client, fake_azure)
    assert endpoint.provisioning_state == "Succeeded"
    router = fake_azure.scoring.router_ip("aks-ml")
    assert endpoint.scoring_uri == f"http://{router}/api/v1/endpoint/ep-fraud/score"
    assert endpoint.traffic == {}
    assert endpoint.compute.endswith("/computes/aks")


def test_deployment_with_a_local_code_folder_uploads_it_to_blob_and_succeeds(
        ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    deployment = k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue").result()
    assert deployment.provisioning_state == "Succeeded"
    assert deployment.resources.requests.cpu == "100m"
    (path, data), = fake_azure.blob.files("codes-upload").items()
    assert path.endswith("/score.py") and b"def run" in data
    put = next(c for c in fake_azure.calls("Blob_Put") if "comp=metadata" not in c.url)
    assert put.status == 201
    assert fake_azure.calls("Blob_Put")[-1].status == 200  # ?comp=metadata
    assert fake_azure.count("CodeVersions_CreateOrUpdate") == 1


def test_blob_put_echoes_content_md5(fake_azure):
    import requests

    uri, sas = fake_azure.blob.reserve("probe")
    answer = requests.put(sas.replace(uri, uri + "/a.txt"), data=b"hello",
                          headers={"x-ms-blob-type": "BlockBlob", "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg=="})
    assert answer.status_code == 201
    assert answer.headers["Content-MD5"] == "XUFAKrxLKna5cZ2REBfFkg=="


def test_full_rollout_lifecycle_through_the_sdk(ml_client, fake_azure, tmp_path):
    # eventual consistency stays on: the helpers retry and re-read like a careful client
    k8s_endpoint(ml_client, fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue", fake=fake_azure).result()
    assert set_traffic(ml_client, "ep-fraud", {"blue": 100}, fake=fake_azure).traffic == {
        "blue": 100}
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "green", fake=fake_azure).result()
    assert set_traffic(ml_client, "ep-fraud", {"blue": 90, "green": 10},
                       fake=fake_azure).traffic == {"blue": 90, "green": 10}
    final = set_traffic(ml_client, "ep-fraud", {"green": 100}, fake=fake_azure).traffic
    assert final.get("blue", 0) == 0 and final["green"] == 100
    assert sorted(d.name for d in ml_client.online_deployments.list("ep-fraud")) == [
        "blue", "green"]
    ml_client.online_deployments.begin_delete("blue", "ep-fraud").result()
    assert [d.name for d in ml_client.online_deployments.list("ep-fraud")] == ["green"]
    ml_client.online_endpoints.begin_delete("ep-fraud").result()
    assert fake_azure.endpoints.records == {}
    assert fake_azure.deployments.records == {}


def test_keys_are_listed_and_a_token_is_issued_for_token_auth(ml_client, fake_azure):
    k8s_endpoint(ml_client, fake_azure)
    keys = ml_client.online_endpoints.get_keys("ep-fraud")
    assert keys.primary_key and keys.secondary_key and keys.primary_key != keys.secondary_key
    k8s_endpoint(ml_client, fake_azure, "ep-token", auth_mode="aml_token")
    token = ml_client.online_endpoints.get_keys("ep-token")
    assert token.access_token.startswith("amltoken-ep-token")


def test_regenerating_the_primary_key_replaces_it(ml_client, fake_azure):
    k8s_endpoint(ml_client, fake_azure)
    before = ml_client.online_endpoints.get_keys("ep-fraud")
    ml_client.online_endpoints.begin_regenerate_keys("ep-fraud", key_type="primary").result()
    after = ml_client.online_endpoints.get_keys("ep-fraud")
    assert after.primary_key != before.primary_key
    assert after.secondary_key == before.secondary_key


def test_deployment_logs_come_from_both_containers(ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue").result()
    server = ml_client.online_deployments.get_logs("blue", "ep-fraud", lines=2)
    assert server.splitlines() == ["Listening at: http://:31311",
                                   "GET / 200 (readiness probe)"]
    init = ml_client.online_deployments.get_logs("blue", "ep-fraud", lines=10,
                                                 container_type="storage-initializer")
    assert "Downloading model" in init
    bodies = [c.request_json for c in fake_azure.calls("OnlineDeployments_GetLogs")]
    # the SDK leaves containerType out for the default container (InferenceServer)
    assert [b.get("containerType") for b in bodies] == [None, "StorageInitializer"]


def test_put_answers_201_with_an_async_operation_polled_until_succeeded(ml_client, fake_azure):
    fake_azure.config.lro_polls = 3
    k8s_endpoint(ml_client, fake_azure)
    put = fake_azure.calls("OnlineEndpoints_CreateOrUpdate")[0]
    assert put.status == 201
    # compute attach + endpoint create: 3 InProgress answers then Succeeded, each
    assert fake_azure.count("OperationStatus_Get") == 2 * 4


def test_async_operation_answers_carry_the_headers_the_rest_spec_declares(fake_azure):
    import requests

    from .helpers import raw_endpoint

    fake_azure.config.lro_polls = 2
    answer = raw_endpoint(fake_azure, "ep-raw", settle=False)
    assert answer.status_code == 201
    # 201: Azure-AsyncOperation + x-ms-async-operation-timeout, no Retry-After (the SDK
    # then polls at its own interval); v1 sent retry-after-ms: 1, which Azure never does
    assert "retry-after-ms" not in answer.headers and "Retry-After" not in answer.headers
    assert answer.headers["x-ms-async-operation-timeout"] == "PT1H"
    status_url = answer.headers["Azure-AsyncOperation"]
    seen = [requests.get(status_url).json()["status"] for _ in range(4)]
    assert seen == ["InProgress", "InProgress", "Succeeded", "Succeeded"]


def test_delete_answers_202_with_a_location_polled_until_done(fake_azure):
    import requests

    from .helpers import raw_endpoint, ws_url

    raw_endpoint(fake_azure, "ep-raw")
    fake_azure.config.lro_polls = 1
    answer = requests.delete(ws_url(fake_azure) + "/onlineEndpoints/ep-raw")
    assert answer.status_code == 202
    assert answer.headers["Retry-After"] == str(fake_azure.config.lro_retry_after)
    location = answer.headers["Location"]
    assert [requests.get(location).status_code for _ in range(2)] == [202, 200]
    assert "ep-raw" not in fake_azure.endpoints.records


def test_sdk_lros_finish_without_real_sleeps(ml_client, fake_azure, tmp_path):
    fake_azure.config.lro_polls = 3
    started = time.monotonic()
    k8s_endpoint(ml_client, fake_azure)
    k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue").result()
    ml_client.online_deployments.begin_delete("blue", "ep-fraud").result()
    assert time.monotonic() - started < 3


def test_deployment_on_a_missing_endpoint_is_a_404(ml_client, fake_azure, tmp_path):
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError):
        k8s_deployment(ml_client, tmp_path, "ep-missing", "blue")


def test_failed_deployment_surfaces_as_http_response_error_from_the_poller(
        ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    fake_azure.faults.image_build_failure("ep-fraud", "blue")
    with pytest.raises(HttpResponseError, match=r"ImageBuildFailure"):
        k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue").result()
