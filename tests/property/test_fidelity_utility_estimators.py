"""Property tests (hypothesis) for the fidelity and utility estimators."""

import contextlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import wasserstein_distance
from sklearn.metrics import roc_auc_score

from synthguard.audit.schema import Constraint, parse_constraint
from synthguard.metrics._ml import weighted_auc, weighted_f1, weighted_r2
from synthguard.metrics.fidelity import constraint_masks, correlation_ratio, cramers_v, wasserstein_from_counts
from synthguard.metrics.utility import ci_overlap, real_rows_saved

FAST = settings(max_examples=60, deadline=None)

scores = st.lists(st.integers(0, 6), min_size=4, max_size=60)
labels = st.lists(st.booleans(), min_size=4, max_size=60)


@FAST
@given(st.data())
def test_weighted_auc_matches_sklearn_and_is_order_invariant(data):
    n = data.draw(st.integers(4, 60))
    s = np.array(data.draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=float)
    y = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    assume(0 < y.sum() < n)
    auc = float(weighted_auc(y, s)[0])
    assert 0.0 <= auc <= 1.0
    assert auc == pytest.approx(roc_auc_score(y, s))
    perm = np.random.default_rng(n).permutation(n)
    assert float(weighted_auc(y[perm], s[perm])[0]) == pytest.approx(auc)
    # integer weights = the sample with rows repeated
    w = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=float)
    rep = np.repeat(np.arange(n), w.astype(int))
    if 0 < y[rep].sum() < len(rep):
        assert float(weighted_auc(y, s, w)[0]) == pytest.approx(roc_auc_score(y[rep], s[rep]))


@FAST
@given(st.lists(st.floats(-5, 5), min_size=3, max_size=40))
def test_weighted_r2_perfect_prediction_is_one_and_mean_prediction_is_zero(ys):
    y = np.array(ys)
    assume(np.ptp(y) > 1e-3)
    assert float(weighted_r2(y, y)[0]) == pytest.approx(1.0)
    assert float(weighted_r2(y, np.full_like(y, y.mean()))[0]) == pytest.approx(0.0, abs=1e-9)


@FAST
@given(st.lists(st.integers(0, 2), min_size=3, max_size=40))
def test_weighted_f1_of_perfect_predictions_is_one(ys):
    y = np.array(ys)
    assert float(weighted_f1(y, y, list(np.unique(y)))[0]) == pytest.approx(1.0)


count_pairs = st.integers(2, 12).flatmap(
    lambda k: st.tuples(
        st.lists(st.integers(0, 50), min_size=k, max_size=k).filter(lambda v: sum(v) > 0),
        st.lists(st.integers(0, 50), min_size=k, max_size=k).filter(lambda v: sum(v) > 0),
    )
)


@FAST
@given(count_pairs)
def test_wasserstein_from_counts_matches_scipy_is_symmetric_and_zero_on_identity(pq):
    p, q = (np.array(x, dtype=float) for x in pq)
    support = np.arange(len(p), dtype=float) * 1.5
    w = float(wasserstein_from_counts(p, q, support))
    assert w == pytest.approx(wasserstein_distance(support, support, p, q), abs=1e-9)
    assert w == pytest.approx(float(wasserstein_from_counts(q, p, support)))
    assert float(wasserstein_from_counts(p, 3 * p, support)) == pytest.approx(0.0, abs=1e-12)


tables = st.tuples(st.integers(2, 5), st.integers(2, 5)).flatmap(
    lambda rc: st.lists(st.integers(0, 40), min_size=rc[0] * rc[1], max_size=rc[0] * rc[1]).map(
        lambda v, rc=rc: np.array(v, dtype=float).reshape(rc)
    )
)


@FAST
@given(tables)
def test_cramers_v_in_unit_interval_and_invariant_to_transpose_and_relabelling(t):
    v = cramers_v(t)
    assert 0.0 <= v <= 1.0
    assert cramers_v(t.T) == pytest.approx(v)
    assert cramers_v(t[::-1, ::-1]) == pytest.approx(v)


