"""The two multi-fidelity GP models of the reference: ``gp_multitask`` and ``gp_independent``.

Both are GPyTorch modules over *extended inputs* ``z = [x, r]`` of shape ``(n, d + 1)``:
``x`` is the configuration encoded in ``[0, 1]^d`` (one-hot categoricals) and ``r`` the
fidelity level as a number (e.g. epochs). Each model exposes its prior mean, covariance
and noise variance; inference (marginal likelihood, posterior, fantasies) is shared
code in :mod:`mfbench.searchers.gp.posterior`, and MAP fitting in
:mod:`mfbench.searchers.gp.fit`.

Every positive parameter is stored as its logarithm, so :meth:`GPModel.raw_bounds` are
box bounds on log-values, as the reference's L-BFGS-B optimisation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from gpytorch.module import Module
from gpytorch.priors import GammaPrior, LogNormalPrior, NormalPrior

from mfbench.searchers.gp.kernels import ExpDecayResourceKernel, Matern52Kernel, log_positive, records_grad

#: reference bounds and initial values of the shared parameters (docs/methods/model_based.md)
INVERSE_BANDWIDTH_BOUNDS = (1e-4, 100.0)
COVARIANCE_SCALE_BOUNDS = (1e-3, 1e3)
NOISE_VARIANCE_BOUNDS = (1e-9, 1e6)
INITIAL_NOISE_VARIANCE = 1e-3


@dataclass
class LevelTerms:
    """The covariance of training inputs ``Z`` with test inputs ``[x, r]`` at one fixed level ``r``.

    ``cov(Z, [x, r]) = scale * k_x(Z_x, x) + offset`` (``offset`` of shape ``(n, 1)`` or a
    scalar), prior mean ``prior_mean`` and prior variance ``prior_variance`` at ``[x, r]``
    (both constant in ``x``). Lets a posterior predict at many ``x`` of one level without
    recomputing the level-dependent parts.
    """

    scale: torch.Tensor
    offset: torch.Tensor | float
    prior_mean: torch.Tensor
    prior_variance: torch.Tensor


@dataclass(frozen=True)
class ConfigurationGroups:
    """Which rows of some inputs ``z`` ``(n, d + 1)`` share a configuration: row ``i`` is
    ``[configs[index[i]], r_i]``. A trial observed at several levels repeats its configuration,
    so a kernel of the configurations alone needs computing once per distinct one.

    Attributes:
        configs: the distinct encoded configurations, shape ``(c, d)``, float64.
        index: each row's configuration, shape ``(n,)``, int64, values in ``[0, c)``.
    """

    configs: torch.Tensor
    index: torch.Tensor

    def head(self, n: int) -> "ConfigurationGroups":
        """The groups of the first ``n`` rows (the same configurations)."""
        return ConfigurationGroups(self.configs, self.index[:n])


def _f64(value: float) -> torch.Tensor:
    """A float64 scalar (prior hyperparameters exactly as the reference's, not rounded to float32)."""
    return torch.tensor(value, dtype=torch.float64)


def _log_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    return math.log(bounds[0]), math.log(bounds[1])


class GPModel(Module):
    """Common part: ARD Matern-5/2 over ``x``, a shared noise variance, bounds and priors.

    Args:
        dim: dimension ``d`` of the encoded configurations.

    Priors (MAP): noise variance Gamma(mean 0.1, shape 0.1), i.e. ``GammaPrior(0.1, 1)``;
    subclasses add LogNormal(0, 1) on covariance scales and Normal(0, 1) on means.
    The inverse bandwidths have a uniform prior, i.e. only their box.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.kernel_x = Matern52Kernel(ard_num_dims=dim)
        raw_noise = torch.nn.Parameter(torch.tensor(math.log(INITIAL_NOISE_VARIANCE), dtype=torch.float64))
        self.register_parameter("raw_noise", raw_noise)
        self.register_constraint("raw_noise", log_positive())
        self.register_prior("noise_prior", GammaPrior(_f64(0.1), _f64(1.0)), lambda m: m.noise_variance)

    @property
    def noise_variance(self) -> torch.Tensor:
        return self.raw_noise_constraint.transform(self.raw_noise)

    # ------------------------------------------------------------------ interface
    def mean(self, z: torch.Tensor) -> torch.Tensor:
        """Prior mean at extended inputs ``z`` ``(n, d + 1)``, shape ``(n,)``."""
        raise NotImplementedError

    def covariance(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """Prior covariance (no noise), shape ``(n1, n2)``."""
        raise NotImplementedError

    def variance(self, z: torch.Tensor) -> torch.Tensor:
        """Prior variance (no noise), shape ``(n,)``."""
        raise NotImplementedError

    def gram(self, z: torch.Tensor) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
        """For a MAP-criterion evaluation: the prior covariance of ``z`` ``(n, d + 1)`` with itself
        (no noise, no autograd graph) and ``W -> sum(W * covariance)``, differentiable in the
        parameters (subclasses do it without a graph over ``n x n`` elementwise operations)."""
        with torch.no_grad():
            kernel = self.covariance(z, z)
        return kernel, lambda weights: (self.covariance(z, z) * weights).sum()

    def gram_by_configuration(self, z: torch.Tensor, groups: ConfigurationGroups) -> torch.Tensor:
        """``covariance(z, z)``, bit for bit, for inputs whose configurations are ``groups``
        (subclasses compute the configuration kernel once per distinct configuration)."""
        return self.covariance(z, z)

    def block_ids(self, z: torch.Tensor) -> torch.Tensor:
        """Block of each input, shape ``(n,)``: the prior covariance between blocks is zero.

        One block (all zeros) unless the model is block diagonal.
        """
        return torch.zeros(len(z), dtype=torch.long)

    def level_terms(self, z: torch.Tensor, level: int) -> LevelTerms:
        """:class:`LevelTerms` of training inputs ``z`` ``(n, d + 1)`` with test inputs at ``level``."""
        raise NotImplementedError(f"{type(self).__name__} predicts at a level through covariance()")

    def level_terms_many(self, z: torch.Tensor, levels: Sequence[int]) -> list[LevelTerms]:
        """:meth:`level_terms` of several levels (subclasses compute them together)."""
        return [self.level_terms(z, level) for level in levels]

    def block_model(self, block_id: int) -> "GPModel | _SingleLevel":
        """The model restricted to one block (itself unless block diagonal); same values, fewer ops."""
        return self

    def raw_bounds(self) -> dict[str, tuple[float | None, float | None]]:
        """L-BFGS-B bounds on each raw parameter (by name in ``named_parameters()``)."""
        lengthscale = _log_bounds((1.0 / INVERSE_BANDWIDTH_BOUNDS[1], 1.0 / INVERSE_BANDWIDTH_BOUNDS[0]))
        return {"kernel_x.raw_lengthscale": lengthscale, "raw_noise": _log_bounds(NOISE_VARIANCE_BOUNDS)}

    def reset_parameters(self, y: torch.Tensor | None = None) -> None:
        """Set every parameter to its reference initial value (``y``: the fit's targets)."""
        with torch.no_grad():
            self.kernel_x.raw_lengthscale.fill_(0.0)
            self.raw_noise.fill_(math.log(INITIAL_NOISE_VARIANCE))

    def log_prior(self) -> torch.Tensor:
        """Sum of the log prior densities of all parameters with a prior."""
        priors = self.__dict__.get("_prior_list")
        if priors is None:  # the module tree is fixed after construction: walk it once
            priors = [(module, prior, closure) for _, module, prior, closure, _ in self.named_priors()]
            self.__dict__["_prior_list"] = priors
        total = torch.zeros((), dtype=self.raw_noise.dtype)
        for module, prior, closure in priors:
            total = total + prior.log_prob(closure(module)).sum()
        return total

    def _x(self, z: torch.Tensor) -> torch.Tensor:
        return z[:, : self.dim]

    def _r(self, z: torch.Tensor) -> torch.Tensor:
        return z[:, self.dim]


class MultiTaskGP(GPModel):
    """``gp_multitask``: one GP over ``(x, r)`` with the exp-decay-sum resource kernel.

    ``k((x, r), (x', r')) = c k_x(x, x') + gamma^2 [kappa(r + r') - kappa(r) kappa(r')]`` and
    ``mu(x, r) = mu_x + gamma kappa(r)``, with the resource encoded as
    ``(r - 0.5) / max_fidelity`` (the reference's integer range ``[1, max_t]`` mapped to
    ``[0, 1]``).

    Args:
        dim: dimension of the encoded configurations.
        max_fidelity: the largest fidelity ``max_t``.
    """

    def __init__(self, dim: int, max_fidelity: int) -> None:
        super().__init__(dim)
        self.max_fidelity = int(max_fidelity)
        self.resource = ExpDecayResourceKernel()
        self.register_parameter("raw_outputscale", torch.nn.Parameter(torch.tensor(0.0, dtype=torch.float64)))
        self.register_constraint("raw_outputscale", log_positive())
        self.register_prior("outputscale_prior", LogNormalPrior(_f64(0.0), _f64(1.0)), lambda m: m.outputscale)
        self.register_parameter("constant", torch.nn.Parameter(torch.tensor(0.0, dtype=torch.float64)))
        self.register_prior("constant_prior", NormalPrior(_f64(0.0), _f64(1.0)), lambda m: m.constant)

    @property
    def outputscale(self) -> torch.Tensor:
        return self.raw_outputscale_constraint.transform(self.raw_outputscale)

    def encode_resource(self, r: torch.Tensor) -> torch.Tensor:
        """Fidelity levels to the model's resource input ``(r - 0.5) / max_t``."""
        return (r - 0.5) / self.max_fidelity

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        return self.constant + self.resource.gamma * self.resource.kappa(self.encode_resource(self._r(z)))

    def covariance(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        x1, r1 = self._x(z1), self.encode_resource(self._r(z1))
        x2, r2 = (x1, r1) if z2 is z1 else (self._x(z2), self.encode_resource(self._r(z2)))
        scale, k_x, k_r = self.outputscale, self.kernel_x.forward(x1, x2), self.resource.forward(r1, r2)
        if records_grad(scale, k_x, k_r):
            return scale * k_x + k_r
        return k_x.mul_(scale).add_(k_r)  # in place on the fresh kernel matrix: the same values

    def gram_by_configuration(self, z: torch.Tensor, groups: ConfigurationGroups) -> torch.Tensor:
        """``covariance(z, z)`` with the Matern part on the ``c`` distinct configurations,
        ``(c, c)``, scaled and then expanded to ``(n, n)`` by indexing: each entry is the same
        product of the same values (bit for bit), with a fraction ``(c / n)^2`` of the
        elementwise work (500 observations of 300 trials: 1.0 against 2.1 ms)."""
        if torch.is_grad_enabled():
            return self.covariance(z, z)
        r = self.encode_resource(self._r(z))
        k_x = self.kernel_x.forward(groups.configs, groups.configs).mul_(self.outputscale)
        kernel = k_x.index_select(0, groups.index).index_select(1, groups.index)
        return kernel.add_(self.resource.forward(r, r))

    def variance(self, z: torch.Tensor) -> torch.Tensor:
        k_r = self.resource.forward(self.encode_resource(self._r(z)), self.encode_resource(self._r(z)), diag=True)
        return self.outputscale + k_r

    def gram(self, z: torch.Tensor) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
        r = self.encode_resource(self._r(z))
        matern = self.kernel_x.gram(self._x(z))  # type: ignore[union-attr]
        with torch.no_grad():
            kernel = self.outputscale * matern.gram + self.resource.forward(r, r)
        return kernel, lambda weights: self.outputscale * matern.contract(weights) + self.resource.contract(r, weights)

    def level_terms(self, z: torch.Tensor, level: int) -> LevelTerms:
        r = self.encode_resource(torch.tensor([float(level)], dtype=z.dtype))
        offset = self.resource.forward(self.encode_resource(self._r(z)), r)  # (n, 1)
        prior_mean = self.constant + self.resource.gamma * self.resource.kappa(r)[0]
        prior_variance = self.outputscale + self.resource.forward(r, r, diag=True)[0]
        return LevelTerms(self.outputscale, offset, prior_mean, prior_variance)

    def level_terms_many(self, z: torch.Tensor, levels: Sequence[int]) -> list[LevelTerms]:
        """:meth:`level_terms` of every level in ``levels``, with one evaluation of the resource
        kernel for all of them (``(n, L)``): Hyper-Tune predicts at 5-6 levels per proposal."""
        r = self.encode_resource(torch.tensor([float(level) for level in levels], dtype=z.dtype))
        offsets = self.resource.forward(self.encode_resource(self._r(z)), r).transpose(0, 1).contiguous()  # (L, n)
        prior_means = self.constant + self.resource.gamma * self.resource.kappa(r)
        prior_variances = self.outputscale + self.resource.forward(r, r, diag=True)
        return [LevelTerms(self.outputscale, offsets[j].unsqueeze(-1), prior_means[j], prior_variances[j])
                for j in range(len(levels))]

    def raw_bounds(self) -> dict[str, tuple[float | None, float | None]]:
        bounds = super().raw_bounds()
        bounds["raw_outputscale"] = _log_bounds(COVARIANCE_SCALE_BOUNDS)
        bounds["constant"] = (None, None)
        for name, box in ExpDecayResourceKernel.BOUNDS.items():
            bounds[f"resource.raw_{name}"] = _log_bounds(box)
        return bounds

    def reset_parameters(self, y: torch.Tensor | None = None) -> None:
        super().reset_parameters(y)
        with torch.no_grad():
            self.raw_outputscale.fill_(0.0)
            self.constant.fill_(0.0 if y is None or len(y) == 0 else float(y.mean()))
            for name, value in ExpDecayResourceKernel.INITIAL.items():
                getattr(self.resource, f"raw_{name}").fill_(math.log(value))


class IndependentGP(GPModel):
    """``gp_independent``: independent GPs per fidelity level sharing an ARD Matern-5/2.

    ``k((x, r), (x', r')) = [r = r'] c_r k_x(x, x')`` and ``mu(x, r) = mu_r``: each level
    has its own mean ``mu_r`` (Normal(0, 1) prior, init 0) and covariance scale ``c_r``
    (LogNormal(0, 1), init 1, in ``[1e-3, 1e3]``); the inverse bandwidths and the noise
    variance are shared. The marginal likelihood is the sum over levels.

    Args:
        dim: dimension of the encoded configurations.
        levels: the fidelity levels the model has parameters for (e.g. rung levels and
            ``max_t``); inputs at other levels are an error.
    """

    def __init__(self, dim: int, levels: Sequence[int]) -> None:
        super().__init__(dim)
        self.levels = sorted(int(r) for r in levels)
        if not self.levels:
            raise ValueError("IndependentGP needs at least one fidelity level")
        self.register_buffer("level_values", torch.tensor(self.levels, dtype=torch.float64))
        n = len(self.levels)
        self.register_parameter("raw_outputscales", torch.nn.Parameter(torch.zeros(n, dtype=torch.float64)))
        self.register_constraint("raw_outputscales", log_positive())
        self.register_prior("outputscale_prior", LogNormalPrior(_f64(0.0), _f64(1.0)), lambda m: m.outputscales)
        self.register_parameter("constants", torch.nn.Parameter(torch.zeros(n, dtype=torch.float64)))
        self.register_prior("constants_prior", NormalPrior(_f64(0.0), _f64(1.0)), lambda m: m.constants)

    @property
    def outputscales(self) -> torch.Tensor:
        return self.raw_outputscales_constraint.transform(self.raw_outputscales)

    def level_index(self, z: torch.Tensor) -> torch.Tensor:
        """Position of each input's level in :attr:`levels`, shape ``(n,)`` (ValueError if unknown)."""
        r = z[:, self.dim].contiguous()
        index = torch.searchsorted(self.level_values, r).clamp_(max=len(self.levels) - 1)
        if not bool((self.level_values[index] == r).all()):
            unknown = sorted(set(r.tolist()) - set(self.level_values.tolist()))
            raise ValueError(f"IndependentGP has no parameters for fidelity levels {unknown}; levels: {self.levels}")
        return index

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        return self.constants[self.level_index(z)]

    def covariance(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        i1 = self.level_index(z1)
        i2 = i1 if z2 is z1 else self.level_index(z2)
        x1 = self._x(z1)
        k_x = self.kernel_x.forward(x1, x1 if z2 is z1 else self._x(z2))
        same = (i1.unsqueeze(-1) == i2.unsqueeze(-2)).to(k_x.dtype)
        scales = self.outputscales[i1].unsqueeze(-1)
        if records_grad(k_x, scales):
            return k_x * same * scales
        return k_x.mul_(same).mul_(scales)  # in place, the same values

    def variance(self, z: torch.Tensor) -> torch.Tensor:
        return self.outputscales[self.level_index(z)] * torch.ones(len(z), dtype=z.dtype)

    def gram(self, z: torch.Tensor) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
        index = self.level_index(z)
        same = (index.unsqueeze(-1) == index.unsqueeze(-2)).to(z.dtype)
        matern = self.kernel_x.gram(self._x(z))  # type: ignore[union-attr]
        with torch.no_grad():
            kernel = matern.gram * same * self.outputscales[index].unsqueeze(-1)
        return kernel, lambda weights: matern.contract(weights * same * self.outputscales[index].unsqueeze(-1))

    def block_ids(self, z: torch.Tensor) -> torch.Tensor:
        """The level's position: levels are independent a priori."""
        return self.level_index(z)

    def block_model(self, block_id: int) -> "_SingleLevel":
        """The GP of level ``levels[block_id]`` alone (for inputs at that level only)."""
        return _SingleLevel(self, block_id)

    def raw_bounds(self) -> dict[str, tuple[float | None, float | None]]:
        bounds = super().raw_bounds()
        bounds["raw_outputscales"] = _log_bounds(COVARIANCE_SCALE_BOUNDS)
        bounds["constants"] = (None, None)
        return bounds

    def reset_parameters(self, y: torch.Tensor | None = None) -> None:
        super().reset_parameters(y)
        with torch.no_grad():
            self.raw_outputscales.fill_(0.0)
            self.constants.fill_(0.0)


class _SingleLevel:
    """One level of an :class:`IndependentGP`: mean ``mu_r``, covariance ``c_r k_x`` (inputs at that level).

    Gives the same values as the full model on inputs at the level, without looking up
    levels (the posterior of a level is computed with it).
    """

    def __init__(self, model: IndependentGP, index: int) -> None:
        self.model = model
        self.index = index

    @property
    def noise_variance(self) -> torch.Tensor:
        return self.model.noise_variance

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.constants[self.index].expand(len(z))

    def covariance(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        dim = self.model.dim
        x1 = z1[:, :dim]
        x2 = x1 if z2 is z1 else z2[:, :dim]
        k_x = self.model.kernel_x.forward(x1, x2)
        scale = self.model.outputscales[self.index]
        return k_x * scale if records_grad(k_x, scale) else k_x.mul_(scale)  # in place: the same values

    def gram_by_configuration(self, z: torch.Tensor, groups: ConfigurationGroups) -> torch.Tensor:
        """``covariance(z, z)``: a level's block seldom repeats a configuration (only a trial
        pending at a level it was observed at), so nothing is shared."""
        return self.covariance(z, z)

    def variance(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.outputscales[self.index] * torch.ones(len(z), dtype=z.dtype)

    def gram(self, z: torch.Tensor) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
        matern = self.model.kernel_x.gram(z[:, : self.model.dim])  # type: ignore[union-attr]
        with torch.no_grad():
            kernel = matern.gram * self.model.outputscales[self.index]
        return kernel, lambda weights: self.model.outputscales[self.index] * matern.contract(weights)

    def block_ids(self, z: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(z), dtype=torch.long)

    @property
    def kernel_x(self) -> Matern52Kernel:
        return self.model.kernel_x

    @property
    def dim(self) -> int:
        return self.model.dim

    def level_terms(self, z: torch.Tensor, level: int) -> LevelTerms:
        if float(level) != float(self.model.levels[self.index]):
            raise ValueError(f"this block is level {self.model.levels[self.index]}, not {level}")
        scale = self.model.outputscales[self.index]
        return LevelTerms(scale, 0.0, self.model.constants[self.index], scale)

    def level_terms_many(self, z: torch.Tensor, levels: Sequence[int]) -> list[LevelTerms]:
        """:meth:`level_terms` of each level (only this block's level is allowed)."""
        return [self.level_terms(z, level) for level in levels]
