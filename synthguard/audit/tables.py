"""Load train / holdout / synthetic tables and validate them against one schema.

CSV (also ``.csv.gz``) is read as text so that nothing is coerced silently: numbers are parsed by
synthguard, with a decimal comma where the file uses ``;`` as separator (Norwegian and other
European spreadsheet exports), and only the declared missing-value markers become missing (by
default only empty fields, so literal categories such as ``None`` survive). Parquet keeps its
types. Every problem in every table is collected and reported at once as one
:class:`~synthguard.errors.InputError`, naming files and columns, never values.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthguard.audit.schema import (
    Column,
    Schema,
    SchemaFile,
    check_constraints,
    detect_datetime_format,
    is_identifier_like,
    read_schema_file,
)
from synthguard.errors import InputError

__all__ = ["ROLES", "AuditData", "ReadOptions", "TableSource", "conform", "from_frames", "load", "read_table"]

ROLES = ("train", "holdout", "synthetic")
_SEPARATORS = [",", ";", "\t", "|"]
# how many values must parse as numbers before a column is called numeric with a few bad cells
_MOSTLY_NUMERIC = 0.95


@dataclass(frozen=True)
class ReadOptions:
    """How to read CSV files.

    Attributes
    ----------
    sep : str or None
        Field separator; ``None`` detects it from the header line (``,`` ``;`` tab ``|``).
    decimal : str or None
        Decimal mark; ``None`` accepts ``.`` always and ``,`` when the separator is not ``,``.
    na_values : tuple of str
        Markers of a missing value. Default: only the empty field.
    encoding : str
        Text encoding (a UTF-8 byte-order mark is skipped).
    """

    sep: str | None = None
    decimal: str | None = None
    na_values: tuple[str, ...] = ("",)
    encoding: str = "utf-8-sig"


@dataclass(frozen=True)
class TableSource:
    """Where a table came from: aggregates only."""

    role: str
    path: str
    sha256: str
    rows: int
    columns: int
    format: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "rows": self.rows,
            "columns": self.columns,
            "format": self.format,
        }


@dataclass(frozen=True)
class AuditData:
    """The three typed tables (same columns, in schema order), their schema and their sources.

    Numeric columns are float64, datetimes datetime64, categorical columns strings with missing
    values as NaN.
    """

    train: pd.DataFrame
    holdout: pd.DataFrame
    synthetic: pd.DataFrame
    schema: Schema
    sources: Mapping[str, TableSource]
    warnings: tuple[str, ...] = field(default=())

    def table(self, role: str) -> pd.DataFrame:
        return {"train": self.train, "holdout": self.holdout, "synthetic": self.synthetic}[role]


# --------------------------------------------------------------------------------------------
# reading


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz", ".gz")):
        return "csv"
    return "csv"


def _open_text(path: Path, encoding: str) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding=encoding, newline="")
    return io.TextIOWrapper(path.open("rb"), encoding=encoding, newline="")


def _detect_sep(header: str) -> str:
    counts = {s: header.count(s) for s in _SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def read_table(path: str | os.PathLike[str], options: ReadOptions = ReadOptions()) -> tuple[pd.DataFrame, str]:
    """Read one table; CSV columns come back as text (NaN for missing), Parquet keeps its types.

    Returns the raw frame and the detected format. Raises :class:`InputError` for unreadable files.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, expected a CSV or Parquet file")
    fmt = _format_of(p)
    try:
        if fmt == "parquet":
            try:
                df = pd.read_parquet(p)
            except Exception as e:  # pyarrow raises many types for corrupt files
                raise InputError(f"{p}: not a readable Parquet file ({type(e).__name__})") from None
            return df, fmt
        with _open_text(p, options.encoding) as f:
            header = f.readline()
            if not header.strip():
                raise InputError(f"{p}: the file is empty (no header row)")
            sep = options.sep or _detect_sep(header)
            f.seek(0)
            try:
                df = pd.read_csv(
                    f,
                    sep=sep,
                    dtype=str,
                    keep_default_na=False,
                    na_values=list(options.na_values),
                    skipinitialspace=False,
                    quoting=csv.QUOTE_MINIMAL,
                    engine="c",
                )
            except pd.errors.ParserError:
                raise InputError(
                    f"{p}: not a valid CSV table: rows have different numbers of fields "
                    f"(separator {sep!r}; pass --sep if it is another)"
                ) from None
            except pd.errors.EmptyDataError:
                raise InputError(f"{p}: the file is empty (no header row)") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: the file is not valid {options.encoding} text; pass --encoding (e.g. cp1252)") from None
    except (gzip.BadGzipFile, EOFError, zlib.error):
        raise InputError(f"{p}: not a readable gzip file (damaged or truncated)") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, expected a CSV or Parquet file") from None
    except OSError as e:
        raise InputError(f"{p}: cannot be read ({e.strerror or type(e).__name__})") from None
    df.attrs["sep"] = sep
    return df, fmt


