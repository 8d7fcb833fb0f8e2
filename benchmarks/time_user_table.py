"""Time ``benchmark=table`` on a table of NAS-Bench-201 size, and check the round trip.

    python benchmarks/time_user_table.py [--table FILE.parquet] [--evaluations 2000] [--keep DIR]

Exports ``nas201_offline_cifar100`` (15,625 configurations x 3 seeds x 200 epochs = 9.4 M
rows, 5 objectives; built on first use, needs no download) with ``python -m mfbench.data
export``, unless ``--table`` names an export already made. Then, in fresh processes so
nothing is warm in Python, it measures:

* convert: the first ``table_benchmark(path)`` (read, check, write into a temporary
  blackbox cache), with its peak resident memory;
* open: later ``table_benchmark(path)`` calls (content hash remembered, memory-mapped
  store), best and median of 5;
* read without cache: ``cache=never`` (the whole file read and checked every time);

and checks that ASHA-PROM with the same seed gives identical results on the original
benchmark and on ``benchmark=table`` (every result column compared).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

OPEN = """
import sys, time, json, resource
sys.path.insert(0, {repo!r})
t0 = time.perf_counter()
from mfbench.benchmarks.table import table_benchmark
t1 = time.perf_counter()
b = table_benchmark({path!r}, cache={cache!r}, cache_dir={cache_dir!r})
t2 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "open_s": t2 - t1, "configs": len(b.open().config_space.table),
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

RUN = """
import sys, json
sys.path.insert(0, {repo!r})
import numpy as np
from mfbench.api import compose, simulate
base = ["method=asha_prom", "seed=5", "stopping=evaluations", "stopping.max_num_evaluations={evaluations}"]
a, _ = simulate(compose(["benchmark=nas201_offline_cifar100", *base]))
b, m = simulate(compose(["benchmark=table", "benchmark.path={path}", "benchmark.cache_dir={cache_dir}", *base]))
same = list(a) == list(b) and all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)
print(json.dumps({{"identical": bool(same), "results": m["num_results"], "columns": len(a)}}))
"""


def _python(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=os.environ)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", default=None, help="an existing export (default: export nas201_offline_cifar100)")
    parser.add_argument("--evaluations", type=int, default=2000, help="results of the round-trip run")
    parser.add_argument("--keep", default=None, help="work in this folder and keep it")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="mfbench-user-table-"))
    work.mkdir(parents=True, exist_ok=True)
    path = Path(args.table) if args.table else work / "nas201_offline_cifar100.parquet"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "mfbench.data", "export", "nas201_offline_cifar100", "--out", str(path)],
                       check=True, cwd=REPO)
    cache_dir = str(work / "cache")
    print(f"table: {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    convert = _python(OPEN.format(repo=str(REPO), path=str(path), cache="always", cache_dir=cache_dir))
    print(f"convert (first use, cache=always): {convert['open_s']:.2f} s, peak RSS {convert['max_rss_mb']:.0f} MB, "
          f"{convert['configs']} configurations")
    opens = [_python(OPEN.format(repo=str(REPO), path=str(path), cache="always", cache_dir=cache_dir))["open_s"]
             for _ in range(5)]
    print(f"open from the cache: best {min(opens) * 1000:.0f} ms, median {statistics.median(opens) * 1000:.0f} ms")
    direct = _python(OPEN.format(repo=str(REPO), path=str(path), cache="never", cache_dir=cache_dir))
    print(f"read without cache (cache=never): {direct['open_s']:.2f} s, peak RSS {direct['max_rss_mb']:.0f} MB")
    check = _python(RUN.format(repo=str(REPO), path=str(path), cache_dir=cache_dir, evaluations=args.evaluations))
    print(f"round trip, ASHA-PROM seed 5, {check['results']} results x {check['columns']} columns: "
          f"{'identical' if check['identical'] else 'DIFFERENT'}")
    if not check["identical"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
