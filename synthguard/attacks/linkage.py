"""Linkability (WP29 criterion 2), with anonymeter's linkability attack on synthguard's search.

The attacker holds two datasets about the same people: one with some columns (by default the
quasi-identifiers), one with the others. For each target, the nearest synthetic records to each
half are looked up; if both halves share one of their ``k`` nearest synthetic records, the halves
are linked. Success on training records is compared with success on holdout records (the
control) with anonymeter's residual-risk formula (Giomi et al., PoPETs 2023).

The neighbour search reproduces anonymeter's distance (see :mod:`synthguard.core.gower`), runs
about 20 times faster, breaks ties by row index, and counts two missing values as equal. Targets
and the random-guess baseline come from the check's own random stream.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from synthguard.attacks._anonymeter import anonymeter_view, draw_targets, nearest_synthetic, risk_from_counts
from synthguard.audit.results import CheckResult
from synthguard.audit.runner import AuditContext, CheckSkipped, register
from synthguard.audit.schema import Schema

__all__ = ["Linkability", "count_links", "link_groups"]


def link_groups(schema: Schema, spec: str) -> tuple[list[str], list[str]]:
    """The two column groups: ``"a,b|c,d"`` when given, else the quasi-identifiers against the rest."""
    if spec.strip():
        parts = spec.split("|")
        if len(parts) != 2:
            raise CheckSkipped("link_columns must be two comma-separated groups joined by '|'")
        groups = [[c.strip() for c in part.split(",") if c.strip()] for part in parts]
        unknown = [c for g in groups for c in g if c not in schema.names]
        if unknown:
            raise CheckSkipped(f"link_columns names unknown columns: {', '.join(unknown)}")
        if not groups[0] or not groups[1]:
            raise CheckSkipped("link_columns has an empty group")
        return groups[0], groups[1]
    qi = list(schema.quasi_identifiers)
    rest = [c for c in schema.names if c not in qi]
    if not qi:
        raise CheckSkipped("needs quasi-identifiers (--qi) or link_columns")
    if not rest:
        raise CheckSkipped("every column is a quasi-identifier; nothing is left to link to")
    return qi, rest


def count_links(idx_a: np.ndarray, idx_b: np.ndarray) -> int:
    """Targets whose two halves share at least one of their nearest synthetic records."""
    k = idx_a.shape[1]
    shared = (idx_a[:, :, None] == idx_b[:, None, :]).reshape(len(idx_a), k * k).any(axis=1)
    return int(shared.sum())


@register
class Linkability:
    """Linkability of two column groups through the release (anonymeter's method)."""

    id: ClassVar[str] = "linkage.linkability"
    family: ClassVar[str] = "linkage"
    help: ClassVar[str] = (
        "Can the release link a person's quasi-identifiers to their other columns "
        "more often for training records than for holdout records? (anonymeter's method)"
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        schema = ctx.schema
        first, second = link_groups(schema, ctx.settings.link_columns)
        syn = anonymeter_view(ctx.data.synthetic, schema)
        train = anonymeter_view(ctx.data.train, schema)
        control = anonymeter_view(ctx.data.holdout, schema)
        n = min(int(ctx.settings.n_attacks), len(train), len(control))
        k = min(int(ctx.settings.link_neighbors), len(syn))
        t_train = draw_targets(train, n, ctx.rng)
        t_control = draw_targets(control, n, ctx.rng)
        links = {}
        for name, targets in (("train", t_train), ("control", t_control)):
            a = nearest_synthetic(targets, syn, first, schema, k)
            b = nearest_synthetic(targets, syn, second, schema, k)
            links[name] = count_links(a, b)
        # random-guess attacker: k random synthetic records for each half of each target
        rand_a = np.array([ctx.rng.choice(len(syn), size=k, replace=False) for _ in range(n)])
        rand_b = np.array([ctx.rng.choice(len(syn), size=k, replace=False) for _ in range(n)])
        est, base, details = risk_from_counts(
            n_attacks=n,
            n_success=links["train"],
            n_baseline=count_links(rand_a, rand_b),
            n_control=links["control"],
            confidence=ctx.settings.confidence,
        )
        details["columns"] = {"first": first, "second": second}
        a_rate, c_rate = details["attack"]["rate"], details["control"]["rate"]
        summary = (
            f"An attacker holding, for the same people, one dataset with {', '.join(first)} and another with "
            f"{', '.join(second)} linked the two through the release (a shared nearest synthetic record among "
            f"{k}) for {a_rate:.1%} of training records and {c_rate:.1%} of holdout records; the linkability risk is "
            f"{est.value:.3f} (95% CI {est.ci_low:.3f}-{est.ci_high:.3f})."
        )
        warns = []
        if est.ci_high - est.ci_low > 0.2:
            warns.append("the interval is too wide to decide; more attacks or a larger holdout would narrow it")
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
                warnings=tuple(warns),
            )
        ]
