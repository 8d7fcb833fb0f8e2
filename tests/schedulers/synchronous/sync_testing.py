"""Small benchmarks and helpers shared by the tests of the synchronous methods."""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from mfbench.backend.simulator import SimulationOutcome, Simulator
from mfbench.benchmarks.base import Benchmark
from mfbench.blackbox.analytic import hartmann_blackbox
from mfbench.blackbox.base import Blackbox, TabularBlackbox
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.problem import Problem
from mfbench.searchers.random import RandomSearcher
from mfbench.space import Categorical, Config, ConfigSpace, Float, Integer
from mfbench.backend.stopping import StoppingCriterion


class ContinuousBlackbox(Blackbox):
    """A continuous, mixed-type surrogate-like blackbox (no table), epochs ``1..max_epoch``.

    ``value = (x - 0.3)^2 + (log10(lr) + 2.5)^2 / 4 + 0.05 |layers - 4| + penalty(act)
    + 1 / epoch``; an epoch costs ``10 * (1 + layers / 8)`` seconds.
    """

    def __init__(self, max_epoch: int = 27) -> None:
        self.config_space = ConfigSpace(
            (
                Float("x", 0.0, 1.0),
                Float("lr", 1e-4, 1e-1, log=True),
                Integer("layers", 1, 8),
                Categorical("act", ("relu", "tanh", "gelu")),
            )
        )
        self.fidelity_values = np.arange(1, max_epoch + 1)
        self.objective_names = ["loss", "elapsed_time"]
        self.num_seeds = 2

    def evaluate(self, config: Mapping[str, Any], seed: int, fidelities: np.ndarray) -> np.ndarray:
        base = (
            (config["x"] - 0.3) ** 2
            + (math.log10(config["lr"]) + 2.5) ** 2 / 4
            + 0.05 * abs(config["layers"] - 4)
            + {"relu": 0.0, "tanh": 0.1, "gelu": 0.05}[config["act"]]
            + 0.01 * seed
        )
        fidelities = np.asarray(fidelities, dtype=np.float64)
        value = base + 1.0 / fidelities
        elapsed = 10.0 * (1 + config["layers"] / 8) * fidelities
        return np.stack([value, elapsed], axis=1)


class NaNBlackbox(Blackbox):
    """Wraps a blackbox; the metric (column 0) is NaN for configurations ``failing(config)``."""

    def __init__(self, inner: Blackbox, failing: Callable[[Mapping[str, Any]], bool]) -> None:
        self.inner = inner
        self.failing = failing
        self.config_space = inner.config_space
        self.fidelity_values = inner.fidelity_values
        self.objective_names = inner.objective_names
        self.num_seeds = inner.num_seeds

    def evaluate(self, config: Mapping[str, Any], seed: int, fidelities: np.ndarray) -> np.ndarray:
        out = self.inner.evaluate(config, seed, fidelities)
        if self.failing(config):
            out = out.copy()
            out[:, 0] = np.nan
        return out


def tiny_table(num_configs: int, max_epoch: int = 9) -> TabularBlackbox:
    """A table of ``num_configs`` configurations ``x = i`` with value ``(x - 3)^2 + 1/epoch``."""
    space = ConfigSpace((Integer("x", 0, num_configs - 1),), table=[(i,) for i in range(num_configs)])
    epochs = np.arange(1, max_epoch + 1)
    x = np.arange(num_configs, dtype=np.float64)
    value = (x[:, None] - 3.0) ** 2 + 1.0 / epochs[None, :]
    elapsed = np.broadcast_to(10.0 * epochs[None, :], value.shape)
    evaluations = np.stack([value, elapsed], axis=-1)[:, None, :, :]  # (N, 1, F, 2)
    return TabularBlackbox(space, epochs, ["value", "elapsed_time"], evaluations)


