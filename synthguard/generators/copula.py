"""``gaussian-copula``: every column mapped to a latent normal variable, one correlation matrix, and back.

Model. Every column is a monotone function of one latent standard-normal variable (a Gaussian
copula with the empirical margins; Nelsen 2006): a numeric or datetime column (datetimes as days)
through its empirical distribution function, a categorical column through intervals of ``[0, 1]``,
one per category, as wide as its share, with the categories ordered by frequency (most frequent
first; ties by text). A column with missing values gets a second latent variable, its missing
indicator (missing = the upper interval, as wide as the missing rate), so that missingness can
depend on the other columns; where the column is missing, its value variable is unobserved.

(Categories could also be one-hot encoded, one latent variable per category; that captures more of
the dependence between unordered categories but costs one dimension per category and needs a rule
for draws that switch on no or several categories. One interval per category keeps one dimension
per column, as SDV's Gaussian copula does, so dependence that is not monotone in the frequency
order is kept only in part.)

Estimation. A category, a missing indicator, or a numeric value held by many records is an
*interval* of the latent variable, not a point; taking the Pearson correlation of normal scores
of such columns underestimates the latent correlation badly (two three-category columns that
follow each other in 90 % of rows read about 0.5). The latent correlation of every pair is
therefore estimated on the rows where both are observed as follows (the thresholds of every
variable come from its own margin, a two-step estimator; Olsson 1979):

- both continuous (numeric with many distinct values and no value held by 2 % of records or
  more): the correlation of normal scores ``Φ⁻¹`` of the mid-ranks (van der Waerden scores);
- one continuous, one discrete: the correlation of the scores (the discrete one scored by the
  conditional means of its intervals) divided by the discrete variable's attenuation factor
  ``sqrt(Σ p_k μ_k²)``, the polyserial estimator of Olsson, Drasgow & Dorans (1982), exact under
  the model;
- both discrete: the polychoric correlation, the maximum-likelihood latent correlation of their
  contingency table under a bivariate normal (Olsson 1979; rectangle probabilities by
  Gauss-Legendre quadrature). Numeric columns with many values and an atom are grouped for
  this (each atom alone, the other values in groups of about 5 % of the records).

The matrix is shrunk towards the identity (``shrinkage``) and made positive definite by raising
its smallest eigenvalues. Sampling draws correlated normals, turns them into uniforms with ``Φ``
and inverts every margin: numbers through the smoothed quantile function of
:class:`~synthguard.generators._common.SmoothedMarginal` (knots at aggregates of about ten
records: atoms come back exactly, isolated values never; whole-number columns rounded), categories
through their intervals, missing where the indicator falls in its upper interval.

References
----------
Nelsen, R. B. (2006). An Introduction to Copulas (2nd ed.). · Patki, N., Wedge, R.,
Veeramachaneni, K. (2016). The Synthetic Data Vault. IEEE DSAA (Gaussian copula for tables). ·
Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation coefficient.
Psychometrika 44(4). · Olsson, U., Drasgow, F., Dorans, N. J. (1982). The polyserial correlation
coefficient. Psychometrika 47(3). · Higham, N. J. (1988). Computing a nearest symmetric positive
semidefinite matrix. Linear Algebra Appl. 103.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from synthguard.generators._common import (
    SmoothedMarginal,
    check_fitted,
    check_n,
    column_kinds,
    datetime_from_days,
    datetime_to_days,
    empty_table_error,
)

__all__ = ["GaussianCopula", "nearest_correlation", "polychoric"]

_ATOM_SHARE = 0.02  # a numeric value held by this share of records makes the column discrete
_MAX_DISCRETE = 30  # numeric columns with at most this many distinct values are discrete
_GROUP_SHARE = 0.05  # grouping of the other values of a discrete numeric column
_RHO_MAX = 0.995
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def nearest_correlation(r: np.ndarray, shrinkage: float = 0.0, floor: float = 1e-4) -> np.ndarray:
    """A positive-definite correlation matrix near ``r``: shrink to I, clip eigenvalues, unit diagonal."""
    d = r.shape[0]
    if d == 0:
        return r
    r = np.where(np.isfinite(r), r, 0.0)
    r = (r + r.T) / 2
    r = (1 - shrinkage) * r + shrinkage * np.eye(d)
    w, v = np.linalg.eigh(r)
    r = (v * np.maximum(w, floor)) @ v.T
    s = np.sqrt(np.diag(r))
    r = r / np.outer(s, s)
    np.fill_diagonal(r, 1.0)
    return r


def _rectangles(ti: np.ndarray, tj: np.ndarray, rho: float) -> np.ndarray:
    """Bivariate-normal probabilities of the cells cut by thresholds ``ti`` × ``tj`` (with ±inf ends)."""
    lo = np.clip(ti[:-1], -8.0, 8.0)
    hi = np.clip(ti[1:], -8.0, 8.0)
    half = (hi - lo) / 2
    z = (lo + hi)[:, None] / 2 + half[:, None] * _GL_X[None, :]  # (Gi, Q) quadrature nodes
    w = half[:, None] * _GL_W[None, :] * np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi)
    s = np.sqrt(1 - rho**2)
    cdf = special.ndtr((tj[None, None, :] - rho * z[:, :, None]) / s)  # (Gi, Q, Gj + 1)
    cell = np.diff(cdf, axis=2)
    return np.asarray(np.einsum("kq,kql->kl", w, cell))


def polychoric(table: np.ndarray, ti: np.ndarray, tj: np.ndarray) -> float:
    """Maximum-likelihood latent correlation of a contingency table given both margins' thresholds.

    Parameters
    ----------
    table : (Gi, Gj) array
        Counts.
    ti, tj : arrays of length Gi + 1 and Gj + 1
        Thresholds on the normal scale, from ``-inf`` to ``inf``.

    References
    ----------
    Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation coefficient.
    Psychometrika 44(4).
    """
    nz = table > 0

    def nll(rho: float) -> float:
        p = _rectangles(ti, tj, rho)
        return float(-np.sum(table[nz] * np.log(np.maximum(p[nz], 1e-300))))

    res = optimize.minimize_scalar(nll, bounds=(-_RHO_MAX, _RHO_MAX), method="bounded", options={"xatol": 1e-3})
    return float(res.x)


@dataclass
class _Dim:
    """One latent variable: ordered interval codes of the rows (-1 where unobserved) and their scores."""

    codes: np.ndarray
    thresholds: np.ndarray  # normal-scale cut points, -inf .. inf (len = groups + 1)
    scores: np.ndarray  # conditional mean of the latent variable in each row's interval (NaN if unobserved)
    attenuation: float  # sqrt(sum p_k mu_k^2): correlation of the scores with the latent variable
    discrete: bool


def _dim(codes: np.ndarray, groups: int, discrete: bool) -> _Dim:
    obs = codes >= 0
    counts = np.bincount(codes[obs], minlength=groups).astype(float)
    p = counts / max(counts.sum(), 1.0)
    cum = np.concatenate([[0.0], np.cumsum(p)])
    cum[-1] = 1.0
    t = np.asarray(special.ndtri(np.clip(cum, 0.0, 1.0)))
    dens = np.exp(-(np.clip(t, -40, 40) ** 2) / 2) / np.sqrt(2 * np.pi)
    dens[~np.isfinite(t)] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(p > 0, (dens[:-1] - dens[1:]) / np.where(p > 0, p, 1.0), 0.0)
    scores = np.full(len(codes), np.nan)
    scores[obs] = mu[codes[obs]]
    return _Dim(codes, t, scores, float(np.sqrt(np.sum(p * mu**2))), discrete)


def _numeric_codes(v: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """Ordered group codes of a numeric column (-1 for missing), the number of groups, discreteness."""
    codes = np.full(len(v), -1, dtype=np.int64)
    obs = np.isfinite(v)
    if not obs.any():
        return codes, 1, True
    uniq, inv, counts = np.unique(v[obs], return_inverse=True, return_counts=True)
    m = int(obs.sum())
    if len(uniq) <= _MAX_DISCRETE:
        codes[obs] = inv
        return codes, len(uniq), True
    atom = counts >= _ATOM_SHARE * m
    if not atom.any():
        codes[obs] = inv
        return codes, len(uniq), False
    # each atom alone; runs of other values grouped by about _GROUP_SHARE of the records
    group = np.empty(len(uniq), dtype=np.int64)
    g, run = -1, 0.0
    for i in range(len(uniq)):
        if atom[i] or g < 0 or atom[i - 1] or run >= _GROUP_SHARE * m:
            g, run = g + 1, 0.0
        group[i] = g
        run += counts[i]
    codes[obs] = group[inv]
    return codes, g + 1, True


def _missing_dim(present: np.ndarray) -> _Dim:
    return _dim((~present).astype(np.int64), 2, True)


def _latent_correlation(dims: list[_Dim]) -> np.ndarray:
    """Pairwise latent correlations (see the module docstring)."""
    d = len(dims)
    if d == 0:
        return np.zeros((0, 0))
    s = np.column_stack([x.scores for x in dims])
    mask = np.isfinite(s).astype(float)
    s0 = np.where(mask > 0, s, 0.0)
    cross = s0.T @ s0
    sq = (s0**2).T @ mask  # sq[i, j]: sum of s_i^2 over rows where j is observed too
    denom = np.sqrt(sq * sq.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denom > 0, cross / denom, 0.0)
    att = np.array([x.attenuation if x.discrete else 1.0 for x in dims])
    att = np.where(att > 0, att, 1.0)
    r = r / np.outer(att, att)
    for i in range(d):
        for j in range(i + 1, d):
            a, b = dims[i], dims[j]
            if not (a.discrete and b.discrete):
                continue
            both = (a.codes >= 0) & (b.codes >= 0)
            ga, gb = len(a.thresholds) - 1, len(b.thresholds) - 1
            if ga < 2 or gb < 2 or not both.any():
                r[i, j] = 0.0
                continue
            table = np.bincount(a.codes[both] * gb + b.codes[both], minlength=ga * gb).reshape(ga, gb)
            if ga > gb:  # integrate over the variable with fewer intervals
                r[i, j] = polychoric(table.T.astype(float), b.thresholds, a.thresholds)
            else:
                r[i, j] = polychoric(table.astype(float), a.thresholds, b.thresholds)
    r = np.clip(np.triu(r, 1), -_RHO_MAX, _RHO_MAX)
    r = r + r.T
    np.fill_diagonal(r, 1.0)
    return np.asarray(r)


@dataclass
class _Margin:
    name: str
    kind: str  # numeric | datetime | categorical
    marginal: SmoothedMarginal | None = None  # numeric / datetime
    categories: np.ndarray | None = None  # categorical, in latent order
    cum: np.ndarray | None = None  # categorical: right ends of the intervals
    missing: float = 0.0  # missing rate (an indicator dimension when 0 < rate < 1)
    value_dim: int = -1
    missing_dim: int = -1


class GaussianCopula:
    """Gaussian copula: empirical margins (smoothed), one latent normal per column, a correlation matrix.

    Parameters
    ----------
    seed : int
        Seed of the draws (fitting is deterministic).
    shrinkage : float
        Weight of the identity in the correlation matrix, in [0, 1) (default 0.01).
    k : int
        Records per knot of the smoothed numeric quantile functions (default 10).

    References
    ----------
    Nelsen (2006); Patki et al. (2016); Olsson (1979); see :mod:`synthguard.generators.copula`.
    """

    def __init__(self, seed: int = 0, shrinkage: float = 0.01, k: int = 10) -> None:
        if not isinstance(shrinkage, (int, float)) or isinstance(shrinkage, bool) or not 0 <= shrinkage < 1:
            raise ValueError(f"shrinkage must be a number in [0, 1), got {shrinkage!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        self.seed = seed
        self.shrinkage = float(shrinkage)
        self.k = k
        self._rng = np.random.default_rng(seed)
        self._margins: list[_Margin] | None = None
        self._chol: np.ndarray | None = None
        self._columns: list[str] = []
        self._templates: dict[str, pd.Series] = {}
        self.correlation: np.ndarray | None = None

    # ---------------------------------------------------------------------------------- fit

    def fit(self, data: pd.DataFrame) -> GaussianCopula:
        """Estimate the margins and the latent correlation matrix."""
        if len(data) == 0:
            raise empty_table_error("gaussian-copula")
        kinds = column_kinds(data)
        margins: list[_Margin] = []
        dims: list[_Dim] = []
        for c in data.columns:
            s = data[c]
            present = s.notna().to_numpy()
            if kinds[c] == "categorical":
                vc = s.dropna().astype(object).value_counts(sort=False)
                keys = sorted(range(len(vc)), key=lambda i: (-int(vc.iloc[i]), str(vc.index[i])))
                cats = np.array([vc.index[i] for i in keys], dtype=object)
                cum = np.cumsum(np.array([vc.iloc[i] for i in keys], dtype=float))
                cum = cum / cum[-1] if len(cum) else np.ones(1)
                codes = np.full(len(s), -1, dtype=np.int64)
                if len(cats):
                    codes[present] = pd.Index(cats).get_indexer(s[present].astype(object))
                m = _Margin(c, "categorical", categories=cats, cum=cum, value_dim=len(dims))
                dims.append(_dim(codes, max(len(cats), 1), True))
            else:
                v = datetime_to_days(s) if kinds[c] == "datetime" else s.to_numpy(dtype=float)
                present = np.isfinite(v)
                m = _Margin(c, kinds[c], marginal=SmoothedMarginal(pd.Series(v), self._rng, k=self.k))
                m.value_dim = len(dims)
                codes, groups, discrete = _numeric_codes(v)
                dims.append(_dim(codes, groups, discrete))
            m.missing = float(1 - present.mean())
            if 0 < m.missing < 1:
                m.missing_dim = len(dims)
                dims.append(_missing_dim(present))
            margins.append(m)
        self.correlation = nearest_correlation(_latent_correlation(dims), self.shrinkage)
        self._chol = np.linalg.cholesky(self.correlation) if dims else np.zeros((0, 0))
        self._margins = margins
        self._columns = list(data.columns)
        self._templates = {c: data[c].iloc[:0] for c in data.columns}
        return self

    # ---------------------------------------------------------------------------------- sample

    def sample(self, n: int) -> pd.DataFrame:
        """Draw correlated normals and invert every margin."""
        n = check_n(n)
        check_fitted(self._margins, "gaussian-copula")
        assert self._margins is not None and self._chol is not None
        d = self._chol.shape[0]
        u = special.ndtr(self._rng.standard_normal((n, d)) @ self._chol.T)
        out: dict[str, Any] = {}
        for m in self._margins:
            miss = np.zeros(n, dtype=bool) if m.missing <= 0 else np.ones(n, dtype=bool)
            if m.missing_dim >= 0:
                miss = u[:, m.missing_dim] > 1 - m.missing
            uv = u[:, m.value_dim]
            if m.kind == "categorical":
                assert m.categories is not None and m.cum is not None
                vals = np.full(n, np.nan, dtype=object)
                if len(m.categories):
                    idx = np.minimum(np.searchsorted(m.cum, uv, side="right"), len(m.cum) - 1)
                    vals = m.categories[idx].astype(object)
                vals[miss] = np.nan
                out[m.name] = pd.Series(vals, dtype=object)
                continue
            assert m.marginal is not None
            x = m.marginal.quantile(uv) if m.missing < 1 else np.full(n, np.nan)
            x[miss] = np.nan
            out[m.name] = datetime_from_days(x, self._templates[m.name]) if m.kind == "datetime" else x
        return pd.DataFrame(out, index=pd.RangeIndex(n), columns=self._columns)
