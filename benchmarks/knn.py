"""Exact k-NN on the anonymeter Adult release: synthguard against the BLAS floor and scikit-learn.

Usage::

    python benchmarks/knn.py            # full tables (39,040 synthetic x 39,084 train rows)
    python benchmarks/knn.py --quick    # 5,000-row subsamples

Every method runs in a fresh subprocess per repetition (methods interleaved, best of 3), which
reports its wall time (the search only: no imports, no loading) and its memory: "peak" is the
process's peak resident set size during the search (``VmHWM`` of ``/proc/self/status``, reset
just before the search through ``/proc/self/clear_refs``; the whole process: interpreter,
libraries, both input matrices), "extra" that peak minus the resident size just before the
search, i.e. what the search itself needed. Where the peak cannot be reset, ``ru_maxrss`` is
used and "extra" is a lower bound. Resident-set measurement in subprocesses is used rather than
tracemalloc because it also sees memory that BLAS and scikit-learn's OpenMP code allocate.

Methods:

* ``floor``: only the float32 products ``S_block @ T.T`` over the same blocks of synthetic rows
  as synthguard uses, written into one reused buffer (no selection): the hardware floor.
* ``synthguard``: :func:`synthguard.core.neighbors.knn` (exact: float64 distances, ties by index).
* ``sklearn``: ``NearestNeighbors(algorithm="brute", n_neighbors=k).fit(train).kneighbors(synthetic)``
  on the same float32 matrices.

Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path("/work/shared/data/anonymeter_adults")
BLOCK_ELEMENTS = 2**25  # as synthguard.core.neighbors: 128 MB of float32 per block
TARGET_FLOOR_RATIO = 1.5
TARGET_PEAK_MB = 1024


def _status_mb(field: str) -> float | None:
    """A memory field of /proc/self/status (Linux) in MB, or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the process's peak resident set size (Linux >= 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_mb() -> float:
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    # ru_maxrss is in kilobytes on Linux, bytes on macOS
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def worker(method: str, k: int, folder: Path) -> None:
    """Run one method once in this (fresh) process and print a JSON line."""
    from sklearn.neighbors import NearestNeighbors

    from synthguard.core.neighbors import knn

    syn = np.load(folder / "synthetic.npy")
    train = np.load(folder / "train.npy")
    _ = syn[:64] @ train[:64].T  # start the BLAS threads outside the timing
    reset = _reset_peak()
    base = _status_mb("VmRSS") if reset else _peak_mb()
    t0 = time.perf_counter()
    if method == "floor":
        rows = max(1, BLOCK_ELEMENTS // len(train))
        buf = np.empty((rows, len(train)), dtype=np.float32)
        for lo in range(0, len(syn), rows):
            hi = min(lo + rows, len(syn))
            np.matmul(syn[lo:hi], train.T, out=buf[: hi - lo])
        result = None
    elif method == "synthguard":
        result = knn(syn, train, k)
    elif method == "sklearn":
        result = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(train).kneighbors(syn)
    else:
        raise SystemExit(f"unknown method {method!r}")
    seconds = time.perf_counter() - t0
    peak = _peak_mb()
    if result is not None:
        np.save(folder / f"{method}_k{k}_dist.npy", np.asarray(result[0], dtype=np.float64))
        np.save(folder / f"{method}_k{k}_idx.npy", np.asarray(result[1], dtype=np.int64))
    print(json.dumps({"seconds": seconds, "base_mb": base, "peak_mb": peak, "reset": reset}))


def machine_facts() -> list[str]:
    import sklearn

    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    facts = [
        f"cpu: {model}; logical cores: {os.cpu_count()}",
        f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}",
    ]
    try:
        from threadpoolctl import threadpool_info

        _ = np.ones((2, 2)) @ np.ones((2, 2))
        for pool in threadpool_info():
            facts.append(
                f"{pool.get('user_api')}: {pool.get('internal_api')} {pool.get('version')} "
                f"({pool.get('architecture', '?')}, {pool.get('num_threads')} threads)"
            )
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        facts.append("BLAS: see numpy.show_config() (threadpoolctl not installed)")
    return facts


def prepare(folder: Path, quick: bool) -> tuple[int, int, int]:
    from synthguard.audit.tables import load
    from synthguard.core.encoding import encode_tables

    data = load(DATA / "train.csv.gz", DATA / "control.csv.gz", DATA / "syn_ctgan.csv.gz")
    enc = encode_tables(data)
    syn, train = enc.synthetic, enc.train
    if quick:
        rng = np.random.default_rng(0)
        syn = syn[np.sort(rng.choice(len(syn), 5000, replace=False))]
        train = train[np.sort(rng.choice(len(train), 5000, replace=False))]
    np.save(folder / "synthetic.npy", np.ascontiguousarray(syn))
    np.save(folder / "train.npy", np.ascontiguousarray(train))
    return len(syn), len(train), enc.encoder.width


