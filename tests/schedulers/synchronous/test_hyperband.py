"""Synchronous Hyperband through the real simulator: job assignment, pause/resume, failures, exhaustion."""
from __future__ import annotations

import math

import numpy as np
import pytest
from tests.schedulers.synchronous.sync_testing import (
    ContinuousBlackbox,
    NaNBlackbox,
    RecordingSearcher,
    Tracking,
    benchmark_of,
    hartmann_benchmark,
    segments,
    simulate,
    tiny_table,
)

from mfbench.problem import Problem
from mfbench.schedulers.synchronous.hyperband import SynchronousHyperband
from mfbench.space import ConfigSpace, Integer
from mfbench.backend.stopping import StoppingCriterion


def tracked_synchb(**kwargs):
    return lambda problem: Tracking(SynchronousHyperband(problem, **kwargs))


def metric_at(outcome, trial_id: int, fidelity: int) -> float:
    rec = outcome.recorder
    for t, f, objectives in zip(rec.trial_ids, rec.fidelities, rec.objectives):
        if t == trial_id and f == fidelity:
            return float(objectives[0])
    raise KeyError((trial_id, fidelity))


def best(outcome, trial_ids: list[int], fidelity: int, n: int) -> list[int]:
    return sorted(trial_ids, key=lambda t: metric_at(outcome, t, fidelity))[:n]


def test_one_worker_runs_the_brackets_in_order_and_resumes_from_checkpoints() -> None:
    # R = 9, eta = 3: brackets [(9,1),(3,3),(1,9)], [(5,3),(2,9)], [(3,9)], then again
    tracked, outcome = simulate(tracked_synchb(), hartmann_benchmark(), n_workers=1,
                                stopping=StoppingCriterion(max_num_trials_started=26))
    segs = segments(outcome)
    assert tracked.max_running == 1
    assert set(tracked.answers) == {"start", "resume"}
    # bracket 0: nine new trials to epoch 1, the best three resumed from epoch 2 to 3, the best to 9
    assert segs[:9] == [(t, 1, 1) for t in range(9)]
    top3 = best(outcome, list(range(9)), 1, 3)
    assert segs[9:12] == [(t, 2, 3) for t in top3]
    assert segs[12] == (best(outcome, top3, 3, 1)[0], 4, 9)
    # bracket 1: five new trials to epoch 3, the best two resumed to 9
    assert segs[13:18] == [(t, 1, 3) for t in range(9, 14)]
    assert segs[18:20] == [(t, 4, 9) for t in best(outcome, list(range(9, 14)), 3, 2)]
    # bracket 2: three new trials straight to epoch 9; bracket 3 starts again at epoch 1
    assert segs[20:23] == [(t, 1, 9) for t in range(14, 17)]
    assert segs[23] == (17, 1, 1)
    # trials pause only at rung levels 1 and 3, and stop at the maximum fidelity 9
    rec = outcome.recorder
    for fidelity, decision in zip(rec.fidelities, rec.decisions):
        if fidelity == 9:
            assert decision == "stop"
        else:
            assert decision in (("pause", "continue") if fidelity in (1, 3) else ("continue",))


def test_two_workers_never_idle_and_open_bracket_1_while_bracket_0_waits() -> None:
    tracked, outcome = simulate(tracked_synchb(), hartmann_benchmark(), n_workers=2,
                                stopping=StoppingCriterion(max_num_trials_started=40))
    assert tracked.max_running == 2
    assert set(tracked.answers) <= {"start", "resume"}
    manager = tracked.inner.manager
    assert manager.brackets[0].trial_ids[0] == list(range(9))
    # the 10th job comes while a base-rung trial of bracket 0 still runs: bracket 1 gets it
    assert tracked.answers[9] == "start" and manager.brackets[1].trial_ids[0][0] == 9
    assert tracked.answers[10] == "resume"


def test_many_workers_fill_all_of_them_at_once_and_end_cleanly_when_the_table_is_exhausted() -> None:
    benchmark = hartmann_benchmark(grid_size=7)  # 343 configurations
    tracked, outcome = simulate(tracked_synchb(), benchmark, n_workers=300)
    assert tracked.answers[:300] == ["start"] * 300
    assert tracked.max_running == 300
    manager = tracked.inner.manager
    # 17 slots per cycle of brackets (9 + 5 + 3): 17 cycles, then 9 of bracket 51 and 2 of bracket 52
    owner = {t: b for b, br in enumerate(manager.brackets) for t in br.trial_ids[0] if t is not None}
    assert [owner[t] for t in range(17)] == [0] * 9 + [1] * 5 + [2] * 3
    assert [owner[t] for t in range(289, 300)] == [51] * 9 + [52] * 2
    # every configuration is started exactly once; brackets that were running still finish
    configs = [tuple(c.values()) for c in outcome.trial_configs.values()]
    assert len(configs) == len(set(configs)) == 343
    assert outcome.space_exhausted and outcome.stop_reason == "space_exhausted"
    assert tracked.answers[-1] == "none" and "wait" in tracked.answers
    assert manager.num_pending == 0 and not manager.active_ids()
    started_last = max(outcome.trial_configs)
    resumed_after = [t for t, first, last in segments(outcome) if first > 1 and last == 9]
    assert any(owner.get(t, -1) >= owner[started_last] - 2 for t in resumed_after)


