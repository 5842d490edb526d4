"""dp-histogram: the ε-DP calibration generator (accounting, public domain, accuracy, guards)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthguard.errors import InputError
from synthguard.generators.base import get_generator
from synthguard.generators.histogram import DPHistogram
from tests.gen_helpers import assert_same_kinds, assert_whole_where_whole, mixed_table

COLS = ["x", "count", "grp", "cat", "rare", "when", "const"]

PUBLIC = {
    "x": (0.0, 100.0),
    "count": {"range": (0, 20), "bins": 20, "integer": True},
    "grp": ["A", "B", "C"],
    "cat": ["a", "b", "c"],
    "rare": ["common", "usual", "rare"],
    "when": ("2020-01-01", "2023-01-01"),
    "const": {"atoms": [1.0], "missing": False},
}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return mixed_table(1500, seed=1)[COLS]


def tv_distance(a: pd.DataFrame, b: pd.DataFrame, cols: list[str]) -> float:
    """Total variation distance between the joint distributions of categorical columns."""
    pa = a[cols].fillna("NA").value_counts(normalize=True)
    pb = b[cols].fillna("NA").value_counts(normalize=True)
    both = pa.index.union(pb.index)
    return float(0.5 * np.abs(pa.reindex(both, fill_value=0) - pb.reindex(both, fill_value=0)).sum())


def test_mixed_table_kinds_missing_and_whole_numbers(table):
    syn = get_generator("dp-histogram", seed=0, epsilon=50.0, bins=6).fit(table).sample(3000)
    assert len(syn) == 3000
    assert_same_kinds(syn, table)
    assert_whole_where_whole(syn, table)
    for c in ["x", "cat", "when"]:
        assert syn[c].isna().mean() == pytest.approx(table[c].isna().mean(), abs=0.03), c
    assert (syn["const"] == 1.0).all()
    # dates stay whole days
    assert (syn["when"].dropna().dt.normalize() == syn["when"].dropna()).all()


def test_same_seed_same_output_different_seed_different(table):
    a = DPHistogram(seed=5, epsilon=1.0, bins=5).fit(table).sample(400)
    b = DPHistogram(seed=5, epsilon=1.0, bins=5).fit(table).sample(400)
    c = DPHistogram(seed=6, epsilon=1.0, bins=5).fit(table).sample(400)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_large_epsilon_approximates_the_joint_small_epsilon_is_noisier(table):
    cols = ["grp", "cat", "rare"]
    tv = {}
    for eps in (1000.0, 0.05):
        dists = [
            tv_distance(DPHistogram(seed=s, epsilon=eps, bins=5).fit(table).sample(20000), table, cols)
            for s in range(3)
        ]
        tv[eps] = float(np.mean(dists))
    # at eps=1000 the only error is sampling (36 cells, 20k draws): a few percent at most
    assert tv[1000.0] < 0.03
    # at eps=0.05 each of the 36 cells gets Laplace noise of scale 20 against counts of ~40-600
    assert tv[0.05] > tv[1000.0] + 0.02
    # the dependency cat~grp survives at large eps
    syn = DPHistogram(seed=0, epsilon=1000.0, bins=5).fit(table).sample(5000)
    agree = (syn["cat"].str.upper() == syn["grp"]).mean()
    assert agree == pytest.approx((table["cat"].str.upper() == table["grp"]).mean(), abs=0.03)


def test_noise_scale_is_one_over_epsilon():
    # no records and a public domain: every noisy count is max(0, Laplace(1/eps))
    eps = 0.5
    cats = [f"c{i}" for i in range(40_000)]
    empty = pd.DataFrame({"c": pd.Series([], dtype=object)})
    g = DPHistogram(seed=0, epsilon=eps, domain={"c": {"categories": cats, "missing": False}}).fit(empty)
    noisy = g.noisy_counts
    assert noisy is not None and len(noisy) == 40_000
    assert (noisy == 0).mean() == pytest.approx(0.5, abs=0.01)
    assert noisy[noisy > 0].mean() == pytest.approx(1 / eps, rel=0.03)  # Exp(eps) above zero
    geo = DPHistogram(seed=0, epsilon=eps, noise="geometric", domain={"c": {"categories": cats, "missing": False}})
    counts = geo.fit(empty).noisy_counts
    assert counts is not None and np.all(np.mod(counts, 1) == 0)
    alpha = np.exp(-eps)  # two-sided geometric: P(0) = (1 - alpha) / (1 + alpha), plus all negative mass
    assert (counts == 0).mean() == pytest.approx((1 - alpha) / (1 + alpha) + alpha / (1 + alpha), abs=0.01)


def test_privacy_is_exact_only_with_a_public_domain(table):
    g = DPHistogram(seed=0, epsilon=1.0, bins=5).fit(table)
    p = g.privacy()
    assert p["epsilon"] == 1.0 and p["delta"] == 0.0 and not p["exact"]
    assert set(p["data_dependent_columns"]) == set(COLS)
    partial = DPHistogram(seed=0, epsilon=1.0, domain={"x": (0, 100)}).fit(table).privacy()
    assert not partial["exact"] and "x" not in partial["data_dependent_columns"]
    exact = DPHistogram(seed=0, epsilon=1.0, domain=PUBLIC).fit(table).privacy()
    assert exact["exact"] and exact["data_dependent_columns"] == []


def test_public_domain_does_not_depend_on_the_data(table):
    # the cells (hence the domain size) are the same for two different datasets
    a = DPHistogram(seed=0, domain=PUBLIC).fit(table)
    b = DPHistogram(seed=0, domain=PUBLIC).fit(mixed_table(300, seed=9)[COLS])
    # x: 10 bins + missing cell; count: 20 + 1; grp, cat, rare: 3 + 1; when: 10 + 1; const: one atom
    assert a.privacy()["cells"] == b.privacy()["cells"] == 11 * 21 * 4 * 4 * 4 * 11 * 1
    syn = a.sample(2000)
    assert syn["x"].dropna().between(0, 100).all()
    assert syn["count"].dropna().between(0, 20).all()
    assert np.all(np.mod(syn["count"].dropna(), 1) == 0)
    assert syn["when"].dropna().between(pd.Timestamp("2020-01-01"), pd.Timestamp("2023-01-01")).all()
    assert set(syn["grp"].dropna()) <= {"A", "B", "C"}
    # an empty training table is fine with a public domain: the release is pure noise
    empty = DPHistogram(seed=0, domain=PUBLIC).fit(table.iloc[:0]).sample(10)
    assert len(empty) == 10


def test_public_domain_errors(table):
    with pytest.raises(InputError, match="not among the categories"):
        DPHistogram(domain={"grp": ["A", "B"]}).fit(table)
    with pytest.raises(InputError, match="not in the table"):
        DPHistogram(domain={"nope": (0, 1)}).fit(table)
    with pytest.raises(InputError, match="high must be above low"):
        DPHistogram(domain={"x": (5, 5)}).fit(table)
    with pytest.raises(InputError, match="missing values but the domain has no missing cell"):
        DPHistogram(domain={"x": {"range": (0, 100), "missing": False}}).fit(table)
    with pytest.raises(InputError, match="without rows"):
        DPHistogram().fit(table.iloc[:0])


def test_domain_blow_up_is_a_clear_error():
    t = mixed_table(500, seed=2)
    with pytest.raises(InputError, match=r"cells .* more than max_cells=1000000: use fewer columns or fewer bins"):
        DPHistogram(bins=30).fit(t)
    DPHistogram(bins=30, max_cells=10**12).fit(t[["x", "grp"]])  # small enough


def test_bad_parameters():
    for kw in ({"epsilon": 0}, {"epsilon": -1.0}, {"epsilon": float("inf")}, {"bins": 0}, {"noise": "gauss"}):
        with pytest.raises(ValueError):
            DPHistogram(**kw)
    with pytest.raises(InputError, match="does not accept"):
        get_generator("dp-histogram", epochs=3)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=300),
    eps=st.floats(min_value=0.01, max_value=100.0),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_output_always_within_the_public_domain(n, eps, seed):
    t = mixed_table(200, seed=seed % 7)[COLS]
    syn = DPHistogram(seed=seed, epsilon=eps, domain=PUBLIC).fit(t).sample(n)
    assert len(syn) == n and list(syn.columns) == COLS
    assert syn["x"].dropna().between(0, 100).all()
    assert syn["count"].dropna().isin(np.arange(21)).all()
    assert set(syn["cat"].dropna()) <= {"a", "b", "c"}
    assert set(syn["rare"].dropna()) <= {"common", "usual", "rare"}
    assert (syn["const"] == 1.0).all()
