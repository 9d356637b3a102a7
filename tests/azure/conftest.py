"""Fixtures for the Azure tests: the fake control plane, an MLClient pointed at it, the AKS
doctor/attach fixtures, and a real MLflow model for the fake's child runs to hold."""
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
