"""synthguard's singling-out and linkability against the values anonymeter published.

anonymeter's example notebook (statice/anonymeter, notebooks/anonymeter_example.ipynb) reports, on
its Adult CTGAN release, two runs each of:

* univariate singling out, 500 attacks: 0.0137 [0, 0.034] and 0.0250 [0, 0.050];
* linkability, 2,000 attacks, 10 neighbours, groups (type_employer, education, hr_per_week,
  capital_loss, capital_gain) and (race, sex, fnlwgt, age, country): 0.0 [0, 0.0019] and
  0.0010 [0, 0.0052].

This script runs synthguard's checks in anonymeter's own mode (its 39,084 training rows against
its 9,758 control rows, no size correction) over several seeds and checks that each interval
overlaps the published ones; then it prints synthguard's size-corrected singling-out risk (train
subsampled to the control's size), which the report uses. Data: ``../shared/data/anonymeter_adults``.
Run: ``python benchmarks/anonymeter_validation.py [--seeds 5]``.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)

from synthguard.audit.runner import Settings, run_audit, select_checks  # noqa: E402
from synthguard.audit.tables import load  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "anonymeter_adults"
PUBLISHED = {
    "singling_out.univariate": [(0.0137, 0.0, 0.034), (0.0250, 0.0, 0.050)],
    "linkage.linkability": [(0.0, 0.0, 0.0019), (0.0010, 0.0, 0.0052)],
}
LINK = "type_employer,education,hr_per_week,capital_loss,capital_gain|race,sex,fnlwgt,age,country"


def _overlaps(lo: float, hi: float, published: list[tuple[float, float, float]]) -> bool:
    return all(lo <= p_hi and p_lo <= hi for _, p_lo, p_hi in published)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    data = load(args.data / "train.csv.gz", args.data / "control.csv.gz", args.data / "syn_ctgan.csv.gz")

    def run(check: str, seed: int, **kw: object):  # type: ignore[no-untyped-def]
        return run_audit(data, seed=seed, checks=select_checks([check]), settings=Settings(**kw)).checks[0]  # type: ignore[arg-type]

    print("published (anonymeter notebook):")
    for check, vals in PUBLISHED.items():
        print(f"  {check:26s} " + "; ".join(f"{v:.4f} [{lo:.4f}, {hi:.4f}]" for v, lo, hi in vals))
    print(
        f"\nsynthguard in anonymeter's mode (train {len(data.train)} vs control {len(data.holdout)}, "
        "no size correction):"
    )
    all_ok = True
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        so = run("singling_out.univariate", seed, n_attacks=500, singling_out_sizes="as-is")
        li = run("linkage.linkability", seed, n_attacks=2000, link_neighbors=10, link_columns=LINK)
        line = []
        for r in (so, li):
            e = r.estimate
            ok = _overlaps(e.ci_low, e.ci_high, PUBLISHED[r.id])
            all_ok &= ok
            line.append(
                f"{r.id.split('.')[1]} {e.value:.4f} [{e.ci_low:.4f}, {e.ci_high:.4f}] "
                + ("overlaps" if ok else "DISJOINT")
            )
        print(f"  seed {seed}: " + "; ".join(line) + f"  ({time.perf_counter() - t0:.1f} s)")
    print("\nsynthguard's size-corrected singling out (train subsampled to the control's size), as in the report:")
    for seed in range(args.seeds):
        r = run("singling_out.univariate", seed, n_attacks=500)
        e, d = r.estimate, r.details
        print(
            f"  seed {seed}: {e.value:.4f} [{e.ci_low:.4f}, {e.ci_high:.4f}]  (attack {d['attack']['rate']:.3f}, "
            f"control {d['control']['rate']:.3f}, tables of {d['rows_compared']['train']} rows)"
        )
    print(f"\nall intervals overlap the published ones: {all_ok}")


if __name__ == "__main__":
    main()
