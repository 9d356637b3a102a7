"""A colour that drops connections (being replaced or stopped) costs no client request: the
router sends an unpinned request once more to another live colour, while pinned requests (the
rollout's probes) still see the failure. Router and a stand-in colour run in-process on
127.0.0.1; the dead colour's port has nothing listening."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from azml2aks.backends.local.router import PIN_HEADER, Router, RouterServer

KEY = "k" * 43
SCORE = "/api/v1/endpoint/wine-endpoint/score"


class Blue(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - stdlib name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"predictions": [1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


@pytest.fixture
def router(tmp_path):
    blue = serve(ThreadingHTTPServer(("127.0.0.1", 0), Blue))
    state = {"name": "wine-endpoint", "generation": 1, "traffic": {"blue": 50, "green": 50},
             "deployments": {"blue": {"status": "Succeeded", "server": {"port": blue.server_address[1]}},
                             "green": {"status": "Succeeded", "server": {"port": closed_port()}}}}
    (tmp_path / "state.json").write_text(json.dumps(state))
    (tmp_path / "keys.json").write_text(json.dumps({"primaryKey": KEY, "secondaryKey": "s" * 43}))
    server = serve(RouterServer(0, Router(tmp_path / "state.json")))
    yield server.server_address[1]
    for s in (server, blue):
        s.shutdown()
        s.server_close()


def score(port, *, pin=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    if pin:
        headers[PIN_HEADER] = pin
    try:
        conn.request("POST", SCORE, body=b'{"input_data": {"columns": ["a"], "data": [[1]]}}', headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader(PIN_HEADER), resp.read()
    finally:
        conn.close()


def test_unpinned_requests_to_a_colour_that_refuses_connections_are_answered_by_the_live_one(router):
    answers = [score(router) for _ in range(30)]
    assert {(status, colour) for status, colour, _ in answers} == {(200, "blue")}


def test_a_pinned_request_to_that_colour_still_fails_so_the_gates_see_it(router):
    status, colour, body = score(router, pin="green")
    assert status == 503 and colour == "green"
    assert "unavailable" in json.loads(body)["message"]
