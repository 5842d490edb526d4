"""Helpers shared by the built-in generators: column kinds, datetimes as numbers, typed output.

Every built-in generator works on the typed tables of :mod:`synthguard.audit.tables` (numeric
columns float64 with NaN, datetime64 columns, categorical columns as text with NaN) and returns a
frame with exactly the training columns, in order, of the same kinds: numeric float64 (whole
numbers where the training column holds only whole numbers), datetime columns of the training
dtype, categorical columns as ``object`` with NaN for missing values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from synthguard.errors import InputError

__all__ = [
    "SmoothedMarginal",
    "check_fitted",
    "check_n",
    "column_kinds",
    "datetime_from_days",
    "datetime_to_days",
    "is_whole",
    "positive_float",
    "positive_int",
]

_EPOCH = pd.Timestamp("1970-01-01")


def column_kinds(df: pd.DataFrame) -> dict[str, str]:
    """``numeric``, ``datetime`` or ``categorical`` for every column (booleans are categorical)."""
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = "datetime"
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[c] = "numeric"
        else:
            out[c] = "categorical"
    return out


def datetime_to_days(s: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as floats (NaN for NaT); time-zone aware columns are taken in UTC."""
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray((s - _EPOCH) / pd.Timedelta(days=1), dtype=float)


def datetime_from_days(days: np.ndarray, like: pd.Series) -> pd.Series:
    """Inverse of :func:`datetime_to_days`, with the dtype (and time zone) of ``like``."""
    days = np.asarray(days, dtype=float)
    ns = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = np.isfinite(days)
    ns[ok] = np.round(days[ok] * 86_400e9).astype(np.int64).view("datetime64[ns]")
    out = pd.Series(ns)
    tz = getattr(like.dt, "tz", None)
    if tz is not None:
        return out.dt.tz_localize("UTC").dt.tz_convert(tz)
    try:
        return out.astype(like.dtype)
    except (TypeError, ValueError):  # pragma: no cover - exotic datetime dtypes
        return out


def is_whole(values: np.ndarray) -> bool:
    """Whether every finite value is a whole number (and there is at least one)."""
    v = values[np.isfinite(values)]
    return bool(len(v) and np.all(np.mod(v, 1) == 0))


def check_fitted(fitted: Any, name: str) -> None:
    if fitted is None:
        raise RuntimeError(f"{name}: fit() must be called before sample()")


def check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a whole number >= 0, got {n!r}")
    return int(n)


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """An integer parameter >= ``minimum`` (a ValueError naming the parameter otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def positive_float(value: Any, name: str) -> float:
    """A finite float parameter > 0 (a ValueError naming the parameter otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def empty_table_error(name: str) -> InputError:
    return InputError(f"generator {name!r}: cannot fit on a table without rows")


class SmoothedMarginal:
    """A numeric marginal that never replays individual training values.

    The quantile function is interpolated between ``m`` knots placed at the mid-points of ``m``
    equal-probability bins (each knot an aggregate of about n/m records; never a minimum or
    maximum). Values shared by many records (atoms such as 0 for capital gains) come back exactly
    because the quantile function is flat across them; isolated values never do, which is what
    makes the draw safe (drawing from the empirical marginal copies near-unique values such as a
    census weight, and singling out then rightly reads a high risk). Whole-number columns are
    rounded.

    Parameters
    ----------
    values : Series
        The training values (NaN for missing).
    rng : numpy.random.Generator
        The stream to draw from.
    k : int
        Records per knot (at most 200 knots).
    """

    def __init__(self, values: pd.Series, rng: np.random.Generator, k: int = 10) -> None:
        v = values.dropna().to_numpy(dtype=float)
        self.missing = float(values.isna().mean()) if len(values) else 0.0
        self.integer = bool(len(v) and np.all(np.mod(v, 1) == 0))
        self.rng = rng
        m = int(max(1, min(200, len(v) // k)))
        self.probs = (np.arange(m) + 0.5) / m
        self.knots = np.quantile(v, self.probs) if len(v) else np.array([np.nan])

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The smoothed quantile function at probabilities ``u`` (whole numbers rounded)."""
        x = np.interp(u, self.probs, self.knots)
        return np.round(x) if self.integer else x

    def sample(self, n: int) -> np.ndarray:
        u = self.rng.random(n)
        x = self.quantile(u)
        x[self.rng.random(n) < self.missing] = np.nan
        return x
