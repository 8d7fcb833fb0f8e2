"""Time fitting surrogates over the offline NB201 table and looking configurations up in them.

    python benchmarks/time_table_surrogate.py [--models knn knn_merged ...] [--lookups 2000] [--cache-dir DIR]

The table is NB201-offline cifar100 (15,625 configurations x 3 seeds x 200 epochs x 5
objectives; built into the cache on first use). Each model is fitted as
``benchmark.surrogate=...`` fits it (:class:`mfbench.blackbox.table_surrogate.TableSurrogateBlackbox`,
the whole table as Syne Tune's ``add_surrogate`` does: no subsampling), then asked as the
simulator asks:

* ``lookup``: a new configuration (drawn uniformly from the 6 x 5 one-hot grid) at 1 to 4
  consecutive epochs, the cost of starting a trial's segment;
* ``resume``: the same configurations again at later epochs, the cost of resuming a paused
  trial (answered from the curves the surrogate keeps).

It also checks that 1-NN answers exactly the table's values at the configurations looked up.
Prints one JSON line per model and a Markdown table. The sklearn import is timed apart
(it is paid once per process, by the first surrogate).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

#: name -> (surrogate, surrogate_kwargs, surrogate_seeds)
MODELS: dict[str, tuple[str, dict, str]] = {
    "knn": ("knn", {}, "separate"),
    "knn_merged": ("knn", {}, "merged"),
    "knn5": ("knn", {"n_neighbors": 5}, "separate"),
    "ridge": ("ridge", {}, "separate"),
    "random_forest10": ("random_forest", {"n_estimators": 10}, "separate"),
    "mlp": ("mlp", {"hidden_layer_sizes": [64, 64], "max_iter": 50}, "separate"),
}


def measure(table, name: str, lookups: int) -> dict:
    from mfbench.blackbox.table_surrogate import TableSurrogateBlackbox

    surrogate_name, kwargs, seeds = MODELS[name]
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MLP's convergence warning at a short max_iter
        surrogate = TableSurrogateBlackbox(table, surrogate_name, kwargs, surrogate_seeds=seeds)
    fit_s = time.perf_counter() - started
    rng = np.random.default_rng(0)
    space = surrogate.config_space
    configs = [space.sample(rng) for _ in range(lookups)]
    seeds_drawn = rng.integers(surrogate.num_seeds, size=lookups)
    starts = rng.integers(1, 190, size=lookups)
    lengths = rng.integers(1, 5, size=lookups)
    exact = True
    started = time.perf_counter()
    answers = []
    for config, seed, start, length in zip(configs, seeds_drawn, starts, lengths):
        answers.append(surrogate.evaluate(config, int(seed), np.arange(start, start + length)))
    lookup_s = (time.perf_counter() - started) / lookups
    started = time.perf_counter()
    for config, seed, start, length in zip(configs, seeds_drawn, starts, lengths):
        surrogate.evaluate(config, int(seed), np.arange(start + length, start + length + 3))
    resume_s = (time.perf_counter() - started) / lookups
    if surrogate_name == "knn" and kwargs.get("n_neighbors", 1) == 1 and seeds == "separate":
        for config, seed, start, length, answer in zip(configs, seeds_drawn, starts, lengths, answers):
            exact &= np.array_equal(answer, table.evaluate(config, int(seed), np.arange(start, start + length)))
    return {"model": name, "surrogate": surrogate_name, "kwargs": surrogate.kwargs, "seeds": seeds,
            "fit_rows": surrogate.fit_rows, "num_models": surrogate.num_seeds, "fit_s": round(fit_s, 2),
            "lookup_ms": round(lookup_s * 1e3, 3), "resume_ms": round(resume_s * 1e3, 4),
            "exact_at_table_configs": bool(exact) if surrogate_name == "knn" and seeds == "separate"
            and kwargs.get("n_neighbors", 1) == 1 else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--cache-dir", default=None, help="blackbox cache root (default: $MFBENCH_CACHE or ~/.cache)")
    args = parser.parse_args(argv)
    from mfbench.blackbox.sources.nas201_offline import nas201_offline_blackbox

    table = nas201_offline_blackbox("cifar100", args.cache_dir)
    np.asarray(table.evaluations).sum()  # page the memory-mapped table in: fits time the model, not the disk
    started = time.perf_counter()
    import sklearn.ensemble  # noqa: F401  (the heaviest of the estimator modules)
    import sklearn.neighbors  # noqa: F401
    print(json.dumps({"sklearn_import_s": round(time.perf_counter() - started, 2)}), flush=True)
    rows = []
    for name in args.models:
        row = measure(table, name, args.lookups)
        print(json.dumps(row), flush=True)
        rows.append(row)
    print("\n| model | fit rows x models | fit (s) | lookup (ms) | resumed lookup (ms) |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['model']} {row['kwargs']} | {row['fit_rows']} x {row['num_models']} | {row['fit_s']} | "
              f"{row['lookup_ms']} | {row['resume_ms']} |")
    return 0 if all(r["exact_at_table_configs"] in (None, True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
