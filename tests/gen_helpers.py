"""A typed mixed table for generator tests, with known relationships between columns."""

from __future__ import annotations

import numpy as np
import pandas as pd


def mixed_table(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """A typed table (as :func:`synthguard.audit.tables.from_frames` returns it) with every hard case.

    - ``x`` continuous with 10 % missing; ``y = 2x + small noise`` (correlation about 0.97);
    - ``count`` whole numbers (Poisson);
    - ``grp`` categorical; ``cat`` categorical with 8 % missing that nearly follows ``grp``
      (A→a, B→b, C→c in 90 % of rows);
    - ``rare`` categorical with one category seen in 2 rows only;
    - ``when`` dates (whole days) with 5 % missing;
    - ``const`` a constant numeric column;
    - ``weight`` near-unique whole numbers over a wide range (like Adult's ``fnlwgt``).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, n)
    y = 2 * x + rng.normal(0, 5, n)
    x[rng.random(n) < 0.10] = np.nan
    grp = rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.3, 0.2])
    follow = {"A": "a", "B": "b", "C": "c"}
    keep = rng.random(n) < 0.9
    other = rng.choice(["a", "b", "c"], size=n)
    cat = np.array([follow[g] if k else o for g, k, o in zip(grp, keep, other, strict=True)], dtype=object)
    cat[rng.random(n) < 0.08] = np.nan
    rare = rng.choice(["common", "usual"], size=n).astype(object)
    rare[:2] = "rare"
    days = rng.integers(0, 3 * 365, n).astype(float)
    days[rng.random(n) < 0.05] = np.nan
    when = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")).astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "x": x,
            "y": y,
            "count": rng.poisson(3, n).astype(float),
            "grp": pd.Series(grp, dtype=object),
            "cat": pd.Series(cat, dtype=object),
            "rare": pd.Series(rare, dtype=object),
            "when": when,
            "const": np.full(n, 1.0),
            "weight": rng.integers(10_000, 1_000_000, n).astype(float),
        }
    )


def kind_of(s: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return "numeric"
    return "categorical"


def assert_same_kinds(syn: pd.DataFrame, train: pd.DataFrame) -> None:
    """Same columns in the same order, same kinds; categorical output is text (object) or missing."""
    assert list(syn.columns) == list(train.columns)
    for c in train.columns:
        assert kind_of(syn[c]) == kind_of(train[c]), c
        if kind_of(train[c]) == "numeric":
            assert syn[c].dtype == np.float64, c
        if kind_of(train[c]) == "datetime":
            assert syn[c].dtype == train[c].dtype, c
        if kind_of(train[c]) == "categorical":
            assert syn[c].dtype == object, c
            present = syn[c].dropna()
            assert all(isinstance(v, str) for v in present), c


def assert_whole_where_whole(syn: pd.DataFrame, train: pd.DataFrame) -> None:
    for c in train.columns:
        if kind_of(train[c]) == "numeric":
            t = train[c].dropna().to_numpy()
            if len(t) and np.all(np.mod(t, 1) == 0):
                assert np.all(np.mod(syn[c].dropna().to_numpy(), 1) == 0), c
