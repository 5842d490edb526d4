"""Wall time of the generator-in-the-loop audit: ``synthguard audit … --generator cart`` on 2,000 Adult rows.

A 2,000-row training sample and a 2,000-row holdout from the bundled Adult sample; the release is
made by the built-in ``cart`` generator; the shadow-model membership and attribute attacks run with
64 fits and 20 training targets (plus 20 holdout targets), on both cores. The script runs the
command line as a user would, in a subprocess, and prints the wall time of the whole audit and of
each generator-in-the-loop check, next to the floor: the generator fits alone, timed in the same
run. Run: ``python benchmarks/shadow.py [--fits 64] [--targets 20] [--features local|groundhog]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from synthguard.api import demo_data
from synthguard.audit.tables import from_frames
from synthguard.generators.base import get_generator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fits", type=int, default=64)
    ap.add_argument("--targets", type=int, default=20)
    ap.add_argument("--generator", default="cart")
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--features", choices=["local", "groundhog"], default="local")
    args = ap.parse_args()
    train, holdout = demo_data(0)
    rng = np.random.default_rng(0)
    train = train.iloc[np.sort(rng.choice(len(train), args.rows, replace=False))].reset_index(drop=True)
    holdout = holdout.iloc[np.sort(rng.choice(len(holdout), args.rows, replace=False))].reset_index(drop=True)
    typed = from_frames(train, holdout, train)
    synthetic = get_generator(args.generator, seed=0).fit(typed.train).sample(len(train))  # also warms up
    t_gen = np.inf
    for seed in (1, 2, 3):
        t0 = time.perf_counter()
        get_generator(args.generator, seed=seed).fit(typed.train).sample(len(train))
        t_gen = min(t_gen, time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        train.to_csv(d / "train.csv", index=False)
        holdout.to_csv(d / "holdout.csv", index=False)
        synthetic.to_csv(d / "synthetic.csv", index=False)
        cmd = [
            sys.executable,
            "-m",
            "synthguard.cli",
            "audit",
            "--train",
            str(d / "train.csv"),
            "--holdout",
            str(d / "holdout.csv"),
            "--synthetic",
            str(d / "synthetic.csv"),
            "--qi",
            "age,sex,race,native_country,marital_status",
            "--sensitive",
            "income",
            "--target",
            "income",
            "--generator",
            args.generator,
            "--out",
            str(d / "out"),
            "-q",
        ]
        env = dict(
            os.environ,
            SYNTHGUARD_SHADOW_FITS=str(args.fits),
            SYNTHGUARD_SHADOW_TARGETS=str(args.targets),
            SYNTHGUARD_SHADOW_FEATURES=args.features,
            SYNTHGUARD_N_JOBS="2",
        )
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        print(proc.stderr.strip().splitlines()[0] if proc.stderr.strip() else f"exit {proc.returncode}")
        result = json.loads((d / "out" / "results.json").read_text())
    print(
        f"machine: {os.cpu_count()} logical cores; {args.rows} training and {args.rows} holdout rows; "
        f"generator {args.generator} (one fit+sample {t_gen:.2f} s); shadow features: {args.features}"
    )
    print(f"{'check':40s} {'seconds':>8s}   result")
    shadow_seconds = 0.0
    for c in result["checks"]:
        if c["id"] in ("membership.shadow", "membership.shadow_release") or c["id"].startswith("attribute.shadow"):
            e = c["estimate"]
            sec = result["timings"]["checks"][c["id"]]
            if c["id"] != "membership.shadow_release":  # a second result of membership.shadow, same time
                shadow_seconds += sec
            print(f"{c['id']:40s} {sec:8.1f}   {e['value']:.3f} [{e['ci_low']:.3f}, {e['ci_high']:.3f}]")
    print(f"{'whole audit (all checks, one process)':40s} {wall:8.1f}   verdict {result['policy']['verdict']}")
    shadow = next(c for c in result["checks"] if c["id"] == "membership.shadow")["details"]
    w = shadow["worst_target"]
    q = shadow["auc_quantiles"]
    print(
        f"per-target AUC (training targets): median {q['0.5']:.3f}, 90th percentile {q['0.9']:.3f}, "
        f"isolated targets' mean {shadow['isolated_mean_auc']:.3f}; worst target ({w['kind']}) AUC {w['auc']:.3f}, "
        f"TPR at FPR 0 {w['tpr_at_fpr0']:.2f}; largest ε lower bound {shadow['worst_epsilon_lb']:.2f}"
    )
    print(f"threat model: {shadow['threat_model']['description']}")
    print("policy rules broken by the whole audit:")
    for b in result["policy"]["broken_rules"]:
        obs = "n/a" if b["observed"] is None else f"{b['observed']:.3g}"
        print(f"  {b['severity']}: {b['check']}: {b['rule']} (observed {obs})")
    n_attr = max(8, args.fits // 2)
    cores = os.cpu_count() or 1
    # the floor: the generator fits themselves, spread over the cores (measured above, same run)
    floor = (args.fits + n_attr) * t_gen / cores
    print(f"{args.fits} shadow fits for membership, {n_attr} for attribute inference")
    print(
        f"floor (those fits alone, {cores} cores): {floor:.1f} s; generator-in-the-loop checks "
        f"{shadow_seconds:.1f} s = {shadow_seconds / floor:.2f}x the floor"
    )


if __name__ == "__main__":
    main()
