"""Environments on Azure: reused by fingerprint, a new fingerprint is a new version, and no
existing version is ever PUT again (versions are immutable)."""
from __future__ import annotations

from azml2aks.backends.azure import AzureBackend
from azml2aks.config.loader import load_config
from azml2aks.config.specs import EnvironmentSpec
from tests.azure.pipelines import azure_example

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"


def spec(tmp_path, pins: str, fingerprint: str) -> EnvironmentSpec:
    conda = tmp_path / f"conda-{fingerprint}.yaml"
    conda.write_text(f"name: score\ndependencies:\n- python=3.11\n- pip:\n  - {pins}\n")
    return EnvironmentSpec(name="wine-classifier-env", image=IMAGE, conda_file=str(conda), fingerprint=fingerprint)


def backend(fake, credential, tmp_path) -> AzureBackend:
    pipeline = azure_example(tmp_path, fake)
    return AzureBackend(load_config(pipeline), base_dir=pipeline.parent, workdir=tmp_path / "wd", credential=credential)


def put_versions(fake) -> list[str]:
    return [c.url.split("/versions/")[1].split("?")[0] for c in fake.calls("EnvironmentVersions_CreateOrUpdate")]


def test_the_same_fingerprint_reuses_the_version_and_sends_no_put(fake_azure, fake_credential, tmp_path):
    b = backend(fake_azure, fake_credential, tmp_path)
    first = b.register_environment(spec(tmp_path, "mlflow==3.1.0", "aaa"))
    again = b.register_environment(spec(tmp_path, "mlflow==3.1.0", "aaa"))
    assert (first.ref, first.reused, again.ref, again.reused) == ("wine-classifier-env:1", False,
                                                                  "wine-classifier-env:1", True)
    assert put_versions(fake_azure) == ["1"]
    stored = fake_azure.assets.get("environments", "wine-classifier-env", "1")["properties"]
    assert stored["tags"]["azml2aks.fingerprint"] == "aaa" and stored["image"] == IMAGE
    assert "mlflow==3.1.0" in stored["condaFile"]


def test_a_new_fingerprint_gets_the_next_version_and_the_old_one_stays_as_it_was(fake_azure, fake_credential,
                                                                                 tmp_path):
    b = backend(fake_azure, fake_credential, tmp_path)
    b.register_environment(spec(tmp_path, "mlflow==3.1.0", "aaa"))
    second = b.register_environment(spec(tmp_path, "mlflow==3.2.0", "bbb"))
    back = b.register_environment(spec(tmp_path, "mlflow==3.1.0", "aaa"))
    assert (second.version, second.reused, back.version, back.reused) == ("2", False, "1", True)
    assert put_versions(fake_azure) == ["1", "2"]  # never a PUT on an existing version
    assert "mlflow==3.1.0" in fake_azure.assets.get("environments", "wine-classifier-env", "1")["properties"]["condaFile"]