# --------------------------------------------------------------------------------------------
# typing


def _text(s: pd.Series) -> pd.Series:
    """Text view of a column, missing values kept as NaN."""
    out = s.astype(object)
    mask = out.notna()
    out = out.where(~mask, out[mask].map(str))
    return out.where(mask, np.nan).astype(object)


def _parse_numbers(s: pd.Series, decimal_comma: bool) -> tuple[pd.Series, int]:
    """Parse text as numbers; returns the floats and how many non-missing values failed."""
    if pd.api.types.is_bool_dtype(s):
        return pd.Series(np.nan, index=s.index), int(s.notna().sum())
    if pd.api.types.is_numeric_dtype(s):
        out = s.astype(float)
        bad = int((~np.isfinite(out) & out.notna()).sum())
        return out.where(np.isfinite(out)), bad
    txt = _text(s)
    present = txt.notna()
    cleaned = txt[present].str.strip()
    if decimal_comma:
        cleaned = cleaned.str.replace("\u00a0", "", regex=False).str.replace("\u202f", "", regex=False)
        cleaned = cleaned.str.replace(",", ".", regex=False)
    # refuse what float() accepts but is not a number in a table: nan, inf, hex, underscores
    plain = cleaned.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
    parsed = pd.to_numeric(cleaned.where(plain), errors="coerce")
    out = pd.Series(np.nan, index=s.index, dtype=float)
    out[present] = parsed.astype(float)
    bad = int(present.sum() - out.notna().sum())
    return out, bad


def _decimal_comma(options: ReadOptions, sep: str | None) -> bool:
    if options.decimal is not None:
        return options.decimal == ","
    return sep is not None and sep != ","


def _infer_column(name: str, s: pd.Series, decimal_comma: bool) -> tuple[Column | None, str | None]:
    """Infer the kind of a train column. Returns (column, problem)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return Column(name, "datetime"), None
    if pd.api.types.is_bool_dtype(s):
        return Column(name, "categorical"), None
    if pd.api.types.is_numeric_dtype(s):
        vals = s.dropna().to_numpy(dtype=float)
        return Column(name, "numeric", integer=bool(np.all(np.mod(vals, 1) == 0))), None
    present = int(s.notna().sum())
    if present == 0:
        return Column(name, "categorical"), None
    nums, bad = _parse_numbers(s, decimal_comma)
    if bad == 0:
        vals = nums.dropna().to_numpy()
        return Column(name, "numeric", integer=bool(np.all(np.mod(vals, 1) == 0))), None
    if bad < present * (1 - _MOSTLY_NUMERIC) and present - bad >= 20:
        return None, (
            f"column {name!r}: {present - bad} values are numbers but {bad} are not; fix them, "
            "add the marker to --na-values, or declare the column categorical in a schema file"
        )
    fmt = detect_datetime_format(s)
    if fmt is not None:
        return Column(name, "datetime", datetime_format=fmt), None
    return Column(name, "categorical"), None


def _coerce(s: pd.Series, col: Column, decimal_comma: bool) -> tuple[pd.Series, str | None]:
    """Convert a raw column to the schema's kind; returns (typed, problem)."""
    if col.kind == "numeric":
        if pd.api.types.is_datetime64_any_dtype(s):
            return s, f"column {col.name!r} holds dates but is numeric in the schema"
        out, bad = _parse_numbers(s, decimal_comma)
        if bad:
            return out, (
                f"column {col.name!r}: {bad} of {int(s.notna().sum())} values are not numbers (the column is numeric)"
            )
        return out, None
    if col.kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(s):
            return pd.to_datetime(s).astype("datetime64[ns]"), None
        txt = _text(s)
        fmt = col.datetime_format or detect_datetime_format(txt) or "ISO8601"
        out = pd.to_datetime(txt, format=fmt, errors="coerce")
        bad = int(txt.notna().sum() - out.notna().sum())
        if bad:
            return out, f"column {col.name!r}: {bad} values are not dates in the column's layout"
        return out.astype("datetime64[ns]"), None
    return _text(s), None


# --------------------------------------------------------------------------------------------
# loading and validation


