"""Chart builders: from the checks of ``AuditResult.to_dict()`` to inline SVG, one function per section.

Each builder takes the list of check dicts and returns ``{key: Markup(svg)}``; the templates look
charts up by check id (or by a section key such as ``membership.roc``). matplotlib escapes the
text it writes into SVG, so the markup is safe to inline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup

from synthguard.reports.charts import (
    COLOURS,
    bar_chart_svg,
    curve_svg,
    dot_chart_svg,
    heatmap_pair_svg,
    interval_bars_svg,
    lines_svg,
    roc_chart_svg,
    step_hist_svg,
)

__all__ = ["CHART_BUILDERS", "fidelity_charts", "fidelity_section_charts", "membership_charts", "utility_charts"]

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


def _iv(d: Mapping[str, Any] | None) -> tuple[float, float, float] | None:
    """(value, low, high) of a details entry with an interval, or None."""
    if not d or d.get("value") is None:
        return None
    v = float(d["value"])
    lo = d.get("ci_low")
    hi = d.get("ci_high")
    return v, float(v if lo is None else lo), float(v if hi is None else hi)


def fidelity_section_charts(checks: Checks) -> dict[str, Markup]:
    """Charts of the fidelity summaries: per-column scores, pair heatmap, 3-way scores, propensities."""
    out: dict[str, Markup] = {}
    for c in checks:
        d = c.get("details", {})
        if c["family"] != "fidelity" or not c.get("estimate"):
            continue
        if c["id"] == "fidelity.univariate" and d.get("columns"):
            cols = d["columns"]
            out[c["id"]] = Markup(
                dot_chart_svg(
                    "Per-column similarity to train",
                    [r["column"] for r in cols],
                    [r["value"] for r in cols],
                    [r["reference"] for r in cols],
                    xlabel="1 − TVD / 1 − KS (1 = identical)",
                )
            )
        elif c["id"] == "fidelity.pairs" and d.get("heatmap", {}).get("columns"):
            h = d["heatmap"]
            out[c["id"]] = Markup(
                heatmap_pair_svg(
                    h["columns"],
                    {
                        "synthetic − train": h["synthetic_minus_train"],
                        "holdout − train (reference)": h["holdout_minus_train"],
                    },
                    title="Difference in association between columns (Spearman ρ, Cramér's V or correlation ratio)",
                    label="difference in association",
                )
            )
        elif c["id"] == "fidelity.kway" and d.get("triple_scores"):
            out[c["id"]] = Markup(
                lines_svg(
                    "3-way marginal similarity per column triple, sorted",
                    {
                        "synthetic vs train": d["triple_scores"],
                        "holdout vs train (reference)": d["triple_scores_reference"],
                    },
                    xlabel="column triple (sorted by score)",
                    ylabel="1 − TVD",
                )
            )
        elif c["id"] == "fidelity.distinguishability" and d.get("propensity_histogram"):
            h, r = d["propensity_histogram"], d["propensity_histogram_reference"]
            out[c["id"]] = Markup(
                step_hist_svg(
                    "Out-of-fold propensity of being synthetic",
                    h["edges"],
                    {"train rows": h["real"], "synthetic rows": h["other"], "holdout rows (reference)": r["other"]},
                    xlabel="predicted probability of the second table (0.5 = no idea)",
                )
            )
    return out


def utility_charts(checks: Checks) -> dict[str, Markup]:
    """TSTR/TRTR bars, per-group bars, importance bars and the transfer curve, keyed by result id."""
    out: dict[str, Markup] = {}
    colours = {"trained on synthetic": COLOURS["synthetic"], "trained on train": COLOURS["train"]}
    for c in checks:
        d = c.get("details", {})
        if c["family"] != "utility" or not c.get("estimate"):
            continue
        cid = c["id"]
        if cid.startswith("utility.tstr") and d.get("models"):
            metrics = [m for m in ("auc", "accuracy", "f1", "r2") if m in d["models"]["boosting"]["synthetic"]]
            cats = [f"{_METRIC[m]}, {name}" for name in ("linear", "boosting") for m in metrics]
            series = {
                label: [_iv(d["models"][name][src][m]) for name in ("linear", "boosting") for m in metrics]
                for label, src in (("trained on synthetic", "synthetic"), ("trained on train", "train"))
            }
            out[cid] = Markup(
                interval_bars_svg(
                    "Scored on the real holdout", cats, series, xlabel="score", colours=colours, horizontal=True
                )
            )
        elif cid.startswith("utility.subgroups") and d.get("groups"):
            groups = d["groups"][:40]
            cats = [f"{g['column']} = {g['group']} (n={g['rows']})" for g in groups]
            series = {
                "trained on synthetic": [_iv(g["synthetic"]) for g in groups],
                "trained on train": [_iv(g["train"]) for g in groups],
            }
            out[cid] = Markup(
                interval_bars_svg(
                    f"{_METRIC.get(d.get('primary_metric', ''), 'score')} per group (⚠ = clearly worse)",
                    cats,
                    series,
                    xlabel=_METRIC.get(d.get("primary_metric", ""), "score"),
                    horizontal=True,
                    highlight=[g["clearly_worse"] for g in groups],
                    colours=colours,
                )
            )
        elif cid.startswith("utility.importance") and d.get("importances"):
            rows = d["importances"][:20]
            cats = [r["feature"] for r in rows]
            series = {
                "trained on synthetic": [(r["importance_synthetic"],) * 3 for r in rows],
                "trained on train": [(r["importance_train"],) * 3 for r in rows],
            }
            out[cid] = Markup(
                interval_bars_svg(
                    "Permutation importance (drop in score when a column is shuffled)",
                    cats,
                    series,
                    xlabel="importance",
                    horizontal=True,
                    colours=colours,
                )
            )
        elif cid.startswith("utility.transfer") and d.get("budgets"):
            metric = _METRIC.get(d.get("primary_metric", ""), "score")
            series = {
                "real rows only": [_iv(p) or (math.nan,) * 3 for p in d["real_only"]],
                "pre-trained on synthetic, then real rows": [_iv(p) or (math.nan,) * 3 for p in d["pretrained"]],
            }
            refs = {}
            if d.get("full_train_score") is not None:
                refs["all of train"] = float(d["full_train_score"])
            if d.get("synthetic_only_score") is not None:
                refs["synthetic only"] = float(d["synthetic_only_score"])
            out[cid] = Markup(
                curve_svg(
                    "Start on synthetic, finish on real",
                    [float(b) for b in d["budgets"]],
                    series,  # type: ignore[arg-type]
                    xlabel="real training rows (log scale)",
                    ylabel=f"{metric} on the holdout",
                    references=refs,
                )
            )
    return out


_METRIC = {"auc": "AUC", "accuracy": "accuracy", "f1": "F1", "r2": "R²", "mae": "MAE"}


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


def _gdpr(checks: Checks) -> dict[str, Markup]:
    from synthguard.reports.figures_gdpr import gdpr_charts

    return gdpr_charts(checks)


def _shadow(checks: Checks) -> dict[str, Markup]:
    from synthguard.reports.figures_shadow import shadow_charts

    return shadow_charts(checks)


CHART_BUILDERS: list[Callable[[Checks], dict[str, Markup]]] = [
    fidelity_charts,
    fidelity_section_charts,
    membership_charts,
    utility_charts,
    _gdpr,
    _shadow,
]
