"""Fault injection: throttling, 5xx bursts, failed deployments, failed jobs."""
from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from tests.fakes import IMAGE_BUILD_FAILURE, QUOTA_EXCEEDED, READINESS_PROBE_FAILURE

from .helpers import k8s_deployment, k8s_endpoint, raw_endpoint, raw_k8s_deployment, ws_url

TRAIN = "azureml://datastores/workspaceblobstore/paths/fraud/train/"


def test_throttled_call_answers_429_with_retry_after_then_recovers(ml_client, fake_azure):
    k8s_endpoint(ml_client, fake_azure)
    fake_azure.faults.throttle("OnlineEndpoints_Get", retry_after=7)
    with pytest.raises(HttpResponseError) as info:
        ml_client.online_endpoints.get("ep-fraud")
    assert info.value.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
    assert ml_client.online_endpoints.get("ep-fraud").name == "ep-fraud"


def test_5xx_burst_fails_exactly_the_next_n_calls_of_the_operation(fake_azure):
    fake_azure.faults.server_errors("Workspaces_Get", times=3, status=503)
    statuses = [requests.get(ws_url(fake_azure)).status_code for _ in range(4)]
    assert statuses == [503, 503, 503, 200]
    assert [c.status for c in fake_azure.calls("Workspaces_Get")] == statuses


def test_fault_on_one_operation_leaves_others_alone(fake_azure):
    fake_azure.faults.server_errors("Jobs_Get", times=1)
    assert requests.get(ws_url(fake_azure)).status_code == 200


def test_wildcard_fault_hits_any_operation(fake_azure):
    fake_azure.faults.fail_next("*", status=500, code="InternalServerError")
    answer = requests.get(ws_url(fake_azure))
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "InternalServerError"


def test_sdk_retries_a_5xx_burst_when_retries_are_enabled(fake_azure, fake_credential):
    from azure.ai.ml import MLClient

    c = fake_azure.config
    ml = MLClient(fake_credential, c.subscription_id, c.resource_group, c.workspace,
                  enable_telemetry=False, retry_total=2, retry_backoff_factor=0)
    fake_azure.faults.fail_next("Compute_List", times=2, status=503, retry_after=0)
    assert list(ml.compute.list()) == []
    assert [c.status for c in fake_azure.calls("Compute_List")] == [503, 503, 200]


def test_image_build_failure_ends_the_deployment_lro_failed_with_the_service_code(
        ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    fake_azure.faults.image_build_failure("ep-fraud", "blue")
    with pytest.raises(HttpResponseError) as info:
        k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue").result()
    assert f"({IMAGE_BUILD_FAILURE})" in str(info.value)
    assert fake_azure.deployments.state("ep-fraud", "blue") == "Failed"
    assert fake_azure.endpoints.record("ep-fraud").state == "Succeeded"


def test_readiness_probe_failure_fails_the_deployment_and_shows_in_its_logs(
        ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    fake_azure.faults.readiness_probe_failure("ep-fraud", "blue")
    with pytest.raises(HttpResponseError, match=READINESS_PROBE_FAILURE):
        k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue").result()
    logs = ml_client.online_deployments.get_logs("blue", "ep-fraud", lines=5)
    assert "readiness probe failed" in logs


def test_quota_exceeded_fails_the_deployment_with_out_of_quota(ml_client, fake_azure, tmp_path):
    k8s_endpoint(ml_client, fake_azure)
    fake_azure.faults.quota_exceeded("ep-fraud", "blue")
    with pytest.raises(HttpResponseError, match=QUOTA_EXCEEDED):
        k8s_deployment(ml_client, tmp_path, "ep-fraud", "blue").result()


def test_deployment_fault_is_consumed_so_a_retry_succeeds(fake_azure):
    raw_endpoint(fake_azure, "ep-k8s")
    fake_azure.faults.image_build_failure("ep-k8s", "blue")
    raw_k8s_deployment(fake_azure, "ep-k8s", "blue")
    assert fake_azure.deployments.state("ep-k8s", "blue") == "Failed"
    raw_k8s_deployment(fake_azure, "ep-k8s", "blue")
    assert fake_azure.deployments.state("ep-k8s", "blue") == "Succeeded"


def test_failed_operation_status_carries_code_and_message(fake_azure):
    raw_endpoint(fake_azure, "ep-k8s")
    fake_azure.faults.quota_exceeded("ep-k8s", "blue")
    answer = raw_k8s_deployment(fake_azure, "ep-k8s", "blue", settle=False)
    status_url = answer.headers["Azure-AsyncOperation"]
    statuses = [requests.get(status_url).json() for _ in range(2)]
    assert statuses[0]["status"] == "InProgress"
    assert statuses[1]["status"] == "Failed"
    assert statuses[1]["error"]["code"] == QUOTA_EXCEEDED


def test_job_failure_for_a_named_job_leaves_other_jobs_alone(fake_azure):
    fake_azure.faults.job_failure("boom", job="job-b")
    for name in ("job-a", "job-b"):
        requests.put(ws_url(fake_azure) + f"/jobs/{name}", json={"properties": {
            "jobType": "AutoML", "taskDetails": {"taskType": "Classification",
                                                 "targetColumnName": "y",
                                                 "trainingData": {"uri": TRAIN}}}})
        fake_azure.jobs.finish(name)
    status = {n: requests.get(ws_url(fake_azure) + f"/jobs/{n}").json()["properties"]["status"]
              for n in ("job-a", "job-b")}
    assert status == {"job-a": "Completed", "job-b": "Failed"}
