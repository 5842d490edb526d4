"""Overfitting diagnostics from record identity and distances.

These measure how close the release is to the training records; they are diagnostics, not proof
of privacy: a release can pass them and still leak (Ganev & De Cristofaro, "On the inadequacy of
similarity-based privacy metrics", 2023; "The DCR Delusion", 2025).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthguard.audit.results import CheckResult, Estimate
from synthguard.audit.runner import AuditContext, CheckSkipped, register
from synthguard.core.encoding import encoded
from synthguard.core.hashing import row_hashes
from synthguard.core.neighbors import knn
from synthguard.core.stats import newcombe_paired_difference, wilson

__all__ = ["DCRShare", "DCRShareSubsets", "ExactMatch", "dcr_share_counts"]


@register
class ExactMatch:
    """Share of synthetic rows identical to a training row, against the same share for the holdout."""

    id: ClassVar[str] = "distance.exact_match"
    family: ClassVar[str] = "distance"
    help: ClassVar[str] = (
        "Share of synthetic rows that are exact copies of a training row, next to "
        "the share that equal a holdout row (chance matches)."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        conf = ctx.settings.confidence
        syn_h = row_hashes(ctx.data.synthetic)
        train_full_h = row_hashes(ctx.data.train)
        # equal-sized real references, so that chance matches are comparable
        ref = _equal_references(ctx)
        train_eq, hold_eq = ctx.data.train.iloc[ref.train], ctx.data.holdout.iloc[ref.holdout]
        in_train = np.isin(syn_h, row_hashes(train_eq))
        in_hold = np.isin(syn_h, row_hashes(hold_eq))
        in_full = np.isin(syn_h, train_full_h)
        n = len(syn_h)
        k_t, k_h = int(in_train.sum()), int(in_hold.sum())
        lo, hi = wilson(k_t, n, conf)
        blo, bhi = wilson(k_h, n, conf)
        est = Estimate(k_t / n, lo, hi, conf, n, "share of synthetic rows (Wilson)")
        base = Estimate(k_h / n, blo, bhi, conf, n, "share of synthetic rows matching holdout (Wilson)")
        both = int((in_train & in_hold).sum())
        diff, dlo, dhi = newcombe_paired_difference(both, k_t - both, k_h - both, n - k_t - k_h + both, conf)
        details = {
            "synthetic_rows": n,
            "reference_rows": len(train_eq),
            "matches_train": k_t,
            "matches_holdout": k_h,
            "excess": diff,
            "excess_ci_low": dlo,
            "excess_ci_high": dhi,
            "excess_method": "paired difference, Newcombe (1998) method 10",
            "matches_full_train": int(in_full.sum()),
            "share_full_train": float(in_full.mean()) if n else 0.0,
            "distinct_train_rows_copied": int(np.isin(train_full_h, syn_h[in_full]).sum()),
        }
        summary = (
            f"{est.value:.2%} of synthetic rows are identical to a row of a training sample, against "
            f"{base.value:.2%} for an equally large holdout sample (chance matches); the excess, "
            f"{diff:.2%} (95% CI {dlo:.2%} to {dhi:.2%}), are copies of training records. "
            f"Against the whole training table: {details['matches_full_train']} synthetic rows "
            f"({details['share_full_train']:.2%})."
        )
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="risk",
                estimate=est,
                baseline=base,
                summary=summary,
                details=details,
                params={"reference_rows": len(train_eq)},
            )
        ]


_DCR_CAVEAT = (
    "Distance diagnostics only catch gross memorisation; passing them does not show that the release "
    "is private (Ganev & De Cristofaro 2023)."
)


@dataclass(frozen=True)
class _Reference:
    train: np.ndarray  # row indices of an equal-sized train sample
    holdout: np.ndarray  # row indices of an equal-sized holdout sample


def _equal_references(ctx: AuditContext) -> _Reference:
    def draw() -> _Reference:
        rng = ctx.shared_rng("distance.references")
        m = min(len(ctx.data.train), len(ctx.data.holdout))
        return _Reference(
            np.sort(rng.choice(len(ctx.data.train), size=m, replace=False)),
            np.sort(rng.choice(len(ctx.data.holdout), size=m, replace=False)),
        )

    return ctx.cached("distance.references", draw)


def dcr_share_counts(d_train: np.ndarray, d_holdout: np.ndarray) -> tuple[float, int]:
    """(closer-to-train count + ½ ties, n): the DCR share's numerator and denominator."""
    closer = int((d_train < d_holdout).sum())
    ties = int((d_train == d_holdout).sum())
    return closer + 0.5 * ties, len(d_train)


