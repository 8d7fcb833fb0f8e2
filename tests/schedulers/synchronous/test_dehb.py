"""DEHB through the real simulator and its parent-slot bookkeeping."""
from __future__ import annotations

import numpy as np
import pytest
from tests.schedulers.synchronous.sync_testing import (
    ContinuousBlackbox,
    Tracking,
    benchmark_of,
    hartmann_benchmark,
    problem_of,
    segments,
    simulate,
    tiny_table,
)

from mfbench.blackbox.base import TabularBlackbox
from mfbench.schedulers.synchronous.brackets import RungSpec, geometric_bracket_rungs
from mfbench.schedulers.synchronous.dehb import DEHB, DEHBBracketManager
from mfbench.space import ConfigSpace, Integer
from mfbench.backend.stopping import StoppingCriterion


def loss_at(outcome, trial_id: int, fidelity: int) -> float:
    rec = outcome.recorder
    return next(float(o[0]) for t, f, o in zip(rec.trial_ids, rec.fidelities, rec.objectives) if t == trial_id and f == fidelity)


def test_bracket_rungs_depend_only_on_the_level() -> None:
    manager = DEHBBracketManager(geometric_bracket_rungs(1, 200, 3)[0], 6)
    sizes = [[(r.size, r.level) for r in rungs] for rungs in manager.bracket_rungs]
    assert sizes[1] == [(81, 3), (27, 9), (9, 27), (3, 81), (1, 200)]
    assert sizes[5] == [(1, 200)]


def test_parent_slot_is_the_same_slot_at_the_same_level_in_the_latest_earlier_bracket() -> None:
    first = [RungSpec(1, 9), RungSpec(3, 3), RungSpec(9, 1)]
    manager = DEHBBracketManager(first, 3)
    # bracket 0: fill the three rungs by hand (DEHB brackets do not promote by themselves)
    for rung, ids in enumerate([range(9), [20, 21, 22], [30]]):
        for trial_id in ids:
            slot = manager.next_job()
            assert (slot.bracket_id, slot.rung_index) == (0, rung)
            manager.on_result(slot, trial_id, float(trial_id))
    assert manager.trial_id_from_parent_slot(1, 3, 2) == 22  # bracket 1 (offset 1), level 3
    assert manager.trial_id_from_parent_slot(1, 9, 0) == 30
    assert manager.trial_id_from_parent_slot(3, 1, 4) == 4  # bracket 3 (offset 0), level 1
    assert manager.trial_id_from_parent_slot(3, 3, 1) == 21  # bracket 2 does not hold level 3
    slot = manager.next_job()  # bracket 1, level 3, slot 0
    manager.on_result(slot, 40, 0.0)
    assert manager.trial_id_from_parent_slot(3, 3, 0) == 40  # bracket 1 is now the latest holder
    assert manager.trial_id_from_parent_slot(3, 3, 1) == 21  # its slot 1 is empty: go further back
    assert manager.trial_id_from_parent_slot(0, 1, 0) is None


def test_first_bracket_is_successive_halving_later_brackets_evolve_new_trials() -> None:
    tracked, outcome = simulate(lambda p: Tracking(DEHB(p)), hartmann_benchmark(), n_workers=1,
                                stopping=StoppingCriterion(max_num_evaluations=200))
    dehb = tracked.inner
    segs = segments(outcome)
    # bracket 0: nine new trials (the midpoint first), the best three resumed, then the best one
    assert outcome.trial_configs[0] == dehb.space.midpoint()
    assert segs[:9] == [(t, 1, 1) for t in range(9)]
    top3 = sorted(range(9), key=lambda t: loss_at(outcome, t, 1))[:3]
    assert segs[9:12] == [(t, 2, 3) for t in top3]
    best = min(top3, key=lambda t: loss_at(outcome, t, 3))
    assert segs[12] == (best, 4, 9)
    # bracket 1 (rungs (3,3), (1,9)): new trials from scratch, stopped at their level
    assert segs[13:17] == [(9, 1, 3), (10, 1, 3), (11, 1, 3), (12, 1, 9)]
    assert segs[17] == (13, 1, 9)  # bracket 2: one slot at level 9
    decisions = dict(((t, f), d) for t, f, d in zip(outcome.recorder.trial_ids, outcome.recorder.fidelities,
                                                    outcome.recorder.decisions))
    assert decisions[(0, 1)] == "pause" and decisions[(9, 3)] == "stop" and decisions[(best, 9)] == "stop"
    # selection: slot i of bracket 1's lowest rung keeps its target (bracket 0's rung-1 slot i) unless beaten
    b1 = dehb.manager.brackets[1]
    for i, new in enumerate([9, 10, 11]):
        target = top3[i]
        winner = new if loss_at(outcome, new, 3) < loss_at(outcome, target, 3) else target
        assert b1.trial_ids[0][i] == winner
        assert b1.losses[0][i] == loss_at(outcome, winner, 3)
    # no configuration is proposed twice
    configs = [tuple(c.values()) for c in outcome.trial_configs.values()]
    assert len(configs) == len(set(configs))


