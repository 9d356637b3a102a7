"""Data mistakes pandas would read silently become errors naming the file, the cause and the fix.

``csv_header``/``check_headers`` are what ``validate`` runs (csv module, header only);
``read_table``/``check_training_frame`` are what ``train`` runs on the whole file.
"""

from __future__ import annotations

import textwrap

import pytest

from azml2aks import data as D
from azml2aks.config.loader import parse_config
from azml2aks.errors import DataError


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def config_for(text: str = ""):
    return parse_config(textwrap.dedent("""
        automl:
          task: classification
          target_column_name: quality
          training_data: train.csv
        """) + text, source="pipeline.yaml", env={})


def test_a_duplicate_column_name_is_refused_instead_of_becoming_name_dot_1(tmp_path):
    path = write(tmp_path, "train.csv", "alcohol,alcohol,quality\n1,2,a\n3,4,b\n")
    with pytest.raises(DataError, match=r"column name 'alcohol' twice \(columns 1 and 2\)"):
        D.read_table(path)


def test_a_csv_named_parquet_says_it_is_csv_and_how_to_rename_it(tmp_path):
    path = write(tmp_path, "train.parquet", "x,quality\n1,a\n")
    with pytest.raises(DataError) as info:
        D.read_table(path)
    assert "is not a Parquet file (it starts like CSV text)" in str(info.value)
    assert "rename it to train.csv" in str(info.value)


def test_a_latin_1_csv_names_the_encoding_and_how_to_set_it(tmp_path):
    path = write(tmp_path, "train.csv", "région,quality\nMâcon,a\nBéziers,b\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        D.read_table(path)
    message = str(info.value)
    assert "is not utf-8 text" in message and "line 1" in message and "Latin-1" in message
    assert "encoding: latin1" in message and "iconv" in message


def test_an_mltable_read_delimited_encoding_reads_the_latin_1_file(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    write(folder, "part.csv", "région,quality\nMâcon,a\nBéziers,b\n".encode("latin-1"))
    write(folder, "MLTable", "paths:\n  - file: ./part.csv\ntransformations:\n  - read_delimited: {encoding: latin1}\n")
    assert list(D.read_table(folder)["région"]) == ["Mâcon", "Béziers"]


def test_a_semicolon_delimited_csv_names_the_delimiter_and_how_to_set_it(tmp_path):
    path = write(tmp_path, "train.csv", "x;quality\n1;a\n2;b\n")
    with pytest.raises(DataError) as info:
        D.read_table(path)
    assert "semicolon-delimited" in str(info.value) and "delimiter: ';'" in str(info.value)


def test_an_mltable_read_delimited_delimiter_reads_the_semicolon_file(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    write(folder, "part.csv", "x;quality\n1;a\n2;b\n")
    write(folder, "MLTable", "paths:\n  - file: ./part.csv\ntransformations:\n  - read_delimited: {delimiter: ';'}\n")
    assert list(D.read_table(folder).columns) == ["x", "quality"]


def test_a_one_row_data_set_is_refused_for_its_size_not_for_a_single_class(tmp_path):
    frame = D.read_table(write(tmp_path, "train.csv", "x,quality\n1,a\n"))
    with pytest.raises(DataError, match="has 1 data row"):
        D.check_training_frame(frame, target="quality", task="classification", source="train.csv")


def test_a_misspelled_target_column_is_caught_from_the_header_alone(tmp_path):
    write(tmp_path, "train.csv", "x,qualty\n1,a\n")
    with pytest.raises(DataError) as info:
        D.check_headers(config_for(), tmp_path)
    assert "automl.target_column_name 'quality' is not a column" in str(info.value)
    assert "did you mean 'qualty'" in str(info.value)


def test_test_data_without_the_target_column_is_refused_because_the_metric_gate_needs_labels(tmp_path):
    write(tmp_path, "train.csv", "x,quality\n1,a\n2,b\n")
    write(tmp_path, "test.csv", "x\n1\n")
    with pytest.raises(DataError) as info:
        D.check_headers(config_for("  test_data: test.csv\n"), tmp_path)
    assert "automl.test_data" in str(info.value) and "metric gate" in str(info.value)
    assert "remove automl.test_data" in str(info.value)


def test_headers_that_are_right_pass(tmp_path):
    write(tmp_path, "train.csv", "x,quality\n1,a\n2,b\n")
    assert D.check_headers(config_for(), tmp_path) is None
