"""Column kinds and roles: inference from data and names, and the schema file (TOML).

Kinds: ``numeric``, ``categorical``, ``datetime`` and ``identifier`` (unique per row; excluded from
every check). Roles: quasi-identifiers (what an attacker may know about a person), sensitive
columns (what they must not learn) and the target column (for utility).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthguard.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "COLUMN_KINDS",
    "CONSTRAINT_OPS",
    "Column",
    "Condition",
    "Constraint",
    "Schema",
    "SchemaFile",
    "check_constraints",
    "guess_quasi_identifiers",
    "guess_sensitive",
    "parse_constraint",
    "read_schema_file",
]

COLUMN_KINDS = ("numeric", "categorical", "datetime", "identifier")

# Datetime layouts we recognise without being told: ISO 8601 dates (with optional time) and the
# day-first dotted layout of Norwegian (and other European) spreadsheet exports.
DATETIME_LAYOUTS: dict[str, tuple[re.Pattern[str], str]] = {
    "iso": (re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$"), "ISO8601"),
    "dmy": (re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$"), "%d.%m.%Y"),
}


def _norm_name(name: str) -> str:
    """Lower-case, fold accents (ø→o, æ→ae, å→a) and turn separators into ``_``."""
    s = name.strip().lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def _word(*alts: str) -> re.Pattern[str]:
    return re.compile(r"(^|_)(" + "|".join(alts) + r")($|_)")


# Names that usually hold quasi-identifiers (WP29; Sweeney 2000), English and Norwegian.
_QI_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("age", _word("age", "ages", "alder", "age_years")),
    ("sex", _word("sex", "gender", "kjonn", "kjoenn", "kjnn")),
    (
        "postcode",
        re.compile(
            r"(^|_)(zip|zipcode|zip_code|postcode|post_code|postal|postal_code|"
            r"postnummer|postnr|postkode)($|_)"
        ),
    ),
    (
        "birth date",
        re.compile(
            r"(^|_)(dob|birth|birthdate|birth_date|date_of_birth|birthday|"
            r"fodselsdato|fodt|fodselsar|birth_year|year_of_birth)($|_)"
        ),
    ),
    ("race/ethnicity", _word("race", "ethnicity", "ethnic", "ethnic_group", "etnisitet")),
    (
        "marital status",
        re.compile(
            r"(^|_)(marital|marital_status|marriage|civil_status|sivilstand|"
            r"sivilstatus)($|_)"
        ),
    ),
    (
        "nationality/country",
        re.compile(
            r"(^|_)(nationality|citizenship|country|native_country|"
            r"country_of_birth|nasjonalitet|statsborgerskap|fodeland|"
            r"landbakgrunn)($|_)"
        ),
    ),
    (
        "municipality",
        _word("municipality", "kommune", "kommunenummer", "kommunenr", "county", "fylke", "district", "bydel"),
    ),
)

# Names that usually hold sensitive attributes (GDPR art. 9 categories, income).
_SENSITIVE_PATTERN = re.compile(
    r"(^|_)(income|salary|wage|wages|earnings|inntekt|lonn|diagnosis|diagnose|diagnoser|disease|"
    r"sykdom|hiv|cancer|kreft|religion|sexual_orientation|health|helse|disability)($|_)"
)

# Names that usually hold record identifiers.
_ID_PATTERN = re.compile(
    r"(^|_)(id|ids|ident|identifier|key|uuid|guid|nr|no|number|ssn|fnr|personnummer|"
    r"fodselsnummer|record|patient_nbr|encounter_id|lopenr|lopenummer)($|_)"
)


def guess_quasi_identifiers(names: Iterable[str]) -> list[str]:
    """Columns whose names suggest a quasi-identifier (age, sex, postcode, birth date, ...)."""
    return [n for n in names if any(p.search(_norm_name(n)) for _, p in _QI_PATTERNS)]


def guess_sensitive(names: Iterable[str]) -> list[str]:
    """Columns whose names suggest a sensitive attribute (income, diagnosis, ...)."""
    return [n for n in names if _SENSITIVE_PATTERN.search(_norm_name(n))]


def looks_like_id_name(name: str) -> bool:
    return bool(_ID_PATTERN.search(_norm_name(name)))


@dataclass(frozen=True)
class Column:
    """One column: its kind, whether numeric values are whole numbers, and where the kind came from."""

    name: str
    kind: str
    integer: bool = False
    datetime_format: str | None = None
    source: str = "inferred"  # "inferred" | "schema file"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "source": self.source}
        if self.kind == "numeric":
            d["integer"] = self.integer
        return d


@dataclass(frozen=True)
class Schema:
    """Columns used by the audit (identifiers already removed) and their roles."""

    columns: tuple[Column, ...]
    excluded: tuple[str, ...] = ()
    quasi_identifiers: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    target: str | None = None
    guessed: frozenset[str] = field(default_factory=frozenset)  # which roles were guessed
    constraints: tuple[Constraint, ...] = ()  # rules declared in the schema file

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def kind(self, name: str) -> str:
        return self[name].kind

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def of_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.to_dict() for c in self.columns],
            "excluded": list(self.excluded),
            "roles": {
                "quasi_identifiers": list(self.quasi_identifiers),
                "sensitive": list(self.sensitive),
                "target": self.target,
            },
            "guessed_roles": sorted(self.guessed),
            **({"constraints": [c.text for c in self.constraints]} if self.constraints else {}),
        }

    def with_roles(
        self,
        *,
        quasi_identifiers: Sequence[str] | None,
        sensitive: Sequence[str] | None,
        target: str | None,
        origin: str,
    ) -> Schema:
        """Set roles (``None`` keeps a role unset), checking column names; guess what is missing.

        ``origin`` names where the roles came from, for error messages.
        """
        problems: list[str] = []
        known = set(self.names)
        for role, cols in (("quasi-identifier", quasi_identifiers or ()), ("sensitive", sensitive or ())):
            for c in cols:
                if c in self.excluded:
                    problems.append(
                        f"{origin}: {role} column {c!r} is an identifier-like column (unique per row) and is excluded"
                    )
                elif c not in known:
                    problems.append(f"{origin}: {role} column {c!r} is not in the data")
        if target is not None and target not in known:
            problems.append(f"{origin}: target column {target!r} is not in the data")
        both = set(quasi_identifiers or ()) & set(sensitive or ())
        for c in sorted(both):
            problems.append(f"{origin}: column {c!r} is given as both quasi-identifier and sensitive")
        if problems:
            raise InputError(problems)
        guessed = set()
        qi = tuple(quasi_identifiers) if quasi_identifiers is not None else None
        if qi is None:
            qi = tuple(guess_quasi_identifiers(self.names))
            guessed.add("quasi_identifiers")
        sens = tuple(sensitive) if sensitive is not None else None
        if sens is None:
            if target is not None and target not in qi:
                sens = (target,)
                guessed.add("sensitive")
            else:
                sens = tuple(c for c in guess_sensitive(self.names) if c not in qi)
                guessed.add("sensitive")
        return replace(self, quasi_identifiers=qi, sensitive=sens, target=target, guessed=frozenset(guessed))


@dataclass(frozen=True)
class SchemaFile:
    """What a schema file (TOML) declares."""

    path: str
    kinds: Mapping[str, str]
    quasi_identifiers: tuple[str, ...] | None = None
    sensitive: tuple[str, ...] | None = None
    target: str | None = None
    na_values: tuple[str, ...] | None = None
    constraints: tuple[Constraint, ...] = ()


def _str_list(value: Any, where: str, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(f"{path}: {where} must be a list of column names")


CONSTRAINT_OPS = ("==", "!=", "<=", ">=", "<", ">")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<arrow>->)
      | (?P<op>==|!=|<=|>=|<|>)
      | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.])
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<quoted_name>`[^`]+`)
      | (?P<name>[^\W\d][\w.\-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Condition:
    """``column op value``: one comparison of a constraint (``value`` a number or a text)."""

    column: str
    op: str
    value: float | str


@dataclass(frozen=True)
class Constraint:
    """A rule every row must satisfy: when all ``premise`` conditions hold, all ``conclusion`` ones must.

    An empty premise means the conclusion must hold on every row.
    """

    text: str
    premise: tuple[Condition, ...]
    conclusion: tuple[Condition, ...]

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(c.column for c in (*self.premise, *self.conclusion)))


def _unquote(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s[1:-1])


def parse_constraint(text: str) -> Constraint:
    """Parse one rule of the mini-language (see :func:`read_schema_file`); no ``eval``.

    Raises
    ------
    ValueError
        With a message that names the problem and column names, never a value.
    """
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot read the rule at character {pos + 1}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not tokens:
        raise ValueError("the rule is empty")
    arrows = [i for i, (k, _) in enumerate(tokens) if k == "arrow"]
    if len(arrows) > 1:
        raise ValueError("a rule has at most one '->'")
    if arrows:
        sides = [tokens[: arrows[0]], tokens[arrows[0] + 1 :]]
        if not sides[0]:
            raise ValueError("nothing before '->'; write the condition, or drop '->' for a rule on every row")
    else:
        sides = [[], tokens]
    parsed: list[tuple[Condition, ...]] = []
    for side in sides:
        conds: list[Condition] = []
        i = 0
        if not side and arrows:
            raise ValueError("nothing after '->'")
        while i < len(side):
            if conds:
                if side[i][0] != "name" or side[i][1].lower() != "and":
                    raise ValueError("conditions must be joined with 'and'")
                i += 1
            if i + 3 > len(side):
                raise ValueError("expected '<column> <operator> <value>'")
            (k_col, col), (k_op, op), (k_val, val) = side[i : i + 3]
            if k_col not in ("name", "quoted_name"):
                raise ValueError("expected a column name (use `backquotes` for names with spaces)")
            name = col[1:-1] if k_col == "quoted_name" else col
            if k_op != "op":
                raise ValueError(f"expected one of {' '.join(CONSTRAINT_OPS)} after column {name!r}")
            if k_val == "number":
                value: float | str = float(val)
            elif k_val == "string":
                value = _unquote(val)
            else:
                raise ValueError(f"the value compared with column {name!r} must be a number or a quoted text")
            conds.append(Condition(name, op, value))
            i += 3
        parsed.append(tuple(conds))
    return Constraint(text=text, premise=parsed[0], conclusion=parsed[1])


def _parse_constraints(raw: Any, path: str) -> tuple[Constraint, ...]:
    if not isinstance(raw, list):
        raise InputError(f"{path}: constraints must be a list of rules")
    out: list[Constraint] = []
    problems: list[str] = []
    for i, item in enumerate(raw, start=1):
        text = item.get("rule") if isinstance(item, dict) else item
        if isinstance(item, dict) and set(item) - {"rule", "name"}:
            problems.append(f"{path}: constraint {i}: unknown key(s) {', '.join(sorted(set(item) - {'rule', 'name'}))}")
            continue
        if not isinstance(text, str):
            problems.append(f"{path}: constraint {i} must be a text such as 'age < 15 -> marital == \"Never-married\"'")
            continue
        try:
            out.append(parse_constraint(text))
        except ValueError as e:
            problems.append(f"{path}: constraint {i}: {e}")
    if problems:
        raise InputError(problems)
    return tuple(out)


def check_constraints(constraints: Sequence[Constraint], schema: Schema, path: str) -> tuple[Constraint, ...]:
    """Check the constraints' columns and values against the schema; returns them unchanged.

    Raises
    ------
    InputError
        Naming the schema file, the rule number and the problem (never a value from the data).
    """
    problems: list[str] = []
    known = set(schema.names)
    for i, rule in enumerate(constraints, start=1):
        for cond in (*rule.premise, *rule.conclusion):
            where = f"{path}: constraint {i}"
            if cond.column in schema.excluded:
                problems.append(f"{where}: column {cond.column!r} is an identifier-like column and is excluded")
                continue
            if cond.column not in known:
                problems.append(f"{where}: column {cond.column!r} is not in the data")
                continue
            kind = schema.kind(cond.column)
            if kind == "numeric" and not isinstance(cond.value, float):
                problems.append(f"{where}: numeric column {cond.column!r} is compared with a quoted text")
            elif kind == "categorical" and not isinstance(cond.value, str):
                problems.append(f"{where}: categorical column {cond.column!r} is compared with a number; quote it")
            elif kind == "categorical" and cond.op not in ("==", "!="):
                problems.append(f"{where}: categorical column {cond.column!r} can only be compared with == or !=")
            elif kind == "datetime":
                try:
                    if not isinstance(cond.value, str):
                        raise ValueError
                    pd.Timestamp(cond.value)
                except ValueError:
                    problems.append(f"{where}: date column {cond.column!r} must be compared with a quoted date")
    if problems:
        raise InputError(problems)
    return tuple(constraints)


def read_schema_file(path: str | os.PathLike[str]) -> SchemaFile:
    """Read a schema file.

    Format::

        [columns]                # optional; columns not listed are inferred
        age = "numeric"
        sex = "categorical"
        patient_id = "identifier"   # excluded from every check

        [roles]                  # optional; --qi/--sensitive/--target override it
        quasi_identifiers = ["age", "sex", "postcode"]
        sensitive = ["diagnosis"]
        target = "readmitted"

        na_values = ["", "NA"]   # optional; markers of a missing value in CSV files

        constraints = [          # optional; rules every row must satisfy (checked in synthetic data)
            'age < 15 -> marital_status == "Never-married"',
            'pregnant == "yes" -> sex == "F"',
            'systolic_bp > 0',
        ]

    Constraints (``fidelity.validity`` reports the share of synthetic rows that break each one,
    next to the share of real rows that do) are written in a small language, parsed without
    ``eval``::

        <column> <op> <value> [and <column> <op> <value> ...] -> <column> <op> <value> [and ...]

    The part before ``->`` is the premise, the part after it what must then hold; a rule without
    ``->`` must hold on every row. ``<op>`` is one of ``== != < <= > >=``; ``<value>`` is a number
    (``15``, ``-2.5``, ``1e3``) or a quoted text (``"Never-married"`` or ``'F'``, with ``\\"`` for a
    quote). Column names with spaces or operators go in backquotes (`` `native country` ``).
    Categorical columns compare with quoted texts using ``==``/``!=`` only; numeric columns with
    numbers; date columns with quoted dates. A row with a missing value in a column of the rule is
    not checked. Each rule may also be given as a table, ``[[constraints]]`` with ``rule = "..."``
    (and an optional ``name``). Bad syntax or unknown columns stop the audit with an error naming
    the schema file and the rule's number.
    """
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: schema file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: schema file cannot be read ({type(e).__name__})") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{p}: not valid TOML ({e})") from None
    unknown = set(raw) - {"columns", "roles", "na_values", "constraints"}
    if unknown:
        raise InputError(
            f"{p}: unknown section(s) {', '.join(sorted(unknown))}; expected [columns], [roles], na_values "
            "and constraints"
        )
    kinds: dict[str, str] = {}
    cols = raw.get("columns", {})
    if not isinstance(cols, dict):
        raise InputError(f"{p}: [columns] must map column names to kinds")
    bad = []
    for name, kind in cols.items():
        if kind not in COLUMN_KINDS:
            bad.append(f"{p}: column {name!r} has unknown kind {kind!r} (use one of {', '.join(COLUMN_KINDS)})")
        kinds[str(name)] = str(kind)
    if bad:
        raise InputError(bad)
    roles = raw.get("roles", {})
    if not isinstance(roles, dict):
        raise InputError(f"{p}: [roles] must be a table")
    unknown_roles = set(roles) - {"quasi_identifiers", "sensitive", "target"}
    if unknown_roles:
        raise InputError(
            f"{p}: unknown role(s) {', '.join(sorted(unknown_roles))}; expected quasi_identifiers, sensitive, target"
        )
    target = roles.get("target")
    if target is not None and not isinstance(target, str):
        raise InputError(f"{p}: roles.target must be one column name")
    return SchemaFile(
        path=str(p),
        kinds=kinds,
        quasi_identifiers=_str_list(roles["quasi_identifiers"], "roles.quasi_identifiers", str(p))
        if "quasi_identifiers" in roles
        else None,
        sensitive=_str_list(roles["sensitive"], "roles.sensitive", str(p)) if "sensitive" in roles else None,
        target=target,
        na_values=_str_list(raw["na_values"], "na_values", str(p)) if "na_values" in raw else None,
        constraints=_parse_constraints(raw["constraints"], str(p)) if "constraints" in raw else (),
    )


def detect_datetime_format(values: pd.Series) -> str | None:
    """The datetime layout shared by every non-missing string in ``values``, or ``None``."""
    sample = values.dropna().astype(str)
    if sample.empty:
        return None
    for pattern, fmt in DATETIME_LAYOUTS.values():
        if all(pattern.match(v) for v in sample.unique()):
            parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
            if not parsed.isna().any():
                return fmt
    return None


def is_identifier_like(name: str, values: pd.Series, kind: str) -> bool:
    """A column unique per row that looks like a record key rather than a measurement.

    Strings unique per row are identifiers; whole numbers unique per row are identifiers when the
    name says so or when they form a consecutive run (a row number). Measured decimals are never.
    """
    v = values.dropna()
    n = len(values)
    if n < 20 or len(v) < n or v.nunique() < n:
        return False
    if kind == "categorical":
        return True
    if kind == "numeric":
        arr = v.to_numpy(dtype=float)
        if not np.all(np.mod(arr, 1) == 0):
            return False
        if looks_like_id_name(name):
            return True
        return bool(arr.max() - arr.min() == n - 1)
    return False
