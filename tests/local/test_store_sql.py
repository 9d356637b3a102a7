"""store_sql reads and writes the local MLflow store as MlflowClient does (checked against
MlflowClient on a trained registry), and hands over to MlflowClient for a schema it does not know."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from azml2aks.backends.local import jobs, registry, store_sql, tracking
from azml2aks.pipeline import load_pipeline


@pytest.fixture
def store(trained_wine, tmp_path):
    """A copy of the trained wine work dir (so writes here touch no other test): (workdir, job)."""
    pipeline, job, _ = trained_wine
    workdir = tmp_path / "work"
    shutil.copytree(load_pipeline(pipeline).workdir, workdir, ignore=shutil.ignore_patterns("endpoints"))
    return workdir, job


def unknown_schema(monkeypatch):
    """What a future MLflow schema looks like to store_sql: not its to read (MlflowClient answers)."""
    monkeypatch.setattr(store_sql, "KNOWN_REVISIONS", frozenset({"a-revision-of-another-mlflow"}))


def test_versions_read_with_sqlite_equal_what_mlflow_client_returns(store):
    workdir, _ = store
    client = tracking.client(workdir)
    expected = sorted((registry._version(client.get_model_version(v.name, v.version))
                       for v in client.search_model_versions("")), key=lambda m: (m.name, int(m.version)))
    assert store_sql.read_versions(workdir) == expected
    champion = client.get_model_version_by_alias(expected[0].name, "champion")
    assert registry.get_model(workdir, expected[0].name, alias="champion").version == str(champion.version)


def test_a_job_and_its_trials_read_with_sqlite_equal_the_mlflow_client_reading(store, monkeypatch):
    workdir, job = store
    fast = jobs.get_job(workdir, job.job_name), jobs.list_child_runs(workdir, job.job_name)
    monkeypatch.setenv("AZML2AKS_MLFLOW_SQL", "0")
    assert store_sql.read_run(workdir, job.job_name) is None  # MlflowClient answers now
    slow = jobs.get_job(workdir, job.job_name), jobs.list_child_runs(workdir, job.job_name)
    assert fast == slow


def test_a_version_and_an_alias_written_with_sqlite_are_read_back_by_mlflow_client(store):
    workdir, job = store
    child = jobs.list_child_runs(workdir, job.job_name)[-1]
    created = store_sql.create_version(workdir, "other-model", source="/x/outputs/mlflow-model", run_id=child.run_id,
                                       tags={"azml2aks.job": job.job_name, "team": "ml"}, description="d")
    assert store_sql.set_alias(workdir, "other-model", "champion", created.version)
    client = tracking.client(workdir)
    mv = client.get_model_version_by_alias("other-model", "champion")
    assert (str(mv.version), mv.run_id, mv.source, mv.status) == ("1", child.run_id, "/x/outputs/mlflow-model", "READY")
    assert mv.tags == {"azml2aks.job": job.job_name, "team": "ml"} and mv.current_stage == "None"
    assert client.get_registered_model("other-model").description == "d"
    assert registry._version(client.get_model_version("other-model", "1")) == dataclasses.replace(created, aliases=("champion",))


def test_a_schema_it_does_not_know_is_left_to_mlflow_client(store, monkeypatch):
    workdir, _ = store
    unknown_schema(monkeypatch)
    assert store_sql.read_versions(workdir) is None
    assert store_sql.create_version(workdir, "m", source="/s", run_id="r", tags={}) is None
    assert not store_sql.set_alias(workdir, "m", "champion", "1")
    assert registry.list_models(workdir)  # answered by MlflowClient
