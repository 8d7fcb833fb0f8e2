"""Time ``mfbench.analysis`` on many synthetic finished runs.

Writes ``--benchmarks x --methods x --seeds`` runs (default 10 x 10 x 20 = 2000) of
``--rows`` results each in the result format of :mod:`mfbench.results.store` into a
temporary folder (not timed), then times loading, aggregation, ranks, and the whole
command with and without figures.

    python benchmarks/analysis_speed.py --benchmarks 10 --methods 10 --seeds 20 --rows 1000
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's mfbench


def write_runs(root: Path, benchmarks: int, methods: int, seeds: int, rows: int) -> int:
    from mfbench.results.store import RunDirectory

    rng = np.random.default_rng(0)
    count = 0
    for b in range(benchmarks):
        for m in range(methods):
            for s in range(seeds):
                times = np.sort(rng.uniform(0, 3600, rows))
                values = rng.normal(1.0 - 0.02 * m, 0.3, rows)
                columns = {
                    "trial_id": np.arange(rows) // 3, "worker": np.arange(rows) % 4,
                    "table_seed": np.zeros(rows, dtype=np.int64), "epoch": np.arange(rows) % 3 + 1,
                    "loss": values, "elapsed_time": times, "sim_time": times, "decision": ["continue"] * rows,
                    "config_x": rng.uniform(size=rows),
                }
                meta = {"method": f"method{m}", "benchmark": f"bench{b}", "seed": s, "experiment": "speed",
                        "metric": "loss", "mode": "min", "fidelity_attr": "epoch", "max_fidelity": 3,
                        "n_workers": 4, "blackbox": {"best_in_table": -1.0},
                        "stopping": {"max_wallclock_time": 3600.0}, "simulated_time": 3600.0,
                        "num_results": rows, "stop_reason": "max_wallclock_time", "real_time": {"seconds": 0.1}}
                RunDirectory(root / f"bench{b}" / f"method{m}" / f"seed_{s}").write(columns, meta)
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=int, default=10)
    parser.add_argument("--methods", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "speed"
        started = time.perf_counter()
        n = write_runs(root, args.benchmarks, args.methods, args.seeds, args.rows)
        print(f"wrote {n} runs x {args.rows} rows in {time.perf_counter() - started:.1f} s (not timed below)")

        from mfbench.analysis.aggregate import aggregate
        from mfbench.analysis.load import load_results
        from mfbench.analysis.pipeline import analyze
        from mfbench.analysis.ranking import rank_analysis

        import pandas  # noqa: F401  (import cost is not the analysis)
        import scipy.stats  # noqa: F401

        t = time.perf_counter()
        results = load_results(root)
        print(f"load_results: {time.perf_counter() - t:.2f} s ({len(results.trajectories)} rows)")
        t = time.perf_counter()
        aggregate(results)
        print(f"aggregate (iqm): {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        rank_analysis(results)
        print(f"rank_analysis: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        analyze(root, out=Path(tmp) / "out_noplots", plots=False)
        print(f"analyze without figures: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        analyze(root, out=Path(tmp) / "out", formats=("png",))
        print(f"analyze with PNG figures: {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
