"""Hand-traced simulations: event order, simulated times and decisions asserted exactly."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from mfbench.backend.simulator import Simulator
from mfbench.benchmarks.base import Benchmark
from mfbench.schedulers.asha import ASHA
from mfbench.schedulers.base import Decision, Scheduler, TrialSuggestion
from mfbench.schedulers.random_search import RandomSearch
from mfbench.searchers.random import RandomSearcher
from mfbench.backend.stopping import StoppingCriterion
from tests.conftest import make_problem, tiny_blackbox

NO_DELAYS = dict(start_delay=0.0, result_delay=0.0, complete_delay=0.0, stop_delay=0.0)
ORDER = [{"x": "a"}, {"x": "b"}, {"x": "c"}]


def _rows(outcome):
    c = outcome.recorder.to_columns()
    return [(int(t), c["config_x"][i], int(f), float(s), d)
            for i, (t, f, s, d) in enumerate(zip(c["trial_id"], c["epoch"], c["sim_time"], c["decision"]))]


def _run(benchmark, scheduler_factory, stopping=StoppingCriterion(max_wallclock_time=1000.0), n_workers=2,
         **delays):
    problem = make_problem(benchmark.open(), n_workers=n_workers)
    scheduler = scheduler_factory(problem)
    return Simulator(**{**NO_DELAYS, **delays}).run(benchmark, scheduler, problem, stopping), problem


def _asha_promotion(problem):
    return ASHA(problem, type="promotion", searcher=functools.partial(RandomSearcher, points_to_evaluate=ORDER))


def test_hand_traced_asha_promotion_with_two_workers(tiny_benchmark):
    # rung levels [1] (max_t 3), q = 1/3.  t=0: a, b start.  t=10 a@1 pause; c starts.
    # t=15 c@1 pause; rung [0.5, 0.9] cutoff 0.633 -> a resumed from its checkpoint at 1:
    # epochs 2, 3 take 10 s each -> t=25, 35.  t=20 b@1 pause; cutoff 0.567 < 0.6, no new
    # configuration left -> exhausted.  t=35 a@3 stop (completed); the run ends.
    outcome, _ = _run(tiny_benchmark, _asha_promotion)
    assert _rows(outcome) == [
        (0, "a", 1, 10.0, "pause"),
        (2, "c", 1, 15.0, "pause"),
        (1, "b", 1, 20.0, "pause"),
        (0, "a", 2, 25.0, "continue"),
        (0, "a", 3, 35.0, "stop"),
    ]
    workers = outcome.recorder.to_columns()["worker"].tolist()
    assert workers == [0, 0, 1, 0, 0]
    assert outcome.stop_reason == "space_exhausted" and outcome.space_exhausted
    assert (outcome.num_trials_started, outcome.num_trials_completed) == (3, 1)
    assert outcome.simulated_time == 35.0


def test_reference_delays_shift_every_event(tiny_benchmark):
    # start 0.05, result 0.05, complete 0.05, stop 0.1: a@1 at 0.05 + 10 + 0.05 = 10.1; its worker
    # is free at 10.15 (complete delay) so c starts then: c@1 at 10.15 + 0.05 + 5 + 0.05 = 15.25;
    # a resumes at 15.30: 15.30 + 0.05 + 10 + 0.05 = 25.4, then 35.4.
    outcome, _ = _run(tiny_benchmark, _asha_promotion, start_delay=0.05, result_delay=0.05,
                      complete_delay=0.05, stop_delay=0.1)
    times = [row[3] for row in _rows(outcome)]
    np.testing.assert_allclose(times, [10.1, 15.25, 20.1, 25.4, 35.4])


def test_pause_and_resume_do_not_respend_time(tiny_benchmark):
    """A resumed trial reports only the epochs above its checkpoint, offset by time spent."""

    class PauseEveryEpoch(Scheduler):
        def __init__(self, problem):
            super().__init__(problem)
            self.paused: list[int] = []

        def suggest(self, trial_id):
            if self.paused:
                trial = self.paused.pop(0)
                return TrialSuggestion.resume(trial, self.next[trial])
            if trial_id > 0:
                return None
            self.next = {0: 1}
            return TrialSuggestion.start({"x": "b"}, 1)

        def on_result(self, trial_id, fidelity, metric):
            if fidelity == 3:
                return Decision.STOP
            self.paused.append(trial_id)
            self.next[trial_id] = fidelity + 1
            return Decision.PAUSE

    outcome, _ = _run(tiny_benchmark, PauseEveryEpoch, n_workers=1)
    # b costs 20 s per epoch; each segment runs exactly one new epoch
    assert [(r[2], r[3]) for r in _rows(outcome)] == [(1, 20.0), (2, 40.0), (3, 60.0)]


def test_results_after_the_budget_are_not_counted(tiny_benchmark):
    outcome, _ = _run(tiny_benchmark, _asha_promotion, stopping=StoppingCriterion(max_wallclock_time=30.0))
    assert [r[3] for r in _rows(outcome)] == [10.0, 15.0, 20.0, 25.0]
    assert outcome.stop_reason == "max_wallclock_time" and outcome.simulated_time == 30.0


def test_the_progress_callback_ends_at_the_limit_that_stopped_the_run(tiny_benchmark):
    seen = []
    problem = make_problem(tiny_benchmark.open())
    Simulator(**NO_DELAYS).run(tiny_benchmark, _asha_promotion(problem), problem,
                               StoppingCriterion(max_wallclock_time=30.0), seen.append)
    assert seen[-1] == 30.0 and seen == sorted(seen)


@pytest.mark.parametrize("cumulative", [True, False])
def test_a_nan_elapsed_time_is_a_data_error_not_a_hang(cumulative):
    from mfbench.errors import DataError

    blackbox = _random_table(cumulative=cumulative)
    blackbox.evaluations[5, :, 3:, 1] = np.nan  # c5 has no elapsed time from its fourth epoch on
    benchmark = Benchmark(blackbox=blackbox, metric="loss", mode="min", elapsed_time_attr="elapsed_time",
                          n_workers=2, max_wallclock_time=1e6)
    fifo = functools.partial(RandomSearch, searcher=RandomSearcher)
    with pytest.raises(DataError, match=r"elapsed time \('elapsed_time'\) is NaN for the configuration \{'x': 'c5'\}"
                                        r" \(table seed \d\) at fidelities 4\.\.27:"):
        _run(benchmark, fifo, stopping=StoppingCriterion(max_wallclock_time=1e6))


def test_max_num_evaluations_and_trials(tiny_benchmark):
    outcome, _ = _run(tiny_benchmark, _asha_promotion, stopping=StoppingCriterion(max_num_evaluations=2))
    assert len(outcome.recorder) == 2 and outcome.stop_reason == "max_num_evaluations"
    outcome, _ = _run(tiny_benchmark, _asha_promotion, stopping=StoppingCriterion(max_num_trials_completed=1))
    assert outcome.num_trials_completed == 1 and outcome.stop_reason == "max_num_trials_completed"
    fifo = functools.partial(RandomSearch, searcher=RandomSearcher)
    outcome, _ = _run(tiny_benchmark, fifo, n_workers=1,
                      stopping=StoppingCriterion(max_wallclock_time=1e9, max_num_trials_started=2))
    assert outcome.num_trials_started == 2 and outcome.num_trials_completed == 2
    assert outcome.stop_reason == "max_num_trials_started"


def test_a_trial_limit_that_was_not_reached_is_not_the_stop_reason(tiny_benchmark):
    """A method that stops asking (wait, then nothing to do) before the limit: no_more_work."""

    class TwoThenWait(Scheduler):
        def suggest(self, trial_id):
            return TrialSuggestion.start({"x": "abc"[trial_id]}, 3) if trial_id < 2 else TrialSuggestion.wait()

        def on_result(self, trial_id, fidelity, metric):
            return Decision.CONTINUE

    outcome, _ = _run(tiny_benchmark, TwoThenWait,
                      stopping=StoppingCriterion(max_wallclock_time=1e9, max_num_trials_started=10))
    assert outcome.num_trials_started == 2 and outcome.stop_reason == "no_more_work"


def test_a_poll_after_the_budget_starts_no_trial(tiny_benchmark):
    """The polling tuner's clock jumps to the next poll; past the budget the run is over."""
    outcome, _ = _run(tiny_benchmark, _asha_promotion, stopping=StoppingCriterion(max_wallclock_time=25.0),
                      poll_interval=1000.0)
    assert outcome.stop_reason == "max_wallclock_time" and outcome.num_trials_started == 2  # the first two only
    with pytest.raises(ValueError, match="backend.poll_interval must be 0 .* or at least 0.001 s"):
        Simulator(poll_interval=1e-310)


