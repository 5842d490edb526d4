"""Attribute inference (WP29 criterion 3): anonymeter's nearest-neighbour attack and a model attack.

``attribute.inference[secret=X]`` (anonymeter's method): the attacker knows a target's
quasi-identifiers, finds the closest synthetic record on them and guesses that record's value of
the sensitive column X. ``attribute.inference_sweep`` repeats it for every column as the secret,
with all other columns known (a very knowledgeable attacker, as in anonymeter's example).
``attribute.model[secret=X]``: a gradient-boosting model trained on the release to predict X from
the quasi-identifiers.

In every case success on training records is compared with success on holdout records: the
holdout success is what the population statistics alone reveal, so only the normalised excess
``(members − non-members) / (1 − non-members)`` is a risk the release creates (Giomi et al.,
PoPETs 2023).

Two anonymeter defects are avoided: a numeric guess counts as correct when it is within 5 % of the
*true* value (anonymeter divides by the guess, so every negative guess counts as correct), and the
random-guess baseline compares each guess with its own target (anonymeter's naive guesses are
re-indexed onto the targets and come out mostly missing). Two missing values count as equal.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthguard.attacks._anonymeter import anonymeter_view, draw_targets, nearest_synthetic, risk_from_counts
from synthguard.audit.results import CheckResult, Estimate
from synthguard.audit.runner import AuditContext, CheckSkipped, register
from synthguard.audit.schema import Schema

__all__ = ["Inference", "InferenceSweep", "ModelInference", "correct_guesses"]

NUMERIC_TOLERANCE = 0.05
_WIDE = 0.2


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


def _is_numeric(schema: Schema, column: str) -> bool:
    return schema.kind(column) in ("numeric", "datetime")


def _views(ctx: AuditContext) -> dict[str, pd.DataFrame]:
    schema = ctx.schema
    views: dict[str, pd.DataFrame] = ctx.cached(
        "attribute.views",
        lambda: {r: anonymeter_view(ctx.data.table(r), schema) for r in ("train", "holdout", "synthetic")},
    )
    return views


def _risk(
    ok_members: np.ndarray, ok_control: np.ndarray, ok_baseline: np.ndarray, confidence: float
) -> tuple[Estimate, Estimate, dict[str, Any]]:
    """anonymeter's residual risk from per-target success flags (members, non-members, random guess)."""
    return risk_from_counts(
        n_attacks=len(ok_members),
        n_success=int(ok_members.sum()),
        n_baseline=int(ok_baseline.sum()),
        n_control=int(ok_control.sum()),
        n_attacks_control=len(ok_control),
        n_attacks_baseline=len(ok_baseline),
        confidence=confidence,
    )


def _nn_inference(
    ctx: AuditContext, secret: str, aux: list[str], n: int, rng: np.random.Generator
) -> tuple[Estimate, Estimate, dict[str, Any]]:
    """anonymeter's inference attack on ``n`` training and ``n`` holdout targets."""
    v = _views(ctx)
    syn = v["synthetic"]
    numeric = _is_numeric(ctx.schema, secret)
    t_train = draw_targets(v["train"], n, rng)
    t_control = draw_targets(v["holdout"], n, rng)
    syn_secret = syn[secret].to_numpy()
    ok = {}
    for name, targets in (("train", t_train), ("control", t_control)):
        idx = nearest_synthetic(targets, syn, aux, ctx.schema, 1)[:, 0]
        ok[name] = correct_guesses(syn_secret[idx], targets[secret].to_numpy(), numeric)
    naive = syn_secret[rng.integers(0, len(syn_secret), size=len(t_train))]
    ok_b = correct_guesses(naive, t_train[secret].to_numpy(), numeric)
    est, base, details = _risk(ok["train"], ok["control"], ok_b, ctx.settings.confidence)
    details["auxiliary_columns"] = aux
    details["secret_kind"] = "numeric" if numeric else "categorical"
    return est, base, details


def _warnings(est: Estimate) -> tuple[str, ...]:
    if est.ci_high - est.ci_low > _WIDE:
        return ("the interval is too wide to decide; more attacks or a larger holdout would narrow it",)
    return ()


