"""Every CI pipeline file in examples/ parses, and every azml2aks command it runs parses with the
real command-line parser: a verb or flag that does not exist (or a wrong choice, or a missing
argument) fails here, not in a user's pipeline."""

from __future__ import annotations

import contextlib
import io
import re
import shlex

import pytest
import yaml

from azml2aks.cli import build_parser
from tests.conftest import REPO

CI_FOLDERS = {"azure-devops": REPO / "examples" / "azure-devops", "github": REPO / "examples" / "github-actions"}
FILES = sorted(p for folder in CI_FOLDERS.values() for p in folder.rglob("*.yml"))
#: The keys whose values are shell scripts (Azure DevOps script/inlineScript and the step
#: template's `command` parameter; GitHub run).
SCRIPT_KEYS = {"script", "bash", "pwsh", "inlineScript", "run", "command"}
SHELL_OPERATORS = {">", ">>", "|", "||", "&&", ";", "2>", "2>&1", "&"}


def scripts(node):
    """Every shell script string in a parsed pipeline file."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SCRIPT_KEYS and isinstance(value, str):
                yield value
            else:
                yield from scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from scripts(item)


def invocations(script: str) -> list[list[str]]:
    """The argument lists of the azml2aks commands in ``script``."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        if line.strip().startswith("#"):
            continue
        match = re.search(r"(?:^|[\s;&|(/])azml2aks\s+(.*)$", line)
        if not match:
            continue
        args = []
        for token in shlex.split(match.group(1), comments=True):
            if token in SHELL_OPERATORS:
                break
            args.append(token)
        found.append(args)
    return found


def commands_in(path) -> list[list[str]]:
    document = yaml.safe_load(path.read_text())
    return [args for script in scripts(document) for args in invocations(script)]


def parse(args: list[str]) -> str | None:
    """None when the real parser accepts ``args``, else its error message."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(args)
    except SystemExit as e:
        return stderr.getvalue().strip().splitlines()[-1] if e.code else None
    return None


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_pipeline_file_is_valid_yaml(path):
    assert isinstance(yaml.safe_load(path.read_text()), dict)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_azml2aks_command_in_a_pipeline_file_parses_with_the_real_parser(path):
    refused = {" ".join(args): parse(args) for args in commands_in(path)}
    assert {cmd: error for cmd, error in refused.items() if error} == {}


@pytest.mark.parametrize("ci", sorted(CI_FOLDERS))
def test_each_ci_example_runs_every_stage_against_azure(ci):
    commands = [args for path in FILES if path.is_relative_to(CI_FOLDERS[ci]) for args in commands_in(path)]
    verbs = {args[0] for args in commands}
    assert {"validate", "train", "wait", "register", "package", "attach", "deploy"} <= verbs
    assert ["train", "--no-wait"] == [a for a in next(c for c in commands if c[0] == "train") if a in ("train", "--no-wait")]
    assert all("--backend" in args and args[args.index("--backend") + 1] == "azure" for args in commands)


def test_the_checker_catches_a_flag_that_does_not_exist():
    assert parse(["deploy", "pipeline.yaml", "--canary"]) == "azml2aks: error: unrecognized arguments: --canary"
    assert parse(["train", "pipeline.yaml", "--backend", "aws"]) is not None
    assert invocations('set -e\nazml2aks train "$PIPELINE" --no-wait -o json > job.json\n') == [
        ["train", "$PIPELINE", "--no-wait", "-o", "json"]]
