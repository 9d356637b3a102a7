"""A local stand-in for the package index: metadata-only wheels written by the tests.

Each wheel carries only a ``METADATA``: name, version, ``Requires-Python`` and
``Requires-Dist``. The facts this suite is about are the real ones, read from the real wheels:
the server range each ``azureml-defaults`` requires and each server's ``Requires-Python``.
The other packages' dependencies are simplified stand-ins. Pointing uv at the folder (``UV_FIND_LINKS`` + ``UV_NO_INDEX``) lets the package
stage's real resolution run in the tests without any network.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from pathlib import Path

# (name, version, Requires-Python, Requires-Dist...)
RELEASES = [
    ("azureml-defaults", "1.48.0", ">=3.6", ["azureml-inference-server-http~=0.7.2"]),
    ("azureml-defaults", "1.59.0", ">=3.8", ["azureml-inference-server-http~=1.3"]),
    ("azureml-inference-server-http", "0.7.7", ">=3.6", []),
    ("azureml-inference-server-http", "1.3.4", ">=3.8", []),
    ("azureml-inference-server-http", "1.4.1", ">=3.9", []),
    ("azureml-inference-server-http", "1.5.1", ">=3.9", []),
    ("azureml-train-automl-runtime", "1.48.0.post2", ">=3.7,<3.9", ["numpy<=1.22.3", "pandas==1.1.5"]),
    ("mlflow-skinny", "1.30.0", ">=3.7", []),
    ("mlflow-skinny", "2.0.0", ">=3.8", []),
    ("mlflow-skinny", "2.16.2", ">=3.8", []),
    ("mlflow-skinny", "3.0.0", ">=3.10", []),
    ("numpy", "1.21.6", ">=3.7,<3.11", []),
    ("numpy", "1.26.4", ">=3.9", []),
    ("pandas", "1.1.5", ">=3.6.1", ["numpy>=1.15.4"]),
    ("pandas", "1.5.3", ">=3.8", ["numpy>=1.20.3; python_version<'3.10'"]),
    ("scikit-learn", "0.22.1", ">=3.5", ["numpy>=1.11.0"]),
    ("scikit-learn", "1.5.1", ">=3.9", ["numpy>=1.19.5"]),
    ("xgboost", "1.5.2", ">=3.6", ["numpy"]),
    ("prophet", "1.1.4", ">=3.7", ["numpy>=1.15.4", "pandas>=1.0.4"]),
]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(folder: Path, name: str, version: str, requires_python: str, requires: list[str]) -> Path:
    dist = re.sub(r"[-_.]+", "_", name)
    info = f"{dist}-{version}.dist-info"
    metadata = "\n".join([
        "Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
        f"Requires-Python: {requires_python}", *[f"Requires-Dist: {r}" for r in requires], "", ""])
    wheel = "Wheel-Version: 1.0\nGenerator: azml2aks-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files = {f"{info}/METADATA": metadata.encode(), f"{info}/WHEEL": wheel.encode()}
    record = [_record_line(k, v) for k, v in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for member, data in files.items():
            z.writestr(member, data)
    return path


def local_index(folder: Path, monkeypatch) -> Path:
    """Write every stand-in release to ``folder`` and point uv at it (and only at it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for release in RELEASES:
        write_wheel(folder, *release)
    monkeypatch.setenv("UV_FIND_LINKS", str(folder))
    monkeypatch.setenv("UV_NO_INDEX", "1")
    return folder
