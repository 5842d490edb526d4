"""The Python API: run an audit from files or DataFrames and write its outputs."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from synthguard.audit import config as _config
from synthguard.audit.policy import evaluate, load_policy
from synthguard.audit.results import AuditResult
from synthguard.audit.runner import run_audit, select_checks
from synthguard.audit.tables import AuditData, ReadOptions, from_frames, load, read_table
from synthguard.errors import InputError
from synthguard.generators.base import GeneratorSpec, list_generators, load_generator_spec
from synthguard.reports.html import render_html
from synthguard.reports.json import dumps_json

__all__ = ["DEMO_ROLES", "audit", "demo", "demo_data", "write_outputs"]

Table = str | os.PathLike[str] | pd.DataFrame

DEMO_ROLES = {
    "quasi_identifiers": ["age", "sex", "race", "native_country", "marital_status", "relationship"],
    "sensitive": ["income"],
    "target": "income",
}


def _load(
    train: Table,
    holdout: Table,
    synthetic: Table,
    *,
    schema: str | os.PathLike[str] | None,
    quasi_identifiers: Sequence[str] | None,
    sensitive: Sequence[str] | None,
    target: str | None,
    read_options: ReadOptions,
) -> AuditData:
    tables = (train, holdout, synthetic)
    if all(isinstance(t, pd.DataFrame) for t in tables):
        frames = cast("tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]", tables)
        return from_frames(
            *frames, schema_file=schema, quasi_identifiers=quasi_identifiers, sensitive=sensitive, target=target
        )
    if any(isinstance(t, pd.DataFrame) for t in tables):
        raise InputError("give train, holdout and synthetic all as files or all as DataFrames")
    paths = cast("tuple[str, str, str]", tables)
    return load(
        *paths,
        schema_file=schema,
        quasi_identifiers=quasi_identifiers,
        sensitive=sensitive,
        target=target,
        options=read_options,
    )


def audit(
    train: Table,
    holdout: Table,
    synthetic: Table,
    *,
    schema: str | os.PathLike[str] | None = None,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    target: str | None = None,
    seed: int | None = None,
    policy: str | None = None,
    n_attacks: int | None = None,
    checks: Sequence[str] | None = None,
    read_options: ReadOptions | None = None,
    quiet: bool = True,
    settings: Mapping[str, Any] | None = None,
    generator: GeneratorSpec | str | None = None,
    generator_params: Mapping[str, Any] | None = None,
) -> AuditResult:
    """Audit a synthetic release against its training data and a real holdout.

    Parameters
    ----------
    train, holdout, synthetic : path or DataFrame
        The real training table, real rows of the same population the generator never saw, and
        the release. CSV (``.csv``, ``.csv.gz``) or Parquet files, or three DataFrames.
    schema : path, optional
        Schema file (TOML) with column kinds and roles.
    quasi_identifiers, sensitive, target : optional
        Roles; override the schema file. Unset roles are guessed from column names.
    seed : int, optional
        Audit seed (default from configuration: 0).
    policy : str, optional
        ``open`` (default), ``controlled``, ``internal`` or a policy TOML file.
    n_attacks : int, optional
        Targets (or predicates) per singling-out, linkability and inference attack (default 5000,
        capped by the table sizes).
    checks : sequence of str, optional
        Glob patterns of check ids to run (default: all).
    settings : mapping, optional
        Further settings by name (``confidence``, ``rare_k``, ``n_bootstrap``, ``n_jobs``,
        ``shadow_fits``, ``shadow_targets``, ``shadow_features``, ``backend``, ``scheduler``,
        ``cache_dir``, ...; see :data:`synthguard.audit.config.DEFAULTS`).
    generator : GeneratorSpec or str, optional
        The generator that made the release, for the generator-in-the-loop checks: a
        :class:`~synthguard.generators.base.GeneratorSpec`, or a name (a built-in,
        ``package.module:attr``, ``sdv:<Synthesizer>``, ``synthcity:<plugin>``).
    generator_params : mapping, optional
        Constructor parameters (Python values) when ``generator`` is a name.

    Returns
    -------
    AuditResult
        With the policy applied (``result.policy["verdict"]``, ``["exit_code"]``).

    Raises
    ------
    InputError
        Bad inputs or options (one message listing every problem).
    """
    spec = _generator_spec(generator, generator_params)
    cli = {"seed": seed, "policy": policy, "n_attacks": n_attacks, **(settings or {})}
    cfg = _config.load(cli)
    pol = load_policy(cfg["policy"])
    selected = select_checks(checks)
    if checks and not selected:
        raise InputError(f"no check matches {', '.join(checks)}; see `synthguard checks`")
    data = _load(
        train,
        holdout,
        synthetic,
        schema=schema,
        quasi_identifiers=quasi_identifiers,
        sensitive=sensitive,
        target=target,
        read_options=read_options or ReadOptions(),
    )
    extra: dict[str, Any] = {} if spec is None else {"generator": spec}
    result = run_audit(
        data,
        seed=int(cfg["seed"]),
        checks=selected,
        settings=cfg.settings(),
        quiet=quiet,
        extra_settings={"policy": cfg["policy"], "sources": {k: v for k, v in cfg.sources.items() if v != "default"}},
        **extra,
    )
    return evaluate(result, pol)


def _generator_spec(
    generator: GeneratorSpec | str | None, generator_params: Mapping[str, Any] | None
) -> GeneratorSpec | None:
    """The generator as a checked spec (None when not given)."""
    if generator is None:
        if generator_params:
            raise InputError("generator_params given without a generator")
        return None
    if isinstance(generator, GeneratorSpec):
        if generator_params:
            raise InputError("give the parameters in the GeneratorSpec, not also as generator_params")
        return generator
    if isinstance(generator, str):
        return load_generator_spec(generator, generator_params or {}, parse=False)
    raise InputError(f"generator must be a name or a GeneratorSpec, got {type(generator).__name__}")


def demo_data(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled Adult sample split at random into train (5,000) and holdout (5,000) rows, as text."""
    with resources.as_file(resources.files("synthguard.datasets").joinpath("adult_sample.csv.gz")) as p:
        raw, _ = read_table(p)
    order = np.random.default_rng(seed).permutation(len(raw))
    half = len(raw) // 2
    return (
        raw.iloc[np.sort(order[:half])].reset_index(drop=True),
        raw.iloc[np.sort(order[half:])].reset_index(drop=True),
    )


