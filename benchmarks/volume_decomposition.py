#!/usr/bin/env python
"""Why one side reports more results per run than the other: worker time, and what it trained.

A simulated run's number of results is the worker time spent training divided by the time
one result (one epoch) takes. When the side-by-side (``compare_with_syne_tune.py``) shows a
results count beyond noise while the final best agrees, this script tells the two causes
apart on the same seeds:

* **bookkeeping**: workers left idle, results lost or charged twice. Then the *worker-seconds*
  (the training time of every trial up to the last fidelity it reached, summed) differ, and
  with them the share of worker time *not training*: idle (waiting for a poll, a decision),
  the simulator's start and result delays, and the work still unfinished at the end (partial
  epochs, trials with no result yet: about half an epoch per worker, on both sides).
* **what is run**: the searcher or scheduler picks configurations that train faster, or
  continues more trials past their first fidelity. Then the worker-seconds agree and the
  *seconds per result* (or the first-fidelity time of the picks) differ.

Both sides are scored with the same ruler: every trial's configuration is evaluated on our
blackbox at its table seed (the reference's rows carry the configuration, ``config_*``, and
the table seed; a surrogate's ``-1`` is its one seed). The reference's runs are the ones
``compare_with_syne_tune.py --keep-reference-output DIR`` kept (``DIR/<method>-<seed>.parquet``);
ours are simulated here, in-process, with the overrides given after the options (for a
quality row with decision time not charged, pass ``backend.charge_decision_time=false``, as
the side-by-side does). Both sides are taken to have run with our run's workers and budget.
Cumulative fidelities only (epochs). "Trials" here are the trials with at least one result (the
side-by-side counts the trials started).

Where the picks differ, a second table says in what: for every value of the categorical
hyperparameters, its share among the trials (``picks``) and among the results (``results``:
each trial weighted by its number of results, so the trials trained long count most; this is
what the seconds per result follow). Hyperparameters with the same choices are pooled (NB201's
six edges share five operations: one row per operation). How much of the seconds per result
these shares account for is the figure ``seconds per result from the values``: a linear model
of a configuration's mean epoch time in the counts of its categorical values, fitted by least
squares on the blackbox (every configuration of a finite space up to 20,000, else a sample of
2,000; table seed 0, its R^2 printed), evaluated for every trial and weighted by its results.
Where it moves as the measured seconds per result do, the gap is in which configurations
were trained, not in how the runs were charged. One row per figure: the mean over seeds of both
sides, and ``z`` (ours minus the reference over the standard error of the difference of means;
``nan`` where a figure is undefined)::

    .venv/bin/python benchmarks/volume_decomposition.py --reference-dir /work/refruns --method mobster_indep \\
        --seeds 5 6 7 8 9 --skip-first 6 -- benchmark=yahpo_lcbench_189908 \\
        benchmark.blackbox.data_dir=tests/data/yahpo-lcbench n_workers=4 stopping.max_wallclock_time=7200 \\
        backend.charge_decision_time=false backend.poll_interval=5
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from replay_reference_draws import reference_configurations, trial_configuration  # noqa: E402

#: the figures of one run, in report order, with how each is printed
FIGURES: dict[str, str] = {
    "results": "{:.1f}",
    "trials with a result": "{:.1f}",
    "worker-seconds": "{:.0f}",
    "share not training": "{:.4f}",
    "seconds per result": "{:.3f}",
    "first-fidelity seconds of the picks": "{:.3f}",
    "share of trials past the first fidelity": "{:.4f}",
}


def run_figures(rows: pd.DataFrame, fidelity: str, elapsed_of: Any, budget: float, workers: int,
                skip_first: int) -> dict[str, float]:
    """The :data:`FIGURES` of one run.

    Args:
        rows: one row per result, with ``trial_id`` and the fidelity column ``fidelity``.
        elapsed_of: ``(trial_id, fidelities (k,)) -> elapsed seconds (k,)`` of the trial's
            configuration at its table seed, cumulative.
        budget: simulated seconds of the run; workers: its number of workers.
        skip_first: the first this many trials (the random initial ones) are left out of
            the first-fidelity time of the picks.
    """
    reached = rows.groupby("trial_id")[fidelity].max().sort_index()
    first_fidelity = float(rows[fidelity].min())
    busy, first_times = 0.0, []
    for trial, top in reached.items():
        elapsed = elapsed_of(int(trial), np.asarray([first_fidelity, float(top)]))
        busy += float(elapsed[1])
        if trial >= skip_first:
            first_times.append(float(elapsed[0]))
    return {
        "results": float(len(rows)),
        "trials with a result": float(len(reached)),
        "worker-seconds": busy,
        "share not training": 1.0 - busy / (budget * workers),
        "seconds per result": busy / len(rows),
        "first-fidelity seconds of the picks": float(np.mean(first_times)) if first_times else math.nan,
        "share of trials past the first fidelity": float((reached > first_fidelity).mean()),
    }


def categorical_groups(space: Any) -> dict[str, tuple[list[str], tuple[Any, ...]]]:
    """The categorical hyperparameters of ``space``, pooled by identical choices: label ->
    (names, choices). A group of one is labelled by its name, a larger one ``first..last``."""
    from mfbench.space import Categorical

    pooled: dict[tuple[Any, ...], list[str]] = {}
    for hp in space.hyperparameters:
        if isinstance(hp, Categorical):
            pooled.setdefault(hp.choices, []).append(hp.name)
    return {(names[0] if len(names) == 1 else f"{names[0]}..{names[-1]}"): (names, choices)
            for choices, names in pooled.items()}


def value_shares(rows: pd.DataFrame, fidelity: str, configs: dict[int, dict[str, Any]],
                 groups: dict[str, tuple[list[str], tuple[Any, ...]]]) -> dict[str, float]:
    """Per group and value: its share among the trials with a result (``picks: label=value``)
    and among the results (``results: label=value``, each trial weighted by its result count).

    Args:
        rows: one row per result, with ``trial_id`` and ``fidelity``.
        configs: every trial's configuration (:func:`reference_configurations`).
        groups: :func:`categorical_groups`.
    """
    counts = rows.groupby("trial_id")[fidelity].size().sort_index()
    weights = counts.to_numpy(dtype=float)
    shares: dict[str, float] = {}
    for label, (names, choices) in groups.items():
        values = np.asarray([[trial_configuration(configs, int(t), names)[n] for n in names] for t in counts.index],
                            dtype=object)  # (trials, names)
        for choice in choices:
            per_trial = (values == choice).mean(axis=1).astype(float)
            shares[f"picks: {label}={choice}"] = float(per_trial.mean())
            shares[f"results: {label}={choice}"] = float(per_trial @ weights / weights.sum())
    return shares


#: the most configurations of a finite space the time model is fitted on (else a sample of TIME_MODEL_SAMPLE)
TIME_MODEL_ALL = 20_000
TIME_MODEL_SAMPLE = 2_000


def _value_counts(config: dict[str, Any], groups: dict[str, tuple[list[str], tuple[Any, ...]]]) -> list[float]:
    """How often each value of each group occurs in ``config``, the first value of every group
    left out (the intercept stands for it): the regressors of :func:`fit_time_model`."""
    return [float(sum(config[n] == choice for n in names)) for names, choices in groups.values()
            for choice in choices[1:]]


def fit_time_model(blackbox: Any, groups: dict[str, tuple[list[str], tuple[Any, ...]]],
                   elapsed_attr: str) -> tuple[np.ndarray, float]:
    """Least-squares coefficients ``(1 + regressors,)`` of a configuration's mean seconds per
    fidelity unit (its elapsed time at the largest fidelity over that fidelity, table seed 0)
    in :func:`_value_counts`, and the fit's R^2."""
    space = blackbox.config_space
    if space.is_finite and space.size <= TIME_MODEL_ALL:
        configs = space.enumerate()
    else:
        rng = np.random.default_rng(0)
        configs = [space.sample(rng) for _ in range(TIME_MODEL_SAMPLE)]
    index = blackbox.objective_names.index(elapsed_attr)
    top = blackbox.fidelity_values[-1:]
    per_unit = np.asarray([float(blackbox.evaluate(c, 0, top)[0, index]) for c in configs]) / float(top[0])
    design = np.asarray([[1.0, *_value_counts(c, groups)] for c in configs])
    coefficients, *_ = np.linalg.lstsq(design, per_unit, rcond=None)
    residual = per_unit - design @ coefficients
    spread = float(((per_unit - per_unit.mean()) ** 2).sum())
    return coefficients, (1.0 - float(residual @ residual) / spread) if spread > 0 else 1.0


