"""Policies: thresholds on results → per-check statuses → verdict → exit code.

A policy is data (a TOML file), never logic inside a check. The built-in policies are named after
who gets the release: ``open`` (the default, strictest), ``controlled`` and ``internal``.
Fail closed: a check that errored or could not run, a required check that is missing, or a
policy that matched no result never yields "pass".
"""

from __future__ import annotations

import math
import operator
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from synthguard.audit.results import AuditResult, CheckResult
from synthguard.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["BUILTIN_POLICIES", "EXIT_CODES", "VERDICTS", "Policy", "Rule", "evaluate", "load_policy"]

BUILTIN_POLICIES = ("open", "controlled", "internal")
VERDICTS = ("pass", "warn", "fail", "incomplete")
EXIT_CODES = {"pass": 0, "warn": 0, "fail": 1, "incomplete": 3}
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FIELDS = ("value", "ci_low", "ci_high", "excess", "baseline.value", "baseline.ci_low", "baseline.ci_high")


@dataclass(frozen=True)
class Rule:
    """``check`` (glob on result ids) passes when ``field op threshold`` holds.

    ``field`` is one of the estimate's ``value``/``ci_low``/``ci_high``, ``excess`` (value minus
    baseline value), ``baseline.value``/``baseline.ci_low``/``baseline.ci_high``, or
    ``details.<key>`` for a number in the result's details.
    """

    check: str  # pattern(s) on result ids (``*`` and ``?`` wildcards), several separated by "|"
    field: str
    op: str
    threshold: float
    severity: str = "fail"
    why: str = ""

    @property
    def text(self) -> str:
        return f"{self.field} {self.op} {self.threshold:g}"

    def observed(self, r: CheckResult) -> float | None:
        e, b = r.estimate, r.baseline
        if e is None:
            return None
        f = self.field
        if f in ("value", "ci_low", "ci_high"):
            v: Any = getattr(e, f)
        elif f == "excess":
            v = None if b is None else e.value - b.value
        elif f.startswith("baseline."):
            v = None if b is None else getattr(b, f.split(".", 1)[1])
        else:
            v = r.details.get(f.split(".", 1)[1])
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(float(v)):
            return None
        return float(v)

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.threshold)


@dataclass(frozen=True)
class Policy:
    name: str
    title: str
    rationale: str
    required: tuple[str, ...]
    rules: tuple[Rule, ...]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "rationale": self.rationale,
            "required": list(self.required),
            "source": self.source,
            "rules": [{"check": r.check, "rule": r.text, "severity": r.severity, "why": r.why} for r in self.rules],
        }


