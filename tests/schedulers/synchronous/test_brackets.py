"""Bracket table, rung bookkeeping and primary/secondary job assignment (hand-computed)."""
from __future__ import annotations

import math

import pytest

from mfbench.schedulers.synchronous.brackets import (
    Bracket,
    BracketManager,
    RungSpec,
    geometric_bracket_rungs,
    top_list,
)


def as_size_level(table: list[list[RungSpec]]) -> list[list[tuple[int, int]]]:
    return [[(r.size, r.level) for r in rungs] for rungs in table]


def test_bracket_table_r200_eta3_matches_the_spec() -> None:
    assert as_size_level(geometric_bracket_rungs(1, 200, 3)) == [
        [(243, 1), (81, 3), (27, 9), (9, 27), (3, 81), (1, 200)],
        [(98, 3), (33, 9), (11, 27), (4, 81), (2, 200)],
        [(41, 9), (14, 27), (5, 81), (2, 200)],
        [(18, 27), (6, 81), (2, 200)],
        [(9, 81), (3, 200)],
        [(6, 200)],
    ]


def test_bracket_table_small_cases() -> None:
    # s_max = 2; bracket 1: pre = 3/2 -> sizes ceil(4.5) = 5 and ceil(1.5) = 2
    assert as_size_level(geometric_bracket_rungs(1, 9, 3)) == [[(9, 1), (3, 3), (1, 9)], [(5, 3), (2, 9)], [(3, 9)]]
    # r_min = 2, eta = 2, R = 20: s_max = 4 (2*2^4 = 32 >= 20); bracket 1: pre = 5/4
    table = as_size_level(geometric_bracket_rungs(2, 20, 2))
    assert table[0] == [(16, 2), (8, 4), (4, 8), (2, 16), (1, 20)]
    assert table[1] == [(10, 4), (5, 8), (3, 16), (2, 20)]
    assert table[4] == [(5, 20)]
    # successive halving = bracket 0 only; too many brackets are capped
    assert as_size_level(geometric_bracket_rungs(1, 200, 3, 1)) == as_size_level(geometric_bracket_rungs(1, 200, 3))[:1]
    assert len(geometric_bracket_rungs(1, 9, 3, 10)) == 3


