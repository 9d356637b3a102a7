"""Tabular data for the local backend: resolve, read and check training / hold-out data.

Reads a CSV or Parquet file, or an MLTable folder (its ``MLTable`` file names the files), and
checks what AutoML would otherwise fail on late: a missing target column, a single-class
target, text in a numeric column, an empty or unreadable file. Errors name the file, the
column and the row. pandas is imported lazily (``validate`` never loads it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from azml2aks.errors import Azml2aksError, ConfigError, DataError, UnsupportedError
from azml2aks.metrics import closest

if TYPE_CHECKING:
    import pandas as pd

    from azml2aks.config import DataInput, PipelineConfig

READERS = (".csv", ".tsv", ".parquet", ".pq")


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


def files_of(path: Path, *, field: str) -> list[Path]:
    """The data files behind ``path``: the file itself, or those an MLTable folder lists."""
    if not path.exists():
        raise DataError(f"{field}: {path} does not exist", hint="check the path (relative paths start at pipeline.yaml's folder)")
    if path.is_dir():
        spec_file = path / "MLTable"
        if not spec_file.exists():
            raise DataError(f"{field}: {path} is a folder without an MLTable file",
                            hint="point at a .csv/.parquet file, or add an MLTable file listing the data files")
        spec = yaml.safe_load(spec_file.read_text()) or {}
        files = [path / entry.get("file", "") for entry in spec.get("paths", []) if entry.get("file")]
        if not files:
            raise DataError(f"{field}: {spec_file} lists no 'paths: - file: ...' entries")
        return files
    return [path]


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
            if suffix in (".parquet", ".pq"):
                frames.append(pd.read_parquet(file))
            else:
                frames.append(pd.read_csv(file, sep="\t" if suffix == ".tsv" else ","))
        except pd.errors.EmptyDataError:
            raise DataError(f"{field}: {file} is empty", hint="regenerate the data file") from None
        except (OSError, ValueError, pd.errors.ParserError) as e:
            raise DataError(f"{field}: cannot read {file}: {e}".splitlines()[0]) from None
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
    """Raise :class:`ConfigError` naming every data input that cannot be found (no data is read)."""
    problems = []
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
            problems.append(e.message)
    if problems:
        raise ConfigError(problems[0] if len(problems) == 1 else f"{len(problems)} problems:\n  " + "\n  ".join(problems),
                          hint="paths are relative to the folder of pipeline.yaml")