def test_worker_count_is_respected_and_ties_are_fifo():
    from mfbench.blackbox.analytic import hartmann_blackbox

    benchmark = Benchmark(blackbox=hartmann_blackbox(grid_size=4, max_epoch=9), metric="value")
    problem = make_problem(benchmark.open(), n_workers=3, metric="value")
    scheduler = ASHA(problem, type="stopping")
    outcome = Simulator().run(benchmark, scheduler, problem, StoppingCriterion(max_wallclock_time=2000.0))
    c = outcome.recorder.to_columns()
    assert set(c["worker"].tolist()) == {0, 1, 2}
    assert np.all(np.diff(c["sim_time"]) >= 0)  # results arrive in time order
    # a worker never runs two trials at once: per worker, trial ids appear in one block each
    for w in range(3):
        trials = c["trial_id"][c["worker"] == w]
        changes = trials[np.flatnonzero(np.diff(trials)) + 1]
        assert len(changes) == len(set(changes.tolist()))


def test_table_seed_comes_from_the_run_rng_not_numpy_global():
    from mfbench.blackbox.analytic import hartmann_blackbox

    benchmark = Benchmark(blackbox=hartmann_blackbox(grid_size=4, max_epoch=9), metric="value")

    def seeds(seed):
        problem = make_problem(benchmark.open(), n_workers=2, metric="value", seed=seed)
        np.random.seed(seed + 123)  # the global RNG must not matter
        out = Simulator().run(benchmark, ASHA(problem), problem, StoppingCriterion(max_wallclock_time=3000.0))
        return out.recorder.to_columns()["table_seed"].tolist()

    first = seeds(0)
    assert first == seeds(0) and first != seeds(1)
    assert set(first) == {0, 1, 2}


