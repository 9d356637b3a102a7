"""Both backends implement every port; the Azure backend's unbuilt operations are explicit
methods that refuse (no __getattr__), so isinstance and hasattr tell the truth."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from azml2aks.backends import ports
from azml2aks.backends.azure import AzureBackend
from azml2aks.backends.local.backend import LocalBackend
from azml2aks.config import PipelineConfig

CONFIG = PipelineConfig.model_validate({
    "workspace": {"subscription_id": "00000000-0000-0000-0000-000000000000", "resource_group": "rg", "name": "ws"},
    "automl": {"task": "classification", "target_column_name": "y", "training_data": "x.csv"},
})
PORTS = (ports.Jobs, ports.Models, ports.Environments, ports.Computes, ports.Endpoints, ports.Backend)


def port_methods(port) -> set[str]:
    return {n for n, v in vars(port).items() if inspect.isfunction(v) and not n.startswith("_")}


@pytest.mark.parametrize("port", PORTS, ids=lambda p: p.__name__)
def test_both_backends_implement_the_port(port, tmp_path):
    for backend in (LocalBackend(CONFIG, base_dir=tmp_path, workdir=tmp_path / "w"),
                    AzureBackend(CONFIG, base_dir=tmp_path, workdir=tmp_path / "w")):
        assert isinstance(backend, port), f"{type(backend).__name__} does not implement {port.__name__}"


def test_only_the_local_backend_has_local_processes(tmp_path):
    assert isinstance(LocalBackend(CONFIG, base_dir=tmp_path, workdir=tmp_path), ports.LocalProcesses)
    assert not isinstance(AzureBackend(CONFIG, base_dir=tmp_path, workdir=tmp_path), ports.LocalProcesses)


def test_azure_backend_has_no_getattr_and_unknown_attributes_are_attribute_errors(tmp_path):
    backend = AzureBackend(CONFIG, base_dir=tmp_path, workdir=tmp_path)
    assert "__getattr__" not in vars(AzureBackend)
    assert not hasattr(backend, "stop_endpoint")
    assert not hasattr(backend, "submit_automl_job")


def test_every_port_method_exists_on_the_azure_backend_with_the_same_parameters():
    for port in PORTS[:-1]:
        for name in port_methods(port):
            want = list(inspect.signature(getattr(port, name)).parameters)
            got = list(inspect.signature(getattr(AzureBackend, name)).parameters)
            assert got == want, f"AzureBackend.{name}{got} differs from {port.__name__}.{name}{want}"


def test_no_azure_source_defines_getattr():
    root = Path(__file__).resolve().parents[2] / "azml2aks" / "backends" / "azure"
    assert not [p for p in root.rglob("*.py") if "def __getattr__" in p.read_text()]


def test_credentials_and_keys_never_show_their_secret():
    creds = ports.Credentials("aml_token", "s3cret-token", expires_at=100.0)
    keys = ports.EndpointKeys("k1-secret", "k2-secret")
    assert "s3cret" not in repr(creds) and "secret" not in repr(keys).replace("***", "")
    assert creds.authorization == "Bearer s3cret-token"
    assert creds.expires_within(60, now=50.0) and not creds.expires_within(10, now=50.0)
