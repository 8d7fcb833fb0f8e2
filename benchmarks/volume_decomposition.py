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

Where the picks differ, a space with categorical hyperparameters gets two more answers. The
figure ``seconds per result from the values``: a linear model of a configuration's epoch time
in the counts of its categorical values (:class:`TimeModel`), fitted by least squares on the
blackbox (every configuration of a finite space up to 20,000, else a sample of 2,000; table
seed 0; its R^2 and coefficients printed), gives every trial's modelled epoch time; times the
fidelity each trial reached, summed, over the results, it is the seconds per result if an
epoch's cost depended on these values alone. Where it moves as the measured seconds per result
do, the difference is in which configurations were trained (whether workers were idle is the
worker-seconds' row). And a second table: every value's share of its group's slots among the
trials (``picks``) and among the results (``results``: each trial weighted by its number of
results, so the trials trained long count most). Hyperparameters with the same choices are
pooled (NB201's six edges share five operations: one row per operation).

One row per figure: the mean over seeds of both sides, and ``z`` (ours minus the reference over
the standard error of the difference of means; ``nan`` where a figure is undefined)::

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


Groups = dict[str, tuple[list[str], tuple[Any, ...]]]
"""Categorical hyperparameters pooled by identical choices: label -> (names, choices)."""


def categorical_groups(space: Any) -> Groups:
    """The categorical hyperparameters of ``space`` with two or more choices, pooled by identical
    choices. A group of one is labelled by its name, a larger one ``first..last``."""
    from mfbench.space import Categorical

    pooled: dict[tuple[Any, ...], list[str]] = {}
    for hp in space.hyperparameters:
        if isinstance(hp, Categorical) and len(hp.choices) > 1:
            pooled.setdefault(hp.choices, []).append(hp.name)
    return {(names[0] if len(names) == 1 else f"{names[0]}..{names[-1]}"): (names, choices)
            for choices, names in pooled.items()}


def _group_values(configs: dict[int, dict[str, Any]], trials: Sequence[int], label: str,
                  names: list[str], choices: tuple[Any, ...]) -> np.ndarray:
    """The group's values of every trial, ``(trials, len(names))`` (objects); SystemExit if one is
    not among the choices (a parquet that stored a number as text would else count as nothing)."""
    values = np.asarray([[trial_configuration(configs, int(t), names)[n] for n in names] for t in trials],
                        dtype=object)
    known = np.zeros(values.shape, dtype=bool)
    for choice in choices:
        known |= values == choice
    if not known.all():
        raise SystemExit(f"{label}: value {values[~known][0]!r} is not one of the choices {list(choices)}")
    return values


def value_shares(rows: pd.DataFrame, configs: dict[int, dict[str, Any]], groups: Groups) -> dict[str, float]:
    """Per group and value, fractions in [0, 1] that sum to 1 over a group's values:

    * ``picks: label=value``: the value's share of the group's slots (a pooled group of six
      edges has six per trial), averaged over the trials with a result;
    * ``results: label=value``: the same, each trial weighted by its number of results.

    Keys in the order of the groups and their choices, ``picks`` before ``results``.

    Args:
        rows: one row per result, with ``trial_id``.
        configs: every trial's configuration (:func:`reference_configurations`).
        groups: :func:`categorical_groups`.
    """
    counts = rows.groupby("trial_id").size().sort_index()
    weights = counts.to_numpy(dtype=float)
    shares: dict[str, float] = {}
    for label, (names, choices) in groups.items():
        values = _group_values(configs, counts.index, label, names, choices)
        for choice in choices:
            per_trial = (values == choice).mean(axis=1).astype(float)
            shares[f"picks: {label}={choice}"] = float(per_trial.mean())
            shares[f"results: {label}={choice}"] = float(per_trial @ weights / weights.sum())
    return shares


#: the most configurations of a finite space the time model is fitted on (else a sample of TIME_MODEL_SAMPLE)
TIME_MODEL_ALL = 20_000
TIME_MODEL_SAMPLE = 2_000


def _value_counts(config: dict[str, Any], groups: Groups) -> list[float]:
    """The time model's regressors of ``config``: how often each non-baseline value occurs."""
    return [float(sum(config[n] == choice for n in names)) for names, choices in groups.values()
            for choice in choices[1:]]


class TimeModel:
    """A configuration's seconds per fidelity unit (an epoch), linear in the counts of its
    categorical values: ``intercept + sum_v coefficient_v * count_v`` where the first choice of
    every group is the baseline (no coefficient; the intercept is a configuration holding only
    baselines).

    Attributes:
        groups: :func:`categorical_groups`.
        coefficients: ``(1 + regressors,)``, seconds per fidelity unit: the intercept, then one per
            non-baseline value in the order of :attr:`labels`.
        r2: the fit's coefficient of determination on the configurations it was fitted on.
        rank: the rank of the design (below ``len(coefficients)``: a value never seen, its
            coefficient 0).
    """

    def __init__(self, groups: Groups, coefficients: np.ndarray, r2: float, rank: int) -> None:
        self.groups, self.coefficients, self.r2, self.rank = groups, coefficients, r2, rank

    @property
    def labels(self) -> list[str]:
        """``label=value`` of each regressor, in the order of :attr:`coefficients` after the intercept."""
        return [f"{label}={choice}" for label, (_, choices) in self.groups.items() for choice in choices[1:]]

    def seconds_per_unit(self, config: dict[str, Any]) -> float:
        return float(self.coefficients @ np.asarray([1.0, *_value_counts(config, self.groups)]))

    def describe(self) -> str:
        baselines = ", ".join(f"{label}={choices[0]}" for label, (_, choices) in self.groups.items())
        terms = ", ".join(f"{label} {value:+.2f}" for label, value in zip(self.labels, self.coefficients[1:]))
        return (f"R^2 {self.r2:.3f}; seconds per fidelity unit {self.coefficients[0]:.2f} with only baseline values "
                f"({baselines}), per occurrence of each other value: {terms}"
                + ("" if self.rank == len(self.coefficients) else
                   f"; rank {self.rank} of {len(self.coefficients)}: values never seen get 0"))


def fit_time_model(blackbox: Any, groups: Groups, elapsed_attr: str) -> TimeModel:
    """Least squares of a configuration's mean seconds per fidelity unit (its elapsed time at the
    largest fidelity over that fidelity, table seed 0) on the counts of its categorical values,
    over every configuration of a finite space of up to :data:`TIME_MODEL_ALL`, else over
    :data:`TIME_MODEL_SAMPLE` drawn ones."""
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
    coefficients, _, rank, _ = np.linalg.lstsq(design, per_unit, rcond=None)
    residual = per_unit - design @ coefficients
    spread = float(((per_unit - per_unit.mean()) ** 2).sum())
    r2 = (1.0 - float(residual @ residual) / spread) if spread > 0 else 1.0
    return TimeModel(groups, coefficients, r2, int(rank))


def modelled_seconds_per_result(rows: pd.DataFrame, fidelity: str, configs: dict[int, dict[str, Any]],
                                model: TimeModel) -> float:
    """The run's seconds per result as the time model has it: every trial's modelled seconds per
    fidelity unit times the fidelity it reached, summed, over the number of results. The same
    definition as the measured ``seconds per result`` (worker-seconds over results), so the
    two agree where the model is exact; it is linear in the trials' value counts."""
    reached = rows.groupby("trial_id")[fidelity].max().sort_index()
    names = [n for names, _ in model.groups.values() for n in names]
    modelled = sum(model.seconds_per_unit(trial_configuration(configs, int(t), names)) * float(top)
                   for t, top in reached.items())
    return modelled / len(rows)


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
#: how each figure of the first table is printed (the modelled one only where there are categoricals)
FORMATS: dict[str, str] = {**FIGURES, MODELLED: "{:.3f}"}


def figure_names(runs: list[dict[str, float]]) -> list[str]:
    """The figures of the first table that a side's runs have, in report order."""
    return [name for name in FORMATS if runs and name in runs[0]]


def share_names(runs: list[dict[str, float]]) -> list[str]:
    """The value shares (:func:`value_shares`) among a side's figures, in their order."""
    return [name for name in runs[0] if name not in FORMATS] if runs else []


def _table_row(row: dict[str, Any], shape: str) -> str:
    """One row of :func:`compare` as a markdown table row, both sides' values printed as ``shape``."""
    return (f"| {row['figure']} | {shape.format(row['reference'])} ± {shape.format(row['reference_se'])} | "
            f"{shape.format(row['ours'])} ± {shape.format(row['ours_se'])} | {row['z']:+.2f} |")


def markdown(rows: list[dict[str, Any]], seeds: Sequence[int], method: str,
             shares: list[dict[str, Any]] | None = None, time_model: TimeModel | None = None) -> str:
    lines = [f"{method}, seeds {', '.join(map(str, seeds))}: mean ± se over runs, both sides scored on our blackbox",
             "", "| figure | reference | ours | z |", "|---|---|---|---|"]
    lines += [_table_row(row, FORMATS[row["figure"]]) for row in rows]
    if time_model is not None:
        lines += ["", f"`{MODELLED}`: what the seconds per result would be if an epoch's time depended on the "
                  "categorical values alone, through a linear time model fitted on the blackbox "
                  f"({time_model.describe()}). Where it follows the measured seconds per result, the difference is "
                  "in which configurations were trained; whether workers were idle is the worker-seconds' row."]
    if shares:
        lines += ["", "What the trials are made of: each categorical value's share of its group's slots, averaged "
                  "over the trials with a result (picks) and weighted by each trial's results (results)", "",
                  "| share | reference | ours | z |", "|---|---|---|---|"]
        lines += [_table_row(row, "{:.4f}") for row in shares]
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
              skip_first: int) -> tuple[list[dict[str, float]], list[dict[str, float]], TimeModel | None]:
    """The figures of the reference's kept runs and of ours, seed by seed, and the time model
    (:func:`fit_time_model`; ``None`` for a space without categoricals)."""
    missing = [str(reference_dir / f"{method}-{seed}.parquet") for seed in seeds
               if not (reference_dir / f"{method}-{seed}.parquet").is_file()]
    if missing:  # before anything is simulated
        raise SystemExit(f"no kept reference run {', '.join(missing)}: make them with compare_with_syne_tune.py "
                         f"--only reference --keep-reference-output {reference_dir} --methods {method}")
    from mfbench.api import compose, simulate
    from mfbench.config.resolve import instantiate

    reference, ours = [], []
    blackbox, time_model = None, None
    groups: Groups = {}  # set with the blackbox, from the first run
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
                time_model = fit_time_model(blackbox, groups, metadata["elapsed_time_attr"])
        budget = float(metadata["stopping"]["max_wallclock_time"])
        workers = int(metadata["n_workers"])
        elapsed_attr, fidelity = metadata["elapsed_time_attr"], metadata["fidelity_attr"]
        for side, side_rows, column in ((ours, rows, fidelity), (reference, pd.read_parquet(path), "fidelity")):
            table_seeds = side_rows.groupby("trial_id")["table_seed"].first().to_dict()
            configs = reference_configurations(side_rows)
            elapsed_of = _elapsed_function(blackbox, configs, table_seeds, elapsed_attr)
            figures = {**run_figures(side_rows, column, elapsed_of, budget, workers, skip_first),
                       **value_shares(side_rows, configs, groups)}
            if time_model is not None:
                figures[MODELLED] = modelled_seconds_per_result(side_rows, column, configs, time_model)
            side.append(figures)
    return reference, ours, time_model


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
    reference, ours, time_model = decompose(args.reference_dir, args.method, args.seeds, args.overrides,
                                            args.skip_first)
    rows = compare(reference, ours, figure_names(ours))
    shares = compare(reference, ours, share_names(ours))
    text = markdown(rows, args.seeds, args.method, shares, time_model)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return rows + shares


if __name__ == "__main__":
    main()
