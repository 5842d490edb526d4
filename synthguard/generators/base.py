"""Generator protocol, generator specifications, and loading generators by name.

A generator is anything with ``fit(df) -> self`` and ``sample(n) -> DataFrame``, seeded by its
constructor. The audit names it in one of three ways (:func:`load_generator_spec`):

- a **built-in** name (``synthguard generators`` lists them: ``independent``, ``cart``, ...);
- ``package.module:attr`` for the user's own generator: ``attr`` (dotted names allowed) is a class
  or a factory function; it is called with ``seed=<int>`` when it has a ``seed`` parameter (else
  with ``random_state=<int>`` when it has that one, else without a seed: then seeding is the
  user's business and :meth:`GeneratorSpec.describe` says ``"seeded": false``);
- an **adapter**: ``sdv:<SynthesizerClass>`` or ``synthcity:<plugin>`` (optional extras, see
  :mod:`synthguard.generators.adapters`).

Generators are imported by name and constructed; nothing is ever unpickled.

Parameters from the command line (``--generator-param key=value``, repeatable) are text and are
read as: ``true`` / ``false`` → bool, ``none`` / ``null`` → None (case-insensitive), whole numbers →
int, other numbers (``0.5``, ``1e-3``) → float, text starting with ``[`` or ``{`` → JSON (lists and
mappings, e.g. a public domain for ``dp-histogram``), text in matching quotes → that text
unchanged (``name='"10"'`` gives the string ``10``), anything else → the text itself.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from synthguard.errors import InputError

__all__ = [
    "Generator",
    "GeneratorSpec",
    "get_generator",
    "list_generators",
    "load_generator_spec",
    "parse_param_value",
    "parse_params",
]

_KINDS = ("builtin", "module", "adapter")
_ADAPTER_PREFIXES = ("sdv", "synthcity")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@runtime_checkable
class Generator(Protocol):
    """Anything with ``fit(df) -> self`` and ``sample(n) -> DataFrame`` (seeded by its constructor)."""

    def fit(self, data: pd.DataFrame) -> Generator: ...

    def sample(self, n: int) -> pd.DataFrame: ...


# ------------------------------------------------------------------------------------------------
# parameters


def parse_param_value(text: str) -> Any:
    """Read one ``--generator-param`` value (see the module docstring for the rules)."""
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    if _INT.fullmatch(t):
        return int(t)
    if _FLOAT.fullmatch(t):
        return float(t)
    if t[:1] in ("[", "{"):
        try:
            return json.loads(t)
        except json.JSONDecodeError as e:
            raise InputError(f"generator parameter value {t[:40]!r} is not valid JSON ({e.msg})") from None
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        return t[1:-1]
    return text


def parse_params(params: Mapping[str, Any] | Sequence[str] | None, *, parse: bool = True) -> dict[str, Any]:
    """Parameters as a dict: ``key=value`` strings, or a mapping (text values read when ``parse``)."""
    if params is None:
        return {}
    out: dict[str, Any] = {}
    if isinstance(params, Mapping):
        items = [(str(k), v) for k, v in params.items()]
    elif isinstance(params, (str, bytes)):
        raise InputError("generator parameters must be a list of key=value strings or a mapping")
    else:
        items = []
        for item in params:
            if not isinstance(item, str) or "=" not in item:
                raise InputError(f"--generator-param expects key=value, got {str(item)[:40]!r}")
            key, _, value = item.partition("=")
            key = key.strip()
            if any(k == key for k, _ in items):
                raise InputError(f"generator parameter {key!r} is given twice")
            items.append((key, value))
    for key, value in items:
        if not _KEY.fullmatch(key):
            raise InputError(f"generator parameter name {key[:40]!r} is not a valid name")
        if key == "seed":
            raise InputError("generator parameter 'seed' is set by the audit: use --seed instead")
        out[key] = parse_param_value(value) if parse and isinstance(value, str) else value
    return out


def _jsonable(value: Any) -> Any:
    """A deterministic JSON-safe view of a parameter value (objects by type name, never repr)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return _jsonable(value.item())
        except (TypeError, ValueError):
            pass
    return f"<{type(value).__name__}>"


# ------------------------------------------------------------------------------------------------
# resolving names


def _kind_of(name: str) -> str:
    from synthguard.generators.builtin import BUILTIN

    if name in BUILTIN:
        return "builtin"
    prefix, sep, _ = name.partition(":")
    if sep and prefix in _ADAPTER_PREFIXES:
        return "adapter"
    if sep:
        return "module"
    raise InputError(
        f"unknown generator {name!r}: use one of {', '.join(sorted(BUILTIN))}, "
        "package.module:attr for your own, or sdv:<Synthesizer> / synthcity:<plugin>"
    )


_RESOLVED: dict[str, Callable[..., Any]] = {}


def _resolve_module_attr(name: str) -> Callable[..., Any]:
    """Import ``package.module:attr`` (cached per process). Errors are one-line InputErrors."""
    if name in _RESOLVED:
        return _RESOLVED[name]
    module_name, _, attr = name.partition(":")
    if not module_name or not attr:
        raise InputError(f"generator {name!r}: expected package.module:attr")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise InputError(f"cannot import module {module_name!r}: {e}") from None
    except Exception as e:  # the user's module failed while importing
        raise InputError(f"cannot import module {module_name!r}: {type(e).__name__}: {e}") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InputError(f"generator {name!r} is a {type(obj).__name__}, not a class or a factory function")
    _RESOLVED[name] = obj
    return obj


