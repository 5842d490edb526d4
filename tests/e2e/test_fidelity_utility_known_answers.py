"""Known answers for fidelity and utility on the bundled Adult sample.

* A "release" that is another real sample of the population must read like the holdout
  reference: every number within its noise band.
* A release of independent marginals keeps each column but no relationship: univariate scores
  near perfect, pairs, higher-order tables, distinguishability and every utility score clearly
  worse than the reference.
"""

import pandas as pd
import pytest

from synthguard.api import DEMO_ROLES
from synthguard.audit.results import AuditResult, CheckResult
from synthguard.audit.runner import run_audit, select_checks
from synthguard.audit.tables import from_frames
from synthguard.generators.base import get_generator
from synthguard.metrics.utility import CLINICAL_NOTE
from synthguard.reports.figures import fidelity_section_charts, utility_charts
from synthguard.reports.html import render_html

N = 1500
CHECKS = ["fidelity.*", "utility.*"]


def _split(adult: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train, holdout = adult
    return (
        train.iloc[:N].reset_index(drop=True),
        holdout.iloc[:N].reset_index(drop=True),
        train.iloc[N : 2 * N].reset_index(drop=True),  # real rows the "generator" never saw
    )


@pytest.fixture(scope="module")
def real_release(adult) -> AuditResult:
    tr, ho, fresh = _split(adult)
    data = from_frames(tr, ho, fresh, **DEMO_ROLES)
    return run_audit(data, seed=0, checks=select_checks(CHECKS))


@pytest.fixture(scope="module")
def independent_release(adult) -> AuditResult:
    tr, ho, _ = _split(adult)
    typed = from_frames(tr, ho, tr, **DEMO_ROLES)
    syn = get_generator("independent", seed=0).fit(typed.train).sample(N)
    data = from_frames(typed.train, typed.holdout, syn, **DEMO_ROLES)
    checks = [c for c in select_checks(CHECKS) if c.id not in ("utility.importance", "utility.transfer")]
    return run_audit(data, seed=0, checks=checks)


def _get(r: AuditResult, prefix: str) -> CheckResult:
    (c,) = [c for c in r.checks if c.id == prefix or c.id.startswith(prefix + "[")]
    assert c.status == "ok", (c.id, c.warnings)
    return c


def _overlap(c: CheckResult) -> bool:
    e, b = c.estimate, c.baseline
    assert e is not None and b is not None
    return e.ci_low <= b.ci_high and b.ci_low <= e.ci_high


def _clearly_worse(c: CheckResult, margin: float = 0.0) -> bool:
    e, b = c.estimate, c.baseline
    assert e is not None and b is not None
    return e.ci_high < b.ci_low - margin


@pytest.mark.parametrize(
    "prefix",
    [
        "fidelity.univariate",
        "fidelity.pairs",
        "fidelity.kway",
        "fidelity.distinguishability",
        "fidelity.validity",
        "utility.tstr",
        "utility.analysis",
        "utility.importance",
        "utility.subgroups",
    ],
)
def test_real_sample_as_release_reads_like_the_holdout_reference(real_release, prefix):
    assert _overlap(_get(real_release, prefix)), prefix


def test_real_sample_as_release_every_column_within_noise(real_release):
    cols = [c for c in real_release.checks if c.id.startswith("fidelity.marginal[")]
    assert len(cols) == 15
    assert all(_overlap(c) for c in cols)


def test_real_sample_as_release_utility_ratio_covers_one_and_no_group_is_hurt(real_release):
    d = _get(real_release, "utility.tstr").details
    assert d["utility_ratio_ci_low"] <= 1.0 <= d["utility_ratio_ci_high"]
    assert _get(real_release, "utility.subgroups").details["groups_clearly_worse"] == 0
    s = _get(real_release, "fidelity.distinguishability").details
    assert s["auc_ci_low"] <= 0.5 <= s["auc_ci_high"]


def test_pretraining_on_real_like_data_saves_real_rows(real_release):
    c = _get(real_release, "utility.transfer")
    assert c.estimate.value > c.baseline.value  # pre-trained beats real-only at the headline budget
    assert c.details["real_rows_saved"][0]["rows_saved"] > 0


def test_independent_marginals_keep_columns_but_lose_relationships(independent_release):
    r = independent_release
    uni = _get(r, "fidelity.univariate")
    assert uni.estimate.value > 0.97 and uni.estimate.ci_high >= uni.baseline.ci_low  # near perfect
    assert _clearly_worse(_get(r, "fidelity.pairs"), margin=0.05)
    assert _clearly_worse(_get(r, "fidelity.kway"), margin=0.05)
    dist = _get(r, "fidelity.distinguishability")
    assert _clearly_worse(dist) and dist.details["auc"] > 0.9


def test_independent_marginals_are_clearly_worse_for_models(independent_release):
    r = independent_release
    tstr = _get(r, "utility.tstr")
    assert _clearly_worse(tstr, margin=0.1)
    assert tstr.details["utility_ratio"] < 0.5
    assert _clearly_worse(_get(r, "utility.analysis"))
    sub = _get(r, "utility.subgroups")
    assert sub.details["groups_clearly_worse"] >= 1


def test_report_has_fidelity_and_utility_sections_with_charts(independent_release):
    d = independent_release.to_dict()
    html = render_html(d)
    assert CLINICAL_NOTE in html
    for anchor in (
        "fidelity.pairs",
        "fidelity.kway",
        "fidelity.distinguishability",
        "fidelity.validity",
        "utility.tstr",
    ):
        assert f'id="{anchor}"' in html
    f_charts = fidelity_section_charts(d["checks"])
    assert {"fidelity.univariate", "fidelity.pairs", "fidelity.kway", "fidelity.distinguishability"} <= set(f_charts)
    u_charts = utility_charts(d["checks"])
    assert {"utility.tstr[target=income]", "utility.subgroups[target=income]"} <= set(u_charts)
    assert all(str(svg).startswith("<svg") for svg in [*f_charts.values(), *u_charts.values()])