@register
class Inference:
    """Nearest-neighbour attribute inference from quasi-identifiers, one result per sensitive column."""

    id: ClassVar[str] = "attribute.inference"
    family: ClassVar[str] = "attribute"
    help: ClassVar[str] = (
        "Can the release reveal a person's sensitive value from their quasi-identifiers better for "
        "training records than for holdout records? (anonymeter's method)"
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "quasi_identifiers", "sensitive"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        schema = ctx.schema
        n = min(int(ctx.settings.n_attacks), len(ctx.data.train), len(ctx.data.holdout))
        out = []
        for secret in schema.sensitive:
            aux = [c for c in schema.quasi_identifiers if c != secret]
            if not aux:
                continue
            est, base, details = _nn_inference(ctx, secret, aux, n, ctx.rng)
            a, c = details["attack"]["rate"], details["control"]["rate"]
            rule = "within 5% of the true value" if details["secret_kind"] == "numeric" else "exactly"
            summary = (
                f"An attacker who knows a person's {', '.join(aux)} and looks up the closest record of the "
                f"release guessed their '{secret}' {rule} for {a:.1%} of training records and {c:.1%} of holdout "
                f"records; the inference risk the release adds is {est.value:.3f} (95% CI {est.ci_low:.3f}-"
                f"{est.ci_high:.3f})."
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
                    params={
                        "n_attacks": n,
                        "secret": secret,
                        "tolerance": NUMERIC_TOLERANCE if details["secret_kind"] == "numeric" else 0,
                    },
                    warnings=_warnings(est),
                )
            )
        if not out:
            raise CheckSkipped("every sensitive column is also the only quasi-identifier")
        return out


@register
class InferenceSweep:
    """Every column as the secret, all other columns known (anonymeter's example notebook)."""

    id: ClassVar[str] = "attribute.inference_sweep"
    family: ClassVar[str] = "attribute"
    help: ClassVar[str] = (
        "Inference risk of every column when the attacker knows all the other columns: which "
        "attributes the release exposes most (anonymeter's method)."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        schema = ctx.schema
        if len(schema.names) < 2:
            raise CheckSkipped("needs at least two columns")
        n = min(int(ctx.settings.sweep_attacks), len(ctx.data.train), len(ctx.data.holdout))
        per_column: list[dict[str, Any]] = []
        worst: tuple[Estimate, Estimate, dict[str, Any], str] | None = None
        for secret in schema.names:
            aux = [c for c in schema.names if c != secret]
            est, base, details = _nn_inference(ctx, secret, aux, n, ctx.rng)
            per_column.append(
                {
                    "column": secret,
                    "risk": est.value,
                    "ci_low": est.ci_low,
                    "ci_high": est.ci_high,
                    "attack_rate": details["attack"]["rate"],
                    "control_rate": details["control"]["rate"],
                    "baseline_rate": details["baseline"]["rate"],
                    "secret_kind": details["secret_kind"],
                }
            )
            if worst is None or est.value > worst[0].value:
                worst = (est, base, details, secret)
        assert worst is not None
        est, base, _, secret = worst
        summary = (
            f"With every other column known, the column the release exposes most is '{secret}': inference risk "
            f"{est.value:.3f} (95% CI {est.ci_low:.3f}-{est.ci_high:.3f}); the chart shows every column. This "
            "models a very knowledgeable attacker and is read as a map of where the release leaks, not as a "
            "likely attack."
        )
        estimate = Estimate(
            est.value,
            est.ci_low,
            est.ci_high,
            est.confidence,
            est.n,
            f"highest of {len(per_column)} column risks; {est.method}",
        )
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="risk",
                estimate=estimate,
                baseline=base,
                summary=summary,
                details={"columns": per_column, "worst": secret, "attacks_per_column": n},
                params={"n_attacks": n},
            )
        ]


def _text(s: pd.Series) -> np.ndarray:
    """Values as text, missing values as ``None`` (what a classifier trained on text predicts against)."""
    return np.array([None if pd.isna(v) else str(v) for v in s], dtype=object)


