"""Fidelity: is the release statistically like the real data?

Every number compares synthetic with train; its baseline (the *reference*) compares holdout with
train, i.e. what two real samples of the same population show. A release cannot be expected to do
better than the reference; a number far below it says the generator lost that structure.

Checks
------
``fidelity.marginal[column=…]``
    Per column: 1 − total variation distance (categories) or 1 − Kolmogorov-Smirnov (numbers and
    dates), with the scaled Wasserstein distance and missing-value rates in the details.
``fidelity.univariate``
    The mean of the per-column values: the section's one-line univariate score.
``fidelity.pairs``
    Pairs of columns: Spearman (and Pearson) correlation similarity for two numeric columns,
    contingency similarity (1 − TVD of the two-way table, numbers binned) otherwise; only pairs
    whose real association is meaningful are scored (as SDMetrics does since 2026); the
    association differences (Spearman, Cramér's V, correlation ratio) as a heatmap.
``fidelity.kway``
    3-way marginal similarity on a seeded sample of column triples, and the NIST CRC k-marginal
    score.
``fidelity.distinguishability``
    A classifier two-sample test (gradient boosting, cross-validated AUC) of train against
    synthetic, next to train against holdout; pMSE and the standardised S_pMSE.
``fidelity.validity``
    Synthetic categories the real data never shows, numbers outside the real range, and rows that
    break the constraints declared in the schema file.

Comparisons of joint distributions (pairs, triples, classifier tests, validity shares) use
equally many synthetic and holdout rows (a seeded sample of the larger table), so that the value
and its reference carry the same sampling noise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata
from sklearn.model_selection import StratifiedKFold

from synthguard.audit.results import CheckResult, Estimate
from synthguard.audit.runner import AuditContext, CheckSkipped, register
from synthguard.audit.schema import Condition, Constraint
from synthguard.core.stats import auc_delong, wilson
from synthguard.metrics._ml import boosting_pipeline, feature_frame, quiet_fit, seed_from

__all__ = [
    "Distinguishability",
    "KWayFidelity",
    "MarginalFidelity",
    "PairFidelity",
    "UnivariateFidelity",
    "Validity",
    "chart_bins",
    "constraint_masks",
    "correlation_ratio",
    "cramers_v",
    "ks_from_counts",
    "tvd_from_counts",
    "wasserstein_from_counts",
]

RARE = "(rare)"
MISSING = "(missing)"
OTHER = "(other)"
#: a pair (or a column's role in the heatmap) counts as associated from this strength on
ASSOCIATION_THRESHOLD = 0.1


# ----------------------------------------------------------------------------------------------
# distances between count vectors


def tvd_from_counts(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total variation distance between count vectors (last axis), as proportions.

    References
    ----------
    A. L. Gibbs and F. E. Su, "On choosing and bounding probability metrics", International
    Statistical Review 70 (2002) 419-435.
    """
    p = p / np.maximum(p.sum(axis=-1, keepdims=True), 1)
    q = q / np.maximum(q.sum(axis=-1, keepdims=True), 1)
    return 0.5 * np.abs(p - q).sum(axis=-1)


