"""Lineage facts recorded on every registered model: git commit, CI build id, data hash.

Reads the environment and the ``.git`` folder; runs no process.
"""

from __future__ import annotations

import os
from pathlib import Path

#: CI variables that identify a build, in the order they are looked for.
CI_BUILD_VARIABLES = ("BUILD_BUILDID", "GITHUB_RUN_ID", "CI_PIPELINE_ID", "BUILD_NUMBER")


def ci_build_id(env: dict[str, str] | None = None) -> tuple[str, str] | None:
    """``(variable, value)`` of the first CI build id that is set, else None."""
    env = os.environ if env is None else env
    for name in CI_BUILD_VARIABLES:
        if env.get(name):
            return name, env[name]
    return None


def git_commit(directory: Path) -> str | None:
    """The commit checked out at ``directory`` when it is inside a git repository.

    Read from ``.git`` directly (HEAD, loose refs, packed-refs): no subprocess, no git needed.
    """
    for folder in (directory.resolve(), *directory.resolve().parents):
        dot_git = folder / ".git"
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = dot_git.read_text().strip()
            if not text.startswith("gitdir:"):
                return None
            dot_git = (folder / text.removeprefix("gitdir:").strip()).resolve()
        if dot_git.is_dir():
            return _resolve_head(dot_git)
    return None


def _resolve_head(git_dir: Path) -> str | None:
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref:"):
        return head if len(head) == 40 else None
    ref = head.removeprefix("ref:").strip()
    common = git_dir
    if (git_dir / "commondir").exists():
        common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
    for base in (git_dir, common):
        loose = base / ref
        if loose.is_file():
            sha = loose.read_text().strip()
            return sha if len(sha) == 40 else None
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
    return None  # a branch with no commits yet


def lineage_tags(*, job_name: str, child_run_id: str, metric: str, value: float, data_ref: str | None,
                 data_sha256: str | None, directory: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The tags every registered model carries, on both backends."""
    tags = {
        "azml2aks.job": job_name,
        "azml2aks.child_run_id": child_run_id,
        "azml2aks.primary_metric": metric,
        "azml2aks.metric_value": repr(float(value)),
    }
    if data_ref:
        tags["azml2aks.training_data"] = data_ref
    if data_sha256:
        tags["azml2aks.training_data_sha256"] = data_sha256
    commit = git_commit(directory)
    if commit:
        tags["azml2aks.git_commit"] = commit
    build = ci_build_id(env)
    if build:
        tags["azml2aks.ci_build_id"] = build[1]
        tags["azml2aks.ci_build_variable"] = build[0]
    return tags
