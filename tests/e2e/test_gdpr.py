"""The GDPR-criteria attacks on awkward data: negative and missing secrets, spaces and æ/ø/å in names."""

import numpy as np
import pytest

from synthguard.api import audit
from synthguard.audit.runner import Settings, run_audit, select_checks
from synthguard.audit.tables import from_frames
from tests.helpers import population

GDPR = ["singling_out.*", "linkage.*", "attribute.*"]


def _pop(n, seed):
    df = population(n, seed)
    df["balance"] = np.round(df["income"] - 30000.0, 2)  # about half negative
    return df


@pytest.fixture(scope="module")
def tables():
    return {"train": _pop(2500, 21), "holdout": _pop(2500, 22), "fresh": _pop(2500, 23)}


@pytest.mark.parametrize("secret", ["balance", "bmi"])  # negative values; 5 % missing values
def test_numeric_secret_copy_reads_high_and_fresh_sample_covers_zero(tables, secret):
    roles = {"quasi_identifiers": ["age", "sex", "postcode", "diagnosis"], "sensitive": [secret]}
    settings = Settings(n_attacks=1500)
    copy = run_audit(
        from_frames(tables["train"], tables["holdout"], tables["train"].copy(), **roles),
        seed=0,
        checks=select_checks(["attribute.inference", "attribute.model"]),
        settings=settings,
    )
    fresh = run_audit(
        from_frames(tables["train"], tables["holdout"], tables["fresh"], **roles),
        seed=0,
        checks=select_checks(["attribute.inference", "attribute.model"]),
        settings=settings,
    )
    nn = copy.check(f"attribute.inference[secret={secret}]")
    assert nn.estimate.ci_low > 0.6, nn.estimate
    assert nn.details["secret_kind"] == "numeric"
    assert fresh.check(f"attribute.inference[secret={secret}]").estimate.covers(0.0)
    assert fresh.check(f"attribute.model[secret={secret}]").estimate.covers(0.0)


def test_negative_guesses_are_not_counted_correct(tables):
    """anonymeter would count every negative guess as correct (it divides by the guess)."""
    train = tables["train"]
    syn = train.copy()
    syn["balance"] = -np.abs(syn["balance"]) - 1000.0  # every value in the release is negative and wrong
    r = run_audit(
        from_frames(train, tables["holdout"], syn, quasi_identifiers=["age", "sex", "postcode"], sensitive=["balance"]),
        seed=0,
        checks=select_checks(["attribute.inference"]),
        settings=Settings(n_attacks=800),
    )
    c = r.check("attribute.inference[secret=balance]")
    positive_truths = (train["balance"] > 0).mean()
    assert c.details["attack"]["rate"] < 1 - positive_truths + 0.05


def test_column_names_with_spaces_and_norwegian_letters_work_everywhere(tables):
    rename = {
        "age": "alder i år",
        "sex": "kjønn",
        "postcode": "post nummer",
        "diagnosis": "diagnose (ICD-10)",
        "income": "inntekt kr",
        "bmi": "kroppsmasse-indeks",
        "balance": "saldo ø/å",
    }
    t = {k: v.rename(columns=rename) for k, v in tables.items()}
    r = audit(
        t["train"],
        t["holdout"],
        t["fresh"],
        seed=0,
        n_attacks=600,
        checks=GDPR,
        quasi_identifiers=["alder i år", "kjønn", "post nummer"],
        sensitive=["diagnose (ICD-10)", "saldo ø/å"],
    )
    assert r.checks
    for c in r.checks:
        if "generator" in c.id or c.id.startswith(("attribute.shadow", "membership.shadow")):
            continue  # generator-in-the-loop checks need --generator
        assert c.status not in ("error", "skipped"), (c.id, c.warnings)
    ids = {c.id for c in r.checks}
    assert "attribute.inference[secret=saldo ø/å]" in ids
    assert r.check("linkage.linkability").details["columns"]["first"] == ["alder i år", "kjønn", "post nummer"]


def test_copy_of_train_reads_maximal_on_every_gdpr_attack(tables):
    roles = {"quasi_identifiers": ["age", "sex", "postcode", "bmi"], "sensitive": ["diagnosis"]}
    r = run_audit(
        from_frames(tables["train"], tables["holdout"], tables["train"].copy(), **roles),
        seed=0,
        checks=select_checks(GDPR),
        settings=Settings(n_attacks=1500),
    )
    for check_id in (
        "singling_out.univariate",
        "singling_out.multivariate",
        "linkage.linkability",
        "attribute.inference[secret=diagnosis]",
    ):
        assert r.check(check_id).estimate.ci_low > 0.5, (check_id, r.check(check_id).estimate)
    assert r.check("attribute.inference_sweep").estimate.value > 0.5
    # a model generalises rather than memorises: it gains less from a copy, but still more on members
    assert r.check("attribute.model[secret=diagnosis]").estimate.value >= 0.0


def test_link_columns_setting_overrides_the_roles(tables):
    r = run_audit(
        from_frames(
            tables["train"],
            tables["holdout"],
            tables["fresh"],
            quasi_identifiers=["age", "sex"],
            sensitive=["diagnosis"],
        ),
        seed=0,
        checks=select_checks(["linkage.linkability"]),
        settings=Settings(n_attacks=300, link_columns="age,postcode|diagnosis,income", link_neighbors=3),
    )
    c = r.check("linkage.linkability")
    assert c.details["columns"] == {"first": ["age", "postcode"], "second": ["diagnosis", "income"]}
    assert c.params["n_neighbors"] == 3
