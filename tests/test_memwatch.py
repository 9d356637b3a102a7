"""memwatch: Kubernetes memory quantities, and the kill decision with injected readings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from azml2aks.memwatch import OOM_EXIT, memory_bytes, watch


@pytest.mark.parametrize("quantity, expected", [("200Mi", 200 * 2**20), ("0.1Gi", int(0.1 * 2**30)),
                                                ("4Gi", 4 * 2**30), ("512M", 512 * 10**6), ("1048576", 2**20)])
def test_memory_quantities_are_read_as_kubernetes_reads_them(quantity, expected):
    assert memory_bytes(quantity) == expected


def test_a_bad_quantity_says_what_is_expected():
    with pytest.raises(ValueError, match="'4GB' is not a Kubernetes memory quantity"):
        memory_bytes("4GB")


class Child:
    def __init__(self, polls_before_exit: int | None):
        self.left, self.returncode, self.waited = polls_before_exit, None, False

    def poll(self):
        if self.left is not None:
            if self.left == 0:
                self.returncode = 0
            self.left -= 1
        return self.returncode

    def wait(self):
        self.waited = True


def test_the_group_is_killed_with_137_once_its_resident_memory_sums_over_the_limit():
    readings = iter([{10: 60, 11: 30}, {10: 60, 11: 50}])  # the sum, not any one process, goes over 100
    killed, lines, sleeps = [], [], []
    child = Child(None)
    code = watch(child, 100, period=0.5, rss=lambda: next(readings), kill=killed.extend, log=lines.append,
                 sleep=sleeps.append)
    assert code == OOM_EXIT and killed == [10, 11] and child.waited
    assert sleeps == [0.5] and lines[0].startswith("OOMKilled:")


def test_a_server_within_its_limit_runs_until_it_exits_on_its_own():
    child = Child(3)
    assert watch(child, 100, period=0.5, rss=lambda: {10: 99}, kill=pytest.fail, log=pytest.fail,
                 sleep=lambda s: None) == 0


def test_a_real_process_over_its_limit_is_killed_like_an_oom_killed_pod():
    hog = "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(120)"
    done = subprocess.run([sys.executable, "-m", "azml2aks.memwatch", "--limit", "100Mi", "--period", "0.1", "--",
                           sys.executable, "-c", hog], capture_output=True, text=True, timeout=120)
    assert done.returncode == OOM_EXIT and "OOMKilled" in done.stdout and "over the memory limit of 100 MiB" in done.stdout
