"""Row identity by hashing the values (exact equality, never a distance threshold)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["row_hashes", "rows_in"]


def row_hashes(df: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's values (column order matters; missing values hash alike).

    Tables must be typed the same way (synthguard's loaded tables are), so that a number read as
    ``5`` in one file and ``5.0`` in another hash alike.
    """
    return pd.util.hash_pandas_object(df, index=False, categorize=False).to_numpy(dtype=np.uint64)


def rows_in(query: pd.DataFrame, reference: pd.DataFrame) -> np.ndarray:
    """Boolean mask: which rows of ``query`` are identical to some row of ``reference``."""
    return np.isin(row_hashes(query), row_hashes(reference))
