"""Singling out (WP29 criterion 1), anonymeter's univariate predicate attack, reproducibly.

The attacker writes predicates from the synthetic data that isolate one synthetic row
(``age >= 90``, ``fnlwgt == 123456``, ``occupation is missing``) and succeeds when a predicate
also isolates exactly one real record. Success on training records is compared with success on
holdout records (the control) **at equal table sizes**: a predicate is more likely to isolate one
row of a larger table, so anonymeter's comparison of a large train with a small control reads a
risk even for a release that contains no member at all (measured on Adult, train 10,000 vs
control 5,000: 0.11-0.14; at equal sizes: 0.00-0.03).

The predicates and the random-guess baseline follow anonymeter 1.1
(``univariate_singling_out_queries`` and ``_random_queries``; Giomi et al., PoPETs 2023). They
are generated here because anonymeter's come out in the order of a multi-threaded polars
``group_by`` and therefore differ from run to run even with a fixed seed. A test checks that,
when every available predicate is used, our counts equal anonymeter's exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthguard.attacks._anonymeter import anonymeter_view, equal_size, risk_from_counts
from synthguard.audit.results import CheckResult
from synthguard.audit.runner import AuditContext, CheckSkipped, register

__all__ = ["ColumnCounter", "Predicate", "SinglingOutUnivariate", "random_predicates", "univariate_predicates"]

_NUMERIC_OPS = ("==", "!=", ">", "<", ">=", "<=")
_CATEGORICAL_OPS = ("==", "!=")


@dataclass(frozen=True)
class Predicate:
    """``column op value``; ``op`` is a comparison, ``isnull`` or ``notnull``."""

    column: str
    op: str
    value: Any = None


class ColumnCounter:
    """Counts the rows of one table that a predicate matches, in O(log n) per predicate.

    Comparisons never match a missing value (as in polars, which anonymeter uses).
    """

    def __init__(self, df: pd.DataFrame, numeric: set[str]) -> None:
        self.n = len(df)
        self._num: dict[str, np.ndarray] = {}
        self._cat: dict[str, pd.Series] = {}
        self._missing: dict[str, int] = {}
        for c in df.columns:
            s = df[c]
            self._missing[c] = int(s.isna().sum())
            if c in numeric:
                self._num[c] = np.sort(s.dropna().to_numpy(dtype=float))
            else:
                self._cat[c] = s.dropna().astype(str).value_counts()

    def count(self, p: Predicate) -> int:
        miss = self._missing[p.column]
        if p.op == "isnull":
            return miss
        if p.op == "notnull":
            return self.n - miss
        present = self.n - miss
        if p.column in self._num:
            v = self._num[p.column]
            x = float(p.value)
            left, right = np.searchsorted(v, x, "left"), np.searchsorted(v, x, "right")
            return int(
                {
                    "==": right - left,
                    "!=": present - (right - left),
                    "<": left,
                    "<=": right,
                    ">": present - right,
                    ">=": present - left,
                }[p.op]
            )
        eq = int(self._cat[p.column].get(str(p.value), 0))
        return eq if p.op == "==" else present - eq


def univariate_predicates(syn: pd.DataFrame, numeric: set[str]) -> list[Predicate]:
    """Every anonymeter univariate candidate that isolates one row of ``syn`` (deduplicated).

    Candidates per column: "is missing" when exactly one value is missing; ``<= min`` and
    ``>= max`` for numbers; ``== v`` for every value seen once. Deterministic order (columns, then
    values); the caller shuffles.
    """
    counter = ColumnCounter(syn, numeric)
    out: list[Predicate] = []
    for c in syn.columns:
        s = syn[c]
        cands = []
        if int(s.isna().sum()) == 1:
            cands.append(Predicate(c, "isnull"))
        present = s.dropna()
        if c in numeric and len(present):
            vals = present.to_numpy(dtype=float)
            cands += [Predicate(c, "<=", float(vals.min())), Predicate(c, ">=", float(vals.max()))]
        keys = present.to_numpy(dtype=float) if c in numeric else present.astype(str).to_numpy()
        uniq, counts = np.unique(keys, return_counts=True)
        cands += [Predicate(c, "==", v.item() if hasattr(v, "item") else v) for v in uniq[counts == 1]]
        out += [p for p in cands if counter.count(p) == 1]
    return list(dict.fromkeys(out))


def random_predicates(syn: pd.DataFrame, numeric: set[str], n: int, rng: np.random.Generator) -> list[Predicate]:
    """anonymeter's random-guess baseline: a random column, a random synthetic value, a random operator."""
    cols = list(syn.columns)
    values = {}
    for c in cols:
        s = syn[c]
        present = s.dropna()
        uniq = list(np.unique(present.to_numpy(dtype=float) if c in numeric else present.astype(str).to_numpy()))
        values[c] = uniq + ([None] if s.isna().any() else [])
    out = []
    for _ in range(n):
        c = cols[int(rng.integers(len(cols)))]
        v = values[c][int(rng.integers(len(values[c])))]
        ops = _NUMERIC_OPS if c in numeric else _CATEGORICAL_OPS
        op = ops[int(rng.integers(len(ops)))]
        if v is None:
            out.append(Predicate(c, "isnull" if op == "==" else "notnull"))
        else:
            out.append(Predicate(c, op, v.item() if hasattr(v, "item") else v))
    return out


