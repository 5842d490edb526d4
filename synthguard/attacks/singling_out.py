"""Singling out (WP29 criterion 1), measured with anonymeter's predicate attack.

The attacker writes predicates from the synthetic data ("fnlwgt == 123456") that match exactly
one synthetic row, and succeeds when a predicate also isolates exactly one real record. Success on
training records is compared with success on the holdout (control), **at equal table sizes**: a
predicate is more likely to isolate one row of a larger table, so anonymeter's comparison of a
large train with a small control reads a risk even for a release that contains no member at all
(measured on Adult, train 10,000 vs control 5,000: 0.11-0.14; at equal sizes: 0.00-0.03).
"""

from __future__ import annotations

import logging
import warnings
from typing import ClassVar

import numpy as np
import polars as pl
from anonymeter.evaluators import SinglingOutEvaluator
from anonymeter.evaluators.singling_out_evaluator import univariate_singling_out_queries

from synthguard.attacks._anonymeter import anonymeter_view, equal_size, risk_from_counts
from synthguard.audit.results import CheckResult
from synthguard.audit.runner import AuditContext, CheckSkipped, register

__all__ = ["SinglingOutUnivariate"]


@register
class SinglingOutUnivariate:
    """Univariate singling out (anonymeter), train vs holdout at equal sizes."""

    id: ClassVar[str] = "singling_out.univariate"
    family: ClassVar[str] = "singling_out"
    help: ClassVar[str] = ("Can one-column predicates written from the release isolate a single "
                           "training record more often than a holdout record? (anonymeter)")
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        schema = ctx.schema
        # positional column names: predicates never depend on how columns are spelled
        safe = {name: f"c{i}" for i, name in enumerate(schema.names)}
        train = anonymeter_view(ctx.data.train, schema).rename(columns=safe).drop_duplicates()
        control = anonymeter_view(ctx.data.holdout, schema).rename(columns=safe).drop_duplicates()
        syn = anonymeter_view(ctx.data.synthetic, schema).rename(columns=safe)
        ori, control = equal_size(train, control, ctx.rng)
        n_attacks = int(ctx.settings.n_attacks)
        if len(ori) < 2:
            raise CheckSkipped("too few distinct rows in train and holdout")
        seed = int(ctx.rng.integers(2**31 - 1))
        logging.getLogger("anonymeter").setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ev = SinglingOutEvaluator(ori=ori, syn=syn, n_attacks=n_attacks, control=control, seed=seed)
            ev.evaluate(mode="univariate")
            # anonymeter divides successes by the number of attacks *requested*; when the release
            # offers fewer singling-out predicates, the rate must be over those actually made.
            n_queries = len(univariate_singling_out_queries(
                df=pl.DataFrame(syn).unique(maintain_order=True), n_queries=n_attacks,
                rng=np.random.default_rng(seed)))
        res = ev.results(confidence_level=ctx.settings.confidence)
        if res.n_control is None:  # pragma: no cover - control is always given
            raise RuntimeError("anonymeter returned no control result")
        if abs(float(res.n_control) - round(float(res.n_control))) > 1e-9:
            raise RuntimeError("anonymeter applied its size correction; train and control were not equal")
        if n_queries == 0:
            raise CheckSkipped("the release offers no value that isolates a single synthetic row")
        est, base, details = risk_from_counts(
            n_attacks=n_queries,
            n_attacks_control=n_queries,
            n_attacks_baseline=n_attacks,
            n_success=int(res.n_success),
            n_baseline=int(res.n_baseline),
            n_control=round(float(res.n_control)),
            confidence=ctx.settings.confidence,
        )
        details["rows_compared"] = len(ori)
        details["queries_made"] = n_queries
        details["queries_requested"] = n_attacks
        a, c = details["attack"]["rate"], details["control"]["rate"]
        summary = (
            f"Predicates written from the release isolated one training record in {a:.1%} of "
            f"{n_queries} attempts and one holdout record in {c:.1%}; the excess, {est.value:.3f} "
            f"(95% CI {est.ci_low:.3f}-{est.ci_high:.3f}), is the singling-out risk the release adds."
        )
        warns = ()
        if not details["attack_beats_baseline"]:
            warns = ("the attack did no better than random predicates; the risk estimate is weak evidence",)
        return [CheckResult(
            id=self.id, family=self.family, kind="risk", estimate=est, baseline=base, summary=summary,
            details=details, params={"n_attacks": n_queries, "mode": "univariate",
                                     "equal_sizes": len(ori), "seed": seed},
            warnings=warns,
        )]
