"""Training data for Azure AutoML: every data input becomes an ``mltable`` job input.

AutoML reads tabular data only through MLTable, so a data input is resolved to a reference
the job can carry:

    azureml:name:version            as written (the workspace resolves it at submit time)
    azureml://, https://, abfss://  as written, typed as the input says (``{path, type}``)
    a local CSV / Parquet file      an MLTable folder (the file + an ``MLTable`` that reads it)
    a local MLTable folder          the folder as it is

Local data becomes a data asset named after the experiment and the input
(``<experiment>-training``, ``-validation``, ``-test``) whose VERSION is the content hash
(sha256 of the data files and the MLTable text, first :data:`VERSION_CHARS` hex digits). The
asset is looked up first, so the same content is never uploaded twice: a re-run costs one GET.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azml2aks import data as D
from azml2aks.backends.azure.client import translate
from azml2aks.config.specs import DataRef
from azml2aks.errors import DataError, NotFoundError

logger = logging.getLogger(__name__)

VERSION_CHARS = 16
SHA_TAG = "azml2aks.sha256"
ROLES = {"automl.training_data": "training", "automl.validation_data": "validation", "automl.test_data": "test"}

_DELIMITED = {".csv": ",", ".tsv": "\t"}
_PARQUET = (".parquet", ".pq")


@dataclass(frozen=True)
class JobData:
    """One resolved input: what the job gets (``path``, ``type``), and for local data the asset
    reference (``azureml:name:version``), the content hash and whether this call uploaded it."""

    path: str
    type: str
    sha256: str | None = None
    uploaded: bool = False


def mltable_text(data_file: Path, *, field: str = "automl.training_data") -> str:
    """The ``MLTable`` file that reads one CSV/TSV/Parquet file placed beside it."""
    suffix = data_file.suffix.lower()
    if suffix in _DELIMITED:
        delimiter = "\\t" if suffix == ".tsv" else ","
        read = (f"  - read_delimited:\n      delimiter: \"{delimiter}\"\n      encoding: utf8\n"
                "      header: all_files_same_headers\n")
    elif suffix in _PARQUET:
        read = "  - read_parquet:\n      include_path_column: false\n"
    else:
        raise DataError(f"{field}: {data_file} is neither CSV, TSV nor Parquet, the files AutoML reads "
                        "(or an MLTable folder)",
                        hint="convert the file to CSV or Parquet, or point at an MLTable folder")
    return f"paths:\n  - file: ./{data_file.name}\ntransformations:\n{read}"


def asset_name(experiment: str, field: str) -> str:
    """``<experiment>-training`` (Azure asset names: letters, digits, ``-``, ``_``, ``.``)."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", experiment).strip("-._") or "azml2aks"
    return f"{base}-{ROLES.get(field, field.rsplit('.', 1)[-1])}"[:255]


def content_hash(files: list[Path], root: Path, mltable: str | None = None) -> str:
    """sha256 over each file's path under ``root`` and bytes (and a generated MLTable text)."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(D.sha256_of([path]).encode())
    digest.update((mltable or "").encode())
    return digest.hexdigest()


def resolve(ml: Any, ref: DataRef, *, experiment: str) -> JobData:
    """The job input for ``ref``; local data is uploaded as an MLTable data asset once."""
    if ref.kind != "local":
        return JobData(ref.path, ref.type)
    path = Path(ref.path)
    if not path.exists():
        raise DataError(f"{ref.field}: {path} does not exist",
                        hint="check the path (relative paths start at pipeline.yaml's folder)")
    if path.is_dir():
        D.files_of(path, field=ref.field)  # raises when the folder has no MLTable file
        mltable = None  # the folder is uploaded as it is
        sha = content_hash([p for p in path.rglob("*") if p.is_file()], path)
    else:
        mltable = mltable_text(path, field=ref.field)
        sha = content_hash([path], path.parent, mltable)
    name, version = asset_name(experiment, ref.field), sha[:VERSION_CHARS]
    reference = f"azureml:{name}:{version}"
    try:
        with translate(f"looking up data asset {name}:{version}"):
            ml.data.get(name, version=version)
    except NotFoundError:
        _upload(ml, path, mltable, name=name, version=version, sha=sha, field=ref.field)
        return JobData(reference, "mltable", sha, uploaded=True)
    logger.info("%s: data asset %s:%s already holds this content; nothing uploaded", ref.field, name, version)
    return JobData(reference, "mltable", sha, uploaded=False)


def _upload(ml: Any, path: Path, mltable: str | None, *, name: str, version: str, sha: str, field: str) -> None:
    from azure.ai.ml.entities import Data

    with tempfile.TemporaryDirectory(prefix="azml2aks-mltable-") as tmp:
        if mltable is None:
            folder = path
        else:  # one file: stage it beside its MLTable file
            folder = Path(tmp) / name
            folder.mkdir()
            shutil.copyfile(path, folder / path.name)
            (folder / "MLTable").write_text(mltable, encoding="utf-8")
        asset = Data(name=name, version=version, type="mltable", path=str(folder),
                     description=f"{field} of azml2aks, from {path.name}", tags={SHA_TAG: sha})
        with translate(f"uploading {field} ({path.name}) as data asset {name}:{version}"):
            ml.data.create_or_update(asset)
    logger.info("%s: uploaded %s as data asset %s:%s", field, path.name, name, version)
