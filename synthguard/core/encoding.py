"""One encoder fitted on real data: a mixed-type float32 matrix on which Euclidean distance is meaningful.

Every column contributes on the same footing to the squared Euclidean distance between two encoded
rows:

* **numeric** (and **datetime**, as days since 1970-01-01) columns are centred on the median and
  divided by ``robust_sd * sqrt(2)``, with ``robust_sd = IQR / 1.349`` (the IQR of a normal
  distribution is 1.349 standard deviations). The difference of two independent draws of a
  variable with standard deviation ``sd`` has variance ``2 sd**2``, so after this scaling the
  squared difference between two typical values is about 1. When the IQR is 0 (a column that is
  mostly one value, such as ``capital_gain`` in Adult) the standard deviation is used instead,
  and 1 when that is 0 too. Nothing is clipped. A missing value is imputed with the centre (it
  encodes as 0) and, for columns that have missing values in the real data, a 0/1
  ``"<name> (missing)"`` indicator feature is added.
* **categorical** columns are one-hot encoded over the categories seen at least ``rare_k`` times
  in the real data (missing is a category like any other); all other categories, including ones
  never seen in the real data, share one ``"<name>=(rare)"`` feature. The one-hot features are
  scaled by ``1/sqrt(2)`` so that two different categories add exactly 1 to the squared
  distance, the same weight as a typical numeric difference.

The encoder is fitted on real rows only (train and holdout); synthetic rows never influence it.
Feature names hold column names and categories seen at least ``rare_k`` times only, so they can be
shown in reports (small-cell suppression, DESIGN section 6).

References
----------
J. C. Gower, "A general coefficient of similarity and some of its properties", Biometrics 27
(1971) 857-871 (putting mixed-type columns on a common scale).
P. J. Huber and E. M. Ronchetti, *Robust Statistics*, 2nd ed., Wiley (2009), section 5.1
(the normalised interquartile range ``IQR / 1.349`` as a robust estimate of scale).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from synthguard.audit.schema import Schema

if TYPE_CHECKING:
    from synthguard.audit.runner import AuditContext
    from synthguard.audit.tables import AuditData

__all__ = ["CategoricalEncoding", "EncodedTables", "Encoder", "NumericEncoding", "encode_tables", "encoded"]

# IQR of the standard normal distribution: 2 * Phi^-1(0.75)
_IQR_PER_SD = 1.349
_ONE_HOT = 1.0 / math.sqrt(2.0)
_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class NumericEncoding:
    """How one numeric or datetime column is encoded: ``(x - centre) / scale``.

    Attributes
    ----------
    name : str
        Column name.
    kind : str
        ``"numeric"`` or ``"datetime"`` (datetimes are converted to days since 1970-01-01 first).
    centre : float
        Median of the real values (imputed for missing values).
    scale : float
        ``robust_sd * sqrt(2)`` (see the module docstring).
    scale_method : str
        ``"iqr"``, ``"sd"`` or ``"unit"``: which fallback gave the scale.
    missing_indicator : bool
        Whether a 0/1 ``"(missing)"`` feature follows the value feature.
    """

    name: str
    kind: str
    centre: float
    scale: float
    scale_method: str
    missing_indicator: bool

    @property
    def width(self) -> int:
        return 2 if self.missing_indicator else 1

    def feature_names(self) -> list[str]:
        return [self.name, f"{self.name} (missing)"] if self.missing_indicator else [self.name]


@dataclass(frozen=True)
class CategoricalEncoding:
    """How one categorical column is encoded: scaled one-hot over its frequent categories.

    Attributes
    ----------
    name : str
        Column name.
    categories : tuple of str
        Categories seen at least ``rare_k`` times in the real data, sorted; each has a feature.
    missing_feature : bool
        Whether missing values were seen at least ``rare_k`` times (then they have their own
        ``"(missing)"`` feature; otherwise they count as rare).
    """

    name: str
    categories: tuple[str, ...]
    missing_feature: bool

    @property
    def width(self) -> int:
        return len(self.categories) + int(self.missing_feature) + 1

    def feature_names(self) -> list[str]:
        names = [f"{self.name}={c}" for c in self.categories]
        if self.missing_feature:
            names.append(f"{self.name}=(missing)")
        names.append(f"{self.name}=(rare)")
        return names


ColumnEncoding = NumericEncoding | CategoricalEncoding


def _numeric_values(s: pd.Series, kind: str) -> np.ndarray:
    """A column as float64 (days for datetimes), missing values as NaN."""
    if kind == "datetime":
        dt = pd.to_datetime(s, errors="coerce")
        if isinstance(dt.dtype, pd.DatetimeTZDtype):
            dt = dt.dt.tz_convert(None)
        ns = dt.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
        ns[dt.isna().to_numpy()] = np.nan
        return ns / _NS_PER_DAY
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _text_values(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A categorical column as (strings with '' for missing, missing mask)."""
    missing = s.isna().to_numpy()
    text = s.to_numpy(dtype=object, na_value="").astype(str)
    return text, missing


