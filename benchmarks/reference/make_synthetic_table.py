#!/usr/bin/env python
"""Write a tiny synthetic long-format blackbox table (+ JSON sidecar) for the reference runner.

Same layout as ``mfbench.blackbox.export.export_long_format`` writes: one row per
(configuration, seed, fidelity) with the hyperparameter columns, ``seed`` (table seed
index 0..S-1), the fidelity column ``epoch`` and the objectives ``metric_valid_error``,
``metric_runtime`` (time of this epoch) and ``metric_elapsed_time`` (cumulative).
Needs only numpy, pandas and pyarrow (runs with /work/st-venv/bin/python or any venv);
it does not import mfbench.

    python make_synthetic_table.py --out /tmp/synth/table.parquet               # 200 of 6x6x6 (incomplete grid)
    python make_synthetic_table.py --out /tmp/synth/grid.parquet --choices 5 5 8  # complete 200-config grid
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd


def make_table(choices_per_hp, num_configs, num_seeds, max_epoch, rng_seed, shuffle_rows):
    rng = np.random.default_rng(rng_seed)
    hps = []
    for j, k in enumerate(choices_per_hp):
        hps.append({"name": f"hp_x{j}", "type": "categorical", "choices": [f"op{j}_{i}" for i in range(k)]})
    grid = np.stack(np.meshgrid(*[np.arange(k) for k in choices_per_hp], indexing="ij"), -1).reshape(-1, len(choices_per_hp))
    if num_configs is None or num_configs >= len(grid):
        idx = np.arange(len(grid))
    else:
        idx = np.sort(rng.choice(len(grid), size=num_configs, replace=False))
    codes = grid[idx]
    n = len(codes)
    # Per-choice effects -> final error; learning speed and epoch time per config.
    effects = [rng.normal(0.0, 0.04, size=k) for k in choices_per_hp]
    final = 0.25 + sum(effects[j][codes[:, j]] for j in range(len(choices_per_hp)))
    final = np.clip(final, 0.05, 0.8)
    tau = rng.uniform(2.0, 12.0, size=n)
    epoch_time = rng.uniform(10.0, 60.0, size=n)
    epochs = np.arange(1, max_epoch + 1)
    rows = []
    for c in range(n):
        for s in range(num_seeds):
            noise = rng.normal(0.0, 0.01, size=max_epoch)
            err = final[c] + (0.9 - final[c]) * np.exp(-epochs / tau[c]) + noise
            runtime = epoch_time[c] * (1.0 + 0.02 * rng.standard_normal(max_epoch)).clip(0.5)
            elapsed = np.cumsum(runtime)
            for e in range(max_epoch):
                row = {hp["name"]: hp["choices"][codes[c, j]] for j, hp in enumerate(hps)}
                row.update(seed=s, epoch=int(epochs[e]), metric_valid_error=float(np.clip(err[e], 0.0, 1.0)),
                           metric_runtime=float(runtime[e]), metric_elapsed_time=float(elapsed[e]))
                rows.append(row)
    df = pd.DataFrame(rows)
    if shuffle_rows:
        df = df.sample(frac=1.0, random_state=rng_seed).reset_index(drop=True)
    sidecar = {
        "format_version": 1,
        "hyperparameters": hps,
        "fidelity": "epoch",
        "fidelity_values": [int(e) for e in epochs],
        "objectives": ["metric_valid_error", "metric_runtime", "metric_elapsed_time"],
        "num_seeds": num_seeds,
        "metric": "metric_valid_error",
        "mode": "min",
        "elapsed_time": "metric_elapsed_time",
        "blackbox": {"kind": "synthetic", "choices_per_hp": list(choices_per_hp), "rng_seed": rng_seed},
    }
    return df, sidecar


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--choices", type=int, nargs="+", default=[6, 6, 6], help="number of choices per categorical hp")
    p.add_argument("--num-configs", type=int, default=200, help="keep this many configs of the grid (all if larger)")
    p.add_argument("--num-seeds", type=int, default=3)
    p.add_argument("--max-epoch", type=int, default=27)
    p.add_argument("--rng-seed", type=int, default=0)
    p.add_argument("--shuffle-rows", action="store_true", help="shuffle the row order (tests first-appearance ordering)")
    a = p.parse_args(argv)
    df, sidecar = make_table(a.choices, a.num_configs, a.num_seeds, a.max_epoch, a.rng_seed, a.shuffle_rows)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(a.out, engine="pyarrow", index=False)
    a.out.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {a.out} ({len(df)} rows, {len(df) // (a.num_seeds * a.max_epoch)} configs)")


if __name__ == "__main__":
    main()