def _build_schema(
    train_raw: pd.DataFrame, train_label: str, schema_file: SchemaFile | None, decimal_comma: bool
) -> tuple[Schema, list[str], list[str]]:
    """Infer the schema from train (kinds from the schema file win). Returns schema, problems, warnings."""
    problems: list[str] = []
    warnings: list[str] = []
    declared = dict(schema_file.kinds) if schema_file else {}
    for name in declared:
        if name not in train_raw.columns:
            problems.append(
                f"{schema_file.path if schema_file else ''}: column {name!r} is declared but not in {train_label}"
            )
    columns: list[Column] = []
    excluded: list[str] = []
    for name in train_raw.columns:
        s = train_raw[name]
        if name in declared:
            kind = declared[name]
            if kind == "identifier":
                excluded.append(name)
                continue
            col = Column(name, kind, source="schema file")
            if kind == "numeric":
                nums, _ = _parse_numbers(s, decimal_comma)
                vals = nums.dropna().to_numpy()
                col = Column(name, kind, integer=bool(np.all(np.mod(vals, 1) == 0)), source="schema file")
            elif kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(s):
                col = Column(name, kind, datetime_format=detect_datetime_format(s), source="schema file")
            columns.append(col)
            continue
        inferred, problem = _infer_column(name, s, decimal_comma)
        if problem:
            problems.append(f"{train_label}: {problem}")
            continue
        assert inferred is not None
        values = _parse_numbers(s, decimal_comma)[0] if inferred.kind == "numeric" else s
        if is_identifier_like(name, values, inferred.kind):
            excluded.append(name)
            warnings.append(
                f"column {name!r} is unique per row in {train_label} and looks like an identifier: "
                "excluded from the audit (declare its kind in a schema file to keep it)"
            )
            continue
        columns.append(inferred)
    return Schema(columns=tuple(columns), excluded=tuple(excluded)), problems, warnings