def ks_from_counts(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Kolmogorov-Smirnov statistic between count vectors over the same sorted support.

    References
    ----------
    N. Smirnov, "Table for estimating the goodness of fit of empirical distributions", Annals of
    Mathematical Statistics 19 (1948) 279-281.
    """
    p = p / np.maximum(p.sum(axis=-1, keepdims=True), 1)
    q = q / np.maximum(q.sum(axis=-1, keepdims=True), 1)
    return np.abs(np.cumsum(p, axis=-1) - np.cumsum(q, axis=-1)).max(axis=-1)


def wasserstein_from_counts(p: np.ndarray, q: np.ndarray, support: np.ndarray) -> np.ndarray:
    """First Wasserstein (earth mover's) distance between count vectors over a sorted support.

    ``W1 = Σ_k |F_p(x_k) − F_q(x_k)| (x_{k+1} − x_k)``, the area between the two distribution
    functions.

    References
    ----------
    S. S. Vallender, "Calculation of the Wasserstein distance between probability distributions
    on the line", Theory of Probability and its Applications 18 (1974) 784-786.
    """
    p = p / np.maximum(p.sum(axis=-1, keepdims=True), 1)
    q = q / np.maximum(q.sum(axis=-1, keepdims=True), 1)
    gaps = np.diff(np.asarray(support, dtype=np.float64))
    diff = np.abs(np.cumsum(p, axis=-1) - np.cumsum(q, axis=-1))[..., :-1]
    return (diff * gaps).sum(axis=-1)


def _as_numbers(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return (s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return s.astype(float)


def _normal_interval(
    value: float, reps: np.ndarray, conf: float, n: int, n_boot: int, metric: str, *, upper: float = 1.0
) -> Estimate:
    """``value ± z·SE`` with the standard error from the bootstrap replicates, clipped to [0, upper].

    Distances between samples are biased upwards by sampling noise, so percentile intervals of
    1 − distance sit almost entirely below the estimate; the normal interval keeps the estimate in
    the middle and shows its sampling spread (Efron & Tibshirani 1993, ch. 13). The holdout
    reference, computed the same way, shows what the bias alone amounts to.
    """
    reps = reps[np.isfinite(reps)]
    se = float(np.std(reps, ddof=1)) if reps.size > 1 else float("nan")
    z = float(norm.ppf(0.5 + conf / 2))
    lo = max(0.0, value - z * se) if np.isfinite(se) else 0.0
    hi = min(upper, value + z * se) if np.isfinite(se) else upper
    return Estimate(
        value,
        min(lo, value),
        max(hi, value),
        conf,
        n,
        f"{metric}, normal interval with bootstrap SE ({n_boot} resamples)",
    )


def chart_bins(real: pd.Series, tables: dict[str, pd.Series], numeric: bool, k: int) -> dict[str, Any]:
    """Binned shares of each table for a chart, with small-cell suppression.

    Categories seen fewer than ``k`` times in real data, and categories real data never shows,
    are grouped as "(rare)". Numbers are binned at quantiles of the real data so that every bin
    holds many real records; the outer bins are open-ended so no extreme value is shown.
    """
    out: dict[str, Any] = {"labels": [], "shares": {}}
    if numeric:
        real_v = real.dropna().to_numpy(dtype=float)
        n_bins = int(max(1, min(20, len(real_v) // max(k, 1))))
        inner = np.unique(np.quantile(real_v, np.linspace(0, 1, n_bins + 1)[1:-1])) if n_bins > 1 else []
        edges = np.concatenate([[-np.inf], inner, [np.inf]])
        labels = []
        for lo, hi in itertools.pairwise(edges):
            if np.isinf(lo) and np.isinf(hi):
                labels.append("all values")
            elif np.isinf(lo):
                labels.append(f"< {hi:.4g}")
            elif np.isinf(hi):
                labels.append(f"≥ {lo:.4g}")
            else:
                labels.append(f"{lo:.4g} – {hi:.4g}")
        any_missing = any(t.isna().any() for t in tables.values())
        if any_missing:
            labels.append(MISSING)
        for name, t in tables.items():
            v = t.dropna().to_numpy(dtype=float)
            counts = np.histogram(v, bins=edges)[0].astype(float) if len(edges) > 2 else np.array([len(v)], float)
            if any_missing:
                counts = np.append(counts, float(t.isna().sum()))
            out["shares"][name] = (counts / max(len(t), 1)).round(6).tolist()
        # bins no table reaches (e.g. below an atom at the minimum) only clutter the chart
        shown = [i for i in range(len(labels)) if any(s[i] > 0 for s in out["shares"].values())]
        out["labels"] = [labels[i] for i in shown]
        out["shares"] = {n: [s[i] for i in shown] for n, s in out["shares"].items()}
        return out
    real_keys = real.astype(object).where(real.notna(), MISSING).astype(str)
    real_counts = real_keys.value_counts()
    keep = [c for c in real_counts.index if real_counts[c] >= k]
    keep = sorted(keep, key=lambda c: (-real_counts[c], c))[:30]
    labels = [*keep, RARE]
    for name, t in tables.items():
        keys = t.astype(object).where(t.notna(), MISSING).astype(str)
        vc = keys.value_counts()
        shares = [float(vc.get(c, 0)) for c in keep]
        shares.append(float(len(keys) - sum(shares)))
        out["shares"][name] = (np.array(shares) / max(len(keys), 1)).round(6).tolist()
    if out["shares"] and all(s[-1] == 0 for s in out["shares"].values()):
        labels = labels[:-1]
        out["shares"] = {n: s[:-1] for n, s in out["shares"].items()}
    out["labels"] = labels
    return out


# ----------------------------------------------------------------------------------------------
# univariate: one pass of row resamples shared by every column


@dataclass(frozen=True)
class _ColumnFidelity:
    name: str
    kind: str
    numeric: bool
    metric: str
    value: float
    reference: float
    value_reps: np.ndarray
    reference_reps: np.ndarray
    w1: float | None  # scaled Wasserstein, synthetic vs train
    w1_reference: float | None
    w1_reps: np.ndarray | None
    w1_reference_reps: np.ndarray | None
    scale: float | None
    scale_method: str | None
    missing: dict[str, float]


def _robust_scale(v: np.ndarray) -> tuple[float, str]:
    """IQR of the real values, the standard deviation when the IQR is 0, else 1."""
    if v.size:
        q1, q3 = np.quantile(v, [0.25, 0.75])
        if q3 - q1 > 0:
            return float(q3 - q1), "IQR"
        sd = float(np.std(v))
        if sd > 0:
            return sd, "standard deviation"
    return 1.0, "unit"


def _univariate(ctx: AuditContext) -> list[_ColumnFidelity]:
    """Per-column values, references and bootstrap replicates (rows of each table resampled jointly)."""

    def compute() -> list[_ColumnFidelity]:
        d = ctx.data
        rng = ctx.shared_rng("fidelity.univariate")
        n_boot = int(ctx.settings.n_bootstrap)
        roles = ("train", "holdout", "synthetic")
        n = {r: len(d.table(r)) for r in roles}
        specs = []
        for col in d.schema.columns:
            numeric = col.kind in ("numeric", "datetime")
            tables = {r: d.table(r)[col.name] for r in roles}
            if numeric:
                tables = {r: _as_numbers(v) for r, v in tables.items()}
                vals = {r: t.to_numpy(dtype=float) for r, t in tables.items()}
                present = np.concatenate([v[np.isfinite(v)] for v in vals.values()])
                support = np.unique(present)
                codes = {
                    r: np.where(np.isfinite(v), np.searchsorted(support, np.nan_to_num(v)), len(support))
                    for r, v in vals.items()
                }
                k = len(support)
                scale, scale_method = _robust_scale(vals["train"][np.isfinite(vals["train"])])
            else:
                keys = {r: t.astype(object).where(t.notna(), MISSING).astype(str) for r, t in tables.items()}
                cats = pd.Index(pd.unique(pd.concat(list(keys.values()), ignore_index=True)))
                codes = {r: cats.get_indexer(pd.Index(k_)) for r, k_ in keys.items()}
                k, support, scale, scale_method = len(cats), None, None, None
            specs.append((col, numeric, codes, k, support, scale, scale_method, tables))

        def stats(counts: dict[str, np.ndarray], numeric: bool, support: Any, scale: Any) -> tuple[float, ...]:
            stat = ks_from_counts if numeric else tvd_from_counts
            v = 1.0 - float(stat(counts["synthetic"], counts["train"]))
            r = 1.0 - float(stat(counts["holdout"], counts["train"]))
            if not numeric or len(support) < 2:
                return v, r, 0.0 if numeric else math.nan, 0.0 if numeric else math.nan
            w = float(wasserstein_from_counts(counts["synthetic"], counts["train"], support)) / scale
            wr = float(wasserstein_from_counts(counts["holdout"], counts["train"], support)) / scale
            return v, r, w, wr

        def count(codes: np.ndarray, k: int, idx: np.ndarray | None) -> np.ndarray:
            c = codes if idx is None else codes[idx]
            return np.bincount(c, minlength=k + 1)[:k].astype(float)

        point = [
            stats({r: count(codes[r], k, None) for r in roles}, numeric, support, scale)
            for (_, numeric, codes, k, support, scale, _, _) in specs
        ]
        reps = np.full((len(specs), 4, n_boot), np.nan)
        for b in range(n_boot):
            idx = {r: rng.integers(0, n[r], n[r]) for r in roles}
            for i, (_, numeric, codes, k, support, scale, _, _) in enumerate(specs):
                reps[i, :, b] = stats({r: count(codes[r], k, idx[r]) for r in roles}, numeric, support, scale)
        out = []
        for i, (col, numeric, _, _, _, scale, scale_method, tables) in enumerate(specs):
            v, r, w, wr = point[i]
            out.append(
                _ColumnFidelity(
                    name=col.name,
                    kind=col.kind,
                    numeric=numeric,
                    metric="1 - KS" if numeric else "1 - TVD",
                    value=v,
                    reference=r,
                    value_reps=reps[i, 0],
                    reference_reps=reps[i, 1],
                    w1=w if numeric else None,
                    w1_reference=wr if numeric else None,
                    w1_reps=reps[i, 2] if numeric else None,
                    w1_reference_reps=reps[i, 3] if numeric else None,
                    scale=scale,
                    scale_method=scale_method,
                    missing={r_: float(t.isna().mean()) for r_, t in tables.items()},
                )
            )
        return out

    return ctx.cached("fidelity.univariate", compute)


def _spread(value: float, reps: np.ndarray | None, conf: float) -> dict[str, float]:
    """A secondary number with a normal bootstrap interval (not clipped)."""
    if reps is None:
        return {"value": value}
    r = reps[np.isfinite(reps)]
    se = float(np.std(r, ddof=1)) if r.size > 1 else 0.0
    z = float(norm.ppf(0.5 + conf / 2))
    return {"value": value, "ci_low": max(0.0, value - z * se), "ci_high": value + z * se}


@register
class MarginalFidelity:
    """Per-column marginal fidelity with the train-vs-holdout reference."""

    id: ClassVar[str] = "fidelity.marginal"
    family: ClassVar[str] = "fidelity"
    help: ClassVar[str] = (
        "Per column: 1 − total variation distance (categories) or 1 − KS "
        "(numbers) between synthetic and train, next to holdout vs train."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        d = ctx.data
        conf = ctx.settings.confidence
        n_boot = int(ctx.settings.n_bootstrap)
        out = []
        for cf in _univariate(ctx):
            col = cf.name
            tables = {"train": d.train[col], "holdout": d.holdout[col], "synthetic": d.synthetic[col]}
            if cf.numeric:
                tables = {k: _as_numbers(v) for k, v in tables.items()}
            est = _normal_interval(cf.value, cf.value_reps, conf, len(d.synthetic), n_boot, cf.metric)
            base = _normal_interval(cf.reference, cf.reference_reps, conf, len(d.holdout), n_boot, cf.metric)
            real = pd.concat([tables["train"], tables["holdout"]], ignore_index=True)
            chart = chart_bins(real, tables, cf.numeric, ctx.settings.rare_k)
            summary = (
                f"'{col}': {cf.metric} between synthetic and train is {cf.value:.3f}; two real samples "
                f"(holdout vs train) give {cf.reference:.3f}."
            )
            details: dict[str, Any] = {
                "column": col,
                "column_kind": cf.kind,
                "metric": cf.metric,
                "chart": chart,
                "missing_share": cf.missing,
            }
            if cf.w1 is not None and cf.w1_reference is not None:
                details["wasserstein_scaled"] = _spread(cf.w1, cf.w1_reps, conf)
                details["wasserstein_scaled_reference"] = _spread(cf.w1_reference, cf.w1_reference_reps, conf)
                details["wasserstein_scale"] = cf.scale_method
            out.append(
                CheckResult(
                    id=f"{self.id}[column={col}]",
                    family=self.family,
                    kind="fidelity",
                    estimate=est,
                    baseline=base,
                    summary=summary,
                    details=details,
                    params={"n_bootstrap": n_boot},
                )
            )
        return out


@register
class UnivariateFidelity:
    """The section score of the per-column comparisons: their mean, with the same mean for holdout.

    References
    ----------
    SDMetrics "Column Shapes" property (DataCebo, 2022-2026): the mean of per-column 1 − TVD and
    1 − KS; here each column is also compared with a real holdout sample.
    """

    id: ClassVar[str] = "fidelity.univariate"
    family: ClassVar[str] = "fidelity"
    help: ClassVar[str] = (
        "Univariate score: mean over columns of 1 − TVD / 1 − KS, with scaled Wasserstein distances "
        "and missing-value rates, next to holdout vs train."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})
    definition: ClassVar[str] = (
        "mean over all columns of 1 − total variation distance (categorical columns, missing values "
        "as a category) or 1 − Kolmogorov-Smirnov statistic (numeric and date columns), synthetic "
        "vs train; 1 = every column distributed exactly as in train"
    )

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        cols = _univariate(ctx)
        if not cols:
            raise CheckSkipped("no columns to compare")
        conf = ctx.settings.confidence
        n_boot = int(ctx.settings.n_bootstrap)
        value = float(np.mean([c.value for c in cols]))
        ref = float(np.mean([c.reference for c in cols]))
        reps = np.nanmean(np.vstack([c.value_reps for c in cols]), axis=0)
        ref_reps = np.nanmean(np.vstack([c.reference_reps for c in cols]), axis=0)
        method = "mean per-column similarity, rows resampled jointly"
        est = _normal_interval(value, reps, conf, len(ctx.data.synthetic), n_boot, method)
        base = _normal_interval(ref, ref_reps, conf, len(ctx.data.holdout), n_boot, method)
        rows = []
        for c in cols:
            row: dict[str, Any] = {
                "column": c.name,
                "kind": c.kind,
                "metric": c.metric,
                "value": c.value,
                "reference": c.reference,
                "excess": c.value - c.reference,
                "missing_train": c.missing["train"],
                "missing_holdout": c.missing["holdout"],
                "missing_synthetic": c.missing["synthetic"],
            }
            if c.w1 is not None:
                row["wasserstein_scaled"] = c.w1
                row["wasserstein_scaled_reference"] = c.w1_reference
            rows.append(row)
        worst = sorted(rows, key=lambda r: r["excess"])[:3]
        missing_gap = max(abs(c.missing["synthetic"] - c.missing["train"]) for c in cols)
        summary = (
            f"Averaged over {len(cols)} columns, the synthetic marginals score {value:.3f} against train; "
            f"two real samples score {ref:.3f}. Furthest behind: "
            + ", ".join(f"'{r['column']}' ({r['value']:.3f} vs {r['reference']:.3f})" for r in worst)
            + f". The largest gap in missing-value rate is {missing_gap:.1%}."
        )
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="fidelity",
                estimate=est,
                baseline=base,
                summary=summary,
                details={
                    "definition": self.definition,
                    "columns": rows,
                    "worst_excess": min(r["excess"] for r in rows),
                    "max_missing_rate_gap": missing_gap,
                    "wasserstein_note": (
                        "scaled Wasserstein = first Wasserstein distance divided by the interquartile range "
                        "of the real column (its standard deviation when the IQR is 0); 0 is identical"
                    ),
                },
                params={"n_bootstrap": n_boot},
            )
        ]


# ----------------------------------------------------------------------------------------------
# coded tables for pairs and triples


@dataclass(frozen=True)
class _Coded:
    """Integer codes of every column (numbers binned at train quantiles; missing its own level)."""

    names: list[str]
    numeric: list[bool]
    levels: list[int]
    train: np.ndarray  # (columns, rows) int64
    holdout: np.ndarray
    synthetic: np.ndarray


@dataclass(frozen=True)
class _Samples:
    """Equally many holdout and synthetic rows (indices into the full tables)."""

    holdout: np.ndarray
    synthetic: np.ndarray


def _equal_samples(ctx: AuditContext) -> _Samples:
    def draw() -> _Samples:
        rng = ctx.shared_rng("fidelity.equal_samples")
        n_h, n_s = len(ctx.data.holdout), len(ctx.data.synthetic)
        m = min(n_h, n_s)
        h = np.arange(n_h) if n_h == m else np.sort(rng.choice(n_h, m, replace=False))
        s = np.arange(n_s) if n_s == m else np.sort(rng.choice(n_s, m, replace=False))
        return _Samples(h, s)

    return ctx.cached("fidelity.equal_samples", draw)


def _codes(ctx: AuditContext, n_bins: int, max_categories: int) -> _Coded:
    def compute() -> _Coded:
        d = ctx.data
        eq = _equal_samples(ctx)
        k = ctx.settings.rare_k
        frames = {
            "train": d.train,
            "holdout": d.holdout.iloc[eq.holdout],
            "synthetic": d.synthetic.iloc[eq.synthetic],
        }
        names, numeric, levels = [], [], []
        codes: dict[str, list[np.ndarray]] = {r: [] for r in frames}
        for col in d.schema.columns:
            is_num = col.kind in ("numeric", "datetime")
            if is_num:
                tr = _as_numbers(d.train[col.name]).to_numpy(dtype=float)
                tr = tr[np.isfinite(tr)]
                edges = np.unique(np.quantile(tr, np.linspace(0, 1, n_bins + 1)[1:-1])) if tr.size else np.array([])
                n_lev = len(edges) + 2  # bins, then missing
                for r, f in frames.items():
                    v = _as_numbers(f[col.name]).to_numpy(dtype=float)
                    c = np.searchsorted(edges, np.nan_to_num(v), side="right")
                    codes[r].append(np.where(np.isfinite(v), c, n_lev - 1).astype(np.int64))
            else:
                vc = d.train[col.name].value_counts()
                keep = [c for c in vc.index if vc[c] >= k][:max_categories]
                index = pd.Index(keep)
                n_lev = len(keep) + 2  # kept categories, other, missing
                for r, f in frames.items():
                    s = f[col.name]
                    c = index.get_indexer(s.astype(object).where(s.notna(), None))
                    c = np.where(c < 0, len(keep), c)
                    codes[r].append(np.where(s.isna().to_numpy(), n_lev - 1, c).astype(np.int64))
            names.append(col.name)
            numeric.append(is_num)
            levels.append(n_lev)

        def stack(r: str) -> np.ndarray:
            return np.vstack(codes[r]) if codes[r] else np.zeros((0, len(frames[r])), np.int64)

        return _Coded(names, numeric, levels, stack("train"), stack("holdout"), stack("synthetic"))

    return ctx.cached(f"fidelity.codes[{n_bins},{max_categories}]", compute)


def _table(codes: np.ndarray, cols: Sequence[int], levels: Sequence[int], w: np.ndarray | None = None) -> np.ndarray:
    """Counts of the joint codes of ``cols`` (flattened contingency table)."""
    key = np.zeros(codes.shape[1], dtype=np.int64)
    size = 1
    for c in cols:
        key = key * levels[c] + codes[c]
        size *= levels[c]
    return np.bincount(key, weights=w, minlength=size).astype(float)


def cramers_v(table: np.ndarray) -> float:
    """Bias-corrected Cramér's V of a two-way table of counts (0 = independent, 1 = determined).

    References
    ----------
    H. Cramér, *Mathematical Methods of Statistics*, Princeton (1946), p. 282; W. Bergsma, "A
    bias-correction for Cramér's V and Tschuprow's T", Journal of the Korean Statistical Society
    42 (2013) 323-328.
    """
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    n = t.sum()
    r, k = t.shape
    if n < 2 or r < 2 or k < 2:
        return 0.0
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n
    chi2 = float(((t - expected) ** 2 / expected).sum())
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    r_c = r - (r - 1) ** 2 / (n - 1)
    k_c = k - (k - 1) ** 2 / (n - 1)
    den = min(k_c - 1, r_c - 1)
    return float(min(1.0, math.sqrt(phi2 / den))) if den > 0 else 0.0


def correlation_ratio(values: np.ndarray, groups: np.ndarray) -> float:
    """Correlation ratio η of a numeric variable on a grouping (0 = equal group means, 1 = determined).

    Rows with a missing value are ignored; NaN-free constant values give 0.

    References
    ----------
    K. Pearson, "On the general theory of skew correlation and non-linear regression", Drapers'
    Company Research Memoirs, Biometric Series II (1905).
    """
    v = np.asarray(values, dtype=float)
    g = np.asarray(groups)
    ok = np.isfinite(v)
    v, g = v[ok], g[ok]
    if v.size < 2:
        return 0.0
    _, gi = np.unique(g, return_inverse=True)
    sums = np.bincount(gi, weights=v)
    cnt = np.bincount(gi).astype(float)
    mean = v.mean()
    ss_tot = float(((v - mean) ** 2).sum())
    if ss_tot <= 1e-12 * max(1.0, float((v * v).sum())):
        return 0.0
    ss_between = float((cnt * (sums / cnt - mean) ** 2).sum())
    return float(math.sqrt(min(1.0, max(0.0, ss_between / ss_tot))))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 3:
        return 0.0
    sx, sy = x.std(), y.std()
    if sx <= 0 or sy <= 0:
        return 0.0
    return float(np.clip(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy), -1.0, 1.0))


def _weighted_corr(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    tot = w.sum()
    if tot <= 0:
        return 0.0
    mx, my = (w @ x) / tot, (w @ y) / tot
    vx = (w @ (x * x)) / tot - mx * mx
    vy = (w @ (y * y)) / tot - my * my
    if vx <= 1e-12 or vy <= 1e-12:
        return 0.0
    return float(np.clip(((w @ (x * y)) / tot - mx * my) / math.sqrt(vx * vy), -1.0, 1.0))


def _numbers(ctx: AuditContext) -> dict[str, pd.DataFrame]:
    """Numeric and date columns as floats, for train and the equal-size holdout / synthetic samples."""

    def compute() -> dict[str, pd.DataFrame]:
        d = ctx.data
        eq = _equal_samples(ctx)
        cols = d.schema.of_kind("numeric", "datetime")
        frames = {"train": d.train, "holdout": d.holdout.iloc[eq.holdout], "synthetic": d.synthetic.iloc[eq.synthetic]}
        return {r: pd.DataFrame({c: _as_numbers(f[c]).to_numpy(dtype=float) for c in cols}) for r, f in frames.items()}

    return ctx.cached("fidelity.numbers", compute)


@dataclass
class _Pair:
    a: int
    b: int
    kind: str  # "numeric", "categorical", "mixed"
    measure: str
    assoc: dict[str, float]
    extra: dict[str, float]
    score: float = math.nan
    reference: float = math.nan
    scored: bool = False
    ranks: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None  # mask, rank x, rank y


def _rank_pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mask = np.isfinite(x) & np.isfinite(y)
    rx = rankdata(x[mask]) if mask.any() else np.zeros(0)
    ry = rankdata(y[mask]) if mask.any() else np.zeros(0)
    return mask, rx, ry


@register
class PairFidelity:
    """Pairwise fidelity: correlation and contingency similarity, scored where real pairs are associated.

    References
    ----------
    C. Spearman, "The proof and measurement of association between two things", American Journal
    of Psychology 15 (1904) 72-101; SDMetrics CorrelationSimilarity and ContingencySimilarity
    (DataCebo), including their 2026 real-association thresholds; Cramér (1946) and Pearson
    (1905) for the association measures (see :func:`cramers_v`, :func:`correlation_ratio`).
    """

    id: ClassVar[str] = "fidelity.pairs"
    family: ClassVar[str] = "fidelity"
    help: ClassVar[str] = (
        "Pairs of columns: Spearman/Pearson correlation similarity (numbers) or contingency similarity "
        "(1 − TVD of the two-way table), scored where the real association is at least 0.1."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})
    definition: ClassVar[str] = (
        "mean over the column pairs whose real association is at least 0.1 (|Spearman ρ|, Cramér's V or "
        "correlation ratio η) of 1 − |ρ_synthetic − ρ_train| / 2 for two numeric columns and of 1 − TVD of "
        "the two-way table (numbers in 10 quantile bins of train) otherwise; 1 = every associated pair "
        "kept exactly"
    )
    max_pairs: ClassVar[int] = 300
    max_heatmap_columns: ClassVar[int] = 40

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        coded = _codes(ctx, 10, 20)
        nums = _numbers(ctx)
        names = coded.names
        if len(names) < 2:
            raise CheckSkipped("needs at least two columns")
        all_pairs = list(itertools.combinations(range(len(names)), 2))
        sampled = len(all_pairs) > self.max_pairs
        if sampled:
            pick = np.sort(ctx.rng.choice(len(all_pairs), self.max_pairs, replace=False))
            all_pairs = [all_pairs[i] for i in pick]
        roles = ("train", "holdout", "synthetic")
        tabs = {"train": coded.train, "holdout": coded.holdout, "synthetic": coded.synthetic}
        pairs: list[_Pair] = []
        for a, b in all_pairs:
            na, nb = coded.numeric[a], coded.numeric[b]
            tables = {r: _table(tabs[r], (a, b), coded.levels) for r in roles}
            contingency = {
                "synthetic": 1.0 - float(tvd_from_counts(tables["synthetic"], tables["train"])),
                "holdout": 1.0 - float(tvd_from_counts(tables["holdout"], tables["train"])),
            }
            if na and nb:
                ranks = {r: _rank_pair(nums[r][names[a]].to_numpy(), nums[r][names[b]].to_numpy()) for r in roles}
                assoc = {r: _pearson(rx, ry) for r, (_, rx, ry) in ranks.items()}
                pearson = {}
                for r in roles:
                    x, y = nums[r][names[a]].to_numpy(), nums[r][names[b]].to_numpy()
                    m = np.isfinite(x) & np.isfinite(y)
                    pearson[r] = _pearson(x[m], y[m])
                p = _Pair(a, b, "numeric", "Spearman ρ", assoc, {f"pearson_{r}": v for r, v in pearson.items()})
                p.ranks = ranks
                p.score = 1.0 - abs(assoc["synthetic"] - assoc["train"]) / 2
                p.reference = 1.0 - abs(assoc["holdout"] - assoc["train"]) / 2
                p.extra["pearson_similarity"] = 1.0 - abs(pearson["synthetic"] - pearson["train"]) / 2
                p.extra["pearson_similarity_reference"] = 1.0 - abs(pearson["holdout"] - pearson["train"]) / 2
            elif not na and not nb:
                assoc = {r: cramers_v(tables[r].reshape(coded.levels[a], coded.levels[b])) for r in roles}
                p = _Pair(a, b, "categorical", "Cramér's V", assoc, {})
                p.score, p.reference = contingency["synthetic"], contingency["holdout"]
            else:
                num_i, cat_i = (a, b) if na else (b, a)
                assoc = {r: correlation_ratio(nums[r][names[num_i]].to_numpy(), tabs[r][cat_i]) for r in roles}
                p = _Pair(a, b, "mixed", "correlation ratio η", assoc, {})
                p.score, p.reference = contingency["synthetic"], contingency["holdout"]
            p.extra["contingency_similarity"] = contingency["synthetic"]
            p.extra["contingency_similarity_reference"] = contingency["holdout"]
            p.scored = abs(assoc["train"]) >= ASSOCIATION_THRESHOLD
            pairs.append(p)
        scored = [p for p in pairs if p.scored]
        fallback = not scored
        if fallback:
            scored = pairs
        value = float(np.mean([p.score for p in scored]))
        ref = float(np.mean([p.reference for p in scored]))
        n_boot = min(int(ctx.settings.n_bootstrap), 100)
        reps, ref_reps = self._bootstrap(ctx, scored, coded, tabs, n_boot)
        conf = ctx.settings.confidence
        method = "mean pair similarity, rows resampled jointly"
        n_eq = coded.synthetic.shape[1]
        est = _normal_interval(value, reps, conf, n_eq, n_boot, method)
        base = _normal_interval(ref, ref_reps, conf, n_eq, n_boot, method)
        rows = [self._row(p, names) for p in pairs]
        worst = sorted((r for r in rows if r["scored"] or fallback), key=lambda r: r["score"] - r["reference"])[:3]
        n_weak = len(pairs) - (0 if fallback else len(scored))
        summary = (
            f"Over {len(scored)} associated column pairs, the synthetic data keep the real relationships "
            f"with a similarity of {value:.3f}; two real samples give {ref:.3f}. Largest losses: "
            + ", ".join(
                f"{r['columns'][0]} × {r['columns'][1]} ({r['score']:.3f} vs {r['reference']:.3f})" for r in worst
            )
            + "."
            + (
                f" {n_weak} pairs whose real association is below {ASSOCIATION_THRESHOLD} are reported but not scored."
                if n_weak and not fallback
                else ""
            )
            + (" No pair reaches the association threshold, so every pair is scored." if fallback else "")
        )
        heat_cols = list(range(min(len(names), self.max_heatmap_columns)))
        heatmap = self._heatmap(pairs, names, heat_cols)
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="fidelity",
                estimate=est,
                baseline=base,
                summary=summary,
                details={
                    "definition": self.definition,
                    "association_threshold": ASSOCIATION_THRESHOLD,
                    "pairs_total": len(pairs),
                    "pairs_scored": len(scored),
                    "pairs_not_scored": 0 if fallback else len(pairs) - len(scored),
                    "all_pairs_scored_fallback": fallback,
                    "pairs_sampled": sampled,
                    "rows_compared": n_eq,
                    "pairs": rows,
                    "heatmap": heatmap,
                    "sampling": (
                        f"holdout and synthetic compared on {n_eq} rows each (a seeded sample of the larger); "
                        "numbers binned at 10 quantiles of train, categories seen fewer than "
                        f"{ctx.settings.rare_k} times in train grouped"
                        + (f"; {self.max_pairs} pairs sampled at random" if sampled else "")
                    ),
                },
                params={"n_bootstrap": n_boot, "association_threshold": ASSOCIATION_THRESHOLD},
            )
        ]

    @staticmethod
    def _row(p: _Pair, names: list[str]) -> dict[str, Any]:
        return {
            "columns": [names[p.a], names[p.b]],
            "type": p.kind,
            "measure": p.measure,
            "association_train": p.assoc["train"],
            "association_synthetic": p.assoc["synthetic"],
            "association_holdout": p.assoc["holdout"],
            "score": p.score,
            "reference": p.reference,
            "scored": p.scored,
            **p.extra,
        }

    @staticmethod
    def _heatmap(pairs: list[_Pair], names: list[str], cols: list[int]) -> dict[str, Any]:
        pos = {c: i for i, c in enumerate(cols)}
        m = len(cols)
        syn = np.full((m, m), np.nan)
        hol = np.full((m, m), np.nan)
        for p in pairs:
            if p.a in pos and p.b in pos:
                i, j = pos[p.a], pos[p.b]
                syn[i, j] = syn[j, i] = p.assoc["synthetic"] - p.assoc["train"]
                hol[i, j] = hol[j, i] = p.assoc["holdout"] - p.assoc["train"]
        return {
            "columns": [names[c] for c in cols],
            "synthetic_minus_train": np.round(syn, 4).tolist(),
            "holdout_minus_train": np.round(hol, 4).tolist(),
            "note": "association (Spearman ρ, Cramér's V or correlation ratio η by pair type) minus its value in train",
        }

    @staticmethod
    def _bootstrap(
        ctx: AuditContext, scored: list[_Pair], coded: _Coded, tabs: dict[str, np.ndarray], n_boot: int
    ) -> tuple[np.ndarray, np.ndarray]:
        rng = ctx.rng
        n = {r: t.shape[1] for r, t in tabs.items()}
        keys = {}
        for p in scored:
            if p.kind != "numeric":
                keys[(p.a, p.b)] = {r: tabs[r][p.a] * coded.levels[p.b] + tabs[r][p.b] for r in tabs}
        reps = np.full(n_boot, np.nan)
        ref_reps = np.full(n_boot, np.nan)
        for b in range(n_boot):
            w = {r: np.bincount(rng.integers(0, n[r], n[r]), minlength=n[r]).astype(float) for r in tabs}
            s_v, s_r = [], []
            for p in scored:
                if p.kind == "numeric" and p.ranks is not None:
                    rho = {}
                    for r in tabs:
                        mask, rx, ry = p.ranks[r]
                        rho[r] = _weighted_corr(rx, ry, w[r][mask])
                    s_v.append(1.0 - abs(rho["synthetic"] - rho["train"]) / 2)
                    s_r.append(1.0 - abs(rho["holdout"] - rho["train"]) / 2)
                else:
                    size = coded.levels[p.a] * coded.levels[p.b]
                    k = keys[(p.a, p.b)]
                    t = {r: np.bincount(k[r], weights=w[r], minlength=size) for r in tabs}
                    s_v.append(1.0 - float(tvd_from_counts(t["synthetic"], t["train"])))
                    s_r.append(1.0 - float(tvd_from_counts(t["holdout"], t["train"])))
            reps[b], ref_reps[b] = np.mean(s_v), np.mean(s_r)
        return reps, ref_reps


# ----------------------------------------------------------------------------------------------
# higher order


@register
class KWayFidelity:
    """3-way marginal similarity on sampled triples and the NIST CRC k-marginal score.

    References
    ----------
    National Institute of Standards and Technology, "2020 Differential Privacy Temporal Map
    Challenge" and "Collaborative Research Cycle (CRC)" / SDNist v2 deidentified-data reports
    (k-marginal score, 0-1000).
    """

    id: ClassVar[str] = "fidelity.kway"
    family: ClassVar[str] = "fidelity"
    help: ClassVar[str] = (
        "Higher order: 1 − TVD of 3-way tables on a seeded sample of column triples (binned), and the "
        "NIST CRC k-marginal score (0-1000), next to holdout vs train."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})
    definition: ClassVar[str] = (
        "mean over a seeded sample of column triples of 1 − TVD between the synthetic and train 3-way "
        "tables (numbers in 5 quantile bins of train, the 6 most frequent categories kept, missing its own "
        "level); 1 = every sampled 3-way table identical"
    )
    max_triples: ClassVar[int] = 60

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        coarse = _codes(ctx, 5, 6)
        fine = _codes(ctx, 10, 20)
        c = len(coarse.names)
        if c < 3:
            raise CheckSkipped("needs at least three columns")
        rng = ctx.rng
        n_all = math.comb(c, 3)
        if n_all <= self.max_triples:
            triples = list(itertools.combinations(range(c), 3))
        else:
            seen: set[tuple[int, int, int]] = set()
            while len(seen) < self.max_triples:
                t = np.sort(rng.choice(c, 3, replace=False))
                seen.add((int(t[0]), int(t[1]), int(t[2])))
            triples = sorted(seen)
        tabs = {"train": coarse.train, "holdout": coarse.holdout, "synthetic": coarse.synthetic}
        keys = {t: {r: self._key(tabs[r], t, coarse.levels) for r in tabs} for t in triples}
        sizes = {t: int(np.prod([coarse.levels[i] for i in t])) for t in triples}

        def scores(w: Mapping[str, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
            v, r = [], []
            for t in triples:
                tb = {role: np.bincount(keys[t][role], weights=w[role], minlength=sizes[t]) for role in tabs}
                v.append(1.0 - float(tvd_from_counts(tb["synthetic"], tb["train"])))
                r.append(1.0 - float(tvd_from_counts(tb["holdout"], tb["train"])))
            return np.array(v), np.array(r)

        per_v, per_r = scores({role: None for role in tabs})
        value, ref = float(per_v.mean()), float(per_r.mean())
        n_boot = min(int(ctx.settings.n_bootstrap), 100)
        n = {role: tabs[role].shape[1] for role in tabs}
        reps, ref_reps = np.full(n_boot, np.nan), np.full(n_boot, np.nan)
        for b in range(n_boot):
            w = {role: np.bincount(rng.integers(0, n[role], n[role]), minlength=n[role]).astype(float) for role in tabs}
            bv, br = scores(w)
            reps[b], ref_reps[b] = bv.mean(), br.mean()
        conf = ctx.settings.confidence
        method = "mean 3-way similarity, rows resampled jointly"
        n_eq = coarse.synthetic.shape[1]
        est = _normal_interval(value, reps, conf, n_eq, n_boot, method)
        base = _normal_interval(ref, ref_reps, conf, n_eq, n_boot, method)
        # NIST CRC k-marginal (k = 2, every pair): 1000 × (1 − mean TVD), as SDNist scores it
        ftabs = {"train": fine.train, "holdout": fine.holdout, "synthetic": fine.synthetic}
        pair_v, pair_r = [], []
        for a, b2 in itertools.combinations(range(c), 2):
            tb = {role: _table(ftabs[role], (a, b2), fine.levels) for role in ftabs}
            pair_v.append(1.0 - float(tvd_from_counts(tb["synthetic"], tb["train"])))
            pair_r.append(1.0 - float(tvd_from_counts(tb["holdout"], tb["train"])))
        k2, k2_ref = 1000 * float(np.mean(pair_v)), 1000 * float(np.mean(pair_r))
        k3, k3_ref = 1000 * value, 1000 * ref
        k3_ci = (1000 * est.ci_low, 1000 * est.ci_high)
        names = coarse.names
        order = np.argsort(per_v - per_r)
        worst = [
            {"columns": [names[i] for i in triples[j]], "score": float(per_v[j]), "reference": float(per_r[j])}
            for j in order[:10]
        ]
        summary = (
            f"Over {len(triples)} column triples{' (a seeded sample)' if n_all > len(triples) else ''}, the "
            f"synthetic 3-way tables score {value:.3f} against train; two real samples score {ref:.3f}. "
            f"NIST CRC k-marginal score (k = 2, every pair, 0-1000): {k2:.0f} (reference {k2_ref:.0f}); "
            f"with k = 3 on the sampled triples: {k3:.0f} (reference {k3_ref:.0f})."
        )
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="fidelity",
                estimate=est,
                baseline=base,
                summary=summary,
                details={
                    "definition": self.definition,
                    "triples": len(triples),
                    "triples_possible": n_all,
                    "triple_scores": np.round(np.sort(per_v), 4).tolist(),
                    "triple_scores_reference": np.round(np.sort(per_r), 4).tolist(),
                    "worst_triples": worst,
                    "k_marginal_2": k2,
                    "k_marginal_2_reference": k2_ref,
                    "k_marginal_3": k3,
                    "k_marginal_3_ci_low": k3_ci[0],
                    "k_marginal_3_ci_high": k3_ci[1],
                    "k_marginal_3_reference": k3_ref,
                    "k_marginal_definition": (
                        "NIST CRC k-marginal score: (2 − mean over k-way marginals of the L1 distance between "
                        "the synthetic and train densities) × 500, i.e. 1000 × (1 − mean TVD); 1000 = identical. "
                        "k = 2 uses every pair (numbers in 10 quantile bins); k = 3 the sampled triples."
                    ),
                    "rows_compared": n_eq,
                },
                params={"n_bootstrap": n_boot, "max_triples": self.max_triples},
            )
        ]

    @staticmethod
    def _key(codes: np.ndarray, cols: Sequence[int], levels: Sequence[int]) -> np.ndarray:
        key = np.zeros(codes.shape[1], dtype=np.int64)
        for c in cols:
            key = key * levels[c] + codes[c]
        return key


# ----------------------------------------------------------------------------------------------
# distinguishability


def _propensity_hist(p: np.ndarray, y: np.ndarray, bins: int = 20) -> dict[str, list[float]]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = {"edges": edges.round(4).tolist()}
    for name, mask in (("real", y == 0), ("other", y == 1)):
        h = np.histogram(np.clip(p[mask], 0, 1), bins=edges)[0].astype(float)
        out[name] = (h / max(mask.sum(), 1)).round(5).tolist()
    return out


@register
class Distinguishability:
    """Classifier two-sample test (gradient boosting, cross-validated AUC), pMSE and S_pMSE.

    References
    ----------
    D. Lopez-Paz and M. Oquab, "Revisiting classifier two-sample tests", ICLR 2017;
    J. Snoke, G. M. Raab, B. Nowok, C. Dibben and A. Slavkovic, "General and specific utility
    measures for synthetic data", Journal of the Royal Statistical Society A 181 (2018) 663-688
    (pMSE, and S_pMSE with the null estimated by permuting the table labels).
    """

    id: ClassVar[str] = "fidelity.distinguishability"
    family: ClassVar[str] = "fidelity"
    help: ClassVar[str] = (
        "Can a classifier tell synthetic rows from train rows? Cross-validated AUC of gradient boosting, "
        "pMSE and S_pMSE, next to the same test of holdout against train."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})
    definition: ClassVar[str] = (
        "indistinguishability = 2 × (1 − AUC), capped at 1, where AUC is the out-of-fold ROC AUC of a "
        "gradient-boosting classifier telling synthetic rows from train rows (3-fold cross-validation, "
        "equally many rows of each); 1 = the classifier cannot tell them apart (AUC 0.5), 0 = it "
        "separates them perfectly"
    )
    max_rows: ClassVar[int] = 5000
    folds: ClassVar[int] = 3
    permutations: ClassVar[int] = 2

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        d = ctx.data
        cols = d.schema.names
        if not cols:
            raise CheckSkipped("no columns to compare")
        rng = ctx.rng
        m = min(self.max_rows, len(d.train), len(d.holdout), len(d.synthetic))
        if m < 2 * self.folds:
            raise CheckSkipped("too few rows for a cross-validated classifier")
        tr = rng.choice(len(d.train), m, replace=False)
        sy = rng.choice(len(d.synthetic), m, replace=False)
        ho = rng.choice(len(d.holdout), m, replace=False)
        num = d.schema.of_kind("numeric", "datetime")
        cat = d.schema.of_kind("categorical")
        frame = {
            "train": feature_frame(d.train.iloc[tr], cols),
            "synthetic": feature_frame(d.synthetic.iloc[sy], cols),
            "holdout": feature_frame(d.holdout.iloc[ho], cols),
        }
        conf = ctx.settings.confidence
        out: dict[str, dict[str, Any]] = {}
        for other in ("synthetic", "holdout"):
            X = pd.concat([frame["train"], frame[other]], ignore_index=True)
            y = np.r_[np.zeros(m, int), np.ones(m, int)]
            p = self._oof(X, y, num, cat, seed_from(rng))
            auc, lo, hi = auc_delong(p[y == 1], p[y == 0], conf)
            pmse = float(np.mean((p - 0.5) ** 2))
            nulls = [
                float(np.mean((self._oof(X, yp, num, cat, seed_from(rng)) - 0.5) ** 2))
                for yp in (rng.permutation(y) for _ in range(self.permutations))
            ]
            null = float(np.mean(nulls))
            out[other] = {
                "auc": auc,
                "auc_ci_low": lo,
                "auc_ci_high": hi,
                "pmse": pmse,
                "pmse_null": null,
                "s_pmse": pmse / null if null > 0 else math.nan,
                "propensity_histogram": _propensity_hist(p, y),
            }

        def indist(o: dict[str, Any], n: int) -> Estimate:
            f = lambda a: min(1.0, 2.0 * (1.0 - max(a, 0.5)))  # noqa: E731
            return Estimate(
                f(o["auc"]),
                f(o["auc_ci_high"]),
                f(o["auc_ci_low"]),
                conf,
                n,
                "2 × (1 − AUC), DeLong interval of the out-of-fold AUC",
            )

        est, base = indist(out["synthetic"], 2 * m), indist(out["holdout"], 2 * m)
        s, h = out["synthetic"], out["holdout"]
        summary = (
            f"A gradient-boosting classifier tells synthetic rows from train rows with AUC {s['auc']:.3f} "
            f"({s['auc_ci_low']:.3f}-{s['auc_ci_high']:.3f}); holdout rows from train rows with AUC "
            f"{h['auc']:.3f} (0.5 = indistinguishable). S_pMSE {s['s_pmse']:.1f} "
            f"(reference {h['s_pmse']:.1f}; about 1 means indistinguishable)."
        )
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="fidelity",
                estimate=est,
                baseline=base,
                summary=summary,
                details={
                    "definition": self.definition,
                    "auc": s["auc"],
                    "auc_ci_low": s["auc_ci_low"],
                    "auc_ci_high": s["auc_ci_high"],
                    "auc_reference": h["auc"],
                    "auc_reference_ci_low": h["auc_ci_low"],
                    "auc_reference_ci_high": h["auc_ci_high"],
                    "pmse": s["pmse"],
                    "pmse_reference": h["pmse"],
                    "s_pmse": s["s_pmse"],
                    "s_pmse_reference": h["s_pmse"],
                    "pmse_null": s["pmse_null"],
                    "propensity_histogram": s["propensity_histogram"],
                    "propensity_histogram_reference": h["propensity_histogram"],
                    "rows_per_table": m,
                    "folds": self.folds,
                    "pmse_definition": (
                        "pMSE = mean over rows of (propensity − 1/2)², propensities out of fold; S_pMSE = pMSE "
                        f"divided by its mean under {self.permutations} random permutations of the table labels "
                        "(the value expected when the tables are indistinguishable)"
                    ),
                    "sampling": f"{m} rows of each table (seeded sample), {self.folds}-fold cross-validation",
                },
                params={"rows_per_table": m, "folds": self.folds, "permutations": self.permutations},
            )
        ]

    def _oof(self, X: pd.DataFrame, y: np.ndarray, num: list[str], cat: list[str], seed: int) -> np.ndarray:
        """Out-of-fold probability of the second table."""
        p = np.full(len(y), 0.5)
        folds = StratifiedKFold(self.folds, shuffle=True, random_state=seed)
        for i, (fit_i, test_i) in enumerate(folds.split(X, y)):
            model = boosting_pipeline(
                "binary", num, cat, n_rows=len(fit_i), min_class_rows=int(np.bincount(y[fit_i]).min()), seed=seed + i
            )
            with quiet_fit():
                model.fit(X.iloc[fit_i], y[fit_i])
                p[test_i] = model.predict_proba(X.iloc[test_i])[:, 1]
        return p


# ----------------------------------------------------------------------------------------------
# validity


def _condition_mask(df: pd.DataFrame, cond: Condition) -> tuple[np.ndarray, np.ndarray]:
    """(holds, known): whether the condition holds on each row, and whether the row's value is present."""
    s = df[cond.column]
    known = s.notna().to_numpy()
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    if pd.api.types.is_datetime64_any_dtype(s):
        value: Any = pd.Timestamp(str(cond.value))
        left: Any = s
    elif isinstance(cond.value, float):
        value, left = cond.value, s.astype(float)
    else:
        value, left = str(cond.value), s.astype(object)
    holds = np.asarray(ops[cond.op](left, value), dtype=bool) & known
    return holds, known


def constraint_masks(df: pd.DataFrame, rule: Constraint) -> tuple[np.ndarray, np.ndarray]:
    """(checked, violated) per row: rows where the premise holds and every value of the rule is present,
    and among them the rows where the conclusion fails."""
    n = len(df)
    premise = np.ones(n, dtype=bool)
    known = np.ones(n, dtype=bool)
    for cond in rule.premise:
        h, k = _condition_mask(df, cond)
        premise &= h
        known &= k
    conclusion = np.ones(n, dtype=bool)
    for cond in rule.conclusion:
        h, k = _condition_mask(df, cond)
        conclusion &= h
        known &= k
    checked = premise & known
    return checked, checked & ~conclusion


@register
class Validity:
    """Synthetic values the real data never shows, and rows that break declared constraints.

    References
    ----------
    SDMetrics CategoryCoverage / BoundaryAdherence (DataCebo) for the first two; the constraints
    are the user's domain rules (see :func:`synthguard.audit.schema.read_schema_file`).
    """

    id: ClassVar[str] = "fidelity.validity"
    family: ClassVar[str] = "fidelity"
    help: ClassVar[str] = (
        "Share of synthetic rows that are valid: no category unseen in train, no number outside the train "
        "range, no schema-file constraint broken; next to the same share for holdout rows."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})
    definition: ClassVar[str] = (
        "share of synthetic rows with no category that never occurs in train, no number or date outside "
        "the train range, and no broken schema-file constraint; 1 = every row valid"
    )

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        d = ctx.data
        conf = ctx.settings.confidence
        tables = {"synthetic": d.synthetic, "holdout": d.holdout}
        invalid = {r: np.zeros(len(t), dtype=bool) for r, t in tables.items()}
        columns = []
        for col in d.schema.columns:
            row: dict[str, Any] = {"column": col.name, "kind": col.kind}
            if col.kind == "categorical":
                seen = set(d.train[col.name].dropna().unique())
                row["check"] = "category never in train"
                for r, t in tables.items():
                    s = t[col.name]
                    bad = (s.notna() & ~s.isin(seen)).to_numpy()
                    invalid[r] |= bad
                    row[f"{r}_count"] = int(bad.sum())
                    row[f"{r}_share"] = float(bad.mean()) if len(bad) else 0.0
            else:
                tr = _as_numbers(d.train[col.name]).to_numpy(dtype=float)
                tr = tr[np.isfinite(tr)]
                lo, hi = (tr.min(), tr.max()) if tr.size else (-np.inf, np.inf)
                row["check"] = "outside the train range"
                for r, t in tables.items():
                    v = _as_numbers(t[col.name]).to_numpy(dtype=float)
                    with np.errstate(invalid="ignore"):
                        bad = np.isfinite(v) & ((v < lo) | (v > hi))
                    invalid[r] |= bad
                    row[f"{r}_count"] = int(bad.sum())
                    row[f"{r}_share"] = float(bad.mean()) if len(bad) else 0.0
            columns.append(row)
        rules = []
        for i, rule in enumerate(d.schema.constraints, start=1):
            entry: dict[str, Any] = {"number": i, "rule": rule.text}
            for r, t in {**tables, "train": d.train}.items():
                checked, violated = constraint_masks(t, rule)
                if r in invalid:
                    invalid[r] |= violated
                entry[f"{r}_checked"] = int(checked.sum())
                entry[f"{r}_violations"] = int(violated.sum())
                entry[f"{r}_share"] = float(violated.mean()) if len(violated) else 0.0
                entry[f"{r}_share_of_checked"] = float(violated.sum() / checked.sum()) if checked.any() else 0.0
            rules.append(entry)

        def share(r: str) -> Estimate:
            n = len(invalid[r])
            k = int(n - invalid[r].sum())
            lo, hi = wilson(k, n, conf)
            return Estimate(k / n if n else 1.0, lo, hi, conf, n, "share of rows (Wilson)")

        est, base = share("synthetic"), share("holdout")
        n_syn = len(d.synthetic)
        bad_cols = [c for c in columns if c["synthetic_count"] > 0]
        broken = [r for r in rules if r["synthetic_violations"] > 0]
        summary = (
            f"{est.value:.2%} of synthetic rows are valid ({n_syn - int(invalid['synthetic'].sum())} of {n_syn}); "
            f"{base.value:.2%} of holdout rows pass the same checks against train. "
            + (
                f"Columns with invalid synthetic values: {', '.join(c['column'] for c in bad_cols[:5])}"
                + (" and more" if len(bad_cols) > 5 else "")
                + ". "
                if bad_cols
                else "No synthetic category or value falls outside what train shows. "
            )
            + (
                f"{len(broken)} of {len(rules)} declared constraints are broken by synthetic rows."
                if rules
                else "No constraints are declared in a schema file."
            )
        )
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="fidelity",
                estimate=est,
                baseline=base,
                summary=summary,
                details={
                    "definition": self.definition,
                    "columns": columns,
                    "constraints": rules,
                    "invalid_synthetic_rows": int(invalid["synthetic"].sum()),
                    "invalid_holdout_rows": int(invalid["holdout"].sum()),
                    "note": (
                        "ranges are not shown (the smallest and largest real values belong to real people); "
                        "a row with a missing value in a rule's column is not checked against that rule"
                    ),
                },
                params={"constraints": len(rules)},
            )
        ]
