"""Local training data on Azure: the MLTable file written for a CSV, TSV or Parquet file, a
local MLTable folder uploaded as it is, and data assets versioned by their content."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from azml2aks.backends.azure import data as azure_data
from azml2aks.config.specs import DataRef
from azml2aks.errors import DataError


@pytest.mark.parametrize("name, reader", [("train.csv", "read_delimited"), ("train.tsv", "read_delimited"),
                                          ("train.parquet", "read_parquet")])
def test_a_single_file_gets_an_mltable_that_reads_it(name, reader):
    text = yaml.safe_load(azure_data.mltable_text(Path(name)))
    assert text["paths"] == [{"file": f"./{name}"}] and reader in text["transformations"][0]
    if name.endswith(".tsv"):
        assert text["transformations"][0]["read_delimited"]["delimiter"] == "\t"


def test_a_file_automl_cannot_read_is_refused_naming_the_field():
    with pytest.raises(DataError, match=r"automl.test_data: rows.json is neither CSV, TSV nor Parquet"):
        azure_data.mltable_text(Path("rows.json"), field="automl.test_data")


def test_asset_names_follow_azure_rules_and_say_which_input_they_hold():
    assert azure_data.asset_name("wine classification/v2", "automl.validation_data") == \
        "wine-classification-v2-validation"


def test_the_content_hash_follows_the_bytes_not_the_folder_or_the_file_dates(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "train.csv").write_text("x,y\n1,0\n")
    assert azure_data.content_hash([a / "train.csv"], a) == azure_data.content_hash([b / "train.csv"], b)
    (b / "train.csv").write_text("x,y\n1,1\n")
    assert azure_data.content_hash([a / "train.csv"], a) != azure_data.content_hash([b / "train.csv"], b)


def test_a_local_mltable_folder_is_uploaded_as_it_is_and_only_once(ml_client, fake_azure, tmp_path):
    folder = tmp_path / "wine-mltable"
    folder.mkdir()
    (folder / "part-1.csv").write_text("alcohol,cultivar\n14.2,class_0\n")
    (folder / "MLTable").write_text("paths:\n  - file: ./part-1.csv\ntransformations:\n"
                                    "  - read_delimited:\n      delimiter: ','\n")
    ref = DataRef("local", str(folder), "mltable", "automl.training_data")
    first = azure_data.resolve(ml_client, ref, experiment="wine")
    assert first.uploaded and first.path.startswith("azureml:wine-training:")
    uploaded = sorted(k.rsplit("/", 2)[-2] + "/" + k.rsplit("/", 1)[-1] for k in fake_azure.blob.files()
                      if "LocalUpload" in k)
    assert uploaded == ["wine-mltable/MLTable", "wine-mltable/part-1.csv"]
    again = azure_data.resolve(ml_client, ref, experiment="wine")
    assert (again.path, again.uploaded) == (first.path, False)
    assert fake_azure.count("DataVersions_CreateOrUpdate") == 1


def test_a_folder_without_an_mltable_file_is_refused_before_any_upload(ml_client, fake_azure, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "train.csv").write_text("x,y\n1,0\n")
    with pytest.raises(DataError, match="is a folder without an MLTable file"):
        azure_data.resolve(ml_client, DataRef("local", str(folder)), experiment="wine")
    assert fake_azure.calls() == []
