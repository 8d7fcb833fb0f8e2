"""``benchmark=yahpo``: any YAHPO Gym scenario and instance, with the reference's defaults.

``python -m mfbench benchmark=yahpo benchmark.scenario=rbv2_xgboost benchmark.instance=1220
benchmark.metric=auc`` builds the benchmark the way Syne Tune 0.13's
``benchmark_definitions/yahpo.py`` does: the metric's direction, the elapsed-time attribute
(the scenario's runtime objective), 4 workers and the scenario's simulated budget, each
overridable. The scenarios and their inputs are listed in
:mod:`mfbench.blackbox.sources.yahpo_scenarios`, their conditional spaces described in
:mod:`mfbench.blackbox.sources.yahpo_space` and their fidelities in :mod:`mfbench.blackbox.sources.yahpo`. Scenario, instance and metric are checked when the
config is instantiated; the instance needs the data (its list is in the model's config space),
so a wrong instance is reported when the run opens it, with the valid ones.
"""
from __future__ import annotations

from functools import partial
from typing import Any

from mfbench.benchmarks.base import Benchmark
from mfbench.blackbox.sources.yahpo import yahpo_blackbox
from mfbench.blackbox.sources.yahpo_scenarios import MAXIMISED, did_you_mean, scenario_of
from mfbench.errors import ConfigError


def yahpo_benchmark(
    scenario: str = "lcbench",
    instance: str | int | None = None,
    metric: str | None = None,
    mode: str | None = None,
    fidelity_levels: Any = None,
    repl: int = 10,
    n_workers: int = 4,
    max_wallclock_time: float | None = None,
    max_fidelity: int | None = None,
    cache_dir: str | None = None,
    data_dir: str | None = None,
    description: str | None = None,
) -> Benchmark:
    """A YAHPO scenario as a benchmark (the keys of ``conf/benchmark/yahpo.yaml``).

    Args:
        scenario: one of :data:`mfbench.blackbox.sources.yahpo_scenarios.SCENARIOS`.
        instance: the instance (e.g. an OpenML task id, a number on the command line is read as
            its string); ``None``: the scenario's default.
        metric: the objective to optimise; ``None``: the reference's (``val_accuracy`` for
            lcbench / nb301, ``f1`` for iaml / rbv2, ``valid_loss`` for fcnet).
        mode: ``min`` / ``max``; ``None``: ``max`` for accuracies, AUC and F1, else ``min``.
        fidelity_levels: the trainsize levels (iaml, rbv2): a list of fractions or
            ``{kind: linear|geometric, low, high, num}``; ``None``: the reference's 20 levels
            ``0.05 k``.
        repl: rbv2's replication input (the reference's 10).
        n_workers: workers (the reference's 4).
        max_wallclock_time: simulated seconds; ``None``: the reference's budget of the scenario.
        max_fidelity: the largest fidelity (epoch or trainsize level) a trial runs to.
        cache_dir: the cache root override.
        data_dir: a yahpo_data ``<scenario>/`` folder used in place of the cache.
        description: a sentence for the metadata (default: made up).

    Raises:
        ConfigError: unknown scenario or metric, or a mode that is not min / max.
    """
    info = scenario_of(scenario)
    metric = info.metric if metric is None else metric
    if metric not in info.targets:
        raise ConfigError(f"benchmark.metric={metric!r} is not an objective of YAHPO {info.name}"
                          f"{did_you_mean(metric, info.targets)}; its objectives are {list(info.targets)}")
    if mode is None:
        mode = "max" if metric in MAXIMISED else "min"
    if mode not in ("min", "max"):
        raise ConfigError(f"benchmark.mode={mode!r}: write min or max")
    instance = info.instance if instance is None else str(instance)
    blackbox = partial(yahpo_blackbox, info.name, instance, fidelity_levels=fidelity_levels, repl=repl,
                       cache_dir=cache_dir, data_dir=data_dir)
    budget = info.max_wallclock_time if max_wallclock_time is None else float(max_wallclock_time)
    return Benchmark(blackbox, metric=metric, mode=mode, fidelity_attr=info.fidelity,  # type: ignore[arg-type]
                     elapsed_time_attr=info.runtime, n_workers=n_workers, max_wallclock_time=budget,
                     max_fidelity=max_fidelity,
                     description=description or f"YAHPO Gym {info.name} surrogate (ONNX, yahpo_data 1.0.2), "
                                                f"instance {instance}, {metric} ({mode})")


yahpo_benchmark.data_source = "yahpo"  # type: ignore[attr-defined]  # for --help: which data it needs
