#!/usr/bin/env python
"""Replay a traced Syne Tune 0.13.0 ASHA-family or synchronous Hyperband run in mfbench, draw for draw.

Input: a reference run written by ``benchmarks/reference/trace_hyperband.py`` (its
``--out`` parquet, one row per result the scheduler saw, and ``<out>.trace.json``, the
bracket of every trial and every stopping-rung decision). Two checks, both per run:

1. **decisions**: the reference's result stream (trial, fidelity, metric, in the order its
   scheduler saw them) is fed to our :class:`~mfbench.schedulers.asha.ASHA` with each trial
   given the reference's bracket; every answer (continue / stop / pause) must equal the
   reference's. This isolates the scheduler: rung levels, which rungs a bracket skips, the
   quantile cutoff, ties, how many entries a rung needs before it decides. (For ``asha_prom``
   this covers the answers to results, continue below a milestone and pause at it; which
   paused trial is promoted when is covered by check 2.)
2. **forced run** (``--benchmark``): a full ``mfbench`` simulation in which the three random
   draws of the run are replaced by the reference's: the configuration of trial ``i`` (our
   random searcher proposes them in trial order), its bracket and its table seed. Everything
   else (scheduler, simulator, event order, stop delays, budget rule) is ours. With
   ``backend.poll_interval=5`` (the reference tuner's 5-s polls) the two runs must hold the
   same results; with our default event-driven loop they may differ by the few results a
   freed worker gains by not waiting for the next poll.

So, once both pass, a remaining difference of means over seeds can only come from the
distributions of the draws (which configurations, brackets and table seeds are drawn), not
from what is done with them.

``synchb`` and ``syncsh`` (synchronous Hyperband / successive halving) draw nothing but the
configurations (their brackets follow a fixed schedule): check 2 only, on a plain reference
run of ``benchmarks/reference/syne_tune_runner.py`` (no trace needed), e.g. on the YAHPO
LCBench surrogate (``table_seed`` -1 there: the surrogate's one seed, 0)::

    /work/st-venv/bin/python benchmarks/reference/syne_tune_runner.py --method synchb --seed 0 \\
        --yahpo-lcbench tests/data/yahpo-lcbench --instance 189908 --n-workers 4 \\
        --max-wallclock-time 7200 --no-charge-decision-time --out /tmp/ref/synchb-0.parquet
    .venv/bin/python benchmarks/replay_reference_draws.py /tmp/ref/synchb-0.parquet --method synchb \\
        --benchmark yahpo_lcbench_189908 --override benchmark.blackbox.data_dir=tests/data/yahpo-lcbench \\
        --override backend.poll_interval=5

An ASHA example (8 workers, 8 h, as the reference ImageNet16-120)::

    /work/st-venv/bin/python benchmarks/reference/trace_hyperband.py --method asha6_stop --seed 0 \\
        --table ~/.cache/mfbench/exports/nas201_offline_imagenet16.parquet --n-workers 8 \\
        --max-wallclock-time 28800 --no-charge-decision-time --out /tmp/ref/asha6_stop-0.parquet
    .venv/bin/python benchmarks/replay_reference_draws.py /tmp/ref/asha6_stop-0.parquet \\
        --method asha6_stop --benchmark nas201_offline_imagenet16 --override backend.poll_interval=5

The forced run replaces the draws by patching, for the duration of the run only, the
random searcher's ``suggest``, ``ASHA._sample_bracket`` and the simulator's table-seed
stream: it is a diagnostic, not a way to run methods.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: reference method -> our ASHA arguments (the method YAMLs, conf/method/<name>.yaml)
ASHA_METHODS = {"asha_stop": dict(type="stopping", brackets=1), "asha_prom": dict(type="promotion", brackets=1),
                "asha6_stop": dict(type="stopping", brackets=6)}
#: methods whose only random draws are the configurations (forced run only)
SYNCHRONOUS_METHODS = ("synchb", "syncsh")


def load_reference(parquet: Path, method: str = "asha_stop") -> tuple[pd.DataFrame, dict[int, int]]:
    """The reference's result rows (scheduler order) and the bracket of each trial id (none for
    the synchronous methods, whose brackets are not drawn)."""
    if method in SYNCHRONOUS_METHODS:
        return pd.read_parquet(parquet), {}
    trace_path = parquet.with_suffix(".trace.json")
    if not trace_path.is_file():
        raise SystemExit(f"no trace {trace_path}: write the reference run with benchmarks/reference/trace_hyperband.py")
    trace = json.loads(trace_path.read_text(encoding="utf-8"))
    return pd.read_parquet(parquet), {int(k): int(v) for k, v in trace["brackets"].items()}


def replay_decisions(rows: pd.DataFrame, brackets: dict[int, int], method: str, max_t: int) -> dict[str, Any]:
    """Check 1: feed the reference's result stream to our ASHA with its brackets forced.

    Returns ``results`` (rows replayed), ``mismatches`` (rows where our decision differs)
    and ``first`` (up to five of them, as dicts).
    """
    from mfbench.problem import Problem
    from mfbench.schedulers.asha import ASHA
    from mfbench.space import Categorical, ConfigSpace

    # the configuration does not enter a decision: a large dummy space, so the searcher never runs out
    size = max(len(brackets), int(rows["trial_id"].max()) + 1) + 1
    space = ConfigSpace((Categorical("x", tuple(range(size))),), table=[(i,) for i in range(size)])
    asha = ASHA(Problem(space, np.arange(1, max_t + 1), "metric", "min", 1, 0), **ASHA_METHODS[method])
    forced: dict[str, int] = {}
    asha._sample_bracket = lambda: forced["bracket"]  # type: ignore[method-assign]
    started: set[int] = set()
    mismatches: list[dict[str, Any]] = []
    for trial_id, fidelity, metric, decision in zip(rows["trial_id"], rows["fidelity"], rows["metric"],
                                                    rows["decision"]):
        trial_id = int(trial_id)
        if trial_id not in started:
            started.add(trial_id)
            forced["bracket"] = brackets[trial_id]
            # start it as a new trial even where our rungs would promote one now: the stream says
            # when the reference promoted, and the answers to results do not depend on it
            kind, asha.type = asha.type, "stopping"
            try:
                asha.suggest(trial_id)
            finally:
                asha.type = kind
        ours = asha.on_result(trial_id, int(fidelity), float(metric)).value.upper()
        if ours != str(decision).upper():
            mismatches.append({"trial": trial_id, "fidelity": int(fidelity), "bracket": brackets[trial_id],
                               "ours": ours, "reference": str(decision).upper()})
    return {"results": len(rows), "mismatches": len(mismatches), "first": mismatches[:5]}


def reference_configurations(rows: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """The configuration of every trial of a reference run, from its result rows (``config_*``),
    as plain Python values."""
    first = rows.groupby("trial_id", sort=True).first()
    hp = [c for c in rows.columns if c.startswith("config_") and c not in ("config_index", "config_epochs")]
    return {int(t): {c[len("config_"):]: _plain(r[c]) for c in hp} for t, r in first.iterrows()}


def trial_configuration(configs: dict[int, dict[str, Any]], trial: int, names: Any) -> dict[str, Any]:
    """Trial ``trial``'s configuration of :func:`reference_configurations`, restricted to the
    space's hyperparameters ``names`` (the reference's rows may carry constants beside the
    space: YAHPO's ``OpenML_task_id``). A trial the reference started but never heard from has
    no row: the first trial's configuration stands in."""
    return {k: v for k, v in configs.get(trial, configs[min(configs)]).items() if k in names}


