"""``invoke`` against an endpoint that does not answer: a clear error (exit 3), never a crash."""

from __future__ import annotations

import json

import pytest

from azml2aks import processes

pytestmark = pytest.mark.e2e


def test_invoke_against_an_endpoint_whose_router_is_down_exits_3_naming_it(tmp_path, iris_files, capsys):
    from azml2aks import cli
    from azml2aks.backends.local.endpoints import LocalEndpoints
    from azml2aks.config import specs
    from tests.local.conftest import make_config

    _, _, csv = iris_files
    eps = LocalEndpoints(tmp_path / "work", startup_timeout=60)
    eps.ensure_endpoint(specs.endpoint_spec(make_config(tmp_path, csv, endpoint="down-ep")))
    try:
        router_pid = json.loads((tmp_path / "work" / "endpoints" / "down-ep" / "state.json").read_text())["router"]["pid"]
        processes.terminate(router_pid)  # the router this test started: nothing listens on its port now
        yaml = tmp_path / "pipeline.yaml"
        yaml.write_text(f"automl: {{task: classification, target_column_name: target, training_data: {csv}}}\n"
                        f"endpoint: {{name: down-ep}}\nlocal: {{workdir: {tmp_path / 'work'}}}\n")
        request = tmp_path / "request.json"
        request.write_text('{"input_data": {"columns": ["a"], "index": [0], "data": [[1]]}}')
        assert cli.main(["invoke", str(yaml), "--file", str(request)]) == 3
        err = capsys.readouterr().err
        assert "endpoint 'down-ep' did not answer" in err and "azml2aks status" in err
        assert "TypeError" not in err and eps.get_credentials("down-ep").secret not in err
    finally:
        eps.stop_endpoint("down-ep")
