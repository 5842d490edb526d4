"""Result types: :class:`Estimate`, :class:`CheckResult`, :class:`AuditResult`.

All are frozen and convert to and from plain dicts (``to_dict`` / ``from_dict``), which is what
every writer (JSON, HTML) starts from. Timings live in a separate block of the dict so that the
rest is byte-identical for the same inputs and seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "DIRECTIONS",
    "FAMILIES",
    "KINDS",
    "SCHEMA_VERSION",
    "STATUSES",
    "AuditResult",
    "CheckResult",
    "Estimate",
]

SCHEMA_VERSION = "1.0"

KINDS = ("risk", "fidelity", "utility")
FAMILIES = (
    "membership",
    "attribute",
    "linkage",
    "singling_out",
    "distance",
    "fidelity",
    "utility",
)
#: per-check statuses. ``ok`` = ran, not yet judged by a policy; ``info`` = no policy rule applies.
STATUSES = ("ok", "pass", "warn", "fail", "error", "skipped", "info")
#: a risk is better when lower; fidelity and utility when higher.
DIRECTIONS = {"risk": "lower", "fidelity": "higher", "utility": "higher"}


def _num(x: float) -> float | None:
    """JSON-safe float: NaN and infinities become ``None``."""
    x = float(x)
    return x if math.isfinite(x) else None


def _unnum(x: Any) -> float:
    return float("nan") if x is None else float(x)


@dataclass(frozen=True)
class Estimate:
    """A reported number with its confidence interval.

    Attributes
    ----------
    value : float
        Point estimate.
    ci_low, ci_high : float
        Interval bounds at ``confidence``.
    confidence : float
        Confidence level of the interval (e.g. 0.95).
    n : int
        Number of trials / records the estimate is based on.
    method : str
        Name of the interval method (e.g. ``"wilson"``, ``"bootstrap-percentile"``).
    """

    value: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    method: str

    def __post_init__(self) -> None:
        finite = not (math.isnan(self.value) or math.isnan(self.ci_low) or math.isnan(self.ci_high))
        if finite and not self.ci_low - 1e-9 <= self.ci_high:
            raise ValueError(f"interval is reversed: ({self.ci_low}, {self.ci_high})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": _num(self.value),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
            "confidence": self.confidence,
            "n": int(self.n),
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Estimate:
        return cls(
            value=_unnum(d["value"]),
            ci_low=_unnum(d["ci_low"]),
            ci_high=_unnum(d["ci_high"]),
            confidence=float(d["confidence"]),
            n=int(d["n"]),
            method=str(d["method"]),
        )

    def covers(self, x: float) -> bool:
        """Whether ``x`` lies in the closed interval."""
        return self.ci_low - 1e-12 <= x <= self.ci_high + 1e-12


def _plain(obj: Any) -> Any:
    """Deep-convert numpy scalars/arrays and tuples into JSON-ready Python objects."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return _plain(obj.tolist())
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return _num(obj)
    if hasattr(obj, "item"):
        return _plain(obj.item())
    return str(obj)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check (one attack, one metric).

    ``status`` is ``ok`` when the check ran (a policy later turns it into pass/warn/fail/info),
    ``error`` when it raised, ``skipped`` when its inputs were not available.
    """

    id: str
    family: str
    kind: str
    estimate: Estimate | None
    baseline: Estimate | None = None
    summary: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    status: str = "ok"
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}")
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.status in ("ok", "pass", "warn", "fail", "info") and self.estimate is None:
            raise ValueError(f"check {self.id}: a completed check needs an estimate")

    @property
    def direction(self) -> str:
        return DIRECTIONS[self.kind]

    def to_dict(self, *, with_seconds: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "family": self.family,
            "kind": self.kind,
            "direction": self.direction,
            "estimate": None if self.estimate is None else self.estimate.to_dict(),
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
            "summary": self.summary,
            "details": _plain(self.details),
            "params": _plain(self.params),
            "status": self.status,
            "warnings": list(self.warnings),
        }
        if with_seconds:
            d["seconds"] = self.seconds
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], seconds: float = 0.0) -> CheckResult:
        return cls(
            id=d["id"],
            family=d["family"],
            kind=d["kind"],
            estimate=None if d.get("estimate") is None else Estimate.from_dict(d["estimate"]),
            baseline=None if d.get("baseline") is None else Estimate.from_dict(d["baseline"]),
            summary=d.get("summary", ""),
            details=dict(d.get("details", {})),
            params=dict(d.get("params", {})),
            status=d.get("status", "ok"),
            warnings=tuple(d.get("warnings", ())),
            seconds=float(d.get("seconds", seconds)),
        )

    def with_status(self, status: str) -> CheckResult:
        return replace(self, status=status)


@dataclass(frozen=True)
class AuditResult:
    """Everything an audit produced.

    ``policy`` holds the outcome of :func:`synthguard.audit.policy.evaluate` once it has run
    (verdict, per-check statuses, failed rules); ``timings`` holds wall-clock figures, kept apart
    so that the rest of the dict is reproducible.
    """

    checks: tuple[CheckResult, ...]
    seed: int
    inputs: Mapping[str, Any]
    schema: Mapping[str, Any]
    settings: Mapping[str, Any]
    versions: Mapping[str, str]
    warnings: tuple[str, ...] = ()
    policy: Mapping[str, Any] | None = None
    timings: Mapping[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION

    def check(self, check_id: str) -> CheckResult:
        """The result with this id (``KeyError`` if absent)."""
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def by_family(self, family: str) -> list[CheckResult]:
        return [c for c in self.checks if c.family == family]

    def to_dict(self) -> dict[str, Any]:
        timings = dict(_plain(self.timings))
        timings["checks"] = {c.id: round(c.seconds, 4) for c in self.checks}
        return {
            "schema_version": self.schema_version,
            "seed": self.seed,
            "inputs": _plain(self.inputs),
            "schema": _plain(self.schema),
            "settings": _plain(self.settings),
            "versions": dict(self.versions),
            "warnings": list(self.warnings),
            "checks": [c.to_dict() for c in self.checks],
            "policy": None if self.policy is None else _plain(self.policy),
            "timings": timings,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AuditResult:
        if str(d.get("schema_version", "")).split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ValueError(
                f"results schema_version {d.get('schema_version')!r} is not readable by this "
                f"version (expects {SCHEMA_VERSION})"
            )
        secs = dict(d.get("timings", {}).get("checks", {}))
        timings = {k: v for k, v in d.get("timings", {}).items() if k != "checks"}
        return cls(
            checks=tuple(CheckResult.from_dict(c, secs.get(c["id"], 0.0)) for c in d["checks"]),
            seed=int(d["seed"]),
            inputs=d["inputs"],
            schema=d["schema"],
            settings=d["settings"],
            versions=d["versions"],
            warnings=tuple(d.get("warnings", ())),
            policy=d.get("policy"),
            timings=timings,
            schema_version=d["schema_version"],
        )
