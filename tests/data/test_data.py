"""Training data problems a user really hits, each with the message that names the fix."""

from __future__ import annotations

import pytest

from azml2aks import data as D
from azml2aks.config import DataInput
from azml2aks.errors import DataError, UnsupportedError


def frame_from(tmp_path, text: str, name: str = "train.csv"):
    path = tmp_path / name
    path.write_text(text)
    return D.read_table(path), path


def check(frame, target="y", task="classification", time_column=None):
    D.check_training_frame(frame, target=target, task=task, source="train.csv", time_column=time_column)


def test_misspelled_target_column_suggests_the_right_one(tmp_path):
    frame, _ = frame_from(tmp_path, "alcohol,cultivar\n1,a\n2,b\n")
    with pytest.raises(DataError, match=r"'cultivars' is not a column of train.csv \(did you mean 'cultivar'\?\)"):
        check(frame, target="cultivars")


def test_missing_target_column_lists_the_columns(tmp_path):
    frame, _ = frame_from(tmp_path, "a,b\n1,2\n")
    with pytest.raises(DataError) as info:
        check(frame, target="label")
    assert "columns are: a, b" in str(info.value)


def test_single_class_target_is_refused(tmp_path):
    frame, _ = frame_from(tmp_path, "x,y\n1,a\n2,a\n3,a\n")
    with pytest.raises(DataError, match="single class"):
        check(frame)


def test_text_in_a_numeric_column_names_column_row_and_value(tmp_path):
    rows = "\n".join(f"{i},{'a' if i % 2 else 'b'}" for i in range(20))
    frame, _ = frame_from(tmp_path, "x,y\n" + rows + "\n12;5,a\n")
    with pytest.raises(DataError, match=r"column 'x' is numeric but data row 21 holds the text '12;5'"):
        check(frame)


def test_text_categories_are_not_mistaken_for_bad_numbers(tmp_path):
    frame, _ = frame_from(tmp_path, "colour,y\nred,a\nblue,b\n")
    check(frame)  # raises nothing: a real categorical column


def test_regression_target_with_text_is_refused(tmp_path):
    frame, _ = frame_from(tmp_path, "x,y\n1,2.5\n2,high\n")
    with pytest.raises(DataError, match="'y'"):
        check(frame, task="regression")


def test_rows_without_label_are_named(tmp_path):
    frame, _ = frame_from(tmp_path, "x,y\n1,a\n2,\n3,b\n")
    with pytest.raises(DataError, match="empty in 1 row"):
        check(frame)


def test_empty_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="is empty"):
        frame_from(tmp_path, "")


def test_header_without_rows_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="header but no rows"):
        frame_from(tmp_path, "x,y\n")


def test_unreadable_file_type_is_named(tmp_path):
    (tmp_path / "train.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="not a CSV or Parquet file"):
        D.read_table(tmp_path / "train.xlsx")


def test_missing_file_says_where_relative_paths_start(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        D.read_table(tmp_path / "nope.csv")


def test_corrupt_parquet_is_a_data_error(tmp_path):
    (tmp_path / "train.parquet").write_bytes(b"\x00\x01not parquet at all")
    with pytest.raises(DataError, match="is not a Parquet file"):
        D.read_table(tmp_path / "train.parquet")


def test_mltable_folder_reads_the_files_it_lists(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "part.csv").write_text("x,y\n1,a\n2,b\n")
    (folder / "MLTable").write_text("paths:\n  - file: ./part.csv\ntransformations:\n  - read_delimited: {delimiter: ','}\n")
    assert list(D.read_table(folder).columns) == ["x", "y"]


def test_azure_data_asset_on_local_backend_says_what_to_do(tmp_path):
    with pytest.raises(UnsupportedError, match="local backend cannot read"):
        D.resolve("azureml:wine:1", tmp_path)
    assert D.resolve(DataInput(path="data/x.csv"), tmp_path) == tmp_path / "data/x.csv"
