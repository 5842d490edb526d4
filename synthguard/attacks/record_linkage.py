"""Record linkage on quasi-identifiers (WP29 criterion 2, linkability): replicated uniques.

An attacker who knows a person's quasi-identifiers (the *key*: age, sex, postcode, ...) looks for
synthetic records with exactly that key. When the person is the only one in the real data with
the key and exactly one synthetic record has it, the attacker takes that synthetic record for the
person: the release *replicates a unique* (Raab, Nowok & Dibben 2024; Nowok, Raab & Dibben 2016's
``replicated.uniques``).

* ``linkage.repu``: **UiO**, the share of records unique on the key in their own table, and
  **repU**, the share of records unique in their table whose key is also unique in the synthetic
  data (both as shares of all records, as synthpop reports them). For an equally large sample of
  training records this is the risk; for holdout records it is the reference, the replications
  that a release unrelated to the training records produces by chance.
* ``linkage.unique_match``: the other direction. The share of synthetic records whose key matches
  exactly one training record (the attacker holding the release can point at one real person),
  next to the share that match exactly one record of an equally large holdout sample.

Keys use the quasi-identifiers' exact values, numeric ones included: a synthetic record links to a
person only when it carries the person's exact key, which is what an attacker with a list of
names and keys can act on; binning would merge people and count as "unique" combinations that an
attacker could not tell apart in the real data. A missing value is a key value of its own.

Uniqueness depends on the size of the table, so train and holdout are compared at equal sizes
(a sample of the larger one, drawn once per audit from a shared seeded stream).

References
----------
G. M. Raab, B. Nowok and C. Dibben, "Practical privacy metrics for synthetic data",
arXiv:2406.16826 (2024) (UiO, repU).
B. Nowok, G. M. Raab and C. Dibben, "synthpop: bespoke creation of synthetic data in R",
Journal of Statistical Software 74(11) (2016) (replicated uniques).
Article 29 Data Protection Working Party, Opinion 05/2014 on anonymisation techniques (WP216).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from synthguard.attacks._qi_keys import EqualSamples, counts_in, equal_samples, join_names, key_codes
from synthguard.audit.results import CheckResult, Estimate
from synthguard.audit.runner import AuditContext, register
from synthguard.core.stats import newcombe_difference, newcombe_paired_difference, wilson

__all__ = ["ExactKeys", "RepU", "UniqueMatch", "exact_keys", "replicated_uniques"]


@dataclass(frozen=True)
class ExactKeys:
    """Exact quasi-identifier keys of the train sample, the holdout sample and the synthetic table."""

    samples: EqualSamples
    train: np.ndarray
    holdout: np.ndarray
    synthetic: np.ndarray


def exact_keys(ctx: AuditContext) -> ExactKeys:
    """Keys on the exact quasi-identifier values for the equal-sized samples and the release (cached)."""

    def compute() -> ExactKeys:
        codes = key_codes(ctx, ctx.schema.quasi_identifiers, None)
        s = equal_samples(ctx)
        return ExactKeys(s, codes.keys("train")[s.train], codes.keys("holdout")[s.holdout], codes.keys("synthetic"))

    keys: ExactKeys = ctx.cached("quasi_identifiers.exact_keys", compute)
    return keys


def replicated_uniques(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per real record: unique on its key in ``real`` (UiO), and unique in both (repU).

    Parameters
    ----------
    real, synthetic : numpy.ndarray
        Keys (one per record) of the real and synthetic tables.

    Returns
    -------
    (unique, replicated) : tuple of boolean arrays over the real records
    """
    unique = counts_in(real, real) == 1
    return unique, unique & (counts_in(synthetic, real) == 1)


def _rate(k: int, n: int, conf: float, prefix: str) -> dict[str, Any]:
    lo, hi = wilson(int(k), int(n), conf)
    return {prefix: k / n if n else 0.0, f"{prefix}_ci_low": lo, f"{prefix}_ci_high": hi, f"{prefix}_count": int(k)}


