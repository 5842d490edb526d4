"""Exact chunked k-NN: agreement with brute force and scikit-learn, ties, duplicates, the shared cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.neighbors import NearestNeighbors

from synthguard.audit.runner import AuditContext, Settings
from synthguard.audit.tables import from_frames
from synthguard.core import neighbors
from synthguard.core.encoding import encode_tables
from synthguard.core.neighbors import cached_knn, knn, nearest_distance


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Mixed columns with missing values (numeric and categorical)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(45.0, 12.0, n).round(1)
    age[rng.random(n) < 0.08] = np.nan
    income = rng.lognormal(10.0, 0.7, n)
    income[rng.random(n) < 0.15] = np.nan
    town = rng.choice(["Oslo", "Bergen", "Tromsø", "Bodø", "Vardø"], n, p=[0.4, 0.3, 0.2, 0.08, 0.02]).astype(object)
    town[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "town": town,
            "score": rng.normal(0.0, 1.0, n),
            "income": income,
            "smoker": rng.choice(["yes", "no"], n),
        }
    )


@pytest.fixture(scope="module")
def encoded():
    data = from_frames(_frame(600, 1), _frame(400, 2), _frame(500, 3))
    return data, encode_tables(data)


def _brute(q: np.ndarray, r: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    d = q.astype(np.float64)[:, None, :] - r.astype(np.float64)[None, :, :]
    dist = np.sqrt(np.einsum("ijk,ijk->ij", d, d))
    if exclude_self:
        np.fill_diagonal(dist, np.inf)
    return dist


def _brute_knn(q: np.ndarray, r: np.ndarray, k: int, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Reference answer: all distances, ordered by (distance, index)."""
    dist = _brute(q, r, exclude_self)
    ids = np.broadcast_to(np.arange(r.shape[0]), dist.shape)
    order = np.lexsort((ids, dist), axis=1)[:, :k]
    return np.take_along_axis(dist, order, axis=1), order


def _assert_same_up_to_ties(dist_all: np.ndarray, d1, i1, d2, i2, rtol=1e-9):
    """Distances agree; each index is one of the rows at (a tie of) that distance."""
    np.testing.assert_allclose(d1, d2, rtol=rtol, atol=0.0)
    for row in range(d1.shape[0]):
        for col in range(d1.shape[1]):
            ties = np.flatnonzero(np.abs(dist_all[row] - d1[row, col]) <= rtol * d1[row, col])
            assert i1[row, col] in ties and i2[row, col] in ties
        assert len(set(i1[row])) == d1.shape[1]


def test_matches_sklearn_brute_on_mixed_data_with_missing_values(encoded):
    _, enc = encoded
    assert any(name.endswith("(missing)") for name in enc.encoder.feature_names)
    q, r = enc.synthetic, enc.train
    dist, idx = knn(q, r, 7)
    assert dist.dtype == np.float64 and idx.dtype == np.int64 and dist.shape == (len(q), 7)
    nn = NearestNeighbors(n_neighbors=7, algorithm="brute").fit(r.astype(np.float64))
    sk_dist, sk_idx = nn.kneighbors(q.astype(np.float64))
    _assert_same_up_to_ties(_brute(q, r), dist, idx, sk_dist, sk_idx)
    assert np.all(np.diff(dist, axis=1) >= 0)


def test_equals_exact_brute_force_including_index_order(encoded):
    _, enc = encoded
    for q, r, k in ((enc.synthetic, enc.train, 5), (enc.holdout, enc.synthetic, 1), (enc.train[:50], enc.holdout, 12)):
        want_d, want_i = _brute_knn(q, r, k)
        dist, idx = knn(q, r, k)
        np.testing.assert_allclose(dist, want_d, rtol=1e-12, atol=0.0)
        assert np.array_equal(idx, want_i)


