"""Tabular data for the local backend: resolve, read and check training / hold-out data.

Reads a CSV or Parquet file, or an MLTable folder (its ``MLTable`` file names the files and
may say, as Azure's does, ``read_delimited: {delimiter: ';', encoding: latin1}``), and checks
what AutoML would otherwise fail on late or get silently wrong: a missing target column, a
single-class target, a single row, text in a numeric column, duplicate column names, a file
in another encoding or with another delimiter than the one read, a ``.parquet`` that is not
Parquet, an empty or unreadable file. Errors name the file, the column and the row, and how
to fix it. pandas is imported lazily: ``validate`` reads CSV headers with the csv module only.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from azml2aks.errors import Azml2aksError, ConfigError, DataError, UnsupportedError
from azml2aks.metrics import closest

if TYPE_CHECKING:
    import pandas as pd

    from azml2aks.config import DataInput, PipelineConfig

READERS = (".csv", ".tsv", ".parquet", ".pq")
PARQUET = (".parquet", ".pq")
PARQUET_MAGIC = b"PAR1"
#: MLTable ``read_delimited.encoding`` values -> Python codecs.
MLTABLE_ENCODINGS = {"utf8": "utf-8", "utf-8": "utf-8", "utf8bom": "utf-8-sig", "iso88591": "iso-8859-1",
                     "latin1": "latin-1", "ascii": "ascii", "utf16": "utf-16", "utf32": "utf-32",
                     "windows1252": "cp1252"}
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
MIN_ROWS = 2


@dataclass(frozen=True)
class Delimited:
    """How a delimited text file is read: the MLTable ``read_delimited`` settings that matter."""

    delimiter: str = ","
    encoding: str = "utf-8"


def resolve(ref: str | DataInput, base_dir: Path, *, field: str = "automl.training_data") -> Path:
    """Turn a ``training_data`` value into a local path (relative to pipeline.yaml)."""
    path = ref if isinstance(ref, str) else ref.path
    if path.startswith("azureml:"):
        raise UnsupportedError(
            f"{field} is the Azure data asset {path!r}, which the local backend cannot read",
            hint="point it at a local CSV, Parquet or MLTable folder, or run with --backend azure",
        )
    if "://" in path:
        raise UnsupportedError(
            f"{field} is the remote path {path!r}; the local backend reads local files only",
            hint="download the file next to pipeline.yaml and use a relative path",
        )
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base_dir / p)


def _mltable(path: Path, field: str) -> dict:
    spec_file = path / "MLTable"
    if not spec_file.exists():
        raise DataError(f"{field}: {path} is a folder without an MLTable file",
                        hint="point at a .csv/.parquet file, or add an MLTable file listing the data files")
    try:
        spec = yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise DataError(f"{field}: {spec_file} is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(spec, dict):
        raise DataError(f"{field}: {spec_file} must be a mapping with 'paths:'")
    return spec


def files_of(path: Path, *, field: str) -> list[Path]:
    """The data files behind ``path``: the file itself, or those an MLTable folder lists."""
    if not path.exists():
        raise DataError(f"{field}: {path} does not exist", hint="check the path (relative paths start at pipeline.yaml's folder)")
    if path.is_dir():
        spec = _mltable(path, field)
        files = [path / entry.get("file", "") for entry in spec.get("paths") or [] if isinstance(entry, dict) and entry.get("file")]
        if not files:
            raise DataError(f"{field}: {path / 'MLTable'} lists no 'paths: - file: ...' entries")
        return files
    return [path]


def read_options(path: Path, file: Path, *, field: str) -> Delimited:
    """The delimiter and encoding of ``file``: an MLTable folder's ``read_delimited``, else by suffix."""
    delimiter = "\t" if file.suffix.lower() == ".tsv" else ","
    encoding = "utf-8"
    if path.is_dir():
        for step in _mltable(path, field).get("transformations") or []:
            settings = step.get("read_delimited") if isinstance(step, dict) else None
            if isinstance(settings, dict):
                delimiter = str(settings.get("delimiter", delimiter))
                name = str(settings.get("encoding", "utf8")).lower()
                if name not in MLTABLE_ENCODINGS:
                    raise DataError(f"{field}: {path / 'MLTable'}: read_delimited.encoding {name!r} is not one of "
                                    f"{', '.join(sorted(set(MLTABLE_ENCODINGS) - {'utf-8'}))}")
                encoding = MLTABLE_ENCODINGS[name]
    return Delimited(delimiter=delimiter, encoding=encoding)


_HOW_TO_SET = ("or put the file in a folder with an MLTable file (paths: [{file: ./%s}], "
               "transformations: [{read_delimited: {%s}}]) and point %s at the folder")


def _check_parquet(file: Path, field: str) -> None:
    with file.open("rb") as fh:
        head = fh.read(4)
    if head != PARQUET_MAGIC:
        kind = "CSV text" if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head) else "some other format"
        raise DataError(f"{field}: {file} is named {file.suffix} but is not a Parquet file (it starts like {kind})",
                        hint=f"rename it to {file.stem}.csv if it is CSV, or write it again with DataFrame.to_parquet")