@register
class RepU:
    """Replicated uniques: training records unique on their key whose key is unique in the release."""

    id: ClassVar[str] = "linkage.repu"
    family: ClassVar[str] = "linkage"
    help: ClassVar[str] = (
        "Replicated uniques (repU): share of people unique on their quasi-identifiers whose "
        "combination is also unique in the release, training records against holdout records."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "quasi_identifiers"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        conf = ctx.settings.confidence
        keys = exact_keys(ctx)
        m = keys.samples.size
        u_t, r_t = replicated_uniques(keys.train, keys.synthetic)
        u_h, r_h = replicated_uniques(keys.holdout, keys.synthetic)
        k_t, k_h = int(r_t.sum()), int(r_h.sum())
        ku_t, ku_h = int(u_t.sum()), int(u_h.sum())
        lo, hi = wilson(k_t, m, conf)
        blo, bhi = wilson(k_h, m, conf)
        est = Estimate(k_t / m, lo, hi, conf, m, "share of training records, Wilson")
        base = Estimate(k_h / m, blo, bhi, conf, m, "share of holdout records (chance replications), Wilson")
        diff, dlo, dhi = newcombe_difference(k_t, m, k_h, m, conf)
        qis = list(ctx.schema.quasi_identifiers)
        details: dict[str, Any] = {
            "quasi_identifiers": qis,
            "records_compared": m,
            "synthetic_rows": len(keys.synthetic),
            "repu_train_count": k_t,
            "repu_holdout_count": k_h,
            "excess": diff,
            "excess_ci_low": dlo,
            "excess_ci_high": dhi,
            "excess_method": "difference of independent proportions, Newcombe (1998) method 10",
            **_rate(ku_t, m, conf, "uio_train"),
            **_rate(ku_h, m, conf, "uio_holdout"),
            "replicated_share_of_uniques_train": k_t / ku_t if ku_t else None,
            "replicated_share_of_uniques_holdout": k_h / ku_h if ku_h else None,
            "synthetic_unique_keys": int((counts_in(keys.synthetic, keys.synthetic) == 1).sum()),
        }
        who = join_names(qis)
        summary = (
            f"{ku_t / m:.1%} of training records are the only one with their {who}; {est.value:.1%} of all "
            f"training records ({conf:.0%} CI {lo:.1%}-{hi:.1%}) are such people whose combination is also "
            f"carried by exactly one synthetic record, which an attacker who knows their {who} would take for "
            f"them. For people outside the training data (an equally large holdout sample) the share is "
            f"{base.value:.1%} (chance replications); the excess, {diff:+.1%} ({conf:.0%} CI {dlo:+.1%} to "
            f"{dhi:+.1%}), is the linkage risk the release creates."
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
                params={"records_compared": m, "keys": "exact values"},
            )
        ]


@register
class UniqueMatch:
    """Share of synthetic records matching exactly one training record on the key, against the holdout."""

    id: ClassVar[str] = "linkage.unique_match"
    family: ClassVar[str] = "linkage"
    help: ClassVar[str] = (
        "Share of synthetic records whose quasi-identifiers match exactly one training record, "
        "next to the share that match exactly one record of an equally large holdout sample."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "quasi_identifiers"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        conf = ctx.settings.confidence
        keys = exact_keys(ctx)
        n = len(keys.synthetic)
        one_t = counts_in(keys.train, keys.synthetic) == 1
        one_h = counts_in(keys.holdout, keys.synthetic) == 1
        k_t, k_h = int(one_t.sum()), int(one_h.sum())
        both = int((one_t & one_h).sum())
        lo, hi = wilson(k_t, n, conf)
        blo, bhi = wilson(k_h, n, conf)
        est = Estimate(k_t / n, lo, hi, conf, n, "share of synthetic records, Wilson")
        base = Estimate(k_h / n, blo, bhi, conf, n, "share of synthetic records matching one holdout record, Wilson")
        diff, dlo, dhi = newcombe_paired_difference(both, k_t - both, k_h - both, n - k_t - k_h + both, conf)
        in_t = counts_in(keys.train, keys.synthetic) > 0
        in_h = counts_in(keys.holdout, keys.synthetic) > 0
        qis = list(ctx.schema.quasi_identifiers)
        details: dict[str, Any] = {
            "quasi_identifiers": qis,
            "records_compared": keys.samples.size,
            "synthetic_rows": n,
            "match_one_train_count": k_t,
            "match_one_holdout_count": k_h,
            "match_one_both_count": both,
            "excess": diff,
            "excess_ci_low": dlo,
            "excess_ci_high": dhi,
            "excess_method": "paired difference, Newcombe (1998) method 10",
            **_rate(int(in_t.sum()), n, conf, "match_any_train"),
            **_rate(int(in_h.sum()), n, conf, "match_any_holdout"),
            "distinct_training_records_matched": int(np.isin(keys.train, keys.synthetic[one_t]).sum()),
        }
        who = join_names(qis)
        summary = (
            f"{est.value:.1%} of synthetic records ({conf:.0%} CI {lo:.1%}-{hi:.1%}) are those whose {who} "
            f"match exactly one training record, so an attacker holding the release can point at one real person; "
            f"for an equally large holdout sample the share is {base.value:.1%} (chance). The excess, "
            f"{diff:+.1%} ({conf:.0%} CI {dlo:+.1%} to {dhi:+.1%}), is due to the training records."
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
                params={"records_compared": keys.samples.size, "keys": "exact values"},
            )
        ]