def _validate_and_type(
    raws: Mapping[str, tuple[pd.DataFrame, str]],
    schema_base: Schema,
    decimal_comma: Mapping[str, bool],
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    problems: list[str] = []
    typed: dict[str, pd.DataFrame] = {}
    expected = schema_base.names + list(schema_base.excluded)
    for role, (raw, label) in raws.items():
        cols = [str(c) for c in raw.columns]
        dupes = sorted({c for c in cols if cols.count(c) > 1})
        for c in dupes:
            problems.append(f"{label}: column {c!r} appears more than once")
        if dupes:
            continue
        if len(raw) == 0:
            problems.append(f"{label}: the table has no rows")
        missing = [c for c in expected if c not in raw.columns]
        extra = [c for c in raw.columns if c not in expected]
        for c in missing:
            if c in schema_base.excluded and role != "train":
                continue  # identifier columns need not be in the other tables
            problems.append(f"{label}: column {c!r} is missing (it is in the train table)")
        for c in extra:
            problems.append(f"{label}: column {c!r} is not in the train table")
        out = {}
        for col in schema_base.columns:
            if col.name not in raw.columns:
                continue
            series, problem = _coerce(raw[col.name], col, decimal_comma[role])
            if problem:
                problems.append(f"{label}: {problem}")
            elif len(raw) > 0 and series.isna().all():
                problems.append(f"{label}: column {col.name!r} has only missing values")
            out[col.name] = series
        typed[role] = pd.DataFrame(out, index=pd.RangeIndex(len(raw)))
    return typed, problems


def _assemble(
    raws: Mapping[str, tuple[pd.DataFrame, str]],
    sources: Mapping[str, TableSource],
    *,
    schema_file: SchemaFile | None,
    quasi_identifiers: Sequence[str] | None,
    sensitive: Sequence[str] | None,
    target: str | None,
    decimal_comma: Mapping[str, bool],
) -> AuditData:
    train_raw, train_label = raws["train"]
    schema, problems, warnings = _build_schema(train_raw, train_label, schema_file, decimal_comma["train"])
    typed, more = _validate_and_type(raws, schema, decimal_comma)
    problems += more
    if problems:
        raise InputError(problems)
    origin = "command line"
    qi, sens, tgt = quasi_identifiers, sensitive, target
    if schema_file is not None:
        origin = f"{schema_file.path} / command line"
        qi = qi if qi is not None else schema_file.quasi_identifiers
        sens = sens if sens is not None else schema_file.sensitive
        tgt = tgt if tgt is not None else schema_file.target
    schema = schema.with_roles(quasi_identifiers=qi, sensitive=sens, target=tgt, origin=origin)
    if schema_file is not None and schema_file.constraints:
        schema = replace(schema, constraints=check_constraints(schema_file.constraints, schema, schema_file.path))
    if "quasi_identifiers" in schema.guessed:
        if schema.quasi_identifiers:
            warnings.append(
                "quasi-identifiers were guessed from column names ("
                + ", ".join(schema.quasi_identifiers)
                + "); pass --qi to set them"
            )
        else:
            warnings.append(
                "no quasi-identifiers given and none recognised from column names; "
                "pass --qi to run the linkability and inference attacks"
            )
    if "sensitive" in schema.guessed and schema.sensitive:
        warnings.append(
            "sensitive columns were guessed (" + ", ".join(schema.sensitive) + "); pass --sensitive to set them"
        )
    cols = schema.names
    return AuditData(
        train=typed["train"][cols],
        holdout=typed["holdout"][cols],
        synthetic=typed["synthetic"][cols],
        schema=schema,
        sources=dict(sources),
        warnings=tuple(warnings),
    )


def load(
    train: str | os.PathLike[str],
    holdout: str | os.PathLike[str],
    synthetic: str | os.PathLike[str],
    *,
    schema_file: str | os.PathLike[str] | None = None,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    target: str | None = None,
    options: ReadOptions = ReadOptions(),
) -> AuditData:
    """Read and validate the three tables.

    Roles given here override those of the schema file; roles given nowhere are guessed from
    column names and flagged as guessed.

    Raises
    ------
    InputError
        Listing every problem found in every file.
    """
    sf = read_schema_file(schema_file) if schema_file is not None else None
    if sf is not None and sf.na_values is not None and options.na_values == ReadOptions().na_values:
        options = ReadOptions(
            sep=options.sep, decimal=options.decimal, na_values=sf.na_values, encoding=options.encoding
        )
    raws: dict[str, tuple[pd.DataFrame, str]] = {}
    sources: dict[str, TableSource] = {}
    decimal_comma: dict[str, bool] = {}
    read_problems: list[str] = []
    for role, path in zip(ROLES, (train, holdout, synthetic), strict=True):
        try:
            df, fmt = read_table(path, options)
        except InputError as e:
            read_problems.extend(e.problems)
            continue
        raws[role] = (df, str(path))
        decimal_comma[role] = _decimal_comma(options, df.attrs.get("sep"))
        sources[role] = TableSource(role, str(path), _sha256(Path(path)), len(df), df.shape[1], fmt)
    if read_problems:
        raise InputError(read_problems)
    return _assemble(
        raws,
        sources,
        schema_file=sf,
        quasi_identifiers=quasi_identifiers,
        sensitive=sensitive,
        target=target,
        decimal_comma=decimal_comma,
    )


def _frame_sha256(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def from_frames(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    schema_file: str | os.PathLike[str] | None = None,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    target: str | None = None,
) -> AuditData:
    """Validate three in-memory DataFrames (the Python API's entry point)."""
    sf = read_schema_file(schema_file) if schema_file is not None else None
    raws = {}
    sources = {}
    for role, df in zip(ROLES, (train, holdout, synthetic), strict=True):
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"{role}: expected a pandas DataFrame, got {type(df).__name__}")
        df = df.reset_index(drop=True)
        df.columns = [str(c) for c in df.columns]
        raws[role] = (df, f"<{role} DataFrame>")
        sources[role] = TableSource(role, f"<{role} DataFrame>", _frame_sha256(df), len(df), df.shape[1], "dataframe")
    return _assemble(
        raws,
        sources,
        schema_file=sf,
        quasi_identifiers=quasi_identifiers,
        sensitive=sensitive,
        target=target,
        decimal_comma=dict.fromkeys(ROLES, False),
    )


def conform(df: pd.DataFrame, schema: Schema, label: str) -> pd.DataFrame:
    """A generator's output typed like the audit's tables (schema columns, in order).

    Raises :class:`InputError` naming the missing columns or the columns whose values do not fit
    their kind (never the values).
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{label}: the generator returned {type(df).__name__}, not a DataFrame")
    missing = [c for c in schema.names if c not in df.columns]
    if missing:
        raise InputError(f"{label}: the generator's output lacks column(s) {', '.join(map(repr, missing))}")
    out = {}
    problems = []
    for col in schema.columns:
        series, problem = _coerce(df[col.name].reset_index(drop=True), col, decimal_comma=False)
        if problem:
            problems.append(f"{label}: {problem}")
        out[col.name] = series
    if problems:
        raise InputError(problems)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))
