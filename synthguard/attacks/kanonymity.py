"""Singling out beyond predicates: the k-anonymity profile of the release on the quasi-identifiers.

A *class* is the set of synthetic records that share one combination of quasi-identifier values
(the *key*). A class smaller than ``k`` violates k-anonymity (Sweeney 2002). In a synthetic table
that alone harms no one; it matters when the small class's key also belongs to a real person: then
the release describes a group of fewer than ``k`` look-alikes of that person, which singles them
out (WP29's first criterion) as surely as a predicate that isolates one record.

For ``k`` = 2, 5 and 10 this check reports the share of synthetic **records** (not of classes:
a reader asks "how much of the release is at risk", and records weight each class by its size)
that sit in a class smaller than ``k`` whose key occurs in an equally large sample of the training
data, against the same share for an equally large holdout sample. The holdout share is what any
release of the population produces by chance; the excess is due to the training records. The
estimate is the share for ``k`` = 5 against train, the baseline the same against the holdout.

Keys use the exact quasi-identifier values (as in :mod:`synthguard.attacks.record_linkage`); a
missing value is a key value of its own. The two shares are measured on the same synthetic
records, so their difference gets Newcombe's interval for paired proportions.

References
----------
L. Sweeney, "k-anonymity: a model for protecting privacy", International Journal of Uncertainty,
Fuzziness and Knowledge-Based Systems 10 (2002) 557-570.
Article 29 Data Protection Working Party, Opinion 05/2014 on anonymisation techniques (WP216),
section 3 (singling out) and 3.2 (k-anonymity).
R. G. Newcombe, "Improved confidence intervals for the difference between binomial proportions
based on paired data", Statistics in Medicine 17 (1998) 2635-2650.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from synthguard.attacks._qi_keys import counts_in, join_names
from synthguard.attacks.record_linkage import exact_keys
from synthguard.audit.results import CheckResult, Estimate
from synthguard.audit.runner import AuditContext, register
from synthguard.core.stats import newcombe_paired_difference, wilson

__all__ = ["KAnonymity", "small_class_shares"]


def small_class_shares(
    synthetic: np.ndarray, train: np.ndarray, holdout: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per synthetic record: in a class smaller than ``k``; and also with its key in train / holdout.

    Parameters
    ----------
    synthetic, train, holdout : numpy.ndarray
        Keys, one per record.
    k : int
        The class size a record's class must reach.

    Returns
    -------
    (small, small_in_train, small_in_holdout) : tuple of boolean arrays over the synthetic records
    """
    small = counts_in(synthetic, synthetic) < k
    return small, small & (counts_in(train, synthetic) > 0), small & (counts_in(holdout, synthetic) > 0)


@register
class KAnonymity:
    """Share of synthetic records in classes smaller than k whose key is a training record's."""

    id: ClassVar[str] = "singling_out.k_anonymity"
    family: ClassVar[str] = "singling_out"
    help: ClassVar[str] = (
        "k-anonymity of the release: share of synthetic records in groups of fewer than k "
        "(2, 5, 10) sharing quasi-identifiers that a training record has, against a holdout sample."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "quasi_identifiers"})
    ks: ClassVar[tuple[int, ...]] = (2, 5, 10)
    main_k: ClassVar[int] = 5

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        conf = ctx.settings.confidence
        keys = exact_keys(ctx)
        n = len(keys.synthetic)
        sizes = counts_in(keys.synthetic, keys.synthetic)
        n_classes = len(np.unique(keys.synthetic))
        details: dict[str, Any] = {
            "quasi_identifiers": list(ctx.schema.quasi_identifiers),
            "records_compared": keys.samples.size,
            "synthetic_rows": n,
            "synthetic_classes": n_classes,
            "unit": "synthetic records",
            "excess_method": "paired difference, Newcombe (1998) method 10",
        }
        per_k: list[dict[str, Any]] = []
        main: dict[str, Any] = {}
        for k in self.ks:
            small, in_t, in_h = small_class_shares(keys.synthetic, keys.train, keys.holdout, k)
            c_t, c_h = int(in_t.sum()), int(in_h.sum())
            both = int((in_t & in_h).sum())
            diff, dlo, dhi = newcombe_paired_difference(both, c_t - both, c_h - both, n - c_t - c_h + both, conf)
            t_lo, t_hi = wilson(c_t, n, conf)
            h_lo, h_hi = wilson(c_h, n, conf)
            row = {
                "k": k,
                "share_train": c_t / n,
                "share_train_ci_low": t_lo,
                "share_train_ci_high": t_hi,
                "share_holdout": c_h / n,
                "share_holdout_ci_low": h_lo,
                "share_holdout_ci_high": h_hi,
                "count_train": c_t,
                "count_holdout": c_h,
                "excess": diff,
                "excess_ci_low": dlo,
                "excess_ci_high": dhi,
                "records_in_small_classes": int(small.sum()),
                "share_records_in_small_classes": float(small.mean()) if n else 0.0,
                "small_classes": len(np.unique(keys.synthetic[sizes < k])),
            }
            per_k.append(row)
            for name in ("share_train", "share_holdout", "excess", "excess_ci_low", "excess_ci_high"):
                details[f"k{k}_{name}"] = row[name]
            if k == self.main_k:
                main = row
        details["by_k"] = per_k
        details["excess"] = main["excess"]
        details["excess_ci_low"] = main["excess_ci_low"]
        details["excess_ci_high"] = main["excess_ci_high"]
        k = self.main_k
        est = Estimate(
            main["share_train"],
            main["share_train_ci_low"],
            main["share_train_ci_high"],
            conf,
            n,
            f"share of synthetic records in classes < {k} with a training record's key, Wilson",
        )
        base = Estimate(
            main["share_holdout"],
            main["share_holdout_ci_low"],
            main["share_holdout_ci_high"],
            conf,
            n,
            f"share of synthetic records in classes < {k} with a holdout record's key, Wilson",
        )
        who = join_names(details["quasi_identifiers"])
        summary = (
            f"{est.value:.1%} of synthetic records ({conf:.0%} CI {est.ci_low:.1%}-{est.ci_high:.1%}) belong to a "
            f"group of fewer than {k} synthetic records sharing their {who}, where that combination is also a "
            f"training record's: the release describes a handful of look-alikes of a real person, singling "
            f"them out. For an equally large holdout sample the share is {base.value:.1%} (chance); the excess "
            f"is {main['excess']:+.1%} ({conf:.0%} CI {main['excess_ci_low']:+.1%} to "
            f"{main['excess_ci_high']:+.1%}). In all, {main['share_records_in_small_classes']:.1%} of synthetic "
            f"records are in groups of fewer than {k}."
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
                params={"ks": list(self.ks), "main_k": k, "records_compared": keys.samples.size},
            )
        ]
