"""Exact k nearest neighbours (Euclidean) on encoded matrices, in float32 blocks through BLAS.

How a search runs
-----------------
1. Identical reference rows are grouped first (a row hash, confirmed byte by byte), so that a
   table with many copies of the same row (common on a few categorical columns) costs no more
   than its distinct rows; copies are put back at the end, in index order.
2. The distinct reference rows are centred on their mean (smaller norms, smaller float32 rounding
   error) and, for each block of queries, one float32 matrix product (BLAS sgemm) gives
   ``||t||^2 - 2 q.t`` for every (query, reference) pair: the squared distance up to the query's
   own norm, which does not change the order within a query's row. The product is the only work
   proportional to ``n_queries * n_reference * width``; the block of products is bounded by
   ``block_rows`` (128 MB by default), never ``n_queries * n_reference``.
3. Selection must cost little next to the product. ``numpy.argpartition`` over each full row of
   a block was measured at 3 to 6 times the cost of the product itself (Adult, 39k x 39k, width
   118), so candidates come from two cheap passes instead. The reference is split into groups of
   consecutive columns (after a fixed pseudo-random shuffle, so that a table sorted by some column
   does not put all near neighbours in one group); the minimum of each group is a vectorised
   reduction, done slice by slice while the slice is still in cache. The k-th smallest group
   minimum (``numpy.partition`` over the few hundred minima, no sort of the row) is at least the
   k-th smallest value of the row, so only the groups whose minimum lies below it (usually about
   k groups) are scanned for candidates.
4. The candidates' distances are recomputed exactly in float64 from the original rows and the k
   best are taken in (distance, index) order. A bound on the float32 rounding error (Higham 2002,
   section 3.1) makes this exact: a row missing from the candidates is provably farther than the
   k-th candidate, which is checked for every query; a query that fails the check (ties, near
   ties, values far from the mean) is scanned again with the cutoff the bound requires.

So the reported distances are exact float64 distances (exact duplicates are at 0.0, not at the
1e-4 that float32 cancellation gives), ties come in ascending index order, and the result does
not depend on the block size or on the order of the reference rows (beyond the indices of ties).

References
----------
N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM (2002), section 3.1
(error bound of a floating-point inner product).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.core.encoding import encoded

if TYPE_CHECKING:
    from synthguard.audit.runner import AuditContext

__all__ = ["cached_knn", "knn", "nearest_distance"]

# elements (float32) of one block of the distance matrix: 2**25 * 4 bytes = 128 MB
_BLOCK_ELEMENTS = 2**25
# elements per chunk of the candidate scan and of the neighbour lists (bounds the memory of ties)
_CHUNK_ELEMENTS = 2**21
# float32 values of one slice of columns of a block: 8 MB, within the last-level cache
_CACHE_ELEMENTS = 2**21
# smallest width of a group of reference columns (see _prepare_reference)
_MIN_GROUP = 160
# unit roundoff of float32
_U32 = 2.0**-24
# reference padding: a squared norm no real row reaches, so padded columns are never candidates
_PAD = np.float32(1e30)
# largest centred absolute value accepted (squared norms must stay far from float32 overflow)
_MAX_ABS = 1e12
# fixed seed of the internal order of the reference and of the row hash (results do not depend on it)
_ORDER_SEED = 20240917


def _check_matrix(name: str, a: Any) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {arr.ndim} dimension(s)")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if arr.size and not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values; encode missing values first (core.encoding)")
    return arr


def _check_jobs(n_jobs: int) -> None:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a positive number of threads or negative (-1: all cores), got {n_jobs!r}")


def _chunks(sizes: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Consecutive ranges of items whose sizes add up to about ``limit`` (at least one item each)."""
    bounds = []
    lo, total = 0, 0
    for i, size in enumerate(sizes.tolist()):
        if total and total + size > limit:
            bounds.append((lo, i))
            lo, total = i, 0
        total += size
    bounds.append((lo, len(sizes)))
    return bounds


