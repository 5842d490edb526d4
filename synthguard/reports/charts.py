"""Matplotlib figures as inline SVG (no external files, no fonts fetched, reproducible ids)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

__all__ = ["bar_chart_svg", "figure_to_svg"]

# text is kept as text (small files) and never parsed as TeX: labels come from data
RC: Any = {"svg.hashsalt": "synthguard", "svg.fonttype": "none", "text.parse_math": False}
COLOURS = {"train": "#1f5f8b", "holdout": "#8fb8d8", "synthetic": "#d9822b"}


def figure_to_svg(fig: matplotlib.figure.Figure) -> str:
    """The figure as an ``<svg>`` element (XML header dropped), then closed."""
    buf = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


def bar_chart_svg(
    title: str, labels: Sequence[str], shares: Mapping[str, Sequence[float]], *, width: float = 5.2
) -> str:
    """Grouped horizontal bars of shares per label, one colour per table."""
    with matplotlib.rc_context(RC):
        return _bar_chart(title, labels, shares, width)


def _bar_chart(title: str, labels: Sequence[str], shares: Mapping[str, Sequence[float]], width: float) -> str:
    n = len(labels)
    height = max(1.6, 0.28 * n * max(1, len(shares)) / 2 + 0.9)
    fig, ax = plt.subplots(figsize=(width, height))
    names = list(shares)
    bar_h = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        ys = [j + (i - (len(names) - 1) / 2) * bar_h for j in range(n)]
        ax.barh(ys, shares[name], height=bar_h, label=name, color=COLOURS.get(name))
    ax.set_yticks(range(n))
    ax.set_yticklabels([str(x) for x in labels], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("share of rows", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return figure_to_svg(fig)


def roc_chart_svg(curves: Mapping[str, Mapping[str, Sequence[float]]], *, title: str = "ROC") -> str:
    """ROC curves with a log-scaled false-positive axis (the low-FPR regime is where leaks show)."""
    with matplotlib.rc_context(RC):
        fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
        for ax, log in zip(axes, (False, True), strict=True):
            for name, c in curves.items():
                fpr = [max(f, 1e-4) if log else f for f in c["fpr"]]
                ax.plot(fpr, c["tpr"], label=name, linewidth=1.4)
            lo = 1e-4 if log else 0.0
            ax.plot([lo, 1], [lo, 1], linestyle="--", color="#999999", linewidth=1, label="chance")
            if log:
                ax.set_xscale("log")
                ax.set_yscale("log")
                # plain labels: TeX parsing is off (labels elsewhere come from data)
                for axis in (ax.xaxis, ax.yaxis):
                    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
                    axis.set_minor_formatter(NullFormatter())
                ax.set_xlim(1e-3, 1)
                ax.set_ylim(1e-3, 1)
                ax.set_title(f"{title} (log scale: low false-positive rates)", fontsize=9)
            else:
                ax.set_title(title, fontsize=9)
            ax.set_xlabel("false-positive rate (non-members flagged)", fontsize=8)
            ax.set_ylabel("true-positive rate (members found)", fontsize=8)
            ax.tick_params(labelsize=7)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        axes[0].legend(fontsize=7, frameon=False, loc="lower right")
        fig.tight_layout()
        return figure_to_svg(fig)