@register
class SinglingOutUnivariate:
    """Univariate singling out (anonymeter's method), train vs holdout at equal sizes."""

    id: ClassVar[str] = "singling_out.univariate"
    family: ClassVar[str] = "singling_out"
    help: ClassVar[str] = (
        "Can one-column predicates written from the release isolate a single "
        "training record more often than a holdout record? (anonymeter's method)"
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        schema = ctx.schema
        numeric = set(schema.of_kind("numeric", "datetime"))
        train = anonymeter_view(ctx.data.train, schema).drop_duplicates()
        control = anonymeter_view(ctx.data.holdout, schema).drop_duplicates()
        syn = anonymeter_view(ctx.data.synthetic, schema).drop_duplicates()
        ori, control = equal_size(train, control, ctx.rng)
        if len(ori) < 2:
            raise CheckSkipped("too few distinct rows in train and holdout")
        n_requested = int(ctx.settings.n_attacks)
        candidates = univariate_predicates(syn, numeric)
        if not candidates:
            raise CheckSkipped("the release has no value that isolates a single synthetic row")
        order = ctx.rng.permutation(len(candidates))
        queries = [candidates[i] for i in order[:n_requested]]
        on_train, on_control = ColumnCounter(ori, numeric), ColumnCounter(control, numeric)
        baseline = random_predicates(syn, numeric, n_requested, ctx.rng)
        # rates are over the predicates actually made (anonymeter divides by the number requested,
        # which understates the risk when the release offers fewer)
        est, base, details = risk_from_counts(
            n_attacks=len(queries),
            n_success=sum(on_train.count(q) == 1 for q in queries),
            n_control=sum(on_control.count(q) == 1 for q in queries),
            n_baseline=sum(on_train.count(q) == 1 for q in baseline),
            n_attacks_baseline=len(baseline),
            confidence=ctx.settings.confidence,
        )
        details["rows_compared"] = len(ori)
        details["predicates_available"] = len(candidates)
        details["predicates_used"] = len(queries)
        a, c = details["attack"]["rate"], details["control"]["rate"]
        summary = (
            f"Predicates written from the release isolated one training record in {a:.1%} of "
            f"{len(queries)} attempts and one holdout record in {c:.1%} (tables of {len(ori)} rows "
            f"each); the excess, {est.value:.3f} (95% CI {est.ci_low:.3f}-{est.ci_high:.3f}), is the "
            "singling-out risk the release adds."
        )
        warns: tuple[str, ...] = ()
        if not details["attack_beats_baseline"]:
            warns = ("the attack did no better than random predicates; the release gives little to single out with",)
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="risk",
                estimate=est,
                baseline=base,
                summary=summary,
                details=details,
                params={"n_attacks": len(queries), "mode": "univariate", "equal_sizes": len(ori)},
                warnings=warns,
            )
        ]
