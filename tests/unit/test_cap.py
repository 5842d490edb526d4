"""CAP and DiSCO: hand-computed values on tiny tables, missing values, numeric secrets, properties."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from synthguard.attacks._qi_keys import bin_codes, quantile_edges
from synthguard.attacks.cap import CAP, DiSCO, cap_values, disco_flags
from synthguard.audit.runner import Settings, run_audit
from synthguard.audit.tables import from_frames
from tests.helpers import population


def frame(rows, columns=("q1", "q2", "s")) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


# train, holdout and synthetic tables whose CAP and DiSCO are worked out by hand below
TRAIN = frame([("a", "u", "X"), ("a", "u", "Y"), ("b", "u", "X"), ("b", "v", "X"), ("c", "u", "Y"), ("d", "v", "X")])
HOLDOUT = frame([("a", "u", "Y"), ("b", "u", "Y"), ("c", "u", "Y"), ("c", "v", "X"), ("e", "u", "X"), ("f", "v", "X")])
SYNTHETIC = frame(
    [
        ("a", "u", "X"),
        ("a", "u", "X"),
        ("a", "u", "Y"),
        ("b", "u", "X"),
        ("b", "v", "Y"),
        ("c", "u", "Y"),
        ("e", "u", "X"),
    ]
)


def run(train, holdout, synthetic, qi=("q1", "q2"), sensitive=("s",), seed=0, checks=(CAP, DiSCO), **kw):
    data = from_frames(train, holdout, synthetic, quasi_identifiers=list(qi), sensitive=list(sensitive))
    out = run_audit(data, seed=seed, checks=list(checks), **kw)
    for r in out.checks:
        assert r.status == "ok", (r.id, r.warnings)
    return out


def test_cap_by_hand():
    # synthetic keys: (a,u) x3 [X, X, Y], (b,u) [X], (b,v) [Y], (c,u) [Y], (e,u) [X]
    # train CAP: 2/3, 1/3, 1, 0 (wrong value), 1, 0 (no match)        -> mean 3/6, matched 3/5
    # holdout CAP: 1/3, 0, 1, 0 (no match), 1, 0 (no match)           -> mean 7/18, matched 7/12
    r = run(TRAIN, HOLDOUT, SYNTHETIC).check("attribute.cap[secret=s]")
    d = r.details
    assert d["cap_train"] == pytest.approx(0.5)
    assert d["cap_holdout"] == pytest.approx(7 / 18)
    assert d["cap_matched_train"] == pytest.approx(0.6)
    assert d["cap_matched_holdout"] == pytest.approx(7 / 12)
    assert (d["matched_train"], d["matched_holdout"]) == (5, 4)
    assert d["match_rate_train"] == pytest.approx(5 / 6)
    # a guess from the synthetic marginal (X 4/7, Y 3/7) for train secrets X, Y, X, X, Y, X
    assert d["cap_random_guess"] == pytest.approx(11 / 21)
    assert d["excess"] == pytest.approx(0.5 - 7 / 18)
    # the estimate is anonymeter's normalised form (0.5 - 7/18) / (1 - 7/18) = 2/11
    assert r.estimate.value == pytest.approx(2 / 11)
    assert r.baseline.value == pytest.approx(7 / 18)
    assert r.estimate.ci_low <= r.estimate.value <= r.estimate.ci_high
    assert d["records_compared"] == 6 and d["synthetic_rows"] == 7
    assert "normalised" in r.summary and "q1 and q2" in r.summary


def test_disco_by_hand():
    # disclosive synthetic keys: (b,u)->X, (b,v)->Y, (c,u)->Y, (e,u)->X; (a,u) has two values
    # train: (b,u,X) correct, (b,v,X) wrong, (c,u,Y) correct -> 2/6; holdout: (c,u,Y), (e,u,X) -> 2/6
    r = run(TRAIN, HOLDOUT, SYNTHETIC).check("attribute.disco[secret=s]")
    d = r.details
    assert r.estimate.value == pytest.approx(2 / 6)
    assert r.baseline.value == pytest.approx(2 / 6)
    assert (d["disco_train_count"], d["disco_holdout_count"]) == (2, 2)
    assert (d["disclosive_in_synthetic_train_count"], d["disclosive_in_synthetic_holdout_count"]) == (3, 3)
    assert d["excess"] == pytest.approx(0.0)
    assert d["excess_ci_low"] < 0 < d["excess_ci_high"]
    assert r.estimate.method.endswith("Wilson")


def test_per_record_helpers():
    n_key = np.array([3, 3, 1, 1, 0, 2])
    n_pair = np.array([2, 1, 1, 0, 0, 2])
    np.testing.assert_allclose(cap_values(n_key, n_pair), [2 / 3, 1 / 3, 1, 0, 0, 1])
    np.testing.assert_array_equal(disco_flags(n_key, n_pair), [False, False, True, False, False, True])


def test_missing_values_are_a_key_value_and_two_missing_secrets_match():
    train = frame([("a", None, "X"), ("b", "u", None), ("c", "u", "Y"), ("c", "v", "X")])
    holdout = frame([("a", "u", "X"), ("b", "v", None), ("c", None, "Y"), ("d", "u", "X")])
    # (a, missing) -> X matches train record 1; (b,u) -> missing matches train record 2's missing secret
    synthetic = frame([("a", None, "X"), ("b", "u", None), ("c", "u", "X"), ("d", "u", "Y")])
    out = run(train, holdout, synthetic)
    cap = out.check("attribute.cap[secret=s]").details
    # train: 1, 1, 0 (value differs), 0 (no match) ; holdout: 0 (no match), 0, 0, 0 (value differs)
    assert cap["cap_train"] == pytest.approx(0.5)
    assert cap["cap_holdout"] == pytest.approx(0.0)
    assert cap["matched_train"] == 3 and cap["matched_holdout"] == 1
    disco = out.check("attribute.disco[secret=s]")
    assert disco.details["disco_train_count"] == 2 and disco.details["disco_holdout_count"] == 0


def test_numeric_secret_with_negative_values_is_judged_by_quantile_band():
    rng = np.random.default_rng(0)
    n = 60

    def table(letters: str) -> pd.DataFrame:
        # 60 distinct keys (q1, q2), none unique in a single column
        q1 = [letters[i // 6] for i in range(n)]
        q2 = ["uvwxyz"[i % 6] for i in range(n)]
        return pd.DataFrame({"q1": q1, "q2": q2, "balance": np.round(rng.normal(-500, 100, n), 2)})

    train, holdout = table("abcdefghij"), table("klmnopqrst")
    exact = run(train, holdout, train.copy(), sensitive=["balance"]).check("attribute.cap[secret=balance]")
    assert exact.details["secret_kind"] == "binned numeric"
    assert 2 <= exact.details["secret_bands"] <= 10
    assert exact.details["cap_train"] == pytest.approx(1.0)
    assert exact.details["cap_holdout"] == 0.0
    assert exact.estimate.value == pytest.approx(1.0)
    # every released value is negative but half the range away from the true one: a tolerance
    # relative to the guess (anonymeter's) would call each guess correct; the band comparison does not
    moved = train.copy()
    ranks = np.argsort(np.argsort(train["balance"].to_numpy()))
    moved["balance"] = np.sort(train["balance"].to_numpy())[(ranks + n // 2) % n]
    assert (moved["balance"] < 0).all()
    wrong = run(train, holdout, moved, sensitive=["balance"]).check("attribute.cap[secret=balance]")
    assert wrong.details["cap_train"] == 0.0
    assert wrong.estimate.value == 0.0


def test_quantile_edges_keep_rare_k_rows_per_bin_and_handle_negatives_ties_and_missing():
    rng = np.random.default_rng(1)
    values = np.concatenate([np.zeros(500), rng.normal(-100, 50, 300), [np.nan] * 20, [1e6]])
    edges = quantile_edges(values, 10, 10)
    codes = bin_codes(values, edges)
    assert (codes[np.isnan(values)] == -1).all()
    counts = np.bincount(codes[codes >= 0])
    assert len(counts) == len(edges) + 1 <= 10
    assert counts.min() >= 10
    assert np.all(np.diff(edges) > 0)
    assert (bin_codes(np.array([0.0]), edges) != bin_codes(np.array([-100.0]), edges)).all()
    assert quantile_edges(np.array([np.nan, np.nan]), 10, 10).size == 0
    assert quantile_edges(np.arange(15.0), 10, 10).size <= 1


def test_column_names_with_spaces_and_norwegian_letters():
    names = {"age": "alder år", "sex": "kjønn", "postcode": "post nr", "diagnosis": "diagnose æøå"}
    t, h = population(400, 21).rename(columns=names), population(400, 22).rename(columns=names)
    out = run(t, h, t.copy(), qi=["alder år", "kjønn", "post nr"], sensitive=["diagnose æøå", "income"])
    cap = out.check("attribute.cap[secret=diagnose æøå]")
    assert "alder år, kjønn and post nr" in cap.summary
    assert cap.details["quasi_identifier_bins"]["alder år"] >= 2
    assert cap.estimate.value > 0.5
    assert out.check("attribute.disco[secret=income]").details["excess_ci_low"] > 0.3


def test_details_hold_aggregates_only_and_results_are_reproducible(pop_tables):
    t = pop_tables
    args = (t["train"].head(500), t["holdout"].head(500), t["train"].head(500))
    kw = {"qi": ("age", "sex", "postcode"), "sensitive": ("diagnosis",)}
    a, b = run(*args, **kw), run(*args, **kw)
    assert [c.to_dict() for c in a.checks] == [c.to_dict() for c in b.checks]
    text = json.dumps([c.to_dict() for c in a.checks])
    for code in ("J45", "E11", "I10", "F32", "M54"):
        assert code not in text


def test_unequal_sizes_are_compared_at_equal_sizes(pop_tables):
    t = pop_tables
    out = run(t["train"], t["holdout"].head(700), t["fresh"], qi=("age", "sex", "postcode"), sensitive=("diagnosis",))
    r = out.check("attribute.cap[secret=diagnosis]")
    assert r.details["records_compared"] == 700 == r.estimate.n


def test_shared_lookup_does_not_change_numbers(pop_tables):
    t = pop_tables
    args = (t["train"].head(800), t["holdout"].head(800), t["fresh"].head(800))
    kw = {"qi": ("age", "sex", "postcode"), "sensitive": ("diagnosis",)}
    alone = run(*args, checks=[CAP], **kw).checks
    together = run(*args, checks=[DiSCO, CAP], **kw).check("attribute.cap[secret=diagnosis]")
    assert alone[0].to_dict() == together.to_dict()


def test_bootstrap_size_follows_settings(pop_tables):
    t = pop_tables
    out = run(
        t["train"].head(300),
        t["holdout"].head(300),
        t["fresh"].head(300),
        qi=("age", "sex", "postcode"),
        sensitive=("diagnosis",),
        checks=[CAP],
        settings=Settings(n_bootstrap=50),
    )
    assert "50 resamples" in out.checks[0].estimate.method


# ---------------------------------------------------------------------------------------------
# properties

row = st.tuples(
    st.sampled_from(["a", "b", "c", None]),
    st.sampled_from(["u", "v"]),
    st.sampled_from(["X", "Y", "Z", None]),
)
table = st.lists(row, min_size=1, max_size=25)


def _usable(df: pd.DataFrame) -> bool:
    return bool(df.notna().any().all())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table, table, table, st.integers(0, 2**16))
def test_properties_range_interval_and_row_order(tr, ho, sy, perm_seed):
    train, holdout, synthetic = frame(tr), frame(ho), frame(sy)
    assume(all(_usable(df) for df in (train, holdout, synthetic)))
    out = run(train, holdout, synthetic)
    for r in out.checks:
        for e in (r.estimate, r.baseline):
            assert 0.0 <= e.ci_low <= e.value <= e.ci_high <= 1.0
        d = r.details
        assert d["excess_ci_low"] <= d["excess"] + 1e-12 and d["excess"] <= d["excess_ci_high"] + 1e-12
    cap = out.check("attribute.cap[secret=s]").details
    for key in ("cap_train", "cap_holdout", "match_rate_train", "cap_random_guess"):
        assert 0.0 <= cap[key] <= 1.0
    assert cap["cap_train"] <= cap["match_rate_train"] + 1e-12
    # the order of synthetic rows changes nothing; the order of real rows no point estimate
    rng = np.random.default_rng(perm_seed)
    shuffled = run(train, holdout, synthetic.iloc[rng.permutation(len(synthetic))])
    assert [c.to_dict() for c in shuffled.checks] == [c.to_dict() for c in out.checks]
    if len(train) == len(holdout):
        re = run(train.iloc[rng.permutation(len(train))], holdout.iloc[rng.permutation(len(holdout))], synthetic)
        for a, b in zip(out.checks, re.checks, strict=True):
            assert a.estimate.value == pytest.approx(b.estimate.value)
            assert a.baseline.value == pytest.approx(b.baseline.value)
