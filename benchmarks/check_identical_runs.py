"""Check that a code change leaves every method's runs bit-identical.

Runs every method YAML under ``conf/method/`` on a few benchmarks (short budgets, two seeds)
through the real command line (``python -m mfbench -m ... hydra/launcher=local``) and records a
fingerprint of each run's results: a SHA-256 over the column names, dtypes and values of
``results.parquet``, read back with pandas (so the parquet writer's own metadata does not
count). Run it on the old code and on the new code and compare:

    git worktree add /tmp/before <old commit>
    (cd /tmp/before && python benchmarks/check_identical_runs.py --out /tmp/fp_before.json)
    python benchmarks/check_identical_runs.py --out /tmp/fp_after.json
    python benchmarks/check_identical_runs.py --compare /tmp/fp_before.json /tmp/fp_after.json

``--full-budget`` drops the short budgets (each benchmark's own, e.g. 6 h simulated on NB201):
the GP searchers then work on hundreds of observations, where an optimisation of their
numerics is most likely to change a rounding. ``--seeds`` chooses the seeds (default 0,1).

The command line and config paths are the stable interface here, so the same script runs on
both sides of a refactoring that moves modules. Exit status of ``--compare``: 0 when every run
matches, 1 otherwise (the differing runs are listed).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: benchmark option -> extra overrides: short budgets that still reach the model-based phase
#: of every method (the GP searchers start modelling after a handful of results).
BENCHMARKS: dict[str, list[str]] = {
    "nas201_offline_cifar100": ["stopping.max_wallclock_time=2400"],
    "hartmann6": ["stopping.max_wallclock_time=3600"],
    "function_example": ["stopping.max_wallclock_time=1800"],
}
SEEDS = "0,1"


def methods() -> list[str]:
    return sorted(p.stem for p in (REPO / "conf" / "method").glob("*.yaml"))


def fingerprint(results: Path) -> str:
    """SHA-256 over the names, dtypes and values of every column of ``results.parquet``."""
    import pandas as pd

    frame = pd.read_parquet(results)
    digest = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        digest.update(f"{name}:{column.dtype}\n".encode())
        values = column.to_numpy()
        if values.dtype.kind in "biufc":  # numbers: their exact bytes
            digest.update(values.tobytes())
        else:  # strings and objects: their text (the bytes of an object array are pointers)
            digest.update("\x1f".join(map(repr, column.tolist())).encode())
    return digest.hexdigest()


def run_all(out: Path, selected: list[str], benchmarks: list[str], seeds: str = SEEDS,
            full_budget: bool = False) -> int:
    with tempfile.TemporaryDirectory(prefix="mfbench_identical_") as tmp:
        prints: dict[str, str] = {}
        failed = 0
        for benchmark in benchmarks:
            command = [sys.executable, "-m", "mfbench", "-m", f"benchmark={benchmark}",
                       f"method={','.join(selected)}", f"seed={seeds}", "experiment_name=identical",
                       "progress=false", "hydra/launcher=local", f"hydra.sweep.dir={tmp}/identical",
                       *([] if full_budget else BENCHMARKS[benchmark])]
            print("+", " ".join(command[1:]), flush=True)
            # PYTHONPATH: this checkout's code, also where another checkout is installed editable
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                failed += 1
                print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
        for results in sorted(Path(tmp, "identical").glob("*/*/seed_*/results.parquet")):
            key = "/".join(results.parent.relative_to(Path(tmp, "identical")).parts)
            prints[key] = fingerprint(results)
    expected = len(selected) * len(benchmarks) * len(seeds.split(","))
    out.write_text(json.dumps(prints, indent=1, sort_keys=True) + "\n")
    print(f"{len(prints)} of {expected} runs fingerprinted -> {out}")
    return 1 if failed or len(prints) != expected else 0


def compare(before: Path, after: Path) -> int:
    old, new = json.loads(before.read_text()), json.loads(after.read_text())
    missing = sorted(set(old) ^ set(new))
    differ = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    for key in missing:
        print(f"only in {'before' if key in old else 'after'}: {key}")
    for key in differ:
        print(f"DIFFERENT: {key}")
    same = len(set(old) & set(new)) - len(differ)
    print(f"{same} runs bit-identical, {len(differ)} different, {len(missing)} missing on one side")
    return 0 if not differ and not missing else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the fingerprints of this checkout's runs here (JSON)")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--methods", nargs="*", default=None, help="default: every conf/method YAML")
    parser.add_argument("--benchmarks", nargs="*", default=list(BENCHMARKS), choices=list(BENCHMARKS))
    parser.add_argument("--seeds", default=SEEDS, help="comma-separated seeds (default %(default)s)")
    parser.add_argument("--full-budget", action="store_true", help="each benchmark's own budget, not the short one")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if not args.out:
        parser.error("give --out FILE or --compare BEFORE AFTER")
    return run_all(args.out.resolve(), args.methods or methods(), args.benchmarks, args.seeds, args.full_budget)


if __name__ == "__main__":
    sys.exit(main())