def modelled_seconds_per_result(rows: pd.DataFrame, fidelity: str, configs: dict[int, dict[str, Any]],
                                groups: dict[str, tuple[list[str], tuple[Any, ...]]],
                                coefficients: np.ndarray) -> float:
    """The seconds per result the time model gives the run's trials, each weighted by its results."""
    counts = rows.groupby("trial_id")[fidelity].size().sort_index()
    names = [n for names, _ in groups.values() for n in names]
    predicted = [float(coefficients @ np.asarray([1.0, *_value_counts(trial_configuration(configs, int(t), names),
                                                                      groups)]))
                 for t in counts.index]
    return float(np.asarray(predicted) @ counts.to_numpy(dtype=float) / counts.sum())


def compare(reference: list[dict[str, float]], ours: list[dict[str, float]],
            names: Sequence[str] = tuple(FIGURES)) -> list[dict[str, Any]]:
    """Per figure (``names``): both sides' mean and standard error over runs, and ``z`` of ours minus the reference."""
    out = []
    for name in names:
        ref = np.asarray([r[name] for r in reference], dtype=float)
        own = np.asarray([o[name] for o in ours], dtype=float)
        se_ref = ref.std(ddof=1) / math.sqrt(len(ref)) if len(ref) > 1 else math.nan
        se_own = own.std(ddof=1) / math.sqrt(len(own)) if len(own) > 1 else math.nan
        spread = math.hypot(se_ref, se_own)
        diff = float(own.mean() - ref.mean())
        if not (math.isfinite(diff) and math.isfinite(spread)):
            z = math.nan
        elif spread > 0:
            z = diff / spread
        else:  # identical runs on both sides (or a constant figure): 0 if the means agree
            z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        out.append({"figure": name, "reference": float(ref.mean()), "reference_se": se_ref,
                    "ours": float(own.mean()), "ours_se": se_own, "z": z})
    return out


