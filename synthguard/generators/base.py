"""Generator protocol and lookup of built-in generators by name."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import pandas as pd

from synthguard.errors import InputError

__all__ = ["Generator", "get_generator", "list_generators"]


@runtime_checkable
class Generator(Protocol):
    """Anything with ``fit(df) -> self`` and ``sample(n) -> DataFrame`` (seeded by its constructor)."""

    def fit(self, data: pd.DataFrame) -> Generator: ...

    def sample(self, n: int) -> pd.DataFrame: ...


def list_generators() -> dict[str, str]:
    """Built-in generator names with one line of help each."""
    from synthguard.generators.builtin import BUILTIN

    return {name: (cls.__doc__ or "").strip().splitlines()[0] for name, cls in BUILTIN.items()}


def get_generator(name: str, *, seed: int = 0, **params: Any) -> Generator:
    """A built-in generator by name, seeded."""
    from synthguard.generators.builtin import BUILTIN

    if name not in BUILTIN:
        raise InputError(f"unknown generator {name!r}: use one of {', '.join(sorted(BUILTIN))}")
    try:
        gen: Generator = BUILTIN[name](seed=seed, **params)
    except TypeError:
        raise InputError(f"generator {name!r} does not accept parameters {', '.join(sorted(params))}") from None
    return gen
