"""The contract's no-repeat check for a method that restarts promoted configurations from
scratch (``describe()["restarts_at_higher_fidelity"]``, SMAC's Hyperband): a repeat is
accepted only after the earlier trial's last result and to a higher fidelity."""
from __future__ import annotations

import pytest

from mfbench.cli.check import ANALYTIC, _no_duplicates, _Run
from mfbench.space import Categorical, ConfigSpace

SPACE = ConfigSpace((Categorical("op", ("a", "b")),))


def _run(rows: list[tuple[int, str, int, float, str]], restarts: bool) -> _Run:
    """``rows``: (trial, op, epoch, sim_time, decision)."""
    columns = {
        "trial_id": [r[0] for r in rows],
        "config_op": [r[1] for r in rows],
        "epoch": [r[2] for r in rows],
        "sim_time": [r[3] for r in rows],
        "decision": [r[4] for r in rows],
    }
    scheduler = {"scheduler": "x", **({"restarts_at_higher_fidelity": True} if restarts else {})}
    return _Run({"scheduler": scheduler, "fidelity_attr": "epoch"}, columns, SPACE)


#: trial 0 runs "a" to epoch 1; trial 1 ("b") runs to 1; trial 2 restarts "a" and runs to epoch 3
PROMOTED = [(0, "a", 1, 1.0, "stop"), (1, "b", 1, 1.5, "stop"),
            (2, "a", 1, 2.0, "continue"), (2, "a", 2, 3.0, "continue"), (2, "a", 3, 4.0, "stop")]


def test_a_repeat_is_refused_unless_the_method_declares_restarts() -> None:
    passed, detail = _no_duplicates(_run(PROMOTED, restarts=False), ANALYTIC)
    assert not passed and "trials [0, 2] evaluated ('a',)" in detail


def test_a_declared_restart_at_a_higher_fidelity_after_the_earlier_result_passes() -> None:
    passed, detail = _no_duplicates(_run(PROMOTED, restarts=True), ANALYTIC)
    assert passed and "3 trials, 2 configurations, 1 of them started again at a higher fidelity" in detail
    # still running when the run ended (last decision continue): not yet above the earlier trial
    cut = [*PROMOTED[:2], (2, "a", 1, 2.0, "continue")]
    assert _no_duplicates(_run(cut, restarts=True), ANALYTIC)[0]


@pytest.mark.parametrize("rows", [
    # the repeat reached no higher fidelity than the earlier trial, and ended there
    [(0, "a", 1, 1.0, "continue"), (0, "a", 2, 2.0, "stop"), (1, "a", 1, 3.0, "continue"), (1, "a", 2, 4.0, "stop")],
    # the repeat started before the earlier trial's last result
    [(0, "a", 1, 1.0, "continue"), (1, "a", 1, 1.5, "continue"), (0, "a", 2, 2.0, "stop"),
     (1, "a", 2, 2.5, "continue"), (1, "a", 3, 3.5, "stop")],
])
def test_a_declared_restart_must_be_later_and_higher(rows: list) -> None:
    passed, detail = _no_duplicates(_run(rows, restarts=True), ANALYTIC)
    assert not passed and "trials 0 and 1 evaluated ('a',)" in detail
