"""Hand-traced simulations on a non-cumulative fidelity (a training-set fraction).

Each fraction is trained from scratch: a segment still reports every level above the
checkpoint up to the milestone, but each level is charged its whole elapsed time, one after
the other (docs/simulator.md#non-cumulative). The same model declared cumulative is the
control: only the charged times differ.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

from mfbench.backend.simulator import Simulator
from mfbench.backend.stopping import StoppingCriterion
from mfbench.benchmarks.base import Benchmark
from mfbench.blackbox.fidelity import FidelityLevels
from mfbench.blackbox.surrogate import SurrogateBlackbox
from mfbench.schedulers.asha import ASHA
from mfbench.schedulers.synchronous.hyperband import SynchronousHyperband
from mfbench.searchers.random import RandomSearcher
from mfbench.space import Categorical, ConfigSpace
from tests.conftest import make_problem

NO_DELAYS = dict(start_delay=0.0, result_delay=0.0, complete_delay=0.0, stop_delay=0.0)
ORDER = [{"x": "a"}, {"x": "b"}, {"x": "c"}]
#: levels 1, 2, 3 stand for training-set fractions 1/8, 3/8, 1 (exact in binary: exact times)
FRACTIONS = FidelityLevels((0.125, 0.375, 1.0))
#: f(x) and the seconds of one evaluation on the whole training set, per configuration
F_OF_X = {"a": 0.0, "b": 0.1, "c": 0.4}
FULL_SECONDS = {"a": 80.0, "b": 160.0, "c": 40.0}


def toy_blackbox(cumulative: bool = False) -> SurrogateBlackbox:
    """loss = f(x) + 0.0625 / s, elapsed_time = t0(x) * s, on x in {a, b, c}.

    level (fraction):    1 (1/8)  2 (3/8)  3 (1)
    loss  a / b / c:     0.5 / 0.6 / 0.9 at level 1; then 1/6, 1/16 above f(x)
    seconds  a:          10       30       80
             b:          20       60       160
             c:           5       15       40
    """

    def predict(configs, fidelities, seed):
        s = FRACTIONS.values_at(fidelities)
        x = [c["x"] for c in configs]
        loss = np.array([F_OF_X[v] for v in x]) + 0.0625 / s
        return np.stack([loss, np.array([FULL_SECONDS[v] for v in x]) * s], axis=1)

    space = ConfigSpace((Categorical("x", ("a", "b", "c")),))
    return SurrogateBlackbox(space, FRACTIONS.levels(), ["loss", "elapsed_time"], predict,
                             fidelity_is_cumulative=cumulative)


def _run(scheduler_factory, cumulative: bool = False, n_workers: int = 2, **delays):
    benchmark = Benchmark(blackbox=toy_blackbox(cumulative), metric="loss", fidelity_attr="trainsize_level",
                          n_workers=n_workers, max_wallclock_time=1000.0)
    problem = make_problem(benchmark.open(), n_workers=n_workers)
    outcome = Simulator(**{**NO_DELAYS, **delays}).run(benchmark, scheduler_factory(problem), problem,
                                                       StoppingCriterion(max_wallclock_time=1000.0))
    return outcome


def _rows(outcome):
    c = outcome.recorder.to_columns()
    return [(int(t), c["config_x"][i], int(f), float(s), d) for i, (t, f, s, d)
            in enumerate(zip(c["trial_id"], c["trainsize_level"], c["sim_time"], c["decision"]))]


def _searcher():
    return functools.partial(RandomSearcher, points_to_evaluate=ORDER)


def _asha_stop(problem):
    return ASHA(problem, type="stopping", searcher=_searcher())


def _asha_prom(problem):
    return ASHA(problem, type="promotion", searcher=_searcher())


def _synchb(problem):
    return SynchronousHyperband(problem, searcher=_searcher())


# ASHA, eta 3, grace 1, max_t 3: one rung at level 1 with quantile 1/3 (cutoff = linear
# 1/3-quantile of the rung's losses, none with fewer than 2).
#
# asha_stop: every trial runs to level 3.  t=0 a (w0), b (w1).  a@1 at 10: alone in the
# rung, continue.  b@1 at 20: [0.5, 0.6] cutoff 0.533, stop; c starts on w1: c@1 at 20+5=25,
# [0.5, 0.6, 0.9] cutoff 0.567, stop; nothing new is left.  a goes on from level 1 to 2 and
# 3, each trained from scratch: a@2 at 10 + 30 = 40, a@3 at 40 + 80 = 120 (cumulative: the
# tabulated totals, 30 and 80).
ASHA_STOP = [
    (0, "a", 1, 10.0, "continue"),
    (1, "b", 1, 20.0, "stop"),
    (2, "c", 1, 25.0, "stop"),
    (0, "a", 2, 40.0, "continue"),
    (0, "a", 3, 120.0, "stop"),
]
# asha_prom: t=0 a, b start to milestone 1.  a@1 at 10 pauses; c starts on w0: c@1 at 15
# pauses; [0.5, 0.9] cutoff 0.633: a is resumed from its checkpoint at level 1 to milestone 3
# at 15.  It does not repeat level 1 but gains no time from it either: a@2 at 15 + 30 = 45,
# a@3 at 45 + 80 = 125 (cumulative: 15 + (30 - 10) = 35 and 15 + (80 - 10) = 85).  b@1 at 20
# pauses ([0.5, 0.6, 0.9] cutoff 0.567 < 0.6); nothing new is left.
ASHA_PROM = [
    (0, "a", 1, 10.0, "pause"),
    (2, "c", 1, 15.0, "pause"),
    (1, "b", 1, 20.0, "pause"),
    (0, "a", 2, 45.0, "continue"),
    (0, "a", 3, 125.0, "stop"),
]
# synchb, eta 3, max_t 3: bracket 0 = level 1 x 3 slots, level 3 x 1 slot.  a (w0) and b (w1)
# start for level 1; a@1 at 10, c starts on w0: c@1 at 15; no new configuration for bracket 1,
# w0 waits.  b@1 at 20 completes the rung: a (best, 0.5) is resumed to level 3 on w0 at 20:
# a@2 at 20 + 30 = 50 (continue: below its slot's level), a@3 at 50 + 80 = 130
# (cumulative: 40 and 90).
SYNCHB = [
    (0, "a", 1, 10.0, "pause"),
    (2, "c", 1, 15.0, "pause"),
    (1, "b", 1, 20.0, "pause"),
    (0, "a", 2, 50.0, "continue"),
    (0, "a", 3, 130.0, "stop"),
]
CASES = {
    "asha_stop": (_asha_stop, ASHA_STOP, [30.0, 80.0]),
    "asha_prom": (_asha_prom, ASHA_PROM, [35.0, 85.0]),
    "synchb": (_synchb, SYNCHB, [40.0, 90.0]),
}


@pytest.mark.parametrize("method", list(CASES))
def test_hand_traced_non_cumulative_runs(method):
    factory, expected, _ = CASES[method]
    outcome = _run(factory)
    assert _rows(outcome) == expected
    # the recorded elapsed time is that of the evaluation at the row's level alone
    c = outcome.recorder.to_columns()
    seconds = {"a": [10.0, 30.0, 80.0], "b": [20.0, 60.0, 160.0], "c": [5.0, 15.0, 40.0]}
    assert c["elapsed_time"].tolist() == [seconds[x][level - 1] for x, level in zip(c["config_x"], c["trainsize_level"])]
    assert outcome.simulated_time == expected[-1][3]
    assert outcome.stop_reason == "space_exhausted" and outcome.num_trials_completed == 1


@pytest.mark.parametrize("method", list(CASES))
def test_same_model_declared_cumulative_charges_only_the_differences(method):
    factory, expected, cumulative_times = CASES[method]
    rows = _rows(_run(factory, cumulative=True))
    # the scheduler sees the same results and takes the same decisions: only a's levels 2, 3 move
    assert [row[:3] + row[4:] for row in rows] == [row[:3] + row[4:] for row in expected]
    assert [row[3] for row in rows if row[0] == 0 and row[2] > 1] == cumulative_times
    assert [row[3] for row in rows if not (row[0] == 0 and row[2] > 1)] == [
        row[3] for row in expected if not (row[0] == 0 and row[2] > 1)]


def test_delays_are_added_per_segment_not_per_level():
    # reference delays (start 0.05, result 0.05, complete 0.05, stop 0.1) on asha_prom: a@1 at
    # 0.05 + 10 + 0.05 = 10.1, w0 free at 10.15, c@1 at 10.15 + 0.05 + 5 + 0.05 = 15.25, w0 free
    # at 15.3: a resumed, a@2 at 15.3 + 0.05 + 30 + 0.05 = 45.4, a@3 at 45.4 + 80 = 125.4
    rows = _rows(_run(_asha_prom, start_delay=0.05, result_delay=0.05, complete_delay=0.05, stop_delay=0.1))
    np.testing.assert_allclose([row[3] for row in rows], [10.1, 15.25, 20.1, 45.4, 125.4])


def test_an_evaluation_takes_at_least_the_minimum_step():
    # a surrogate that predicts 0 s (or less) for a level is charged 0.01 s for it
    def predict(configs, fidelities, seed):
        return np.stack([np.zeros(len(fidelities)), np.array([0.0, -3.0, 2.0])[fidelities - 1]], axis=1)

    blackbox = SurrogateBlackbox(ConfigSpace((Categorical("x", ("a",)),)), [1, 2, 3], ["loss", "elapsed_time"],
                                 predict, fidelity_is_cumulative=False)
    benchmark = Benchmark(blackbox=blackbox, metric="loss", n_workers=1)
    problem = make_problem(blackbox, n_workers=1)
    outcome = Simulator(**NO_DELAYS).run(benchmark, ASHA(problem), problem, StoppingCriterion(max_wallclock_time=100.0))
    np.testing.assert_allclose(outcome.recorder.to_columns()["sim_time"], [0.01, 0.02, 2.02])


def test_the_blackbox_declares_its_fidelity_kind():
    from mfbench.blackbox.analytic import hartmann_blackbox
    from mfbench.blackbox.export import tabulate

    assert hartmann_blackbox(grid_size=2, max_epoch=3).fidelity_is_cumulative
    assert hartmann_blackbox(grid_size=2, max_epoch=3).describe()["fidelity_is_cumulative"] is True
    surrogate = toy_blackbox()
    assert surrogate.fidelity_is_cumulative is False and surrogate.describe()["fidelity_is_cumulative"] is False
    assert toy_blackbox(cumulative=True).describe()["fidelity_is_cumulative"] is True
    # a table of a non-cumulative surrogate is charged as the surrogate would be
    table = tabulate(surrogate, surrogate.config_space.enumerate())
    assert table.fidelity_is_cumulative is False and table.describe()["fidelity_is_cumulative"] is False
