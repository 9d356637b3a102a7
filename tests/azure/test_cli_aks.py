"""The AKS verbs end to end: `azml2aks doctor|attach|infra` through `main()`, the real
DefaultAzureCredential (service-principal variables answered by the fake Entra endpoint), the
fake ARM and a fake Kubernetes API server."""
from __future__ import annotations

import json

import pytest

from azml2aks.cli import main
from tests.fakes.entra import Entra

from .aks_helpers import TLS, answer_attach

PIPELINE = """\
workspace:
  subscription_id: {sub}
  resource_group: {rg}
  name: {ws}
automl:
  task: classification
  target_column_name: label
  training_data: data/train.csv
compute:
  name: aks
  cluster_name: aks-ml
deployment:
  resources:
    requests: {{cpu: "1", memory: 1Gi}}
"""


@pytest.fixture
def pipeline(fake_azure, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # --workdir wd lands in the test's folder
    entra = Entra(fake_azure)
    for name, value in entra.env.items():
        monkeypatch.setenv(name, value)
    c = fake_azure.config
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE.format(sub=c.subscription_id, rg=c.resource_group, ws=c.workspace))
    return path


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main([*argv, "--backend", "azure", "--workdir", "wd", "--quiet"])
    out, err = capsys.readouterr()
    return code, out + err


def test_doctor_on_a_cluster_without_the_extension_exits_1_naming_it_and_its_install_command(
        fake_azure, pipeline, kube, capsys):
    fake_azure.aks.extensions["aks-ml"].clear()
    code, out = run(capsys, "doctor", str(pipeline))
    assert code == 1
    line = next(x for x in out.splitlines() if "extension.installed" in x)
    assert line.startswith("FAIL") and "microsoft.azureml.kubernetes" in line
    assert "az k8s-extension create --name azureml --extension-type Microsoft.AzureML.Kubernetes" in out


def test_doctor_on_a_healthy_cluster_passes_every_check(healthy, pipeline, capsys):
    code, out = run(capsys, "doctor", str(pipeline))
    assert code == 0
    checks = [x for x in out.splitlines() if x[:4] in ("ok  ", "WARN", "FAIL")]
    assert len(checks) == 19 and all(x.startswith("ok  ") for x in checks)
    assert out.rstrip().endswith("19 passed, 0 warning(s), no failed check")


def test_doctor_json_lists_each_finding_and_prints_no_credential(healthy, pipeline, kube, capsys):
    code, out = run(capsys, "doctor", str(pipeline), "--output", "json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["pass"] == 19
    assert {"check", "status", "found", "remedy"} <= set(report["findings"][0])
    assert kube.token not in out and "fake-entra-token" not in out and "fake-client-secret" not in out


def test_doctor_without_a_reachable_api_server_warns_unless_access_is_required(healthy, pipeline, capsys):
    healthy.aks.api_servers.clear()
    code, out = run(capsys, "doctor", str(pipeline))
    assert code == 0 and "WARN  k8s.access" in out
    code, out = run(capsys, "doctor", str(pipeline), "--require-cluster-access")
    assert code == 1 and "FAIL  k8s.access" in out


def test_attach_twice_attaches_once(fake_azure, pipeline, kube, capsys):
    fake_azure.aks.add_extension("aks-ml", "azureml", settings=TLS)
    assert run(capsys, "attach", str(pipeline)) == (0, "compute aks: attached (azure)\n")
    code, out = run(capsys, "attach", str(pipeline))
    assert code == 0 and out.startswith("compute aks: already attached")
    assert fake_azure.count("Compute_CreateOrUpdate") == 1


def test_attach_to_a_compute_on_another_cluster_exits_1_saying_so(fake_azure, pipeline, kube, capsys):
    fake_azure.aks.add_cluster("aks-other")
    fake_azure.aks.add_extension("aks-ml", "azureml", settings=TLS)
    answer_attach(fake_azure, cluster="aks-other")
    code, out = run(capsys, "attach", str(pipeline))
    assert code == 1 and "points at another cluster" in out and "aks-other" in out


def test_attach_detach(healthy, pipeline, capsys):
    code, out = run(capsys, "attach", str(pipeline), "--detach")
    assert (code, out) == (0, "compute aks: detached (azure)\n")
    assert "aks" not in healthy.compute.computes


def test_doctor_on_the_local_backend_says_there_is_nothing_to_check(pipeline, capsys):
    assert main(["doctor", str(pipeline), "--backend", "local", "--workdir", "wd"]) == 0
    assert "no AKS cluster to check" in capsys.readouterr().out


def test_infra_plan_prints_the_changes_and_changes_nothing(fake_azure, pipeline, tmp_path, capsys):
    spec = tmp_path / "dev.yaml"
    c = fake_azure.config
    spec.write_text(f"""subscription_id: {c.subscription_id}
resource_group: {c.resource_group}
location: eastus
cluster: {{name: aks-new}}
extension: {{allow_insecure_connections: true}}
workspace: {{name: {c.workspace}}}
""")
    code = main(["infra", "plan", str(spec), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "+ cluster aks-new: create" in out and "+ extension azureml: create" in out
    assert "nothing was changed" in out
    assert not [x for x in fake_azure.calls() if x.method in ("PUT", "PATCH", "DELETE")]
