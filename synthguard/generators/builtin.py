"""Built-in generators (numpy / pandas only).

``independent`` samples every column from its own marginal, so it keeps no relationship
between columns and copies no record. ``noisy-copy`` re-draws a fraction of the cells of the
training rows: a deliberately leaky release, for showing what a failing audit looks like.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthguard.generators._common import SmoothedMarginal as _SmoothedMarginal
from synthguard.generators._common import column_kinds as _column_kinds
from synthguard.generators.histogram import DPHistogram

__all__ = ["BUILTIN", "Bootstrap", "DPHistogram", "IndependentMarginals", "NoisyCopy"]


class IndependentMarginals:
    """Each column sampled independently from its marginal (numbers from a smoothed marginal)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._fitted: dict[str, Any] = {}
        self._columns: list[str] = []

    def fit(self, data: pd.DataFrame) -> IndependentMarginals:
        self._columns = list(data.columns)
        for c, kind in _column_kinds(data).items():
            s = data[c]
            if kind == "datetime":
                days = (s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
                self._fitted[c] = ("datetime", _SmoothedMarginal(days, self._rng))
            elif kind == "numeric":
                self._fitted[c] = ("numeric", _SmoothedMarginal(s, self._rng))
            else:
                vc = s.astype(object).value_counts(dropna=False)
                self._fitted[c] = (
                    "categorical",
                    (vc.index.to_numpy(dtype=object), (vc.to_numpy() / vc.sum()).astype(float)),
                )
        return self

    def sample(self, n: int) -> pd.DataFrame:
        if not self._fitted:
            raise RuntimeError("fit() must be called before sample()")
        out = {}
        for c in self._columns:
            kind, model = self._fitted[c]
            if kind == "categorical":
                values, p = model
                out[c] = pd.Series(values[self._rng.choice(len(values), size=n, p=p)], dtype=object)
            elif kind == "datetime":
                days = model.sample(n)
                out[c] = pd.Timestamp("1970-01-01") + pd.to_timedelta(days, unit="D")
            else:
                out[c] = model.sample(n)
        return pd.DataFrame(out)


class NoisyCopy:
    """Training rows with a fraction of cells re-drawn from the column's values: deliberately leaky."""

    def __init__(self, seed: int = 0, fraction: float = 0.2) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be in [0, 1]")
        self.seed = seed
        self.fraction = fraction
        self._rng = np.random.default_rng(seed)
        self._data: pd.DataFrame | None = None

    def fit(self, data: pd.DataFrame) -> NoisyCopy:
        self._data = data.reset_index(drop=True)
        return self

    def sample(self, n: int) -> pd.DataFrame:
        if self._data is None:
            raise RuntimeError("fit() must be called before sample()")
        d = self._data
        rows = self._rng.choice(len(d), size=n, replace=n > len(d))
        out = d.iloc[rows].reset_index(drop=True).copy()
        for c in out.columns:
            redraw = self._rng.random(n) < self.fraction
            donors = self._rng.integers(0, len(d), size=int(redraw.sum()))
            out.loc[redraw, c] = d[c].to_numpy()[donors]
        return out


class Bootstrap:
    """Training rows resampled with replacement: the worst case (every row is a real record)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._data: pd.DataFrame | None = None

    def fit(self, data: pd.DataFrame) -> Bootstrap:
        self._data = data.reset_index(drop=True)
        return self

    def sample(self, n: int) -> pd.DataFrame:
        if self._data is None:
            raise RuntimeError("fit() must be called before sample()")
        rows = self._rng.integers(0, len(self._data), size=n)
        return self._data.iloc[rows].reset_index(drop=True)


BUILTIN: dict[str, type] = {
    "independent": IndependentMarginals,
    "noisy-copy": NoisyCopy,
    "bootstrap": Bootstrap,
    "dp-histogram": DPHistogram,
}
