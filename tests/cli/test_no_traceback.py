"""What a new user gets wrong on the command line ends in one clear error line and exit 1, never
a traceback; a reader that leaves early (`| head -1`) ends the command quietly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from azml2aks.cli import main
from tests.conftest import copy_example


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture
def wine(tmp_path):
    return copy_example(tmp_path)


def test_a_workdir_that_is_a_file_is_named(capsys, wine, tmp_path):
    (tmp_path / "afile").write_text("x")
    code, text = run(capsys, "status", str(wine), "--workdir", str(tmp_path / "afile"))
    assert code == 1 and "work dir" in text and "is a file, not a folder" in text


def test_a_workdir_that_cannot_be_created_is_named(capsys, wine, tmp_path):
    (tmp_path / "afile").write_text("x")
    code, text = run(capsys, "status", str(wine), "--workdir", str(tmp_path / "afile" / "below"))
    assert code == 1 and "work dir" in text and "--workdir" in text


def test_a_folder_given_as_pipeline_points_at_the_pipeline_yaml_inside(capsys, wine):
    code, text = run(capsys, "validate", str(wine.parent))
    assert code == 1 and "is a folder, not a pipeline.yaml file" in text and f"pass {wine}" in text


def test_a_binary_file_given_as_pipeline_is_named(capsys, tmp_path):
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04\x95\x00\xd0\xff")
    code, text = run(capsys, "validate", str(tmp_path / "model.pkl"))
    assert code == 1 and "is not a UTF-8 text file" in text


def test_a_reader_that_leaves_early_ends_the_command_quietly():
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` after its line: every write now fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "azml2aks", "schema"], stdout=write_end,
                              stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert done.returncode == 0 and b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr


def test_the_package_folder_lives_under_the_work_dir_so_two_work_dirs_never_share_it(wine, tmp_path):
    from azml2aks.pipeline import load_pipeline

    first = load_pipeline(wine, workdir=tmp_path / "wd-a")
    second = load_pipeline(wine, workdir=tmp_path / "wd-b")
    assert first.build_dir != second.build_dir
    assert first.build_dir.is_relative_to(tmp_path / "wd-a")


def test_status_text_leaves_out_what_a_colour_does_not_have():
    from azml2aks.cli.endpoint import _status_render

    text = _status_render({"name": "wine-endpoint", "provisioning_state": "Succeeded", "scoring_uri": "http://x",
                           "traffic": {"blue": 100, "green": None},
                           "health": {"green": {"status": "Failed", "alive": False, "model": None, "port": None}}})
    assert "None" not in text and "green: Failed, down" in text and "traffic: blue=100" in text


def test_a_file_system_refusal_nothing_else_named_is_one_line_not_a_traceback(capsys, wine):
    # /proc takes no new folders: the work dir cannot be made when train writes its journal
    code, text = run(capsys, "train", str(wine), "--workdir", "/proc/azml2aks-no-such/x")
    assert code == 3 and "No such file or directory: /proc/azml2aks-no-such" in text and "Traceback" not in text