def _model_pipeline(numeric: list[str], categorical: list[str], regression: bool, seed: int) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    encode = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
                categorical,
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    cat_mask = [True] * len(categorical) + [False] * len(numeric)
    params: dict[str, Any] = {
        "max_iter": 200,
        "early_stopping": True,
        "random_state": seed,
        "categorical_features": cat_mask if categorical else None,
    }
    model = HistGradientBoostingRegressor(**params) if regression else HistGradientBoostingClassifier(**params)
    return make_pipeline(encode, model)


@register
class ModelInference:
    """A model trained on the release predicts each sensitive column from the quasi-identifiers."""

    id: ClassVar[str] = "attribute.model"
    family: ClassVar[str] = "attribute"
    help: ClassVar[str] = (
        "A gradient-boosting model trained on the release predicts each sensitive column from the "
        "quasi-identifiers: is it more accurate for training records than for holdout records?"
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "quasi_identifiers", "sensitive"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        schema = ctx.schema
        v = _views(ctx)
        n = min(int(ctx.settings.n_attacks), len(v["train"]), len(v["holdout"]))
        out = []
        for secret in schema.sensitive:
            aux = [c for c in schema.quasi_identifiers if c != secret]
            if not aux:
                continue
            regression = _is_numeric(schema, secret)
            syn = v["synthetic"]
            fit_rows = syn[secret].notna().to_numpy()
            numeric = [c for c in aux if _is_numeric(schema, c)]
            categorical = [c for c in aux if c not in numeric]
            x_syn = syn.loc[fit_rows, categorical + numeric]
            for c in categorical:
                x_syn[c] = x_syn[c].astype(str)
            y_syn = syn.loc[fit_rows, secret]
            if not regression:
                y_syn = y_syn.astype(str)
                if y_syn.nunique() < 2:
                    raise CheckSkipped(f"'{secret}' has one value in the release; there is nothing to predict")
            model = _model_pipeline(numeric, categorical, regression, int(ctx.rng.integers(2**31 - 1)))
            model.fit(x_syn, y_syn)
            t_train = draw_targets(v["train"], n, ctx.rng)
            t_control = draw_targets(v["holdout"], n, ctx.rng)
            ok = {}
            for name, targets in (("train", t_train), ("control", t_control)):
                x = targets[categorical + numeric].copy()
                for c in categorical:
                    x[c] = x[c].astype(str)
                guesses = model.predict(x)
                truth = targets[secret].to_numpy() if regression else _text(targets[secret])
                ok[name] = correct_guesses(guesses, truth, regression)
            # population baseline: the majority class, or the mean, learnt from the release
            if regression:
                constant = np.full(len(t_train), float(y_syn.mean()))
            else:
                constant = np.full(len(t_train), y_syn.value_counts().index[0], dtype=object)
            truth_t = t_train[secret].to_numpy() if regression else _text(t_train[secret])
            ok_b = correct_guesses(constant, truth_t, regression)
            est, base, details = _risk(ok["train"], ok["control"], ok_b, ctx.settings.confidence)
            details["auxiliary_columns"] = aux
            details["secret_kind"] = "numeric" if regression else "categorical"
            details["baseline_kind"] = "mean of the release" if regression else "most frequent value in the release"
            a, c = details["attack"]["rate"], details["control"]["rate"]
            rule = "within 5% of the true value" if regression else "exactly"
            summary = (
                f"A model trained on the release to predict '{secret}' from {', '.join(aux)} is right ({rule}) for "
                f"{a:.1%} of training records and {c:.1%} of holdout records (always guessing the "
                f"{details['baseline_kind']}: {details['baseline']['rate']:.1%}); the excess, {est.value:.3f} "
                f"(95% CI {est.ci_low:.3f}-{est.ci_high:.3f}), is what the release reveals about the people it "
                "was made from."
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
                    params={"n_attacks": n, "secret": secret, "model": "HistGradientBoosting"},
                    warnings=_warnings(est),
                )
            )
        if not out:
            raise CheckSkipped("every sensitive column is also the only quasi-identifier")
        return out
