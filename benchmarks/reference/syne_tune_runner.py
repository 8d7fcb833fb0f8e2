#!/usr/bin/env python
"""Run one of the 13 multi-fidelity methods of Syne Tune 0.13.0 on an exported table.

The *peer* for side-by-side comparisons with mfbench. Run it with the separate virtual
environment that has ``syne-tune==0.13.0`` (never mfbench's own ``.venv``); it does not
import mfbench::

    python3 -m venv /work/st-venv
    /work/st-venv/bin/pip install 'syne-tune[gpsearchers,kde,visual]==0.13.0' \
        'numpy<1.24' fastparquet scikit-learn 'pyarrow<15'

    /work/st-venv/bin/python benchmarks/reference/syne_tune_runner.py \
        --table table.parquet --method asha_prom --seed 0 --n-workers 4 \
        --max-wallclock-time 21600 --out out/asha_prom-0.parquet

Input: a long-format parquet (one row per configuration, table seed and fidelity) plus
its JSON sidecar (same path, ``.json`` suffix), as ``mfbench.blackbox.export`` writes
them. Configuration index ``i`` = ``i``-th distinct configuration in row order. The
table becomes an in-memory ``BlackboxTabular`` of shape (configs, seeds, fidelities,
objectives), simulated with ``UserBlackboxBackend`` + ``SimulatorCallback``, exactly as
``syne_tune/experiments/launchers/hpo_main_simulator.py`` (the launcher behind the
NASBench-201 multi-fidelity tutorial) wires things.

Or, instead of a table, ``--yahpo-lcbench FOLDER --instance TASK``: YAHPO Gym's LCBench
surrogate of a yahpo_data 1.0.2 ``lcbench/`` folder (a continuous space), through the Syne Tune
``Blackbox`` of ``yahpo_lcbench_blackbox.py`` (Syne Tune's ``yahpo-lcbench-<task>``:
val_accuracy / max, elapsed time ``time``, epochs 1..52; nothing restricted; ``table_seed`` and
``config_index`` are -1 in the output).

Output: ``--out`` (``.parquet`` or ``.csv``) with one row per result the scheduler saw:
``trial_id, fidelity, metric, st_tuner_time, decision, status, elapsed_time,
table_seed, config_index, config_<hp>...``; and ``--out`` with suffix ``.json``:
``method, seed, real_time_s, final_best, num_results, num_trials`` plus context.

Details of the reference found in the 0.13.0 source, beyond docs/methods/README.md
---------------------------------------------------------------------------------------
* **Decision time.** There is no switch for it. ``SimulatorBackend._advance_by_outside_time``
  advances the clock by ``SimulatedTimeKeeper.real_time_since_last_recent_exit()`` at the
  start of ``fetch_status_results``, ``_schedule`` (start/resume) and
  ``_stop_or_pause_trial``; ``mark_exit()`` is called when each of them returns. So *all*
  real time spent outside the backend (``scheduler.suggest``, ``on_trial_result``,
  callbacks, the Tuner loop itself) is charged. We turn it off by replacing
  ``backend._time_keeper`` with a ``SimulatedTimeKeeper`` subclass whose
  ``real_time_since_last_recent_exit`` returns 0 (before the Tuner is built, so the
  ``SimulatorCallback`` and the scheduler get the same object). Simulated time then only
  moves by event times, stop/pause delays and the 5-s ``on_tuning_sleep`` ticks, and
  runs are bit-reproducible (checked: identical result tables on reruns).
* **Seeds.** Launcher: ``random_seed = (master + repetition) % (2**31 - 1)``, then
  ``np.random.seed(random_seed)`` *before* the backend and scheduler are built, and the
  scheduler gets ``random_seed``. Here ``--seed`` is that ``random_seed`` (master + index).
  The table seed of a trial is drawn with ``np.random.randint(0, num_seeds)`` (global RNG)
  when its first ``StartEvent`` is *processed* (in simulated-event order, not at
  ``start_trial``), cached per trial_id, and reused on every resume. Nothing else on the
  paths these 13 methods use draws from the global RNG (we checked that the recorded table
  seeds equal successive ``np.random.randint`` draws after ``np.random.seed(seed)``).
* **Method wiring.** The tutorial's ``baselines.py`` builds methods through
  ``syne_tune.experiments.default_baselines`` (``ASHA(method_arguments, type=...)`` …):
  ``recursive_merge`` of ``default_arguments`` (metric, mode, max_resource_attr,
  random_seed, resource_attr and the launcher's ``scheduler_kwargs``) with the method's
  kwargs — so a method's ``search_options={"model": ...}`` is *merged* into the launcher's
  ``search_options`` (``debug_log``, ``restrict_configurations``), not replacing it. The
  launcher passes ``scheduler_kwargs=dict(points_to_evaluate=None,
  search_options=dict(debug_log=False[, restrict_configurations=...]))`` and
  ``fcnet_ordinal="nn-log"`` (only acts on a space with fcnet's hp names). We do the same.
* **Restricting to the table.** The launcher's ``--restrict_configurations`` defaults to
  *False*; on NB201 (complete 5^6 grid) nothing needs restricting. When set, it passes
  ``search_options["restrict_configurations"] = blackbox.all_configurations()`` (list of
  dicts, table order). Supported by the random searcher (ASHA*, SYNCHB, SYNCSH: configs
  drawn uniformly from the remaining list, which shrinks as configs are suggested) and by
  the GP searchers (MOBSTER*, HYPERTUNE*, SYNCMOBSTER), where it also forces
  ``skip_local_optimization=True`` (the acquisition is only evaluated on candidates drawn
  from the list, no L-BFGS-B refinement). The midpoint initial config is dropped (with a
  warning) if it is not in the list. The KDE searcher (BOHB) logs ``restrict_configurations
  is not supported`` and drops it; DEHB's ``random_encoded`` searcher and its
  mutation/crossover work in the encoded space and ignore it. Without restriction on a
  table that is not a complete grid the launcher used a 1-NN surrogate
  (``KNeighborsRegressor(n_neighbors=1)`` for lcbench); otherwise ``BlackboxTabular``
  raises ``ValueError`` for a config not in the table. ``--restrict auto`` (default):
  no restriction on a complete finite grid (= the tutorial exactly); on any other table,
  restriction for the methods that support it, and for BOHB/DEHB (and any config that
  misses the table) a lookup of the nearest table config in Syne Tune's [0,1] encoding
  (one-hot categoricals), i.e. the launcher's 1-NN surrogate. ``num_nn_substitutions``
  in the JSON counts such lookups.
* **Results seen.** The Tuner passes a trial's results to the scheduler (and the results
  callback) only up to its first STOP/PAUSE decision within one fetch; later results of
  that trial in the same fetch are dropped. The stop criterion is
  ``max_metric_value={st_tuner_time: T}``: the run ends after the first fetch that holds a
  result with ``st_tuner_time > T``; ``final_best`` here only counts results with
  ``st_tuner_time <= T``.
* **Finite space exhausted.** ``suggest() -> None`` raises ``StopIteration`` in the Tuner,
  which then never schedules again (not even promotions) and only waits (5-s ticks) for
  running trials; the run can end before T.
* Tutorial method names (``ASHA-STOP`` …) are lower-cased with ``-`` -> ``_`` here.
  ``synchb`` passes no ``brackets`` (None = max), as the tutorial. ``tuner_name`` must
  match ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`` (no ``_``), so the Tuner folder uses ``-``.
* Side effects of importing Syne Tune 0.13.0: notices about missing extras are printed
  (aws, moo, yahpo, h5py), and ``optimizer/schedulers/smac_scheduler.py`` sets the *root*
  logger to INFO. We silence the first and reset the root level (``--verbose`` keeps both).
* DEHB logs ``Could not do selection because target metric value still pending`` when a
  new trial finishes before its parent-slot target: selection is skipped, the slot keeps
  the target (as docs/methods/synchronous.md says).
* Real time: the GP methods refit their hyperparameters at every state change, so they
  take 10^2-10^3 x longer than ASHA/SyncHB/DEHB/BOHB even on a 200-config table.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Tutorial name -> (syne_tune.experiments.default_baselines wrapper, extra kwargs).
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "asha_stop": ("ASHA", dict(type="stopping", brackets=1)),
    "asha_prom": ("ASHA", dict(type="promotion", brackets=1)),
    "asha6_stop": ("ASHA", dict(type="stopping", brackets=6)),
    "mobster_joint": ("MOBSTER", dict(type="promotion")),
    "mobster_indep": ("MOBSTER", dict(type="promotion", search_options=dict(model="gp_independent"))),
    "hypertune_indep": ("HyperTune", dict(type="promotion", brackets=1)),
    "hypertune4_indep": ("HyperTune", dict(type="promotion", brackets=4)),
    "hypertune_joint": ("HyperTune", dict(type="promotion", brackets=1, search_options=dict(model="gp_multitask"))),
    "synchb": ("SyncHyperband", dict()),
    "syncsh": ("SyncHyperband", dict(brackets=1)),
    "syncmobster": ("SyncMOBSTER", dict()),
    "bohb": ("SyncBOHB", dict()),
    "dehb": ("DEHB", dict()),
    # not one of the 13 tutorial methods: the FIFO baseline (every trial runs to max_t)
    "random_search": ("RandomSearch", dict()),
}
# Searchers that honour search_options["restrict_configurations"].
SUPPORTS_RESTRICT = {m for m in METHODS if m not in ("bohb", "dehb")}
MAX_RESOURCE_ATTR = "epochs"


# --------------------------------------------------------------------------------------
# Table loading
# --------------------------------------------------------------------------------------
def load_table(path: Path):
    """Return (sidecar, hp_df, evaluations[C,S,F,O], fidelity_values)."""
    sidecar_path = path.with_suffix(".json")
    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    hps = sidecar["hyperparameters"]
    hp_names = [h["name"] for h in hps]
    fid = sidecar["fidelity"]
    objectives = list(sidecar["objectives"])
    df = pd.read_parquet(path)
    missing = [c for c in hp_names + [fid, "seed"] + objectives if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing (have {list(df.columns)})")
    for name in (sidecar["metric"], sidecar["elapsed_time"]):
        if name not in objectives:
            raise ValueError(f"sidecar: {name!r} is not among objectives {objectives}")

    if sidecar.get("fidelity_values"):
        fidelity_values = np.asarray(sidecar["fidelity_values"])
    else:
        fidelity_values = np.sort(df[fid].unique())
    fid_index = {v.item() if hasattr(v, "item") else v: i for i, v in enumerate(fidelity_values)}
    f_idx = df[fid].map(fid_index)
    if f_idx.isna().any():
        bad = sorted(df.loc[f_idx.isna(), fid].unique().tolist())[:5]
        raise ValueError(f"fidelity values {bad} not in sidecar fidelity_values")
    f_idx = f_idx.to_numpy(dtype=np.int64)

    # Config index = order of first appearance (groupby with sort=False numbers groups so).
    c_idx = df.groupby(hp_names, sort=False, dropna=False).ngroup().to_numpy()
    num_configs = int(c_idx.max()) + 1
    first_rows = np.unique(c_idx, return_index=True)[1]
    hp_df = df.iloc[first_rows][hp_names].reset_index(drop=True)
    for h in hps:
        col = hp_df[h["name"]]
        if h["type"] == "categorical":
            choices = list(h["choices"])
            values = [_match_choice(v, choices, h["name"]) for v in col]
            hp_df[h["name"]] = pd.Series(values, dtype=object)
        elif h["type"] == "integer":
            hp_df[h["name"]] = col.astype(np.int64)
        elif h["type"] == "float":
            hp_df[h["name"]] = col.astype(np.float64)
        else:
            raise ValueError(f"unknown hyperparameter type {h['type']!r}")

    s_idx = df["seed"].to_numpy(dtype=np.int64)
    num_seeds = int(sidecar.get("num_seeds") or (s_idx.max() + 1))
    if s_idx.min() < 0 or s_idx.max() >= num_seeds:
        raise ValueError(f"seed column must hold 0..{num_seeds - 1}")
    evaluations = np.full((num_configs, num_seeds, len(fidelity_values), len(objectives)), np.nan)
    evaluations[c_idx, s_idx, f_idx, :] = df[objectives].to_numpy(dtype=np.float64)
    if len(df) != evaluations.shape[0] * evaluations.shape[1] * evaluations.shape[2]:
        raise ValueError(f"{path}: {len(df)} rows, expected configs*seeds*fidelities = "
                         f"{num_configs}*{num_seeds}*{len(fidelity_values)} (duplicates or holes)")
    if np.isnan(evaluations).any():
        raise ValueError(f"{path}: {int(np.isnan(evaluations).any(axis=3).sum())} (config, seed, fidelity) cells missing or NaN")
    return sidecar, hp_df, evaluations, fidelity_values


def _match_choice(value, choices, name):
    for c in choices:
        if value == c:
            return c
    raise ValueError(f"hyperparameter {name!r}: value {value!r} not among choices {choices}")


def make_config_space(sidecar) -> dict[str, Any]:
    from syne_tune.config_space import choice, loguniform, lograndint, randint, uniform

    space = {}
    for h in sidecar["hyperparameters"]:
        if h["type"] == "categorical":
            space[h["name"]] = choice(list(h["choices"]))
        elif h["type"] == "integer":
            f = lograndint if h.get("log") else randint
            space[h["name"]] = f(int(h["lower"]), int(h["upper"]))
        else:
            f = loguniform if h.get("log") else uniform
            space[h["name"]] = f(float(h["lower"]), float(h["upper"]))
    return space


def is_complete_grid(sidecar, num_configs: int) -> bool:
    """True if the table holds every configuration of a finite space."""
    size = 1
    for h in sidecar["hyperparameters"]:
        if h["type"] == "categorical":
            size *= len(h["choices"])
        elif h["type"] == "integer":
            size *= int(h["upper"]) - int(h["lower"]) + 1
        else:
            return False
    return size == num_configs


# --------------------------------------------------------------------------------------
# Syne Tune pieces
# --------------------------------------------------------------------------------------
def build_classes():
    from syne_tune.backend.simulator_backend.time_keeper import SimulatedTimeKeeper
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
    from syne_tune.optimizer.schedulers.searchers.utils.hp_ranges_factory import make_hyperparameter_ranges

    class NoChargeTimeKeeper(SimulatedTimeKeeper):
        """Real time spent outside the backend is not charged to the simulated clock."""

        def real_time_since_last_recent_exit(self) -> float:
            self._assert_has_started()
            return 0.0

    class TableBlackbox(BlackboxTabular):
        """``BlackboxTabular`` with an exact dict lookup and a 1-NN fallback.

        A configuration not in the table is mapped to the nearest table configuration in
        Syne Tune's [0,1] encoding (what the launcher's 1-NN surrogate does). Only
        happens for searchers that ignore ``restrict_configurations`` (BOHB, DEHB) on a
        table that is not a complete grid, or float round trips.
        """

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._kinds = {name: type(dom).__name__ for name, dom in self.configuration_space.items()}
            records = self.hyperparameters.to_dict("records")
            self._key_to_index = {self._key(c): i for i, c in enumerate(records)}
            self._hp_ranges = make_hyperparameter_ranges(self.configuration_space)
            self._encoded = self._hp_ranges.to_ndarray_matrix(records)
            self.num_nn_substitutions = 0

        def _key(self, config):
            key = []
            for name in self._hp_cols:
                v = config[name]
                kind = self._kinds[name]
                if kind == "Integer":
                    v = int(v)
                elif kind == "Float":
                    v = float(v)
                elif hasattr(v, "item"):
                    v = v.item()
                key.append(v)
            return tuple(key)

        def lookup_index(self, config) -> tuple[int, bool]:
            idx = self._key_to_index.get(self._key(config))
            if idx is not None:
                return idx, True
            x = self._hp_ranges.to_ndarray({k: config[k] for k in self._hp_cols})
            d2 = np.sum((self._encoded - x[None, :]) ** 2, axis=1)
            idx = int(np.argmin(d2))
            return idx, bool(d2[idx] <= 1e-18)

        def _objective_function(self, configuration, fidelity=None, seed=None):
            if not isinstance(configuration, dict):
                return super()._objective_function(configuration, fidelity, seed)
            idx, exact = self.lookup_index(configuration)
            if not exact:
                self.num_nn_substitutions += 1
            if seed is None:
                seed = np.random.randint(0, self.num_seeds)
            values = self.objectives_evaluations[idx, seed, :, :]
            if fidelity is None:
                return values
            return dict(zip(self.objectives_names, values[self.fidelity_map[list(fidelity.values())[0]]]))

    return NoChargeTimeKeeper, TableBlackbox, UserBlackboxBackend


def make_scheduler(method, config_space, metric, mode, resource_attr, random_seed, restrict_list):
    from syne_tune.experiments import default_baselines
    from syne_tune.experiments.baselines import MethodArguments

    wrapper_name, extra = METHODS[method]
    search_options: dict[str, Any] = dict(debug_log=False)
    if restrict_list is not None:
        search_options["restrict_configurations"] = restrict_list
    args = MethodArguments(
        config_space=config_space,
        metric=metric,
        mode=mode,
        random_seed=random_seed,
        resource_attr=resource_attr,
        max_resource_attr=MAX_RESOURCE_ATTR,
        use_surrogates=False,
        fcnet_ordinal="nn-log",
        scheduler_kwargs=dict(points_to_evaluate=None, search_options=search_options),
    )
    return getattr(default_baselines, wrapper_name)(args, **extra)


# --------------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Syne Tune 0.13.0 reference runner (see module docstring).")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--table", type=Path, help="long-format parquet; sidecar = same path with .json")
    src.add_argument("--yahpo-lcbench", type=Path, metavar="FOLDER",
                     help="instead of a table: the YAHPO Gym LCBench surrogate of a yahpo_data 1.0.2 lcbench/ folder "
                          "(yahpo_lcbench_blackbox.py; continuous space, val_accuracy / max, time, epochs 1..52)")
    p.add_argument("--instance", default="3945", help="--yahpo-lcbench: the OpenML task id")
    p.add_argument("--method", required=True, choices=sorted(METHODS))
    p.add_argument("--seed", type=int, default=0, help="random_seed of the scheduler; also np.random.seed(seed)")
    p.add_argument("--n-workers", type=int, default=4)
    p.add_argument("--max-wallclock-time", type=float, required=True, help="simulated seconds")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--charge-decision-time", dest="charge_decision_time", action="store_true",
                   help="charge real scheduler time to the simulated clock (Syne Tune's default)")
    g.add_argument("--no-charge-decision-time", dest="charge_decision_time", action="store_false",
                   help="do not charge it (default; bit-reproducible)")
    p.set_defaults(charge_decision_time=False)
    p.add_argument("--restrict", choices=["auto", "always", "never"], default="auto",
                   help="pass restrict_configurations=blackbox.all_configurations() to searchers that support it: "
                        "auto = only if the table is not a complete finite grid")
    p.add_argument("--metric", default=None, help="override sidecar metric")
    p.add_argument("--mode", choices=["min", "max"], default=None, help="override sidecar mode")
    p.add_argument("--out", required=True, type=Path, help="results .parquet or .csv; JSON summary next to it (.json)")
    p.add_argument("--keep-tuner-dir", type=Path, default=None,
                   help="keep Syne Tune's own tuner folder (results.csv.zip, metadata.json) under this folder")
    p.add_argument("--verbose", action="store_true")
    return p.parse_args(argv)


@contextlib.contextmanager
def _quiet(verbose: bool):
    if verbose:
        yield
        return
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def main(argv=None) -> dict[str, Any]:
    a = parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not a.verbose:
        logging.getLogger("syne_tune").setLevel(logging.WARNING)
    t_total = time.perf_counter()
    tuner_root = Path(a.keep_tuner_dir) if a.keep_tuner_dir else Path(tempfile.mkdtemp(prefix="st-runner-"))
    tuner_root.mkdir(parents=True, exist_ok=True)
    os.environ["SYNETUNE_FOLDER"] = str(tuner_root)  # read when the Tuner is built

    # Syne Tune prints notices about missing optional extras (aws, moo, yahpo, h5py) at
    # import and a status table at the end of tuning; hidden unless --verbose, so that
    # stdout holds only our one-line summary. (Exceptions still propagate.)
    with _quiet(a.verbose):
        import syne_tune
        from syne_tune import StoppingCriterion, Tuner
        from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
        from syne_tune.config_space import randint

        import syne_tune.experiments.default_baselines  # noqa: F401  (prints notices on import)

        NoChargeTimeKeeper, TableBlackbox, UserBlackboxBackend = build_classes()
    # syne_tune/optimizer/schedulers/smac_scheduler.py sets the *root* logger to INFO on import.
    logging.getLogger().setLevel(logging.INFO if a.verbose else logging.WARNING)

    if a.table is not None:
        sidecar, hp_df, evaluations, fidelity_values = load_table(a.table)
        metric = a.metric or sidecar["metric"]
        mode = a.mode or sidecar.get("mode") or "min"
        elapsed_attr = sidecar["elapsed_time"]
        fid = sidecar["fidelity"]
        config_space_bb = make_config_space(sidecar)
        max_fid = int(np.max(fidelity_values))
        complete = is_complete_grid(sidecar, len(hp_df))
        restrict = {"always": True, "never": False, "auto": not complete}[a.restrict]
        source = str(a.table)
        shape = list(evaluations.shape)
    else:  # Syne Tune's yahpo-lcbench-<task> benchmark definition (benchmark_definitions/yahpo.py)
        from yahpo_lcbench_blackbox import FIDELITY, make_blackbox

        metric, mode, elapsed_attr, fid = a.metric or "val_accuracy", a.mode or "max", "time", FIDELITY
        complete, restrict = False, False  # a continuous space: nothing to restrict to
        source = f"yahpo-lcbench {a.instance} ({a.yahpo_lcbench})"
        shape = None

    # As the launcher: np.random.seed(random_seed) before backend and scheduler are built.
    random_seed = int(a.seed)
    np.random.seed(random_seed)
    if a.table is not None:
        blackbox = TableBlackbox(
            hyperparameters=hp_df,
            configuration_space=config_space_bb,
            fidelity_space={fid: randint(int(np.min(fidelity_values)), max_fid)},
            objectives_evaluations=evaluations,
            fidelity_values=fidelity_values,
            objectives_names=list(sidecar["objectives"]),
        )
    else:
        blackbox = make_blackbox(a.yahpo_lcbench, a.instance)
        config_space_bb = blackbox.configuration_space
    backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr=elapsed_attr, max_resource_attr=MAX_RESOURCE_ATTR)
    if not a.charge_decision_time:
        backend._time_keeper = NoChargeTimeKeeper()
    config_space = blackbox.configuration_space_with_max_resource_attr(MAX_RESOURCE_ATTR)
    restrict_list = blackbox.all_configurations() if (restrict and a.method in SUPPORTS_RESTRICT) else None
    scheduler = make_scheduler(a.method, config_space, metric, mode, fid, random_seed, restrict_list)

    callback = SimulatorCallback()
    tuner = Tuner(
        trial_backend=backend,
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_wallclock_time=a.max_wallclock_time),
        n_workers=a.n_workers,
        sleep_time=0,
        callbacks=[callback],
        results_update_interval=10**9,
        print_update_interval=10**9,
        tuner_name=f"st-{a.method.replace('_', '-')}-{a.seed}",
        metadata=dict(algorithm=a.method, seed=a.seed, table=source),
        save_tuner=False,
    )
    t0 = time.perf_counter()
    with _quiet(a.verbose):
        tuner.run()
    real_time = time.perf_counter() - t0

    raw = callback.dataframe()
    out = pd.DataFrame({
        "trial_id": raw["trial_id"].astype(np.int64),
        "fidelity": raw[fid].astype(np.int64),
        "metric": raw[metric].astype(np.float64),
        "st_tuner_time": raw["st_tuner_time"].astype(np.float64),
        "decision": raw["st_decision"].astype(str),
        "status": raw["st_status"].astype(str),
        "elapsed_time": raw[elapsed_attr].astype(np.float64),
    }) if len(raw) else pd.DataFrame(columns=["trial_id", "fidelity", "metric", "st_tuner_time", "decision", "status", "elapsed_time"])
    seeds = backend._seed_for_trial
    out["table_seed"] = [int(seeds.get(int(t), -1)) for t in out["trial_id"]]
    hp_names = list(config_space_bb)
    if len(raw):
        cfgs = raw[[f"config_{n}" for n in hp_names]].rename(columns=lambda c: c[len("config_"):])
        out["config_index"] = ([blackbox.lookup_index(r)[0] for r in cfgs.to_dict("records")] if a.table is not None
                               else -1)  # a continuous space: no table index
        for n in hp_names:
            out[f"config_{n}"] = cfgs[n].to_numpy()
        out[f"config_{MAX_RESOURCE_ATTR}"] = raw[f"config_{MAX_RESOURCE_ATTR}"].to_numpy()
    else:
        out["config_index"] = []

    a.out.parent.mkdir(parents=True, exist_ok=True)
    if a.out.suffix == ".csv":
        out.to_csv(a.out, index=False)
    else:
        out.to_parquet(a.out, index=False, engine="pyarrow")

    in_budget = out[out["st_tuner_time"] <= a.max_wallclock_time]
    if len(in_budget):
        best = float(in_budget["metric"].min() if mode == "min" else in_budget["metric"].max())
    else:
        best = None
    summary = {
        "method": a.method,
        "seed": a.seed,
        "real_time_s": real_time,
        "final_best": best,
        "num_results": int(len(out)),
        "num_trials": int(len(backend.trial_ids)),
        "num_trials_with_results": int(out["trial_id"].nunique()) if len(out) else 0,
        "max_st_tuner_time": float(out["st_tuner_time"].max()) if len(out) else None,
        "max_wallclock_time": a.max_wallclock_time,
        "n_workers": a.n_workers,
        "charge_decision_time": a.charge_decision_time,
        "restrict_configurations": restrict_list is not None,
        "table_complete_grid": complete,
        "num_nn_substitutions": getattr(blackbox, "num_nn_substitutions", 0),
        "metric": metric,
        "mode": mode,
        "table": source,
        "table_shape": shape,
        "syne_tune_version": syne_tune.__version__,
        "reference_versions": reference_versions(),
        "total_real_time_s": time.perf_counter() - t_total,
    }
    a.out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if not a.keep_tuner_dir:
        shutil.rmtree(tuner_root, ignore_errors=True)
    print(json.dumps({k: summary[k] for k in ("method", "seed", "real_time_s", "final_best", "num_results", "num_trials")}))
    return summary


#: the distributions whose versions decide a reference run's numbers: Syne Tune 0.13.0 pins
#: neither SciPy nor autograd, so venvs built on different days can make different (equally
#: valid) runs of one seed (benchmarks/results/README.md)
REFERENCE_DISTRIBUTIONS = ("syne-tune", "numpy", "scipy", "autograd", "pandas", "onnxruntime")


def reference_versions() -> dict[str, str | None]:
    """The installed version of each of :data:`REFERENCE_DISTRIBUTIONS` (None: not installed)."""
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in REFERENCE_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


if __name__ == "__main__":
    main()
