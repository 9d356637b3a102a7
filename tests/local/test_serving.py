"""serving.py: the Azure ML inference server under gunicorn, bound to 127.0.0.1 only."""

from __future__ import annotations

import json
import urllib.request

import pytest

from azml2aks.errors import BackendError
from azml2aks.serving import InferenceServer, server_argv, start_inference_server

pytestmark = pytest.mark.e2e

ECHO = '''
import os
MODEL_DIR = None

def init():
    global MODEL_DIR
    MODEL_DIR = os.environ["AZUREML_MODEL_DIR"]

def run(raw_data):
    return {"model_dir": MODEL_DIR, "echo": raw_data}
'''


@pytest.fixture
def package(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "score.py").write_text(ECHO)
    model = tmp_path / "model"
    model.mkdir()
    return pkg, model


def test_server_command_binds_loopback_only():
    argv = server_argv(8123, 2)
    assert argv[argv.index("-b") + 1] == "127.0.0.1:8123"
    assert argv[argv.index("-w") + 1] == "2"


def test_started_server_scores_with_the_model_dir_set_and_stops(package, tmp_path):
    pkg, model = package
    server = start_inference_server(pkg, model, log_path=tmp_path / "server.log", startup_timeout=60)
    try:
        assert server.alive()
        assert server.url.startswith("http://127.0.0.1:")
        req = urllib.request.Request(
            server.score_url, data=b'{"a": 1}', headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = json.loads(resp.read())
        assert body["model_dir"] == str(model.resolve())
        assert json.loads(body["echo"]) == {"a": 1}
        again = InferenceServer.from_dict(json.loads(json.dumps(server.to_dict())))
        assert again == server
    finally:
        server.stop()
    assert not server.alive()


def test_a_score_script_whose_init_fails_is_reported_with_the_log_tail(package, tmp_path):
    pkg, model = package
    (pkg / "score.py").write_text(
        "def init():\n    raise RuntimeError('model file is corrupt')\n\ndef run(data):\n    return data\n"
    )
    with pytest.raises(BackendError) as info:
        start_inference_server(pkg, model, log_path=tmp_path / "bad.log", startup_timeout=60)
    assert "did not start" in info.value.message
    assert "model file is corrupt" in info.value.message


def test_a_package_without_score_py_is_refused_before_starting_anything(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackendError, match="no score.py"):
        start_inference_server(tmp_path / "empty", tmp_path, log_path=tmp_path / "x.log")
