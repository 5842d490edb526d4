"""k-anonymity profile of the release against train and holdout: by hand, missing values, properties."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from synthguard.attacks.kanonymity import KAnonymity, small_class_shares
from synthguard.audit.runner import run_audit
from synthguard.audit.tables import from_frames


def frame(rows, columns=("q1", "q2", "s")) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


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


def run(train, holdout, synthetic, qi=("q1", "q2"), seed=0):
    data = from_frames(train, holdout, synthetic, quasi_identifiers=list(qi), sensitive=[])
    out = run_audit(data, seed=seed, checks=[KAnonymity])
    (r,) = out.checks
    assert r.status == "ok", r.warnings
    return r


def test_shares_by_hand_count_records_not_classes():
    # synthetic classes: (a,u) 3 records, (b,u), (b,v), (c,u), (e,u) 1 each
    # k=2: the four singletons; keys in train: (b,u), (b,v), (c,u) -> 3/7; in holdout: (b,u), (c,u), (e,u) -> 3/7
    # k=5 and 10: every record; in train all but (e,u) -> 6/7 (the class of 3 counts 3 times); holdout
    # all but (b,v) -> 6/7
    r = run(TRAIN, HOLDOUT, SYNTHETIC)
    d = r.details
    by_k = {row["k"]: row for row in d["by_k"]}
    assert by_k[2]["count_train"] == 3 and by_k[2]["count_holdout"] == 3
    assert by_k[2]["records_in_small_classes"] == 4 and by_k[2]["small_classes"] == 4
    assert by_k[5]["share_train"] == pytest.approx(6 / 7) and by_k[5]["share_holdout"] == pytest.approx(6 / 7)
    assert by_k[10]["share_records_in_small_classes"] == 1.0 and by_k[10]["small_classes"] == 5
    assert d["synthetic_classes"] == 5 and d["unit"] == "synthetic records"
    assert r.estimate.value == pytest.approx(6 / 7) and r.baseline.value == pytest.approx(6 / 7)
    assert d["k2_share_train"] == pytest.approx(3 / 7)
    assert d["excess"] == d["k5_excess"] == 0.0
    assert d["excess_ci_low"] < 0 < d["excess_ci_high"]
    assert "fewer than 5" in r.summary and "q1 and q2" in r.summary


def test_helper():
    syn = np.array([1, 1, 2, 3, 3, 3], dtype=np.uint64)
    small, in_t, in_h = small_class_shares(syn, np.array([1, 3], dtype=np.uint64), np.array([2], dtype=np.uint64), 3)
    assert small.tolist() == [True, True, True, False, False, False]
    assert in_t.tolist() == [True, True, False, False, False, False]
    assert in_h.tolist() == [False, False, True, False, False, False]


def test_missing_values_are_a_key_value():
    train = frame([("a", None, "X"), ("b", "u", "X")])
    holdout = frame([("a", "u", "X"), ("c", None, "X")])
    synthetic = frame([("a", None, "X"), ("a", "u", "X"), ("c", "v", "X"), ("b", "u", None)])
    r = run(train, holdout, synthetic)
    by_k = {row["k"]: row for row in r.details["by_k"]}
    assert by_k[2]["count_train"] == 2  # (a, missing) and (b, u)
    assert by_k[2]["count_holdout"] == 1  # (a, u); (c, missing) is not (c, v)


def test_column_names_with_spaces_and_norwegian_letters(pop_tables):
    names = {"age": "alder år", "sex": "kjønn", "postcode": "post nr"}
    t = {k: v.head(400).rename(columns=names) for k, v in pop_tables.items()}
    r = run(t["train"], t["holdout"], t["train"].copy(), qi=("alder år", "kjønn", "post nr"))
    assert "alder år, kjønn and post nr" in r.summary
    assert r.estimate.value > 0.95 and r.details["excess_ci_low"] > 0.5


def test_reproducible_and_seeded(pop_tables):
    t = pop_tables
    args = (t["train"], t["holdout"].head(800), t["fresh"])
    a = run(*args, qi=("age", "sex", "postcode"))
    b = run(*args, qi=("age", "sex", "postcode"))
    assert a.to_dict() == b.to_dict()
    assert a.details["records_compared"] == 800


row = st.tuples(st.sampled_from(["a", "b", "c", None]), st.sampled_from(["u", "v", "w"]), st.just("X"))
table = st.lists(row, min_size=1, max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table, table, table, st.integers(0, 2**16))
def test_properties_range_monotone_in_k_and_row_order(tr, ho, sy, perm_seed):
    train, holdout, synthetic = frame(tr), frame(ho), frame(sy)
    assume(all(bool(df.notna().any().all()) for df in (train, holdout, synthetic)))
    r = run(train, holdout, synthetic)
    for e in (r.estimate, r.baseline):
        assert 0.0 <= e.ci_low <= e.value <= e.ci_high <= 1.0
    rows = r.details["by_k"]
    for a, b in itertools.pairwise(rows):
        assert a["share_train"] <= b["share_train"] and a["share_holdout"] <= b["share_holdout"]
    for row_k in rows:
        assert row_k["share_train"] <= row_k["share_records_in_small_classes"]
        assert row_k["excess_ci_low"] <= row_k["excess"] + 1e-12 <= row_k["excess_ci_high"] + 2e-12
    rng = np.random.default_rng(perm_seed)
    assert run(train, holdout, synthetic.iloc[rng.permutation(len(synthetic))]).to_dict() == r.to_dict()
    if len(train) == len(holdout):
        again = run(train.iloc[rng.permutation(len(train))], holdout.iloc[rng.permutation(len(holdout))], synthetic)
        assert again.to_dict() == r.to_dict()