def _fit_numeric(name: str, kind: str, values: np.ndarray) -> NumericEncoding:
    present = values[~np.isnan(values)]
    missing = bool(len(present) < len(values))
    if len(present) == 0:
        return NumericEncoding(name, kind, 0.0, 1.0, "unit", missing)
    centre = float(np.median(present))
    q25, q75 = np.percentile(present, [25.0, 75.0])
    sd = float(q75 - q25) / _IQR_PER_SD
    method = "iqr"
    if not (sd > 0.0 and math.isfinite(sd)):
        sd = float(np.std(present))
        method = "sd"
    if not (sd > 0.0 and math.isfinite(sd)):
        sd = 1.0
        method = "unit"
    return NumericEncoding(name, kind, centre, sd * math.sqrt(2.0), method, missing)


def _fit_categorical(name: str, s: pd.Series, rare_k: int) -> CategoricalEncoding:
    text, missing = _text_values(s)
    values, counts = np.unique(text[~missing], return_counts=True)
    frequent = tuple(sorted(str(v) for v, c in zip(values, counts, strict=True) if c >= rare_k))
    return CategoricalEncoding(name, frequent, bool(int(missing.sum()) >= rare_k))


@dataclass(frozen=True)
class Encoder:
    """A mixed-type encoder fitted on real data (see the module docstring for the rules).

    Attributes
    ----------
    feature_names : tuple of str
        One name per feature, e.g. ``"age"``, ``"age (missing)"``, ``"sex=F"``, ``"sex=(rare)"``.
        Categories seen fewer than ``rare_k`` times in the real data never appear.
    column_slices : Mapping[str, slice]
        Original column name -> positions of its features.
    encodings : tuple
        The fitted state of each column (:class:`NumericEncoding` or :class:`CategoricalEncoding`),
        in schema order.
    rare_k : int
        Minimum count of a category in the real data to get its own feature.

    Examples
    --------
    >>> enc = Encoder.fit(pd.concat([data.train, data.holdout]), data.schema)  # doctest: +SKIP
    >>> X = enc.transform(data.synthetic)  # doctest: +SKIP
    """

    feature_names: tuple[str, ...]
    column_slices: Mapping[str, slice]
    encodings: tuple[ColumnEncoding, ...]
    rare_k: int = 10

    @classmethod
    def fit(cls, real: pd.DataFrame, schema: Schema, *, rare_k: int = 10) -> Encoder:
        """Fit on real rows (train and holdout together); synthetic rows must never be passed.

        Parameters
        ----------
        real : pandas.DataFrame
            Typed real rows (numeric float64, datetime64, categorical strings; NaN/NaT missing).
        schema : Schema
            Column kinds; ``identifier`` columns are skipped.
        rare_k : int
            Categories seen fewer than ``rare_k`` times share the ``"(rare)"`` feature.

        Returns
        -------
        Encoder

        References
        ----------
        P. J. Huber and E. M. Ronchetti, *Robust Statistics*, 2nd ed., Wiley (2009): the
        normalised IQR as robust scale; J. C. Gower, Biometrics 27 (1971) 857-871: equal weight
        for mixed-type columns.
        """
        if rare_k < 1:
            raise ValueError(f"rare_k must be at least 1, got {rare_k}")
        encodings: list[ColumnEncoding] = []
        for col in schema.columns:
            if col.kind == "identifier":
                continue
            if col.name not in real.columns:
                raise KeyError(f"column {col.name!r} of the schema is not in the real data")
            if col.kind in ("numeric", "datetime"):
                encodings.append(_fit_numeric(col.name, col.kind, _numeric_values(real[col.name], col.kind)))
            elif col.kind == "categorical":
                encodings.append(_fit_categorical(col.name, real[col.name], rare_k))
            else:
                raise ValueError(f"column {col.name!r}: unknown kind {col.kind!r}")
        names: list[str] = []
        slices: dict[str, slice] = {}
        for e in encodings:
            slices[e.name] = slice(len(names), len(names) + e.width)
            names.extend(e.feature_names())
        return cls(tuple(names), MappingProxyType(slices), tuple(encodings), rare_k)

    @property
    def width(self) -> int:
        """Number of features."""
        return len(self.feature_names)

    @property
    def columns(self) -> tuple[str, ...]:
        """Encoded column names, in feature order."""
        return tuple(e.name for e in self.encodings)

    def _selected(self, columns: Sequence[str] | None) -> list[ColumnEncoding]:
        if columns is None:
            return list(self.encodings)
        if isinstance(columns, str):
            columns = [columns]
        unknown = [c for c in columns if c not in self.column_slices]
        if unknown:
            raise KeyError(f"column(s) not encoded: {', '.join(map(repr, unknown))}")
        wanted = set(columns)
        return [e for e in self.encodings if e.name in wanted]

    def feature_index(self, columns: Sequence[str] | None = None) -> np.ndarray:
        """Positions (int64, ascending) of the features of ``columns`` (all columns when ``None``)."""
        parts = [
            np.arange(self.column_slices[e.name].start, self.column_slices[e.name].stop)
            for e in self._selected(columns)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def transform(self, df: pd.DataFrame, columns: Sequence[str] | None = None) -> np.ndarray:
        """Encode rows of any role with the fitted state.

        Parameters
        ----------
        df : pandas.DataFrame
            Typed rows with (at least) the encoded columns.
        columns : sequence of str, optional
            Encode only these columns; the result equals the full transform with the other
            columns' features dropped (features stay in schema order whatever the order given).

        Returns
        -------
        numpy.ndarray
            float32, C-contiguous, shape ``(len(df), width)`` (or the width of ``columns``).
        """
        selected = self._selected(columns)
        width = sum(e.width for e in selected)
        out = np.zeros((len(df), width), dtype=np.float32)
        pos = 0
        for e in selected:
            if e.name not in df.columns:
                raise KeyError(f"column {e.name!r} is missing from the table to encode")
            if isinstance(e, NumericEncoding):
                values = _numeric_values(df[e.name], e.kind)
                missing = np.isnan(values)
                z = (values - e.centre) / e.scale
                z[missing] = 0.0
                out[:, pos] = z
                if e.missing_indicator:
                    out[:, pos + 1] = missing
            else:
                text, missing = _text_values(df[e.name])
                rare = len(e.categories) + int(e.missing_feature)
                codes = np.full(len(df), rare, dtype=np.int64)
                if e.categories:
                    found = pd.Index(e.categories).get_indexer(pd.Index(text))
                    hit = (found >= 0) & ~missing
                    codes[hit] = found[hit]
                if e.missing_feature:
                    codes[missing] = len(e.categories)
                out[np.arange(len(df)), pos + codes] = _ONE_HOT
            pos += e.width
        return out


@dataclass(frozen=True)
class EncodedTables:
    """The three tables encoded by one encoder fitted on train and holdout (arrays are read-only).

    Attributes
    ----------
    encoder : Encoder
    train, holdout, synthetic : numpy.ndarray
        float32, C-contiguous, shape ``(rows, encoder.width)``.
    """

    encoder: Encoder
    train: np.ndarray
    holdout: np.ndarray
    synthetic: np.ndarray

    def table(self, role: str) -> np.ndarray:
        """The encoded matrix of ``"train"``, ``"holdout"`` or ``"synthetic"``."""
        if role not in ("train", "holdout", "synthetic"):
            raise ValueError(f"unknown table role {role!r}; expected train, holdout or synthetic")
        matrix: np.ndarray = getattr(self, role)
        return matrix


def encode_tables(data: AuditData, *, rare_k: int = 10) -> EncodedTables:
    """Fit an :class:`Encoder` on train and holdout together and encode all three tables.

    Parameters
    ----------
    data : AuditData
        Validated tables.
    rare_k : int
        Small-cell threshold (categories seen fewer times in the real data are ``"(rare)"``).

    Returns
    -------
    EncodedTables
        With read-only float32 matrices, so that checks sharing them cannot alter them.
    """
    real = pd.concat([data.train, data.holdout], ignore_index=True)
    encoder = Encoder.fit(real, data.schema, rare_k=rare_k)
    mats = []
    for df in (data.train, data.holdout, data.synthetic):
        m = encoder.transform(df)
        m.setflags(write=False)
        mats.append(m)
    return EncodedTables(encoder, mats[0], mats[1], mats[2])


def encoded(ctx: AuditContext) -> EncodedTables:
    """The audit's encoded tables, fitted and encoded once and shared by every check."""
    enc: EncodedTables = ctx.cached("encoded", lambda: encode_tables(ctx.data, rare_k=ctx.settings.rare_k))
    return enc