def test_ties_keep_the_target() -> None:
    n = 200
    space = ConfigSpace((Integer("x", 0, n - 1),), table=[(i,) for i in range(n)])
    epochs = np.arange(1, 10)
    evaluations = np.zeros((n, 1, 9, 2))
    evaluations[:, :, :, 1] = 10.0 * epochs  # every configuration has the same loss
    blackbox = TabularBlackbox(space, epochs, ["value", "elapsed_time"], evaluations)
    scheduler, outcome = simulate(lambda p: DEHB(p), benchmark_of(blackbox), n_workers=1,
                                  stopping=StoppingCriterion(max_num_evaluations=120))
    b0, b1, b3 = scheduler.manager.brackets[0], scheduler.manager.brackets[1], scheduler.manager.brackets[3]
    assert b1.trial_ids[0] == b0.trial_ids[1]  # every offspring tied and lost its slot
    assert b1.trial_ids[1] == b0.trial_ids[2]
    assert b3.trial_ids[0] == b0.trial_ids[0]


@pytest.mark.parametrize("n_workers", [1, 3, 40])
def test_exhausted_table_ends_cleanly_without_duplicates(n_workers: int) -> None:
    tracked, outcome = simulate(lambda p: Tracking(DEHB(p)), benchmark_of(tiny_table(14)), n_workers=n_workers)
    configs = [tuple(c.values()) for c in outcome.trial_configs.values()]
    assert len(configs) == len(set(configs)) == 14
    assert outcome.stop_reason == "space_exhausted" and tracked.answers[-1] == "none"
    assert tracked.max_running <= n_workers
    assert tracked.inner.manager.num_pending == 0 and not tracked.inner.manager.active_ids()
    # bracket 0 still finished its successive halving: a trial reached the maximum fidelity
    assert tracked.inner.manager.brackets[0].is_complete
    assert tracked.inner.manager.brackets[0].rung_entries(2)


def test_many_workers_are_all_busy_at_once() -> None:
    tracked, _ = simulate(lambda p: Tracking(DEHB(p)), hartmann_benchmark(grid_size=11), n_workers=60,
                          stopping=StoppingCriterion(max_num_evaluations=400))
    assert tracked.answers[:60] == ["start"] * 60 and tracked.max_running == 60


def test_continuous_mixed_space() -> None:
    blackbox = ContinuousBlackbox()
    scheduler, outcome = simulate(lambda p: DEHB(p), benchmark_of(blackbox), n_workers=4,
                                  stopping=StoppingCriterion(max_wallclock_time=30_000.0))
    assert len(outcome.trial_configs) > 100
    assert all(blackbox.config_space.contains(c) for c in outcome.trial_configs.values())
    assert len(scheduler.manager.brackets) > 6  # DE brackets were reached


def test_pause_resume_off_restarts_promoted_configurations_as_new_trials() -> None:
    scheduler, outcome = simulate(lambda p: DEHB(p, support_pause_resume=False), hartmann_benchmark(), n_workers=1,
                                  stopping=StoppingCriterion(max_num_evaluations=40))
    segs = segments(outcome)
    assert all(first == 1 for _, first, _ in segs)
    assert segs[9:12] == [(9, 1, 3), (10, 1, 3), (11, 1, 3)]
    assert outcome.trial_configs[9] in [outcome.trial_configs[t] for t in range(9)]


def test_invalid_arguments() -> None:
    problem = hartmann_benchmark()
    with pytest.raises(ValueError, match="mutation_factor"):
        DEHB(problem_of(problem), mutation_factor=0.0)
    with pytest.raises(ValueError, match="crossover_probability"):
        DEHB(problem_of(problem), crossover_probability=1.0)


def test_a_parent_pool_under_three_is_extended_by_the_level_pools_top_down() -> None:
    from mfbench.schedulers.base import Decision, TrialStatus
    from mfbench.schedulers.synchronous.brackets import Slot

    dehb = DEHB(problem_of(hartmann_benchmark()))
    next_id = 0
    # one worker, driven by hand until bracket 1 (rungs (3,3), (1,9)) reaches its level-9 rung
    while not (len(dehb.manager.brackets) > 1 and dehb.manager.brackets[1].current_rung == 1):
        suggestion = dehb.suggest(next_id)
        trial_id = suggestion.trial_id if suggestion.is_resume else next_id
        next_id += 0 if suggestion.is_resume else 1
        decision = dehb.on_result(trial_id, suggestion.milestone, float((trial_id * 7) % 11))
        dehb.on_trial_end(trial_id, TrialStatus.PAUSED if decision is Decision.PAUSE else TrialStatus.STOPPED)
    assert dehb.manager.size_of_current_rung(1) == 1
    top_of_rung_below = dehb.manager.top_of_previous_rung(1, 0)
    # pool: the rung's own position 0, then every trial that reached level 9, then level 3 (not 1)
    allowed = {top_of_rung_below, *dehb._level_pool[9], *dehb._level_pool[3]}
    assert len(dehb._level_pool[9]) == 1 and len(dehb._level_pool[3]) == 6
    for _ in range(20):
        parents = dehb._parents(Slot(1, 1, 9, 0, None))
        assert len(parents) == 3 and set(parents) <= allowed
