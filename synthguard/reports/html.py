"""Self-contained HTML report rendered with jinja2 from ``AuditResult.to_dict()``.

Autoescape is on and undefined names raise (StrictUndefined); the stylesheet is inlined and charts
are inline SVG, so the page opens offline and nothing from the data can inject markup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from synthguard.reports.figures import CHART_BUILDERS

__all__ = ["FAMILY_TEXT", "render_html"]

FAMILY_ORDER = ("singling_out", "linkage", "attribute", "membership", "distance", "fidelity", "utility")

FAMILY_TEXT: dict[str, tuple[str, str]] = {
    "singling_out": (
        "Singling out",
        "Can someone use the release to isolate one real person, i.e. write a description "
        '("the only person with this value") that fits exactly one record of the training data? '
        "Each risk is the attacker's success on training records in excess of their success on "
        "holdout records, which the generator never saw (WP29 Opinion 05/2014, criterion 1).",
    ),
    "linkage": (
        "Linkability",
        "Can someone who holds two separate pieces of information about the same person (their "
        "quasi-identifiers, and the rest of their record) use the release to connect them? "
        "(WP29 criterion 2)",
    ),
    "attribute": (
        "Inference",
        "Can someone who knows a person's quasi-identifiers learn their sensitive value from the "
        "release, better than population statistics (measured on holdout records) would let them? "
        "(WP29 criterion 3)",
    ),
    "membership": (
        "Membership inference",
        "Can someone tell whether a given person was in the training data?",
    ),
    "distance": (
        "Copies and closeness (overfitting diagnostics)",
        "How many released rows are copies of, or unusually close to, training records. These "
        "diagnostics catch gross memorisation; passing them does not prove privacy (Ganev & De "
        'Cristofaro 2023; "The DCR Delusion", 2025): the attacks above are the evidence.',
    ),
    "fidelity": (
        "Fidelity",
        "Is the release statistically like the real data? Each number compares synthetic with "
        "train; the reference compares two real samples (holdout with train), which is as close "
        "as any release can be expected to get. Columns one by one, pairs of columns, triples, a "
        "classifier that tries to tell the tables apart, and values the real data never shows. "
        'Categories seen fewer than {k} times in the real data are shown as "(rare)"; numbers are '
        "binned at quantiles of the real data.",
    ),
    "utility": (
        "Utility",
        "Do models trained on the release work on real data? Models are trained on the synthetic "
        "data and, for reference, on the real training data, and both are scored on the holdout; "
        "the same for column importances, per-group performance, a regression analysis and a model "
        "that starts on synthetic and finishes on real data.",
    ),
}

VERDICT_TEXT = {
    "pass": "The release meets every rule of the policy.",
    "warn": "The release meets every blocking rule of the policy; some warnings need a look.",
    "fail": "The release breaks at least one blocking rule of the policy and should not be published as is.",
    "incomplete": "The audit is incomplete: a required check did not run, so no verdict can be given.",
}


GDPR_FAMILIES = ("singling_out", "linkage", "attribute")
GDPR_INTRO = (
    "GDPR criteria",
    "European regulators judge anonymisation on three criteria: can a person be singled out, can records "
    "about them be linked, can their attributes be inferred (Article 29 Working Party, Opinion 05/2014). "
    "Each is measured here as an attack on the release, against the same attack on people who were not "
    "in the training data; the first sentence of each part is the finding in plain words.",
)


def _headline_check(family: str, members: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The result a criterion's opening sentence is about: the strongest completed attack of the family."""
    # the attacks scored as members against non-members (anonymeter's residual risk), not raw rates
    done = [
        c
        for c in members
        if c.get("estimate")
        and c["id"] != "attribute.inference_sweep"
        and "control" in c.get("details", {})
        and "rate" in c["details"].get("control", {})
    ]
    if not done:
        return None
    return max(done, key=lambda c: (c["estimate"]["value"] or 0.0, c["estimate"]["ci_high"] or 0.0))


