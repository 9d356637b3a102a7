"""`validate` catches data mistakes from the headers alone, with exit code 1 and no traceback."""

from __future__ import annotations

from azml2aks.cli import main

PIPELINE = """\
automl:
  task: classification
  target_column_name: quality
  training_data: train.csv
{extra}"""


def validate(capsys, tmp_path, csv: bytes | str, extra: str = "") -> tuple[int, str]:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE.format(extra=extra))
    (tmp_path / "train.csv").write_bytes(csv if isinstance(csv, bytes) else csv.encode())
    code = main(["validate", str(tmp_path / "pipeline.yaml")])
    out, err = capsys.readouterr()
    return code, out + err


def test_validate_names_a_misspelled_target_column(capsys, tmp_path):
    code, text = validate(capsys, tmp_path, "x,qualty\n1,a\n")
    assert code == 1 and "did you mean 'qualty'" in text and "Traceback" not in text


def test_validate_names_a_semicolon_delimiter(capsys, tmp_path):
    code, text = validate(capsys, tmp_path, "x;quality\n1;a\n")
    assert code == 1 and "semicolon-delimited" in text


def test_validate_names_a_latin_1_encoding(capsys, tmp_path):
    code, text = validate(capsys, tmp_path, "région,quality\n1,a\n".encode("latin-1"))
    assert code == 1 and "Latin-1" in text


def test_validate_refuses_blocking_every_algorithm(capsys, tmp_path):
    extra = "  training:\n    blocked_training_algorithms: " + (
        "[LogisticRegression, SGD, MultinomialNaiveBayes, BernoulliNaiveBayes, SVM, LinearSVM, KNN, "
        "DecisionTree, RandomForest, ExtremeRandomTrees, LightGBM, GradientBoosting, XGBoostClassifier]\n")
    code, text = validate(capsys, tmp_path, "x,quality\n1,a\n", extra)
    assert code == 1 and "blocks every algorithm" in text


def test_validate_says_an_azure_asset_needs_the_azure_backend_without_the_relative_path_hint(capsys, tmp_path):
    code, text = validate(capsys, tmp_path, "x,quality\n1,a\n", "  test_data: azureml:wine-test:1\n")
    assert code == 1 and "--backend azure" in text and "relative" not in text