def test_exhausted_tiny_table_shrinks_the_rung_and_still_promotes() -> None:
    # 10 configurations: bracket 0 takes 9, bracket 1 gets the last one and is shrunk to it
    tracked, outcome = simulate(tracked_synchb(), benchmark_of(tiny_table(10)), n_workers=1)
    segs = segments(outcome)
    top3 = best(outcome, list(range(9)), 1, 3)
    assert segs == (
        [(t, 1, 1) for t in range(9)]
        + [(t, 2, 3) for t in top3]
        + [(best(outcome, top3, 3, 1)[0], 4, 9)]
        + [(9, 1, 3), (9, 4, 9)]
    )
    assert tracked.answers[-1] == "none" and outcome.space_exhausted
    assert tracked.inner.manager.brackets[1].sizes == [1, 1]


@pytest.mark.parametrize("n_workers", [2, 3, 7])
def test_exhausted_tiny_table_with_several_workers_completes_every_bracket(n_workers: int) -> None:
    tracked, outcome = simulate(tracked_synchb(), benchmark_of(tiny_table(12)), n_workers=n_workers)
    manager = tracked.inner.manager
    assert outcome.stop_reason == "space_exhausted"
    assert not manager.active_ids() and manager.num_pending == 0
    assert len(outcome.trial_configs) == 12
    # every bracket that started ends with a trial at the maximum fidelity
    for bracket in manager.brackets:
        if any(t is not None for t in bracket.trial_ids[0]):
            assert bracket.is_complete and len(bracket.rung_entries(bracket.num_rungs - 1)) >= 1
    assert tracked.max_running <= n_workers


def test_failed_trials_fill_their_slot_and_are_ranked_last() -> None:
    failing = {3, 4, 2}  # the three best configurations of the table fail
    blackbox = NaNBlackbox(tiny_table(30), lambda c: c["x"] in failing)
    searchers = []

    def make(problem: Problem) -> SynchronousHyperband:
        scheduler = SynchronousHyperband(problem, searcher=RecordingSearcher)
        searchers.append(scheduler.searcher)
        return scheduler

    scheduler, outcome = simulate(make, benchmark_of(blackbox), n_workers=2,
                                  stopping=StoppingCriterion(max_num_trials_started=30))
    failed_ids = {t for t, c in outcome.trial_configs.items() if c["x"] in failing}
    assert failed_ids
    resumed = {t for t, first, _ in segments(outcome) if first > 1}
    assert resumed and not resumed & failed_ids
    assert all(loss == math.inf for t, _, loss in searchers[0].observed if t in failed_ids)


def test_all_failed_rung_still_promotes_in_slot_order() -> None:
    blackbox = NaNBlackbox(tiny_table(30), lambda c: True)
    scheduler, outcome = simulate(lambda p: SynchronousHyperband(p), benchmark_of(blackbox), n_workers=1,
                                  stopping=StoppingCriterion(max_num_evaluations=30))
    assert segments(outcome)[9:13] == [(0, 2, 3), (1, 2, 3), (2, 2, 3), (0, 4, 9)]


def test_searcher_is_told_pending_at_slot_levels_and_observes_only_slot_levels() -> None:
    searchers = []

    def make(problem: Problem) -> SynchronousHyperband:
        scheduler = SynchronousHyperband(problem, searcher=RecordingSearcher)
        searchers.append(scheduler.searcher)
        return scheduler

    _, outcome = simulate(make, hartmann_benchmark(), n_workers=3, stopping=StoppingCriterion(max_num_trials_started=30))
    searcher = searchers[0]
    # new trials only: bracket 0 at level 1, bracket 1 at level 3, bracket 2 at level 9
    assert len(searcher.pending) == 30
    assert {fidelity for _, fidelity in searcher.pending} == {1, 3, 9}
    assert all(fidelity in (1, 3, 9) for _, fidelity, _ in searcher.observed)
    rec = outcome.recorder
    paused_or_stopped = sum(d != "continue" for d in rec.decisions)
    assert len(searcher.observed) == paused_or_stopped
    assert len(searcher.removed) == sum(d == "pause" for d in rec.decisions)


def test_continuous_space_proposals_stay_in_the_space() -> None:
    blackbox = ContinuousBlackbox()
    scheduler, outcome = simulate(lambda p: SynchronousHyperband(p), benchmark_of(blackbox), n_workers=4,
                                  stopping=StoppingCriterion(max_wallclock_time=20_000.0))
    assert len(outcome.trial_configs) > 100
    assert all(blackbox.config_space.contains(c) for c in outcome.trial_configs.values())
    assert max(outcome.recorder.times) <= 20_000.0


def test_rung_levels_must_be_fidelities() -> None:
    space = ConfigSpace((Integer("x", 0, 3),))
    problem = Problem(space, np.array([2, 4, 9]), "value", "min", 1, 0)
    with pytest.raises(ValueError, match=r"rung levels \[1, 3\] \(from method\.grace_period=1, "
                                         r"method\.reduction_factor=3\) are not fidelities of the benchmark \(2, 4, 9\)"):
        SynchronousHyperband(problem)
    one = Problem(space, np.array([5]), "value", "min", 1, 0)
    with pytest.raises(ValueError, match=r"with one fidelity there is nothing to halve: set method\.grace_period=5"):
        SynchronousHyperband(one)
