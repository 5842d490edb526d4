"""Known answers: a copy of train reads as maximal risk; an independent sample as no risk."""

import logging
import warnings

import numpy as np
import pandas as pd
import pytest
from anonymeter.evaluators import SinglingOutEvaluator

from synthguard.api import audit
from synthguard.attacks._anonymeter import anonymeter_view
from synthguard.audit.runner import run_audit, select_checks
from synthguard.audit.tables import from_frames
from synthguard.generators.base import get_generator
from tests.helpers import ROLES

RISK_FAMILIES = ("singling_out", "linkage", "attribute")


@pytest.fixture(scope="module")
def copy_result(pop_tables):
    t = pop_tables
    return audit(t["train"], t["holdout"], t["train"].copy(), seed=1, **ROLES)


@pytest.fixture(scope="module")
def fresh_result(pop_tables):
    t = pop_tables
    return audit(t["train"], t["holdout"], t["fresh"], seed=1, **ROLES)


def test_copy_of_train_reads_as_maximal_risk_and_fails(copy_result):
    r = copy_result
    exact = r.check("distance.exact_match")
    assert exact.estimate.value == 1.0 and exact.baseline.value == 0.0
    assert exact.details["share_full_train"] == 1.0
    inference = r.check("attribute.inference[secret=diagnosis]")
    assert inference.estimate.value > 0.8 and inference.estimate.ci_low > 0.7
    assert r.check("singling_out.univariate").estimate.ci_low > 0.5
    assert r.check("linkage.linkability").estimate.ci_low > 0.5
    assert r.policy["verdict"] == "fail" and r.policy["exit_code"] == 1


def test_independent_population_sample_reads_as_no_risk_and_passes(fresh_result):
    r = fresh_result
    # (the generator-in-the-loop checks are skipped: no generator is given here)
    risks = [c for c in r.checks if c.family in RISK_FAMILIES and c.status != "skipped"]
    risks = [c for c in risks if c.id != "attribute.inference_sweep"]  # a maximum over 6 columns
    assert len(risks) == 10
    covered = 0
    for c in risks:
        # the risk is the excess over the holdout: its interval must not show a positive excess,
        # and (each being a 95 % interval) it should cover 0 for nearly all of the ten checks
        if c.id.startswith(("attribute.disco", "linkage.repu", "linkage.unique_match", "singling_out.k_anonymity")):
            lo, hi = c.details["excess_ci_low"], c.details["excess_ci_high"]
        else:
            lo, hi = c.estimate.ci_low, c.estimate.ci_high
        assert lo <= 0.0, (c.id, lo, hi)
        covered += lo <= 0.0 <= hi
    assert covered >= 9
    exact = r.check("distance.exact_match")
    assert exact.details["excess_ci_low"] <= 0.0 <= exact.details["excess_ci_high"]
    for c in (c for c in r.by_family("membership") if c.status != "skipped"):
        assert c.estimate.covers(c.baseline.value), (c.id, c.estimate)
    assert r.check("distance.dcr_share").estimate.covers(0.5)
    # no privacy rule breaks; fidelity/utility rules may warn (the fresh sample is a different draw)
    assert r.policy["exit_code"] == 0 and r.policy["verdict"] in ("pass", "warn")
    assert not [b for b in r.policy["broken_rules"] if b["severity"] == "fail"]


def test_null_release_covers_zero_for_most_seeds(pop_tables):
    """A 95 % interval must cover the null most of the time, not by luck of one seed."""
    t = pop_tables
    data = from_frames(t["train"], t["holdout"], t["fresh"], **ROLES)
    checks = select_checks(
        [
            "singling_out.univariate",
            "singling_out.multivariate",
            "attribute.inference",
            "attribute.model",
            "linkage.linkability",
        ]
    )
    covered = total = 0
    for seed in range(4):
        for c in run_audit(data, seed=seed, checks=checks).checks:
            total += 1
            covered += c.estimate.covers(0.0)
    assert covered / total >= 0.8


def test_adult_copy_fails_and_independent_release_passes(adult):
    train, holdout = adult
    roles = {"quasi_identifiers": ["age", "sex", "race", "native_country", "marital_status"], "sensitive": ["income"]}
    typed = from_frames(train, holdout, train, **roles)
    leaky = audit(train, holdout, train.copy(), seed=0, n_attacks=1000, **roles)
    assert leaky.policy["verdict"] == "fail"
    assert leaky.check("distance.exact_match").estimate.value == 1.0
    assert leaky.check("singling_out.univariate").estimate.value > 0.5
    safe = get_generator("independent", seed=0).fit(typed.train).sample(len(train))
    good = audit(train, holdout, safe, seed=0, **roles)
    # privacy passes; independent marginals lose the relationships between columns, which the
    # fidelity and utility rules rightly warn about
    assert good.policy["verdict"] == "warn", good.policy["broken_rules"]
    assert {b["severity"] for b in good.policy["broken_rules"]} == {"warn"}
    assert all(b["check"].startswith(("fidelity.", "utility.")) for b in good.policy["broken_rules"])


def test_singling_out_is_compared_at_equal_sizes(adult):
    """anonymeter reads a risk for a release without members when train is larger than control.

    A null release (fresh Adult rows, no member) against train 6,000 and control 2,000 rows:
    anonymeter's own evaluator reads about 0.12 with an interval excluding 0; synthguard, which
    compares at equal sizes, covers 0.
    """
    full = pd.concat(adult, ignore_index=True)
    perm = np.random.default_rng(5).permutation(len(full))
    train, control, syn = (full.iloc[perm[:6000]], full.iloc[perm[6000:8000]], full.iloc[perm[8000:]])
    data = from_frames(train, control, syn)
    logging.getLogger("anonymeter").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = SinglingOutEvaluator(
            ori=anonymeter_view(data.train, data.schema),
            syn=anonymeter_view(data.synthetic, data.schema),
            control=anonymeter_view(data.holdout, data.schema),
            n_attacks=500,
            seed=0,
        ).evaluate(mode="univariate")
    assert ev.risk().ci[0] > 0.05  # the bias this check exists to avoid
    ours = run_audit(data, seed=0, checks=select_checks(["singling_out.univariate"])).checks[0]
    assert ours.estimate.covers(0.0)
    assert ours.details["rows_compared"] == {"train": 2000, "control": 2000}


def test_exact_match_counts_copies_not_near_neighbours(pop_tables):
    t = pop_tables
    syn = t["fresh"].copy()
    syn.iloc[:300] = t["train"].iloc[:300].to_numpy()  # 10 % copies
    near = t["train"].iloc[300:600].copy()
    near["income"] = near["income"] + 0.01  # near, but not copies
    syn.iloc[300:600] = near.to_numpy()
    data = from_frames(t["train"], t["holdout"], syn, **ROLES)
    r = run_audit(data, seed=0, checks=select_checks(["distance.exact_match"])).checks[0]
    assert r.details["matches_full_train"] == 300
    assert r.details["excess_ci_low"] > 0.08
