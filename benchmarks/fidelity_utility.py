"""Wall time of the whole fidelity and utility suite on the anonymeter Adult CTGAN release.

Usage::

    python benchmarks/fidelity_utility.py             # 39,084 train / 9,758 holdout / 39,040 synthetic rows
    python benchmarks/fidelity_utility.py --seed 3

Runs every ``fidelity.*`` and ``utility.*`` check in one audit, as ``synthguard audit --target income
--qi age,sex,race,marital,country`` would, and prints the seconds of each check and the total
(loading and typing the three CSV files is timed apart). Checks share fitted models and coded
tables through the audit cache, so the first check that needs them pays for them: with the
default order (alphabetical) ``fidelity.marginal`` computes the per-column statistics that
``fidelity.univariate`` reuses, and ``utility.importance`` fits the four models the other
utility checks reuse. Target: under 60 s on 2 cores. Not run by CI.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import defaultdict
from pathlib import Path

DATA = Path("/work/shared/data/anonymeter_adults")
TARGET_SECONDS = 60.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from synthguard.audit.runner import run_audit, select_checks
    from synthguard.audit.tables import load

    data = load(
        args.data / "train.csv.gz",
        args.data / "control.csv.gz",
        args.data / "syn_ctgan.csv.gz",
        target="income",
        quasi_identifiers=["age", "sex", "race", "marital", "country"],
    )
    t_load = time.perf_counter() - t0
    checks = select_checks(["fidelity.*", "utility.*"])
    t1 = time.perf_counter()
    result = run_audit(data, seed=args.seed, checks=checks)
    total = time.perf_counter() - t1

    per_check: dict[str, float] = defaultdict(float)
    for c in result.checks:
        per_check[c.id.split("[")[0]] += c.seconds
    cpu = platform.processor() or platform.machine()
    print(f"machine: {os.cpu_count()} cores, {cpu}, python {platform.python_version()}")
    print(f"rows: train {len(data.train)}, holdout {len(data.holdout)}, synthetic {len(data.synthetic)}")
    print(f"load and type the three tables: {t_load:6.1f} s (not part of the suite)")
    print(f"{'check':34s} {'seconds':>8s}")
    print("-" * 43)
    for cid, sec in per_check.items():
        print(f"{cid:34s} {sec:8.2f}")
    print("-" * 43)
    status = "ok" if total < TARGET_SECONDS else "OVER TARGET"
    print(f"{'total (fidelity + utility)':34s} {total:8.2f}   target < {TARGET_SECONDS:.0f} s: {status}")
    print()
    for c in result.checks:
        if c.id.startswith("fidelity.marginal[") or c.estimate is None:
            continue
        e, b = c.estimate, c.baseline
        ref = f"reference {b.value:.3f}" if b is not None else ""
        print(f"{c.id:36s} {e.value:.3f} ({e.ci_low:.3f}-{e.ci_high:.3f}) {ref}")
    errors = [c.id for c in result.checks if c.status not in ("ok",)]
    if errors:
        print("not ok:", ", ".join(errors))


if __name__ == "__main__":
    main()
