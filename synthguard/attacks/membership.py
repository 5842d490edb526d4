"""Membership inference from the release alone (no-box threat model).

Can someone tell whether a given person was in the training data? Members are a sample of
``train``; non-members are half of ``holdout``; the other half of ``holdout`` is the attacker's
reference population and is never also used as evaluation non-members. Every attack gives each
target a score (higher = "member"); the result is the attack's ROC AUC with DeLong's interval,
its true-positive rate at low false-positive rates, its membership advantage and an empirical
ε lower bound.

Attacks:

* ``distance``: minus the distance to the closest synthetic record.
* ``dcr_diff``: log distance to the closest reference record minus log distance to the closest
  synthetic record (a target much closer to the release than to the population is suspicious).
* ``density`` (DOMIAS; van Breugel et al., AISTATS 2023): log density of the release at the
  target over log density of the reference population, both Gaussian kernel estimates in the
  encoded space computed from each target's nearest neighbours.
* ``classifier`` (LOGAN-style; Hayes et al., PoPETs 2019): a gradient-boosting model trained to
  tell synthetic rows from reference rows, its probability of "synthetic" at the target.
* ``best``: the attack with the highest AUC on one half of the targets, evaluated on the other half
  so that choosing the best attack does not inflate the result.
* ``outliers``: the chosen attack on the most isolated decile of targets (mean distance to the 5
  nearest real records; Meeus et al., "Achilles' heels", ESORICS 2023): outliers leak first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.special import logsumexp

from synthguard.audit.results import CheckResult, Estimate
from synthguard.audit.runner import AuditContext, CheckSkipped, register
from synthguard.core.encoding import encoded
from synthguard.core.neighbors import knn
from synthguard.core.stats import (
    advantage_split,
    auc_delong,
    epsilon_lower_bound,
    roc_points,
    tpr_at_fpr,
)

__all__ = [
    "ATTACKS",
    "FPR_LEVELS",
    "MembershipTargets",
    "membership_metrics",
    "membership_scores",
    "membership_targets",
]

FPR_LEVELS = (0.001, 0.01, 0.1)
ATTACKS = ("distance", "dcr_diff", "density", "classifier")
_K_DENSITY = 20
_K_ISOLATION = 5
_MIN_TARGETS = 20


@dataclass(frozen=True)
class MembershipTargets:
    """Who is attacked, and the attacker's own population sample.

    ``members`` index ``train``; ``nonmembers`` and ``reference`` index ``holdout`` (disjoint).
    ``half_a`` marks, over ``members`` then ``nonmembers``, the targets of the selection split.
    """

    members: np.ndarray
    nonmembers: np.ndarray
    reference: np.ndarray
    half_a: np.ndarray

    @property
    def labels(self) -> np.ndarray:
        return np.concatenate([np.ones(len(self.members), bool), np.zeros(len(self.nonmembers), bool)])


def membership_targets(ctx: AuditContext) -> MembershipTargets:
    """The shared draw of targets (same for every membership check of an audit)."""

    def draw() -> MembershipTargets:
        rng = ctx.shared_rng("membership.targets")
        n_train, n_hold = len(ctx.data.train), len(ctx.data.holdout)
        hold = rng.permutation(n_hold)
        n = min(n_hold // 2, n_train, int(ctx.settings.n_targets))
        if n < _MIN_TARGETS:
            raise CheckSkipped(f"needs at least {2 * _MIN_TARGETS} holdout rows for membership attacks")
        nonmembers = np.sort(hold[:n])
        reference = np.sort(hold[n:])
        members = np.sort(rng.choice(n_train, size=n, replace=False))
        half = np.zeros(2 * n, bool)
        half[rng.permutation(n)[: n // 2]] = True
        half[n + rng.permutation(n)[: n // 2]] = True
        return MembershipTargets(members, nonmembers, reference, half)

    return ctx.cached("membership.targets", draw)


def _gaussian_log_density(dist: np.ndarray, h: np.ndarray, n_ref: int) -> np.ndarray:
    """log of (1/n) Σ exp(−d²/2h²) over the nearest neighbours given (the rest contribute ~0).

    The normalising constant of the kernel is the same for both densities of a target and
    cancels in their ratio.
    """
    return np.asarray(logsumexp(-(dist**2) / (2.0 * h * h), axis=1) - np.log(n_ref))


def membership_scores(ctx: AuditContext) -> dict[str, np.ndarray]:
    """Scores of every attack for every target (members first), computed once per audit."""

    def compute() -> dict[str, np.ndarray]:
        t = membership_targets(ctx)
        enc = encoded(ctx)
        targets = np.concatenate([enc.train[t.members], enc.holdout[t.nonmembers]])
        reference = enc.holdout[t.reference]
        k_syn = min(_K_DENSITY, len(enc.synthetic))
        k_ref = min(_K_DENSITY, len(reference))
        d_syn, _ = knn(targets, enc.synthetic, k_syn)
        d_ref, _ = knn(targets, reference, k_ref)
        positive = d_ref[:, 0][d_ref[:, 0] > 0]
        scale = float(np.median(positive)) if positive.size else 1.0
        eps = 1e-3 * scale
        # balloon estimator: each target's kernel width is half its distance to the closest
        # reference record, so the kernel resolves local excess density (what memorisation
        # creates) in dense and sparse regions alike; a global width averages it away in one of them
        h = np.maximum(0.5 * d_ref[:, 0], 0.05 * scale)[:, None]
        scores = {
            "distance": -d_syn[:, 0],
            "dcr_diff": np.log(d_ref[:, 0] + eps) - np.log(d_syn[:, 0] + eps),
            "density": _gaussian_log_density(d_syn, h, len(enc.synthetic))
            - _gaussian_log_density(d_ref, h, len(reference)),
            "classifier": _classifier_scores(enc.synthetic, reference, targets, ctx.shared_rng("membership.clf")),
        }
        return scores

    return ctx.cached("membership.scores", compute)


def _classifier_scores(
    synthetic: np.ndarray, reference: np.ndarray, targets: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier

    n = min(len(synthetic), 20 * len(reference), 50_000)
    syn = synthetic[rng.choice(len(synthetic), size=n, replace=False)] if n < len(synthetic) else synthetic
    x = np.concatenate([syn, reference])
    y = np.concatenate([np.ones(len(syn)), np.zeros(len(reference))])
    model = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        early_stopping=True,
        class_weight="balanced",
        random_state=int(rng.integers(2**31 - 1)),
    )
    model.fit(x, y)
    return np.asarray(model.predict_proba(targets)[:, 1])


def isolation(ctx: AuditContext) -> np.ndarray:
    """Mean distance of each target to its 5 nearest real records (itself excluded)."""

    def compute() -> np.ndarray:
        t = membership_targets(ctx)
        enc = encoded(ctx)
        k = _K_ISOLATION
        out = []
        for own, other, idx in ((enc.train, enc.holdout, t.members), (enc.holdout, enc.train, t.nonmembers)):
            q = own[idx]
            d_own, i_own = knn(q, own, min(k + 1, len(own)))
            # drop the target itself (exactly one entry: its own index), keep k from its own table
            not_self = i_own != idx[:, None]
            first_self = np.argmax(~not_self, axis=1)
            keep = np.ones_like(not_self)
            has_self = ~not_self.all(axis=1)
            keep[np.arange(len(q))[has_self], first_self[has_self]] = False
            d_own = np.where(keep, d_own, np.inf)
            d_other, _ = knn(q, other, min(k, len(other)))
            both = np.sort(np.concatenate([d_own, d_other], axis=1), axis=1)[:, :k]
            out.append(both.mean(axis=1))
        return np.concatenate(out)

    return ctx.cached("membership.isolation", compute)


def membership_metrics(
    pos: np.ndarray,
    neg: np.ndarray,
    pos_a: np.ndarray,
    neg_a: np.ndarray,
    pos_b: np.ndarray,
    neg_b: np.ndarray,
    *,
    confidence: float,
    delta: float,
) -> tuple[Estimate, dict[str, Any]]:
    """AUC (all targets), TPR at low FPR (all targets), advantage and ε lower bound (split A → B)."""
    auc, lo, hi = auc_delong(pos, neg, confidence)
    est = Estimate(auc, min(lo, auc), max(hi, auc), confidence, len(pos) + len(neg), "ROC AUC, DeLong interval")
    adv, alo, ahi = advantage_split(pos_a, neg_a, pos_b, neg_b, confidence)
    details: dict[str, Any] = {
        "members": len(pos),
        "nonmembers": len(neg),
        "tpr_at_fpr": {f"{f:g}": tpr_at_fpr(pos, neg, f, confidence) for f in FPR_LEVELS},
        "advantage": {"value": adv, "ci_low": alo, "ci_high": ahi},
        "epsilon": epsilon_lower_bound(pos_a, neg_a, pos_b, neg_b, delta=delta, confidence=confidence),
        "roc": roc_points(pos, neg),
    }
    return est, details


def _chance(confidence: float, n: int) -> Estimate:
    return Estimate(0.5, 0.5, 0.5, confidence, n, "an attacker without the release (AUC 0.5)")


def _split(scores: np.ndarray, labels: np.ndarray, half_a: np.ndarray, mask: np.ndarray | None = None) -> dict:
    m = np.ones_like(labels) if mask is None else mask
    return {
        "pos": scores[labels & m],
        "neg": scores[~labels & m],
        "pos_a": scores[labels & half_a & m],
        "neg_a": scores[~labels & half_a & m],
        "pos_b": scores[labels & ~half_a & m],
        "neg_b": scores[~labels & ~half_a & m],
    }


_ATTACK_TEXT = {
    "distance": "the distance from a person's record to the closest synthetic record",
    "dcr_diff": "how much closer a person's record is to the release than to the population",
    "density": "how much denser the release is than the population around a person's record (DOMIAS)",
    "classifier": "a model trained to tell synthetic rows from population rows (LOGAN)",
}


def _summary(what: str, est: Estimate, d: dict[str, Any]) -> str:
    t1 = d["tpr_at_fpr"]["0.01"]
    eps = d["epsilon"]["epsilon_lb"]
    return (
        f"Using {what}, an attacker separates training records from other people with AUC {est.value:.3f} "
        f"(95% CI {est.ci_low:.3f}-{est.ci_high:.3f}; 0.5 is guessing). Accepting 1% false alarms, they "
        f"find {t1['tpr']:.1%} of training records (chance: 1%). Empirical ε lower bound: {eps:.2f}."
    )


class _MembershipAttack:
    family: ClassVar[str] = "membership"
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})
    attack: ClassVar[str]

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = membership_targets(ctx)
        scores = membership_scores(ctx)[self.attack]
        conf, delta = ctx.settings.confidence, ctx.settings.delta
        est, details = membership_metrics(**_split(scores, t.labels, t.half_a), confidence=conf, delta=delta)
        details["attack"] = self.attack
        details["reference_rows"] = len(t.reference)
        return [
            CheckResult(
                id=f"membership.{self.attack}",
                family="membership",
                kind="risk",
                estimate=est,
                baseline=_chance(conf, est.n),
                summary=_summary(_ATTACK_TEXT[self.attack], est, details),
                details=details,
                params={"targets_per_class": len(t.members), "delta": delta},
            )
        ]


@register
class MembershipDistance(_MembershipAttack):
    """Distance to the closest synthetic record."""

    id: ClassVar[str] = "membership.distance"
    attack: ClassVar[str] = "distance"
    help: ClassVar[str] = "Membership inference from the distance to the closest synthetic record."


@register
class MembershipDCRDiff(_MembershipAttack):
    id: ClassVar[str] = "membership.dcr_diff"
    attack: ClassVar[str] = "dcr_diff"
    help: ClassVar[str] = "Membership inference from closeness to the release relative to the population."


@register
class MembershipDensity(_MembershipAttack):
    id: ClassVar[str] = "membership.density"
    attack: ClassVar[str] = "density"
    help: ClassVar[str] = "Membership inference from the release's density over the population's (DOMIAS)."


@register
class MembershipClassifier(_MembershipAttack):
    id: ClassVar[str] = "membership.classifier"
    attack: ClassVar[str] = "classifier"
    help: ClassVar[str] = "Membership inference with a synthetic-vs-population classifier (LOGAN-style)."


def _choose(ctx: AuditContext) -> tuple[str, dict[str, float]]:
    """The attack with the highest AUC on the selection half (ties: the first in ATTACKS)."""
    t = membership_targets(ctx)
    scores = membership_scores(ctx)
    aucs = {}
    for name in ATTACKS:
        s = _split(scores[name], t.labels, t.half_a)
        aucs[name] = auc_delong(s["pos_a"], s["neg_a"])[0]
    best = max(ATTACKS, key=lambda a: aucs[a])
    return best, aucs


@register
class MembershipBest:
    id: ClassVar[str] = "membership.best"
    family: ClassVar[str] = "membership"
    help: ClassVar[str] = "The strongest membership attack, chosen on one half of the targets, scored on the other."
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = membership_targets(ctx)
        best, aucs = _choose(ctx)
        s = _split(membership_scores(ctx)[best], t.labels, t.half_a)
        conf, delta = ctx.settings.confidence, ctx.settings.delta
        # everything on the evaluation half B; the ε threshold is chosen within B's own halves
        pb, nb = s["pos_b"], s["neg_b"]
        hb = np.arange(len(pb)) % 2 == 0, np.arange(len(nb)) % 2 == 0
        est, details = membership_metrics(
            pb, nb, pb[hb[0]], nb[hb[1]], pb[~hb[0]], nb[~hb[1]], confidence=conf, delta=delta
        )
        details.update({"attack": best, "selection_auc": aucs, "evaluated_on": "the targets not used to choose"})
        return [
            CheckResult(
                id=self.id,
                family=self.family,
                kind="risk",
                estimate=est,
                baseline=_chance(conf, est.n),
                summary=_summary(_ATTACK_TEXT[best], est, details)
                + " The attack was chosen on other targets than those it is scored on.",
                details=details,
                params={"targets_per_class": len(t.members), "delta": delta},
            )
        ]


@register
class MembershipOutliers:
    id: ClassVar[str] = "membership.outliers"
    family: ClassVar[str] = "membership"
    help: ClassVar[str] = (
        "The strongest membership attack on the most isolated 10% of targets "
        "(outliers leak first): true-positive rate at 1% false positives."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = membership_targets(ctx)
        iso = isolation(ctx)
        cut = float(np.quantile(iso, 0.9))
        decile = iso >= cut
        labels = t.labels
        if min(int((decile & labels).sum()), int((decile & ~labels).sum())) < 10:
            raise CheckSkipped("too few members or non-members among the most isolated targets")
        best, _ = _choose(ctx)
        conf, delta = ctx.settings.confidence, ctx.settings.delta
        scores = membership_scores(ctx)
        per_attack = {}
        for name in ATTACKS:
            s = _split(scores[name], labels, t.half_a, decile)
            e, d = membership_metrics(**s, confidence=conf, delta=delta)
            per_attack[name] = {
                "auc": e.value,
                "auc_ci_low": e.ci_low,
                "auc_ci_high": e.ci_high,
                "tpr_at_fpr": d["tpr_at_fpr"],
                "epsilon_lb": d["epsilon"]["epsilon_lb"],
            }
            if name == best:
                est_auc, details = e, d
        t1 = details["tpr_at_fpr"]["0.01"]
        overall = _split(scores[best], labels, t.half_a)
        est = Estimate(
            t1["tpr"],
            t1["ci_low"],
            t1["ci_high"],
            conf,
            int((decile & labels).sum()),
            "TPR at 1% FPR on the most isolated decile, Clopper-Pearson",
        )
        base = Estimate(0.01, 0.01, 0.01, conf, int((decile & ~labels).sum()), "chance (TPR = FPR = 1%)")
        details.update(
            {
                "attack": best,
                "auc": {"value": est_auc.value, "ci_low": est_auc.ci_low, "ci_high": est_auc.ci_high},
                "isolation_quantile": 0.9,
                "per_attack": per_attack,
                "overall_tpr_at_1pct": tpr_at_fpr(overall["pos"], overall["neg"], 0.01, conf)["tpr"],
            }
        )
        summary = (
            f"Among the 10% most isolated people (those with few similar records, who leak first), the "
            f"{best} attack finds {t1['tpr']:.1%} of training records at 1% false alarms (95% CI "
            f"{t1['ci_low']:.1%}-{t1['ci_high']:.1%}; chance is 1%), against "
            f"{details['overall_tpr_at_1pct']:.1%} over all people; AUC {est_auc.value:.3f}."
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
                params={"targets_per_class": len(t.members), "decile_threshold": "90th percentile"},
            )
        ]