def hartmann_benchmark(max_epoch: int = 9, grid_size: int = 5) -> Benchmark:
    """Hartmann-3 on a ``grid_size^3`` grid with ``max_epoch`` epochs (cheap to build)."""
    blackbox = hartmann_blackbox(dim=3, grid_size=grid_size, max_epoch=max_epoch, num_seeds=2)
    return Benchmark(blackbox, metric="value", elapsed_time_attr="elapsed_time", max_wallclock_time=1e9)


def benchmark_of(blackbox: Blackbox, metric: str | None = None) -> Benchmark:
    return Benchmark(blackbox, metric=metric or blackbox.objective_names[0], elapsed_time_attr="elapsed_time",
                     max_wallclock_time=1e9)


def problem_of(benchmark: Benchmark, n_workers: int = 1, seed: int = 0) -> Problem:
    blackbox = benchmark.open()
    return Problem(blackbox.config_space, benchmark.fidelities, benchmark.metric, benchmark.mode, n_workers, seed)


def simulate(
    make_scheduler: Callable[[Problem], Scheduler],
    benchmark: Benchmark,
    n_workers: int = 1,
    seed: int = 0,
    stopping: StoppingCriterion | None = None,
) -> tuple[Scheduler, SimulationOutcome]:
    """Run a scheduler on a benchmark through the real simulator."""
    problem = problem_of(benchmark, n_workers, seed)
    scheduler = make_scheduler(problem)
    stopping = (stopping or StoppingCriterion(max_wallclock_time=math.inf, max_num_evaluations=10_000))
    outcome = Simulator().run(benchmark, scheduler, problem, stopping.resolved(math.inf))
    return scheduler, outcome


def segments(outcome: SimulationOutcome) -> list[tuple[int, int, int]]:
    """``(trial_id, first fidelity, last fidelity)`` of every run segment, in order of its end."""
    rec = outcome.recorder
    out, start = [], {}
    for trial_id, fidelity, decision in zip(rec.trial_ids, rec.fidelities, rec.decisions):
        start.setdefault(trial_id, fidelity)
        if decision != "continue":
            out.append((trial_id, start.pop(trial_id), fidelity))
    return out


class Tracking(Scheduler):
    """Delegates to a scheduler and counts running trials and idle answers.

    ``answers`` lists ``"start"``, ``"resume"``, ``"wait"`` or ``"none"`` per suggest call;
    ``max_running`` is the largest number of trials running at once.
    """

    def __init__(self, inner: Scheduler) -> None:
        super().__init__(inner.problem)
        self.inner = inner
        self.running: set[int] = set()
        self.max_running = 0
        self.answers: list[str] = []

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        suggestion = self.inner.suggest(trial_id)
        if suggestion is None:
            self.answers.append("none")
        elif suggestion.is_wait:
            self.answers.append("wait")
        else:
            self.answers.append("resume" if suggestion.is_resume else "start")
            self.running.add(suggestion.trial_id if suggestion.is_resume else trial_id)  # type: ignore[arg-type]
            self.max_running = max(self.max_running, len(self.running))
        return suggestion

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        return self.inner.on_result(trial_id, fidelity, metric)

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        self.running.discard(trial_id)
        self.inner.on_trial_end(trial_id, status)


class RecordingSearcher(RandomSearcher):
    """Random search that records what the scheduler tells it."""

    def __init__(self, problem: Problem, **kwargs: Any) -> None:
        super().__init__(problem, **kwargs)
        self.pending: list[tuple[int, int]] = []
        self.observed: list[tuple[int, int, float]] = []
        self.removed: list[int] = []

    def register_pending(self, trial_id: int, config: Config, fidelity: int) -> None:
        self.pending.append((trial_id, fidelity))

    def observe(self, trial_id: int, config: Config, fidelity: int, loss: float) -> None:
        self.observed.append((trial_id, fidelity, loss))

    def remove_pending(self, trial_id: int) -> None:
        self.removed.append(trial_id)
