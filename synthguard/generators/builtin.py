"""Built-in generators (numpy / scipy / scikit-learn only) and their registry, :data:`BUILTIN`.

Every built-in is a class with ``__init__(seed=0, **params)``, ``fit(df) -> self`` and
``sample(n) -> DataFrame``; the first line of its docstring is its one-line help
(``synthguard generators``). Given the seed, the output is deterministic; it has exactly the
training columns, in order, of the same kinds (numbers stay float64, whole where the training
column is whole; datetimes stay datetimes; categories stay text; missing values at realistic
rates).

- ``independent`` samples every column from its own marginal, so it keeps no relationship between
  columns and copies no record: the harmless, useless baseline.
- ``noisy-copy`` re-draws a fraction of the cells of the training rows, and ``bootstrap``
  resamples training rows: deliberately leaky releases (the worst case), to show what a failing
  audit looks like.
- ``gaussian-copula`` (:mod:`~synthguard.generators.copula`), ``cart``
  (:mod:`~synthguard.generators.cart`, synthpop's method) and ``bayesian-network``
  (:mod:`~synthguard.generators.bayesnet`, PrivBayes, optionally ε-DP): realistic generators.
- ``dp-histogram`` (:mod:`~synthguard.generators.histogram`): an ε-DP histogram whose ε is exact
  with a public domain, the calibration generator for empirical ε lower bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthguard.generators._common import SmoothedMarginal as _SmoothedMarginal
from synthguard.generators._common import check_n, datetime_from_days, datetime_to_days
from synthguard.generators._common import column_kinds as _column_kinds
from synthguard.generators.bayesnet import BayesianNetwork
from synthguard.generators.cart import CART
from synthguard.generators.copula import GaussianCopula
from synthguard.generators.histogram import DPHistogram

__all__ = [
    "BUILTIN",
    "CART",
    "BayesianNetwork",
    "Bootstrap",
    "DPHistogram",
    "GaussianCopula",
    "IndependentMarginals",
    "NoisyCopy",
]


class IndependentMarginals:
    """Each column sampled independently from its marginal (numbers from a smoothed marginal)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._fitted: dict[str, Any] = {}
        self._columns: list[str] = []
        self._templates: dict[str, pd.Series] = {}

    def fit(self, data: pd.DataFrame) -> IndependentMarginals:
        self._columns = list(data.columns)
        self._templates = {c: data[c].iloc[:0] for c in data.columns}
        for c, kind in _column_kinds(data).items():
            s = data[c]
            if kind == "datetime":
                days = pd.Series(datetime_to_days(s))
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
        n = check_n(n)
        if not self._fitted:
            raise RuntimeError("fit() must be called before sample()")
        out = {}
        for c in self._columns:
            kind, model = self._fitted[c]
            if kind == "categorical":
                values, p = model
                out[c] = pd.Series(values[self._rng.choice(len(values), size=n, p=p)], dtype=object)
            elif kind == "datetime":
                out[c] = datetime_from_days(model.sample(n), self._templates[c])
            else:
                out[c] = model.sample(n)
        return pd.DataFrame(out, index=pd.RangeIndex(n), columns=self._columns)


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
        n = check_n(n)
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
        n = check_n(n)
        if self._data is None:
            raise RuntimeError("fit() must be called before sample()")
        rows = self._rng.integers(0, len(self._data), size=n)
        return self._data.iloc[rows].reset_index(drop=True)


BUILTIN: dict[str, type] = {
    "independent": IndependentMarginals,
    "noisy-copy": NoisyCopy,
    "bootstrap": Bootstrap,
    "gaussian-copula": GaussianCopula,
    "cart": CART,
    "bayesian-network": BayesianNetwork,
    "dp-histogram": DPHistogram,
}
