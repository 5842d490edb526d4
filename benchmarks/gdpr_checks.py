"""Key-based disclosure checks (CAP, DiSCO, repU, unique match, k-anonymity) on the Adult release.

Usage::

    python benchmarks/gdpr_checks.py                 # syn_ctgan and a copy of train
    python benchmarks/gdpr_checks.py --repeat 5      # best of 5 timings

Data: ``/work/shared/data/anonymeter_adults/`` (``train.csv.gz``, ``control.csv.gz`` as holdout,
``syn_ctgan.csv.gz``), loaded with :func:`synthguard.audit.tables.load`, quasi-identifiers
age, sex, race, marital, country and sensitive column income (as in the README's example).

For each release it prints every check's estimate, baseline and excess, and two timings per
check: "alone" is the check run by itself with an empty per-audit cache (it pays for coding the
keys), "shared" is its time inside one audit of all five checks (keys coded once). Wall time,
best of ``--repeat`` runs. Not run by CI.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from synthguard.attacks.cap import CAP, DiSCO
from synthguard.attacks.kanonymity import KAnonymity
from synthguard.attacks.record_linkage import RepU, UniqueMatch
from synthguard.audit.runner import Check, run_audit
from synthguard.audit.tables import AuditData, load

DATA = Path("/work/shared/data/anonymeter_adults")
CHECKS: list[type[Check]] = [CAP, DiSCO, RepU, UniqueMatch, KAnonymity]
QI = ["age", "sex", "race", "marital", "country"]


def _load(synthetic: Path) -> AuditData:
    return load(DATA / "train.csv.gz", DATA / "control.csv.gz", synthetic, quasi_identifiers=QI, sensitive=["income"])


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def report(label: str, data: AuditData, repeat: int) -> None:
    print(f"\n== {label}: train {len(data.train)}, holdout {len(data.holdout)}, synthetic {len(data.synthetic)}")
    result = run_audit(data, seed=0, checks=CHECKS)
    shared = {c.id: c.seconds for c in result.checks}
    alone = {cls.id: _best(partial(run_audit, data, seed=0, checks=[cls]), repeat) for cls in CHECKS}
    for c in result.checks:
        e, b, d = c.estimate, c.baseline, c.details
        assert e is not None and b is not None, c.id
        base_id = c.id.split("[")[0]
        print(
            f"{c.id:32s} {e.value:.4f} ({e.ci_low:.4f}-{e.ci_high:.4f})  baseline {b.value:.4f}  "
            f"excess {d['excess']:+.4f} ({d['excess_ci_low']:+.4f} to {d['excess_ci_high']:+.4f})  "
            f"alone {alone[base_id]:.3f}s  shared {shared[c.id]:.3f}s"
        )
        if base_id == "attribute.cap":
            print(
                f"{'':32s} CAP train {d['cap_train']:.4f}, holdout {d['cap_holdout']:.4f}, random guess "
                f"{d['cap_random_guess']:.4f}; matched-only {d['cap_matched_train']:.4f} / "
                f"{d['cap_matched_holdout']:.4f}; match rate {d['match_rate_train']:.4f} / "
                f"{d['match_rate_holdout']:.4f}; CAP where the key is unique in the release "
                f"{d['cap_where_synthetic_unique_train']:.4f} / {d['cap_where_synthetic_unique_holdout']:.4f}"
            )
        if base_id == "linkage.repu":
            print(f"{'':32s} UiO train {d['uio_train']:.4f}, holdout {d['uio_holdout']:.4f}")
        if base_id == "singling_out.k_anonymity":
            for row in d["by_k"]:
                print(
                    f"{'':32s} k={row['k']:>2}: train {row['share_train']:.4f}, holdout {row['share_holdout']:.4f}, "
                    f"excess {row['excess']:+.4f} ({row['excess_ci_low']:+.4f} to {row['excess_ci_high']:+.4f}); "
                    f"{row['share_records_in_small_classes']:.4f} of records in classes < k"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    ctgan = _load(DATA / "syn_ctgan.csv.gz")
    copy = _load(DATA / "train.csv.gz")
    print(f"loading: {time.perf_counter() - t0:.1f}s")
    report("syn_ctgan", ctgan, args.repeat)
    report("copy of train", copy, args.repeat)


if __name__ == "__main__":
    main()
