"""Fixtures for the Azure tests: the fake control plane and an MLClient pointed at it."""
from tests.azure.aks_helpers import healthy, kube  # noqa: F401,E402  (AKS doctor/attach fixtures)
from tests.fakes.fixtures import fake_azure, fake_credential, ml_client  # noqa: F401
