"""Shared building blocks of the fidelity and utility checks: model pipelines and weighted metrics.

Bootstrap intervals resample rows by giving each row an integer weight (how often it was drawn);
every metric here accepts a matrix of such weights (one row per resample) so that all resamples
are scored in one vectorised pass over fixed predictions (Efron & Tibshirani 1993, ch. 6).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

__all__ = [
    "aligned_proba",
    "boosting_pipeline",
    "boot_weights",
    "feature_frame",
    "linear_pipeline",
    "weighted_accuracy",
    "weighted_auc",
    "weighted_f1",
    "weighted_mae",
    "weighted_r2",
]

MISSING = "(missing)"


@contextmanager
def quiet_fit(threads: int | None = 1) -> Iterator[None]:
    """Silence warnings of model fits (the report states what was fitted) and cap OpenMP threads.

    Gradient boosting on a few thousand rows runs faster on one thread than on two, and when the
    machine is busy, OpenMP's spinning threads slowed it down up to tenfold (measured on this
    project's 2-core machine); ``threads=None`` leaves the thread count alone.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            if threads is None:
                yield
            else:
                with threadpool_limits(limits=threads, user_api="openmp"):
                    yield


def seed_from(rng: np.random.Generator) -> int:
    """An integer seed for scikit-learn's ``random_state``, drawn from a check's stream."""
    return int(rng.integers(0, 2**31 - 1))