#: the figure of the time model (:func:`modelled_seconds_per_result`), where the space has categoricals
MODELLED = "seconds per result from the values"


def share_names(runs: list[dict[str, float]]) -> list[str]:
    """The value shares (:func:`value_shares`) and the modelled seconds per result among a
    side's figures, in their order."""
    return [name for name in runs[0] if name not in FIGURES] if runs else []


def markdown(rows: list[dict[str, Any]], seeds: Sequence[int], method: str,
             shares: list[dict[str, Any]] | None = None, time_model_r2: float | None = None) -> str:
    lines = [f"{method}, seeds {', '.join(map(str, seeds))}: mean ± se over runs, both sides scored on our blackbox",
             "", "| figure | reference | ours | z |", "|---|---|---|---|"]
    for row in rows:
        shape = FIGURES[row["figure"]]
        lines.append(f"| {row['figure']} | {shape.format(row['reference'])} ± {shape.format(row['reference_se'])} | "
                     f"{shape.format(row['ours'])} ± {shape.format(row['ours_se'])} | {row['z']:+.2f} |")
    if shares:
        lines += ["", "What the trials are made of: each categorical value's share among the trials with a result "
                  "(picks) and among the results (each trial weighted by its results)", "",
                  "| share | reference | ours | z |", "|---|---|---|---|"]
        lines += [f"| {row['figure']} | {row['reference']:.4f} ± {row['reference_se']:.4f} | "
                  f"{row['ours']:.4f} ± {row['ours_se']:.4f} | {row['z']:+.2f} |" for row in shares]
        if time_model_r2 is not None:
            lines += ["", f"The row `{MODELLED}` is the time model's seconds per result (a linear model of a "
                      f"configuration's epoch time in the counts of its categorical values, R^2 {time_model_r2:.3f} "
                      "on the blackbox): what the measured seconds per result would be if only the composition "
                      "of the trained configurations mattered."]
    return "\n".join(lines)