def test_charging_decision_time_advances_the_clock(tiny_benchmark):
    import time

    class Slow(RandomSearch):
        def suggest(self, trial_id):
            time.sleep(0.02)
            return super().suggest(trial_id)

    outcome, _ = _run(tiny_benchmark, lambda p: Slow(p, searcher=functools.partial(RandomSearcher, points_to_evaluate=ORDER)),
                      n_workers=1, charge_decision_time=True)
    rows = _rows(outcome)
    assert rows[0][3] >= 10.02  # a's first epoch takes 10 s; the 0.02 s sleep was charged on top
    second_trial = next(r for r in rows if r[0] == 1)
    assert second_trial[3] >= 30.04 + 20.0  # two suggest calls charged before b's first epoch ends


def test_negative_delays_are_refused():
    with pytest.raises(ValueError, match="start_delay"):
        Simulator(start_delay=-1)
    for bad in (-5.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="backend.poll_interval must be a finite number of seconds >= 0"):
            Simulator(poll_interval=bad)


def test_polling_tuner_sees_results_and_free_workers_only_at_polls(tiny_benchmark):
    # The reference tuner's loop with 4-s polls, stop/pause delay 1 s, other delays 0.
    # t=0 a, b start.  a@1 (t=10) is seen at the poll at 12: pause, the clock moves to 13
    # (stop delay), c starts at 13 -> c@1 at 18.  Next poll 13 + 2 x 4 = 21: c@1 (18) and
    # b@1 (20) pause (clock 22, 23); a is promoted at 23 -> a@2 at 33, a@3 at 43; nothing new
    # is left.  Polls at 35 (a@2 continue) and 43 (a@3 completes).  Results keep their times.
    outcome, _ = _run(tiny_benchmark, _asha_promotion, stop_delay=1.0, poll_interval=4.0)
    assert _rows(outcome) == [
        (0, "a", 1, 10.0, "pause"),
        (2, "c", 1, 18.0, "pause"),
        (1, "b", 1, 20.0, "pause"),
        (0, "a", 2, 33.0, "continue"),
        (0, "a", 3, 43.0, "stop"),
    ]
    assert outcome.recorder.to_columns()["worker"].tolist() == [0, 0, 1, 0, 0]
    assert outcome.stop_reason == "space_exhausted" and outcome.simulated_time == 43.0


def test_polling_changes_nothing_when_every_event_falls_on_a_poll(tiny_benchmark):
    # all epoch times are multiples of 5 s and there are no delays: polls every 5 s see each
    # event at its own time, so the run is the event-driven one
    exact, _ = _run(tiny_benchmark, _asha_promotion)
    polled, _ = _run(tiny_benchmark, _asha_promotion, poll_interval=5.0)
    assert _rows(polled) == _rows(exact)


@pytest.mark.parametrize("fidelities, values, expected", [
    ([1, 2, 3], [1, 2, 3], 0),
    ([3, 4], [1, 2, 3, 4, 5], 2),          # a run inside the blackbox's values
    ([1, 3, 9], [1, 2, 3, 9], None),       # not consecutive values of the blackbox
    ([2, 1], [1, 2], None),                # not increasing
    ([4, 5, 6], [1, 2, 3, 4, 5], None),    # runs past the end
    ([0], [1, 2], None),                   # not among the values
    ([], [1, 2], None),
])
def test_contiguous_offset(fidelities, values, expected):
    from mfbench.backend.simulator import _contiguous_offset

    assert _contiguous_offset(np.array(fidelities), np.array(values)) == expected