@dataclass(frozen=True)
class _Distinct:
    """Groups of identical reference rows, so that ties between duplicates cost nothing.

    ``first`` holds the first index of each distinct row (ascending); ``members[offsets[u]:
    offsets[u + 1]]`` the indices of all copies of distinct row ``u`` (ascending).
    """

    first: np.ndarray
    counts: np.ndarray
    offsets: np.ndarray
    members: np.ndarray

    @property
    def all_distinct(self) -> bool:
        return len(self.first) == len(self.members)


def _distinct_rows(r: np.ndarray) -> _Distinct:
    m = r.shape[0]
    rows = np.ascontiguousarray(r)
    bits = rows.view(np.uint32 if rows.dtype == np.float32 else np.uint64).astype(np.uint64)
    weights = np.random.default_rng(_ORDER_SEED).integers(1, 2**63, bits.shape[1], dtype=np.uint64) | np.uint64(1)
    h = (bits * weights).sum(axis=1, dtype=np.uint64)  # wraps modulo 2**64
    order = np.argsort(h, kind="stable")
    hs = h[order]
    same = hs[1:] == hs[:-1]
    label = np.arange(m, dtype=np.int64)  # label[i]: first index of the rows identical to row i
    if same.any():
        suspect = np.zeros(m, dtype=bool)
        suspect[order[1:][same]] = True
        suspect[order[:-1][same]] = True
        sub = np.flatnonzero(suspect)  # ascending: the first occurrence is the smallest index
        view = np.ascontiguousarray(rows[sub]).view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
        _, first_pos, inverse = np.unique(view.ravel(), return_index=True, return_inverse=True)
        label[sub] = sub[first_pos[inverse.ravel()]]
    first = np.flatnonzero(label == np.arange(m))
    if len(first) == m:
        ones = np.ones(m, dtype=np.int64)
        return _Distinct(first, ones, np.arange(m + 1, dtype=np.int64), np.arange(m, dtype=np.int64))
    members = np.argsort(label, kind="stable").astype(np.int64)
    counts = np.bincount(label, minlength=m)[first].astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return _Distinct(first, counts, offsets, members)


@dataclass
class _Reference:
    """The distinct reference rows prepared once: centred, shuffled, padded, with norms appended."""

    rows: np.ndarray  # (n_distinct, width): the distinct rows, in the input dtype
    t_aug: np.ndarray  # (n_groups * group_width, width + 1) float32: [t, ||t||^2]
    order: np.ndarray  # (n_groups * group_width,) int64: distinct row at each position (-1: padding)
    centre: np.ndarray  # (width,) float64
    group_width: int
    n_groups: int
    gamma: float  # relative error bound of one float32 entry of the product

    @property
    def group_starts(self) -> np.ndarray:
        return np.arange(0, self.n_groups * self.group_width, self.group_width)


