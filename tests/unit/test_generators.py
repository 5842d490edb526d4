"""Built-in generators."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthguard.audit.tables import from_frames
from synthguard.core.hashing import rows_in
from synthguard.errors import InputError
from synthguard.generators.base import Generator, get_generator, list_generators
from synthguard.generators.bayesnet import mi_sensitivity, mutual_information
from synthguard.generators.copula import nearest_correlation, polychoric
from tests.gen_helpers import assert_same_kinds, assert_whole_where_whole, mixed_table


@pytest.fixture(scope="module")
def typed_adult(adult):
    train, holdout = adult
    return from_frames(train, holdout, train).train


@pytest.mark.parametrize(
    "name", ["independent", "noisy-copy", "bootstrap", "gaussian-copula", "cart", "bayesian-network"]
)
def test_same_seed_same_output_and_columns_preserved(name, typed_adult):
    a = get_generator(name, seed=3).fit(typed_adult).sample(500)
    b = get_generator(name, seed=3).fit(typed_adult).sample(500)
    c = get_generator(name, seed=4).fit(typed_adult).sample(500)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert list(a.columns) == list(typed_adult.columns)
    assert isinstance(get_generator(name), Generator)
    for col in typed_adult.columns:
        assert pd.api.types.is_numeric_dtype(a[col]) == pd.api.types.is_numeric_dtype(typed_adult[col])


def test_independent_does_not_replay_near_unique_values(typed_adult):
    syn = get_generator("independent", seed=0).fit(typed_adult).sample(len(typed_adult))
    train_fnl = typed_adult["fnlwgt"]
    counts = train_fnl.value_counts()
    unique_values = set(counts[counts == 1].index)
    replayed = syn["fnlwgt"].isin(unique_values).mean()
    assert replayed < 0.05  # drawing from the empirical marginal replays 0.85 here (measured)
    # atoms shared by many records (capital_gain == 0) are kept
    assert abs((syn["capital_gain"] == 0).mean() - (typed_adult["capital_gain"] == 0).mean()) < 0.03
    # missing values and whole numbers survive
    assert syn["workclass"].isna().mean() == pytest.approx(typed_adult["workclass"].isna().mean(), abs=0.02)
    assert np.all(np.mod(syn["age"].dropna(), 1) == 0)
    # no row of train comes back
    assert rows_in(syn, typed_adult).mean() < 0.001


def test_noisy_copy_is_leaky_by_design(typed_adult):
    syn = get_generator("noisy-copy", seed=0, fraction=0.1).fit(typed_adult).sample(len(typed_adult))
    assert rows_in(syn, typed_adult).mean() > 0.15


def test_unknown_generator_and_parameters_are_input_errors():
    assert set(list_generators()) >= {"independent", "noisy-copy"}
    with pytest.raises(InputError, match="unknown generator 'gan'"):
        get_generator("gan")
    with pytest.raises(InputError, match="does not accept parameters"):
        get_generator("independent", epochs=3)


def test_sample_before_fit_raises():
    with pytest.raises(RuntimeError):
        get_generator("independent").sample(3)


# ------------------------------------------------------------------------------------------------
# every built-in on a mixed table with missing values (tests.gen_helpers.mixed_table)

ALL = sorted(list_generators())
# the full discretised domain of the mixed table is too large for dp-histogram at 10 bins; at
# epsilon=1000 its noise is negligible, which the accuracy checks below need (its privacy
# behaviour is tested in test_dp_histogram.py)
PARAMS = {"dp-histogram": {"bins": 4, "epsilon": 1000.0}}


@pytest.fixture(scope="module")
def mixed():
    return mixed_table(1000, seed=0)


@pytest.fixture(scope="module")
def fitted(mixed):
    return {name: get_generator(name, seed=1, **PARAMS.get(name, {})).fit(mixed) for name in ALL}


def test_every_builtin_is_registered_and_documented():
    assert set(ALL) == {
        "independent",
        "noisy-copy",
        "bootstrap",
        "gaussian-copula",
        "cart",
        "bayesian-network",
        "dp-histogram",
    }
    for name, text in list_generators().items():
        assert text and "\n" not in text, name


@pytest.mark.parametrize("name", ALL)
def test_mixed_table_kinds_whole_numbers_and_missing_rates(name, mixed, fitted):
    syn = fitted[name].sample(2000)
    assert len(syn) == 2000
    assert_same_kinds(syn, mixed)
    assert_whole_where_whole(syn, mixed)
    for c in ["x", "cat", "when"]:
        assert syn[c].isna().mean() == pytest.approx(mixed[c].isna().mean(), abs=0.04), c
    for c in ["y", "count", "grp", "rare", "const", "weight"]:
        assert syn[c].notna().all(), c
    assert (syn["const"] == 1.0).all()
    for c in ["grp", "cat", "rare"]:
        assert set(syn[c].dropna()) <= set(mixed[c].dropna()), c
    assert (syn["when"].dropna() == syn["when"].dropna().dt.normalize()).all()  # whole days stay whole
    # marginals are roughly kept
    assert syn["x"].mean() == pytest.approx(mixed["x"].mean(), abs=2.0)
    assert syn["grp"].value_counts(normalize=True)["A"] == pytest.approx(0.5, abs=0.06)


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_output_different_seed_different(name, mixed):
    kw = PARAMS.get(name, {})
    a = get_generator(name, seed=5, **kw).fit(mixed).sample(300)
    b = get_generator(name, seed=5, **kw).fit(mixed).sample(300)
    c = get_generator(name, seed=6, **kw).fit(mixed).sample(300)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


@pytest.mark.parametrize("name", ALL)
def test_sample_zero_and_sample_before_fit(name, fitted, mixed):
    empty = fitted[name].sample(0)
    assert empty.shape == (0, mixed.shape[1]) and list(empty.columns) == list(mixed.columns)
    with pytest.raises(RuntimeError, match="fit"):
        get_generator(name, **PARAMS.get(name, {})).sample(3)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=0, max_value=400), name=st.sampled_from(ALL))
def test_sample_n_has_n_rows_property(fitted, mixed, n, name):
    syn = fitted[name].sample(n)
    assert len(syn) == n and list(syn.columns) == list(mixed.columns)


def _corr(df):
    ok = df["x"].notna()
    return float(np.corrcoef(df.loc[ok, "x"], df.loc[ok, "y"])[0, 1])


def _agreement(df):
    ok = df["cat"].notna()
    return float((df.loc[ok, "cat"].str.upper() == df.loc[ok, "grp"]).mean())


def test_realistic_generators_keep_a_strong_correlation_that_independent_destroys(mixed, fitted):
    real = _corr(mixed)
    assert real > 0.95
    assert abs(_corr(fitted["independent"].sample(3000))) < 0.1
    for name in ("gaussian-copula", "cart"):
        assert _corr(fitted[name].sample(3000)) > 0.85, name
    # the Bayesian network sees 10 bins per column: coarser, but clearly there
    assert _corr(fitted["bayesian-network"].sample(3000)) > 0.7


def test_categorical_dependency_kept_by_network_and_cart_mostly_by_copula_not_by_independent(mixed, fitted):
    real = _agreement(mixed)  # about 0.93: cat follows grp in 90 % of rows
    assert real > 0.9
    assert _agreement(fitted["independent"].sample(3000)) < 0.45
    for name in ("bayesian-network", "cart"):
        assert _agreement(fitted[name].sample(3000)) == pytest.approx(real, abs=0.06), name
    # one latent normal per column cannot copy a near one-to-one map between categories exactly;
    # the polychoric estimate keeps most of it (a Pearson correlation of scores read 0.49 here)
    assert _agreement(fitted["gaussian-copula"].sample(3000)) > 0.7


# ------------------------------------------------------------------------------------------------ cart


def test_cart_does_not_replay_isolated_values(typed_adult):
    counts = typed_adult["fnlwgt"].value_counts()
    once = set(counts[counts == 1].index)  # about 85 % of the 5,000 weights are seen once
    assert len(once) > 0.7 * len(typed_adult)
    smooth = get_generator("cart", seed=0).fit(typed_adult).sample(len(typed_adult))
    raw = get_generator("cart", seed=0, smoothing=False).fit(typed_adult).sample(len(typed_adult))
    # without smoothing every donor's value comes back: most draws are singletons of train
    assert raw["fnlwgt"].isin(once).mean() > 0.6
    # with smoothing (bandwidth ~20,000 around values of ~10^5..10^6) a draw lands on one of the
    # ~4,300 singleton weights only by coincidence of rounding: measured 0.5 %; 2 % leaves room
    assert smooth["fnlwgt"].isin(once).mean() < 0.02
    # atoms shared by many records stay exact, and no value turns negative
    assert (smooth["capital_gain"] == 0).mean() == pytest.approx((typed_adult["capital_gain"] == 0).mean(), abs=0.02)
    assert (smooth["capital_gain"] >= 0).all() and (smooth["fnlwgt"] > 0).all()
    assert rows_in(smooth, typed_adult).mean() < 0.01


def test_cart_visit_sequence_and_parameters(mixed):
    order = list(reversed(mixed.columns))
    syn = get_generator("cart", seed=0, visit_sequence=order).fit(mixed).sample(50)
    assert list(syn.columns) == list(mixed.columns)
    with pytest.raises(InputError, match="visit_sequence must name every column"):
        get_generator("cart", visit_sequence=["x"]).fit(mixed)
    with pytest.raises(InputError, match="bad parameter: min_samples_leaf"):
        get_generator("cart", min_samples_leaf=0)
    with pytest.raises(InputError, match="bad parameter: smoothing"):
        get_generator("cart", smoothing="lots")


def test_cart_leaves_have_at_least_min_samples_leaf_donors(mixed):
    g = get_generator("cart", seed=0, min_samples_leaf=25).fit(mixed)
    for node in g._nodes[1:]:
        if node.tree is not None:
            assert node.counts.min() >= 25


# ------------------------------------------------------------------------------------------------ copula


def test_nearest_correlation_is_positive_definite():
    bad = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    assert np.linalg.eigvalsh(bad).min() < 0
    fixed = nearest_correlation(bad, shrinkage=0.0)
    assert np.linalg.eigvalsh(fixed).min() > 0
    assert np.allclose(np.diag(fixed), 1.0) and np.allclose(fixed, fixed.T)


def test_copula_missingness_can_depend_on_other_columns():
    rng = np.random.default_rng(0)
    n = 3000
    a = rng.normal(size=n)
    b = rng.normal(size=n)
    b[a > 1.0] = np.nan  # b is missing exactly when a is large
    df = pd.DataFrame({"a": a, "b": b})
    syn = get_generator("gaussian-copula", seed=0).fit(df).sample(n)
    miss = syn["b"].isna()
    assert miss.mean() == pytest.approx(df["b"].isna().mean(), abs=0.03)
    assert syn.loc[miss, "a"].mean() > syn.loc[~miss, "a"].mean() + 1.0


# ------------------------------------------------------------------------------------------------ bayesian network


def test_network_links_dependent_columns(mixed):
    g = get_generator("bayesian-network", seed=0, degree=1).fit(mixed)
    parents = dict(g.network)
    assert parents["cat"] == ("grp",) or parents["grp"] == ("cat",)
    assert parents["y"] == ("x",) or parents["x"] == ("y",)
    assert g.privacy()["epsilon"] is None


def test_network_with_epsilon(mixed):
    cols = ["grp", "cat", "rare", "count"]
    loose = get_generator("bayesian-network", seed=0, epsilon=50.0).fit(mixed[cols])
    tight = get_generator("bayesian-network", seed=0, epsilon=0.01).fit(mixed[cols])
    p = loose.privacy()
    assert p["epsilon"] == 50.0 and p["epsilon_structure"] == pytest.approx(15.0) and not p["exact"]
    assert "replace one" in p["neighbouring"]
    # at large epsilon the dependency survives, at tiny epsilon the tables are mostly noise
    assert _agreement(loose.sample(4000)) > 0.85
    assert _agreement(tight.sample(4000)) < 0.75
    public = {
        "grp": ["A", "B", "C"],
        "cat": ["a", "b", "c"],
        "rare": ["common", "usual", "rare"],
        "count": {"range": (0, 15), "bins": 15, "integer": True, "missing": False},
    }
    exact = get_generator("bayesian-network", seed=0, epsilon=1.0, domain=public).fit(mixed[cols])
    assert exact.privacy()["exact"]
    assert set(exact.sample(500)["cat"].dropna()) <= {"a", "b", "c"}


def test_mi_sensitivity_and_mutual_information():
    # PrivBayes Lemma 4.1: the sensitivity shrinks like log(n)/n
    assert mi_sensitivity(1000, True) < mi_sensitivity(100, True)
    assert mi_sensitivity(1000, False) > mi_sensitivity(1000, True)
    assert mi_sensitivity(2, True) == pytest.approx(1.0)
    x = np.array([0, 0, 1, 1] * 50)
    assert mutual_information(x, 2, x, 2) == pytest.approx(1.0)  # one bit
    assert mutual_information(x, 2, np.array([0, 1] * 100), 2) == pytest.approx(0.0)


def test_network_refuses_huge_tables(mixed):
    with pytest.raises(InputError, match="max_cells"):
        get_generator("bayesian-network", degree=3, max_cells=50).fit(mixed)


def test_polychoric_recovers_the_latent_correlation():
    rng = np.random.default_rng(0)
    for rho in (-0.5, 0.3, 0.9):
        z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=20_000)
        ti = np.array([-np.inf, -0.5, 0.7, np.inf])
        tj = np.array([-np.inf, -1.0, 0.0, 0.4, np.inf])
        a = np.digitize(z[:, 0], ti[1:-1])
        b = np.digitize(z[:, 1], tj[1:-1])
        table = np.bincount(a * 4 + b, minlength=12).reshape(3, 4).astype(float)
        assert polychoric(table, ti, tj) == pytest.approx(rho, abs=0.03)
