"""The model object the local backend saves: features + the estimator FLAML chose + labels.

This module is pickled BY VALUE into each MLflow model (cloudpickle), so a served model needs
scikit-learn, numpy, pandas and the estimator's own package, never azml2aks or FLAML. Keep it
free of azml2aks imports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.metaestimators import available_if

TIME_PARTS = ("year", "month", "day", "dayofweek", "dayofyear", "hour")


class CalendarFeatures(BaseEstimator):
    """Expands a timestamp column into calendar parts plus an ordinal (forecasting)."""

    def __init__(self, column: str):
        self.column = column

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        stamps = pd.to_datetime(pd.Series(np.asarray(X).ravel()), errors="coerce")
        parts = [getattr(stamps.dt, name).to_numpy(dtype=float) for name in TIME_PARTS]
        parts.append(stamps.astype("int64").to_numpy(dtype=float) / 86_400e9)
        return np.column_stack(parts)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"{self.column}_{p}" for p in (*TIME_PARTS, "days")], dtype=object)


def build_features(frame: pd.DataFrame, *, mode: str = "auto", time_column: str | None = None) -> ColumnTransformer:
    """Numeric columns imputed and scaled, text columns one-hot encoded, the time column expanded."""
    numeric = [c for c in frame.columns if c != time_column and pd.api.types.is_numeric_dtype(frame[c])]
    text = [c for c in frame.columns if c != time_column and c not in numeric]
    steps = []
    if numeric:
        # scaled so linear models and KNN compete fairly with trees (which do not mind)
        prepare = Pipeline([("fill", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
        steps.append(("numeric", "passthrough" if mode == "off" else prepare, numeric))
    if text:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, max_categories=50)
        steps.append(("text", Pipeline([("fill", SimpleImputer(strategy="most_frequent")), ("onehot", encoder)]), text))
    if time_column:
        steps.append(("time", CalendarFeatures(time_column), [time_column]))
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)


class TabularModel(BaseEstimator):
    """An sklearn-compatible model: ``features`` then ``estimator``; labels decoded from ints."""

    def __init__(self, features, estimator, columns, classes=None):
        self.features = features
        self.estimator = estimator
        self.columns = list(columns)
        self.classes = classes

    @property
    def classes_(self):
        return None if self.classes is None else np.asarray(self.classes)

    def _matrix(self, X) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X, columns=self.columns)
        return np.asarray(self.features.transform(X[self.columns]), dtype=float)

    def predict(self, X):
        raw = self.estimator.predict(self._matrix(X))
        if self.classes is None:
            return np.asarray(raw, dtype=float)
        return np.asarray(self.classes)[np.asarray(raw).astype(int)]

    @available_if(lambda self: self.classes is not None)
    def predict_proba(self, X):
        return self.estimator.predict_proba(self._matrix(X))
