"""ROC statistics against hand-computed values."""

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from synthguard.core.stats import advantage_split, auc_delong, epsilon_lower_bound, roc_points, tpr_at_fpr


def test_auc_matches_sklearn_and_counts_ties_as_half():
    pos = np.array([3.0, 2.0, 2.0, 1.0])
    neg = np.array([2.0, 0.0, 0.0])
    auc, lo, hi = auc_delong(pos, neg)
    # pairs: 3>all (3), 2 vs 2 tie (0.5) and >0,>0 (2) twice, 1>0,>0 (2), 1<2 (0): (3+2.5+2.5+2)/12
    assert auc == pytest.approx(10 / 12)
    assert auc == pytest.approx(roc_auc_score([1] * 4 + [0] * 3, np.concatenate([pos, neg])))
    assert lo <= auc <= hi


def test_delong_variance_hand_computed():
    # positives [1, 2], negatives [0, 3]: each positive beats one negative
    pos, neg = np.array([1.0, 2.0]), np.array([0.0, 3.0])
    auc, lo, hi = auc_delong(pos, neg, 0.95)
    # structural components: V10 = [0.5, 0.5] (var 0); V01 = [1, 0] (var 0.5) -> var = 0.5 / 2 = 0.25
    assert auc == 0.5
    half = 1.959963984540054 * math.sqrt(0.25)
    assert (lo, hi) == pytest.approx((max(0, 0.5 - half), min(1, 0.5 + half)))


def test_tpr_at_fpr_hand_computed():
    neg = np.arange(100, dtype=float)  # 0..99
    pos = np.array([99.5, 98.5, 97.5, 50.0, 10.0])
    r = tpr_at_fpr(pos, neg, 0.01)  # one negative may score above the threshold (99 > 98)
    assert r["false_positives"] == 1 and r["fpr"] == 0.01
    assert r["true_positives"] == 2 and r["tpr"] == pytest.approx(0.4)
    r0 = tpr_at_fpr(pos, neg, 0.001)  # no negative may score above: threshold = 99
    assert r0["false_positives"] == 0 and r0["true_positives"] == 1
    assert r["ci_low"] < 0.4 < r["ci_high"]


def test_epsilon_bound_of_a_perfect_attack_is_hand_computable():
    n_pos, n_neg = 250, 200
    out = epsilon_lower_bound(np.ones(n_pos), np.zeros(n_neg), np.ones(n_pos), np.zeros(n_neg), delta=0.0)
    # best direction: TNR_lo = 0.05^(1/200), FNR_hi = 1 - 0.05^(1/250) (one-sided 95 % Clopper-Pearson)
    tnr_lo, fnr_hi = 0.05 ** (1 / n_neg), 1 - 0.05 ** (1 / n_pos)
    tpr_lo, fpr_hi = 0.05 ** (1 / n_pos), 1 - 0.05 ** (1 / n_neg)
    expected = max(math.log(tnr_lo / fnr_hi), math.log(tpr_lo / fpr_hi))
    assert out["epsilon_lb"] == pytest.approx(expected, rel=1e-9)
    assert out["epsilon_lb"] == pytest.approx(4.4153, abs=1e-4)


def test_epsilon_bound_is_zero_for_a_useless_attack_and_delta_lowers_it():
    rng = np.random.default_rng(0)
    s = [rng.random(500) for _ in range(4)]
    assert epsilon_lower_bound(*s)["epsilon_lb"] == 0.0
    strong = [np.ones(300), np.zeros(300), np.ones(300), np.zeros(300)]
    assert epsilon_lower_bound(*strong, delta=0.1)["epsilon_lb"] < epsilon_lower_bound(*strong, delta=0)["epsilon_lb"]


def test_advantage_and_roc_points():
    pos = np.array([1.0] * 50 + [0.0] * 50)
    neg = np.zeros(100)
    adv, lo, hi = advantage_split(pos, neg, pos, neg)
    assert adv == pytest.approx(0.5) and lo < 0.5 < hi
    roc = roc_points(pos, neg)
    assert roc["fpr"][0] == 0.0 and roc["fpr"][-1] == 1.0 and roc["tpr"][-1] == 1.0
    assert all(b >= a for a, b in zip(roc["tpr"], roc["tpr"][1:], strict=False))