def _parse(raw: Mapping[str, Any], source: str) -> Policy:
    problems = []
    rules = []
    for i, r in enumerate(raw.get("rules", [])):
        where = f"{source}: rules[{i}]"
        try:
            rule = Rule(
                check="|".join(r["check"]) if isinstance(r["check"], list) else str(r["check"]),
                field=str(r["field"]),
                op=str(r["op"]),
                threshold=float(r["threshold"]),
                severity=str(r.get("severity", "fail")),
                why=str(r.get("why", "")),
            )
        except (KeyError, TypeError, ValueError):
            problems.append(f"{where} needs check, field, op and a numeric threshold")
            continue
        if rule.op not in _OPS:
            problems.append(f"{where}: op must be one of {', '.join(_OPS)}")
        if rule.severity not in ("fail", "warn"):
            problems.append(f"{where}: severity must be 'fail' or 'warn'")
        if rule.field not in _FIELDS and not rule.field.startswith("details."):
            problems.append(f"{where}: field must be one of {', '.join(_FIELDS)} or details.<key>")
        rules.append(rule)
    unknown = set(raw) - {"name", "title", "rationale", "required", "rules"}
    if unknown:
        problems.append(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    if not rules:
        problems.append(f"{source}: the policy has no rules")
    if problems:
        raise InputError(problems)
    return Policy(
        name=str(raw.get("name", Path(source).stem)),
        title=str(raw.get("title", raw.get("name", Path(source).stem))),
        rationale=" ".join(str(raw.get("rationale", "")).split()),
        required=tuple(str(x) for x in raw.get("required", [])),
        rules=tuple(rules),
        source=source,
    )


def load_policy(name_or_path: str) -> Policy:
    """A built-in policy by name (``open``, ``controlled``, ``internal``) or a policy TOML file."""
    if name_or_path in BUILTIN_POLICIES:
        text = resources.files("synthguard.audit").joinpath(f"policies/{name_or_path}.toml").read_text("utf-8")
        return _parse(tomllib.loads(text), f"built-in:{name_or_path}")
    p = Path(name_or_path)
    if p.suffix.lower() != ".toml" and not p.exists():
        raise InputError(f"unknown policy {name_or_path!r}: use one of {', '.join(BUILTIN_POLICIES)} or a .toml file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: policy file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{p}: not valid TOML ({e})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: policy file cannot be read ({type(e).__name__})") from None
    return _parse(raw, str(p))


def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` only; every other character (``[`` included) is literal."""
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern) + r"\Z")


def _matches(patterns: str, check_id: str) -> bool:
    return any(_glob(p).match(check_id) for p in patterns.split("|"))


def evaluate(result: AuditResult, policy: Policy) -> AuditResult:
    """Apply a policy: set each check's status and attach the verdict block.

    Verdict: ``fail`` if any fail-rule is broken; otherwise ``incomplete`` if a check errored, a
    required check is missing or could not run, or no rule applied to any result; otherwise
    ``warn`` if a warn-rule is broken; otherwise ``pass``.
    """
    checks = []
    broken: list[dict[str, Any]] = []
    n_evaluated = 0
    for r in result.checks:
        if r.status in ("error", "skipped"):
            checks.append(r)
            continue
        rules = [rule for rule in policy.rules if _matches(rule.check, r.id)]
        if not rules:
            checks.append(r.with_status("info"))
            continue
        n_evaluated += 1
        status = "pass"
        for rule in rules:
            v = rule.observed(r)
            ok = v is not None and rule.holds(v)
            if ok:
                continue
            entry = {"check": r.id, "rule": rule.text, "severity": rule.severity, "observed": v, "why": rule.why}
            e = r.estimate
            if e is not None and rule.field == "ci_high" and v is not None and _OPS[rule.op](e.value, rule.threshold):
                remedy = (
                    "more shadow fits (--shadow-fits) or targets (--shadow-targets)"
                    if ".shadow" in r.id
                    else "more attacks (--n-attacks) or a larger holdout"
                )
                entry["note"] = (
                    "inconclusive: the point estimate is below the threshold but the "
                    f"interval is too wide to show it; rerun with {remedy}"
                )
            broken.append(entry)
            if rule.severity == "fail":
                status = "fail"
            elif status != "fail":
                status = "warn"
        checks.append(r.with_status(status))
    problems = []
    for r in checks:
        if r.status == "error":
            problems.append(f"{r.id} failed to run")
    for pattern in policy.required:
        hits = [r for r in checks if _matches(pattern, r.id)]
        if not hits:
            problems.append(f"required check {pattern} did not run")
        for r in hits:
            if r.status == "skipped":
                problems.append(f"required check {r.id} could not run ({'; '.join(r.warnings) or 'skipped'})")
    if n_evaluated == 0:
        problems.append("the policy's rules matched no result")
    if any(b["severity"] == "fail" for b in broken):
        verdict = "fail"
    elif problems:
        verdict = "incomplete"
    elif broken:
        verdict = "warn"
    else:
        verdict = "pass"
    block = {
        **policy.to_dict(),
        "verdict": verdict,
        "exit_code": EXIT_CODES[verdict],
        "broken_rules": broken,
        "incomplete": problems,
        "counts": {
            s: sum(1 for c in checks if c.status == s) for s in ("pass", "warn", "fail", "error", "skipped", "info")
        },
    }
    return replace(result, checks=tuple(checks), policy=block)


def summary_lines(result: AuditResult) -> list[str]:
    """A short human summary of the verdict for the terminal."""
    p = result.policy
    if p is None:
        return ["no policy applied"]
    lines = [f"verdict: {p['verdict'].upper()} under policy '{p['name']}' (exit code {p['exit_code']})"]
    for b in p["broken_rules"]:
        obs = "n/a" if b["observed"] is None else f"{b['observed']:.4g}"
        line = f"  {b['severity']}: {b['check']}: {b['rule']} (observed {obs})"
        if "note" in b:
            line += " - inconclusive, interval too wide"
        lines.append(line)
    for prob in p["incomplete"]:
        lines.append(f"  incomplete: {prob}")
    return lines