@pytest.mark.parametrize(
    "args, message",
    [((0, 9, 3), "grace_period"), ((9, 9, 3), "smaller than"), ((1, 9, 1.5), "reduction_factor"), ((1, 9, 3, 0), "brackets")],
)
def test_bracket_table_rejects_bad_arguments(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        geometric_bracket_rungs(*args)


def test_top_list_ranks_failed_trials_last_in_slot_order() -> None:
    entries = [(5, 2.0), (6, math.inf), (7, 1.0), (8, 2.0), (9, math.inf)]
    assert top_list(entries, 3) == [7, 5, 8]
    assert top_list(entries, 5) == [7, 5, 8, 6, 9]
    assert top_list([(1, math.inf), (2, math.inf)], 1) == [1]


def small_manager() -> BracketManager:
    return BracketManager(geometric_bracket_rungs(1, 9, 3))


def test_one_worker_fills_bracket_0_then_promotes_the_best_three() -> None:
    manager = small_manager()
    losses = [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.6, 0.4]
    for trial_id, loss in enumerate(losses):
        slot = manager.next_job()
        assert (slot.bracket_id, slot.rung_index, slot.level, slot.slot_index, slot.trial_id) == (0, 0, 1, trial_id, None)
        assert manager.on_result(slot, trial_id, loss) == (trial_id == 8)
    promoted = [manager.next_job() for _ in range(3)]
    assert [(s.bracket_id, s.level, s.trial_id) for s in promoted] == [(0, 3, 1), (0, 3, 5), (0, 3, 3)]
    for slot, loss in zip(promoted, [0.3, 0.05, 0.2]):
        manager.on_result(slot, slot.trial_id, loss)
    last = manager.next_job()
    assert (last.bracket_id, last.level, last.trial_id) == (0, 9, 5)
    manager.on_result(last, 5, 0.01)
    assert manager.brackets[0].is_complete and manager.primary == 1
    nxt = manager.next_job()
    assert (nxt.bracket_id, nxt.rung_index, nxt.level, nxt.trial_id) == (1, 0, 3, None)


def test_many_workers_open_later_brackets_instead_of_waiting() -> None:
    manager = small_manager()
    slots = [manager.next_job() for _ in range(20)]
    # bracket sizes 9 (offset 0), 5 (offset 1), 3 (offset 2), then offset 0 again
    assert [s.bracket_id for s in slots] == [0] * 9 + [1] * 5 + [2] * 3 + [3] * 3
    assert [s.level for s in slots] == [1] * 9 + [3] * 5 + [9] * 3 + [1] * 3
    assert manager.offsets == [0, 1, 2, 0]
    assert manager.num_pending == 20
    # completing bracket 2 first does not move the primary bracket
    for slot in slots[14:17]:
        manager.on_result(slot, 100 + slot.slot_index, 1.0)
    assert manager.brackets[2].is_complete and manager.primary == 0
    # the primary bracket's promotions come first once its base rung is complete
    for i, slot in enumerate(slots[:9]):
        manager.on_result(slot, i, float(9 - i))
    nxt = manager.next_job()
    assert (nxt.bracket_id, nxt.level, nxt.trial_id) == (0, 3, 8)


def test_two_workers_use_the_secondary_bracket_while_the_primary_rung_is_pending() -> None:
    manager = small_manager()
    running = [manager.next_job(), manager.next_job()]
    trial = {id(running[0]): 0, id(running[1]): 1}
    next_id = 2
    order = []
    while next_id < 11:
        done = running.pop(0)
        manager.on_result(done, trial[id(done)], float(trial[id(done)]))
        slot = manager.next_job()
        order.append((slot.bracket_id, slot.level, slot.trial_id))
        if slot.trial_id is None:
            trial[id(slot)] = next_id
            next_id += 1
        else:
            trial[id(slot)] = slot.trial_id
        running.append(slot)
    # 7 more base slots of bracket 0, then (slot 8 pending) bracket 1, then the promotions
    assert order[:7] == [(0, 1, None)] * 7
    assert order[7] == (1, 3, None)
    assert order[8] == (0, 3, 0)  # rung complete: trial 0 (loss 0) is promoted first


def test_truncating_a_rung_shrinks_later_rungs_in_proportion() -> None:
    bracket = Bracket([RungSpec(1, 9), RungSpec(3, 3), RungSpec(9, 1)])
    slots = [bracket.next_free_slot(0) for _ in range(4)]
    for i, slot in enumerate(slots[:3]):
        assert not bracket.on_result(slot, i, float(i))
    assert bracket.truncate_current_rung() is False  # one result still pending
    assert bracket.sizes == [4, 2, 1]  # ceil(3 * 4 / 9) = 2, ceil(1 * 4 / 9) = 1
    assert not bracket.has_free_slot
    assert bracket.on_result(slots[3], 3, -1.0)
    assert bracket.trial_ids[1] == [3, 0]


def test_truncating_an_empty_rung_ends_the_bracket_and_moves_the_primary() -> None:
    manager = small_manager()
    slot = manager.next_job()
    manager.unassign(slot)
    assert manager.brackets[0].num_pending == 0
    assert manager.truncate(0)
    assert manager.brackets[0].is_complete and manager.primary == 1
    assert manager.next_job(allow_new_bracket=False) is None
    assert manager.next_job().bracket_id == 1


def test_only_pending_slots_take_results() -> None:
    manager = small_manager()
    slot = manager.next_job()
    manager.on_result(slot, 0, 1.0)
    with pytest.raises(ValueError, match="not pending"):
        manager.on_result(slot, 0, 1.0)
    other = manager.next_job()
    manager.next_job()
    with pytest.raises(ValueError, match="handed out last"):
        manager.unassign(other)
