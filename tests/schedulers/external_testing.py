"""Spaces and problems the third-party adapter tests share (tests/schedulers/test_external*.py,
test_dehb_official.py)."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, Scheduler
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