@FAST
@given(st.lists(st.integers(1, 30), min_size=2, max_size=5), st.lists(st.integers(1, 30), min_size=2, max_size=5))
def test_cramers_v_of_an_exactly_independent_table_is_zero(a, b):
    assert cramers_v(np.outer(a, b).astype(float)) == pytest.approx(0.0, abs=1e-9)


def test_cramers_v_of_a_determined_table_is_one():
    assert cramers_v(np.diag([50.0, 60.0, 70.0])) == pytest.approx(1.0, abs=0.02)


@FAST
@given(st.lists(st.tuples(st.floats(-10, 10), st.integers(0, 3)), min_size=3, max_size=50))
def test_correlation_ratio_in_unit_interval_and_invariant_to_group_labels(rows):
    v = np.array([r[0] for r in rows])
    g = np.array([r[1] for r in rows])
    eta = correlation_ratio(v, g)
    assert 0.0 <= eta <= 1.0
    assert correlation_ratio(v, (g + 7) * 3) == pytest.approx(eta)
    assert correlation_ratio(v, np.zeros_like(g)) == pytest.approx(0.0, abs=1e-9)


intervals = st.tuples(st.floats(-5, 5), st.floats(0.01, 5)).map(lambda t: (t[0], t[0] + t[1]))


@FAST
@given(intervals, intervals)
def test_ci_overlap_is_symmetric_at_most_one_and_one_for_identical_intervals(a, b):
    ab = float(ci_overlap(a[0], a[1], b[0], b[1]))
    assert ab == pytest.approx(float(ci_overlap(b[0], b[1], a[0], a[1])))
    assert ab <= 1.0 + 1e-12
    assert float(ci_overlap(a[0], a[1], a[0], a[1])) == pytest.approx(1.0)
    if a[1] < b[0] or b[1] < a[0]:
        assert ab < 0.0


@FAST
@given(st.lists(st.floats(0.5, 1.0), min_size=2, max_size=4), st.floats(0.4, 1.0))
def test_real_rows_saved_is_zero_unless_the_pretrained_model_beats_the_real_only_curve(curve, warm):
    budgets = [10 * 4**i for i in range(len(curve))]
    saved, lower = real_rows_saved(budgets, curve, warm, budgets[0])
    assert saved >= 0.0
    if warm <= curve[0]:
        assert saved == 0.0 and not lower
    more, _ = real_rows_saved(budgets, curve, min(1.0, warm + 0.05), budgets[0])
    assert more >= saved - 1e-9


names = st.sampled_from(["age", "sex", "`native country`", "bmi"])
ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
values = st.one_of(st.integers(-100, 100).map(str), st.sampled_from(['"F"', "'Never-married'", '"a \\"b\\""']))
conds = st.tuples(names, ops, values).map(" ".join)


@FAST
@given(st.lists(conds, min_size=0, max_size=3), st.lists(conds, min_size=1, max_size=2))
def test_generated_rules_parse(premise, conclusion):
    text = (" and ".join(premise) + " -> " if premise else "") + " and ".join(conclusion)
    rule = parse_constraint(text)
    assert isinstance(rule, Constraint)
    assert len(rule.premise) == len(premise) and len(rule.conclusion) == len(conclusion)


@FAST
@given(st.text(max_size=40))
def test_garbage_rules_raise_value_error_only(text):
    with contextlib.suppress(ValueError):
        parse_constraint(text)


@FAST
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 90)), st.sampled_from(["M", "F", None])), min_size=1))
def test_violations_are_a_subset_of_checked_rows(rows):
    df = pd.DataFrame({"age": [r[0] for r in rows], "sex": [r[1] for r in rows]})
    df["age"] = df["age"].astype(float)
    df["sex"] = df["sex"].astype(object)
    checked, violated = constraint_masks(df, parse_constraint('age < 15 -> sex == "F"'))
    assert not (violated & ~checked).any()
    assert not (checked & df["age"].isna().to_numpy()).any()
