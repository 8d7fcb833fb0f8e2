"""Analytic multi-fidelity benchmarks with a known optimum, tabulated on a finite grid.

The multi-fidelity Hartmann functions of Kandasamy et al. (2017, "Multi-fidelity
Bayesian optimisation with continuous approximations", BOCA): with fidelity
``z = epoch / max_epoch`` in ``(0, 1]``, the weights become ``alpha - 0.1 (1 - z)``, so
``z = 1`` is the ordinary Hartmann function (global minimum -3.86278 in 3-D, -3.32237
in 6-D) and low fidelities are biased approximations of it.

To exercise exactly the code path of real tables, the function is tabulated: every
hyperparameter takes ``grid_size`` equally spaced values in ``[0, 1]``, and each
(configuration, seed, epoch) cell holds

* ``value``: Hartmann at fidelity z plus seed noise ``N(0, (noise (1 - z) + noise / 10)^2)``,
* ``runtime``: seconds per epoch, ``epoch_seconds * (0.5 + mean(x))`` (configurations
  differ in cost, as networks do),
* ``elapsed_time``: the cumulative sum of ``runtime`` (what the simulator charges).

The table is generated deterministically (fixed noise seed), so every run sees the same
benchmark.
"""
from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np

from mfbench.blackbox.base import TabularBlackbox
from mfbench.space import ConfigSpace, Float

_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_A3 = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_P3 = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_A6 = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_P6 = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
#: global minima of the full-fidelity functions on [0, 1]^d
HARTMANN_OPTIMUM = {3: -3.86278, 6: -3.32237}


def hartmann(x: np.ndarray, fidelity: np.ndarray | float = 1.0) -> np.ndarray:
    """Multi-fidelity Hartmann function.

    Args:
        x: points, shape ``(n, d)`` with ``d`` in {3, 6}, in ``[0, 1]^d``.
        fidelity: ``z`` in ``(0, 1]``, scalar or shape ``(m,)``.

    Returns:
        values of shape ``(n, m)`` (``(n, 1)`` for a scalar fidelity).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    d = x.shape[1]
    if d not in (3, 6):
        raise ValueError(f"Hartmann is defined in 3 or 6 dimensions, got {d}")
    a, p = (_A3, _P3) if d == 3 else (_A6, _P6)
    z = np.atleast_1d(np.asarray(fidelity, dtype=np.float64))
    inner = np.exp(-(a[None, :, :] * (x[:, None, :] - p[None, :, :]) ** 2).sum(axis=2))  # (n, 4)
    alpha = _ALPHA[None, :] - 0.1 * (1.0 - z[:, None])  # (m, 4)
    return -(inner @ alpha.T)


@functools.lru_cache(maxsize=4)
def _table(dim: int, grid_size: int, max_epoch: int, num_seeds: int, noise: float, epoch_seconds: float) -> tuple:
    grid = np.linspace(0.0, 1.0, grid_size)
    points = np.array(list(itertools.product(grid, repeat=dim)))  # (N, d)
    epochs = np.arange(1, max_epoch + 1)
    z = epochs / max_epoch
    clean = hartmann(points, z)  # (N, F)
    rng = np.random.default_rng(20170101 + dim)
    scale = noise * (1.0 - z) + noise / 10.0
    values = clean[:, None, :] + rng.standard_normal((len(points), num_seeds, max_epoch)) * scale
    runtime = epoch_seconds * (0.5 + points.mean(axis=1))  # (N,)
    runtime = np.broadcast_to(runtime[:, None, None], values.shape)
    elapsed = runtime * epochs[None, None, :]
    evaluations = np.stack([values, runtime, elapsed], axis=-1)
    evaluations.setflags(write=False)
    return points, epochs, evaluations


def hartmann_blackbox(
    dim: int = 3,
    grid_size: int = 11,
    max_epoch: int = 100,
    num_seeds: int = 3,
    noise: float = 0.05,
    epoch_seconds: float = 20.0,
) -> TabularBlackbox:
    """The tabulated multi-fidelity Hartmann-3 or -6 blackbox (see the module docstring).

    Args:
        dim: 3 or 6.
        grid_size: values per hyperparameter (``grid_size ** dim`` configurations).
        max_epoch: number of fidelities (epochs ``1..max_epoch``).
        num_seeds: table seeds, each with its own observation noise.
        noise: noise standard deviation at the lowest fidelity.
        epoch_seconds: mean simulated seconds per epoch.
    """
    if dim not in (3, 6):
        raise ValueError(f"hartmann_blackbox: dim must be 3 or 6, got {dim}")
    if grid_size < 2 or max_epoch < 1 or num_seeds < 1 or noise < 0 or epoch_seconds <= 0:
        raise ValueError(
            "hartmann_blackbox: need grid_size >= 2, max_epoch >= 1, num_seeds >= 1, noise >= 0, epoch_seconds > 0"
        )
    points, epochs, evaluations = _table(dim, grid_size, max_epoch, num_seeds, noise, epoch_seconds)
    space = ConfigSpace(tuple(Float(f"x{i}", 0.0, 1.0) for i in range(dim)), table=[tuple(p) for p in points])
    final_mean = evaluations[:, :, -1, 0].mean(axis=1)
    description: dict[str, Any] = {
        "source": f"analytic multi-fidelity Hartmann-{dim} (Kandasamy et al. 2017) on a {grid_size}^{dim} grid",
        "global_optimum": HARTMANN_OPTIMUM[dim],
        "best_in_table": float(final_mean.min()),
    }
    return TabularBlackbox(space, epochs, ["value", "runtime", "elapsed_time"], evaluations, description)
