"""Adapters for the generators of SDV and synthcity (optional extras).

``sdv:<SynthesizerClass>`` (``pip install synthguard[sdv]``) wraps a single-table synthesizer of
SDV 1.x or 2.x (``GaussianCopulaSynthesizer``, ``CTGANSynthesizer``, ``TVAESynthesizer``,
``CopulaGANSynthesizer``, ...): the metadata is written from synthguard's column kinds (numeric →
``numerical``, categorical → ``categorical``, datetime → ``datetime``; never auto-detected, so SDV
never mistakes a column for an identifier or personal data and replaces it with fakes), the
synthesizer is built with the parameters, fitted, and sampled with ``sample(num_rows=n)``.

``synthcity:<plugin>`` (``pip install synthguard[synthcity]``) wraps a synthcity plugin
(``ctgan``, ``tvae``, ``bayesian_network``, ``privbayes``, ``adsgan``, ...):
``Plugins().get(name, random_state=seed, **params)``, ``fit(df)``,
``generate(count=n).dataframe()``.

Both libraries are imported only when the adapter is used; a missing extra is an
:class:`~synthguard.errors.InputError` saying which extra to install. The output is brought back
to the training columns and kinds (numeric float64 with whole numbers kept whole, datetimes of the
training dtype, categorical values as text).

Seeding, as far as the libraries allow: the Python, NumPy (global) and, when installed, PyTorch
random generators are seeded from the audit seed around ``fit`` and ``sample`` and restored
afterwards; for SDV the synthesizer's sampling state is then set from the seed through its
``_set_random_state`` (SDV otherwise samples with one fixed internal seed, so that every seed
would give the same rows); synthcity plugins get ``random_state=seed``. GPU kernels and
multi-threaded training may still be nondeterministic, and a private SDV method may change between
versions: treat runs of these generators as reproducible in distribution, not byte for byte.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import random
import sys
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from synthguard.errors import InputError
from synthguard.generators._common import (
    check_fitted,
    check_n,
    column_kinds,
    datetime_from_days,
    datetime_to_days,
    is_whole,
)

__all__ = ["SDVGenerator", "SynthcityGenerator", "adapter_factory", "seeding_note"]

EXTRAS = {"sdv": "sdv", "synthcity": "synthcity"}
_SDTYPES = {"numeric": "numerical", "categorical": "categorical", "datetime": "datetime"}


def _require(module: str) -> Any:
    """Import an optional library (or one of its modules), or say which extra to install."""
    library = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise InputError(
            f"the '{library}' adapter needs `pip install synthguard[{EXTRAS[library]}]` (cannot import {module}: {e})"
        ) from None


_PLUGINS: dict[int, Any] = {}


def _synthcity_plugins() -> Any:
    """One ``synthcity.plugins.Plugins()`` registry per process (building it scans every plugin)."""
    module = _require("synthcity.plugins")
    if id(module) not in _PLUGINS:
        _PLUGINS.clear()
        _PLUGINS[id(module)] = module.Plugins()
    return _PLUGINS[id(module)]


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed the global Python / NumPy / PyTorch generators, restoring their states afterwards."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch = sys.modules.get("torch")
    torch_state = None
    if torch is not None and hasattr(torch, "get_rng_state"):
        torch_state = torch.get_rng_state()
    s = int(seed) % (2**32)
    random.seed(s)
    np.random.seed(s)
    if torch is not None and hasattr(torch, "manual_seed"):
        torch.manual_seed(s)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        if torch is not None and torch_state is not None:
            torch.set_rng_state(torch_state)


def _retype(out: pd.DataFrame, template: pd.DataFrame, source: str) -> pd.DataFrame:
    """The library's output as synthguard kinds: training columns in order, numeric, datetime or text."""
    missing = [c for c in template.columns if c not in out.columns]
    if missing and len(out):
        raise RuntimeError(f"{source} returned no column {missing[0]!r}")
    n = len(out)
    cols: dict[str, pd.Series] = {}
    for c, kind in column_kinds(template).items():
        s = out[c].reset_index(drop=True) if c in out.columns else pd.Series([np.nan] * n)
        if kind == "numeric":
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            if is_whole(template[c].to_numpy(dtype=float)):
                v = np.round(v)
            cols[c] = pd.Series(v, dtype=float)
        elif kind == "datetime":
            days = datetime_to_days(pd.Series(pd.to_datetime(s, errors="coerce")))
            cols[c] = datetime_from_days(days, template[c])
        else:
            obj = s.astype(object)
            present = obj.notna()
            cols[c] = obj.where(~present, obj[present].map(str)).where(present, np.nan).astype(object)
    return pd.DataFrame(cols, index=pd.RangeIndex(n), columns=list(template.columns))


# ------------------------------------------------------------------------------------------------
# SDV


