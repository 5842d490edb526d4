"""``cart``: sequential decision trees with donors drawn from the leaves, as in synthpop.

The columns are visited in order. The first is drawn from its own (smoothed) marginal; every
next column is modelled by a decision tree (classification for categorical columns, regression
for numeric and datetime columns) on the columns before it, and a synthetic value is drawn by
dropping the synthetic row down the tree and taking the value of a random *training record in the
leaf it lands in* (a donor), which is synthpop's CART method (Reiter 2005; Nowok, Raab & Dibben
2016).

Missing values: predictors keep NaN and the trees route them (scikit-learn's native support for
missing values); for a categorical column "missing" is one more class, so it is drawn like any
other outcome; for a numeric column the tree is grown on the records where it is present and then
every training record, the ones where the column is missing included, is placed in its leaf, so a
donor may bring a missing value: missingness is drawn at the rate of the leaf.

Smoothing (on by default): a donor's numeric value is returned exactly only when at least
``k_exact`` (default 10) training records share it (atoms such as 0 for capital gains, or ages);
rarer values get Gaussian kernel noise with Silverman's bandwidth of the column's rarer values,
reflected at 0 for columns without negative values, and whole-number columns are rounded. So an
isolated value (a census weight seen once) is never replayed verbatim, which synthpop's
``smoothing="density"`` option also aims at (synthpop smooths every value of the column with one
bandwidth; here values shared by many records are left exact so that atoms keep their mass).
Categorical values, rare categories included, are drawn as they are.

References
----------
Reiter, J. P. (2005). Using CART to generate partially synthetic public use microdata. Journal of
Official Statistics 21(3). · Nowok, B., Raab, G. M., Dibben, C. (2016). synthpop: bespoke creation
of synthetic data in R. Journal of Statistical Software 74(11). · Breiman, L., Friedman, J.,
Olshen, R., Stone, C. (1984). Classification and Regression Trees. · Silverman, B. W. (1986).
Density Estimation for Statistics and Data Analysis (rule-of-thumb bandwidth, eq. 3.31).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthguard.errors import InputError
from synthguard.generators._common import (
    check_fitted,
    check_n,
    column_kinds,
    datetime_from_days,
    datetime_to_days,
    empty_table_error,
    is_whole,
    positive_int,
)

__all__ = ["CART", "silverman_bandwidth"]


def silverman_bandwidth(values: np.ndarray) -> float:
    """Silverman's rule of thumb ``0.9 min(sd, IQR/1.34) n^(-1/5)`` (0 for fewer than 2 distinct values)."""
    v = values[np.isfinite(values)]
    if len(v) < 2:
        return 0.0
    sd = float(np.std(v, ddof=1))
    q75, q25 = np.percentile(v, [75, 25])
    spread = min(sd, (q75 - q25) / 1.34) if q75 > q25 else sd
    return float(0.9 * spread * len(v) ** (-0.2))


@dataclass
class _Column:
    """How one column is encoded (as a predictor) and drawn (as an outcome)."""

    name: str
    kind: str  # numeric | datetime | categorical
    categories: np.ndarray  # categorical: the categories (code = position); missing = len(categories)
    integer: bool = False
    atoms: np.ndarray | None = None  # numeric: values that are returned exactly
    bandwidth: float = 0.0
    nonneg: bool = False
    nonpos: bool = False


@dataclass
class _Node:
    """The tree of one column (None for the first column or a constant one) and its leaf donors."""

    tree: Any
    leaf_pos: np.ndarray  # node id -> position in starts/counts
    starts: np.ndarray
    counts: np.ndarray
    donors: np.ndarray  # training outcome values (codes or numbers), grouped by leaf


