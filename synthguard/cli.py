"""Command-line interface: a thin click group; every command calls library functions.

Exit codes: 0 pass (or pass with warnings), 1 policy failed, 2 usage or input error,
3 audit incomplete.
"""

from __future__ import annotations

import os
import shlex
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from synthguard import __version__
from synthguard.errors import InputError

EXIT_USAGE = 2
EXIT_INCOMPLETE = 3


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _fail_input(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _guarded(fn: Callable[..., int]) -> Callable[..., None]:
    """Run a command body: InputError → one line and exit 2; anything else → exit 3, no traceback."""

    def wrapper(**kwargs: Any) -> None:
        try:
            code = fn(**kwargs)
        except InputError as e:
            _fail_input(e.one_line())
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as e:  # an internal fault: never a traceback for the user by default
            if os.environ.get("SYNTHGUARD_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"internal error ({type(e).__name__}); the audit is incomplete. "
                "Set SYNTHGUARD_DEBUG=1 for details and report it.",
                err=True,
            )
            sys.exit(EXIT_INCOMPLETE)
        sys.exit(code)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _report(result: Any, out: str, quiet: bool) -> int:
    from synthguard.api import write_outputs
    from synthguard.audit.policy import summary_lines

    command = "synthguard " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else None
    paths = write_outputs(result, out, command=command)
    for line in summary_lines(result):
        click.echo(line, err=True)
    if not quiet:
        for p in paths.values():
            click.echo(str(p))
    return int(result.policy["exit_code"])


_common_options = [
    click.option(
        "--policy",
        default=None,
        metavar="NAME|FILE.toml",
        help="open (default), controlled, internal, or a policy file.",
    ),
    click.option("--seed", type=int, default=None, help="Audit seed (default 0)."),
    click.option(
        "--out",
        "out",
        default=".",
        show_default=True,
        type=click.Path(file_okay=False),
        help="Folder for results.json and report.html.",
    ),
    click.option("--quiet", "-q", is_flag=True, help="No progress and no file list."),
]


def _apply(options: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def deco(f: Any) -> Any:
        for opt in reversed(options):
            f = opt(f)
        return f

    return deco


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synthguard")
def main() -> None:
    """synthguard: privacy attack and audit suite for synthetic tabular data.

    Audits a synthetic release against the real training data and a real holdout: singling out,
    linkability and inference risks (with intervals and baselines), copies of training records,
    and fidelity; writes results.json and report.html and gives a verdict against a policy.

    Exit codes: 0 pass, 1 policy failed, 2 usage or input error, 3 audit incomplete.
    """


@main.command()
@click.option("--train", required=True, metavar="FILE", help="Real table the generator was trained on.")
@click.option(
    "--holdout", required=True, metavar="FILE", help="Real rows of the same population that the generator never saw."
)
@click.option("--synthetic", required=True, metavar="FILE", help="The synthetic table to release.")
@click.option("--schema", default=None, metavar="FILE.toml", help="Column kinds and roles.")
@click.option("--qi", default=None, metavar="COLS", help="Quasi-identifiers, comma-separated.")
@click.option("--sensitive", default=None, metavar="COLS", help="Sensitive columns, comma-separated.")
@click.option("--target", default=None, metavar="COL", help="Target column (for utility).")
@click.option("--sep", default=None, help="CSV field separator (default: detected).")
@click.option(
    "--decimal",
    default=None,
    type=click.Choice([".", ","]),
    help="Decimal mark (default: '.', and ',' when the separator is not ',').",
)
@click.option(
    "--na-values",
    default=None,
    metavar="MARKERS",
    help="Comma-separated markers of a missing value (default: only empty fields). "
    "Use --na-values '?' for the anonymeter Adult files.",
)
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Text encoding of CSV files.")
@click.option(
    "--n-attacks",
    type=int,
    default=None,
    help="Targets or predicates per attack (default 5000, capped by the table sizes).",
)
@click.option(
    "--checks",
    "checks",
    default=None,
    metavar="PATTERNS",
    help="Only these checks (comma-separated glob patterns, see `synthguard checks`).",
)
@click.option(
    "--generator",
    "generator",
    default=None,
    metavar="NAME|module:attr",
    help="The generator that made the release, for the generator-in-the-loop (shadow-model) checks: "
    "a built-in (see `synthguard generators`), package.module:attr (a class or factory), "
    "sdv:<Synthesizer> or synthcity:<plugin>.",
)
@click.option(
    "--generator-param",
    "generator_params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A generator parameter (repeatable). Values: true/false, none, numbers, JSON lists/objects, else text.",
)
@click.option("--shadow-fits", type=int, default=None, help="Generator fits for the shadow-model attacks (default 64).")
@click.option("--shadow-targets", type=int, default=None, help="Shadow-attack targets per table (default 20).")
@click.option(
    "--shadow-features",
    type=click.Choice(["local", "groundhog"]),
    default=None,
    help="Shadow-attack features: read at each target (local, default), or also Groundhog's dataset-level ones.",
)
@click.option("--n-jobs", type=int, default=None, help="Parallel jobs for generator fits and searches (-1: all cores).")
@click.option(
    "--backend",
    type=click.Choice(["loky", "threading", "dask"]),
    default=None,
    help="Where generator fits run: local processes (loky, default), threads, or a Dask cluster.",
)
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT", help="Dask scheduler for --backend dask.")
@click.option(
    "--cache-dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Keep fitted shadow outputs here, so an interrupted audit resumes.",
)
@_apply(_common_options)
@_guarded
def audit(
    train: str,
    holdout: str,
    synthetic: str,
    schema: str | None,
    qi: str | None,
    sensitive: str | None,
    target: str | None,
    sep: str | None,
    decimal: str | None,
    na_values: str | None,
    encoding: str,
    n_attacks: int | None,
    checks: str | None,
    generator: str | None,
    generator_params: tuple[str, ...],
    shadow_fits: int | None,
    shadow_targets: int | None,
    shadow_features: str | None,
    n_jobs: int | None,
    backend: str | None,
    scheduler: str | None,
    cache_dir: str | None,
    policy: str | None,
    seed: int | None,
    out: str,
    quiet: bool,
) -> int:
    """Audit a synthetic table against its training data and a holdout."""
    from synthguard.api import audit as run
    from synthguard.audit.tables import ReadOptions

    spec = _generator_spec(generator, generator_params)
    if sep is not None:
        sep = {"\\t": "\t", "tab": "\t"}.get(sep, sep)
        if len(sep) != 1:
            raise InputError("--sep must be a single character (or 'tab')")
    na = tuple(_split(na_values) or []) if na_values is not None else ("",)
    if na_values is not None and "" not in na:
        na = ("", *na)
    options = ReadOptions(sep=sep, decimal=decimal, na_values=na, encoding=encoding)
    result = run(
        train,
        holdout,
        synthetic,
        schema=schema,
        quasi_identifiers=_split(qi),
        sensitive=_split(sensitive),
        target=target,
        seed=seed,
        policy=policy,
        n_attacks=n_attacks,
        checks=_split(checks),
        read_options=options,
        quiet=quiet,
        settings={
            "shadow_fits": shadow_fits,
            "shadow_targets": shadow_targets,
            "shadow_features": shadow_features,
            "n_jobs": n_jobs,
            "backend": backend,
            "scheduler": scheduler,
            "cache_dir": cache_dir,
        },
        **({"generator": spec} if spec is not None else {}),
    )
    return _report(result, out, quiet)


def _generator_spec(name: str | None, params: tuple[str, ...]) -> Any:
    """``--generator`` and ``--generator-param`` as a checked GeneratorSpec (None without a generator)."""
    from synthguard.generators.base import load_generator_spec

    if name is None:
        if params:
            raise InputError("--generator-param needs --generator")
        return None
    return load_generator_spec(name, list(params))


def _builtin_names() -> str:
    from synthguard.generators.base import list_generators as lg

    return ", ".join(lg())


@main.command()
@click.option(
    "--generator",
    default="independent",
    show_default=True,
    metavar="NAME|module:attr",
    help=f"Generator that makes the release: a built-in ({_builtin_names()}) or package.module:attr.",
)
@click.option(
    "--generator-param",
    "generator_params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A generator parameter (repeatable), e.g. --generator-param min_samples_leaf=10.",
)
@_apply(_common_options)
@_guarded
def demo(
    generator: str, generator_params: tuple[str, ...], policy: str | None, seed: int | None, out: str, quiet: bool
) -> int:
    """Audit a release of the bundled UCI Adult sample made by a generator.

    'independent' (the default) makes a harmless release; 'noisy-copy' and 'bootstrap' make
    deliberately leaky ones, which fail; 'gaussian-copula', 'cart' and 'bayesian-network' are
    realistic generators. `synthguard generators` describes each.
    """
    from synthguard.api import demo as run_demo

    spec = _generator_spec(generator, generator_params)
    result = run_demo(spec, seed=seed, policy=policy, quiet=quiet)
    return _report(result, out, quiet)


@main.command("checks")
@_guarded
def list_checks() -> int:
    """List the registered checks with one line of help each."""
    from synthguard.audit.runner import select_checks

    for cls in select_checks():
        click.echo(f"{cls.id:28s} {cls.help}")
    return 0


@main.command("generators")
@_guarded
def list_generators() -> int:
    """List the built-in generators."""
    from synthguard.generators.base import list_generators as lg

    for name, text in lg().items():
        click.echo(f"{name:18s} {text}")
    return 0


@main.command("policies")
@_guarded
def list_policies() -> int:
    """List the built-in policies and their rationale."""
    from synthguard.audit.policy import BUILTIN_POLICIES, load_policy

    for name in BUILTIN_POLICIES:
        p = load_policy(name)
        click.echo(f"{name:11s} {p.title}: {p.rationale}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    main()

__all__ = ["main"]
_ = Path
