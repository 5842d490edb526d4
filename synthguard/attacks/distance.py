"""Overfitting diagnostics from record identity and distances.

These measure how close the release is to the training records; they are diagnostics, not proof
of privacy: a release can pass them and still leak (Ganev & De Cristofaro, "On the inadequacy of
similarity-based privacy metrics", 2023; "The DCR Delusion", 2025).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from synthguard.attacks._anonymeter import equal_size
from synthguard.audit.results import CheckResult, Estimate
from synthguard.audit.runner import AuditContext, register
from synthguard.core.hashing import row_hashes
from synthguard.core.stats import newcombe_paired_difference, wilson

__all__ = ["ExactMatch"]


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
        train_eq, hold_eq = equal_size(ctx.data.train, ctx.data.holdout, ctx.rng)
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
