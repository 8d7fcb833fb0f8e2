"""Inter-quartile mean (IQM) and its bootstrap standard deviation.

As in Syne Tune's ``compute_iqm_bootstrap`` (docs/analysis.md): the IQM of ``n``
values drops mass ``n/4`` from each end of the sorted values (fractional weights at the
boundaries) and averages the rest. A bootstrap resample of ``n`` seeds is a multinomial
count vector on the sorted values; trimming it the same way gives the resample's IQM as
a weighted sum ``a @ x``. Its variance is ``x @ E[a a^T] @ x - (E[a] @ x)^2``, so the
moments of ``a`` are computed once per ``n`` and applied to every time step.

For ``n <= EXACT_MAX`` the moments are exact (all count vectors, weighted by their
multinomial probability); above, they come from a fixed-seed sample of 1000 resamples,
so the band is deterministic either way.
"""
from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np

#: Largest number of seeds for which the bootstrap moments are enumerated exactly.
EXACT_MAX = 10
#: Resamples used above :data:`EXACT_MAX` (as Syne Tune), drawn with a fixed seed.
NUM_RESAMPLES = 1000


def trimmed_weights(counts: np.ndarray) -> np.ndarray:
    """IQM weights on sorted values from count vectors.

    Args:
        counts: shape ``(m, n)``, how often each of the ``n`` sorted values is taken;
            each row sums to ``n``.

    Returns:
        Shape ``(m, n)``: the counts with mass ``n/4`` removed from each end, scaled to
        sum to 1 (so ``weights @ sorted_values`` is the IQM).
    """
    weights = np.array(counts, dtype=np.float64, copy=True)
    n = weights.shape[1]
    for order in (range(n), range(n - 1, -1, -1)):
        remaining = np.full(weights.shape[0], n / 4.0)
        for col in order:
            take = np.minimum(remaining, weights[:, col])
            weights[:, col] -= take
            remaining -= take
    return weights * (2.0 / n)


def iqm_weights(n: int) -> np.ndarray:
    """Weights (shape ``(n,)``, summing to 1) of the sorted values in the IQM of ``n`` values."""
    if n < 1:
        raise ValueError(f"the IQM needs at least one value, got n={n}")
    return trimmed_weights(np.ones((1, n)))[0]


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Inter-quartile mean along ``axis`` (fractional weights when ``n`` is not a multiple of 4)."""
    values = np.sort(np.asarray(values, dtype=np.float64), axis=axis)
    moved = np.moveaxis(values, axis, -1)
    return moved @ iqm_weights(moved.shape[-1])


@lru_cache(maxsize=64)
def bootstrap_moments(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``E[a]`` (shape ``(n,)``) and ``E[a a^T]`` (shape ``(n, n)``) of the trimmed resample weights ``a``.

    Exact for ``n <= EXACT_MAX``; otherwise a Monte-Carlo estimate from
    :data:`NUM_RESAMPLES` multinomial draws with ``numpy.random.default_rng(seed)``.
    """
    if n <= EXACT_MAX:
        from scipy.special import gammaln

        combos = np.fromiter(itertools.chain.from_iterable(itertools.combinations_with_replacement(range(n), n)),
                             dtype=np.int64).reshape(-1, n)
        counts = np.zeros(combos.shape, dtype=np.float64)
        np.add.at(counts, (np.arange(len(combos))[:, None], combos), 1.0)
        prob = np.exp(gammaln(n + 1) - gammaln(counts + 1).sum(axis=1) - n * math.log(n))
    else:
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=NUM_RESAMPLES).astype(np.float64)
        prob = np.full(NUM_RESAMPLES, 1.0 / NUM_RESAMPLES)
    weights = trimmed_weights(counts)
    first = prob @ weights
    second = (weights * prob[:, None]).T @ weights
    return first, second


def iqm_bootstrap_sd(values: np.ndarray, presorted: bool = False) -> np.ndarray:
    """Bootstrap standard deviation of the IQM over seeds.

    Args:
        values: shape ``(n, T)``: ``n`` seeds at ``T`` time steps (no NaN).
        presorted: ``values`` is already sorted along the seeds (axis 0).

    Returns:
        Shape ``(T,)``.
    """
    x = np.asarray(values, dtype=np.float64).T  # (T, n)
    if not presorted:
        x = np.sort(x, axis=1)
    first, second = bootstrap_moments(x.shape[1])
    variance = np.sum((x @ second) * x, axis=1) - (x @ first) ** 2
    return np.sqrt(np.maximum(variance, 0.0))
