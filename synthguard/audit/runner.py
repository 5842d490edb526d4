"""Check registry, shared audit context and the runner.

Every check gets its own random stream derived from the audit seed and the check's id
(``SeedSequence(seed, spawn_key=crc32(id))``), so a check's numbers do not change when other checks
are added, removed or reordered. A check that raises becomes a result with status ``error``; the
others still run.
"""

from __future__ import annotations

import fnmatch
import platform
import sys
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, ClassVar, Protocol

import numpy as np

from synthguard.audit.results import AuditResult, CheckResult
from synthguard.audit.tables import AuditData

__all__ = [
    "REGISTRY",
    "AuditContext",
    "Check",
    "CheckSkipped",
    "Settings",
    "register",
    "run_audit",
    "select_checks",
]


@dataclass(frozen=True)
class Settings:
    """Parameters every check may read (merged by :mod:`synthguard.audit.config`)."""

    n_attacks: int = 5000
    confidence: float = 0.95
    rare_k: int = 10
    n_bootstrap: int = 200
    n_jobs: int = 1
    n_targets: int = 5000
    delta: float = 1e-5
    singling_out_sizes: str = "equal"
    singling_out_columns: int = 3
    singling_out_attempts: int = 200_000
    link_columns: str = ""
    link_neighbors: int = 1
    sweep_attacks: int = 1000
    shadow_fits: int = 64
    shadow_targets: int = 20
    shadow_features: str = "local"
    # how to run, never what comes out: kept out of the results' settings block
    backend: str = "loky"
    scheduler: str = ""
    cache_dir: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "shadow_fits": self.shadow_fits,
            "shadow_targets": self.shadow_targets,
            "shadow_features": self.shadow_features,
            "singling_out_sizes": self.singling_out_sizes,
            "singling_out_columns": self.singling_out_columns,
            "singling_out_attempts": self.singling_out_attempts,
            "link_columns": self.link_columns,
            "link_neighbors": self.link_neighbors,
            "sweep_attacks": self.sweep_attacks,
            "n_targets": self.n_targets,
            "delta": self.delta,
            "n_attacks": self.n_attacks,
            "confidence": self.confidence,
            "rare_k": self.rare_k,
            "n_bootstrap": self.n_bootstrap,
            "n_jobs": self.n_jobs,
        }


class CheckSkipped(Exception):
    """Raised by a check whose inputs are not available (e.g. no quasi-identifiers)."""


@dataclass
class AuditContext:
    """What a check sees: the tables, schema, settings, its random stream and a shared cache."""

    data: AuditData
    settings: Settings
    rng: np.random.Generator
    cache: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    generator: Any = None  # a synthguard.generators.base.GeneratorSpec when the generator is given
    quiet: bool = True

    @property
    def schema(self):
        return self.data.schema

    def shared_rng(self, name: str) -> np.random.Generator:
        """A stream shared by the checks that use the same draw (e.g. membership targets).

        Derived from the audit seed and ``name`` only, so every check asking for it gets the same
        draw whichever ran first.
        """
        return np.random.default_rng(check_seed(self.seed, name))

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute a shared value once per audit (encoded matrices, neighbour searches, ...)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]


class Check(Protocol):
    """A check (attack or metric). ``run`` returns one or more results."""

    id: ClassVar[str]
    family: ClassVar[str]
    help: ClassVar[str]
    requires: ClassVar[frozenset[str]]

    def run(self, ctx: AuditContext) -> list[CheckResult]: ...


REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator adding a check to the registry under its ``id``."""
    if cls.id in REGISTRY and REGISTRY[cls.id] is not cls:
        raise ValueError(f"duplicate check id {cls.id!r}")
    REGISTRY[cls.id] = cls
    return cls


def _load_builtin_checks() -> None:
    # importing the modules registers their checks
    from synthguard.attacks import (  # noqa: F401
        attribute,
        cap,
        distance,
        kanonymity,
        linkage,
        membership,
        record_linkage,
        shadow,
        singling_out,
    )
    from synthguard.metrics import fidelity, utility  # noqa: F401


def select_checks(patterns: Sequence[str] | None = None) -> list[type[Check]]:
    """Registered checks whose id matches any glob pattern (all when ``patterns`` is empty)."""
    _load_builtin_checks()
    ids = sorted(REGISTRY)
    if not patterns:
        return [REGISTRY[i] for i in ids]
    chosen = [i for i in ids if any(fnmatch.fnmatchcase(i, p) or i.startswith(p + ".") for p in patterns)]
    return [REGISTRY[i] for i in chosen]


def check_seed(seed: int, check_id: str) -> np.random.SeedSequence:
    """The seed sequence of one check: the audit seed plus a stable key from the check's id."""
    return np.random.SeedSequence(entropy=seed, spawn_key=(zlib.crc32(check_id.encode()),))


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in (
        "synthguard",
        "numpy",
        "pandas",
        "scipy",
        "scikit-learn",
        "anonymeter",
        "polars",
        "matplotlib",
        "jinja2",
        "click",
    ):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