def boot_weights(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """``(n_boot, n)`` row weights of the nonparametric bootstrap: how often each row was drawn.

    References
    ----------
    B. Efron and R. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall (1993), ch. 6.
    """
    out = np.empty((n_boot, n), dtype=np.float64)
    for b in range(n_boot):
        out[b] = np.bincount(rng.integers(0, n, n), minlength=n) if n else np.zeros(0)
    return out


def _as_weights(w: np.ndarray | None, n: int) -> np.ndarray:
    return np.ones((1, n)) if w is None else np.atleast_2d(np.asarray(w, dtype=np.float64))


def feature_frame(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The columns as model inputs: dates become days since 1970-01-01, categories stay text."""
    out: dict[str, Any] = {}
    for c in columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = (s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[c] = s.astype(float)
        else:
            out[c] = s.astype(object)
    return pd.DataFrame(out, index=df.index)


def _categorical_imputer() -> SimpleImputer:
    return SimpleImputer(strategy="constant", fill_value=MISSING, missing_values=np.nan)


def _numeric_imputer() -> SimpleImputer:
    return SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)


def linear_pipeline(
    task: str, numeric: Sequence[str], categorical: Sequence[str], *, rare_k: int, seed: int
) -> Pipeline:
    """Logistic regression (classification) or ridge regression on imputed, scaled, one-hot features.

    Categories seen fewer than ``rare_k`` times in the training data share one indicator, and so
    do categories the training data never showed (scikit-learn's "infrequent" category).
    """
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("num", make_pipeline(_numeric_imputer(), StandardScaler()), list(numeric)))
    if categorical:
        enc = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=rare_k, sparse_output=True)
        transformers.append(("cat", make_pipeline(_categorical_imputer(), enc), list(categorical)))
    pre = ColumnTransformer(transformers, sparse_threshold=0.3)
    model: Any = Ridge(alpha=1.0) if task == "regression" else LogisticRegression(max_iter=500, random_state=seed)
    return Pipeline([("pre", pre), ("model", model)])


def boosting_preprocessor(numeric: Sequence[str], categorical: Sequence[str]) -> ColumnTransformer:
    """Ordinal codes for categories (first; unknown → -1, read as missing by the trees), medians for numbers.

    Numbers are imputed (with a missing indicator) rather than left missing so that the same
    matrix also feeds scikit-learn's classic gradient boosting (used to continue training).
    """
    transformers: list[tuple[str, Any, list[str]]] = []
    if categorical:
        enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, max_categories=250)
        transformers.append(("cat", make_pipeline(_categorical_imputer(), enc), list(categorical)))
    if numeric:
        transformers.append(("num", _numeric_imputer(), list(numeric)))
    return ColumnTransformer(transformers, sparse_threshold=0.0)


def boosting_pipeline(
    task: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    *,
    n_rows: int,
    min_class_rows: int | None,
    seed: int,
) -> Pipeline:
    """Histogram gradient boosting; early stopping on a 10 % validation split when the data allow it.

    Without early stopping (fewer than 1,000 rows, or a class with fewer than 10), the number of
    boosting rounds is fixed: 100, or 50 below 500 rows.

    References
    ----------
    G. Ke et al., "LightGBM: a highly efficient gradient boosting decision tree", NeurIPS 2017
    (histogram-based boosting, as implemented in scikit-learn).
    """
    early = n_rows >= 1000 and (min_class_rows is None or min_class_rows >= 10)
    kw: dict[str, Any] = {
        "max_iter": 200 if early else (100 if n_rows >= 500 else 50),
        "learning_rate": 0.1,
        "early_stopping": early,
        "random_state": seed,
        "categorical_features": list(range(len(categorical))) or None,
    }
    if early:
        kw.update(validation_fraction=0.1, n_iter_no_change=10)
    model: Any = HistGradientBoostingRegressor(**kw) if task == "regression" else HistGradientBoostingClassifier(**kw)
    return Pipeline([("pre", boosting_preprocessor(numeric, categorical)), ("model", model)])


def constant_model(task: str) -> Any:
    """What is left to fit when the training target has one value: predict it (or its mean)."""
    return DummyRegressor(strategy="mean") if task == "regression" else DummyClassifier(strategy="prior")


def aligned_proba(model: Any, X: Any, classes: np.ndarray) -> np.ndarray:
    """``predict_proba`` with one column per entry of ``classes`` (0 for classes the model never saw)."""
    p = np.asarray(model.predict_proba(X), dtype=np.float64)
    out = np.zeros((len(X), len(classes)))
    index = {c: j for j, c in enumerate(classes)}
    for k, c in enumerate(model.classes_):
        j = index.get(c)
        if j is not None:
            out[:, j] = p[:, k]
    return out


# ----------------------------------------------------------------------------------------------
# weighted metrics: each returns one value per row of the weight matrix


def weighted_auc(positive: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """ROC AUC of ``score`` (positives should score higher) under row weights; ties count one half.

    Parameters
    ----------
    positive : bool array (n,)
    score : float array (n,)
    w : array (n,) or (B, n), optional
        Row weights (bootstrap counts); ``None`` = every row once.

    Returns
    -------
    ndarray (B,)
        NaN where a resample has no positive or no negative row.

    References
    ----------
    J. A. Hanley and B. J. McNeil, "The meaning and use of the area under a receiver operating
    characteristic (ROC) curve", Radiology 143 (1982) 29-36 (AUC as the Mann-Whitney statistic).
    """
    positive = np.asarray(positive, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    W = _as_weights(w, len(score))
    if len(score) == 0:
        return np.full(W.shape[0], np.nan)
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    pos = positive[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    Ws = W[:, order]
    wp = np.add.reduceat(Ws * pos, starts, axis=1)
    wn = np.add.reduceat(Ws, starts, axis=1) - wp
    below = np.cumsum(wn, axis=1) - wn
    num = (wp * (below + 0.5 * wn)).sum(axis=1)
    den = wp.sum(axis=1) * wn.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_macro_auc(y: np.ndarray, proba: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """One-vs-rest AUC averaged over the classes present in ``y`` (``y`` holds column indices of ``proba``).

    References
    ----------
    F. Provost and P. Domingos, "Well-trained PETs: improving probability estimation trees",
    CeDER working paper IS-00-04, New York University (2000) (one-vs-rest averaging).
    """
    present = [k for k in np.unique(y) if 0 < (y == k).sum() < len(y)]
    W = _as_weights(w, len(y))
    if not present:
        return np.full(W.shape[0], np.nan)
    aucs = np.vstack([weighted_auc(y == k, proba[:, k], W) for k in present])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(aucs, axis=0)


def weighted_accuracy(correct: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Share of correct predictions under row weights."""
    W = _as_weights(w, len(correct))
    tot = W.sum(axis=1)
    return np.where(tot > 0, W @ correct.astype(np.float64) / np.maximum(tot, 1e-300), np.nan)


def weighted_f1(y: np.ndarray, pred: np.ndarray, classes: Sequence[int], w: np.ndarray | None = None) -> np.ndarray:
    """F1 score averaged over ``classes`` (one class: the binary F1 of that class), under row weights.

    References
    ----------
    C. J. van Rijsbergen, *Information Retrieval*, 2nd ed., Butterworths (1979), ch. 7.
    """
    W = _as_weights(w, len(y))
    scores = []
    for k in classes:
        tp = W @ ((pred == k) & (y == k)).astype(np.float64)
        fp = W @ ((pred == k) & (y != k)).astype(np.float64)
        fn = W @ ((pred != k) & (y == k)).astype(np.float64)
        den = 2 * tp + fp + fn
        scores.append(np.where(den > 0, 2 * tp / np.maximum(den, 1e-300), 0.0))
    if not scores:
        return np.full(W.shape[0], np.nan)
    return np.mean(np.vstack(scores), axis=0)


def weighted_r2(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Coefficient of determination ``1 - SSE / SST`` under row weights (SST about the weighted mean)."""
    W = _as_weights(w, len(y))
    tot = np.maximum(W.sum(axis=1), 1e-300)
    mean = W @ y / tot
    sst = W @ (y * y) - tot * mean * mean
    sse = W @ ((y - pred) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sst > 1e-12 * np.maximum(W @ (y * y), 1e-300), 1.0 - sse / sst, np.nan)


def weighted_mae(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Mean absolute error under row weights."""
    W = _as_weights(w, len(y))
    tot = W.sum(axis=1)
    return np.where(tot > 0, W @ np.abs(y - pred) / np.maximum(tot, 1e-300), np.nan)
