#!/usr/bin/env python
"""Run all 13 reference methods once on a table and print a timing table (smoke test).

    /work/st-venv/bin/python benchmarks/reference/smoke_all_methods.py \
        --table /tmp/synth/table.parquet --seed 0 --max-wallclock-time 3600 --outdir /tmp/st-smoke

Each method runs in its own process (``syne_tune_runner.py``); a failure is reported
and the loop goes on. Exit status 1 if any method failed.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from syne_tune_runner import METHODS  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--table", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-workers", type=int, default=4)
    p.add_argument("--max-wallclock-time", type=float, default=3600)
    p.add_argument("--outdir", type=Path, required=True)
    p.add_argument("--methods", nargs="*", default=list(METHODS))
    p.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="passed on to the runner")
    a = p.parse_args(argv)
    rows, failed = [], []
    for m in a.methods:
        out = a.outdir / f"{m}-{a.seed}.parquet"
        cmd = [sys.executable, str(HERE / "syne_tune_runner.py"), "--table", a.table, "--method", m,
               "--seed", str(a.seed), "--n-workers", str(a.n_workers),
               "--max-wallclock-time", str(a.max_wallclock_time), "--out", str(out), *a.extra]
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            failed.append(m)
            print(f"{m}: FAILED rc={r.returncode}\n{r.stderr[-3000:]}", file=sys.stderr)
            continue
        s = json.loads(out.with_suffix(".json").read_text())
        if r.stderr.strip():
            print(f"--- {m} stderr ---\n{r.stderr.strip()[-1500:]}", file=sys.stderr)
        rows.append((m, s["real_time_s"], wall, s["final_best"], s["num_trials"], s["num_results"],
                     s["max_st_tuner_time"], s["num_nn_substitutions"], s["restrict_configurations"]))
    print(f"{'method':18s} {'tuner_s':>8s} {'process_s':>9s} {'final_best':>10s} {'trials':>6s} {'results':>7s} "
          f"{'max_st_time':>11s} {'nn_subs':>7s} restrict")
    for m, rt, wall, best, nt, nr, mst, nn, rc in rows:
        print(f"{m:18s} {rt:8.2f} {wall:9.2f} {best:10.4f} {nt:6d} {nr:7d} {mst:11.1f} {nn:7d} {rc}")
    if failed:
        print("FAILED:", " ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
