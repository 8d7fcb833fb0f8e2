"""The small part of GPyTorch the GP models used: log-positive parameters and priors on parameters.

The models (:mod:`mfbench.searchers.gp.models`, :mod:`mfbench.searchers.gp.kernels`) are
plain ``torch.nn.Module`` s with the GPyTorch idioms they need, so that a GP run does not
import GPyTorch and its LinearOperator (~220 modules, ~0.1 s and ~10 MB per process). The
values are those GPyTorch computed: a ``Positive(transform=exp, inv_transform=log)``
constraint gave ``exp(raw) + 0`` (the same number), and GPyTorch's Gamma, LogNormal and
Normal priors are torch's distributions with the same parameters.
"""
from __future__ import annotations

from typing import Callable, Iterator

import torch
from torch.distributions import Distribution

#: ``(name, module, prior, closure, None)``: GPyTorch's ``named_priors`` tuple (no setting closure)
NamedPrior = tuple[str, "PriorModule", Distribution, Callable[["PriorModule"], torch.Tensor], None]


class LogPositive:
    """A positive parameter stored as its logarithm: ``value = exp(raw)``, ``raw = log(value)``."""

    @staticmethod
    def transform(raw: torch.Tensor) -> torch.Tensor:
        return torch.exp(raw)

    @staticmethod
    def inverse_transform(value: torch.Tensor) -> torch.Tensor:
        return torch.log(value)


class PriorModule(torch.nn.Module):
    """``torch.nn.Module`` with named constraints and priors on its parameters.

    ``register_constraint("raw_x", c)`` makes ``self.raw_x_constraint`` the transform of
    parameter ``raw_x``; ``register_prior(name, prior, closure)`` adds a prior on
    ``closure(module)`` (a parameter value), listed by :meth:`named_priors`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._priors: list[tuple[str, Distribution, Callable[[PriorModule], torch.Tensor]]] = []

    def register_constraint(self, parameter_name: str, constraint: LogPositive) -> None:
        if parameter_name not in self._parameters:
            raise AttributeError(f"{type(self).__name__} has no parameter {parameter_name!r} to constrain")
        setattr(self, f"{parameter_name}_constraint", constraint)

    def register_prior(self, name: str, prior: Distribution,
                       closure: Callable[[PriorModule], torch.Tensor]) -> None:
        setattr(self, name, prior)
        self._priors.append((name, prior, closure))

    def named_priors(self) -> Iterator[NamedPrior]:
        """``(name, module, prior, closure, None)`` of every prior of this module and its submodules."""
        for prefix, module in self.named_modules():
            if isinstance(module, PriorModule):
                for name, prior, closure in module._priors:
                    yield (f"{prefix}.{name}" if prefix else name), module, prior, closure, None


def gamma_prior(concentration: torch.Tensor, rate: torch.Tensor) -> Distribution:
    return torch.distributions.Gamma(concentration, rate, validate_args=False)


def log_normal_prior(loc: torch.Tensor, scale: torch.Tensor) -> Distribution:
    return torch.distributions.LogNormal(loc, scale, validate_args=False)


def normal_prior(loc: torch.Tensor, scale: torch.Tensor) -> Distribution:
    return torch.distributions.Normal(loc, scale, validate_args=False)