def _seed_keyword(factory: Callable[..., Any]) -> str | None:
    """``"seed"`` or ``"random_state"`` if the factory (or class constructor) accepts it by name."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    for key in ("seed", "random_state"):
        p = sig.parameters.get(key)
        if p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            return key
    return None


@dataclass(frozen=True)
class GeneratorSpec:
    """A named generator with its parameters: cheap, picklable, and makes fresh seeded instances.

    Parameters
    ----------
    name : str
        A built-in name, ``package.module:attr``, ``sdv:<Synthesizer>`` or ``synthcity:<plugin>``.
    params : mapping
        Keyword arguments for the constructor or factory (never ``seed``).

    Notes
    -----
    A spec holds only the name and the parameters, so it pickles to a few bytes and can be sent to
    joblib or Dask workers; each worker imports the generator by name. :meth:`make` returns a new
    instance every time: the shadow-model attack fits hundreds of them.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", dict(self.params))

    @property
    def kind(self) -> str:
        """``builtin``, ``module`` or ``adapter``."""
        return _kind_of(self.name)

    def factory(self) -> Callable[..., Any]:
        """The class or factory that :meth:`make` calls."""
        kind = self.kind
        if kind == "builtin":
            from synthguard.generators.builtin import BUILTIN

            return BUILTIN[self.name]
        if kind == "adapter":
            from synthguard.generators.adapters import adapter_factory

            return adapter_factory(self.name)
        return _resolve_module_attr(self.name)

    @property
    def seeded(self) -> bool:
        """Whether :meth:`make` can pass the seed (a user class without ``seed`` seeds itself)."""
        return self.kind != "module" or _seed_keyword(self.factory()) is not None

    def make(self, seed: int) -> Generator:
        """A fresh generator instance seeded with ``seed`` (when the generator takes a seed)."""
        factory = self.factory()
        key = "seed" if self.kind != "module" else _seed_keyword(factory)
        kwargs = dict(self.params)
        if key is not None:
            kwargs[key] = int(seed)
        gen: Generator = factory(**kwargs)
        return gen

    def describe(self) -> dict[str, Any]:
        """Name, kind, parameters (JSON-safe) and whether the audit seeds it, for the evidence file."""
        d: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "params": {k: _jsonable(v) for k, v in sorted(self.params.items())},
            "seeded": self.seeded,
        }
        if self.kind == "adapter":
            from synthguard.generators.adapters import seeding_note

            d["seeding"] = seeding_note(self.name)
        elif not d["seeded"]:
            d["seeding"] = "the generator takes no seed: its own randomness decides, so runs may differ"
        return d


def load_generator_spec(
    name: str, params: Mapping[str, Any] | Sequence[str] | None = None, *, parse: bool = True
) -> GeneratorSpec:
    """Check a generator name and parameters now, so that a mistake fails before any audit work.

    Parameters
    ----------
    name : str
        A built-in name, ``package.module:attr``, ``sdv:<Synthesizer>`` or ``synthcity:<plugin>``.
    params : mapping or sequence of "key=value", optional
        Constructor parameters. Text values are read as numbers, booleans, None or JSON (see the
        module docstring) unless ``parse=False``.

    Returns
    -------
    GeneratorSpec

    Raises
    ------
    InputError
        One line: unknown built-in, module that cannot be imported, missing attribute, an object
        without callable ``fit`` and ``sample``, parameters the generator does not accept or
        rejects, or an adapter whose optional extra is not installed.
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError("--generator needs a name: a built-in, package.module:attr, or sdv:/synthcity:")
    spec = GeneratorSpec(name.strip(), parse_params(params, parse=parse))
    kind = spec.kind  # unknown names fail here
    factory = spec.factory()  # imports fail here
    if kind == "module" and inspect.isclass(factory):
        missing = [m for m in ("fit", "sample") if not callable(getattr(factory, m, None))]
        if missing:
            raise InputError(f"generator {name!r}: class {factory.__name__} has no {' or '.join(missing)} method")
    try:
        instance = spec.make(0)
    except InputError:
        raise
    except TypeError as e:
        accepted = ", ".join(sorted(spec.params)) or "(none)"
        raise InputError(f"generator {name!r} does not accept parameters {accepted}: {e}") from None
    except ValueError as e:
        raise InputError(f"generator {name!r}: bad parameter: {e}") from None
    except Exception as e:  # the user's constructor failed
        raise InputError(f"generator {name!r} could not be constructed: {type(e).__name__}: {e}") from None
    missing = [m for m in ("fit", "sample") if not callable(getattr(instance, m, None))]
    if missing:
        raise InputError(
            f"generator {name!r} made a {type(instance).__name__} without {' and '.join(missing)}(): "
            "a generator needs fit(df) and sample(n)"
        )
    return spec


def list_generators() -> dict[str, str]:
    """Built-in generator names with one line of help each."""
    from synthguard.generators.builtin import BUILTIN

    return {name: (cls.__doc__ or "").strip().splitlines()[0] for name, cls in BUILTIN.items()}


def get_generator(name: str, *, seed: int = 0, **params: Any) -> Generator:
    """A generator by name (built-in, ``module:attr`` or adapter), seeded; Python parameter values."""
    from synthguard.generators.builtin import BUILTIN

    if ":" not in name and name not in BUILTIN:
        raise InputError(f"unknown generator {name!r}: use one of {', '.join(sorted(BUILTIN))}")
    if name in BUILTIN:  # fast path, same errors as load_generator_spec
        try:
            gen: Generator = BUILTIN[name](seed=seed, **params)
        except TypeError:
            raise InputError(f"generator {name!r} does not accept parameters {', '.join(sorted(params))}") from None
        except ValueError as e:
            raise InputError(f"generator {name!r}: bad parameter: {e}") from None
        return gen
    return load_generator_spec(name, params, parse=False).make(seed)