def test_exact_duplicates_are_at_distance_zero():
    rng = np.random.default_rng(3)
    ref = rng.normal(0.0, 1.0, (300, 9)).astype(np.float32) + np.float32(50.0)  # far from 0: float32 cancels
    queries = ref[[5, 17, 250]].copy()
    dist, idx = knn(queries, ref, 1)
    assert dist[:, 0].tolist() == [0.0, 0.0, 0.0]
    assert idx[:, 0].tolist() == [5, 17, 250]


def test_ties_are_ordered_by_index():
    # a grid: many exact ties; every tie must be resolved by ascending index, as brute force does
    g = np.stack(np.meshgrid(np.arange(6.0), np.arange(6.0), np.arange(3.0)), axis=-1).reshape(-1, 3)
    ref = np.concatenate([g, g[::-1]]).astype(np.float32)  # every point twice
    queries = np.concatenate([g[:40], g[:40] + 0.5]).astype(np.float32)
    for k in (1, 4, 9):
        want_d, want_i = _brute_knn(queries, ref, k)
        dist, idx = knn(queries, ref, k, block_rows=13)
        np.testing.assert_allclose(dist, want_d, rtol=1e-12, atol=0.0)
        assert np.array_equal(idx, want_i)


def test_exclude_self_with_duplicates():
    rng = np.random.default_rng(4)
    ref = rng.normal(0.0, 1.0, (200, 5)).astype(np.float32)
    ref[[10, 60, 110]] = ref[150]  # four copies of one row
    dist, idx = knn(ref, ref, 3, exclude_self=True)
    assert not np.any(idx == np.arange(len(ref))[:, None])
    for row in (10, 60, 110, 150):
        assert dist[row].tolist() == [0.0, 0.0, 0.0]
        assert set(idx[row]) == {10, 60, 110, 150} - {row}
    want_d, want_i = _brute_knn(ref, ref, 3, exclude_self=True)
    np.testing.assert_allclose(dist, want_d, rtol=1e-12, atol=0.0)
    assert np.array_equal(idx, want_i)


def test_block_sizes_give_identical_results(encoded):
    _, enc = encoded
    q, r = enc.synthetic[:120], enc.train
    auto = knn(q, r, 6)
    for rows in (1, 7, 1000):
        d, i = knn(q, r, 6, block_rows=rows)
        assert np.array_equal(d, auto[0]) and np.array_equal(i, auto[1])
    self_auto = knn(r, r, 4, exclude_self=True)
    self_7 = knn(r, r, 4, exclude_self=True, block_rows=7)
    assert np.array_equal(self_auto[0], self_7[0]) and np.array_equal(self_auto[1], self_7[1])


def test_n_jobs_is_accepted_and_changes_nothing(encoded):
    _, enc = encoded
    one = knn(enc.synthetic, enc.train, 3, block_rows=50)
    for jobs in (2, -1):
        other = knn(enc.synthetic, enc.train, 3, block_rows=50, n_jobs=jobs)
        assert np.array_equal(one[0], other[0]) and np.array_equal(one[1], other[1])
    with pytest.raises(ValueError, match="n_jobs"):
        knn(enc.synthetic, enc.train, 3, n_jobs=0)


def test_k_larger_than_reference_is_clipped():
    rng = np.random.default_rng(5)
    ref = rng.normal(size=(6, 3))
    q = rng.normal(size=(4, 3))
    dist, idx = knn(q, ref, 50)
    assert dist.shape == idx.shape == (4, 6)
    assert all(sorted(row) == list(range(6)) for row in idx.tolist())
    dist, idx = knn(ref, ref, 50, exclude_self=True)
    assert dist.shape == (6, 5)
    d1, i1 = knn(ref[:1], ref[:1], 3, exclude_self=True)
    assert d1.shape == (1, 0) and i1.shape == (1, 0)


