"""The docs keep up with the code: every verb documented, the pipeline.yaml reference fresh,
each folder's README present, and the example data what the generator writes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from azml2aks.cli import COMMANDS
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def verbs_in_help() -> list[str]:
    """The verbs `azml2aks --help` lists (read from the help text, not from the registry)."""
    done = subprocess.run([sys.executable, "-m", "azml2aks", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    listing = done.stdout.split("positional arguments:", 1)[1]
    return re.findall(r"^    ([a-z][a-z-]*)\b", listing, flags=re.M)


HELP_VERBS = verbs_in_help()


def test_help_lists_every_registered_verb():
    assert sorted(HELP_VERBS) == sorted(COMMANDS) and len(HELP_VERBS) >= 15


@pytest.mark.parametrize("verb", HELP_VERBS)
def test_every_verb_is_in_the_readme_table(verb):
    assert f"| `{verb}" in README


@pytest.mark.parametrize("verb", HELP_VERBS)
def test_every_verb_help_ends_with_an_example_of_that_verb(verb):
    done = subprocess.run([sys.executable, "-m", "azml2aks", verb, "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert re.search(rf"^Example: azml2aks {verb}\b", done.stdout, flags=re.M), done.stdout


def test_readme_quick_start_has_the_two_commands():
    assert "make demo" in README and "make test" in README


def test_pipeline_reference_in_readme_is_current():
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "config_reference.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("folder", ["scoring", "environments", "infra", "examples"])
def test_each_shared_folder_says_who_reads_it(folder):
    assert (REPO / folder / "README.md").is_file()


def test_example_data_is_what_the_generator_writes(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_data", REPO / "examples" / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main()
    for produced in tmp_path.glob("*/data/*.csv"):
        committed = REPO / "examples" / produced.relative_to(tmp_path)
        assert produced.read_bytes() == committed.read_bytes(), committed
