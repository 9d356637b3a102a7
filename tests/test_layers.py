"""The layers of DESIGN.md hold (lint-imports, as `make lint` runs it), and the contracts can
fail: an import pointing up, or azure imported outside backends/azure, breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is installed by `make venv`")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / ".importlinter"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


def copy_tree(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "azml2aks", tmp_path / "azml2aks", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_tree_keeps_every_import_contract():
    done = lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_an_import_pointing_up_breaks_the_layers(tmp_path):
    root = copy_tree(tmp_path)
    engine = root / "azml2aks" / "rollout" / "engine.py"
    engine.write_text(engine.read_text() + "\nfrom azml2aks import pipeline  # noqa: E402,F401\n")
    done = lint(root)
    assert done.returncode != 0
    assert "Imports only point down BROKEN" in done.stdout
    assert "azml2aks.rollout.engine -> azml2aks.pipeline" in done.stdout


def test_azure_imported_outside_backends_azure_breaks_its_contract(tmp_path):
    root = copy_tree(tmp_path)
    probe = root / "azml2aks" / "probe.py"
    probe.write_text(probe.read_text() + "\nimport azure.core  # noqa: E402,F401\n")
    done = lint(root)
    assert done.returncode != 0 and "Only backends/azure imports azure BROKEN" in done.stdout
