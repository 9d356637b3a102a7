"""Write the example data sets: wine and diabetes from the copies scikit-learn ships (no
download), and a synthetic daily-sales series for forecasting.

    python examples/make_data.py            # writes examples/*/data/*.csv

Deterministic: the same scikit-learn gives the same bytes, and tests check that the committed
files are what this script writes. Each example gets a training file and a labelled hold-out
file (20 %, stratified for classification) that the rollout gates score against.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def wine() -> tuple:
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    frame = bunch.frame.rename(columns={"od280/od315_of_diluted_wines": "od280_od315"})
    frame["cultivar"] = [f"class_{int(t)}" for t in frame.pop("target")]
    return frame, "cultivar", True


def diabetes() -> tuple:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True, scaled=False)
    frame = bunch.frame.rename(columns={"target": "progression"})
    return frame, "progression", False


def sales() -> tuple:
    """Daily sales of two stores over 400 days: a weekly cycle, a store offset, promotions and a
    fixed pseudo-noise pattern (no random generator, so every platform writes the same bytes)."""
    import math

    import pandas as pd

    days = pd.date_range("2024-01-01", periods=400, freq="D")
    rows = []
    for store, offset in (("north", 40.0), ("south", 0.0)):
        for i, day in enumerate(days):
            promo = int((i * 7 + len(store)) % 5 == 0)
            noise = ((i * 37 + offset) % 11 - 5) * 0.8
            value = 120 + offset + 15 * math.sin(2 * math.pi * i / 7) + 25 * promo + noise + i * 0.05
            rows.append({"date": day.strftime("%Y-%m-%d"), "store": store, "promo": promo, "sales": round(value, 2)})
    return pd.DataFrame(rows)


def write_forecasting(name: str, stem: str, holdout_days: int = 14) -> list[Path]:
    """Time split: the last ``holdout_days`` of every series are the labelled hold-out."""
    frame = sales()
    cutoff = sorted(frame["date"].unique())[-holdout_days]
    folder = HERE / name / "data"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.csv", folder / f"{stem}-holdout.csv"]
    for part, path in zip((frame[frame["date"] < cutoff], frame[frame["date"] >= cutoff]), paths, strict=True):
        part.to_csv(path, index=False, lineterminator="\n")
    return paths


def split(frame, target: str, stratify: bool, seed: int = 7):
    from sklearn.model_selection import train_test_split

    return train_test_split(frame, test_size=0.2, random_state=seed, stratify=frame[target] if stratify else None)


def write(name: str, stem: str, maker) -> list[Path]:
    frame, target, stratify = maker()
    train, test = split(frame, target, stratify)
    folder = HERE / name / "data"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.csv", folder / f"{stem}-holdout.csv"]
    for part, path in zip((train, test), paths, strict=True):
        part.sort_index().to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    return paths


def main() -> int:
    written = (write("wine-classification", "wine", wine) + write("diabetes-regression", "diabetes", diabetes)
               + write_forecasting("sales-forecasting", "sales"))
    for path in written:
        print(path.relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
