"""Shared fixtures: a seeded synthetic *population* (no real data needed) and small CSV files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from synthguard.api import demo_data
from tests.helpers import population, write_csv


@pytest.fixture(scope="session")
def pop_tables() -> dict[str, pd.DataFrame]:
    """train, holdout, and an independent sample of the population (a harmless release)."""
    return {"train": population(3000, 1), "holdout": population(3000, 2), "fresh": population(3000, 3)}


@pytest.fixture(scope="session")
def adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled Adult sample (text columns, as read from CSV), split into train and holdout."""
    return demo_data(0)


@pytest.fixture()
def small_files(tmp_path: Path, pop_tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Small CSV files of the population: train, holdout, and a harmless synthetic table."""
    return {
        "train": write_csv(pop_tables["train"].head(600), tmp_path / "train.csv"),
        "holdout": write_csv(pop_tables["holdout"].head(600), tmp_path / "holdout.csv"),
        "synthetic": write_csv(pop_tables["fresh"].head(600), tmp_path / "synthetic.csv"),
    }
