"""Test helpers: a seeded synthetic population law (no real data needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ZIPS = [f"{z:04d}" for z in range(1000, 1060)]
DIAGNOSES = ["J45", "E11", "I10", "F32", "M54", "K21", "G43", "N39", "L40", "C50"]


def population(n: int, seed: int) -> pd.DataFrame:
    """Rows drawn from one fixed population law (so two draws are two samples of it).

    Quasi-identifiers age, sex and postcode are spread enough that most people are unique on
    them; diagnosis and income depend on them only weakly, so without a leak they are hard to
    infer beyond their population rates.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 91, size=n)
    sex = rng.choice(["F", "M"], size=n)
    zipc = rng.choice(ZIPS, size=n)
    p = np.full(len(DIAGNOSES), 1.0)
    p[:3] += 1.0
    diag = rng.choice(DIAGNOSES, size=n, p=p / p.sum())
    income = np.round(rng.lognormal(mean=10 + 0.004 * (age - 50), sigma=0.5, size=n), 2)
    bmi = np.round(rng.normal(26, 4, size=n), 1)
    bmi[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"age": age, "sex": sex, "postcode": zipc, "bmi": bmi, "diagnosis": diag, "income": income})


ROLES = {"quasi_identifiers": ["age", "sex", "postcode"], "sensitive": ["diagnosis"], "target": "diagnosis"}


def write_csv(df: pd.DataFrame, path: Path, **kw: object) -> Path:
    df.to_csv(path, index=False, **kw)  # type: ignore[arg-type]
    return path
