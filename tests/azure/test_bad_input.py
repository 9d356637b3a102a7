"""What a user types wrong against Azure, through the command line: each one a message that names
the resource and the next step, exit 1 (3 for a service fault), never a traceback, no secret."""
from __future__ import annotations

import json

import pytest
import requests

from azml2aks.cli import main
from tests.azure.pipelines import azure_example, instant_jobs

pytestmark = pytest.mark.usefixtures("az_login")

#: ARM's own answer for a resource that does not exist (code ResourceNotFound, not Azure ML's UserError)
ARM_NOT_FOUND = {"error": {"code": "ResourceNotFound", "message": (
    "The Resource 'Microsoft.MachineLearningServices/workspaces/{ws}' under resource group '{rg}' was not "
    "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")}}
#: ARM's answer when the identity lacks a role (RBAC)
FORBIDDEN = ("The client '11111111-0000-0000-0000-000000000000' with object id '11111111-0000-0000-0000-000000000000' "
             "does not have authorization to perform action "
             "'Microsoft.MachineLearningServices/workspaces/models/versions/read' over scope '{scope}' or the scope "
             "is invalid. If access was recently granted, please refresh your credentials.")


def cli(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--backend", "azure", "-o", "json", "--quiet"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out) if out.strip() else {}, err


def test_a_workspace_that_does_not_exist_names_the_workspace_fields_instead_of_listing_no_models(
        fake_azure, tmp_path, capsys):
    c = fake_azure.config
    wrong = c.workspace_path.replace(f"/workspaces/{c.workspace}", "/workspaces/ml-wsx")
    answer = json.loads(json.dumps(ARM_NOT_FOUND).replace("{ws}", "ml-wsx").replace("{rg}", c.resource_group))
    fake_azure.serve("GET", f"{wrong}/models/wine-classifier/versions", answer, status=404, op="ModelVersions_List")
    pipeline = azure_example(tmp_path, fake_azure, **{f"name: {c.workspace}": "name: ml-wsx"})
    code, out, err = cli(capsys, "models", str(pipeline))
    assert code == 1, out  # it was exit 0 with an empty list: the missing workspace read as "no models yet"
    assert "workspace 'ml-wsx'" in out["message"] and "workspace.name" in out["hint"]


def test_a_missing_role_is_permission_denied_naming_the_role_to_grant(fake_azure, tmp_path, capsys):
    scope = fake_azure.config.workspace_path
    fake_azure.faults.fail_next("ModelVersions_List", status=403, code="AuthorizationFailed",
                                message=FORBIDDEN.format(scope=scope))
    code, out, _ = cli(capsys, "models", str(azure_example(tmp_path, fake_azure)))
    assert code == 1 and out["error"] == "ConfigError"
    assert "permission denied" in out["message"] and "AuthorizationFailed" in out["message"]
    assert "AzureML Data Scientist" in out["hint"]


def test_a_data_asset_that_does_not_exist_names_the_asset_and_how_to_list_them(fake_azure, tmp_path, capsys):
    instant_jobs(fake_azure)
    pipeline = azure_example(tmp_path, fake_azure, **{"training_data: data/wine.csv": "training_data: azureml:wine:7",
                                                      "  test_data: data/wine-holdout.csv\n": ""})
    code, out, _ = cli(capsys, "train", str(pipeline))
    assert code == 1, out
    assert "wine:7" in out["message"] and out["hint"] and "automl.training_data" in out["hint"]


def test_a_model_reference_that_does_not_exist_names_the_model_and_how_to_list_versions(
        fake_azure, tmp_path, capsys):
    code, out, _ = cli(capsys, "package", str(azure_example(tmp_path, fake_azure)), "--model", "wine-classifier:9",
                       "--no-contract")
    assert code == 1 and out["error"] == "NotFoundError"
    assert "wine-classifier:9" in out["message"] and "azml2aks models" in out["hint"]


def test_a_cluster_that_does_not_exist_fails_the_doctor_and_attach_with_the_command_that_creates_it(
        fake_azure, tmp_path, capsys):
    pipeline = azure_example(tmp_path, fake_azure)
    pipeline.write_text(pipeline.read_text() + "compute:\n  name: aks\n  cluster_name: aks-typo\n")
    code, out, _ = cli(capsys, "attach", str(pipeline))
    assert code == 1 and "cluster.exists" in out["message"] and "aks-typo" in out["message"]
    assert "az aks create" in out["hint"] or "infra up" in out["hint"]
    assert fake_azure.count("Compute_CreateOrUpdate") == 0


def test_with_nothing_configured_the_default_credential_chain_ends_in_one_message_naming_every_way_to_log_in(
        fake_azure, tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no az, azd or pwsh
    monkeypatch.delenv("AZURE_TOKEN_CREDENTIALS", raising=False)  # the whole default chain, managed identity too

    def no_imds(req):  # off Azure nothing answers the managed identity endpoint
        raise requests.ConnectionError("connection refused")

    fake_azure.router.override("GET", r"http://169\.254\.169\.254/.*", "IMDS", no_imds)
    code, out, err = cli(capsys, "models", str(azure_example(tmp_path, fake_azure)))
    assert code == 1 and out["error"] == "ConfigError" and "no Azure credential worked" in out["message"]
    for way in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "managed identity",
                "az login", "AzureCLI@2"):
        assert way in out["hint"]
    assert [c.op for c in fake_azure.calls()] == ["IMDS"]  # the workspace was never reached without a token


#: ARM's answer to a token from another tenant than the subscription's
WRONG_TENANT = ("The access token is from the wrong issuer 'https://sts.windows.net/aaaaaaaa-0000-0000-0000-000000000000/'. "
                "It must match the tenant 'https://sts.windows.net/bbbbbbbb-0000-0000-0000-000000000000/' associated "
                "with this subscription. Please use the authority (URL) "
                "'https://login.windows.net/bbbbbbbb-0000-0000-0000-000000000000' to get the token.")


def test_a_token_from_another_tenant_says_so_and_names_workspace_tenant_id(fake_azure, tmp_path, capsys):
    fake_azure.faults.fail_next("ModelVersions_List", status=401, code="InvalidAuthenticationTokenTenant",
                                message=WRONG_TENANT)
    code, out, _ = cli(capsys, "models", str(azure_example(tmp_path, fake_azure)))
    assert code == 1 and out["error"] == "ConfigError"
    assert "InvalidAuthenticationTokenTenant" in out["message"] and "bbbbbbbb-0000" in out["message"]
    assert "workspace.tenant_id" in out["hint"] and "az login --tenant" in out["hint"]
