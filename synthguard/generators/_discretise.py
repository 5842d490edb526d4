"""Discretisation shared by ``bayesian-network`` and ``dp-histogram``.

Every column becomes a small set of integer codes (its *cells*):

- numeric and datetime columns (datetimes as days since 1970): first the *atoms* (single values
  that hold a large share of the records, e.g. 0 for capital gains; their own cells so that they
  come back exactly), then the bins ``[e_i, e_{i+1})`` (the last one closed), then a missing cell;
- categorical columns: one cell per category, then a missing cell.

Decoding draws a value for every code: an atom is returned as is, a bin gives a value drawn
uniformly within it (a whole number drawn uniformly among the whole numbers in it when the column
is integral), the missing cell gives NaN / NaT.

The cells come either **from the data** (``binning="quantile"``: atoms are values held by at least
``1/bins`` of the records, the other values are cut at their quantiles, with the outer edges at
the 0.5 % and 99.5 % quantiles so that the extremes of the training data are not reproduced;
``binning="uniform"``: equal-width bins between the observed minimum and maximum) or from a
**public domain** given by the caller, which does not look at the data at all. Only the latter
makes a differential-privacy guarantee about the discretised histogram a guarantee about the
release (data-derived edges, category lists, missingness and integrality are themselves a
function of the private data).

Public domain, one entry per column (a mapping from column name to one of):

- numeric / datetime: ``(low, high)`` → ``bins`` equal-width bins over ``[low, high]`` (values
  outside are clipped into the outer bins); or a mapping with ``range=(low, high)`` and optional
  ``bins``, or ``edges=[e0, e1, ...]`` (increasing), and optional ``atoms=[...]``,
  ``integer=bool`` (default ``False``; for datetimes ``True`` when both ends are midnight, i.e.
  whole days) and ``missing=bool`` (default ``True``: a missing cell whether or not the data has
  missing values). Datetime bounds may be strings or timestamps.
- categorical: a list of categories, or a mapping with ``categories=[...]`` and optional
  ``missing=bool`` (default ``True``). A value outside the list is an error (it cannot be mapped
  to a cell without looking at the data).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthguard.errors import InputError
from synthguard.generators._common import column_kinds, datetime_from_days, datetime_to_days, is_whole

__all__ = ["ColumnCoder", "Discretiser"]

BINNINGS = ("quantile", "uniform")
_TAIL = 0.005  # outer quantile edges: the extremes of the data are not reproduced


@dataclass
class ColumnCoder:
    """Cells of one column (see the module docstring)."""

    name: str
    kind: str  # numeric | datetime | categorical
    atoms: np.ndarray = field(default_factory=lambda: np.empty(0))
    edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    categories: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    integer: bool = False
    missing: bool = False
    public: bool = False

    @property
    def n_bins(self) -> int:
        return max(0, len(self.edges) - 1)

    @property
    def size(self) -> int:
        """Number of cells (codes ``0 .. size-1``)."""
        core = len(self.categories) if self.kind == "categorical" else len(self.atoms) + self.n_bins
        return core + int(self.missing)

    @property
    def missing_code(self) -> int:
        return self.size - 1 if self.missing else -1

    # ---------------------------------------------------------------------------------- encode

    def encode(self, s: pd.Series) -> np.ndarray:
        """Integer codes of a column (raises :class:`InputError` for values with no cell)."""
        n = len(s)
        codes = np.zeros(n, dtype=np.int64)
        if self.kind == "categorical":
            miss = s.isna().to_numpy()
            if len(self.categories):
                idx = pd.Index(self.categories).get_indexer(s.astype(object))
            else:
                idx = np.full(n, -1, dtype=np.int64)
            bad = (idx < 0) & ~miss
            if bad.any():
                raise InputError(
                    f"column {self.name!r}: {int(bad.sum())} values are not among the categories of the domain"
                )
            codes[:] = idx
        else:
            v = datetime_to_days(s) if self.kind == "datetime" else s.to_numpy(dtype=float)
            miss = ~np.isfinite(v)
            todo = ~miss
            for i, a in enumerate(self.atoms):
                hit = todo & (v == a)
                codes[hit] = i
                todo &= ~hit
            if todo.any():
                if self.n_bins == 0:
                    raise InputError(f"column {self.name!r}: {int(todo.sum())} values fall in no cell of the domain")
                b = np.searchsorted(self.edges, v[todo], side="right") - 1
                codes[todo] = len(self.atoms) + np.clip(b, 0, self.n_bins - 1)
        if miss.any():
            if not self.missing:
                raise InputError(
                    f"column {self.name!r}: {int(miss.sum())} missing values but the domain has no missing cell"
                )
            codes[miss] = self.missing_code
        return codes

    # ---------------------------------------------------------------------------------- decode

    def decode(self, codes: np.ndarray, rng: np.random.Generator, like: pd.Series) -> pd.Series:
        """Values for ``codes`` (a draw within each bin), of the kind and dtype of ``like``."""
        codes = np.asarray(codes, dtype=np.int64)
        n = len(codes)
        u = rng.random(n)  # always drawn: the stream does not depend on which cells came up
        miss = codes == self.missing_code if self.missing else np.zeros(n, dtype=bool)
        if self.kind == "categorical":
            out = np.full(n, np.nan, dtype=object)
            ok = ~miss
            out[ok] = self.categories[codes[ok]]
            return pd.Series(out, dtype=object)
        vals = np.full(n, np.nan)
        na = len(self.atoms)
        is_atom = ~miss & (codes < na)
        vals[is_atom] = self.atoms[codes[is_atom]]
        in_bin = ~miss & ~is_atom
        if in_bin.any():
            b = codes[in_bin] - na
            lo, hi = self.edges[b], self.edges[b + 1]
            if self.integer:
                last = b == self.n_bins - 1
                kmin = np.ceil(lo)
                kmax = np.where(last, np.floor(hi), np.ceil(hi) - 1)
                width = kmax - kmin + 1
                draw = kmin + np.floor(u[in_bin] * np.maximum(width, 1))
                vals[in_bin] = np.where(width >= 1, np.minimum(draw, kmax), np.round((lo + hi) / 2))
            else:
                vals[in_bin] = lo + u[in_bin] * (hi - lo)
        if self.kind == "datetime":
            return datetime_from_days(vals, like)
        return pd.Series(vals, dtype=float)

    # ---------------------------------------------------------------------------------- build

    @classmethod
    def from_data(cls, name: str, kind: str, s: pd.Series, bins: int, binning: str) -> ColumnCoder:
        """Cells derived from the data (not differentially private; see the module docstring)."""
        if kind == "categorical":
            present = s.dropna().astype(object)
            cats = sorted(pd.unique(present), key=lambda x: (str(type(x)), str(x)))
            return cls(name, kind, categories=np.array(cats, dtype=object), missing=bool(s.isna().any()))
        v = datetime_to_days(s) if kind == "datetime" else s.to_numpy(dtype=float)
        missing = bool((~np.isfinite(v)).any())
        v = v[np.isfinite(v)]
        if len(v) == 0:
            return cls(name, kind, missing=True)
        uniq, counts = np.unique(v, return_counts=True)
        atoms = uniq[counts >= len(v) / bins]
        rest = v[~np.isin(v, atoms)]
        edges = np.empty(0)
        if len(rest):
            nb = max(1, bins - len(atoms))
            if binning == "uniform":
                edges = np.linspace(rest.min(), rest.max(), nb + 1)
            else:
                edges = np.quantile(rest, np.linspace(_TAIL, 1 - _TAIL, nb + 1))
            edges = np.unique(edges)
            if len(edges) == 1:
                edges = np.array([edges[0], edges[0]])
        return cls(name, kind, atoms=atoms, edges=edges, integer=is_whole(v), missing=missing)

    @classmethod
    def from_public(cls, name: str, kind: str, spec: Any, bins: int) -> ColumnCoder:
        """Cells from a caller-given, data-independent domain (see the module docstring)."""
        if kind == "categorical":
            if isinstance(spec, Mapping):
                cats, missing = spec.get("categories"), bool(spec.get("missing", True))
            else:
                cats, missing = spec, True
            if isinstance(cats, (str, bytes)) or not isinstance(cats, Sequence) or len(cats) == 0:
                raise InputError(f"domain of column {name!r}: give a non-empty list of categories")
            if len(set(map(str, cats))) != len(cats):
                raise InputError(f"domain of column {name!r}: categories repeat")
            return cls(name, kind, categories=np.array(list(cats), dtype=object), missing=missing, public=True)
        conv = _to_days if kind == "datetime" else _to_float
        opts: Mapping[str, Any] = spec if isinstance(spec, Mapping) else {"range": spec}
        unknown = set(opts) - {"range", "edges", "bins", "atoms", "integer", "missing"}
        if unknown:
            raise InputError(f"domain of column {name!r}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        if "edges" in opts:
            edges = np.array([conv(e, name) for e in opts["edges"]], dtype=float)
            if len(edges) < 2 or np.any(np.diff(edges) <= 0):
                raise InputError(f"domain of column {name!r}: edges must be at least two increasing numbers")
        elif "range" in opts:
            rng_ = opts["range"]
            if isinstance(rng_, (str, bytes)) or not isinstance(rng_, Sequence) or len(rng_) != 2:
                raise InputError(f"domain of column {name!r}: give (low, high)")
            lo, hi = conv(rng_[0], name), conv(rng_[1], name)
            if not hi > lo:
                raise InputError(f"domain of column {name!r}: high must be above low")
            nb = int(opts.get("bins", bins))
            if nb < 1:
                raise InputError(f"domain of column {name!r}: bins must be >= 1")
            edges = np.linspace(lo, hi, nb + 1)
        else:
            edges = np.empty(0)
        atoms = np.array([conv(a, name) for a in opts.get("atoms", ())], dtype=float)
        if len(edges) == 0 and len(atoms) == 0:
            raise InputError(f"domain of column {name!r}: give a range, edges or atoms")
        default_integer = kind == "datetime" and len(edges) > 0 and bool(np.all(np.mod(edges, 1) == 0))
        integer = bool(opts.get("integer", default_integer))
        missing = bool(opts.get("missing", True))
        return cls(name, kind, atoms=np.unique(atoms), edges=edges, integer=integer, missing=missing, public=True)


def _to_float(x: Any, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InputError(f"domain of column {name!r}: {x!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"domain of column {name!r}: bounds must be finite")
    return v


def _to_days(x: Any, name: str) -> float:
    try:
        ts = pd.Timestamp(x)
    except (TypeError, ValueError):
        raise InputError(f"domain of column {name!r}: {x!r} is not a date") from None
    if ts is pd.NaT:
        raise InputError(f"domain of column {name!r}: bounds must be dates")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return float((ts - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))


@dataclass
class Discretiser:
    """Per-column cells of a table: :meth:`fit`, then :meth:`encode` / :meth:`decode`."""

    coders: list[ColumnCoder]
    columns: list[str]
    templates: dict[str, pd.Series]

    @classmethod
    def fit(
        cls,
        data: pd.DataFrame,
        *,
        bins: int = 10,
        binning: str = "quantile",
        domain: Mapping[str, Any] | None = None,
        generator: str = "generator",
    ) -> Discretiser:
        """Cells of every column: from ``domain`` where given, from the data otherwise."""
        if binning not in BINNINGS:
            raise InputError(f"{generator}: binning must be one of {', '.join(BINNINGS)}, got {binning!r}")
        domain = dict(domain or {})
        unknown = [c for c in domain if c not in data.columns]
        if unknown:
            raise InputError(f"{generator}: the domain names columns not in the table: {', '.join(map(str, unknown))}")
        kinds = column_kinds(data)
        coders = []
        for c in data.columns:
            if c in domain:
                coders.append(ColumnCoder.from_public(str(c), kinds[c], domain[c], bins))
            else:
                coders.append(ColumnCoder.from_data(str(c), kinds[c], data[c], bins, binning))
        templates = {c: data[c].iloc[:0] for c in data.columns}
        return cls(coders=coders, columns=list(data.columns), templates=templates)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(c.size for c in self.coders)

    @property
    def n_cells(self) -> int:
        """Size of the full domain (product of the column sizes; a Python int, never overflows)."""
        return math.prod(self.sizes)

    @property
    def data_dependent(self) -> list[str]:
        """Columns whose cells were derived from the data rather than given as a public domain."""
        return [c.name for c in self.coders if not c.public]

    def encode(self, data: pd.DataFrame) -> np.ndarray:
        """``(n, d)`` integer codes."""
        if len(self.coders) == 0:
            return np.zeros((len(data), 0), dtype=np.int64)
        return np.column_stack([c.encode(data[col]) for c, col in zip(self.coders, self.columns, strict=True)])

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """A typed frame (the training columns, in order) with a value drawn within every cell."""
        n = codes.shape[0]
        out = {
            col: c.decode(codes[:, j], rng, self.templates[col])
            for j, (c, col) in enumerate(zip(self.coders, self.columns, strict=True))
        }
        return pd.DataFrame(out, index=pd.RangeIndex(n), columns=self.columns)