class Progress:
    """One line per check on stderr, only when stderr is a terminal and not quiet."""

    def __init__(self, total: int, quiet: bool = False, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total = total
        self.done = 0

    def start(self, check_id: str) -> None:
        if self.enabled:
            self.stream.write(f"[{self.done + 1}/{self.total}] {check_id} ...")
            self.stream.flush()

    def end(self, check_id: str, seconds: float, status: str) -> None:
        self.done += 1
        if self.enabled:
            self.stream.write(f" {status} ({seconds:.1f}s)\n")
            self.stream.flush()


def run_audit(
    data: AuditData,
    *,
    seed: int = 0,
    checks: Iterable[type[Check]] | None = None,
    settings: Settings = Settings(),
    quiet: bool = True,
    extra_settings: Mapping[str, Any] | None = None,
    generator: Any = None,
) -> AuditResult:
    """Run checks on validated data and collect an :class:`AuditResult` (no policy applied yet).

    Parameters
    ----------
    data : AuditData
        From :func:`synthguard.audit.tables.load` or :func:`~synthguard.audit.tables.from_frames`.
    seed : int
        Audit seed; every check derives its own stream from it.
    checks : iterable of check classes, optional
        Default: every registered check.
    settings : Settings
        Shared parameters.
    quiet : bool
        Suppress progress on stderr.
    generator : GeneratorSpec, optional
        The generator that made the release, for the generator-in-the-loop (shadow-model) checks.
    """
    selected = list(checks) if checks is not None else select_checks()
    available = available_inputs(data) | ({"generator"} if generator is not None else set())
    cache: dict[str, Any] = {}
    results: list[CheckResult] = []
    progress = Progress(len(selected), quiet=quiet)
    t_all = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for cls in selected:
        rng = np.random.default_rng(check_seed(seed, cls.id))
        ctx = AuditContext(
            data=data, settings=settings, rng=rng, cache=cache, seed=seed, generator=generator, quiet=quiet
        )
        progress.start(cls.id)
        t0 = time.perf_counter()
        try:
            missing = set(cls.requires) - available
            if missing:
                raise CheckSkipped("needs " + ", ".join(_REQUIREMENT_TEXT.get(m, m) for m in sorted(missing)))
            out = cls().run(ctx)
            status = "ok"
        except CheckSkipped as e:
            out = [
                CheckResult(
                    id=cls.id,
                    family=cls.family,
                    kind="risk" if cls.family not in ("fidelity", "utility") else cls.family,
                    estimate=None,
                    summary=f"Not run: {e}.",
                    status="skipped",
                    warnings=(str(e),),
                )
            ]
            status = "skipped"
        except Exception as e:  # a failing check must not stop the audit
            tb = traceback.extract_tb(e.__traceback__)
            where = f"{tb[-1].name}:{tb[-1].lineno}" if tb else "?"
            out = [
                CheckResult(
                    id=cls.id,
                    family=cls.family,
                    kind="risk" if cls.family not in ("fidelity", "utility") else cls.family,
                    estimate=None,
                    summary="The check failed to run; its risk is unknown.",
                    status="error",
                    warnings=(f"{type(e).__name__} in {where}",),
                )
            ]
            status = "error"
        seconds = time.perf_counter() - t0
        share = seconds / max(len(out), 1)
        results.extend(_with_seconds(r, share) for r in out)
        progress.end(cls.id, seconds, status)
    settings_dict = settings.to_dict()
    if generator is not None:
        settings_dict["generator"] = generator.describe()
    if extra_settings:
        settings_dict.update(extra_settings)
    return AuditResult(
        checks=tuple(results),
        seed=seed,
        inputs={role: src.to_dict() for role, src in data.sources.items()},
        schema=data.schema.to_dict(),
        settings=settings_dict,
        versions=_versions(),
        warnings=tuple(data.warnings),
        timings={
            "started_at": started,
            "total_seconds": round(time.perf_counter() - t_all, 4),
            "execution": {
                "backend": settings.backend,
                "n_jobs": settings.n_jobs,
                "cache_dir": bool(settings.cache_dir),
            },
        },
    )


_REQUIREMENT_TEXT = {
    "quasi_identifiers": "quasi-identifiers (--qi)",
    "sensitive": "sensitive columns (--sensitive)",
    "target": "a target column (--target)",
    "generator": "the generator (--generator)",
}


def available_inputs(data: AuditData) -> set[str]:
    """What a check may require: the tables, and the roles that are set."""
    out = {"train", "holdout", "synthetic"}
    if data.schema.quasi_identifiers:
        out.add("quasi_identifiers")
    if data.schema.sensitive:
        out.add("sensitive")
    if data.schema.target:
        out.add("target")
    return out


def _with_seconds(r: CheckResult, seconds: float) -> CheckResult:
    from dataclasses import replace

    return replace(r, seconds=seconds)
