"""Spaces and problems the third-party adapter tests share (tests/schedulers/test_external*.py,
test_dehb_official.py)."""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus
from mfbench.space import Categorical, ConfigSpace, Float, Integer

#: one hyperparameter of each kind and scale
MIXED = ConfigSpace(
    (
        Categorical("op", ("a", "b", "c")),
        Integer("layers", 1, 8),
        Integer("width", 16, 512, log=True),
        Float("dropout", 0.0, 0.5),
        Float("lr", 1e-5, 1e-1, log=True),
    )
)


def problem_of(space: ConfigSpace, mode: str = "min", seed: int = 0, max_t: int = 27, n_workers: int = 4) -> Problem:
    """A problem over ``space`` with fidelities ``1..max_t`` and metric ``loss``."""
    return Problem(space, np.arange(1, max_t + 1), "loss", mode, n_workers=n_workers, seed=seed)  # type: ignore[arg-type]


def table_space() -> ConfigSpace:
    """A finite table of 12 configurations (3 ops x 4 layer counts)."""
    rows = [(op, layers) for op in ("a", "b", "c") for layers in (1, 2, 4, 8)]
    return ConfigSpace((Categorical("op", ("a", "b", "c")), Integer("layers", 1, 8)), table=rows)


def assert_covers_table(scheduler: Scheduler, space: ConfigSpace, recorded: Callable[[int], Mapping[str, Any]]) -> None:
    """Run ``scheduler`` over the finite ``space`` one trial at a time (each told its final
    result at fidelity 27): every table row exactly once, each trial's configuration as the
    library records it (``recorded(trial_id)``), then no suggestion.
    """
    seen = []
    for trial_id in range(len(space.table) + 3):  # type: ignore[arg-type]
        suggestion = scheduler.suggest(trial_id)
        if suggestion is None:
            break
        assert space.contains(suggestion.config)
        seen.append(space.key(suggestion.config))
        assert recorded(trial_id) == suggestion.config  # the library learns the evaluated configuration
        assert scheduler.on_result(trial_id, 27, 1.0) is Decision.STOP
    assert sorted(seen) == sorted(space.table)  # type: ignore[arg-type]
    assert scheduler.suggest(99) is None


def drive_async(scheduler: Scheduler, mode: str = "min", n: int = 40) -> list[tuple[dict, list[Decision]]]:
    """Run ``scheduler`` on :data:`MIXED` with 4 trials in flight and a synthetic learning curve
    (``quality + 1 / fidelity``, negated for ``mode="max"``) up to fidelity 27.

    Returns:
        Per trial, in order: its configuration and the decisions it got.
    """
    sign = 1.0 if mode == "min" else -1.0
    log = []
    for start in range(0, n, 4):
        batch = {tid: scheduler.suggest(tid) for tid in range(start, start + 4)}
        for tid, suggestion in batch.items():
            assert suggestion is not None and MIXED.contains(suggestion.config)
            quality = suggestion.config["dropout"] + abs(math.log10(suggestion.config["lr"]) + 3)
            decisions = []
            for fidelity in range(1, 28):
                decision = scheduler.on_result(tid, fidelity, sign * (quality + 1.0 / fidelity))
                decisions.append(decision)
                if decision is Decision.STOP:
                    scheduler.on_trial_end(tid, TrialStatus.STOPPED if fidelity < 27 else TrialStatus.COMPLETED)
                    break
            log.append((suggestion.config, decisions))
    return log
