"""Matplotlib figures as inline SVG (no external files, no fonts fetched, reproducible ids)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

__all__ = [
    "bar_chart_svg",
    "curve_svg",
    "dot_chart_svg",
    "figure_to_svg",
    "heatmap_pair_svg",
    "interval_bars_svg",
    "lines_svg",
    "step_hist_svg",
]

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


# ----------------------------------------------------------------------------------------------
# fidelity and utility sections

_SYN, _REAL, _REF = COLOURS["synthetic"], COLOURS["train"], "#7a7a7a"


def _legend_top(ax: Any, title: str, ncol: int = 2) -> None:
    """Title, then the legend between title and axes (never over the data)."""
    rows = max(1, -(-len(ax.get_legend_handles_labels()[1]) // ncol))
    ax.set_title(title, fontsize=9, pad=8 + 11 * rows)
    ax.legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=ncol, borderaxespad=0.2)


def _tidy(ax: Any) -> None:
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def dot_chart_svg(
    title: str, labels: Sequence[str], values: Sequence[float], references: Sequence[float], *, xlabel: str
) -> str:
    """One row per label: the synthetic value (dot) next to its holdout reference (ring)."""
    with matplotlib.rc_context(RC):
        n = len(labels)
        fig, ax = plt.subplots(figsize=(5.2, max(1.6, 0.24 * n + 0.9)))
        ys = list(range(n))
        for y, v, r in zip(ys, values, references, strict=True):
            ax.plot([v, r], [y, y], color="#cccccc", linewidth=1, zorder=1)
        ax.scatter(references, ys, facecolors="none", edgecolors=_REF, label="holdout vs train (reference)", zorder=2)
        ax.scatter(values, ys, color=_SYN, label="synthetic vs train", zorder=3, s=18)
        ax.set_yticks(ys)
        ax.set_yticklabels([str(x) for x in labels], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel, fontsize=8)
        _legend_top(ax, title)
        _tidy(ax)
        return figure_to_svg(fig)


def heatmap_pair_svg(
    columns: Sequence[str], panels: Mapping[str, Sequence[Sequence[float | None]]], *, title: str, label: str
) -> str:
    """Side-by-side heatmaps of signed differences on one symmetric colour scale (blank = not computed)."""
    import numpy as np

    with matplotlib.rc_context(RC):
        mats = {
            k: np.array([[np.nan if v is None else v for v in row] for row in m], dtype=float)
            for k, m in panels.items()
        }
        finite = [np.abs(m[np.isfinite(m)]).max() for m in mats.values() if np.isfinite(m).any()]
        vmax = max(0.1, max(finite) if finite else 0.1)
        n = len(columns)
        size = min(6.0, max(2.8, 0.26 * n + 1.2))
        fig, axes = plt.subplots(1, len(mats), figsize=(size * len(mats) + 0.8, size))
        axes = np.atleast_1d(axes)
        im = None
        for ax, (name, m) in zip(axes, mats.items(), strict=True):
            im = ax.imshow(m, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_xticks(range(n))
            ax.set_yticks(range(n))
            ax.set_xticklabels([str(c) for c in columns], rotation=90, fontsize=6)
            ax.set_yticklabels([str(c) for c in columns], fontsize=6)
            ax.set_title(name, fontsize=9)
        if im is not None:
            cb = fig.colorbar(im, ax=list(axes), shrink=0.8)
            cb.ax.tick_params(labelsize=7)
            cb.set_label(label, fontsize=8)
        fig.suptitle(title, fontsize=9)
        return figure_to_svg(fig)


def step_hist_svg(title: str, edges: Sequence[float], series: Mapping[str, Sequence[float]], *, xlabel: str) -> str:
    """Histograms as step lines on shared bins (shares of each group's rows)."""
    with matplotlib.rc_context(RC):
        fig, ax = plt.subplots(figsize=(4.6, 2.6))
        for name, shares in series.items():
            ax.stairs(shares, edges, label=name, linewidth=1.4, color=COLOURS.get(name.split()[0]))
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel("share of rows", fontsize=8)
        _legend_top(ax, title, ncol=3)
        _tidy(ax)
        return figure_to_svg(fig)


def lines_svg(title: str, series: Mapping[str, Sequence[float]], *, xlabel: str, ylabel: str) -> str:
    """One line per series over its index (e.g. sorted per-triple scores)."""
    with matplotlib.rc_context(RC):
        fig, ax = plt.subplots(figsize=(4.6, 2.6))
        colours = [_SYN, _REF, _REAL]
        for i, (name, ys) in enumerate(series.items()):
            ax.plot(range(1, len(ys) + 1), ys, label=name, linewidth=1.4, color=colours[i % len(colours)])
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        _legend_top(ax, title)
        _tidy(ax)
        return figure_to_svg(fig)


Interval = tuple[float, float, float]  # value, low, high


def interval_bars_svg(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[Interval | None]],
    *,
    xlabel: str,
    horizontal: bool = False,
    highlight: Sequence[bool] | None = None,
    colours: Mapping[str, str] | None = None,
) -> str:
    """Grouped bars with interval whiskers; ``highlight`` marks categories (e.g. flagged groups) with ⚠."""
    import numpy as np

    with matplotlib.rc_context(RC):
        n, k = len(categories), max(1, len(series))
        long = max(1.8, 0.3 * n * k / 1.6 + 0.9)
        fig, ax = plt.subplots(figsize=(5.4, long) if horizontal else (max(4.2, 0.5 * n * k + 1.5), 2.8))
        width = 0.8 / k
        palette = colours or {}
        default = [_SYN, _REAL, _REF, "#4c9a2a"]
        for i, (name, vals) in enumerate(series.items()):
            pos = np.arange(n) + (i - (k - 1) / 2) * width
            v = np.array([np.nan if x is None else x[0] for x in vals], dtype=float)
            lo = np.array([np.nan if x is None else x[0] - x[1] for x in vals], dtype=float)
            hi = np.array([np.nan if x is None else x[2] - x[0] for x in vals], dtype=float)
            err = np.vstack([np.clip(lo, 0, None), np.clip(hi, 0, None)])
            colour = palette.get(name, default[i % len(default)])
            if horizontal:
                ax.barh(pos, v, height=width, xerr=err, label=name, color=colour, error_kw={"elinewidth": 0.8})
            else:
                ax.bar(pos, v, width=width, yerr=err, label=name, color=colour, error_kw={"elinewidth": 0.8})
        labels = [("⚠ " if highlight is not None and highlight[j] else "") + str(c) for j, c in enumerate(categories)]
        if horizontal:
            ax.set_yticks(range(n))
            ax.set_yticklabels(labels, fontsize=7)
            ax.invert_yaxis()
            ax.set_xlabel(xlabel, fontsize=8)
        else:
            ax.set_xticks(range(n))
            ax.set_xticklabels(labels, fontsize=7)
            ax.set_ylabel(xlabel, fontsize=8)
        _legend_top(ax, title)
        _tidy(ax)
        return figure_to_svg(fig)


def curve_svg(
    title: str,
    x: Sequence[float],
    series: Mapping[str, Sequence[Interval]],
    *,
    xlabel: str,
    ylabel: str,
    references: Mapping[str, float] | None = None,
) -> str:
    """Curves with interval bands over a log-scaled x axis, and horizontal reference lines."""
    with matplotlib.rc_context(RC):
        fig, ax = plt.subplots(figsize=(5.4, 3.0))
        colours = [_REAL, _SYN]
        for i, (name, pts) in enumerate(series.items()):
            c = colours[i % len(colours)]
            ax.plot(x, [p[0] for p in pts], marker="o", label=name, color=c, linewidth=1.4)
            ax.fill_between(x, [p[1] for p in pts], [p[2] for p in pts], color=c, alpha=0.15, linewidth=0)
        for j, (name, v) in enumerate((references or {}).items()):
            ax.axhline(v, linestyle="--" if j == 0 else ":", color=_REF, linewidth=1, label=name)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(list(x))
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        _legend_top(ax, title)
        _tidy(ax)
        return figure_to_svg(fig)
