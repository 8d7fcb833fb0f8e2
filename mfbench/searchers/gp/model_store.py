"""The GP model a searcher keeps between proposals, and the transfer of its kernel parameters.

The model object lives across proposals because its hyperparameters are the estimate
that a skipped refit keeps and a warm-started fit starts from
(:mod:`mfbench.searchers.gp.refit`). The joint model (``gp_multitask``) covers every
level, so one object serves the whole run. The independent model (``gp_independent``)
has one output scale and mean per level; when a new level appears it is rebuilt with the
new levels and the estimate carried over (:func:`carry_over`). Importing this module does
not import torch.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    from mfbench.searchers.gp.models import GPModel, IndependentGP

#: the model options (the searcher's ``model`` keyword)
MODELS = ("gp_multitask", "gp_independent")

ModelName = Literal["gp_multitask", "gp_independent"]


class ModelStore:
    """Builds the model on first use and keeps it (and its hyperparameters) between proposals.

    Args:
        model: ``"gp_multitask"`` (joint GP over configuration and fidelity with the
            exp-decay resource kernel) or ``"gp_independent"`` (one GP per level).
        dim: dimension ``d`` of the encoded configurations.
        max_fidelity: the maximum fidelity (scales the joint model's resource input).
    """

    def __init__(self, model: ModelName, dim: int, max_fidelity: int) -> None:
        if model not in MODELS:
            raise ValueError(f"searcher.model must be one of {MODELS}, got {model!r}")
        self.model_name = model
        self.dim = dim
        self.max_fidelity = max_fidelity
        self._model: GPModel | None = None

    def model_for(self, levels: list[int]) -> GPModel:
        """The model covering ``levels`` (ascending; all levels with data or pending, the
        configured ones and the maximum fidelity), built or rebuilt as needed."""
        from mfbench.searchers.gp.models import IndependentGP, MultiTaskGP

        if self.model_name == "gp_multitask":
            if self._model is None:
                self._model = MultiTaskGP(self.dim, self.max_fidelity).double()
            return self._model
        old = self._model
        if old is None or old.levels != levels:  # type: ignore[union-attr]
            model = IndependentGP(self.dim, levels).double()
            if old is not None:
                carry_over(old, model)  # type: ignore[arg-type]
            self._model = model
        return self._model


def carry_over(old: IndependentGP, new: IndependentGP) -> None:
    """Copy ``old``'s estimate into ``new`` (a warm start for the next fit).

    The shared parameters (configuration lengthscales, noise) are copied; per level, the
    output scale and the constant mean are copied for the levels both models have, and the
    new levels keep their initial values.
    """
    import torch

    with torch.no_grad():
        new.kernel_x.raw_lengthscale.copy_(old.kernel_x.raw_lengthscale)
        new.raw_noise.copy_(old.raw_noise)
        for i, level in enumerate(new.levels):
            if level in old.levels:
                j = old.levels.index(level)
                new.raw_outputscales[i] = old.raw_outputscales[j]
                new.constants[i] = old.constants[j]