def test_clustered_far_from_centre_is_still_exact():
    # two tight clusters far apart: the float32 products cannot tell neighbours apart inside a
    # cluster; the error bound must widen the candidates until the float64 answer is exact
    rng = np.random.default_rng(6)
    a = rng.normal(0.0, 1e-3, (150, 4)) + 3e3
    b = rng.normal(0.0, 1e-3, (150, 4)) - 3e3
    ref = np.concatenate([a, b])
    queries = np.concatenate([a[:20], b[:20]]) + rng.normal(0.0, 1e-3, (40, 4))
    want_d, want_i = _brute_knn(queries, ref, 3)
    dist, idx = knn(queries, ref, 3)
    np.testing.assert_allclose(dist, want_d, rtol=1e-12, atol=0.0)
    assert np.array_equal(idx, want_i)


def test_second_pass_catches_what_a_narrow_first_pass_misses(encoded, monkeypatch):
    # with no widening, the first candidates usually miss near ties; the verified second pass must
    # still give the exact answer
    _, enc = encoded
    calls: list[int] = []
    select = neighbors._Search._select

    def counting(self, lo, rows, *args):
        calls.append(len(rows))
        return select(self, lo, rows, *args)

    monkeypatch.setattr(neighbors._Search, "widen", 0.0)
    monkeypatch.setattr(neighbors._Search, "_select", counting)
    g = np.stack(np.meshgrid(np.arange(5.0), np.arange(4.0)), axis=-1).reshape(-1, 2)
    cases = [(enc.synthetic[:100], enc.train, 4, False), (g + 0.25, g, 3, False), (enc.train, enc.train, 2, True)]
    for q, r, k, own in cases:
        want_d, want_i = _brute_knn(q, r, k, exclude_self=own)
        dist, idx = knn(q, r, k, exclude_self=own)
        np.testing.assert_allclose(dist, want_d, rtol=1e-12, atol=0.0)
        assert np.array_equal(idx, want_i)
    assert len(calls) > 3  # some queries were searched twice


def test_many_duplicates_take_the_smallest_indices():
    rng = np.random.default_rng(8)
    distinct = rng.normal(size=(4, 3)).astype(np.float32)
    labels = rng.integers(0, 4, 3000)
    ref = distinct[labels]
    dist, idx = knn(distinct, ref, 5)
    for u in range(4):
        assert dist[u].tolist() == [0.0] * 5
        assert idx[u].tolist() == np.flatnonzero(labels == u)[:5].tolist()
    d_self, i_self = knn(ref, ref, 3, exclude_self=True, block_rows=500)
    for row in (0, 1, 2999):
        copies = np.flatnonzero(labels == labels[row])
        assert i_self[row].tolist() == copies[copies != row][:3].tolist()
        assert d_self[row].tolist() == [0.0, 0.0, 0.0]
    # two distinct rows only, k beyond the copies of the nearest one
    two = np.repeat(np.array([[0.0], [1.0]]), [3, 4], axis=0)[[0, 3, 1, 4, 2, 5, 6]]
    d2, i2 = knn(np.array([[0.2]]), two, 5)
    assert i2[0].tolist() == [0, 2, 4, 1, 3]
    np.testing.assert_allclose(d2[0], [0.2, 0.2, 0.2, 0.8, 0.8])


def test_nearest_distance_is_one_dimensional(encoded):
    _, enc = encoded
    nd = nearest_distance(enc.synthetic, enc.train)
    assert nd.shape == (len(enc.synthetic),) and nd.dtype == np.float64
    assert np.array_equal(nd, knn(enc.synthetic, enc.train, 1)[0][:, 0])
    own = nearest_distance(enc.train, enc.train, exclude_self=True)
    assert np.all(own >= 0.0)