def _encoding_error(file: Path, options: Delimited, error: UnicodeDecodeError, field: str, prefix: bytes) -> DataError:
    line = prefix[: error.start].count(b"\n") + 1
    guess = "Latin-1 / Windows-1252" if options.encoding.startswith("utf") else "UTF-8"
    mltable = "utf8" if guess == "UTF-8" else "latin1"
    return DataError(
        f"{field}: {file} is not {options.encoding} text: byte 0x{error.object[error.start]:02x} on line {line} "
        f"cannot be decoded; the file looks {guess}-encoded",
        hint=f"save it as UTF-8 (iconv -f latin1 -t utf-8 {file.name} > utf8-{file.name}), "
        + _HOW_TO_SET % (file.name, f"encoding: {mltable}", field))


def csv_header(path: Path, file: Path, *, field: str) -> list[str]:
    """The column names of a delimited file, read with the csv module only (no pandas).

    Raises :class:`DataError` for the mistakes pandas would read silently: another encoding,
    another delimiter (one column holding ';'), duplicate column names (pandas renames the
    second to ``name.1``)."""
    options = read_options(path, file, field=field)
    with file.open("rb") as fh:
        raw = fh.read(1 << 16)
    try:
        text = codecs.getincrementaldecoder(options.encoding)().decode(raw, final=False)
    except UnicodeDecodeError as e:
        raise _encoding_error(file, options, e, field, raw) from None
    text = text.removeprefix("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise DataError(f"{field}: {file} is empty", hint="regenerate the data file")
    columns = next(csv.reader([first], delimiter=options.delimiter))
    if len(columns) == 1:
        for delimiter, name in OTHER_DELIMITERS.items():
            if delimiter in first and delimiter != options.delimiter:
                shown = "\\t" if delimiter == "\t" else delimiter
                raise DataError(
                    f"{field}: {file} reads as one column {first[:60]!r}: it is {name}-delimited, "
                    f"not {'tab' if options.delimiter == chr(9) else repr(options.delimiter)}-delimited",
                    hint="save it comma-separated, " + _HOW_TO_SET % (file.name, f"delimiter: '{shown}'", field))
    seen: dict[str, int] = {}
    for i, name in enumerate(columns):
        if name in seen:
            raise DataError(f"{field}: {file} has the column name {name!r} twice (columns {seen[name] + 1} and {i + 1})",
                            hint="rename one of them; every column needs its own name in the scoring contract")
        seen[name] = i
    return columns


def sha256_of(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for p in paths:
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def read_table(path: Path, *, field: str = "automl.training_data") -> pd.DataFrame:
    """Read a CSV / Parquet file or MLTable folder into a DataFrame."""
    import pandas as pd

    frames = []
    for file in files_of(path, field=field):
        suffix = file.suffix.lower()
        if suffix not in READERS:
            raise DataError(f"{field}: {file.name} is not a CSV or Parquet file", hint=f"use one of {', '.join(READERS)}")
        try:
            if suffix in PARQUET:
                _check_parquet(file, field)
                frames.append(pd.read_parquet(file))
            else:
                csv_header(path, file, field=field)
                options = read_options(path, file, field=field)
                try:
                    frames.append(pd.read_csv(file, sep=options.delimiter, encoding=options.encoding))
                except UnicodeDecodeError as e:  # past the part csv_header read
                    raise _encoding_error(file, options, e, field, file.read_bytes()) from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{field}: {file} is empty", hint="regenerate the data file") from None
        except (OSError, ValueError, pd.errors.ParserError) as e:
            raise DataError(f"{field}: cannot read {file}: {e}".splitlines()[0]) from None
        if suffix in PARQUET and frames[-1].columns.duplicated().any():
            name = frames[-1].columns[frames[-1].columns.duplicated()][0]
            raise DataError(f"{field}: {file} has the column name {name!r} twice", hint="rename one of them")
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if frame.empty:
        raise DataError(f"{field}: {path} has a header but no rows", hint="regenerate the data file")
    return frame


def check_training_frame(frame: pd.DataFrame, *, target: str, task: str, source: str,
                         time_column: str | None = None) -> None:
    """Raise :class:`DataError` for what AutoML would fail on."""
    if target not in frame.columns:
        near = closest(target, [str(c) for c in frame.columns])
        raise DataError(
            f"automl.target_column_name {target!r} is not a column of {source}"
            + (f" (did you mean {near!r}?)" if near else ""),
            hint=f"columns are: {', '.join(map(str, frame.columns[:20]))}",
        )
    if time_column and time_column not in frame.columns:
        near = closest(time_column, [str(c) for c in frame.columns])
        raise DataError(f"automl.forecasting.time_column_name {time_column!r} is not a column of {source}"
                        + (f" (did you mean {near!r}?)" if near else ""))
    if len(frame) < MIN_ROWS:
        raise DataError(f"{source} has {len(frame)} data row; AutoML needs rows to learn from and rows to check on",
                        hint="point automl.training_data at the full data set")
    y = frame[target]
    missing = int(y.isna().sum())
    if missing:
        row = int(y.isna().to_numpy().nonzero()[0][0])
        raise DataError(f"{source}: target column {target!r} is empty in {missing} row(s), first at data row {row + 1}",
                        hint="drop or fill those rows; AutoML cannot learn from rows without a label")
    if task == "classification" and y.nunique() < 2:
        raise DataError(f"{source}: target column {target!r} has a single class ({y.iloc[0]!r})",
                        hint="classification needs at least two classes; check the data or use task: regression")
    if task in ("regression", "forecasting"):
        _require_numeric(frame, target, source, what="the target of a regression")
    for column in frame.columns:
        if column in (target, time_column):
            continue
        _reject_text_in_numbers(frame[column], str(column), source)


def _require_numeric(frame: pd.DataFrame, column: str, source: str, *, what: str) -> None:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(frame[column]):
        return
    _reject_text_in_numbers(frame[column], column, source, threshold=0.0)
    raise DataError(f"{source}: column {column!r} is {what} but holds text")


def _reject_text_in_numbers(series: pd.Series, column: str, source: str, *, threshold: float = 0.9) -> None:
    """A column that is mostly numbers with a few text cells is a data error, not a category."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return
    present = series.dropna()
    if present.empty:
        return
    numbers = pd.to_numeric(present, errors="coerce")
    share = float(numbers.notna().mean())
    if share >= threshold and share < 1.0:
        bad = numbers.isna().to_numpy().nonzero()[0][0]
        row = int(present.index[bad])
        raise DataError(
            f"{source}: column {column!r} is numeric but data row {row + 1} holds the text {str(present.iloc[bad])[:40]!r}",
            hint="fix or blank that cell (an empty cell is read as missing)",
        )


def check_inputs(config: PipelineConfig, base_dir: Path, *, backend: str) -> None:
    """Raise :class:`ConfigError` naming every data input that cannot be found, then what the
    headers of the local CSV inputs show (:func:`check_headers`; no data is loaded)."""
    problems: list[Azml2aksError] = []
    for field in ("training_data", "validation_data", "test_data"):
        ref = getattr(config.automl, field)
        if ref is None:
            continue
        path = ref if isinstance(ref, str) else ref.path
        if backend == "azure" and (path.startswith("azureml:") or "://" in path):
            continue  # resolved by the workspace at submit time
        try:
            files_of(resolve(ref, base_dir, field=f"automl.{field}"), field=f"automl.{field}")
        except Azml2aksError as e:
            problems.append(e)
    if len(problems) == 1:
        raise ConfigError(problems[0].message, hint=problems[0].hint)
    if problems:
        raise ConfigError(f"{len(problems)} problems:\n  " + "\n  ".join(p.message for p in problems),
                          hint="; ".join(dict.fromkeys(p.hint for p in problems if p.hint)) or None)
    if backend == "local":
        try:
            check_headers(config, base_dir)
        except Azml2aksError as e:
            raise ConfigError(e.message, hint=e.hint) from None


def check_headers(config: PipelineConfig, base_dir: Path) -> None:
    """Raise :class:`DataError` for what the headers of local CSV inputs already show: the target
    (or time) column missing or misspelled, a test_data without labels, and every mistake
    :func:`csv_header` catches. Reads at most 64 KiB of each first file; never loads pandas."""
    automl = config.automl
    wanted = [automl.target_column_name]
    if automl.task == "forecasting" and automl.forecasting and automl.forecasting.time_column_name:
        wanted.append(automl.forecasting.time_column_name)
    for name in ("training_data", "validation_data", "test_data"):
        ref = getattr(automl, name)
        if ref is None:
            continue
        field = f"automl.{name}"
        path = resolve(ref, base_dir, field=field)
        first = files_of(path, field=field)[0]
        if first.suffix.lower() in PARQUET:
            _check_parquet(first, field)
            continue
        if first.suffix.lower() not in READERS:
            continue
        columns = csv_header(path, first, field=field)
        for column in wanted:
            if column in columns:
                continue
            key = "target_column_name" if column == automl.target_column_name else "forecasting.time_column_name"
            near = closest(column, columns)
            if name == "test_data" and key == "target_column_name":
                raise DataError(
                    f"{field}: {first} has no target column {column!r}"
                    + (f" (did you mean {near!r}?)" if near else "")
                    + "; the rollout's metric gate scores the new colour on these labelled rows",
                    hint="add the target column to the test data, or remove automl.test_data "
                    "(the gates then probe with a sample of the training data)")
            raise DataError(f"automl.{key} {column!r} is not a column of {first}"
                            + (f" (did you mean {near!r}?)" if near else ""),
                            hint=f"columns are: {', '.join(columns[:20])}")
