"""Policies, statuses, verdicts (fail closed) and result round trips."""

import json

import pytest

from synthguard.audit.policy import BUILTIN_POLICIES, evaluate, load_policy
from synthguard.audit.results import SCHEMA_VERSION, AuditResult, CheckResult, Estimate
from synthguard.errors import InputError


def est(v, lo, hi):
    return Estimate(v, lo, hi, 0.95, 100, "test")


def result(*checks):
    return AuditResult(checks=tuple(checks), seed=1, inputs={}, schema={}, settings={}, versions={})


def risk(id_, family, v, lo, hi, status="ok", **details):
    return CheckResult(
        id=id_,
        family=family,
        kind="risk",
        estimate=est(v, lo, hi) if status == "ok" else None,
        baseline=est(0.5, 0.4, 0.6) if status == "ok" else None,
        details=details,
        status=status,
    )


GOOD = [
    risk("singling_out.univariate", "singling_out", 0.0, 0.0, 0.02),
    risk("linkage.linkability", "linkage", 0.0, 0.0, 0.01),
    risk("attribute.inference[secret=x]", "attribute", 0.01, 0.0, 0.05),
    risk("distance.exact_match", "distance", 0.0, 0.0, 0.001, excess=0.0, excess_ci_high=0.001),
    risk("membership.best", "membership", 0.5, 0.48, 0.52),
    risk("membership.outliers", "membership", 0.01, 0.001, 0.03),
]


@pytest.mark.parametrize("name", BUILTIN_POLICIES)
def test_builtin_policies_load_and_pass_a_clean_result(name):
    p = load_policy(name)
    assert p.rules and p.rationale
    out = evaluate(result(*GOOD), p)
    assert out.policy["verdict"] == "pass" and out.policy["exit_code"] == 0
    assert all(c.status == "pass" for c in out.checks)


def test_a_broken_fail_rule_fails_and_names_the_rule():
    bad = risk("singling_out.univariate", "singling_out", 0.3, 0.2, 0.4)
    out = evaluate(result(bad, *GOOD[1:]), load_policy("open"))
    assert out.policy["verdict"] == "fail" and out.policy["exit_code"] == 1
    assert out.policy["broken_rules"][0]["check"] == "singling_out.univariate"
    assert out.check("singling_out.univariate").status == "fail"


def test_wide_interval_with_low_point_estimate_fails_as_inconclusive():
    wide = risk("attribute.inference[secret=x]", "attribute", 0.01, 0.0, 0.2)
    checks = [wide if c.id.startswith("attribute.") else c for c in GOOD]
    out = evaluate(result(*checks), load_policy("open"))
    assert out.policy["verdict"] == "fail"
    assert "inconclusive" in out.policy["broken_rules"][0]["note"]
    # the same result passes the internal policy, which judges point estimates
    assert evaluate(result(*checks), load_policy("internal")).policy["verdict"] == "pass"


def test_errored_check_makes_the_audit_incomplete_never_pass():
    errored = risk("linkage.linkability", "linkage", 0, 0, 0, status="error")
    out = evaluate(result(*[errored if c.id == errored.id else c for c in GOOD]), load_policy("open"))
    assert out.policy["verdict"] == "incomplete" and out.policy["exit_code"] == 3


def test_missing_or_skipped_required_check_is_incomplete():
    out = evaluate(result(*GOOD[:3]), load_policy("open"))
    assert out.policy["verdict"] == "incomplete"
    skipped = risk("linkage.linkability", "linkage", 0, 0, 0, status="skipped")
    out = evaluate(result(*[skipped if c.id == skipped.id else c for c in GOOD]), load_policy("open"))
    assert out.policy["verdict"] == "incomplete"


def test_fail_takes_precedence_over_incomplete():
    bad = risk("singling_out.univariate", "singling_out", 0.5, 0.4, 0.6)
    out = evaluate(result(bad), load_policy("open"))
    assert out.policy["verdict"] == "fail"


def test_policy_matching_nothing_is_incomplete(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('name = "custom"\n[[rules]]\ncheck = "utility.*"\nfield = "ci_high"\nop = "<"\nthreshold = 0.6\n')
    out = evaluate(result(*GOOD), load_policy(str(f)))
    assert out.policy["verdict"] == "incomplete"
    assert all(c.status == "info" for c in out.checks)


def test_missing_field_in_a_result_breaks_the_rule():
    r = risk("distance.exact_match", "distance", 0.0, 0.0, 0.001)  # no excess details
    out = evaluate(result(*[r if c.id == r.id else c for c in GOOD]), load_policy("open"))
    assert out.check("distance.exact_match").status == "fail"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rules]]\ncheck='x'\nfield='value'\nop='~'\nthreshold=1\n", "op must be one of"),
        ("[[rules]]\ncheck='x'\nfield='bogus'\nop='<'\nthreshold=1\n", "field must be one of"),
        ("[[rules]]\ncheck='x'\nfield='value'\nop='<'\nthreshold='a'\n", "numeric threshold"),
        ("name='x'\n", "the policy has no rules"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_bad_policy_files_are_input_errors(tmp_path, text, message):
    f = tmp_path / "p.toml"
    f.write_text(text)
    with pytest.raises(InputError, match=message):
        load_policy(str(f))


def test_unknown_policy_name():
    with pytest.raises(InputError, match="unknown policy 'public'"):
        load_policy("public")


def test_result_round_trip_and_schema_version():
    r = evaluate(result(*GOOD), load_policy("open"))
    d = r.to_dict()
    assert d["schema_version"] == SCHEMA_VERSION
    again = AuditResult.from_dict(json.loads(json.dumps(d)))
    assert again.to_dict() == d
    d["schema_version"] = "99.0"
    with pytest.raises(ValueError, match="schema_version"):
        AuditResult.from_dict(d)


def test_estimate_rejects_reversed_interval_and_serialises_nan_as_null():
    with pytest.raises(ValueError):
        Estimate(0.5, 0.6, 0.4, 0.95, 10, "x")
    assert Estimate(float("nan"), 0.0, 1.0, 0.95, 0, "x").to_dict()["value"] is None
