"""deploy and the endpoint verbs on Azure through the command line, against the fake, logged
in with `az` as on a CI agent: the same JSON shapes as on the local backend."""
from __future__ import annotations

import json
import time

from azml2aks.cli import main


def cli(capsys, *argv: str) -> tuple[int, object, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    try:
        return code, json.loads(out) if out.strip() else {}, err
    except ValueError:
        return code, out, err


def test_deploy_and_every_endpoint_verb_through_the_command_line(world, az_login, capsys):
    w = world
    path = str(w.write_pipeline(bake=0))
    p = w.pipeline()
    p.journal.record("package", w.package().to_dict())
    w.serve("blue")
    w.serve("green")
    common = ("--backend", "azure", "--workdir", str(w.root / "work"))

    code, first, err = cli(capsys, "deploy", path, *common, "-o", "json")
    assert code == 0, err
    assert first["result"] == "created" and first["traffic"] == {"blue": 100}
    code, second, err = cli(capsys, "deploy", path, *common, "-o", "json")
    assert code == 0, err
    assert second["result"] == "promoted" and second["colour"] == "green"
    assert "green: ready" in err  # progress lines go to stderr, stdout stays JSON

    code, status, _ = cli(capsys, "status", path, *common, "-o", "json")
    assert code == 0 and status["traffic"] == {"blue": 0, "green": 100}
    assert status["deployments"] == ["blue", "green"] and status["scoring_uri"].endswith("/ep-fraud/score")
    code, split, _ = cli(capsys, "traffic", path, "blue=70", "green=30", *common, "-o", "json")
    assert code == 0 and split == {"endpoint": "ep-fraud", "traffic": {"blue": 70, "green": 30}}
    code, back, _ = cli(capsys, "rollback", path, *common, "-o", "json")
    assert code == 0 and back["traffic"] == {"blue": 100, "green": 0}
    code, text, _ = cli(capsys, "logs", path, "--deployment", "green", *common)
    assert code == 0 and "Listening at" in text
    code, text, _ = cli(capsys, "logs", path, "--deployment", "green", "--container", "storage-initializer", *common)
    assert code == 0 and "Downloading model" in text
    code, keys, _ = cli(capsys, "keys", path, *common, "-o", "json")
    assert code == 0 and keys["primaryKey"] == w.fake.endpoints.record("ep-fraud").keys[0]
    request = w.root / "request.json"
    request.write_text(json.dumps({"input_data": {"columns": ["a", "b", "c"], "index": [0], "data": [[5, 2, 0]]}}))
    code, scored, _ = cli(capsys, "invoke", path, "--file", str(request), "--deployment", "green", *common, "-o", "json")
    assert code == 0 and scored["deployment"] == "green" and scored["response"] == [1]


def test_a_refused_rollout_exits_1_naming_the_holder_and_a_failed_one_exits_4(world, az_login, capsys):
    from azml2aks.backends.azure.lease import EXPIRES_TAG, OWNER_TAG, RUN_TAG

    w = world
    path = str(w.write_pipeline(bake=0))
    w.pipeline().journal.record("package", w.package().to_dict())
    w.serve("blue")
    common = ("--backend", "azure", "--workdir", str(w.root / "work"))
    assert cli(capsys, "deploy", path, *common, "-o", "json")[0] == 0
    tags = w.fake.endpoints.record("ep-fraud").body["tags"]
    # the command line dates leases with the wall clock (the fake's clock is for the tests' API seam)
    tags.update({RUN_TAG: "run-elsewhere", OWNER_TAG: "1@agent-9", EXPIRES_TAG: str(int(time.time()) + 999)})
    code, out, err = cli(capsys, "deploy", path, *common, "-o", "json")
    assert code == 1 and out["error"] == "LockedError" and "run-elsewhere" in out["message"]
    tags.clear()
    w.fake.faults.image_build_failure("ep-fraud", "green")
    code, out, err = cli(capsys, "deploy", path, *common, "-o", "json")
    assert code == 4 and out["error"] == "RolloutAborted" and "ImageBuildFailure" in out["message"]
    assert {k: v for k, v in w.fake.endpoints.traffic("ep-fraud").items() if v} == {"blue": 100}


def test_dry_run_prints_the_plan_and_the_requests_it_would_send(world, az_login, capsys):
    w = world
    path = str(w.write_pipeline(bake=0))
    code, out, err = cli(capsys, "deploy", path, "--dry-run", "--backend", "azure", "--workdir", str(w.root / "work"))
    assert code == 0, err
    assert "plan for endpoint ep-fraud: deploy blue (live: none)" in out
    assert "PUT /onlineEndpoints/ep-fraud  create KubernetesOnlineEndpoint" in out
    assert [c for c in w.fake.calls() if c.method != "GET"] == []
