"""Known answers for the key-based disclosure checks (CAP, DiSCO, repU, unique match, k-anonymity).

A copy of the training data must read as (near) maximal risk, far above the holdout reference,
whatever a policy later makes of it; an independent sample of the same population must read as no
excess (intervals covering 0).
"""

from __future__ import annotations

import pytest

from synthguard.attacks.cap import CAP, DiSCO
from synthguard.attacks.kanonymity import KAnonymity
from synthguard.attacks.record_linkage import RepU, UniqueMatch
from synthguard.audit.runner import run_audit
from synthguard.audit.tables import from_frames
from synthguard.generators.base import get_generator
from tests.helpers import population

CHECKS = [CAP, DiSCO, RepU, UniqueMatch, KAnonymity]
POP_ROLES = {"quasi_identifiers": ["age", "sex", "postcode"], "sensitive": ["diagnosis", "income"]}
ADULT_ROLES = {
    "quasi_identifiers": ["age", "sex", "race", "native_country", "marital_status"],
    "sensitive": ["income"],
}


def audit(train, holdout, synthetic, roles, seed=1):
    out = run_audit(from_frames(train, holdout, synthetic, **roles), seed=seed, checks=CHECKS)
    assert all(c.status == "ok" for c in out.checks), [(c.id, c.warnings) for c in out.checks]
    return out


@pytest.fixture(scope="module")
def copy_result(pop_tables):
    t = pop_tables
    return audit(t["train"], t["holdout"], t["train"].copy(), POP_ROLES)


@pytest.fixture(scope="module")
def fresh_result():
    return audit(population(3000, 11), population(3000, 12), population(3000, 13), POP_ROLES)


def test_copy_of_train_reads_as_maximal_cap(copy_result):
    for secret in ("diagnosis", "income"):
        r = copy_result.check(f"attribute.cap[secret={secret}]")
        d = r.details
        # where the key is unique in the release the copy gives the person's value away
        assert d["cap_where_synthetic_unique_train"] == 1.0
        assert d["match_rate_train"] == 1.0
        assert d["cap_train"] > 0.8 and d["cap_holdout"] < 0.1
        assert r.estimate.value > 0.8 and r.estimate.ci_low > 0.75
        assert d["excess_ci_low"] > 0.7
        # the matched-only average must not make the copy look safe either
        assert d["cap_matched_train"] > d["cap_matched_holdout"] + 0.5


def test_copy_of_train_reads_as_maximal_disco_repu_and_small_classes(copy_result):
    r = copy_result
    for secret in ("diagnosis", "income"):
        disco = r.check(f"attribute.disco[secret={secret}]")
        assert disco.estimate.value > 0.7 and disco.baseline.value < 0.1
        assert disco.details["excess_ci_low"] > 0.6
    repu = r.check("linkage.repu")
    assert repu.estimate.value == pytest.approx(repu.details["uio_train"])  # every unique is replicated
    assert repu.estimate.value > 0.6 and repu.details["excess_ci_low"] > 0.45
    um = r.check("linkage.unique_match")
    assert um.estimate.value == pytest.approx(repu.details["uio_train"])  # a unique's copy matches it alone
    assert um.details["excess_ci_low"] > 0.4
    k = r.check("singling_out.k_anonymity")
    assert k.estimate.value > 0.99 and k.details["excess_ci_low"] > 0.65
    assert k.details["k2_excess_ci_low"] > 0.4


def test_independent_population_sample_reads_as_no_excess(fresh_result):
    for c in fresh_result.checks:
        d = c.details
        assert d["excess_ci_low"] <= 0.0 <= d["excess_ci_high"], (c.id, d["excess_ci_low"], d["excess_ci_high"])
    for secret in ("diagnosis", "income"):
        assert fresh_result.check(f"attribute.cap[secret={secret}]").estimate.covers(0.0)


def test_null_release_covers_zero_excess_for_most_seeds():
    """A 95 % interval must cover the null most of the time, not by luck of one seed."""
    covered = total = 0
    for base in (101, 111, 121, 131):
        out = audit(
            population(1500, base), population(1500, base + 1), population(1500, base + 2), POP_ROLES, seed=base
        )
        for c in out.checks:
            total += 1
            covered += c.details["excess_ci_low"] <= 0.0 <= c.details["excess_ci_high"]
    assert covered / total >= 0.8


def test_adult_copy_reads_as_risk_and_independent_release_as_little(adult):
    """On the bundled Adult sample: a copy shows a clear excess on every check; a release of
    independent marginals shows at most a trace (its marginals are fitted on train, so rare
    categories seen only in train come back: a real but tiny train-specific signal)."""
    train, holdout = adult
    typed = from_frames(train, holdout, train, **ADULT_ROLES)
    leaky = audit(train, holdout, train.copy(), ADULT_ROLES, seed=0)
    for c in leaky.checks:
        assert c.details["excess_ci_low"] > 0.09, c.id
    assert leaky.check("attribute.cap[secret=income]").details["cap_where_synthetic_unique_train"] == 1.0
    safe = get_generator("independent", seed=0).fit(typed.train).sample(len(train))
    good = audit(train, holdout, safe, ADULT_ROLES, seed=0)
    for c in good.checks:
        assert c.details["excess_ci_high"] < 0.03, (c.id, c.details["excess_ci_high"])
    assert good.check("attribute.cap[secret=income]").estimate.ci_high < 0.10
