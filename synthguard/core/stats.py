"""Confidence intervals for proportions and bootstrap helpers.

Every risk synthguard reports carries an interval; the functions here compute them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st

__all__ = [
    "bootstrap_interval",
    "clopper_pearson",
    "newcombe_difference",
    "newcombe_paired_difference",
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
