"""Fixtures for the Azure tests: the fake control plane, an MLClient pointed at it, the AKS
doctor/attach fixtures, and a real MLflow model for the fake's child runs to hold."""
import pytest

from tests.azure.aks_helpers import healthy, kube  # noqa: F401  (AKS doctor/attach fixtures)
from tests.fakes.fixtures import fake_azure, fake_credential, ml_client  # noqa: F401


@pytest.fixture(scope="session")
def wine_model_dir(tmp_path_factory):
    """A real MLflow model trained on the wine example (saved once per session)."""
    from tests.azure.pipelines import save_wine_model
    from tests.conftest import REPO

    return save_wine_model(tmp_path_factory.mktemp("wine-model"), REPO / "examples/wine-classification/data/wine.csv")
