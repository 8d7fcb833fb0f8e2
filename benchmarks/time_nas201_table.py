"""Time opening an NB201-sized table from the cache and 100,000 random lookups.

    python benchmarks/time_nas201_table.py [--tasks 1] [--lookups 100000] [--keep DIR]

Writes a synthetic table of the full NAS-Bench-201 size (15,625 configurations x 3 seeds x
200 epochs x 7 objectives, float32: 262.5 MB per task) through the same code path as the
real conversion (``write_tabular``) into a temporary cache, then measures, in fresh
processes so nothing is warm in Python:

* first open: ``nas201_blackbox(task)`` as a run's first use after the conversion: the
  manifest check, the SHA-256 of every file (the cache is verified before it is trusted,
  and the verified versions are stamped), ``np.load(mmap_mode="r")``, the config table;
* open: the same afterwards (the stamp: a few ``stat`` calls instead of hashing), best and
  median of 5;
* lookups: 100,000 ``evaluate(config, seed, [epoch])`` calls on random configurations,
  seeds and epochs (the simulator's access pattern), and the same number of whole-curve
  lookups (200 epochs each).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from mfbench.blackbox.sources import nas201  # noqa: E402
from mfbench.blackbox.stored import encode_configurations, write_tabular  # noqa: E402

PROBE = """
import sys, time, json
sys.path.insert(0, {repo!r})
t0 = time.perf_counter()
from mfbench.blackbox.sources.nas201 import nas201_blackbox
t1 = time.perf_counter()
bb = nas201_blackbox("cifar10", cache_dir={cache!r})
t2 = time.perf_counter()
out = {{"import_s": t1 - t0, "open_s": t2 - t1}}
if {lookups}:
    import numpy as np
    rng = np.random.default_rng(0)
    rows = rng.integers(len(bb.config_space.table), size={lookups})
    seeds = rng.integers(3, size={lookups})
    epochs = rng.integers(1, 201, size={lookups})
    configs = [bb.config_space.config_at(int(r)) for r in rows]
    t3 = time.perf_counter()
    total = 0.0
    for config, seed, epoch in zip(configs, seeds, epochs):
        total += bb.evaluate(config, int(seed), np.array([epoch]))[0, 0]
    t4 = time.perf_counter()
    all_epochs = bb.fidelity_values
    for config, seed in zip(configs, seeds):
        total += bb.evaluate(config, int(seed), all_epochs)[-1, 0]
    t5 = time.perf_counter()
    out.update(single_epoch_s=t4 - t3, whole_curve_s=t5 - t4, checksum=float(total))
print(json.dumps(out))
"""


def write_synthetic(cache: Path, tasks: int) -> float:
    rng = np.random.default_rng(0)
    # distinct rows: the real space is all 5^6 = 15,625 op combinations
    grid = np.indices((5,) * 6).reshape(6, -1).T
    columns = {name: [nas201.OPERATIONS[i] for i in grid[:, k]] for k, name in enumerate(nas201.HP_NAMES)}
    configurations = encode_configurations(nas201.hyperparameters(), columns)

    def fill(out: np.ndarray) -> None:
        for start in range(0, out.shape[0], 1024):
            block = out[start:start + 1024]
            block[...] = rng.random(block.shape, dtype=np.float32)

    started = time.perf_counter()
    write_tabular(nas201.NAME, cache, nas201.hyperparameters(), configurations, nas201.FIDELITY,
                  nas201.FIDELITY_VALUES, nas201.OBJECTIVES,
                  {task: fill for task in nas201.TASKS[:tasks]}, 3, {"kind": "synthetic"}, checksums=True)
    return time.perf_counter() - started


def probe(cache: Path, lookups: int) -> dict:
    code = PROBE.format(repo=str(REPO), cache=str(cache), lookups=lookups)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1, help="tasks to write (1..3, 262.5 MB each)")
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--keep", default=None, help="write the cache here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        cache = Path(args.keep or temporary)
        seconds = write_synthetic(cache, args.tasks)
        size = (cache / nas201.NAME / "cifar10.npy").stat().st_size
        print(f"wrote a synthetic NB201-sized table ({size / 1e6:.1f} MB per task) in {seconds:.1f} s")
        first = probe(cache, 0)["open_s"]
        print(f"first open (verifies the checksums, fresh process): {first * 1e3:.1f} ms")
        opens = [probe(cache, 0)["open_s"] for _ in range(5)]
        print(f"open (fresh process, 5 runs): best {min(opens) * 1e3:.1f} ms, median {statistics.median(opens) * 1e3:.1f} ms")
        result = probe(cache, args.lookups)
        n = args.lookups
        print(f"{n:,} random single-epoch lookups: {result['single_epoch_s']:.2f} s "
              f"({result['single_epoch_s'] / n * 1e6:.1f} us each)")
        print(f"{n:,} random whole-curve lookups (200 epochs): {result['whole_curve_s']:.2f} s "
              f"({result['whole_curve_s'] / n * 1e6:.1f} us each)")


if __name__ == "__main__":
    main()