def _share_estimate(k: float, n: int, conf: float, method: str) -> Estimate:
    lo, hi = wilson(round(k), n, conf)
    return Estimate(k / n, min(lo, k / n), max(hi, k / n), conf, n, method)


def _dcr(ctx: AuditContext, columns: Sequence[str] | None, syn_rows: np.ndarray | None = None) -> dict[str, Any]:
    enc = encoded(ctx)
    ref = _equal_references(ctx)
    cols = slice(None) if columns is None else enc.encoder.feature_index(columns)
    syn = enc.synthetic if syn_rows is None else enc.synthetic[syn_rows]
    syn = np.ascontiguousarray(syn[:, cols])
    d_t, _ = knn(syn, np.ascontiguousarray(enc.train[ref.train][:, cols]), 2)
    d_h, _ = knn(syn, np.ascontiguousarray(enc.holdout[ref.holdout][:, cols]), 2)
    return {"d_train": d_t, "d_holdout": d_h}


@register
class DCRShare:
    """Share of synthetic rows closer to a training record than to a holdout record."""

    id: ClassVar[str] = "distance.dcr_share"
    family: ClassVar[str] = "distance"
    help: ClassVar[str] = (
        "Share of synthetic rows closer to the training data than to an equally "
        "large holdout sample (0.5 is ideal), with distances to closest records and NNDR."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        conf = ctx.settings.confidence
        d: dict[str, np.ndarray] = ctx.cached("distance.dcr.all", lambda: _dcr(ctx, None))
        d_t, d_h = d["d_train"], d["d_holdout"]
        k, n = dcr_share_counts(d_t[:, 0], d_h[:, 0])
        est = _share_estimate(k, n, conf, "P(closer to train) + ½ P(tie), Wilson")
        base = Estimate(0.5, 0.5, 0.5, conf, n, "a release independent of the training records")

        def nndr(dd: np.ndarray) -> np.ndarray:
            with np.errstate(invalid="ignore", divide="ignore"):
                r = dd[:, 0] / dd[:, 1]
            return np.where(dd[:, 1] > 0, r, 1.0)

        qs = (0.01, 0.05, 0.5)
        details: dict[str, Any] = {
            "reference_rows": len(_equal_references(ctx).train),
            "synthetic_rows": n,
            "ties": int((d_t[:, 0] == d_h[:, 0]).sum()),
            "dcr_train_quantiles": {f"{q:g}": float(np.quantile(d_t[:, 0], q)) for q in qs},
            "dcr_holdout_quantiles": {f"{q:g}": float(np.quantile(d_h[:, 0], q)) for q in qs},
            "nndr_train_median": float(np.median(nndr(d_t))),
            "nndr_holdout_median": float(np.median(nndr(d_h))),
            "caveat": _DCR_CAVEAT,
        }
        summary = (
            f"{est.value:.1%} of synthetic rows are closer to a training record than to a holdout record "
            f"(95% CI {est.ci_low:.1%}-{est.ci_high:.1%}; 50% is what a release unrelated to the training "
            f"records gives). Median distance to the closest training record "
            f"{details['dcr_train_quantiles']['0.5']:.3f}, to the closest holdout record "
            f"{details['dcr_holdout_quantiles']['0.5']:.3f}. {_DCR_CAVEAT}"
        )
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="risk",
                estimate=est,
                baseline=base,
                summary=summary,
                details=details,
                params={"reference_rows": details["reference_rows"]},
            )
        ]


