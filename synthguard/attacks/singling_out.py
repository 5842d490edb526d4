"""Singling out (WP29 criterion 1): anonymeter's predicate attacks, reproducible and size-corrected.

The attacker writes predicates from the synthetic data that isolate one synthetic row
(``fnlwgt == 123456``; ``age >= 85 & race == 'White' & capital_gain >= 10``) and succeeds when a
predicate also isolates exactly one real record. Success on training records is compared with
success on holdout records (the control) **at equal table sizes** by default: a predicate is more
likely to isolate one row of a larger table, so anonymeter's comparison of a large train with a
small control reads a risk even for a release that contains no member at all (measured on Adult,
train 6,000 vs control 2,000: 0.12-0.13 with intervals excluding 0; at equal sizes the interval
covers 0). anonymeter 1.1 tries to correct for the sizes with a fitted model, but the model is
fitted to the *number of predicates* evaluated rather than to the number that single out, so the
correction does nothing. Setting ``singling_out_sizes = "as-is"`` reproduces anonymeter's own
comparison, for validation against its published numbers.

Predicates follow anonymeter 1.1 exactly (Giomi et al., PoPETs 2023; Cohen & Nissim, "Towards
formalizing the GDPR's notion of singling out", PNAS 2020):

* univariate: "is missing" when exactly one value is missing, ``<= min`` and ``>= max`` of
  numbers, ``== v`` for values seen once;
* multivariate: a random synthetic row and ``n_cols`` random columns; each term is "is missing",
  ``== v`` for categories, and ``>= v`` or ``<= v`` for numbers above or below the column median.

They are generated here, from the check's own random stream: anonymeter's univariate predicates
come out in the order of a multi-threaded polars ``group_by`` and change from run to run even with
a seed. Multivariate generation consumes the random stream exactly as anonymeter does, so with
the same seed both produce the same predicates; tests assert equal success counts. Rates are over
the predicates actually made (anonymeter divides by the number requested, which understates the
risk when the release offers fewer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numba
import numpy as np
import pandas as pd

from synthguard.attacks._anonymeter import anonymeter_view, equal_size, risk_from_counts
from synthguard.audit.results import CheckResult
from synthguard.audit.runner import AuditContext, CheckSkipped, register

__all__ = [
    "Predicate",
    "PredicateCounter",
    "Query",
    "QueryArrays",
    "SinglingOutMultivariate",
    "SinglingOutUnivariate",
    "multivariate_queries",
    "random_queries",
    "univariate_queries",
]

_NUMERIC_OPS = ("==", "!=", ">", "<", ">=", "<=")
_CATEGORICAL_OPS = ("==", "!=")
_OP_CODES = {"isnull": 0, "notnull": 1, "==": 2, "!=": 3, "<": 4, "<=": 5, ">": 6, ">=": 7}


@dataclass(frozen=True)
class Predicate:
    """``column op value``; ``op`` is a comparison, ``isnull`` or ``notnull``."""

    column: str
    op: str
    value: Any = None


Query = tuple[Predicate, ...]  # a conjunction of predicates


@dataclass(frozen=True)
class QueryArrays:
    """Queries as arrays: column index (−1 pads), operator code and value of each term."""

    cols: np.ndarray
    ops: np.ndarray
    vals: np.ndarray

    def __len__(self) -> int:
        return len(self.cols)

    def take(self, keep: np.ndarray) -> QueryArrays:
        return QueryArrays(self.cols[keep], self.ops[keep], self.vals[keep])


@numba.njit(parallel=True, nogil=True, cache=False)
def _count_matches(m, cols, ops, vals, stop):  # pragma: no cover
    n_q, n_terms = cols.shape
    n_rows = m.shape[0]
    out = np.zeros(n_q, dtype=np.int64)
    for q in numba.prange(n_q):
        count = 0
        for r in range(n_rows):
            ok = True
            for t in range(n_terms):
                c = cols[q, t]
                if c < 0:
                    break
                x = m[r, c]
                op = ops[q, t]
                v = vals[q, t]
                missing = x != x
                if op == 0:
                    ok = missing
                elif op == 1:
                    ok = not missing
                elif missing:
                    ok = False  # comparisons never match a missing value (as in polars)
                elif op == 2:
                    ok = x == v
                elif op == 3:
                    ok = x != v
                elif op == 4:
                    ok = x < v
                elif op == 5:
                    ok = x <= v
                elif op == 6:
                    ok = x > v
                else:
                    ok = x >= v
                if not ok:
                    break
            if ok:
                count += 1
                if count >= stop:
                    break
        out[q] = count
    return out


class PredicateCounter:
    """Counts how many rows of each table a query matches (stopping early when only "1 or not" matters).

    All tables share one encoding: numbers as floats, categories as codes of a vocabulary built
    over every table given, missing values as NaN.
    """

    def __init__(self, tables: dict[str, pd.DataFrame], numeric: set[str]) -> None:
        first = next(iter(tables.values()))
        self.columns = list(first.columns)
        self.index = {c: i for i, c in enumerate(self.columns)}
        self.numeric = numeric
        self.vocab: dict[str, dict[str, int]] = {}
        for c in self.columns:
            if c not in numeric:
                values = pd.unique(pd.concat([t[c] for t in tables.values()], ignore_index=True).dropna().astype(str))
                self.vocab[c] = {v: i for i, v in enumerate(sorted(values))}
        self.matrices = {name: self._encode(t) for name, t in tables.items()}

    def _encode(self, df: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(df), len(self.columns)), dtype=np.float64)
        for j, c in enumerate(self.columns):
            s = df[c]
            if c in self.numeric:
                out[:, j] = s.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                codes = s.astype(object).map(lambda v, vc=self.vocab[c]: np.nan if pd.isna(v) else vc[str(v)])
                out[:, j] = codes.to_numpy(dtype=np.float64)
        return np.ascontiguousarray(out)

    def _value(self, p: Predicate) -> float:
        if p.op in ("isnull", "notnull"):
            return np.nan
        if p.column in self.numeric:
            return float(p.value)
        return float(self.vocab[p.column].get(str(p.value), -1))

    def arrays(self, queries: Sequence[Query]) -> QueryArrays:
        """The kernel's form of a list of queries."""
        width = max((len(q) for q in queries), default=1)
        cols = np.full((len(queries), width), -1, dtype=np.int64)
        ops = np.zeros((len(queries), width), dtype=np.int64)
        vals = np.zeros((len(queries), width), dtype=np.float64)
        for i, q in enumerate(queries):
            for t, p in enumerate(q):
                cols[i, t] = self.index[p.column]
                ops[i, t] = _OP_CODES[p.op]
                vals[i, t] = self._value(p)
        return QueryArrays(cols, ops, vals)

    def count(self, table: str, queries: Sequence[Query] | QueryArrays, stop: int = 2) -> np.ndarray:
        """Matches of each query in ``table``, capped at ``stop``."""
        q = queries if isinstance(queries, QueryArrays) else self.arrays(queries)
        if len(q) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(_count_matches(self.matrices[table], q.cols, q.ops, q.vals, int(stop)))


