"""Rung levels, promotion quantiles and bracket distributions of (asynchronous) Hyperband.

Pure functions, as specified in docs/methods/asha.md (Syne Tune 0.13.0 behaviour).
"""
from __future__ import annotations

import numpy as np

from mfbench.blackbox.fidelity import describe_values


def successive_halving_rung_levels(grace_period: int, reduction_factor: float, max_t: int) -> list[int]:
    """Rung levels ``round(r_min * eta^k)`` strictly below ``max_t``.

    ``max_rungs`` is the smallest k with ``r_min * eta^k >= max_t``; a last level equal to
    ``max_t`` is dropped. ``(1, 3, 200)`` gives ``[1, 3, 9, 27, 81]``.
    """
    if grace_period < 1 or not reduction_factor >= 2 or max_t < grace_period:
        # reduction_factor >= 2 as in the reference: below 2, rounding repeats levels (1.5: 1, 2, 2, 3, ...)
        raise ValueError(
            f"need method.grace_period >= 1, method.reduction_factor >= 2 and a maximum fidelity >= grace_period "
            f"(got grace_period={grace_period}, reduction_factor={reduction_factor}, maximum fidelity {max_t})"
        )
    max_rungs = 0
    while grace_period * reduction_factor**max_rungs < max_t:
        max_rungs += 1
    levels = [int(round(grace_period * reduction_factor**k)) for k in range(max_rungs)]
    if levels and levels[-1] == max_t:
        levels.pop()
    return levels


def promotion_quantiles(rung_levels: list[int], max_t: int) -> list[float]:
    """``q_j = r_j / r_{j+1}`` with ``r_K = max_t`` (so the top quantile is not 1/eta)."""
    nxt = rung_levels[1:] + [max_t]
    return [r / n for r, n in zip(rung_levels, nxt)]


def default_bracket_distribution(rung_levels: list[int], max_t: int, num_brackets: int) -> np.ndarray:
    """Probabilities of the brackets of asynchronous Hyperband, shape ``(num_brackets,)``.

    ``p_s ∝ (S + 1) / ((S + 1 - s) * r_s)`` with ``levels = rung_levels + [max_t]`` and
    ``S + 1 = len(levels)``: bracket ``s`` starts at ``levels[s]``.
    """
    levels = rung_levels + [max_t]
    num_brackets = min(num_brackets, len(levels))
    size = len(levels)
    weights = np.array([size / ((size - s) * levels[s]) for s in range(num_brackets)])
    return weights / weights.sum()


def linear_quantile(sorted_values: list[float], q: float) -> float:
    """``numpy.quantile(values, q, method="linear")`` of an already sorted list (inf-safe)."""
    position = q * (len(sorted_values) - 1)
    lo = int(np.floor(position))
    hi = min(lo + 1, len(sorted_values) - 1)
    low, high = sorted_values[lo], sorted_values[hi]
    frac = position - lo
    if frac == 0.0 or low == high:
        return low
    return low + (high - low) * frac


def check_levels_are_fidelities(levels: set[int], fidelities: np.ndarray, grace_period: int,
                                reduction_factor: float) -> None:
    """ValueError naming the options to change if a rung level is not one of ``fidelities`` ``(F,)``."""
    missing = sorted(levels - set(fidelities.tolist()))
    if not missing:
        return
    values = fidelities.tolist()
    shown = describe_values(values)
    hint = (f"with one fidelity there is nothing to halve: set method.grace_period={values[0]} if the method allows "
            f"it, or use method=random_search" if len(values) == 1 else
            "choose them so that every level round(grace_period * reduction_factor^k) is one of the fidelities")
    raise ValueError(f"rung levels {missing} (from method.grace_period={grace_period}, method.reduction_factor="
                     f"{reduction_factor:g}) are not fidelities of the benchmark ({shown}); {hint}")
