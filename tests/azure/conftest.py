"""Fixtures for the Azure tests: the fake control plane, an MLClient pointed at it, the AKS
doctor/attach fixtures, a real MLflow model for the fake's child runs to hold, `world`: a
deploy-ready workspace (cluster attached, model and environment registered), and `az_login`."""
import pytest

from tests.azure.aks_helpers import healthy, kube  # noqa: F401  (AKS doctor/attach fixtures)
from tests.fakes.fixtures import fake_azure, fake_credential, ml_client  # noqa: F401


@pytest.fixture(scope="session")
def example_model_dir(tmp_path_factory):
    """``example_model_dir(name)``: a real MLflow model trained on examples/<name> (once per session)."""
    from tests.azure.pipelines import save_model
    from tests.conftest import REPO

    made: dict = {}
    examples = {"wine-classification": ("wine.csv", "cultivar", "classification", None),
                "diabetes-regression": ("diabetes.csv", "progression", "regression", None),
                "sales-forecasting": ("sales.csv", "sales", "forecasting", "date")}

    def get(name: str):
        if name not in made:
            data, target, task, time_column = examples[name]
            made[name] = save_model(tmp_path_factory.mktemp(name), REPO / "examples" / name / "data" / data, target,
                                    task=task, time_column=time_column)
        return made[name]

    return get


@pytest.fixture
def world(fake_azure, ml_client, fake_credential, tmp_path):  # noqa: F811
    from .rollout_env import make_world

    return make_world(fake_azure, ml_client, fake_credential, tmp_path)


@pytest.fixture
def blue_live(world):
    """`world` with blue serving 100 % (a first rollout done) and green ready to serve."""
    world.serve("blue")
    world.serve("green")
    world.pipeline().deploy(world.package())
    world.events.clear()
    world.fake.reset_log()
    return world


@pytest.fixture
def az_login(tmp_path, monkeypatch):
    """An `az` on PATH that is logged in (what an Azure DevOps AzureCLI@2 task provides), and
    DefaultAzureCredential told to use it (AZURE_TOKEN_CREDENTIALS, an azure-identity setting):
    the command line then authenticates against the fake with no code seam."""
    import base64
    import json
    import os
    import stat
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    token = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                     for part in ({"alg": "none", "typ": "JWT"}, {"tid": "00000000-0000-0000-0000-00000000000t"})) + ".x"
    az.write_text(f"#!{sys.executable}\nimport json, time\n"
                  f"print(json.dumps({{'accessToken': {token!r}, 'expires_on': int(time.time()) + 3600,"
                  " 'tokenType': 'Bearer', 'subscription': 'sub', 'tenant': 'tenant'}))\n")
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")