def run_worker(method: str, k: int, folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", method, "--k", str(k), "--folder", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def agreement(folder: Path, k: int) -> str:
    """Distances of synthguard against sklearn, and whether differing indices are ties."""
    d1 = np.load(folder / f"synthguard_k{k}_dist.npy")
    i1 = np.load(folder / f"synthguard_k{k}_idx.npy")
    d2 = np.load(folder / f"sklearn_k{k}_dist.npy")
    i2 = np.load(folder / f"sklearn_k{k}_idx.npy")
    far = d1 > 1e-6
    rel = float((np.abs(d1 - d2)[far] / d1[far]).max()) if far.any() else 0.0
    rows = np.flatnonzero((i1 != i2).any(axis=1))
    # a differing index is a tie when both lists hold the same distances position by position
    not_ties = int(sum(not np.allclose(d1[r], d2[r], rtol=1e-9, atol=1e-6) for r in rows))
    return (
        f"k={k}: max |d_synthguard - d_sklearn| = {np.abs(d1 - d2).max():.1e} (relative {rel:.1e} where d > 1e-6); "
        f"{len(rows)} of {len(d1):,} rows list other indices, {not_ties} of them not at equal distances"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5,000-row subsamples of train and synthetic")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--k", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.k, Path(args.folder))
        return

    print("machine")
    for fact in machine_facts():
        print("  " + fact)
    with tempfile.TemporaryDirectory(prefix="synthguard-knn-") as tmp:
        folder = Path(tmp)
        n_syn, n_train, width = prepare(folder, args.quick)
        print(f"data: anonymeter Adult, synthetic (CTGAN) {n_syn:,} x train {n_train:,} rows, width {width} (encoded)")
        print(f"timing: best of {args.repeats}, each run in a fresh subprocess, methods interleaved")
        print()
        cases = [("floor", 1), ("synthguard", 1), ("sklearn", 1), ("synthguard", 5), ("sklearn", 5)]
        runs: dict[tuple[str, int], list[dict[str, float]]] = {c: [] for c in cases}
        for _ in range(args.repeats):
            for case in cases:
                runs[case].append(run_worker(case[0], case[1], folder))
        best = {c: min(r["seconds"] for r in runs[c]) for c in cases}
        peak = {c: max(r["peak_mb"] for r in runs[c]) for c in cases}
        extra = {c: max(r["peak_mb"] - r["base_mb"] for r in runs[c]) for c in cases}
        header = f"{'method':<22}{'seconds':>9}{'÷ floor':>9}{'÷ sklearn':>11}{'peak MB':>9}{'extra MB':>10}  target"
        print(header)
        print("-" * len(header))
        floor = best[("floor", 1)]
        for method, k in cases:
            name = "BLAS floor (products)" if method == "floor" else f"{method} k={k}"
            ratio = best[(method, k)] / floor
            vs_sk = best[(method, k)] / best[("sklearn", k)] if method != "floor" else float("nan")
            verdict = ""
            if method == "synthguard" and args.quick:
                verdict = "n/a (quick)"
            elif method == "synthguard":
                ok = ratio <= TARGET_FLOOR_RATIO and vs_sk <= 1.0 and peak[(method, k)] < TARGET_PEAK_MB
                verdict = "ok" if ok else "MISSED"
            vs_text = "" if method == "floor" else f"{vs_sk:.2f}"
            print(
                f"{name:<22}{best[(method, k)]:>9.2f}{ratio:>9.2f}{vs_text:>11}"
                f"{peak[(method, k)]:>9.0f}{extra[(method, k)]:>10.0f}  {verdict}"
            )
        print()
        print(
            f"targets (full tables only): synthguard <= {TARGET_FLOOR_RATIO} x floor, no slower than sklearn brute, "
            f"peak < {TARGET_PEAK_MB} MB"
        )
        if not all(r.get("reset", False) for rs in runs.values() for r in rs):
            print("note: the peak could not be reset here; 'extra' is a lower bound")
        print("agreement with sklearn (which returns float32-precision distances for float32 input):")
        for k in (1, 5):
            print("  " + agreement(folder, k))


if __name__ == "__main__":
    main()