def headline(family: str, members: list[Mapping[str, Any]]) -> str:
    """One sentence a privacy officer can repeat, for the GDPR criteria sections."""
    if family not in GDPR_FAMILIES:
        return ""
    c = _headline_check(family, members)
    if c is None:
        ran = [m for m in members if m.get("estimate")]
        return str(ran[0].get("summary", "")) if ran else "No attack of this kind could run; it is not assessed."
    e, d = c["estimate"], c.get("details", {})
    risk = f"{e['value']:.1%} (95% CI up to {e['ci_high']:.1%})"
    attack = d.get("attack", {})
    control = d.get("control", {})
    if "rate" in attack and "rate" in control:
        rates = (
            f"{attack['rate']:.1%} of the people in the training data, against {control['rate']:.1%} of other people"
        )
    else:
        rates = ""
    if family == "attribute" and "auxiliary_columns" in d:
        secret = c.get("params", {}).get("secret", "their sensitive value")
        return (
            f"An attacker who knows a person's {', '.join(d['auxiliary_columns'])} can use the release to guess "
            f"their '{secret}' correctly for {rates}: the release adds an inference risk of {risk}."
        )
    if family == "linkage" and "columns" in d:
        return (
            f"An attacker who holds one dataset with people's {', '.join(d['columns']['first'])} and another with "
            f"their {', '.join(d['columns']['second'])} can link the two through the release for {rates}: "
            f"a linkability risk of {risk}."
        )
    if family == "singling_out" and rates:
        return (
            f"An attacker writing descriptions that fit exactly one record of the release singled out a person of "
            f"the training data with {attack['rate']:.1%} of them, against {control['rate']:.1%} for other people: "
            f"the release adds a singling-out risk of {risk}."
        )
    return str(c.get("summary", ""))


def _num(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _pct(x: Any, digits: int = 1) -> str:
    if x is None:
        return "n/a"
    return f"{100 * float(x):.{digits}f}%"


def _interval(e: Mapping[str, Any] | None) -> str:
    if not e:
        return ""
    return f"{_num(e['ci_low'])} – {_num(e['ci_high'])}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("synthguard.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["interval"] = _interval
    return env


def _charts(checks: list[Mapping[str, Any]]) -> dict[str, Markup]:
    """Every chart of the report, keyed by check id (or a section key such as ``membership.roc``)."""
    out: dict[str, Markup] = {}
    for build in CHART_BUILDERS:
        out.update(build(checks))
    return out


def render_html(result: Mapping[str, Any], *, command: str | None = None) -> str:
    """Render the report from ``AuditResult.to_dict()`` (plus, optionally, the command line used)."""
    env = _environment()
    css = resources.files("synthguard.reports").joinpath("templates/style.css").read_text("utf-8")
    # the summary lists results family by family, in the order of the report's sections
    rank = {f: i for i, f in enumerate(FAMILY_ORDER)}
    checks = sorted(result["checks"], key=lambda c: rank.get(c["family"], len(rank)))
    families = []
    k = result["settings"].get("rare_k", 10)
    gdpr_open = False
    for fam in FAMILY_ORDER:
        members = [c for c in checks if c["family"] == fam]
        if members:
            title, intro = FAMILY_TEXT[fam]
            entry: dict[str, Any] = {
                "id": fam,
                "title": title,
                "intro": intro.replace("{k}", str(k)),
                "checks": members,
                "level": 2,
                "group": None,
                "headline": headline(fam, members),
            }
            if fam in GDPR_FAMILIES:
                entry["level"] = 3
                if not gdpr_open:
                    entry["group"] = GDPR_INTRO
                    gdpr_open = True
            families.append(entry)
    policy = result.get("policy") or {
        "verdict": "incomplete",
        "name": "none",
        "title": "no policy",
        "rationale": "",
        "rules": [],
        "broken_rules": [],
        "incomplete": ["no policy was applied"],
        "exit_code": 3,
        "counts": {},
        "source": "",
        "required": [],
    }
    template = env.get_template("report.html.j2")
    return template.render(
        r=result,
        css=Markup(css),
        checks=checks,
        families=families,
        policy=policy,
        verdict_text=VERDICT_TEXT[policy["verdict"]],
        charts=_charts(checks),
        command=command,
    )
