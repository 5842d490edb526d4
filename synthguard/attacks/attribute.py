"""Attribute inference (WP29 criterion 3), with anonymeter's nearest-neighbour attack.

The attacker knows a target's quasi-identifiers, finds the closest synthetic record on them and
guesses that record's sensitive value. Success on training records is compared with success on
holdout records: the holdout success is what the population statistics alone reveal, so only the
excess is a risk the release creates.

Two anonymeter defects are avoided here: a numeric guess counts as correct when it is within 5 %
of the *true* value (anonymeter divides by the guess, so every negative guess counts as correct),
and the random-guess baseline compares each guess with its own target (anonymeter's naive
guesses are re-indexed onto the targets and come out mostly missing).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from anonymeter.neighbors.mixed_types_kneighbors import MixedTypeKNeighbors

from synthguard.attacks._anonymeter import anonymeter_view, draw_targets, risk_from_counts
from synthguard.audit.results import CheckResult
from synthguard.audit.runner import AuditContext, CheckSkipped, register

__all__ = ["Inference", "correct_guesses"]

NUMERIC_TOLERANCE = 0.05


def correct_guesses(
    guesses: np.ndarray, secrets: np.ndarray, numeric: bool, tolerance: float = NUMERIC_TOLERANCE
) -> np.ndarray:
    """Whether each guess is right: equal for categories, within ``tolerance`` × |true| for numbers.

    Two missing values match; a missing and a present value do not.
    """
    g = pd.Series(guesses, dtype=object if not numeric else float)
    s = pd.Series(secrets, dtype=object if not numeric else float)
    both_missing = (g.isna() & s.isna()).to_numpy()
    if numeric:
        gv, sv = g.to_numpy(dtype=float), s.to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            hit = np.abs(gv - sv) <= tolerance * np.abs(sv)
        hit = np.where(np.isnan(gv) | np.isnan(sv), False, hit)
    else:
        hit = (g.notna() & s.notna() & (g.astype(str) == s.astype(str))).to_numpy()
    return np.asarray(both_missing | hit, dtype=bool)


@register
class Inference:
    """Nearest-neighbour attribute inference from quasi-identifiers, one result per sensitive column."""

    id: ClassVar[str] = "attribute.inference"
    family: ClassVar[str] = "attribute"
    help: ClassVar[str] = (
        "Can the release reveal a person's sensitive value from their "
        "quasi-identifiers better for training records than for holdout records? "
        "(anonymeter's method)"
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "quasi_identifiers", "sensitive"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        schema = ctx.schema
        secrets = [s for s in schema.sensitive]
        if not secrets:
            raise CheckSkipped("no sensitive column")
        syn = anonymeter_view(ctx.data.synthetic, schema)
        train = anonymeter_view(ctx.data.train, schema)
        control = anonymeter_view(ctx.data.holdout, schema)
        n = min(int(ctx.settings.n_attacks), len(train), len(control))
        t_train = draw_targets(train, n, ctx.rng)
        t_control = draw_targets(control, n, ctx.rng)
        out = []
        for secret in secrets:
            aux = [c for c in schema.quasi_identifiers if c != secret]
            if not aux:
                continue
            numeric = schema.kind(secret) in ("numeric", "datetime")
            nn = MixedTypeKNeighbors(n_neighbors=1, n_jobs=ctx.settings.n_jobs).fit(syn[aux])
            syn_secret = syn[secret].to_numpy()

            def guess(
                targets: pd.DataFrame,
                nn: MixedTypeKNeighbors = nn,
                aux: list[str] = aux,
                syn_secret: np.ndarray = syn_secret,
            ) -> np.ndarray:
                idx = np.asarray(nn.kneighbors(targets[aux], return_distance=False))[:, 0]
                return syn_secret[idx]

            truth_t = t_train[secret].to_numpy()
            truth_c = t_control[secret].to_numpy()
            ok_t = correct_guesses(guess(t_train), truth_t, numeric)
            ok_c = correct_guesses(guess(t_control), truth_c, numeric)
            naive = syn_secret[ctx.rng.integers(0, len(syn_secret), size=n)]
            ok_b = correct_guesses(naive, truth_t, numeric)
            est, base, details = risk_from_counts(
                n_attacks=n,
                n_success=int(ok_t.sum()),
                n_baseline=int(ok_b.sum()),
                n_control=int(ok_c.sum()),
                confidence=ctx.settings.confidence,
            )
            details["auxiliary_columns"] = aux
            details["secret_kind"] = "numeric" if numeric else "categorical"
            a, c = details["attack"]["rate"], details["control"]["rate"]
            rule = "within 5% of the true value" if numeric else "exactly"
            summary = (
                f"Knowing {', '.join(aux)}, an attacker guessed '{secret}' {rule} for {a:.1%} of "
                f"training records and {c:.1%} of holdout records; the inference risk the release "
                f"adds is {est.value:.3f} (95% CI {est.ci_low:.3f}-{est.ci_high:.3f})."
            )
            out.append(
                CheckResult(
                    id=f"{self.id}[secret={secret}]",
                    family=self.family,
                    kind="risk",
                    estimate=est,
                    baseline=base,
                    summary=summary,
                    details=details,
                    params={"n_attacks": n, "secret": secret, "tolerance": NUMERIC_TOLERANCE if numeric else 0},
                )
            )
        if not out:
            raise CheckSkipped("every sensitive column is also the only quasi-identifier")
        return out
