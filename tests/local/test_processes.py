"""processes.py: the only module that starts and stops OS processes."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from azml2aks import processes
from azml2aks.errors import BackendError

PY = sys.executable


def test_spawn_runs_an_argv_list_detached_and_writes_its_output_to_the_log(tmp_path):
    log = tmp_path / "logs" / "child.log"
    pid = processes.spawn([PY, "-c", "print('hello from child')"], env={"PATH": "/usr/bin"}, log_path=log)
    for _ in range(100):
        if not processes.is_alive(pid):
            break
        threading.Event().wait(0.05)
    assert not processes.is_alive(pid)
    assert "hello from child" in log.read_text()


def test_spawn_refuses_a_shell_string(tmp_path):
    with pytest.raises(TypeError):
        processes.spawn("echo hi", env={}, log_path=tmp_path / "x.log")


def test_spawn_reports_a_missing_program_as_a_backend_error(tmp_path):
    with pytest.raises(BackendError, match="could not start"):
        processes.spawn([str(tmp_path / "no-such-program")], env={}, log_path=tmp_path / "x.log")


def test_terminate_stops_a_sleeping_child_and_succeeds_when_it_is_already_gone(tmp_path):
    pid = processes.spawn([PY, "-c", "import time; time.sleep(60)"], env={}, log_path=tmp_path / "s.log")
    assert processes.is_alive(pid)
    processes.terminate(pid, timeout=5)
    assert not processes.is_alive(pid)
    processes.terminate(pid, timeout=5)


def test_terminate_kills_a_child_that_ignores_sigterm(tmp_path):
    code = (
        "import signal, time, sys\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    log = tmp_path / "stubborn.log"
    pid = processes.spawn([PY, "-c", code], env={}, log_path=log)
    for _ in range(100):
        if "ready" in log.read_text():
            break
        threading.Event().wait(0.05)
    processes.terminate(pid, timeout=0.3)
    assert not processes.is_alive(pid)


def test_is_alive_is_false_for_pids_that_cannot_exist():
    assert not processes.is_alive(0)
    assert not processes.is_alive(-5)


def test_log_tail_returns_the_last_lines_and_nothing_for_a_missing_file(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert processes.log_tail(log, lines=3) == "line 97\nline 98\nline 99"
    assert processes.log_tail(tmp_path / "missing.log") == ""


def test_free_port_gives_a_port_that_can_be_bound_on_loopback():
    import socket

    port = processes.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def test_wait_http_returns_once_the_url_answers_200():
    server = HTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        processes.wait_http(f"http://127.0.0.1:{server.server_port}/", timeout=5)
    finally:
        server.shutdown()


def test_wait_http_times_out_with_the_log_tail_in_the_message(tmp_path):
    log = tmp_path / "srv.log"
    log.write_text("booting\nstill booting\n")
    port = processes.free_port()
    with pytest.raises(BackendError) as info:
        processes.wait_http(f"http://127.0.0.1:{port}/", timeout=0.3, log_path=log, sleep=lambda s: None)
    assert "did not answer 200" in info.value.message
    assert "still booting" in info.value.message


def test_wait_http_fails_fast_when_the_process_dies(tmp_path):
    log = tmp_path / "dead.log"
    pid = processes.spawn([PY, "-c", "print('boom: bad config')"], env={}, log_path=log)
    with pytest.raises(BackendError) as info:
        processes.wait_http(
            f"http://127.0.0.1:{processes.free_port()}/", timeout=30, pid=pid, log_path=log
        )
    assert "exited before" in info.value.message
    assert "boom: bad config" in info.value.message