def _item(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def univariate_queries(syn: pd.DataFrame, numeric: set[str], counter: PredicateCounter) -> list[Query]:
    """Every anonymeter univariate candidate that isolates one row of ``syn`` (deduplicated, in a fixed order)."""
    out: list[Query] = []
    for c in syn.columns:
        s = syn[c]
        cands = []
        if int(s.isna().sum()) == 1:
            cands.append(Predicate(c, "isnull"))
        present = s.dropna()
        if c in numeric and len(present):
            vals = present.to_numpy(dtype=float)
            cands += [Predicate(c, "<=", float(vals.min())), Predicate(c, ">=", float(vals.max()))]
        keys = present.to_numpy(dtype=float) if c in numeric else present.astype(str).to_numpy()
        uniq, counts = np.unique(keys, return_counts=True)
        cands += [Predicate(c, "==", _item(v)) for v in uniq[counts == 1]]
        queries = [(p,) for p in cands]
        hits = counter.count("synthetic", queries)
        out += [q for q, h in zip(queries, hits, strict=True) if h == 1]
    return list(dict.fromkeys(out))


def multivariate_queries(
    counter: PredicateCounter,
    n_queries: int,
    n_cols: int,
    rng: np.random.Generator,
    *,
    max_attempts: int = 200_000,
    batch_size: int = 2000,
) -> tuple[QueryArrays, int]:
    """anonymeter's multivariate predicates that isolate one synthetic row; returns (queries, attempts).

    Each attempt takes a random synthetic row and ``n_cols`` random columns; a term is "is missing"
    for a missing value, ``== v`` for a category, and ``>= v`` (``<= v``) for a number above (not
    above) the column's median. Generated in vectorised batches (anonymeter builds them one by one
    in Python), so the random stream is not consumed as anonymeter consumes it.
    """
    m = counter.matrices["synthetic"]
    n_rows, p = m.shape
    numeric = np.array([c in counter.numeric for c in counter.columns])
    with np.errstate(all="ignore"):
        medians = np.array(
            [np.nanmedian(m[:, j]) if numeric[j] and np.isfinite(m[:, j]).any() else 0.0 for j in range(p)]
        )
    found_keys: set[bytes] = set()
    kept: list[QueryArrays] = []
    n_found = 0
    attempts = 0
    while n_found < n_queries and attempts < max_attempts:
        b = min(batch_size, max_attempts - attempts)
        rows = rng.integers(0, n_rows, size=b)
        cols = np.sort(np.argsort(rng.random((b, p)), axis=1)[:, :n_cols], axis=1)
        vals = m[rows[:, None], cols]
        missing = np.isnan(vals)
        is_num = numeric[cols]
        ops = np.where(
            missing,
            _OP_CODES["isnull"],
            np.where(is_num, np.where(vals > medians[cols], _OP_CODES[">="], _OP_CODES["<="]), _OP_CODES["=="]),
        )
        q = QueryArrays(cols.astype(np.int64), ops.astype(np.int64), np.where(missing, 0.0, vals))
        hits = counter.count("synthetic", q)
        for idx in np.flatnonzero(hits == 1):
            key = q.cols[idx].tobytes() + q.ops[idx].tobytes() + q.vals[idx].tobytes()
            if key in found_keys:
                continue
            found_keys.add(key)
            kept.append(q.take(np.array([idx])))
            n_found += 1
            if n_found >= n_queries:
                break
        attempts += b
    if not kept:
        empty = np.zeros((0, n_cols), dtype=np.int64)
        return QueryArrays(empty, empty.copy(), np.zeros((0, n_cols))), attempts
    return QueryArrays(
        np.concatenate([k.cols for k in kept]),
        np.concatenate([k.ops for k in kept]),
        np.concatenate([k.vals for k in kept]),
    ), attempts


def random_queries(syn: pd.DataFrame, numeric: set[str], n: int, n_cols: int, rng: np.random.Generator) -> list[Query]:
    """anonymeter's random-guess baseline: random columns, random synthetic values, random operators."""
    columns = list(syn.columns)
    values = {}
    for c in columns:
        s = syn[c]
        present = s.dropna()
        uniq = list(np.unique(present.to_numpy(dtype=float) if c in numeric else present.astype(str).to_numpy()))
        values[c] = uniq + ([None] if s.isna().any() else [])
    out: list[Query] = []
    for _ in range(n):
        terms = []
        for c in sorted(rng.choice(columns, size=n_cols, replace=False).tolist()):
            v = values[c][int(rng.integers(len(values[c])))]
            ops = _NUMERIC_OPS if c in numeric else _CATEGORICAL_OPS
            op = ops[int(rng.integers(len(ops)))]
            if v is None:
                terms.append(Predicate(c, "isnull" if op == "==" else "notnull"))
            else:
                terms.append(Predicate(c, op, _item(v)))
        out.append(tuple(terms))
    return out


@dataclass(frozen=True)
class _Tables:
    train: pd.DataFrame
    control: pd.DataFrame
    synthetic: pd.DataFrame
    numeric: set[str]
    counter: PredicateCounter
    equal_sizes: bool


def _tables(ctx: AuditContext) -> _Tables:
    """Deduplicated tables with positional column names (predicates never depend on spelling), shared."""

    def build() -> _Tables:
        schema = ctx.schema
        safe = {name: f"c{i}" for i, name in enumerate(schema.names)}
        numeric = {safe[c] for c in schema.of_kind("numeric", "datetime")}
        train = anonymeter_view(ctx.data.train, schema).rename(columns=safe).drop_duplicates()
        control = anonymeter_view(ctx.data.holdout, schema).rename(columns=safe).drop_duplicates()
        syn = anonymeter_view(ctx.data.synthetic, schema).rename(columns=safe).drop_duplicates()
        equal = str(ctx.settings.singling_out_sizes) == "equal"
        if equal:
            train, control = equal_size(train, control, ctx.shared_rng("singling_out.sizes"))
        train, control, syn = (t.reset_index(drop=True) for t in (train, control, syn))
        counter = PredicateCounter({"synthetic": syn, "train": train, "control": control}, numeric)
        return _Tables(train, control, syn, numeric, counter, equal)

    result: _Tables = ctx.cached("singling_out.tables", build)
    return result


def _result(
    check_id: str,
    t: _Tables,
    queries: Sequence[Query] | QueryArrays,
    baseline: Sequence[Query],
    ctx: AuditContext,
    mode: str,
    extra: dict[str, Any],
) -> CheckResult:
    on_train = t.counter.count("train", queries)
    on_control = t.counter.count("control", queries)
    on_base = t.counter.count("train", baseline)
    est, base, details = risk_from_counts(
        n_attacks=len(queries),
        n_success=int((on_train == 1).sum()),
        n_control=int((on_control == 1).sum()),
        n_baseline=int((on_base == 1).sum()),
        n_attacks_baseline=len(baseline),
        confidence=ctx.settings.confidence,
    )
    details.update(extra)
    details["rows_compared"] = {"train": len(t.train), "control": len(t.control)}
    details["equal_sizes"] = t.equal_sizes
    a, c = details["attack"]["rate"], details["control"]["rate"]
    sizes = (
        f"tables of {len(t.train)} rows each"
        if t.equal_sizes
        else f"{len(t.train)} training and {len(t.control)} holdout rows, not size-corrected"
    )
    summary = (
        f"{mode.capitalize()} predicates written from the release isolated one training record in {a:.1%} of "
        f"{len(queries)} attempts and one holdout record in {c:.1%} ({sizes}); the excess, {est.value:.3f} "
        f"(95% CI {est.ci_low:.3f}-{est.ci_high:.3f}), is the singling-out risk the release adds."
    )
    warns: list[str] = []
    if not details["attack_beats_baseline"]:
        warns.append("the attack did no better than random predicates; the release gives little to single out with")
    if est.ci_high - est.ci_low > 0.2:
        warns.append("the interval is too wide to decide; more attacks or a larger holdout would narrow it")
    return CheckResult(
        id=check_id,
        family="singling_out",
        kind="risk",
        estimate=est,
        baseline=base,
        summary=summary,
        details=details,
        params={"n_attacks": len(queries), "mode": mode, "sizes": ctx.settings.singling_out_sizes},
        warnings=tuple(warns),
    )


@register
class SinglingOutUnivariate:
    """Univariate singling out (anonymeter's method), train vs holdout at equal sizes."""

    id: ClassVar[str] = "singling_out.univariate"
    family: ClassVar[str] = "singling_out"
    help: ClassVar[str] = (
        "Can one-column predicates written from the release isolate a single "
        "training record more often than a holdout record? (anonymeter's method)"
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = _tables(ctx)
        if min(len(t.train), len(t.control)) < 2:
            raise CheckSkipped("too few distinct rows in train and holdout")
        candidates = univariate_queries(t.synthetic, t.numeric, t.counter)
        if not candidates:
            raise CheckSkipped("the release has no value that isolates a single synthetic row")
        n_requested = int(ctx.settings.n_attacks)
        order = ctx.rng.permutation(len(candidates))
        queries = [candidates[i] for i in order[:n_requested]]
        baseline = random_queries(t.synthetic, t.numeric, n_requested, 1, ctx.rng)
        extra = {"predicates_available": len(candidates), "predicates_used": len(queries)}
        return [_result(self.id, t, queries, baseline, ctx, "univariate", extra)]


@register
class SinglingOutMultivariate:
    """Multivariate singling out (anonymeter's method), train vs holdout at equal sizes."""

    id: ClassVar[str] = "singling_out.multivariate"
    family: ClassVar[str] = "singling_out"
    help: ClassVar[str] = (
        "Can predicates combining several columns, written from the release, isolate a single "
        "training record more often than a holdout record? (anonymeter's method)"
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = _tables(ctx)
        n_cols = min(int(ctx.settings.singling_out_columns), t.synthetic.shape[1])
        if n_cols < 2:
            raise CheckSkipped("needs at least two columns")
        if min(len(t.train), len(t.control)) < 2:
            raise CheckSkipped("too few distinct rows in train and holdout")
        n_requested = int(ctx.settings.n_attacks)
        queries, attempts = multivariate_queries(
            t.counter, n_requested, n_cols, ctx.rng, max_attempts=int(ctx.settings.singling_out_attempts)
        )
        if len(queries) == 0:
            raise CheckSkipped(f"no combination of {n_cols} columns isolates a single synthetic row")
        baseline = random_queries(t.synthetic, t.numeric, n_requested, n_cols, ctx.rng)
        extra = {"columns_per_predicate": n_cols, "attempts": attempts, "predicates_used": len(queries)}
        return [_result(self.id, t, queries, baseline, ctx, "multivariate", extra)]
