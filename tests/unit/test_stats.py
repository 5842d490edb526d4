"""Known answers for the interval methods in core.stats."""

import math

import numpy as np
import pytest

from synthguard.core.stats import (
    bootstrap_interval,
    clopper_pearson,
    newcombe_difference,
    newcombe_paired_difference,
    wilson,
)


def test_wilson_zero_successes_has_closed_form_upper_bound():
    lo, hi = wilson(0, 10)
    z2 = 1.959963984540054**2
    assert lo == 0.0
    assert hi == pytest.approx(z2 / (10 + z2), abs=1e-9)  # 0.2775


def test_wilson_newcombe_example():
    # Newcombe (1998a), Statistics in Medicine 17:857, example 81/263: 0.2553 to 0.3662
    lo, hi = wilson(81, 263)
    assert lo == pytest.approx(0.2553, abs=1e-4)
    assert hi == pytest.approx(0.3662, abs=1e-4)


def test_clopper_pearson_boundaries_are_analytic():
    lo, hi = clopper_pearson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-9)  # 0.3085
    lo, hi = clopper_pearson(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 10), abs=1e-9)
    # one-sided 95 % upper bound for 0/n is 1 - 0.05^(1/n) (the "rule of three" for large n)
    _, hi1 = clopper_pearson(0, 10, alternative="less")
    assert hi1 == pytest.approx(1 - 0.05 ** (1 / 10), abs=1e-9)
    lo1, hi1 = clopper_pearson(0, 10, alternative="greater")
    assert (lo1, hi1) == (0.0, 1.0)


def test_clopper_pearson_symmetric_case():
    lo, hi = clopper_pearson(5, 10)
    assert lo == pytest.approx(0.187086, abs=1e-6)
    assert hi == pytest.approx(1 - 0.187086, abs=1e-6)


def test_newcombe_unpaired_published_example():
    # Newcombe (1998b), Statistics in Medicine 17:873, example 56/70 - 48/80, method 10: 0.0524 to 0.3339
    d, lo, hi = newcombe_difference(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert lo == pytest.approx(0.0524, abs=1e-4)
    assert hi == pytest.approx(0.3339, abs=1e-4)


def test_newcombe_paired_reduces_to_unpaired_without_correlation():
    # a*d == b*c  =>  phi == 0: the paired interval equals the unpaired one with the margins
    a, b, c, d = 10, 10, 20, 20
    n = a + b + c + d
    diff, lo, hi = newcombe_paired_difference(a, b, c, d)
    d2, lo2, hi2 = newcombe_difference(a + b, n, a + c, n)
    assert (diff, lo, hi) == pytest.approx((d2, lo2, hi2))


def test_newcombe_paired_no_discordance_is_tight_around_zero():
    diff, lo, hi = newcombe_paired_difference(0, 0, 0, 1000)
    assert diff == 0 and lo <= 0 <= hi and hi < 0.004


def test_newcombe_paired_coverage_by_simulation():
    rng = np.random.default_rng(0)
    # true p1 = 0.03, p2 = 0.01, positively correlated pairs
    probs = np.array([0.01, 0.02, 0.0, 0.97])  # both, only1, only2, neither
    true = 0.02
    hits = 0
    for _ in range(400):
        a, b, c, d = rng.multinomial(1500, probs)
        _, lo, hi = newcombe_paired_difference(a, b, c, d)
        hits += lo <= true <= hi
    assert hits / 400 >= 0.92


def test_bootstrap_interval_ignores_nan():
    lo, hi = bootstrap_interval(np.array([np.nan, *np.linspace(0, 1, 101)]), 0.9)
    assert lo == pytest.approx(0.05) and hi == pytest.approx(0.95)
    assert all(math.isnan(x) for x in bootstrap_interval(np.array([np.nan])))


@pytest.mark.parametrize("bad", [(-1, 10), (11, 10)])
def test_invalid_counts_raise(bad):
    with pytest.raises(ValueError):
        wilson(*bad)