def _plain(value: Any) -> Any:
    """A parquet cell as the Python value a configuration holds (numpy scalars -> int / float)."""
    return value.item() if isinstance(value, np.generic) else value


@contextlib.contextmanager
def forced_draws(rows: pd.DataFrame, brackets: dict[int, int]) -> Iterator[None]:
    """Our next run draws trial ``i``'s configuration, bracket and table seed from the reference.

    Trials the reference started but never heard from (the last ones before the budget ran
    out) have no row; they get the configuration of trial 0 and table seed 0 (their results,
    if any fall within the budget on our side, are counted apart by :func:`forced_run`).
    """
    from mfbench.backend import simulator
    from mfbench.schedulers.asha import ASHA
    from mfbench.searchers.random import RandomSearcher

    first = rows.groupby("trial_id", sort=True).first()
    configs = reference_configurations(rows)
    seeds = {int(t): max(0, int(r["table_seed"])) for t, r in first.iterrows()}  # -1: a surrogate's one seed
    counters = {"config": 0, "seed": 0}

    def suggest(self: Any) -> dict[str, Any]:
        trial = counters["config"]
        counters["config"] += 1
        return trial_configuration(configs, trial, self.space.names)

    def sample_bracket(self: Any) -> int:  # ASHA draws the bracket just before it asks the searcher
        return brackets.get(counters["config"], 0)

    class _ReferenceSeeds:
        def integers(self, high: int) -> int:
            trial = counters["seed"]
            counters["seed"] += 1
            return seeds.get(trial, 0)

    original_init = simulator._Run.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.seed_rng = _ReferenceSeeds()

    saved = (RandomSearcher.suggest, ASHA._sample_bracket, simulator._Run.__init__)
    RandomSearcher.suggest, ASHA._sample_bracket, simulator._Run.__init__ = suggest, sample_bracket, init
    try:
        yield
    finally:
        RandomSearcher.suggest, ASHA._sample_bracket, simulator._Run.__init__ = saved


