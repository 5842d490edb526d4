"""Record linkage on quasi-identifiers: UiO, repU and unique matches by hand, missing values, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from synthguard.attacks.record_linkage import RepU, UniqueMatch, replicated_uniques
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


def run(train, holdout, synthetic, qi=("q1", "q2"), seed=0, checks=(RepU, UniqueMatch)):
    data = from_frames(train, holdout, synthetic, quasi_identifiers=list(qi), sensitive=[])
    out = run_audit(data, seed=seed, checks=list(checks))
    for r in out.checks:
        assert r.status == "ok", (r.id, r.warnings)
    return out


def test_uio_and_repu_by_hand():
    # train keys: (a,u) x2, (b,u), (b,v), (c,u), (d,v) -> 4 of 6 unique; synthetic counts
    # (a,u) 3, (b,u) 1, (b,v) 1, (c,u) 1, (e,u) 1 -> (b,u), (b,v), (c,u) replicated: 3 of 6
    # holdout keys all unique (6 of 6); replicated: (b,u), (c,u), (e,u): 3 of 6
    r = run(TRAIN, HOLDOUT, SYNTHETIC).check("linkage.repu")
    d = r.details
    assert d["uio_train"] == pytest.approx(4 / 6) and d["uio_train_count"] == 4
    assert d["uio_holdout"] == pytest.approx(1.0)
    assert r.estimate.value == pytest.approx(0.5) and d["repu_train_count"] == 3
    assert r.baseline.value == pytest.approx(0.5) and d["repu_holdout_count"] == 3
    assert d["replicated_share_of_uniques_train"] == pytest.approx(0.75)
    assert d["synthetic_unique_keys"] == 4
    assert d["excess"] == 0.0 and d["excess_ci_low"] < 0 < d["excess_ci_high"]
    assert "q1 and q2" in r.summary


def test_unique_match_by_hand():
    # synthetic rows matching exactly one train record: (b,u), (b,v), (c,u) -> 3 of 7;
    # exactly one holdout record: (a,u) x3, (b,u), (c,u), (e,u) -> 6 of 7
    r = run(TRAIN, HOLDOUT, SYNTHETIC).check("linkage.unique_match")
    d = r.details
    assert r.estimate.value == pytest.approx(3 / 7)
    assert r.baseline.value == pytest.approx(6 / 7)
    assert d["match_one_both_count"] == 2
    assert d["excess"] == pytest.approx(3 / 7 - 6 / 7)
    assert d["excess_ci_low"] <= d["excess"] <= d["excess_ci_high"]
    assert d["match_any_train_count"] == 6 and d["match_any_holdout_count"] == 6
    assert d["distinct_training_records_matched"] == 3


def test_replicated_uniques_helper():
    real = np.array([1, 1, 2, 3, 4], dtype=np.uint64)
    syn = np.array([2, 3, 3, 5], dtype=np.uint64)
    unique, replicated = replicated_uniques(real, syn)
    assert unique.tolist() == [False, False, True, True, True]
    assert replicated.tolist() == [False, False, True, False, False]


def test_missing_values_are_a_key_value_and_numbers_are_exact():
    cols = ("q1", "n", "s")
    train = frame([("a", 1.0, "X"), ("a", None, "X"), ("b", 2.5, "Y"), ("b", 2.5, "Y")], cols)
    holdout = frame([("a", 1.5, "X"), ("a", None, "Y"), ("c", 2.5, "Y"), ("d", 3.0, "Y")], cols)
    synthetic = frame([("a", None, "X"), ("a", 1.0, "X"), ("a", 1.0000001, "X"), ("b", 2.5, "Y")], cols)
    out = run(train, holdout, synthetic, qi=("q1", "n"))
    d = out.check("linkage.repu").details
    # train uniques: (a,1), (a,missing); both also unique in synthetic -> 2 of 4
    assert d["uio_train_count"] == 2 and d["repu_train_count"] == 2
    # holdout uniques: all four; unique in synthetic: (a,missing) only (1.5 != 1.0) -> 1 of 4
    assert d["uio_holdout_count"] == 4 and d["repu_holdout_count"] == 1
    um = out.check("linkage.unique_match").details
    # synthetic (a,missing) and (a,1.0) match one train record each; (b,2.5) matches two
    assert um["match_one_train_count"] == 2 and um["match_one_holdout_count"] == 1


def test_unequal_sizes_use_a_seeded_equal_sample(pop_tables):
    t = pop_tables
    args = (t["train"], t["holdout"].head(900), t["fresh"])
    a = run(*args, qi=("age", "sex", "postcode"))
    b = run(*args, qi=("age", "sex", "postcode"))
    c = run(*args, qi=("age", "sex", "postcode"), seed=5)
    assert a.check("linkage.repu").details["records_compared"] == 900
    assert a.check("linkage.repu").to_dict() == b.check("linkage.repu").to_dict()
    assert a.check("linkage.repu").to_dict() != c.check("linkage.repu").to_dict()


def test_column_names_with_spaces_and_norwegian_letters(pop_tables):
    names = {"age": "alder år", "sex": "kjønn", "postcode": "post nr"}
    t = {k: v.head(400).rename(columns=names) for k, v in pop_tables.items()}
    out = run(t["train"], t["holdout"], t["train"].copy(), qi=("alder år", "kjønn", "post nr"))
    r = out.check("linkage.repu")
    assert "alder år, kjønn and post nr" in r.summary
    assert r.estimate.value == pytest.approx(r.details["uio_train"])  # a copy replicates every unique
    assert r.details["excess_ci_low"] > 0.3


# ---------------------------------------------------------------------------------------------
# properties

row = st.tuples(st.sampled_from(["a", "b", "c", None]), st.sampled_from(["u", "v", "w"]), st.just("X"))
table = st.lists(row, min_size=1, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table, table, table, st.integers(0, 2**16))
def test_properties_range_interval_and_row_order(tr, ho, sy, perm_seed):
    train, holdout, synthetic = frame(tr), frame(ho), frame(sy)
    assume(all(bool(df.notna().any().all()) for df in (train, holdout, synthetic)))
    out = run(train, holdout, synthetic)
    for r in out.checks:
        for e in (r.estimate, r.baseline):
            assert 0.0 <= e.ci_low <= e.value <= e.ci_high <= 1.0
        d = r.details
        assert -1.0 <= d["excess_ci_low"] <= d["excess"] + 1e-12 <= d["excess_ci_high"] + 2e-12 <= 1.0 + 2e-12
    d = out.check("linkage.repu").details
    assert out.check("linkage.repu").estimate.value <= d["uio_train"] + 1e-12
    rng = np.random.default_rng(perm_seed)
    shuffled = run(train, holdout, synthetic.iloc[rng.permutation(len(synthetic))])
    assert [c.to_dict() for c in shuffled.checks] == [c.to_dict() for c in out.checks]
    if len(train) == len(holdout):
        re = run(train.iloc[rng.permutation(len(train))], holdout.iloc[rng.permutation(len(holdout))], synthetic)
        assert [c.to_dict() for c in re.checks] == [c.to_dict() for c in out.checks]
