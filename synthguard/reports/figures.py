"""Chart builders: from the checks of ``AuditResult.to_dict()`` to inline SVG, one function per section.

Each builder takes the list of check dicts and returns ``{key: Markup(svg)}``; the templates look
charts up by check id (or by a section key such as ``membership.roc``). matplotlib escapes the
text it writes into SVG, so the markup is safe to inline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup

from synthguard.reports.charts import bar_chart_svg, roc_chart_svg

__all__ = ["CHART_BUILDERS", "fidelity_charts", "membership_charts"]

Checks = list[Mapping[str, Any]]


def fidelity_charts(checks: Checks) -> dict[str, Markup]:
    """Per-column marginal bar charts (rare categories already grouped by the check)."""
    out = {}
    for c in checks:
        chart = c.get("details", {}).get("chart")
        if c["family"] == "fidelity" and chart and chart.get("labels"):
            title = str(c["details"].get("column", c["id"]))
            out[c["id"]] = Markup(bar_chart_svg(title, chart["labels"], chart["shares"]))
    return out


def membership_charts(checks: Checks) -> dict[str, Markup]:
    """ROC curves of the single membership attacks (all targets), linear and log-scaled."""
    curves = {
        c["details"]["attack"]: c["details"]["roc"]
        for c in checks
        if c["family"] == "membership"
        and c["id"] not in ("membership.best", "membership.outliers")
        and c.get("estimate")
        and "roc" in c.get("details", {})
    }
    if not curves:
        return {}
    return {"membership.roc": Markup(roc_chart_svg(curves, title="Membership attacks, all targets"))}


CHART_BUILDERS: list[Callable[[Checks], dict[str, Markup]]] = [fidelity_charts, membership_charts]