def _association_groups(ctx: AuditContext, size: int = 3, max_rows: int = 5000) -> list[tuple[str, ...]]:
    """Each column with its ``size − 1`` most associated columns (normalised mutual information on train)."""
    from sklearn.metrics import normalized_mutual_info_score

    df = ctx.data.train
    if len(df) > max_rows:
        df = df.iloc[np.sort(ctx.shared_rng("distance.groups").choice(len(df), max_rows, replace=False))]
    codes = {}
    for col in ctx.schema.columns:
        s = df[col.name]
        if col.kind in ("numeric", "datetime"):
            x = s.astype("int64") if col.kind == "datetime" else s
            codes[col.name] = pd.qcut(x.rank(method="first"), 10, labels=False, duplicates="drop").fillna(-1).to_numpy()
        else:
            codes[col.name] = pd.factorize(s, use_na_sentinel=False)[0]
    names = list(codes)
    groups = []
    for c in names:
        others = sorted(
            (n for n in names if n != c),
            key=lambda o: (-normalized_mutual_info_score(codes[c], codes[o]), names.index(o)),
        )
        groups.append(tuple(sorted([c, *others[: size - 1]], key=names.index)))
    return list(dict.fromkeys(groups))


@register
class DCRShareSubsets:
    """Worst DCR share over groups of associated columns and random groups of columns."""

    id: ClassVar[str] = "distance.dcr_share_subsets"
    family: ClassVar[str] = "distance"
    help: ClassVar[str] = (
        "The highest DCR share over groups of associated columns and random column "
        "groups: a release can copy a few columns while looking fine on all of them."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})
    n_random: ClassVar[int] = 10
    size: ClassVar[int] = 3
    max_synthetic: ClassVar[int] = 5000

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        names = ctx.schema.names
        if len(names) <= self.size:
            raise CheckSkipped(f"needs more than {self.size} columns")
        conf = ctx.settings.confidence
        rng = ctx.rng
        groups = [(g, "associated") for g in _association_groups(ctx, self.size)]
        seen = {g for g, _ in groups}
        for _ in range(self.n_random * 3):
            if sum(kind == "random" for _, kind in groups) >= self.n_random:
                break
            g = tuple(sorted(rng.choice(len(names), self.size, replace=False)))
            cols = tuple(names[i] for i in g)
            if cols not in seen:
                seen.add(cols)
                groups.append((cols, "random"))
        n_syn = len(ctx.data.synthetic)
        rows = np.sort(rng.choice(n_syn, self.max_synthetic, replace=False)) if n_syn > self.max_synthetic else None
        shares: list[dict[str, Any]] = []
        for cols, kind in groups:
            d = _dcr(ctx, cols, rows)
            k, n = dcr_share_counts(d["d_train"][:, 0], d["d_holdout"][:, 0])
            shares.append({"columns": list(cols), "kind": kind, "share": k / n, "count": k, "n": n})
        worst = max(shares, key=lambda s: s["share"])
        est = _share_estimate(
            worst["count"],
            worst["n"],
            conf,
            f"highest of {len(shares)} column-group DCR shares, Wilson (not adjusted for the maximum)",
        )
        base = Estimate(0.5, 0.5, 0.5, conf, worst["n"], "a release independent of the training records")
        details = {
            "groups": sorted(shares, key=lambda s: -s["share"]),
            "worst": worst["columns"],
            "synthetic_rows_used": worst["n"],
            "caveat": _DCR_CAVEAT,
        }
        summary = (
            f"Over {len(shares)} groups of {self.size} columns, the highest share of synthetic rows closer to "
            f"training than to holdout records is {est.value:.1%} (columns {', '.join(worst['columns'])}; "
            f"95% CI {est.ci_low:.1%}-{est.ci_high:.1%}). {_DCR_CAVEAT}"
        )
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="risk",
                estimate=est,
                baseline=base,
                summary=summary,
                details=details,
                params={"groups": len(shares), "size": self.size, "max_synthetic": self.max_synthetic},
            )
        ]