class CART:
    """Sequential decision trees (synthpop's CART): each value drawn from the training records in its leaf.

    Parameters
    ----------
    seed : int
        Seed of the trees and of the draws.
    min_samples_leaf : int
        Smallest leaf (synthpop's ``minbucket``, default 5): each synthetic value comes from one of
        at least this many records.
    max_depth : int, optional
        Depth limit of the trees (default: none, as synthpop's small complexity parameter).
    smoothing : bool or float
        Kernel smoothing of rare numeric values (``True`` = Silverman's bandwidth; a number scales
        it; ``False`` or 0 draws donor values verbatim, as synthpop's default).
    k_exact : int
        Numeric values shared by at least this many training records are never smoothed.
    visit_sequence : sequence of str, optional
        Order in which the columns are synthesised (default: the table's order). The output always
        has the training columns in the training order.

    References
    ----------
    Reiter (2005); Nowok, Raab & Dibben (2016); see :mod:`synthguard.generators.cart`.
    """

    def __init__(
        self,
        seed: int = 0,
        min_samples_leaf: int = 5,
        max_depth: int | None = None,
        smoothing: bool | float = True,
        k_exact: int = 10,
        visit_sequence: Sequence[str] | None = None,
    ) -> None:
        self.seed = seed
        self.min_samples_leaf = positive_int(min_samples_leaf, "min_samples_leaf")
        self.max_depth = None if max_depth is None else positive_int(max_depth, "max_depth")
        if isinstance(smoothing, bool):
            self.smoothing = 1.0 if smoothing else 0.0
        elif isinstance(smoothing, (int, float)) and smoothing >= 0:
            self.smoothing = float(smoothing)
        else:
            raise ValueError(f"smoothing must be true, false or a number >= 0, got {smoothing!r}")
        self.k_exact = positive_int(k_exact, "k_exact")
        if visit_sequence is not None and (isinstance(visit_sequence, str) or not isinstance(visit_sequence, Sequence)):
            raise ValueError("visit_sequence must be a list of column names")
        self.visit_sequence = list(visit_sequence) if visit_sequence is not None else None
        self._rng = np.random.default_rng(seed)
        self._cols: dict[str, _Column] = {}
        self._order: list[str] = []
        self._columns: list[str] = []
        self._nodes: list[_Node] | None = None
        self._templates: dict[str, pd.Series] = {}

    # -------------------------------------------------------------------------------- encoding

    def _encode(self, col: _Column, s: pd.Series) -> np.ndarray:
        if col.kind == "categorical":
            idx = pd.Index(col.categories).get_indexer(s.astype(object)).astype(float)
            idx[s.isna().to_numpy()] = np.nan
            return idx
        if col.kind == "datetime":
            return datetime_to_days(s)
        return s.to_numpy(dtype=float)

    def _describe_column(self, name: str, kind: str, s: pd.Series) -> _Column:
        if kind == "categorical":
            present = s.dropna().astype(object)
            cats = np.array(sorted(pd.unique(present), key=lambda x: (str(type(x)), str(x))), dtype=object)
            return _Column(name, kind, cats)
        v = datetime_to_days(s) if kind == "datetime" else s.to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        uniq, counts = np.unique(v, return_counts=True)
        atoms = uniq[counts >= self.k_exact]
        rare = v[~np.isin(v, atoms)]
        bw = silverman_bandwidth(rare)
        if bw == 0.0 and len(rare):
            bw = silverman_bandwidth(v) or max(1e-6, 0.01 * abs(float(np.median(v))))
        integer = is_whole(v)
        if integer:
            bw = max(bw, 1.0)  # below one unit, rounding would give the donor's value back
        return _Column(
            name,
            kind,
            np.empty(0, dtype=object),
            integer=integer,
            atoms=atoms,
            bandwidth=bw * self.smoothing,
            nonneg=bool(len(v) and v.min() >= 0),
            nonpos=bool(len(v) and v.max() <= 0),
        )

    # -------------------------------------------------------------------------------- fit

    def fit(self, data: pd.DataFrame) -> CART:
        """Grow one tree per column (after the first) on the columns before it."""
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        if len(data) == 0:
            raise empty_table_error("cart")
        columns = list(data.columns)
        order = self.visit_sequence or columns
        if sorted(map(str, order)) != sorted(map(str, columns)):
            raise InputError("generator 'cart': visit_sequence must name every column of the table exactly once")
        kinds = column_kinds(data)
        self._columns, self._order = columns, list(order)
        self._cols = {c: self._describe_column(c, kinds[c], data[c]) for c in columns}
        self._templates = {c: data[c].iloc[:0] for c in columns}
        enc = {c: self._encode(self._cols[c], data[c]) for c in columns}
        n = len(data)
        nodes: list[_Node] = []
        for j, name in enumerate(self._order):
            col = self._cols[name]
            y = enc[name].copy()
            if col.kind == "categorical":
                y[np.isnan(y)] = len(col.categories)  # missing is one more class
            present = np.isfinite(y)
            constant = len(np.unique(y[present])) <= 1 and (present.all() or not present.any())
            tree = None
            leaves = np.zeros(n, dtype=np.int64)
            if j > 0 and not constant and present.any():
                x = np.column_stack([enc[c] for c in self._order[:j]])
                kw = {
                    "min_samples_leaf": self.min_samples_leaf,
                    "max_depth": self.max_depth,
                    "random_state": int(self._rng.integers(2**31 - 1)),
                }
                if col.kind == "categorical":
                    tree = DecisionTreeClassifier(**kw).fit(x, y.astype(np.int64))
                else:
                    tree = DecisionTreeRegressor(**kw).fit(x[present], y[present])
                leaves = tree.apply(x).astype(np.int64)
            nodes.append(self._donors(tree, leaves, y))
        self._nodes = nodes
        return self

    @staticmethod
    def _donors(tree: Any, leaves: np.ndarray, y: np.ndarray) -> _Node:
        order = np.argsort(leaves, kind="stable")
        ids, starts, counts = np.unique(leaves[order], return_index=True, return_counts=True)
        size = int(tree.tree_.node_count) if tree is not None else 1
        leaf_pos = np.full(size, -1, dtype=np.int64)
        leaf_pos[ids] = np.arange(len(ids))
        return _Node(tree, leaf_pos, starts, counts, y[order])

    # -------------------------------------------------------------------------------- sample

    def sample(self, n: int) -> pd.DataFrame:
        """Draw ``n`` rows column by column (each value a donor from its leaf, rare numbers smoothed)."""
        n = check_n(n)
        check_fitted(self._nodes, "cart")
        assert self._nodes is not None
        syn: dict[str, np.ndarray] = {}
        for j, (name, node) in enumerate(zip(self._order, self._nodes, strict=True)):
            col = self._cols[name]
            if node.tree is None or n == 0:
                pos = np.zeros(n, dtype=np.int64)
            else:
                x = np.column_stack([syn[c] for c in self._order[:j]])
                pos = node.leaf_pos[node.tree.apply(x)]
            u = self._rng.random(n)
            v = node.donors[node.starts[pos] + np.floor(u * node.counts[pos]).astype(np.int64)]
            if col.kind == "categorical":
                v = v.astype(float)
                v[v == len(col.categories)] = np.nan
            else:
                v = self._smooth(col, v.astype(float))
            syn[name] = v
        out = {c: self._decode(self._cols[c], syn[c]) for c in self._columns}
        return pd.DataFrame(out, index=pd.RangeIndex(n), columns=self._columns)

    def _smooth(self, col: _Column, v: np.ndarray) -> np.ndarray:
        noise = self._rng.standard_normal(len(v))  # always drawn: the stream does not depend on the data
        if col.bandwidth <= 0 or col.atoms is None:
            return v
        rare = np.isfinite(v) & ~np.isin(v, col.atoms)
        out = v.copy()
        out[rare] = v[rare] + col.bandwidth * noise[rare]
        if col.nonneg:
            out[rare] = np.abs(out[rare])  # reflect at 0: no negative amounts from positive ones
        elif col.nonpos:
            out[rare] = -np.abs(out[rare])
        if col.integer:
            out[rare] = np.round(out[rare])
        return out

    def _decode(self, col: _Column, v: np.ndarray) -> pd.Series:
        if col.kind == "categorical":
            out = np.full(len(v), np.nan, dtype=object)
            ok = np.isfinite(v)
            out[ok] = col.categories[v[ok].astype(np.int64)]
            return pd.Series(out, dtype=object)
        if col.kind == "datetime":
            return datetime_from_days(v, self._templates[col.name])
        return pd.Series(v, dtype=float)
