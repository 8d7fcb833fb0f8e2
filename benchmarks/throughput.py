"""Throughput of whole studies on this machine: how long a big sweep takes, and where the time goes.

    python benchmarks/throughput.py [--seeds 125] [--methods ...] [--benchmark nas201_offline_cifar100]
    python benchmarks/throughput.py --tutorial --seeds 30     # experiment=mf_tutorial, 13 methods

Runs, in a temporary folder and a private blackbox cache (built once before timing):

1. the sweep's planning alone (``hydra.sweeper.dry_run=true``: composing every run's config,
   reading the run directories), wall time;
2. the whole sweep with the local launcher (``hydra/launcher=local``, every core), wall time,
   and the runs' own real time summed from their metadata (``real_time.seconds``), so the
   difference shows the per-run fixed costs (job start-up, imports, result writing).

The default grid is the issue's "1,000 runs of the non-GP methods": 8 methods x 125 seeds on
the default benchmark at its full budget (6 h simulated, 4 workers). Prints one table.
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

REPO = Path(__file__).resolve().parents[1]
NON_GP = ["random_search", "asha_stop", "asha_prom", "asha6_stop", "synchb", "syncsh", "bohb", "dehb"]


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MFBENCH_", "SLURM_", "SUBMITIT_"))}
    env["MFBENCH_CACHE"] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    return env


def _timed(args: list[str], work: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mfbench", *args], cwd=work, env=env, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the sweep failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=125)
    parser.add_argument("--methods", nargs="*", default=NON_GP)
    parser.add_argument("--benchmark", default="nas201_offline_cifar100")
    parser.add_argument("--tutorial", action="store_true", help="experiment=mf_tutorial (its 13 methods)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mfbench_throughput_") as tmp:
        work = Path(tmp)
        env = _env(work / "cache")
        _timed([f"benchmark={args.benchmark}", "hydra.run.dir=warm", "progress=false",
                "stopping.max_num_evaluations=10"], work, env)  # builds the table once, outside the timing
        if args.tutorial:
            grid = ["experiment=mf_tutorial", f"benchmark={args.benchmark}", f"seed=range({args.seeds})"]
        else:
            grid = [f"benchmark={args.benchmark}", f"method={','.join(args.methods)}", f"seed=range({args.seeds})"]
        common = ["-m", *grid, "hydra/launcher=local", "progress=false", "hydra.sweep.dir=study"]
        planning = _timed([*common, "hydra.sweeper.dry_run=true"], work, env)
        total = _timed(common, work, env)
        metadata = [json.loads(p.read_text()) for p in (work / "study").glob("*/*/seed_*/metadata.json")]
        in_runs = sum(m["real_time"]["seconds"] for m in metadata)
    runs = len(metadata)
    print(f"{'what':<52} {'seconds':>9}")
    print(f"{'runs finished':<52} {runs:>9}")
    print(f"{'planning alone (dry run: compose + read run dirs)':<52} {planning:>9.1f}")
    print(f"{'whole sweep, wall (local launcher, ' + str(os.cpu_count()) + ' cores)':<52} {total:>9.1f}")
    print(f"{'runs own real time, summed over runs':<52} {in_runs:>9.1f}")
    print(f"{'per run: wall x cores / runs':<52} {total * (os.cpu_count() or 1) / max(runs, 1):>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
