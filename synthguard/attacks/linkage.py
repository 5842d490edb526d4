"""Linkability (WP29 criterion 2), measured with anonymeter's linkability attack.

The attacker holds two datasets about the same people: one with the quasi-identifiers, one with
the other columns. For each target, the nearest synthetic records to each half are looked up; if
both halves point to the same synthetic record, the halves are linked. Success on training
records is compared with success on holdout records (the control).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from anonymeter.evaluators.linkability_evaluator import LinkabilityIndexes
from anonymeter.neighbors.mixed_types_kneighbors import MixedTypeKNeighbors

from synthguard.attacks._anonymeter import anonymeter_view, draw_targets, risk_from_counts
from synthguard.audit.results import CheckResult
from synthguard.audit.runner import AuditContext, CheckSkipped, register

__all__ = ["Linkability"]


def _neighbours(syn: pd.DataFrame, targets: pd.DataFrame, cols: list[str], k: int, n_jobs: int) -> np.ndarray:
    nn = MixedTypeKNeighbors(n_neighbors=k, n_jobs=n_jobs).fit(syn[cols])
    return np.asarray(nn.kneighbors(targets[cols], return_distance=False))


@register
class Linkability:
    """Linkability of quasi-identifiers to the remaining columns through the release (anonymeter)."""

    id: ClassVar[str] = "linkage.linkability"
    family: ClassVar[str] = "linkage"
    help: ClassVar[str] = (
        "Can the release link a person's quasi-identifiers to their other columns "
        "more often for training records than for holdout records? (anonymeter)"
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "quasi_identifiers"})
    n_neighbors: ClassVar[int] = 1

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        schema = ctx.schema
        qi = list(schema.quasi_identifiers)
        rest = [c for c in schema.names if c not in qi]
        if not rest:
            raise CheckSkipped("every column is a quasi-identifier; nothing is left to link to")
        syn = anonymeter_view(ctx.data.synthetic, schema)
        train = anonymeter_view(ctx.data.train, schema)
        control = anonymeter_view(ctx.data.holdout, schema)
        n = min(int(ctx.settings.n_attacks), len(train), len(control))
        k = min(self.n_neighbors, len(syn))
        t_train = draw_targets(train, n, ctx.rng)
        t_control = draw_targets(control, n, ctx.rng)
        n_jobs = ctx.settings.n_jobs
        attack = LinkabilityIndexes(
            _neighbours(syn, t_train, qi, k, n_jobs), _neighbours(syn, t_train, rest, k, n_jobs)
        )
        ctrl = LinkabilityIndexes(
            _neighbours(syn, t_control, qi, k, n_jobs), _neighbours(syn, t_control, rest, k, n_jobs)
        )
        # random-guess attacker: k random synthetic records for each half of each target
        rand = LinkabilityIndexes(
            np.array([ctx.rng.choice(len(syn), size=k, replace=False) for _ in range(n)]),
            np.array([ctx.rng.choice(len(syn), size=k, replace=False) for _ in range(n)]),
        )
        est, base, details = risk_from_counts(
            n_attacks=n,
            n_success=attack.count_links(k),
            n_baseline=rand.count_links(k),
            n_control=ctrl.count_links(k),
            confidence=ctx.settings.confidence,
        )
        details["columns"] = {"first": qi, "second": rest}
        a, c = details["attack"]["rate"], details["control"]["rate"]
        summary = (
            f"An attacker holding a person's quasi-identifiers ({', '.join(qi)}) and, separately, "
            f"their other columns linked the two halves through the release for {a:.1%} of "
            f"training records and {c:.1%} of holdout records; the linkability risk is "
            f"{est.value:.3f} (95% CI {est.ci_low:.3f}-{est.ci_high:.3f})."
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
                params={"n_attacks": n, "n_neighbors": k},
            )
        ]