def demo(
    generator: str | GeneratorSpec = "independent",
    *,
    seed: int | None = None,
    policy: str | None = None,
    quiet: bool = True,
    generator_params: Mapping[str, Any] | None = None,
) -> AuditResult:
    """Audit a release of the bundled Adult sample made by a generator.

    Parameters
    ----------
    generator : str or GeneratorSpec
        A built-in (see :func:`~synthguard.generators.base.list_generators`), ``package.module:attr``
        or an adapter name; ``dp-histogram`` cannot hold the Adult sample's full domain and says so.
    generator_params : mapping, optional
        Constructor parameters (Python values) when ``generator`` is a name.
    """
    spec = _generator_spec(generator, generator_params)
    assert spec is not None
    cfg = _config.load({"seed": seed, "policy": policy})
    train_raw, holdout_raw = demo_data(int(cfg["seed"]))
    typed = from_frames(train_raw, holdout_raw, train_raw, **DEMO_ROLES)  # type: ignore[arg-type]
    gen = spec.make(int(cfg["seed"]))
    synthetic = gen.fit(typed.train).sample(len(typed.train))
    result = audit(
        train_raw,
        holdout_raw,
        synthetic,
        seed=seed,
        policy=policy,
        quiet=quiet,
        generator=spec,
        **DEMO_ROLES,  # type: ignore[arg-type]
    )
    inputs = dict(result.inputs)
    for role, label in (
        ("train", "bundled Adult sample (train half)"),
        ("holdout", "bundled Adult sample (holdout half)"),
        ("synthetic", _generated_by(spec)),
    ):
        inputs[role] = {**inputs[role], "path": label}
    return replace(result, inputs=inputs)


def _generated_by(spec: GeneratorSpec) -> str:
    if spec.name in list_generators():
        return f"generated by the built-in '{spec.name}' generator"
    return f"generated by the generator '{spec.name}'"


def write_outputs(
    result: AuditResult, out_dir: str | os.PathLike[str], *, command: str | None = None
) -> dict[str, Path]:
    """Write ``results.json`` and ``report.html`` into ``out_dir``, all or nothing."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{out}: cannot create the output folder ({e.strerror or type(e).__name__})") from None
    d = result.to_dict()
    payloads = {"results.json": dumps_json(d), "report.html": render_html(d, command=command)}
    temps: dict[str, str] = {}
    moved: list[Path] = []
    try:
        for name, text in payloads.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            temps[name] = tmp
        umask = os.umask(0)
        os.umask(umask)
        for name, tmp in temps.items():
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; outputs are ordinary files
            os.replace(tmp, out / name)
            moved.append(out / name)
    except OSError as e:
        # all or nothing: a results.json must never sit next to a report of another run
        for path in [*map(Path, temps.values()), *moved]:
            if os.path.isfile(path):
                os.unlink(path)
        raise InputError(f"{out}: cannot write the outputs ({e.strerror or type(e).__name__})") from None
    return {name: out / name for name in payloads}
