"""Lineage tags: git commit read from .git (branches, packed refs, detached HEAD), CI build ids."""

from __future__ import annotations

import subprocess

from azml2aks.lineage import ci_build_id, git_commit, lineage_tags


def git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True).stdout.strip()


def make_repo(path):
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "f.txt").write_text("x")
    git(path, "add", "f.txt")
    git(path, "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "c")
    return git(path, "rev-parse", "HEAD")


def test_git_commit_is_read_from_a_loose_ref_in_a_subfolder(tmp_path):
    sha = make_repo(tmp_path / "repo")
    (tmp_path / "repo" / "examples").mkdir()
    assert git_commit(tmp_path / "repo" / "examples") == sha


def test_git_commit_is_read_from_packed_refs_and_a_detached_head(tmp_path):
    repo = tmp_path / "repo"
    sha = make_repo(repo)
    git(repo, "pack-refs", "--all")
    assert git_commit(repo) == sha
    git(repo, "checkout", "-q", "--detach")
    assert git_commit(repo) == sha


def test_no_repository_means_no_commit_tag(tmp_path):
    assert git_commit(tmp_path) is None
    tags = lineage_tags(job_name="j", child_run_id="c", metric="accuracy", value=0.9, data_ref=None,
                        data_sha256=None, directory=tmp_path, env={})
    assert "azml2aks.git_commit" not in tags and "azml2aks.ci_build_id" not in tags


def test_ci_build_id_prefers_azure_devops_then_github():
    assert ci_build_id({"GITHUB_RUN_ID": "7", "BUILD_BUILDID": "42"}) == ("BUILD_BUILDID", "42")
    assert ci_build_id({"GITHUB_RUN_ID": "7"}) == ("GITHUB_RUN_ID", "7")
    assert ci_build_id({}) is None


def test_lineage_tags_carry_job_child_metric_data_and_build(tmp_path):
    tags = lineage_tags(job_name="job1", child_run_id="child1", metric="r2_score", value=0.5, data_ref="d.csv",
                        data_sha256="ab" * 32, directory=tmp_path, env={"BUILD_BUILDID": "1234"})
    assert tags == {"azml2aks.job": "job1", "azml2aks.child_run_id": "child1", "azml2aks.primary_metric": "r2_score",
                    "azml2aks.metric_value": "0.5", "azml2aks.training_data": "d.csv",
                    "azml2aks.training_data_sha256": "ab" * 32, "azml2aks.ci_build_id": "1234",
                    "azml2aks.ci_build_variable": "BUILD_BUILDID"}
