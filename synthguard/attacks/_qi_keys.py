"""Quasi-identifier keys for the record-level disclosure checks (CAP, DiSCO, repU, k-anonymity).

A *key* is the combination of a record's quasi-identifier values. Each column is turned into
integer codes jointly over train, holdout and synthetic data (so equal values get equal codes in
every table; a missing value is a code of its own), optionally after binning numeric columns at
quantiles of the real data; the codes of a row are then hashed to one 64-bit key
(:func:`synthguard.core.hashing.row_hashes`). Everything is vectorised: no Python loop runs over
rows.

The checks compare training records with holdout records at equal sample sizes, drawn once per
audit from a shared random stream, so that chance matches weigh alike on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthguard.audit.runner import AuditContext
from synthguard.core.hashing import row_hashes

__all__ = [
    "MISSING_CODE",
    "EqualSamples",
    "KeyCodes",
    "bin_codes",
    "counts_in",
    "equal_samples",
    "join_names",
    "key_codes",
    "numeric_values",
    "quantile_edges",
]

#: the code of a missing value (every missing value gets it, so two missing values match)
MISSING_CODE = -1

_REFERENCES = "quasi_identifiers.references"


@dataclass(frozen=True)
class EqualSamples:
    """Row indices of equally large samples of train and holdout (sorted, without replacement)."""

    train: np.ndarray
    holdout: np.ndarray

    @property
    def size(self) -> int:
        return len(self.train)


def equal_samples(ctx: AuditContext) -> EqualSamples:
    """The train and holdout samples of size ``min(len(train), len(holdout))``, shared by the checks.

    Drawn from ``ctx.shared_rng("quasi_identifiers.references")``, so every check that uses them
    sees the same records whichever ran first.
    """

    def draw() -> EqualSamples:
        rng = ctx.shared_rng(_REFERENCES)
        n_t, n_h = len(ctx.data.train), len(ctx.data.holdout)
        m = min(n_t, n_h)
        return EqualSamples(
            np.sort(rng.choice(n_t, size=m, replace=False)),
            np.sort(rng.choice(n_h, size=m, replace=False)),
        )

    samples: EqualSamples = ctx.cached(_REFERENCES, draw)
    return samples


def numeric_values(s: pd.Series, kind: str) -> np.ndarray:
    """A numeric or datetime column as float64 (datetimes as nanoseconds), missing as NaN."""
    if kind == "datetime":
        dt = pd.to_datetime(s)
        out = np.full(len(dt), np.nan)
        ok = dt.notna().to_numpy()
        out[ok] = dt[ok].to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def quantile_edges(real: np.ndarray, n_bins: int, min_count: int) -> np.ndarray:
    """Inner bin edges at quantiles of the real values, each bin holding at least ``min_count`` of them.

    The bins are ``(-inf, e0], (e0, e1], ..., (e_last, inf)``. Edges start at the ``n_bins``
    quantiles (ties give fewer, distinct edges); while a bin holds fewer than ``min_count`` real
    values it is merged with its smaller neighbour (small-cell rule), so no bin describes fewer
    than ``min_count`` real records. Missing values are ignored (they are a category of their own).

    Parameters
    ----------
    real : numpy.ndarray
        Values of the real data (train and holdout).
    n_bins : int
        Largest number of bins.
    min_count : int
        Fewest real values per bin.

    Returns
    -------
    numpy.ndarray
        Sorted inner edges; empty when one bin is all there is.

    References
    ----------
    R. J. Hyndman and Y. Fan, "Sample quantiles in statistical packages", The American
    Statistician 50 (1996) 361-365 (the quantile definition, numpy's default).
    """
    v = np.sort(real[~np.isnan(real)])
    if v.size == 0 or n_bins <= 1:
        return np.empty(0)
    edges = np.unique(np.quantile(v, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    edges = edges[edges < v[-1]]  # an edge at the maximum would leave an empty top bin
    while edges.size:
        counts = np.diff(np.concatenate([[0], np.searchsorted(v, edges, side="right"), [v.size]]))
        i = int(np.argmin(counts))
        if counts[i] >= min_count:
            break
        if i == 0:
            drop = 0
        elif i == len(counts) - 1:
            drop = i - 1
        else:
            drop = i - 1 if counts[i - 1] <= counts[i + 1] else i
        edges = np.delete(edges, drop)
    return edges


def bin_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value for :func:`quantile_edges`' bins; missing values get ``MISSING_CODE``."""
    codes = np.searchsorted(edges, values, side="left").astype(np.int64)
    codes[np.isnan(values)] = MISSING_CODE
    return codes


@dataclass(frozen=True)
class KeyCodes:
    """Per-column integer codes of train, holdout and synthetic rows, and how each column was coded.

    ``bins`` maps each binned numeric column to its number of bins (aggregate, never an edge value).
    """

    train: np.ndarray  # (n_train, n_columns) int64
    holdout: np.ndarray
    synthetic: np.ndarray
    columns: tuple[str, ...]
    bins: dict[str, int]

    def keys(self, role: str, columns: Sequence[int] | None = None) -> np.ndarray:
        """64-bit hashes of the codes of the chosen columns (all by default), one per row."""
        codes = getattr(self, role)
        if columns is not None:
            codes = codes[:, list(columns)]
        return row_hashes(pd.DataFrame(codes))


def key_codes(ctx: AuditContext, columns: Sequence[str], n_bins: int | None) -> KeyCodes:
    """Joint integer codes of ``columns`` over the three tables (cached per audit).

    Categorical columns are coded by value. Numeric and datetime columns are coded by exact value
    when ``n_bins`` is ``None``, else by quantile bin of the real data (:func:`quantile_edges` with
    at least ``ctx.settings.rare_k`` real rows per bin). Missing values are ``MISSING_CODE``.
    """
    cols = tuple(columns)

    def compute() -> KeyCodes:
        data, schema = ctx.data, ctx.schema
        tables = (data.train, data.holdout, data.synthetic)
        sizes = [len(t) for t in tables]
        out = np.empty((sum(sizes), len(cols)), dtype=np.int64)
        bins: dict[str, int] = {}
        for j, name in enumerate(cols):
            kind = schema.kind(name)
            if n_bins is not None and kind in ("numeric", "datetime"):
                parts = [numeric_values(t[name], kind) for t in tables]
                edges = quantile_edges(np.concatenate(parts[:2]), n_bins, int(ctx.settings.rare_k))
                bins[name] = len(edges) + 1
                out[:, j] = bin_codes(np.concatenate(parts), edges)
            else:
                joined = pd.concat([t[name] for t in tables], ignore_index=True)
                codes, _ = pd.factorize(joined, use_na_sentinel=True)
                out[:, j] = np.where(codes < 0, MISSING_CODE, codes)
        a, b = sizes[0], sizes[0] + sizes[1]
        return KeyCodes(out[:a], out[a:b], out[b:], cols, bins)

    codes: KeyCodes = ctx.cached(f"quasi_identifiers.codes[{n_bins}]{cols!r}", compute)
    return codes


def counts_in(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    """How many times each key of ``query`` occurs in ``reference`` (0 when absent)."""
    query = np.asarray(query)
    if len(reference) == 0:
        return np.zeros(len(query), dtype=np.int64)
    uniq, counts = np.unique(reference, return_counts=True)
    pos = np.minimum(np.searchsorted(uniq, query), len(uniq) - 1)
    return np.where(uniq[pos] == query, counts[pos], 0).astype(np.int64)


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: column names for a summary sentence."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
