"""``benchmark=function``: a user's Python callable as a benchmark, computed on demand.

The callable, its space and its objectives make a blackbox
(:mod:`mfbench.blackbox.sources.user_function`, where the callable's contract is
described); this module adds what a run needs around it: the metric, the default budget
(:data:`mfbench.benchmarks.defaults.BUDGET_FULL_TRAININGS` times the midpoint
configuration's time at the largest fidelity) and a description.
"""
from __future__ import annotations

import math
from typing import Any

from mfbench.benchmarks.base import Benchmark
from mfbench.benchmarks.defaults import BUDGET_FULL_TRAININGS, DEFAULT_N_WORKERS
from mfbench.blackbox.sources.user_function import (DeclaredFunction, FunctionBlackbox, FunctionSource,
                                                    declare_function)
from mfbench.blackbox.sources.user_specs import choose_metric
from mfbench.errors import ConfigError


def function_benchmark(
    target: str,
    hyperparameters: Any,
    fidelities: list[int] | None = None,
    max_fidelity: int | None = None,
    metric: str | None = None,
    mode: str = "min",
    objectives: list[str] | None = None,
    elapsed_time: str | None = None,
    cost_per_fidelity: float | None = None,
    num_seeds: int = 1,
    fidelity_attr: str = "epoch",
    target_kwargs: dict[str, Any] | None = None,
    n_workers: int = DEFAULT_N_WORKERS,
    max_wallclock_time: float | None = None,
    description: str | None = None,
    name: str | None = None,
) -> Benchmark:
    """The benchmark of a Python callable (see :mod:`mfbench.blackbox.sources.user_function`).

    The parameters are the keys of ``conf/benchmark/function.yaml``: the config is checked
    against this signature, so a misspelled key fails at start.

    Args:
        target: ``package.module.callable`` (importable from the current directory), or
            ``path/to/file.py:callable``.
        hyperparameters: the space: a list of ``{name, type, choices | lower, upper, log}``
            or a mapping ``{name: spec}`` (:func:`mfbench.space.hyperparameter_from_dict`).
        fidelities: the fidelity values (integers >= 1, increasing); or
        max_fidelity: fidelities ``1..max_fidelity``.
        metric: objective to optimise (default: the only objective besides the time).
        mode: ``"min"`` or ``"max"``.
        objectives: the objectives, in order (default: the keys the callable returns for
            the midpoint configuration at the lowest fidelity, seed 0: one extra call).
        elapsed_time: objective holding cumulative training seconds (default: ``elapsed_time``).
        cost_per_fidelity: instead, simulated seconds per unit of fidelity.
        num_seeds: number of seeds the callable distinguishes.
        fidelity_attr: name of the fidelity in results (e.g. ``epoch``).
        target_kwargs: keyword arguments bound to the callable (``functools.partial``).
        n_workers: default number of workers.
        max_wallclock_time: default simulated budget in seconds (default: 20 x the time of
            the midpoint configuration at the largest fidelity, seed 0).
        description: a sentence for the metadata.
        name: the benchmark's name (run folder, metadata, analysis; default: the callable's
            name); read from the config by :mod:`mfbench.config.benchmark_name`, a key here
            only so that the config is checked against this signature. Nothing computed uses it.
    """
    del name  # names the run folder only (see the docstring)
    declared = declare_function(FunctionSource(
        target=target, hyperparameters=hyperparameters, fidelities=fidelities, max_fidelity=max_fidelity,
        objectives=objectives, elapsed_time=elapsed_time, cost_per_fidelity=cost_per_fidelity,
        num_seeds=num_seeds, target_kwargs=target_kwargs,
    ))
    metric = _metric(declared, metric)
    blackbox = declared.blackbox()
    if max_wallclock_time is None:
        max_wallclock_time = _default_budget(declared, blackbox)
    values = declared.fidelity_values
    return Benchmark(
        blackbox=blackbox, metric=metric, mode=mode,  # type: ignore[arg-type]
        fidelity_attr=fidelity_attr, elapsed_time_attr=declared.elapsed_time_attr, n_workers=n_workers,
        max_wallclock_time=float(max_wallclock_time),
        description=description or (f"Python function {target}: {len(declared.space.hyperparameters)} "
                                    f"hyperparameter(s), {fidelity_attr} {values[0]}..{values[-1]}, "
                                    "computed on demand"),
    )


def _metric(declared: DeclaredFunction, metric: str | None) -> str:
    """The given metric, checked to be an objective, else the only objective besides the time."""
    metric = choose_metric(metric, declared.metric_candidates, f"benchmark.target={declared.target}")
    if metric not in declared.objectives:
        raise ConfigError(f"benchmark.metric={metric!r} is not an objective of {declared.target}: "
                          f"{declared.objectives}")
    return metric


def _default_budget(declared: DeclaredFunction, blackbox: FunctionBlackbox) -> int:
    """:data:`BUDGET_FULL_TRAININGS` times the midpoint configuration's time at the largest fidelity, seed 0.

    One configuration, not a median as for a table: a callable has no finite set of
    configurations to take the median over, and every call may be costly.
    """
    values = declared.fidelity_values
    if declared.cost_per_fidelity is not None:
        full = declared.cost_per_fidelity * float(values[-1])
    else:
        elapsed = blackbox.objective_index(declared.elapsed_time_attr)
        full = float(blackbox.evaluate(declared.space.midpoint(), 0, values[-1:])[0, elapsed])
    if not full > 0:
        raise ConfigError(f"benchmark.target={declared.target}: cannot derive a default budget (the midpoint "
                          "configuration takes no time at the largest fidelity); "
                          "set benchmark.max_wallclock_time=SECONDS")
    return math.ceil(BUDGET_FULL_TRAININGS * full)
