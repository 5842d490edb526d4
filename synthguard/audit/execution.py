"""Running many generator fits: in parallel through joblib, on a Dask cluster, resumable from a cache.

Shadow modelling fits the user's generator dozens of times. Every fit is an independent task
(its data, its seed), so the results do not depend on where or in which order the tasks run:
locally with joblib's ``loky`` processes, or on a Dask cluster through joblib's Dask backend
(``backend="dask"``, ``scheduler="tcp://host:port"``). Finished outputs are written to a cache
folder as Parquet, keyed by the generator, its parameters, the seed, the output size and a hash
of the training data, so an interrupted audit resumes where it stopped. Nothing is unpickled
from the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthguard.audit.schema import Schema
from synthguard.audit.tables import conform
from synthguard.errors import InputError

__all__ = ["FitTask", "fit_and_sample", "run_fits"]


@dataclass(frozen=True)
class FitTask:
    """One generator fit: train on ``data`` with ``seed``, return ``n`` rows."""

    data: pd.DataFrame
    seed: int
    n: int
    label: str


def fit_and_sample(spec: Any, schema: Schema, task: FitTask) -> pd.DataFrame:
    """Fit a fresh generator from ``spec`` and return its output typed like the audit's tables."""
    generator = spec.make(task.seed)
    generator.fit(task.data.copy())
    return conform(generator.sample(task.n), schema, task.label)


def _data_hash(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def cache_key(spec: Any, task: FitTask) -> str:
    desc = json.dumps(spec.describe(), sort_keys=True, default=str)
    raw = f"{desc}|{task.seed}|{task.n}|{_data_hash(task.data)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].astype("string")
    fd, tmp = tempfile.mkstemp(prefix=".part.", dir=path.parent)
    os.close(fd)
    out.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _read_parquet(path: Path, schema: Schema) -> pd.DataFrame:
    df = pd.read_parquet(path)
    return conform(df, schema, str(path))


@contextmanager
def _backend(backend: str, scheduler: str) -> Iterator[None]:
    import joblib

    if backend != "dask":
        with joblib.parallel_config(backend=backend):
            yield
        return
    if not scheduler:
        raise InputError("--backend dask needs --scheduler tcp://HOST:PORT (the address of a Dask scheduler)")
    try:
        from distributed import Client
    except ImportError:
        raise InputError("the dask backend needs `pip install synthguard[dask]`") from None
    try:
        client = Client(scheduler, timeout=30)
    except OSError as e:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({type(e).__name__})") from None
    try:
        with joblib.parallel_config(backend="dask"):
            yield
    finally:
        client.close()


class _Progress:
    """Counts fits on stderr, a bar redrawn in place; silent when stderr is not a terminal (as the runner's)."""

    def __init__(self, total: int, quiet: bool, stream: Any = None) -> None:
        self.total, self.done = total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()

    def step(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        self.stream.write(f"\r  generator fits [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def run_fits(
    spec: Any,
    schema: Schema,
    tasks: Sequence[FitTask],
    *,
    n_jobs: int = 1,
    backend: str = "loky",
    scheduler: str = "",
    cache_dir: str = "",
    quiet: bool = True,
) -> list[pd.DataFrame]:
    """Every task's typed output, in task order, computed where the backend says and cached if asked."""
    import joblib

    results: list[pd.DataFrame | None] = [None] * len(tasks)
    paths: list[Path | None] = [None] * len(tasks)
    progress = _Progress(len(tasks), quiet)
    if cache_dir:
        root = Path(cache_dir)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"{root}: cannot create the cache folder ({e.strerror or type(e).__name__})") from None
        for i, t in enumerate(tasks):
            p = root / f"{cache_key(spec, t)}.parquet"
            paths[i] = p
            if p.is_file():
                results[i] = _read_parquet(p, schema)
                progress.step()
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        with _backend(backend, scheduler):
            runner = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
            outputs = runner(joblib.delayed(fit_and_sample)(spec, schema, tasks[i]) for i in todo)
            for i, out in zip(todo, outputs, strict=True):
                results[i] = out
                dest = paths[i]
                if dest is not None:
                    _write_parquet(out, dest)
                progress.step()
    return [r for r in results if r is not None]