def _random_table(mapped_to=None, cumulative: bool = True):
    from mfbench.blackbox.base import TabularBlackbox
    from mfbench.space import Categorical, ConfigSpace

    rng = np.random.default_rng(3)
    names = [f"c{i}" for i in range(40)]
    space = ConfigSpace((Categorical("x", tuple(names)),), table=[(n,) for n in names])
    loss = rng.random((40, 2, 27))
    steps = rng.uniform(1.0, 5.0, (40, 2, 27))
    cells = np.stack([loss, np.cumsum(steps, axis=-1) if cumulative else steps], -1)
    if mapped_to is not None:  # float32 and memory-mapped, as the opened tables are
        np.save(mapped_to / "cells.npy", cells.astype(np.float32))
        cells = np.load(mapped_to / "cells.npy", mmap_mode="r")
    blackbox = TabularBlackbox(space, np.arange(1, 28), ["loss", "elapsed_time"], cells)
    blackbox.fidelity_is_cumulative = cumulative
    return blackbox


class _FunctionOfTheTable:
    """Not a table: a Blackbox that computes its values (here: reads another table by value)."""

    def __init__(self, table):
        self.table = table
        self.config_space, self.fidelity_values = table.config_space, table.fidelity_values
        self.objective_names, self.num_seeds = table.objective_names, table.num_seeds

    def objective_index(self, name):
        return self.table.objective_index(name)

    def evaluate(self, config, seed, fidelities):
        return self.table.evaluate(config, seed, fidelities) * 1.5


def _function_blackbox(duck_typed: bool):
    from mfbench.blackbox.base import Blackbox

    if duck_typed:  # has evaluate() only, not derived from Blackbox
        return _FunctionOfTheTable(_random_table())

    class Function(_FunctionOfTheTable, Blackbox):
        pass

    return Function(_random_table())


_SETTINGS = {  # name -> (blackbox factory(tmp_path), the problem's fidelities)
    "table": (lambda tmp: _random_table(), np.arange(1, 28)),
    "memmap": (lambda tmp: _random_table(mapped_to=tmp), np.arange(1, 28)),
    "max_fidelity_prefix": (lambda tmp: _random_table(), np.arange(1, 10)),
    "offset_run": (lambda tmp: _random_table(), np.arange(3, 28)),
    "not_cumulative": (lambda tmp: _random_table(cumulative=False), np.arange(1, 28)),
    "function": (lambda tmp: _function_blackbox(False), np.arange(1, 28)),
    "duck_typed": (lambda tmp: _function_blackbox(True), np.arange(1, 28)),
}


@pytest.mark.parametrize("setting", list(_SETTINGS))
@pytest.mark.parametrize("kind", ["stopping", "promotion"])
def test_reading_segments_by_position_changes_no_result(monkeypatch, tmp_path, kind, setting):
    """The fast path (fidelities found by bisection, objectives read by position) records exactly
    what looking every segment's fidelities up by value records, in every setting it can meet."""
    import mfbench.backend.simulator as simulator_module
    from mfbench.blackbox.base import Blackbox
    from mfbench.problem import Problem

    make_blackbox, fidelities = _SETTINGS[setting]

    def run():
        blackbox = make_blackbox(tmp_path)
        benchmark = Benchmark(blackbox=lambda: blackbox, metric="loss", mode="min",  # a factory: any object
                              elapsed_time_attr="elapsed_time", n_workers=3, max_wallclock_time=400.0)
        problem = Problem(blackbox.config_space, fidelities, "loss", "min", 3, 5)
        scheduler = ASHA(problem, type=kind, grace_period=int(fidelities[0]), reduction_factor=3,
                         searcher=RandomSearcher)
        outcome = Simulator(**NO_DELAYS).run(benchmark, scheduler, problem, StoppingCriterion(max_wallclock_time=400.0))
        return outcome.recorder.to_columns()

    reads = []
    original = Blackbox.evaluate_run
    monkeypatch.setattr(Blackbox, "evaluate_run", lambda self, *args: reads.append(args) or original(self, *args))
    from mfbench.blackbox.base import TabularBlackbox

    original_table = TabularBlackbox.evaluate_run
    monkeypatch.setattr(TabularBlackbox, "evaluate_run",
                        lambda self, *args: reads.append(args) or original_table(self, *args))
    fast = run()
    if setting == "duck_typed":
        assert not reads  # no evaluate_run to call: by value
    else:
        assert len(reads) > 20 and min(start for _, _, start, _ in reads) == int(fidelities[0]) - 1
    monkeypatch.setattr(simulator_module, "_contiguous_offset", lambda fidelities, values: None)
    reads.clear()
    by_value = run()
    assert not reads  # and here the path by value
    assert len(fast["trial_id"]) > 50 and set(fast["decision"]) >= {"stop" if kind == "stopping" else "pause"}
    assert fast.keys() == by_value.keys()
    for name in fast:
        a, b = np.asarray(fast[name]), np.asarray(by_value[name])
        assert a.dtype == b.dtype and np.array_equal(a, b), name