def _sdv_metadata(data: pd.DataFrame) -> Any:
    """SDV metadata from synthguard's kinds: ``Metadata`` (SDV >= 1.15 / 2.x) or ``SingleTableMetadata``."""
    meta_mod = importlib.import_module("sdv.metadata")
    columns = {str(c): {"sdtype": _SDTYPES[k]} for c, k in column_kinds(data).items()}
    if hasattr(meta_mod, "Metadata"):
        return meta_mod.Metadata.load_from_dict(
            {"METADATA_SPEC_VERSION": "V1", "tables": {"table": {"columns": columns}}}
        )
    return meta_mod.SingleTableMetadata.load_from_dict({"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "columns": columns})


class SDVGenerator:
    """An SDV single-table synthesizer (``sdv:<SynthesizerClass>``) with synthguard's protocol.

    Parameters
    ----------
    synthesizer : str
        Class name in ``sdv.single_table`` (e.g. ``GaussianCopulaSynthesizer``, ``CTGANSynthesizer``).
    seed : int
        Seeds the global random generators around ``fit`` and ``sample`` and SDV's sampling state.
    **params
        Keyword arguments of the synthesizer (e.g. ``epochs=50`` for CTGAN).

    References
    ----------
    Patki, N., Wedge, R., Veeramachaneni, K. (2016). The Synthetic Data Vault. IEEE DSAA.
    """

    def __init__(self, synthesizer: str, seed: int = 0, **params: Any) -> None:
        single = _require("sdv.single_table")
        cls = getattr(single, synthesizer, None)
        if cls is None or not inspect.isclass(cls):
            known = sorted(n for n in dir(single) if n.endswith("Synthesizer") and not n.startswith("Base"))
            hint = f": use one of {', '.join(known)}" if known else ""
            raise InputError(f"sdv has no single-table synthesizer {synthesizer!r}{hint}")
        try:
            inspect.signature(cls).bind(None, **params)
        except TypeError as e:
            raise TypeError(f"{synthesizer}: {e}") from None
        self.synthesizer = synthesizer
        self.seed = int(seed)
        self.params = dict(params)
        self._cls: Any = cls
        self._model: Any = None
        self._template: pd.DataFrame | None = None
        self._draws = 0

    def fit(self, data: pd.DataFrame) -> SDVGenerator:
        metadata = _sdv_metadata(data)
        with _seeded(self.seed):
            model = self._cls(metadata, **self.params)
            model.fit(data)
        self._model, self._template, self._draws = model, data.iloc[:0].copy(), 0
        return self

    def sample(self, n: int) -> pd.DataFrame:
        n = check_n(n)
        check_fitted(self._model, f"sdv:{self.synthesizer}")
        assert self._template is not None
        draw_seed = self.seed + 7919 * self._draws  # each call a new, reproducible stream
        self._draws += 1
        with _seeded(draw_seed):
            if hasattr(self._model, "_set_random_state"):
                self._model._set_random_state(draw_seed)
            out = self._model.sample(num_rows=n) if n > 0 else pd.DataFrame(columns=self._template.columns)
        return _retype(out, self._template, f"sdv:{self.synthesizer}")


# ------------------------------------------------------------------------------------------------
# synthcity


class SynthcityGenerator:
    """A synthcity plugin (``synthcity:<plugin>``) with synthguard's protocol.

    Parameters
    ----------
    plugin : str
        Plugin name as listed by ``synthcity.plugins.Plugins().list()`` (e.g. ``ctgan``, ``privbayes``).
    seed : int
        Passed as ``random_state`` (unless given in ``params``) and seeds the global generators.
    **params
        Keyword arguments of the plugin.

    References
    ----------
    Qian, Z., Cebere, B.-C., van der Schaar, M. (2023). Synthcity: facilitating innovative use cases
    of synthetic data in different data modalities. NeurIPS Datasets and Benchmarks.
    """

    def __init__(self, plugin: str, seed: int = 0, **params: Any) -> None:
        self._plugins = _synthcity_plugins()
        available = list(self._plugins.list())
        if plugin not in available:
            raise InputError(f"synthcity has no plugin {plugin!r}: use one of {', '.join(sorted(available))}")
        self.plugin = plugin
        self.seed = int(seed)
        self.params = dict(params)
        self._model: Any = None
        self._template: pd.DataFrame | None = None
        self._draws = 0

    def fit(self, data: pd.DataFrame) -> SynthcityGenerator:
        kwargs = {"random_state": self.seed, **self.params}
        with _seeded(self.seed):
            model = self._plugins.get(self.plugin, **kwargs)
            model.fit(data)
        self._model, self._template, self._draws = model, data.iloc[:0].copy(), 0
        return self

    def sample(self, n: int) -> pd.DataFrame:
        n = check_n(n)
        check_fitted(self._model, f"synthcity:{self.plugin}")
        assert self._template is not None
        if n == 0:
            return _retype(pd.DataFrame(columns=self._template.columns), self._template, f"synthcity:{self.plugin}")
        draw_seed = self.seed + 7919 * self._draws  # each call a new, reproducible stream
        self._draws += 1
        with _seeded(draw_seed):
            out = self._model.generate(count=n).dataframe()
        return _retype(out, self._template, f"synthcity:{self.plugin}")


# ------------------------------------------------------------------------------------------------
# lookup


def adapter_factory(name: str) -> Callable[..., Any]:
    """The factory ``(seed=..., **params) -> generator`` for ``sdv:<Class>`` or ``synthcity:<plugin>``."""
    prefix, _, target = name.partition(":")
    if not target:
        raise InputError(f"generator {name!r}: name the {prefix} synthesizer after the colon")
    _require(prefix)  # a missing extra fails before anything else
    cls = SDVGenerator if prefix == "sdv" else SynthcityGenerator
    return partial(cls, target)


def seeding_note(name: str) -> str:
    """How far the audit seed controls an adapter's randomness (for the evidence file)."""
    if name.startswith("sdv:"):
        return (
            "global Python/NumPy/PyTorch generators seeded around fit and sample, SDV sampling state "
            "set from the seed; GPU or multi-threaded training may still vary"
        )
    return "random_state=seed and global Python/NumPy/PyTorch generators seeded; GPU training may still vary"
