"""Settings merged from defaults < ``pyproject.toml [tool.synthguard]`` < ``SYNTHGUARD_*`` < CLI.

Each merged value remembers where it came from, so an auditor can see why a number was used.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthguard.audit.runner import Settings
from synthguard.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["DEFAULTS", "Config", "load"]

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "policy": "open",
    "n_attacks": 5000,
    "confidence": 0.95,
    "rare_k": 10,
    "n_bootstrap": 200,
    "n_jobs": -1,
    "n_targets": 5000,
    "delta": 1e-5,
    "singling_out_sizes": "equal",
    "singling_out_columns": 3,
    "singling_out_attempts": 200_000,
    "link_columns": "",
    "link_neighbors": 1,
    "sweep_attacks": 1000,
    "shadow_fits": 64,
    "shadow_targets": 20,
    "shadow_features": "local",
    "backend": "loky",
    "scheduler": "",
    "cache_dir": "",
}
_TYPES: dict[str, type] = {k: type(v) for k, v in DEFAULTS.items()}


@dataclass(frozen=True)
class Config:
    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def settings(self) -> Settings:
        return Settings(
            n_attacks=int(self.values["n_attacks"]),
            confidence=float(self.values["confidence"]),
            rare_k=int(self.values["rare_k"]),
            n_bootstrap=int(self.values["n_bootstrap"]),
            n_jobs=int(self.values["n_jobs"]),
            n_targets=int(self.values["n_targets"]),
            delta=float(self.values["delta"]),
            singling_out_sizes=str(self.values["singling_out_sizes"]),
            singling_out_columns=int(self.values["singling_out_columns"]),
            singling_out_attempts=int(self.values["singling_out_attempts"]),
            link_columns=str(self.values["link_columns"]),
            link_neighbors=int(self.values["link_neighbors"]),
            sweep_attacks=int(self.values["sweep_attacks"]),
            shadow_fits=int(self.values["shadow_fits"]),
            shadow_targets=int(self.values["shadow_targets"]),
            shadow_features=str(self.values["shadow_features"]),
            backend=str(self.values["backend"]),
            scheduler=str(self.values["scheduler"]),
            cache_dir=str(self.values["cache_dir"]),
        )


def _convert(key: str, value: Any, source: str) -> Any:
    want = _TYPES[key]
    try:
        if want is int and isinstance(value, bool):
            raise ValueError
        out = want(value)
    except (TypeError, ValueError):
        raise InputError(f"{source}: setting {key!r} must be {want.__name__}") from None
    if key == "confidence" and not 0.5 <= out < 1:
        raise InputError(f"{source}: setting 'confidence' must be in [0.5, 1)")
    if key == "delta" and not 0 <= out < 0.1:
        raise InputError(f"{source}: setting 'delta' must be in [0, 0.1)")
    if key == "singling_out_sizes" and out not in ("equal", "as-is"):
        raise InputError(f"{source}: setting 'singling_out_sizes' must be 'equal' or 'as-is'")
    if (
        key
        in (
            "n_attacks",
            "n_bootstrap",
            "rare_k",
            "n_targets",
            "link_neighbors",
            "sweep_attacks",
            "singling_out_attempts",
        )
        and out < 1
    ):
        raise InputError(f"{source}: setting {key!r} must be at least 1")
    if key == "backend" and out not in ("loky", "threading", "dask"):
        raise InputError(f"{source}: setting 'backend' must be 'loky', 'threading' or 'dask'")
    if key == "shadow_fits" and out < 8:
        raise InputError(f"{source}: setting 'shadow_fits' must be at least 8")
    if key == "shadow_features" and out not in ("local", "groundhog"):
        raise InputError(f"{source}: setting 'shadow_features' must be 'local' or 'groundhog'")
    if key == "shadow_targets" and out < 1:
        raise InputError(f"{source}: setting 'shadow_targets' must be at least 1")
    if key == "singling_out_columns" and out < 2:
        raise InputError(f"{source}: setting 'singling_out_columns' must be at least 2")
    if key in ("n_attacks", "n_bootstrap", "rare_k", "n_targets") and out < 1:
        raise InputError(f"{source}: setting {key!r} must be at least 1")
    if key == "seed" and out < 0:
        raise InputError(f"{source}: setting 'seed' must be a non-negative integer")
    return out


def load(
    cli: Mapping[str, Any] | None = None,
    *,
    cwd: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Merge settings. ``cli`` values of ``None`` mean "not given"."""
    values = dict(DEFAULTS)
    sources = dict.fromkeys(DEFAULTS, "default")
    pyproject = Path(cwd or os.getcwd()) / "pyproject.toml"
    if pyproject.is_file():
        try:
            raw = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            raw = {}
        section = raw.get("tool", {}).get("synthguard", {})
        for key, value in section.items():
            key = key.replace("-", "_")
            if key not in DEFAULTS:
                raise InputError(f"{pyproject}: [tool.synthguard] has unknown setting {key!r}")
            values[key] = _convert(key, value, f"{pyproject} [tool.synthguard]")
            sources[key] = "pyproject.toml"
    env = os.environ if environ is None else environ
    for key in DEFAULTS:
        name = f"SYNTHGUARD_{key.upper()}"
        if name in env and env[name] != "":
            values[key] = _convert(key, env[name], f"environment {name}")
            sources[key] = f"env {name}"
    for key, value in (cli or {}).items():
        if value is None:
            continue
        if key not in DEFAULTS:
            raise KeyError(key)
        values[key] = _convert(key, value, "command line")
        sources[key] = "command line"
    return Config(values=values, sources=sources)