def _elapsed_function(blackbox: Any, configs: dict[int, dict[str, Any]], seeds: dict[int, int],
                      elapsed_attr: str) -> Any:
    index = blackbox.objective_names.index(elapsed_attr)
    names = blackbox.config_space.names

    def elapsed_of(trial: int, fidelities: np.ndarray) -> np.ndarray:
        config = trial_configuration(configs, trial, names)
        seed = max(int(seeds[trial]), 0)  # a surrogate's reference rows say -1: its one seed
        return blackbox.evaluate(config, seed, fidelities.astype(blackbox.fidelity_values.dtype))[:, index]

    return elapsed_of


def decompose(reference_dir: Path, method: str, seeds: Sequence[int], overrides: list[str],
              skip_first: int) -> tuple[list[dict[str, float]], list[dict[str, float]], float | None]:
    """The figures of the reference's kept runs and of ours, seed by seed, and the R^2 of the
    time model (:func:`fit_time_model`; ``None`` for a space without categoricals)."""
    missing = [str(reference_dir / f"{method}-{seed}.parquet") for seed in seeds
               if not (reference_dir / f"{method}-{seed}.parquet").is_file()]
    if missing:  # before anything is simulated
        raise SystemExit(f"no kept reference run {', '.join(missing)}: make them with compare_with_syne_tune.py "
                         f"--only reference --keep-reference-output {reference_dir} --methods {method}")
    from mfbench.api import compose, simulate
    from mfbench.config.resolve import instantiate

    reference, ours = [], []
    blackbox, time_model_r2 = None, []
    for seed in seeds:
        path = reference_dir / f"{method}-{seed}.parquet"
        columns, metadata = simulate(compose([f"method={method}", f"seed={seed}", *overrides]))
        rows = pd.DataFrame(columns)
        if blackbox is None:  # the same for every seed: opened once, from the first run's resolved config
            blackbox = instantiate(metadata["config"]["benchmark"]).open()
            if not blackbox.fidelity_is_cumulative:
                raise SystemExit("volume_decomposition.py needs cumulative fidelities (epochs): one training run "
                                 "per trial")
            groups = categorical_groups(blackbox.config_space)
            if groups:
                coefficients, r2 = fit_time_model(blackbox, groups, metadata["elapsed_time_attr"])
                time_model_r2.append(r2)
        budget = float(metadata["stopping"]["max_wallclock_time"])
        workers = int(metadata["n_workers"])
        elapsed_attr, fidelity = metadata["elapsed_time_attr"], metadata["fidelity_attr"]
        for side, side_rows, column in ((ours, rows, fidelity), (reference, pd.read_parquet(path), "fidelity")):
            table_seeds = side_rows.groupby("trial_id")["table_seed"].first().to_dict()
            configs = reference_configurations(side_rows)
            elapsed_of = _elapsed_function(blackbox, configs, table_seeds, elapsed_attr)
            figures = {**run_figures(side_rows, column, elapsed_of, budget, workers, skip_first),
                       **value_shares(side_rows, column, configs, groups)}
            if groups:
                figures[MODELLED] = modelled_seconds_per_result(side_rows, column, configs, groups, coefficients)
            side.append(figures)
    return reference, ours, (time_model_r2[0] if time_model_r2 else None)


def _seed(text: str) -> int:
    if "=" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is an override, not a seed: put the overrides after '--'")
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed (an integer)") from None


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference-dir", type=Path, required=True,
                   help="the reference's kept runs (<method>-<seed>.parquet, from --keep-reference-output)")
    p.add_argument("--method", required=True)
    p.add_argument("--seeds", type=_seed, nargs="+", required=True, help="at least two; the overrides follow '--'")
    p.add_argument("--skip-first", type=int, default=0,
                   help="leave the first N trials (random initial configurations) out of the picks' first-fidelity "
                        "time (the GP methods: 6)")
    p.add_argument("--out", type=Path, help="also write the table here (markdown)")
    p.add_argument("overrides", nargs="*", help="mfbench overrides of our runs (benchmark=..., n_workers=...)")
    args = p.parse_args(argv)
    if len(args.seeds) < 2:
        p.error("--seeds: give at least two (a standard error needs two runs)")
    reference, ours, r2 = decompose(args.reference_dir, args.method, args.seeds, args.overrides, args.skip_first)
    rows = compare(reference, ours)
    shares = compare(reference, ours, share_names(ours))
    text = markdown(rows, args.seeds, args.method, shares, r2)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return rows + shares


if __name__ == "__main__":
    main()
