"""Chart of the generator-in-the-loop section: per-target shadow AUCs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
from markupsafe import Markup

from synthguard.reports.charts import RC, figure_to_svg

__all__ = ["shadow_charts", "target_auc_svg"]


def target_auc_svg(per_target: list[Mapping[str, Any]]) -> str:
    """Each target's shadow AUC with its interval, training and holdout targets side by side."""
    with matplotlib.rc_context(RC):
        rows = sorted(per_target, key=lambda t: (t["table"], -float(t["auc"])))
        fig, ax = plt.subplots(figsize=(7.5, 2.8))
        colours = {"train": "#1f5f8b", "holdout": "#8fb8d8"}
        for i, t in enumerate(rows):
            auc, lo, hi = float(t["auc"]), float(t["auc_ci_low"]), float(t["auc_ci_high"])
            ax.errorbar(
                i,
                auc,
                yerr=[[auc - lo], [hi - auc]],
                fmt="o" if t["kind"] == "isolated" else "s",
                color=colours.get(str(t["table"]), "#555555"),
                markersize=4,
                capsize=2,
                linewidth=1,
            )
        ax.axhline(0.5, color="#999999", linestyle="--", linewidth=1)
        ax.set_xticks([])
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("shadow AUC", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(
            "Per-target attack AUC (dark: training targets, light: holdout targets; circles: most "
            "isolated, squares: random)",
            fontsize=8,
        )
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        return figure_to_svg(fig)


def shadow_charts(checks: list[Mapping[str, Any]]) -> dict[str, Markup]:
    out = {}
    for c in checks:
        if c["id"] == "membership.shadow" and c.get("estimate") and c["details"].get("per_target"):
            out[c["id"]] = Markup(target_auc_svg(c["details"]["per_target"]))
    return out
