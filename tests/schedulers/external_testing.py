"""Spaces and problems the third-party adapter tests share (tests/schedulers/test_external*.py,
test_dehb_official.py)."""
from __future__ import annotations

import numpy as np

from mfbench.problem import Problem
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