def _prepare_reference(rows: np.ndarray, k_cand: int) -> _Reference:
    m, d = rows.shape
    centre = rows.mean(axis=0, dtype=np.float64)
    # about max(256, 32 k) groups: the k smallest values of a row then mostly fall in k different
    # groups, so about k groups are scanned per query. Groups narrower than ~136 values make
    # numpy's reduceat leave its vectorised loop (3-10 times slower per value, numpy 1.26), so
    # groups have at least _MIN_GROUP values while there are at least 4 k groups.
    width = max(1, -(-m // max(256, 32 * k_cand)), min(_MIN_GROUP, m // (4 * k_cand)))
    n_groups = -(-m // width)
    padded = n_groups * width
    order = np.full(padded, -1, dtype=np.int64)
    order[:m] = np.random.default_rng(_ORDER_SEED).permutation(m)
    centred = rows[order[:m]].astype(np.float64) - centre
    if m and np.abs(centred).max() > _MAX_ABS:
        raise ValueError("values too large for a float32 distance search; scale the data first")
    t_aug = np.zeros((padded, d + 1), dtype=np.float32)
    t_aug[:m, :d] = centred
    t_aug[:m, d] = np.einsum("ij,ij->i", centred, centred)
    t_aug[m:, d] = _PAD
    # |fl(x) - x| for the (d + 1)-term product, the rounding of the inputs and of the norms, with a
    # factor 2 of safety: gamma * (||q|| + ||t||)^2 bounds the error of one entry
    gamma = 2.0 * (d + 4) * _U32 / (1.0 - (d + 4) * _U32)
    return _Reference(rows, t_aug, order, centre, width, n_groups, gamma)


def _exact_sq(queries: np.ndarray, reference: np.ndarray, qi: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Exact float64 squared distances between queries[qi] and reference[ri], pair by pair."""
    out = np.empty(len(qi), dtype=np.float64)
    step = max(1, _CHUNK_ELEMENTS // max(1, queries.shape[1]))
    for a in range(0, len(qi), step):
        b = a + step
        diff = queries[qi[a:b]].astype(np.float64) - reference[ri[a:b]]
        np.einsum("ij,ij->i", diff, diff, out=out[a:b])
    return out


def _first_k(group: np.ndarray, n_groups: int, k: int, *columns: np.ndarray) -> list[np.ndarray]:
    """Per group (sorted ascending), the first k entries of each column as (n_groups, k) arrays."""
    counts = np.bincount(group, minlength=n_groups)
    if counts.min(initial=k) < k:  # pragma: no cover - guaranteed by the error bound
        raise RuntimeError("internal error: too few neighbour candidates")
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(group)) - np.repeat(starts, counts)
    take = rank < k
    out = []
    for col in columns:
        a = np.empty((n_groups, k), dtype=col.dtype)
        a[group[take], rank[take]] = col[take]
        out.append(a)
    return out


class _Search:
    """k best distinct reference rows per query (exact, ties by position), block by block."""

    # the first pass takes candidates up to the k-th group minimum plus this many error bounds; a
    # query whose candidates turn out too few is searched again with a wider cutoff
    widen = 2.0

    def __init__(self, queries: np.ndarray, prep: _Reference, k: int) -> None:
        self.q = queries
        self.prep = prep
        self.k = k
        self._buf: np.ndarray | None = None

    def _tol(self, s_norm: np.ndarray, e: np.ndarray) -> np.ndarray:
        """Bound on |float32 value - exact squared distance| for any row at exact distance^2 <= e."""
        # such a row has ||t|| <= ||q|| + sqrt(e) (centred coordinates)
        return self.prep.gamma * (2.0 * s_norm + np.sqrt(np.maximum(e, 0.0))) ** 2 + 1e-12 * (1.0 + np.abs(e))

    def _select(
        self, lo: int, rows: np.ndarray, cutoff: np.ndarray, partial: np.ndarray, group_min: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k best (exact) among the distinct rows whose float32 value is <= cutoff, per query."""
        p = self.prep
        blocks = partial.reshape(partial.shape[0], p.n_groups, p.group_width)
        # compare in float32 (no float64 copies of the scanned values) against the cutoff rounded up:
        # a superset of the candidates, and every row left out is still above the float64 cutoff
        cut32 = cutoff.astype(np.float32)
        cut32 = np.where(cut32 < cutoff, np.nextafter(cut32, np.float32(np.inf)), cut32)
        hit_groups = group_min[rows] <= cut32[:, None]
        best_sq = np.empty((len(rows), self.k), dtype=np.float64)
        best_pos = np.empty((len(rows), self.k), dtype=np.int64)
        for a, b in _chunks(hit_groups.sum(axis=1) * p.group_width, _CHUNK_ELEMENTS):
            g_row, g_grp = np.nonzero(hit_groups[a:b])
            values = blocks[rows[a + g_row], g_grp]
            hit_pair, hit_pos = np.nonzero(values <= cut32[a + g_row][:, None])
            local = g_row[hit_pair]
            ref = p.order[g_grp[hit_pair] * p.group_width + hit_pos]
            keep = ref >= 0
            local, ref = local[keep], ref[keep]
            sq = _exact_sq(self.q, p.rows, lo + rows[a + local], ref)
            order = np.lexsort((ref, sq, local))
            best_sq[a:b], best_pos[a:b] = _first_k(local[order], b - a, self.k, sq[order], ref[order])
        return best_sq, best_pos

    def block(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        p = self.prep
        d = self.q.shape[1]
        q = self.q[lo:hi].astype(np.float64) - p.centre
        if np.abs(q).max() > _MAX_ABS:
            raise ValueError("values too large for a float32 distance search; scale the data first")
        s_sq = np.einsum("ij,ij->i", q, q)
        s_norm = np.sqrt(s_sq)
        s_aug = np.empty((hi - lo, d + 1), dtype=np.float32)
        np.multiply(q, -2.0, out=s_aug[:, :d], casting="same_kind")
        s_aug[:, d] = 1.0
        # ||t||^2 - 2 q.t for every pair: one BLAS sgemm, into a buffer reused across blocks (a fresh
        # 128 MB array per block costs page faults)
        if self._buf is None or self._buf.shape[0] < hi - lo:
            self._buf = np.empty((hi - lo, p.t_aug.shape[0]), dtype=np.float32)
        partial = self._buf[: hi - lo]
        group_min = np.empty((hi - lo, p.n_groups), dtype=np.float32)
        # in slices of columns that stay in cache, so that the group minima read them from cache
        # (reduceat is several times faster than a minimum over a reshaped axis)
        step = max(1, _CACHE_ELEMENTS // ((hi - lo) * p.group_width))
        starts = p.group_starts
        for g0 in range(0, p.n_groups, step):
            g1 = min(p.n_groups, g0 + step)
            c0, c1 = g0 * p.group_width, g1 * p.group_width
            np.matmul(s_aug, p.t_aug[c0:c1].T, out=partial[:, c0:c1])
            group_min[:, g0:g1] = np.minimum.reduceat(partial[:, c0:c1], starts[g0:g1] - c0, axis=1)
        if self.k == 1:
            kth = group_min.min(axis=1).astype(np.float64)
        else:
            kth = np.partition(group_min, self.k - 1, axis=1)[:, self.k - 1].astype(np.float64)
        # kth bounds the k-th smallest value from above; widen it by the rounding error so that the
        # candidates almost always contain every row that can be among the exact k best
        cutoff = kth + self.widen * self._tol(s_norm, kth + s_sq)
        rows = np.arange(hi - lo)
        best_sq, best_pos = self._select(lo, rows, cutoff, partial, group_min)
        # a row missing from the candidates has float32 value > cutoff, so exact squared distance
        # > cutoff + ||q||^2 - tol; if that is above the k-th exact candidate, nothing is missing
        e = best_sq[:, -1]
        short = np.flatnonzero(cutoff + s_sq < e + self._tol(s_norm, e))
        if len(short):
            e_short = e[short]
            wide = e_short + self._tol(s_norm[short], e_short) * (1.0 + 1e-6) - s_sq[short]
            wide = wide + 1e-12 * (1.0 + np.abs(wide))
            best_sq[short], best_pos[short] = self._select(lo, short, wide, partial, group_min)
        return best_sq, best_pos


def _expand(
    lo: int, best_sq: np.ndarray, best_pos: np.ndarray, distinct: _Distinct, k: int, exclude_self: bool
) -> tuple[np.ndarray, np.ndarray]:
    """From the best distinct rows to the best reference rows: copies in index order, self removed.

    If distinct rows u_1, u_2, ... are in (distance, first index) order, at least j - 1 reference
    rows precede every copy of u_j, so only its first ``need - j + 1`` copies can matter.
    """
    n, kc = best_pos.shape
    need = k + int(exclude_self)
    dist = np.empty((n, k), dtype=np.float64)
    idx = np.empty((n, k), dtype=np.int64)
    take = np.minimum(distinct.counts[best_pos], need - np.arange(kc))
    for a, b in _chunks(take.sum(axis=1), _CHUNK_ELEMENTS):
        t = take[a:b].ravel()
        total = int(t.sum())
        row = np.repeat(np.arange(b - a), take[a:b].sum(axis=1))
        within = np.arange(total) - np.repeat(np.cumsum(t) - t, t)
        ref = distinct.members[np.repeat(distinct.offsets[best_pos[a:b].ravel()], t) + within]
        sq = np.repeat(best_sq[a:b].ravel(), t)
        if exclude_self:
            keep = ref != lo + a + row
            row, ref, sq = row[keep], ref[keep], sq[keep]
        order = np.lexsort((ref, sq, row))
        dist[a:b], idx[a:b] = _first_k(row[order], b - a, k, sq[order], ref[order])
    return dist, idx


def knn(
    queries: np.ndarray,
    reference: np.ndarray,
    k: int,
    *,
    block_rows: int | None = None,
    exclude_self: bool = False,
    n_jobs: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours (Euclidean) of each query row among the reference rows.

    Parameters
    ----------
    queries : numpy.ndarray
        ``(n_q, width)`` encoded rows (any real dtype; float32 from :mod:`synthguard.core.encoding`).
    reference : numpy.ndarray
        ``(n_ref, width)`` encoded rows.
    k : int
        Number of neighbours, at least 1. Clipped to the number of reference rows available
        (``n_ref``, or ``n_ref - 1`` with ``exclude_self``), so the result may have fewer columns.
    block_rows : int, optional
        Queries per block. Default: such that one block of float32 distances holds about 2**25
        values (128 MB). Only memory and speed depend on it, never the result.
    exclude_self : bool
        For ``queries`` and ``reference`` being the same rows (row ``i`` of ``queries`` is row ``i``
        of ``reference``): never return a row as its own neighbour. Exact duplicates of the row
        are still returned (at distance 0.0); only the row's own index is removed.
    n_jobs : int
        Reserved for thread parallelism over blocks; accepted (positive, or negative for "all
        cores") and currently ignored. BLAS already runs the product on every core, and a thread
        pool over blocks measured slower on 2 cores (``benchmarks/README.md``).

    Returns
    -------
    distances : numpy.ndarray
        float64 ``(n_q, k)``, exact Euclidean distances recomputed in float64 from the input rows;
        each row ascending.
    indices : numpy.ndarray
        int64 ``(n_q, k)`` reference row indices; ties in distance in ascending index order.

    Notes
    -----
    Candidates come from a float32 matrix product per block (BLAS); a rounding-error bound
    (Higham 2002, section 3.1) guarantees that no row that belongs to the exact k best is missed,
    including rows tied with the k-th. See the module docstring.

    References
    ----------
    N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM (2002).
    """
    q = _check_matrix("queries", queries)
    r = _check_matrix("reference", reference)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} features but the reference has {r.shape[1]}")
    if r.shape[1] == 0:
        raise ValueError("no features to measure distances on (width 0)")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if exclude_self and q.shape[0] != r.shape[0]:
        raise ValueError("exclude_self needs the queries to be the reference rows (same number of rows)")
    if block_rows is not None and (isinstance(block_rows, bool) or not isinstance(block_rows, int) or block_rows < 1):
        raise ValueError(f"block_rows must be a positive integer, got {block_rows!r}")
    _check_jobs(n_jobs)
    n_q, m = q.shape[0], r.shape[0]
    k_eff = min(int(k), m - int(exclude_self))
    if n_q == 0 or k_eff <= 0:
        return np.zeros((n_q, max(k_eff, 0)), dtype=np.float64), np.zeros((n_q, max(k_eff, 0)), dtype=np.int64)
    distinct = _distinct_rows(r)
    k_core = min(k_eff + int(exclude_self), len(distinct.first))
    prep = _prepare_reference(r[distinct.first] if not distinct.all_distinct else r, k_core)
    search = _Search(q, prep, k_core)
    if block_rows is None:
        block_rows = max(1, _BLOCK_ELEMENTS // len(prep.order))
    bounds = [(lo, min(lo + block_rows, n_q)) for lo in range(0, n_q, block_rows)]
    dist = np.empty((n_q, k_eff), dtype=np.float64)
    idx = np.empty((n_q, k_eff), dtype=np.int64)

    for lo, hi in bounds:
        best_sq, best_pos = search.block(lo, hi)
        if distinct.all_distinct and not exclude_self:
            dist[lo:hi], idx[lo:hi] = np.sqrt(best_sq), best_pos
        else:
            sq, idx[lo:hi] = _expand(lo, best_sq, best_pos, distinct, k_eff, exclude_self)
            dist[lo:hi] = np.sqrt(sq)
    return dist, idx


def nearest_distance(queries: np.ndarray, reference: np.ndarray, **kw: Any) -> np.ndarray:
    """Distance (float64, 1-D) from each query row to its nearest reference row.

    Keyword arguments are those of :func:`knn` (``block_rows``, ``exclude_self``, ``n_jobs``).
    """
    dist, _ = knn(queries, reference, 1, **kw)
    if dist.shape[1] == 0:
        raise ValueError("no reference rows to measure a distance to")
    return dist[:, 0]


_ROLES = ("train", "holdout", "synthetic")


@dataclass(frozen=True)
class _CachedSearch:
    k: int  # largest k asked for
    distances: np.ndarray
    indices: np.ndarray


def _matrix(ctx: AuditContext, role: str, columns: tuple[str, ...] | None) -> np.ndarray:
    enc = encoded(ctx)
    full = enc.table(role)
    if columns is None:
        return full

    def sliced() -> np.ndarray:
        sub = np.ascontiguousarray(full[:, enc.encoder.feature_index(columns)])
        sub.setflags(write=False)
        return sub

    matrix: np.ndarray = ctx.cached(f"encoded:{role}:{columns!r}", sliced)
    return matrix


def cached_knn(
    ctx: AuditContext, query: str, reference: str, k: int, columns: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours between two tables of an audit, computed once and shared by checks.

    Parameters
    ----------
    ctx : AuditContext
        The audit context; its cache holds the encoded tables (key ``"encoded"``), sliced
        matrices and searches.
    query, reference : str
        Table roles: ``"train"``, ``"holdout"`` or ``"synthetic"``. When they are equal, each row's
        own index is excluded (``exclude_self``).
    k : int
        Number of neighbours (clipped as in :func:`knn`).
    columns : sequence of str, optional
        Measure distances on these columns only (their features of the shared encoding).

    Returns
    -------
    distances, indices : numpy.ndarray
        As :func:`knn`; read-only views of the cached arrays. A search already cached with a larger
        k for the same pair and columns is reused (its first k columns).
    """
    for role in (query, reference):
        if role not in _ROLES:
            raise ValueError(f"unknown table role {role!r}; expected train, holdout or synthetic")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    cols: tuple[str, ...] | None = None
    if columns is not None:
        enc = encoded(ctx).encoder
        wanted = [columns] if isinstance(columns, str) else list(columns)
        unknown = [c for c in wanted if c not in enc.column_slices]
        if unknown:
            raise KeyError(f"column(s) not encoded: {', '.join(map(repr, unknown))}")
        cols = tuple(c for c in enc.columns if c in set(wanted))
    key = f"knn:{query}->{reference}:{cols!r}"
    entry = ctx.cache.get(key)
    if not isinstance(entry, _CachedSearch) or entry.k < k:
        dist, idx = knn(
            _matrix(ctx, query, cols),
            _matrix(ctx, reference, cols),
            int(k),
            exclude_self=query == reference,
            n_jobs=ctx.settings.n_jobs,
        )
        dist.setflags(write=False)
        idx.setflags(write=False)
        entry = _CachedSearch(int(k), dist, idx)
        ctx.cache[key] = entry
    return entry.distances[:, :k], entry.indices[:, :k]
