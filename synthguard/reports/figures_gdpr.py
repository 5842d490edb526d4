"""Charts of the GDPR-criteria section: the every-column inference sweep."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
from markupsafe import Markup

from synthguard.reports.charts import RC, figure_to_svg

__all__ = ["gdpr_charts", "sweep_chart_svg"]


def sweep_chart_svg(columns: list[Mapping[str, Any]]) -> str:
    """Inference risk per column (bars) with its interval (error bars)."""
    with matplotlib.rc_context(RC):
        names = [str(c["column"]) for c in columns]
        values = [float(c["risk"]) for c in columns]
        lo = [max(0.0, float(c["risk"]) - float(c["ci_low"])) for c in columns]
        hi = [max(0.0, float(c["ci_high"]) - float(c["risk"])) for c in columns]
        fig, ax = plt.subplots(figsize=(max(4.5, 0.42 * len(names) + 1.5), 3.0))
        ax.bar(range(len(names)), values, yerr=[lo, hi], color="#1f5f8b", alpha=0.75, capsize=3)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel("inference risk", fontsize=8)
        ax.set_ylim(0, max(0.1, max((v + h for v, h in zip(values, hi, strict=True)), default=0.1) * 1.1))
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title("Inference risk of each column when all other columns are known", fontsize=9)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        return figure_to_svg(fig)


def gdpr_charts(checks: list[Mapping[str, Any]]) -> dict[str, Markup]:
    out = {}
    for c in checks:
        if c["id"] == "attribute.inference_sweep" and c.get("estimate") and c["details"].get("columns"):
            out[c["id"]] = Markup(sweep_chart_svg(c["details"]["columns"]))
    return out
