"""Bridging to anonymeter: data views, reproducible target sampling and risk estimates.

anonymeter (Giomi et al., "A Unified Framework for Quantifying Privacy Risk in Synthetic Data",
PoPETs 2023) samples its targets and its baseline guesses without a seed. synthguard draws
targets and baseline guesses from the check's own random stream and uses anonymeter's
neighbour search and risk formula (Wilson rates, residual risk against the control set).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from anonymeter.stats.confidence import EvaluationResults

from synthguard.audit.results import Estimate
from synthguard.audit.schema import Schema
from synthguard.core.stats import wilson

__all__ = ["anonymeter_view", "draw_targets", "risk_from_counts"]


def anonymeter_view(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The frame anonymeter expects: numbers as float, datetimes as days, categories as text."""
    out = {}
    for col in schema.columns:
        s = df[col.name]
        if col.kind == "datetime":
            days = (s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
            out[col.name] = days.astype(float)
        elif col.kind == "numeric":
            out[col.name] = s.astype(float)
        else:
            out[col.name] = s.astype(object)
    return pd.DataFrame(out, index=df.index)


def draw_targets(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` distinct rows of ``df`` drawn without replacement from ``rng`` (reproducible)."""
    n = min(n, len(df))
    idx = np.sort(rng.choice(len(df), size=n, replace=False))
    return df.iloc[idx]


def equal_size(a: pd.DataFrame, b: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subsample the larger of two frames to the size of the smaller (seeded)."""
    if len(a) > len(b):
        return draw_targets(a, len(b), rng), b
    if len(b) > len(a):
        return a, draw_targets(b, len(a), rng)
    return a, b


def risk_from_counts(
    *,
    n_attacks: int,
    n_success: int,
    n_baseline: int,
    n_control: int,
    confidence: float,
    n_attacks_control: int | None = None,
    n_attacks_baseline: int | None = None,
) -> tuple[Estimate, Estimate, dict[str, Any]]:
    """anonymeter's risk estimate from success counts.

    Returns the residual risk ``(attack - control) / (1 - control)`` (clipped to [0, 1], with
    anonymeter's propagated Wilson error), the baseline (random-guess) success rate, and the
    rates for the details block.
    """
    n_c = n_attacks if n_attacks_control is None else n_attacks_control
    n_b = n_attacks if n_attacks_baseline is None else n_attacks_baseline
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anonymeter warns when attack <= baseline; we report it
        res = EvaluationResults(
            n_attacks=(n_attacks, n_b, n_c),
            n_success=int(n_success),
            n_baseline=int(n_baseline),
            n_control=int(n_control),
            confidence_level=confidence,
        )
        risk = res.risk()
        base = res.risk(baseline=True)
    estimate = Estimate(
        value=float(risk.value),
        ci_low=float(risk.ci[0]),
        ci_high=float(risk.ci[1]),
        confidence=confidence,
        n=int(n_attacks),
        method="anonymeter residual risk (Wilson rates, propagated error)",
    )
    baseline = Estimate(
        value=float(base.value),
        ci_low=float(base.ci[0]),
        ci_high=float(base.ci[1]),
        confidence=confidence,
        n=int(n_b),
        method="random-guess attacker success rate (Wilson)",
    )

    def rate(k: int, n: int) -> Mapping[str, Any]:
        lo, hi = wilson(int(k), int(n), confidence)
        return {"successes": int(k), "attacks": int(n), "rate": k / n if n else 0.0, "ci_low": lo, "ci_high": hi}

    details = {
        "attack": rate(n_success, n_attacks),
        "control": rate(n_control, n_c),
        "baseline": rate(n_baseline, n_b),
        "attack_beats_baseline": bool(res.attack_rate.value > res.baseline_rate.value),
    }
    return estimate, baseline, details


def nearest_synthetic(
    targets: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str], schema: Schema, k: int
) -> np.ndarray:
    """Indices of the ``k`` synthetic rows closest to each target on ``columns`` (anonymeter's distance).

    Scaled and encoded per call as anonymeter does (numeric ranges over the release and the
    targets); searched with synthguard's compiled Gower search, ties by row index.
    """
    from synthguard.core.gower import gower_knn, gower_tables

    numeric = [c for c in columns if schema.kind(c) in ("numeric", "datetime")]
    categorical = [c for c in columns if c not in numeric]
    _, idx = gower_knn(gower_tables(targets, synthetic, numeric, categorical), k)
    return idx