def forced_run(rows: pd.DataFrame, brackets: dict[int, int], method: str, benchmark: str, seed: int,
               n_workers: int, budget: float, overrides: list[str]) -> dict[str, Any]:
    """Check 2: our whole run on the reference's draws, compared result for result (up to ``budget``)."""
    from mfbench.api import compose, simulate

    cfg = compose([f"method={method}", f"benchmark={benchmark}", f"seed={seed}", f"n_workers={n_workers}",
                   f"stopping.max_wallclock_time={budget}", "backend.charge_decision_time=false", *overrides])
    fidelity_attr, metric = cfg.benchmark.fidelity_attr, cfg.benchmark.metric
    with forced_draws(rows, brackets):
        columns, metadata = simulate(cfg)
    best = np.min if cfg.benchmark.mode == "min" else np.max
    ours = pd.DataFrame({"trial_id": columns["trial_id"], "fidelity": columns[fidelity_attr],
                         "metric": columns[metric], "decision": columns["decision"]})
    ref = rows[rows["st_tuner_time"] <= budget]
    # a trial the reference started but never heard from has no known draws (forced_draws gives it
    # placeholders): its results are counted apart
    known = set(rows["trial_id"].astype(int))
    unknown = ~ours["trial_id"].astype(int).isin(known)
    key_ours = set(zip(ours["trial_id"][~unknown].astype(int), ours["fidelity"][~unknown].astype(int)))
    key_ref = set(zip(ref["trial_id"].astype(int), ref["fidelity"].astype(int)))
    both = ours.merge(ref, on=["trial_id", "fidelity"], suffixes=("_ours", "_ref"))
    return {
        "results": [len(ours), len(ref)], "trials": [int(ours["trial_id"].nunique()), int(ref["trial_id"].nunique())],
        "best": [float(best(ours["metric"])), float(best(ref["metric"]))],
        "only_ours": len(key_ours - key_ref), "only_reference": len(key_ref - key_ours),
        "results_of_unknown_trials": int(unknown.sum()),
        "same_metrics": bool(np.array_equal(both["metric_ours"].to_numpy(np.float64),
                                            both["metric_ref"].to_numpy(np.float64))),
        # a surrogate's float32 outputs depend on how many rows one call evaluates (yahpo.py)
        "metrics_differing": int((both["metric_ours"] != both["metric_ref"]).sum()),
        "metric_max_difference": float((both["metric_ours"] - both["metric_ref"]).abs().max()) if len(both) else 0.0,
        "same_decisions": bool((both["decision_ours"].str.upper() == both["decision_ref"].str.upper()).all()),
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reference", nargs="+", type=Path, help="reference --out parquet(s) with a .trace.json each")
    p.add_argument("--method", required=True, choices=sorted([*ASHA_METHODS, *SYNCHRONOUS_METHODS]))
    p.add_argument("--benchmark", default=None, help="benchmark YAML of the forced run (omit: decisions only)")
    p.add_argument("--override", action="append", default=[], help="extra override of the forced run, repeatable")
    p.add_argument("--json", type=Path, default=None, help="write the per-run summaries here")
    args = p.parse_args(argv)
    summaries = []
    for parquet in args.reference:
        rows, brackets = load_reference(parquet, args.method)
        meta = json.loads(parquet.with_suffix(".json").read_text(encoding="utf-8"))
        summary: dict[str, Any] = {"reference": str(parquet), "seed": meta["seed"]}
        if args.method in ASHA_METHODS:
            max_t = int(meta["table_shape"][2]) if meta.get("table_shape") else int(rows["fidelity"].max())
            summary["decisions"] = replay_decisions(rows, brackets, args.method, max_t)
            line = (f"{parquet.name}: decisions {summary['decisions']['results'] - summary['decisions']['mismatches']}"
                    f"/{summary['decisions']['results']} equal")
        else:
            line = f"{parquet.name}: (no decision replay for {args.method})"
            if not args.benchmark:
                p.error(f"--method {args.method}: the forced run is the only check; give --benchmark")
        if args.benchmark:
            run = forced_run(rows, brackets, args.method, args.benchmark, int(meta["seed"]), int(meta["n_workers"]),
                             float(meta["max_wallclock_time"]), args.override)
            summary["forced_run"] = run
            line += (f"; forced run: results ours/ref {run['results'][0]}/{run['results'][1]}, trials "
                     f"{run['trials'][0]}/{run['trials'][1]}, best {run['best'][0]:.5f}/{run['best'][1]:.5f}, only "
                     f"ours {run['only_ours']}, only ref {run['only_reference']} (+{run['results_of_unknown_trials']} of "
                     f"trials without reference results), common results: metrics "
                     + ("equal" if run["same_metrics"] else f"DIFFER in {run['metrics_differing']} (by up to "
                                                             f"{run['metric_max_difference']:.3g})")
                     + ("" if args.method in SYNCHRONOUS_METHODS  # the two name their pauses differently
                        else f", decisions {'equal' if run['same_decisions'] else 'DIFFER'}"))
        print(line, flush=True)
        summaries.append(summary)
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=2) + "\n", encoding="utf-8")
    return summaries


if __name__ == "__main__":
    main()
