"""Fidelity and utility checks on awkward but legitimate data: they must run, say what they did, never crash."""

import numpy as np
import pandas as pd
import pytest

from synthguard.audit.runner import run_audit, select_checks
from synthguard.audit.tables import from_frames
from tests.helpers import population

ALL = ["fidelity.*", "utility.*"]


def _ok(result, prefix: str):
    (c,) = [c for c in result.checks if c.id == prefix or c.id.startswith(prefix + "[")]
    assert c.status == "ok", (c.id, c.warnings)
    e = c.estimate
    assert 0.0 <= e.ci_low <= e.value <= e.ci_high <= 1.0, (c.id, e)
    return c


def _awkward(n: int, seed: int, *, with_mid: bool) -> pd.DataFrame:
    """A 3-class target with one class seen 4 times, a constant column, a half-missing category."""
    df = population(n, seed)
    rng = np.random.default_rng(seed)
    grade = np.where(df["age"] < 45, "young", "old").astype(object)
    if with_mid:
        grade[: max(15, n // 20)] = "mid"  # seen in train, never in the synthetic table
    grade[-4:] = "tiny"  # fewer than rare_k rows: shown as "(rare)"
    df["grade"] = grade
    df["site"] = "A"  # constant column
    smoker = rng.choice(["yes", "no"], size=n).astype(object)
    smoker[rng.random(n) < 0.5] = np.nan
    df["smoker"] = smoker
    return df


@pytest.fixture(scope="module")
def awkward_result():
    train, holdout = _awkward(400, 1, with_mid=True), _awkward(400, 2, with_mid=True)
    syn = _awkward(400, 3, with_mid=False)
    data = from_frames(train, holdout, syn, quasi_identifiers=["age", "sex"], sensitive=["smoker"], target="grade")
    return run_audit(data, seed=0, checks=select_checks(ALL))


@pytest.mark.parametrize(
    "prefix",
    [
        "fidelity.univariate",
        "fidelity.pairs",
        "fidelity.kway",
        "fidelity.distinguishability",
        "fidelity.validity",
        "utility.tstr",
        "utility.importance",
        "utility.subgroups",
        "utility.analysis",
        "utility.transfer",
    ],
)
def test_rare_class_constant_column_and_missing_values_run(awkward_result, prefix):
    _ok(awkward_result, prefix)


def test_class_absent_from_synthetic_is_reported_and_rare_class_suppressed(awkward_result):
    tstr = _ok(awkward_result, "utility.tstr")
    assert tstr.details["task"] == "multiclass"
    text = " ".join(tstr.warnings)
    assert "'mid' never occurs in the synthetic data" in text
    assert "(rare)" in text
    assert "tiny" not in str(tstr.to_dict())  # a class seen 4 times never reaches the outputs


def test_constant_and_missing_columns_are_described(awkward_result):
    uni = _ok(awkward_result, "fidelity.univariate")
    rows = {r["column"]: r for r in uni.details["columns"]}
    assert rows["site"]["value"] == 1.0
    assert 0.4 < rows["smoker"]["missing_train"] < 0.6
    pairs = _ok(awkward_result, "fidelity.pairs")
    site_pairs = [p for p in pairs.details["pairs"] if "site" in p["columns"]]
    assert site_pairs and not any(p["scored"] for p in site_pairs)  # no association to keep


def test_regression_target():
    tr, ho, sy = population(500, 1), population(500, 2), population(500, 3)
    data = from_frames(tr, ho, sy, quasi_identifiers=["age", "sex"], sensitive=["diagnosis"], target="income")
    checks = [c for c in select_checks(["utility.*"]) if c.id != "utility.importance"]
    r = run_audit(data, seed=0, checks=checks)
    tstr = _ok(r, "utility.tstr")
    assert tstr.details["task"] == "regression" and tstr.details["primary_metric"] == "r2"
    assert set(tstr.details["models"]["boosting"]["synthetic"]) == {"r2", "mae"}
    assert _ok(r, "utility.analysis").details["response"].startswith("income (linear regression")
    _ok(r, "utility.transfer")
    _ok(r, "utility.subgroups")


def test_synthetic_target_with_one_value_and_missing_target_rows():
    tr, ho, sy = population(400, 1), population(400, 2), population(400, 3)
    for df in (tr, ho, sy):
        df["sick"] = np.where(df["age"] > 60, "yes", "no")
    sy["sick"] = "no"
    tr.loc[:9, "sick"] = np.nan
    data = from_frames(tr, ho, sy, quasi_identifiers=["age", "sex"], sensitive=["diagnosis"], target="sick")
    r = run_audit(data, seed=0, checks=select_checks(["utility.tstr", "utility.analysis", "utility.transfer"]))
    tstr = _ok(r, "utility.tstr")
    assert tstr.estimate.value == pytest.approx(0.5)  # a constant model ranks no one above anyone
    assert tstr.details["models"]["boosting"]["synthetic_model_constant"]
    assert any("single value" in w for w in tstr.warnings)
    assert any("10 train rows with a missing target" in w for w in tstr.warnings)
    assert any("cannot be fitted" in w for w in _ok(r, "utility.analysis").warnings)
    _ok(r, "utility.transfer")


def test_without_target_utility_is_skipped_with_the_reason(pop_tables):
    t = pop_tables
    data = from_frames(t["train"].head(200), t["holdout"].head(200), t["fresh"].head(200))
    r = run_audit(data, seed=0, checks=select_checks(["utility.*"]))
    assert r.checks and all(c.status == "skipped" for c in r.checks)
    assert all("needs a target column (--target)" in c.warnings[0] for c in r.checks)
