"""What the GP model is fitted on: the observations, capped in number, with normalised targets.

The reference caps the data the model sees (``max_size_data_for_model``,
``SubsampleMultiFidelityStateConverter``; docs/methods/model_based.md): beyond the cap,
:func:`cap_observations` keeps the trials that went furthest and subsamples the rest
with the searcher's ``searcher.gp.data_cap`` random stream. The targets are the losses,
standardised with the mean and standard deviation of the kept ones (if
``normalize_targets``). Numpy only; :meth:`TrainingData.targets` imports torch when called.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mfbench.searchers.gp.state import SearchState

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: the standard deviation used to normalise is floored here (constant losses)
MIN_STD = 1e-9


@dataclass(frozen=True)
class TrainingData:
    """The observations the model is fitted on, and the normalisation of their losses.

    Attributes:
        observations: ``(trial_id, level, loss)``, sorted by trial then level.
        mean: subtracted from the losses (0 without normalisation), in the metric's units.
        std: the losses are divided by it (1 without normalisation), in the metric's units.
    """

    observations: list[tuple[int, int, float]]
    mean: float
    std: float

    def pairs(self) -> list[tuple[int, int]]:
        """``(trial_id, level)`` of each observation."""
        return [(t, r) for t, r, _ in self.observations]

    def level_counts(self) -> dict[int, int]:
        """Number of observations per level."""
        counts: dict[int, int] = {}
        for _, r, _ in self.observations:
            counts[r] = counts.get(r, 0) + 1
        return counts

    def targets(self) -> torch.Tensor:
        """Normalised losses ``(loss - mean) / std``, shape ``(len(observations),)``, float64."""
        import torch

        return torch.tensor([(loss - self.mean) / self.std for _, _, loss in self.observations], dtype=torch.float64)


class TrainingDataBuilder:
    """Builds :class:`TrainingData` from a searcher's state (cap, then normalise).

    Args:
        max_size: cap on the observations the model sees (``None``: no cap), ``>= 2``.
        normalize: standardise the losses.
        rng: draws the subsample when the data exceeds the cap.
    """

    def __init__(self, max_size: int | None, normalize: bool, rng: np.random.Generator) -> None:
        if max_size is not None and max_size < 2:
            raise ValueError(f"searcher.max_size_data_for_model must be >= 2 or null, got {max_size}")
        self.max_size = max_size
        self.normalize = normalize
        self._rng = rng

    def build(self, state: SearchState) -> TrainingData:
        """The (capped) observations of ``state`` and their normalisation."""
        data = state.observations()
        if self.max_size is not None:
            data = cap_observations(data, self.max_size, self._rng)
        losses = np.array([y for _, _, y in data])
        if self.normalize:
            mean, std = float(losses.mean()), max(float(losses.std()), MIN_STD)
        else:
            mean, std = 0.0, 1.0
        return TrainingData(data, mean, std)


def cap_observations(
    data: list[tuple[int, int, float]], max_size: int, rng: np.random.Generator
) -> list[tuple[int, int, float]]:
    """At most ``max_size`` observations, keeping the trials that went furthest.

    Reference ``cap_size_tuning_job_state``: going down from the highest level, all data
    of the trials whose highest level it is is kept while it fits; the group that does
    not fit is subsampled from its lowest level up (dropping whole lower levels while
    they alone exceed the gap). ``data`` must be sorted by trial then level; it is
    returned itself if it is small enough, else the kept observations in that order.
    """
    if len(data) <= max_size:
        return data
    trials = np.fromiter((t for t, _, _ in data), dtype=np.int64, count=len(data))
    levels = np.fromiter((r for _, r, _ in data), dtype=np.int64, count=len(data))
    # the highest level of each observation's trial (data is sorted by trial, then level)
    last = np.r_[trials[1:] != trials[:-1], True]
    starts = np.r_[0, np.flatnonzero(last)[:-1] + 1]
    top = np.repeat(levels[last], np.diff(np.r_[starts, len(data)]))
    keep = np.zeros(len(data), dtype=bool)
    kept = 0
    distinct = np.unique(levels)
    for level in distinct[::-1]:
        group = top == level
        gap = max_size - kept
        if int(group.sum()) > gap:
            for low in distinct[distinct <= level]:
                if low < level:
                    sample = np.flatnonzero(group & (levels == low))
                    group = group & (levels > low)
                else:
                    sample, group = np.flatnonzero(group), np.zeros_like(group)
                size = gap - int(group.sum())
                if size > 0:
                    chosen = rng.choice(len(sample), size=size, replace=False)
                    group[sample[chosen]] = True
                    break
        keep |= group
        kept += int(group.sum())
        if kept >= max_size:
            break
    return [data[i] for i in np.flatnonzero(keep)]
