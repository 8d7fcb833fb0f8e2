"""What Hyper-Tune learns during a run: the level weights, as an ensemble and a bracket distribution.

Hyper-Tune (docs/methods/model_based.md) weighs the fidelity levels by how well each one
ranks the configurations at the highest supported level (the ``theta`` of
:mod:`mfbench.searchers.gp.hypertune`, which holds the computations). From ``theta`` it
derives two things that live between proposals, kept here:

* the *ensemble* ``{level: theta}``: the acquisition predicts with the
  ``theta``-weighted mixture of the per-level predictive distributions;
* the *bracket head*: the distribution over the first brackets a new trial is drawn
  from (``w_k ∝ theta_k / r_k``), which the scheduler asks for through the searcher's
  ``bracket_distribution``.

Both are recomputed only when the number of supported levels ``L`` or the number of
observations at the top supported level changed (the reference's rule). Importing this
module does not import torch (the scheduler asks for the bracket distribution before any
model exists).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from mfbench.searchers.gp import hypertune as ht

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from mfbench.searchers.gp.models import GPModel
    from mfbench.searchers.gp.posterior import BlockPosterior


class HyperTuneState:
    """Hyper-Tune's ensemble weights and bracket distribution, updated as data arrives.

    Args:
        num_samples: posterior samples of the ranking losses per level (the searcher's
            ``hypertune_distribution_num_samples``, reference 50), ``>= 1``.

    Attributes:
        ensemble: ``{level: theta}`` over the levels with ``theta > 0.01`` (None before the
            first update with ``L >= 2`` supported levels).
        bracket_head: the distribution over the first ``min(num_brackets, L)`` brackets,
            shape ``(min(num_brackets, L),)`` (None before the first such update).
    """

    def __init__(self, num_samples: int = 50) -> None:
        if num_samples < 1:
            raise ValueError(f"searcher.hypertune_distribution_num_samples must be >= 1, got {num_samples}")
        self.num_samples = num_samples
        self.ensemble: dict[int, float] | None = None
        self.bracket_head: np.ndarray | None = None
        self._signature: tuple[int, int] | None = None  # (L, |D|) at the last update

    def bracket_distribution(self, default: np.ndarray) -> np.ndarray:
        """The distribution over brackets ``(num_brackets,)``: ``default`` with its head
        replaced by the learnt one (``default`` itself before the first update)."""
        return ht.combine_bracket_distribution(default, self.bracket_head)

    def level_weights(self, levels: Sequence[int]) -> dict[int, float]:
        """``{level: weight}`` of the ensemble predictive distribution; before the ensemble
        exists, the smallest of ``levels`` (the searcher's known levels) alone."""
        return self.ensemble or {min(levels): 1.0}

    def update(
        self,
        model: GPModel,
        posterior: BlockPosterior,
        data: Sequence[tuple[int, int, float]],
        targets: torch.Tensor,
        encoded: Mapping[int, np.ndarray],
        levels: list[int],
        num_brackets: int,
        rng: np.random.Generator,
    ) -> None:
        """Recompute ``theta``, the ensemble and the bracket head if ``(L, |D|)`` changed.

        Args:
            model: the fitted model.
            posterior: its posterior on ``data`` (no fantasies).
            data: the model's observations ``(trial_id, level, loss)``.
            targets: their (normalised) targets, shape ``(len(data),)``.
            encoded: encoded configuration ``(d,)`` of each trial.
            levels: the known levels, ascending (rung levels and the maximum fidelity).
            num_brackets: brackets the scheduler draws from.
            rng: source of the posterior samples (the searcher's model stream).
        """
        counts: dict[int, int] = {}
        for _, level, _ in data:
            counts[level] = counts.get(level, 0) + 1
        num_levels = ht.num_supported_levels(levels, counts)
        if num_levels < 2:
            return
        top = levels[num_levels - 1]
        rows = [i for i, (_, level, _) in enumerate(data) if level == top]
        signature = (num_levels, len(rows))
        if signature == self._signature:
            return
        self._signature = signature
        import torch

        x_top = torch.from_numpy(np.asarray([encoded[data[i][0]] for i in rows], dtype=np.float64))
        losses = ht.hypertune_losses(model, posterior, x_top, targets[rows], levels, num_levels,
                                     self.num_samples, rng)
        theta = ht.level_weights(losses)
        self.ensemble = ht.ensemble_distribution(levels, theta)
        self.bracket_head = ht.bracket_weights(levels, theta, num_brackets)

    def describe(self) -> dict[str, Any]:
        """The learnt state, rounded for a run's metadata."""
        return {
            "hypertune_ensemble": {str(r): round(t, 6) for r, t in (self.ensemble or {}).items()},
            "hypertune_bracket_head": [round(float(w), 6) for w in self.bracket_head]
            if self.bracket_head is not None else None,
        }
