"""A toy analytic blackbox whose fidelity is a training-set fraction (non-cumulative).

It stands for models trained from scratch on a fraction ``s`` of the training set, the
fidelity of YAHPO Gym's ``trainsize`` scenarios, with a known optimum:

* ``loss = sum_i (x_i - 0.3)^2 + penalty / s``: more data, lower loss; the ranking of
  configurations is the same at every fidelity, the offset shrinks with ``s``;
* ``elapsed_time = full_seconds * s``: the seconds of *this* evaluation alone (not a running
  total: each fraction is trained from scratch), so the blackbox declares
  ``fidelity_is_cumulative = False`` and the simulator charges every evaluated fraction in
  full (docs/simulator.md).

The fractions are integer levels ``1..K`` (:class:`~mfbench.blackbox.fidelity.FidelityLevels`):
the scheduler sees the levels, the model the fractions.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from mfbench.blackbox.fidelity import FidelityLevels
from mfbench.blackbox.surrogate import SurrogateBlackbox
from mfbench.space import ConfigSpace, Float

#: the minimiser of the loss in every dimension
OPTIMUM_X = 0.3


def trainsize_toy_blackbox(
    levels: Any = (0.1, 0.3, 1.0),
    dim: int = 2,
    penalty: float = 0.05,
    full_seconds: float = 100.0,
    fidelity_is_cumulative: bool = False,
) -> SurrogateBlackbox:
    """The toy training-set-fraction blackbox (see the module docstring).

    Args:
        levels: the fractions the integer levels stand for, in any form
            :meth:`FidelityLevels.parse` accepts (all within ``(0, 1]``).
        dim: number of hyperparameters ``x_i`` in ``[0, 1]``.
        penalty: ``c`` in ``loss = ... + c / s``.
        full_seconds: simulated seconds of one evaluation on the whole training set.
        fidelity_is_cumulative: False (right for this model); True charges it as Syne Tune
            0.13 charges YAHPO's trainsize, as if it were epochs (for comparisons).

    Returns:
        a deterministic (one seed) surrogate blackbox with objectives ``loss`` and
        ``elapsed_time`` at levels ``1..K``; its minimum at level ``K`` is ``penalty / values[-1]``.
    """
    fractions = FidelityLevels.parse(levels, bounds=(0.0, 1.0), name="benchmark.blackbox.levels")
    if dim < 1 or penalty < 0 or not full_seconds > 0:
        raise ValueError("trainsize_toy_blackbox: need dim >= 1, penalty >= 0 and full_seconds > 0")
    space = ConfigSpace(tuple(Float(f"x{i}", 0.0, 1.0) for i in range(dim)))
    names = space.names

    def predict(configs: Sequence[Mapping[str, Any]], fidelities: np.ndarray, seed: int) -> np.ndarray:
        x = np.array([[config[name] for name in names] for config in configs], dtype=np.float64).reshape(-1, dim)
        s = fractions.values_at(fidelities)  # (n,) training-set fractions
        loss = ((x - OPTIMUM_X) ** 2).sum(axis=1) + penalty / s
        return np.stack([loss, full_seconds * s], axis=1)  # (n, 2)

    description = {
        "source": f"toy training-set-fraction function in {dim}-D (loss = |x - 0.3|^2 + {penalty} / s)",
        "fidelity_values": list(fractions.values),
        "global_optimum": penalty / fractions.values[-1],
    }
    return SurrogateBlackbox(space, fractions.levels(), ["loss", "elapsed_time"], predict, num_seeds=1,
                             description=description, fidelity_is_cumulative=fidelity_is_cumulative)