def test_bad_input_is_refused():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="NaN"):
        knn(np.array([[np.nan, 1.0]]), x, 1)
    with pytest.raises(ValueError, match="features"):
        knn(np.zeros((2, 3)), x, 1)
    with pytest.raises(ValueError, match="k must"):
        knn(x, x, 0)
    with pytest.raises(ValueError, match="exclude_self"):
        knn(x[:2], x, 1, exclude_self=True)
    with pytest.raises(ValueError, match="too large"):
        knn(np.array([[1e20]]), np.array([[0.0], [1.0]]), 1)
    with pytest.raises(ValueError, match="width 0"):
        knn(np.zeros((2, 0)), np.zeros((3, 0)), 1)
    with pytest.raises(ValueError, match="no reference rows"):
        nearest_distance(x, np.zeros((0, 2)))
    dist, idx = knn(np.zeros((0, 2)), x, 2)
    assert dist.shape == idx.shape == (0, 2)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_ref=st.integers(1, 60),
    n_q=st.integers(1, 20),
    width=st.integers(1, 6),
    k=st.integers(1, 8),
    levels=st.sampled_from([3, 1000]),
)
def test_invariant_to_reference_row_order(seed, n_ref, n_q, width, k, levels):
    rng = np.random.default_rng(seed)
    # few levels: many duplicates and ties; many levels: almost none
    ref = rng.integers(0, levels, (n_ref, width)).astype(np.float32) / levels
    queries = rng.integers(0, levels, (n_q, width)).astype(np.float32) / levels
    perm = rng.permutation(n_ref)
    dist, idx = knn(queries, ref, k)
    dist_p, idx_p = knn(queries, ref[perm], k)
    assert np.array_equal(dist, dist_p)  # the same multiset of distances, in ascending order
    # the neighbours found are at the distances reported, in either order
    assert np.array_equal(_brute(queries, ref)[np.arange(n_q)[:, None], idx], dist)
    assert np.array_equal(_brute(queries, ref[perm])[np.arange(n_q)[:, None], idx_p], dist)


def _context(data) -> AuditContext:
    return AuditContext(data=data, settings=Settings(), rng=np.random.default_rng(0))


def test_cached_knn_reuses_a_larger_search(encoded, monkeypatch):
    data, enc = encoded
    ctx = _context(data)
    calls: list[int] = []
    real_knn = neighbors.knn

    def counting(*args, **kw):
        calls.append(args[2])
        return real_knn(*args, **kw)

    monkeypatch.setattr(neighbors, "knn", counting)
    d5, i5 = cached_knn(ctx, "synthetic", "train", 5)
    d3, i3 = cached_knn(ctx, "synthetic", "train", 3)
    assert calls == [5]
    assert np.array_equal(d3, d5[:, :3]) and np.array_equal(i3, i5[:, :3])
    want = knn(enc.synthetic, enc.train, 3)
    assert np.array_equal(d3, want[0]) and np.array_equal(i3, want[1])
    assert not d3.flags.writeable and not i3.flags.writeable
    # a larger k searches again and replaces the entry
    cached_knn(ctx, "synthetic", "train", 8)
    assert calls == [5, 8]
    cached_knn(ctx, "synthetic", "train", 6)
    assert calls == [5, 8]
    assert "encoded" in ctx.cache


def test_cached_knn_columns_and_self(encoded, monkeypatch):
    data, enc = encoded
    ctx = _context(data)
    d, i = cached_knn(ctx, "holdout", "train", 2, columns=["town", "age"])
    sub = enc.encoder.feature_index(["age", "town"])
    want = knn(enc.holdout[:, sub], enc.train[:, sub], 2)
    assert np.array_equal(d, want[0]) and np.array_equal(i, want[1])
    # the same columns in another order share the entry
    calls: list[int] = []
    real_knn = neighbors.knn
    monkeypatch.setattr(neighbors, "knn", lambda *a, **kw: calls.append(a[2]) or real_knn(*a, **kw))
    cached_knn(ctx, "holdout", "train", 1, columns=["age", "town"])
    assert calls == []
    _, own = cached_knn(ctx, "train", "train", 2)
    assert calls == [2]
    assert not np.any(own == np.arange(len(enc.train))[:, None])
    with pytest.raises(ValueError):
        cached_knn(ctx, "control", "train", 1)
    with pytest.raises(KeyError):
        cached_knn(ctx, "train", "holdout", 1, columns=["nope"])
