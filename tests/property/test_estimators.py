"""Property tests (hypothesis) for the estimators."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthguard.attacks.attribute import correct_guesses
from synthguard.core.hashing import row_hashes, rows_in
from synthguard.core.stats import clopper_pearson, newcombe_paired_difference, wilson
from synthguard.metrics.fidelity import ks_from_counts, tvd_from_counts

counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)
confidence = st.sampled_from([0.8, 0.9, 0.95, 0.99])


@given(counts, confidence)
def test_wilson_contains_estimate_and_stays_in_unit_interval(kn, conf):
    k, n = kn
    lo, hi = wilson(k, n, conf)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


@given(counts, confidence)
def test_clopper_pearson_contains_estimate_and_is_wider_one_sided_at_same_level(kn, conf):
    k, n = kn
    lo, hi = clopper_pearson(k, n, conf)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    lo1, _ = clopper_pearson(k, n, conf, alternative="greater")
    assert lo1 >= lo - 1e-12  # a one-sided bound at the same level is tighter


@given(counts, st.sampled_from([0.9, 0.95]))
def test_higher_confidence_gives_wider_intervals(kn, conf):
    k, n = kn
    lo, hi = wilson(k, n, conf)
    lo2, hi2 = wilson(k, n, 0.99)
    assert lo2 <= lo + 1e-12 and hi2 >= hi - 1e-12


@given(st.lists(st.integers(0, 300), min_size=4, max_size=4).filter(lambda x: sum(x) > 0))
def test_paired_difference_interval_contains_estimate(abcd):
    d, lo, hi = newcombe_paired_difference(*abcd)
    assert -1.0 <= lo <= d + 1e-12 and d - 1e-12 <= hi <= 1.0


vectors = st.integers(1, 30).flatmap(
    lambda k: st.tuples(
        st.lists(st.integers(0, 50), min_size=k, max_size=k).filter(lambda v: sum(v) > 0),
        st.lists(st.integers(0, 50), min_size=k, max_size=k).filter(lambda v: sum(v) > 0),
    )
)


@given(vectors)
def test_tvd_and_ks_are_symmetric_bounded_and_zero_on_identity(pq):
    p, q = (np.array(x, dtype=float) for x in pq)
    for stat in (tvd_from_counts, ks_from_counts):
        v = float(stat(p, q))
        assert 0.0 <= v <= 1.0 + 1e-12
        assert v == float(stat(q, p))
        assert float(stat(p, 3 * p)) < 1e-12  # scale-free: same proportions, distance 0
    assert float(ks_from_counts(p, q)) <= float(tvd_from_counts(p, q)) + 1e-12


frames = st.integers(1, 40).flatmap(
    lambda n: st.builds(
        lambda a, b: pd.DataFrame({"x": a, "y": b}).astype({"x": float, "y": object}),
        st.lists(st.one_of(st.none(), st.integers(-3, 3)), min_size=n, max_size=n),
        st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c"])), min_size=n, max_size=n),
    )
)


@settings(max_examples=60)
@given(frames, st.randoms(use_true_random=False))
def test_row_identity_is_invariant_to_row_order(df, rnd):
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    shuffled = df.iloc[perm].reset_index(drop=True)
    assert sorted(row_hashes(df).tolist()) == sorted(row_hashes(shuffled).tolist())
    assert rows_in(df, shuffled).all()


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: x == 0 or abs(x) > 1e-6), min_size=1, max_size=30)
)
def test_numeric_guess_tolerance_is_relative_to_the_true_value(values):
    truth = np.array(values)
    assert correct_guesses(truth * 1.04, truth, numeric=True).all()
    far = truth * 1.2 + np.where(truth == 0, 1.0, 0.0)
    assert not correct_guesses(far, truth, numeric=True).any()
    # anonymeter's defect: a negative guess must not count as correct for a positive truth
    assert not correct_guesses(-np.abs(truth) - 1, np.abs(truth) + 1, numeric=True).any()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=2, max_size=200),
    st.floats(0.0, 0.95),
)
def test_shadow_secret_cells_plant_observed_values_into_their_own_cell(values, atom_share):
    """Numeric secrets are randomised over quantile bins: every planted value is an observed value
    and falls into the cell it stands for, also for columns dominated by one value."""
    from synthguard.attacks.shadow import _SecretCells

    x = np.array(values, dtype=float)
    x[: int(atom_share * len(x))] = 0.0
    cells = _SecretCells.of(pd.Series(x), "numeric")
    if len(np.unique(x)) < 2:
        assert cells is None
        return
    assert cells is not None and 2 <= cells.k <= 5
    assert set(cells.plant) <= set(x.tolist())
    assert cells.codes(pd.Series(cells.plant)).tolist() == list(range(cells.k))
    shares = cells.shares(pd.Series(x))
    assert np.all(shares > 0) and shares.sum() == pytest.approx(1.0)
