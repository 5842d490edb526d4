"""Confidence intervals for proportions and bootstrap helpers.

Every risk synthguard reports carries an interval; the functions here compute them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st

__all__ = [
    "advantage_split",
    "auc_delong",
    "bootstrap_interval",
    "clopper_pearson",
    "epsilon_lower_bound",
    "newcombe_difference",
    "newcombe_paired_difference",
    "roc_points",
    "tpr_at_fpr",
    "wilson",
]


def _check(k: int, n: int, confidence: float) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    k : int
        Number of successes.
    n : int
        Number of trials. ``n == 0`` gives the uninformative interval ``(0, 1)``.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    (low, high) : tuple of float

    References
    ----------
    E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
    JASA 22 (1927) 209-212.
    """
    _check(k, n, confidence)
    if n == 0:
        return 0.0, 1.0
    z = float(_st.norm.ppf(0.5 + confidence / 2.0))
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def clopper_pearson(k: int, n: int, confidence: float = 0.95, *, alternative: str = "two-sided") -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a binomial proportion.

    Parameters
    ----------
    k, n : int
        Successes and trials. ``n == 0`` gives ``(0, 1)``.
    confidence : float
        Confidence level.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"`` gives a one-sided lower bound ``(low, 1)``; ``"less"`` a one-sided upper
        bound ``(0, high)``.

    References
    ----------
    C. J. Clopper and E. S. Pearson, "The use of confidence or fiducial limits illustrated in the
    case of the binomial", Biometrika 26 (1934) 404-413.
    """
    _check(k, n, confidence)
    if n == 0:
        return 0.0, 1.0
    if alternative == "two-sided":
        alpha = (1.0 - confidence) / 2.0
    elif alternative in ("greater", "less"):
        alpha = 1.0 - confidence
    else:
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}")
    low = 0.0 if k == 0 else float(_st.beta.ppf(alpha, k, n - k + 1))
    high = 1.0 if k == n else float(_st.beta.ppf(1.0 - alpha, k + 1, n - k))
    if alternative == "greater":
        high = 1.0
    elif alternative == "less":
        low = 0.0
    return low, high


def newcombe_difference(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """Difference of two independent proportions ``p1 - p2`` with Newcombe's hybrid score interval.

    Returns
    -------
    (difference, low, high) : tuple of float

    References
    ----------
    R. G. Newcombe, "Interval estimation for the difference between independent proportions:
    comparison of eleven methods", Statistics in Medicine 17 (1998) 873-890 (method 10).
    """
    p1 = k1 / n1 if n1 else 0.0
    p2 = k2 / n2 if n2 else 0.0
    l1, u1 = wilson(k1, n1, confidence)
    l2, u2 = wilson(k2, n2, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(-1.0, low), min(1.0, high)


def bootstrap_interval(replicates: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval from bootstrap replicates (NaNs ignored).

    References
    ----------
    B. Efron and R. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall (1993), ch. 13.
    """
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def newcombe_paired_difference(
    both: int, only_first: int, only_second: int, neither: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference ``p1 - p2`` of two proportions measured on the same units, with an interval.

    ``p1 = (both + only_first) / n`` and ``p2 = (both + only_second) / n``. Uses Newcombe's
    score-based method for paired data (Wilson intervals of each margin combined with the
    correlation of the pairs).

    Returns
    -------
    (difference, low, high) : tuple of float

    References
    ----------
    R. G. Newcombe, "Improved confidence intervals for the difference between binomial proportions
    based on paired data", Statistics in Medicine 17 (1998) 2635-2650 (method 10).
    """
    a, b, c, d = both, only_first, only_second, neither
    n = a + b + c + d
    if n == 0:
        return 0.0, -1.0, 1.0
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, confidence)
    l2, u2 = wilson(a + c, n, confidence)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(denom) if denom > 0 else 0.0
    diff = p1 - p2
    dl = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    du = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    low = diff - math.sqrt(max(dl, 0.0))
    high = diff + math.sqrt(max(du, 0.0))
    return diff, max(-1.0, low), min(1.0, high)


# ----------------------------------------------------------------------------------------------
# ROC analysis for membership attacks


def _midranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    return np.asarray(_st.rankdata(x, method="average"), dtype=float)


def auc_delong(pos: np.ndarray, neg: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """ROC AUC of scores (positives should score higher) with DeLong's interval.

    Ties count one half. Returns ``(auc, low, high)``, the interval clipped to [0, 1].

    References
    ----------
    E. R. DeLong, D. M. DeLong and D. L. Clarke-Pearson, "Comparing the areas under two or more
    correlated receiver operating characteristic curves: a nonparametric approach", Biometrics 44
    (1988) 837-845; X. Sun and W. Xu, "Fast implementation of DeLong's algorithm", IEEE Signal
    Processing Letters 21 (2014) 1389-1393.
    """
    pos = np.asarray(pos, dtype=float)
    neg = np.asarray(neg, dtype=float)
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        return float("nan"), 0.0, 1.0
    tz = _midranks(np.concatenate([pos, neg]))
    tx, ty = _midranks(pos), _midranks(neg)
    auc = float((tz[:m].sum() - m * (m + 1) / 2.0) / (m * n))
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    var = (np.var(v10, ddof=1) / m if m > 1 else 0.0) + (np.var(v01, ddof=1) / n if n > 1 else 0.0)
    z = float(_st.norm.ppf(0.5 + confidence / 2.0))
    half = z * math.sqrt(max(var, 0.0))
    return auc, max(0.0, auc - half), min(1.0, auc + half)


def tpr_at_fpr(pos: np.ndarray, neg: np.ndarray, fpr: float, confidence: float = 0.95) -> dict[str, float]:
    """True-positive rate at a false-positive rate of at most ``fpr``, with a Clopper-Pearson interval.

    The threshold is the smallest that lets at most ``floor(fpr · n_neg)`` negatives score above
    it (a member is predicted when its score is strictly above the threshold).
    """
    pos = np.asarray(pos, dtype=float)
    neg = np.sort(np.asarray(neg, dtype=float))[::-1]
    allowed = math.floor(fpr * len(neg) + 1e-9)
    threshold = neg[allowed] if allowed < len(neg) else -np.inf
    tp = int((pos > threshold).sum())
    fp = int((neg > threshold).sum())
    lo, hi = clopper_pearson(tp, len(pos), confidence)
    return {
        "fpr_target": fpr,
        "tpr": tp / len(pos) if len(pos) else float("nan"),
        "ci_low": lo,
        "ci_high": hi,
        "fpr": fp / len(neg) if len(neg) else float("nan"),
        "true_positives": tp,
        "false_positives": fp,
    }


def _eps_at(tp: int, fn: int, fp: int, tn: int, delta: float, confidence: float) -> float:
    """Empirical ε lower bound at one threshold from one-sided Clopper-Pearson bounds."""
    p, n = tp + fn, fp + tn
    if p == 0 or n == 0:
        return 0.0
    tpr_lo = clopper_pearson(tp, p, confidence, alternative="greater")[0]
    fpr_hi = clopper_pearson(fp, n, confidence, alternative="less")[1]
    tnr_lo = clopper_pearson(tn, n, confidence, alternative="greater")[0]
    fnr_hi = clopper_pearson(fn, p, confidence, alternative="less")[1]
    best = 0.0
    if tpr_lo - delta > 0 and fpr_hi > 0:
        best = max(best, math.log((tpr_lo - delta) / fpr_hi))
    if tnr_lo - delta > 0 and fnr_hi > 0:
        best = max(best, math.log((tnr_lo - delta) / fnr_hi))
    return best


def _confusion(pos: np.ndarray, neg: np.ndarray, t: float) -> tuple[int, int, int, int]:
    tp = int((pos > t).sum())
    fp = int((neg > t).sum())
    return tp, len(pos) - tp, fp, len(neg) - fp


def epsilon_ceiling(n_pos: int, n_neg: int, *, delta: float = 1e-5, confidence: float = 0.95) -> float:
    """The largest ε lower bound that ``n_pos`` members and ``n_neg`` non-members can show at all.

    What :func:`epsilon_lower_bound` gives when the attack separates the evaluation split
    perfectly: a bound can never exceed it, whatever the generator, so a policy threshold above
    it cannot be tested with that many samples.
    """
    return _eps_at(int(n_pos), 0, 0, int(n_neg), delta, confidence)


def epsilon_lower_bound(
    pos_select: np.ndarray,
    neg_select: np.ndarray,
    pos_eval: np.ndarray,
    neg_eval: np.ndarray,
    *,
    delta: float = 1e-5,
    confidence: float = 0.95,
    max_thresholds: int = 256,
) -> dict[str, float]:
    """Empirical lower bound on the ε of (ε, δ)-differential privacy implied by an attack.

    The threshold is chosen on one split (``*_select``) to maximise the bound there, then the
    bound is computed on the other split (``*_eval``):
    ``ε_LB = max(0, ln((TPR_lo − δ)/FPR_hi), ln((TNR_lo − δ)/FNR_hi))`` with one-sided
    Clopper-Pearson bounds at ``confidence``. A release from an (ε, δ)-DP generator cannot give an
    ε_LB above ε, except with probability about ``1 − confidence``.

    References
    ----------
    M. Jagielski, J. Ullman and A. Oprea, "Auditing differentially private machine learning: how
    private is private SGD?", NeurIPS 2020; P. Kairouz, S. Oh and P. Viswanath, "The composition
    theorem for differential privacy", ICML 2015 (the hypothesis-testing view of DP).
    """
    ps, ns = np.asarray(pos_select, float), np.asarray(neg_select, float)
    pe, ne = np.asarray(pos_eval, float), np.asarray(neg_eval, float)
    both = np.concatenate([ps, ns])
    if both.size == 0 or pe.size == 0 or ne.size == 0:
        return {"epsilon_lb": 0.0, "threshold_quantile": float("nan"), "delta": delta, "confidence": confidence}
    values = np.unique(both)
    if len(values) > max_thresholds:
        values = np.unique(np.quantile(both, np.linspace(0, 1, max_thresholds)))
    # thresholds halfway between neighbouring scores (a score on the threshold is ambiguous), and
    # among equally good ones the middle one: the margin on both sides carries over to new scores
    cands = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2]) if len(values) > 1 else values - 1.0
    vals = np.array([_eps_at(*_confusion(ps, ns, t), delta, confidence) for t in cands])
    best_val = float(vals.max())
    tied = np.flatnonzero(vals >= best_val - 1e-12)
    best_t = cands[tied[len(tied) // 2]]
    eps = _eps_at(*_confusion(pe, ne, best_t), delta, confidence)
    q = float((both <= best_t).mean())
    return {
        "epsilon_lb": eps,
        "threshold_quantile": q,
        "delta": delta,
        "confidence": confidence,
        "epsilon_lb_selection_split": max(best_val, 0.0),
    }


def advantage_split(
    pos_select: np.ndarray,
    neg_select: np.ndarray,
    pos_eval: np.ndarray,
    neg_eval: np.ndarray,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Membership advantage TPR − FPR at the threshold that maximises it on the selection split,
    measured on the evaluation split, with Newcombe's interval (Yeom et al., CSF 2018)."""
    ps, ns = np.asarray(pos_select, float), np.asarray(neg_select, float)
    pe, ne = np.asarray(pos_eval, float), np.asarray(neg_eval, float)
    if min(ps.size, ns.size, pe.size, ne.size) == 0:
        return 0.0, -1.0, 1.0
    cands = np.unique(np.concatenate([ps, ns]))
    if len(cands) > 1024:
        cands = np.unique(np.quantile(cands, np.linspace(0, 1, 1024)))
    gains = [(ps > t).mean() - (ns > t).mean() for t in cands]
    t = cands[int(np.argmax(gains))]
    return newcombe_difference(int((pe > t).sum()), len(pe), int((ne > t).sum()), len(ne), confidence)


def roc_points(pos: np.ndarray, neg: np.ndarray, n_points: int = 60) -> dict[str, list[float]]:
    """The ROC curve at log-spaced false-positive rates (for charts; aggregates only)."""
    from sklearn.metrics import roc_curve

    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    fpr, tpr, _ = roc_curve(y, np.concatenate([pos, neg]))
    floor = max(1.0 / max(len(neg), 1), 1e-4)
    grid = np.unique(np.concatenate([np.geomspace(floor, 1.0, n_points), [0.0]]))
    return {"fpr": grid.round(6).tolist(), "tpr": np.interp(grid, fpr, tpr).round(6).tolist()}
