"""Exact GP inference with dense Cholesky factors: likelihood, posterior, samples, fantasies.

Works for any :class:`~mfbench.searchers.gp.models.GPModel` (its mean, covariance and
noise variance). Targets may be a matrix ``(n, m)``: the columns share inputs and
hyperparameters and differ only in the fantasy values of pending evaluations, so the
Cholesky factor is computed once for all columns (reference: ``GaussProcPosteriorState``).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from mfbench.searchers.gp.kernels import records_grad
from mfbench.searchers.gp.models import ConfigurationGroups, GPModel, LevelTerms

#: smallest posterior variance returned by :meth:`GPPosterior.predict` (reference value)
MIN_POSTERIOR_VARIANCE = 1e-12
#: jitter on the diagonal of the posterior covariance when sampling jointly (reference value)
SAMPLE_JITTER = 1e-5
_MAX_JITTER_TRIES = 12


def robust_cholesky(matrix: torch.Tensor, prior_scale: float | None = None) -> torch.Tensor:
    """Lower Cholesky factor of a symmetric PSD matrix, adding diagonal jitter if needed.

    The jitter starts at ``1e-9`` times the mean diagonal and grows tenfold per failed
    try (as the reference's ``AddJitterOp``). A posterior covariance or Schur complement can
    have a diagonal far below its rounding errors (new inputs next to observed ones, the
    noise at its floor): then, if given, the same tries follow at the scale of its prior
    variance ``prior_scale`` (matrices that factorise with the first tries are unaffected).
    RuntimeError if it never succeeds.
    """
    factor, info = torch.linalg.cholesky_ex(matrix)
    if int(info) == 0:
        return factor
    n = matrix.shape[-1]
    scale = float(matrix.diagonal().mean().abs()) or 1.0
    eye = torch.eye(n, dtype=matrix.dtype)
    scales = [scale] + ([abs(prior_scale)] if prior_scale is not None and abs(prior_scale) > scale else [])
    for base in scales:
        jitter = 1e-9 * base
        for _ in range(_MAX_JITTER_TRIES):
            factor, info = torch.linalg.cholesky_ex(matrix + jitter * eye)
            if int(info) == 0:
                return factor
            jitter *= 10.0
    raise RuntimeError(f"Cholesky factorisation failed even with jitter {jitter / 10.0:.3g} on a {n}x{n} matrix")


def _solve_lower(factor: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    return torch.linalg.solve_triangular(factor, rhs, upper=False)


def _scalar(value: "torch.Tensor | float") -> float:
    """A Python float of a 0-d tensor (without autograd's warning) or of a number."""
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


class GPPosterior:
    """The posterior of a GP model given data ``(z, Y)``, for fixed hyperparameters.

    Args:
        model: the GP model (its current parameters are used).
        z: extended inputs, shape ``(n, d + 1)``.
        targets: shape ``(n,)`` or ``(n, m)`` (``m`` fantasy columns).
        groups: which rows of ``z`` share a configuration, if known: the correlations with
            test configurations are then computed once per distinct configuration, and so is
            the kernel of the training inputs where the model can (the joint model, without
            autograd); the same values, bit for bit.

    Attributes:
        factor: lower Cholesky factor ``L`` of ``K + noise * I``, shape ``(n, n)``.
        weights: ``L^{-1} (Y - mean)``, shape ``(n, m)``.
    """

    def __init__(self, model: GPModel, z: torch.Tensor, targets: torch.Tensor,
                 factor: torch.Tensor | None = None, weights: torch.Tensor | None = None,
                 groups: ConfigurationGroups | None = None) -> None:
        self.model = model
        self.z = z
        self.groups = groups
        self.targets = targets.reshape(len(z), -1) if len(z) else targets.reshape(0, 1)
        if factor is None:
            kernel = model.covariance(z, z) if groups is None else model.gram_by_configuration(z, groups)
            noise = model.noise_variance
            if records_grad(kernel, noise):
                kernel = kernel + noise * torch.eye(len(z), dtype=z.dtype)
            else:  # the same sums on the diagonal, without an (n, n) identity and a copy
                kernel.diagonal().add_(noise)
            factor = robust_cholesky(kernel)
        self.factor = factor
        if weights is None:
            weights = _solve_lower(factor, self.targets - model.mean(z).unsqueeze(-1))
        self.weights = weights

    @property
    def num_fantasies(self) -> int:
        return self.weights.shape[1]

    @property
    def alpha(self) -> torch.Tensor:
        """``(K + noise * I)^{-1} (Y - mean) = L^{-T} weights``, shape ``(n, m)`` (cached).

        Posterior means are ``mean + cov(Z, z)^T alpha``, without a triangular solve per
        test input (used when only means are needed).
        """
        alpha = self.__dict__.get("_alpha")
        if alpha is None:
            alpha = self.__dict__["_alpha"] = torch.linalg.solve_triangular(
                self.factor.transpose(0, 1), self.weights, upper=True)
        return alpha

    def scaled_inputs(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inverse lengthscales ``(1, d)``, training configurations divided by the lengthscales
        ``(n, d)`` and their squared norms ``(n, 1)``: shared by every level's predictor (cached)."""
        cached = self.__dict__.get("_scaled_inputs")
        if cached is None:
            model = self.model
            inverse = 1.0 / model.kernel_x.lengthscale.reshape(1, -1)  # type: ignore[union-attr]
            scaled = self.z[:, : model.dim] * inverse
            cached = self.__dict__["_scaled_inputs"] = (inverse, scaled, (scaled * scaled).sum(-1).unsqueeze(-1))
        return cached

    def scaled_configurations(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The distinct configurations of :attr:`groups` divided by the lengthscales ``(c, d)``
        and their squared norms ``(c, 1)`` (cached; needs ``groups``)."""
        cached = self.__dict__.get("_scaled_configurations")
        if cached is None:
            inverse = self.scaled_inputs()[0]
            scaled = self.groups.configs * inverse  # type: ignore[union-attr]
            cached = self.__dict__["_scaled_configurations"] = (scaled, (scaled * scaled).sum(-1).unsqueeze(-1))
        return cached

    def numpy_arrays(self) -> dict[str, np.ndarray]:
        """What every level's :meth:`LevelPredictor.numpy_terms` shares, as numpy arrays (cached)."""
        cached = self.__dict__.get("_numpy_arrays")
        if cached is None:
            inverse, scaled, norms = self.scaled_inputs()
            cached = self.__dict__["_numpy_arrays"] = {
                "scaled_train": scaled.detach().numpy(),  # (n, d)
                "train_norms": norms.detach().numpy().reshape(-1),  # (n,)
                "inverse_lengthscale": inverse.detach().numpy().reshape(-1),  # (d,)
                "factor": np.asfortranarray(self.factor.detach().numpy()),  # (n, n), for LAPACK
                "weights": self.weights.detach().numpy(),  # (n, columns)
            }
        return cached

    def level_predictor(self, level: int) -> "LevelPredictor":
        """A fast predictor at configurations of one level (cached per level)."""
        cache = self.__dict__.setdefault("_level_predictors", {})
        predictor = cache.get(level)
        if predictor is None:
            predictor = cache[level] = LevelPredictor(self, level)
        return predictor

    def level_predictors(self, levels: Sequence[int]) -> list["LevelPredictor"]:
        """:meth:`level_predictor` of several levels; the missing ones get their level terms
        from one call (:meth:`GPModel.level_terms_many`) when there are several."""
        cache = self.__dict__.setdefault("_level_predictors", {})
        missing = [level for level in dict.fromkeys(levels) if level not in cache]
        if len(missing) > 1:
            for level, terms in zip(missing, self.model.level_terms_many(self.z, missing)):
                cache[level] = LevelPredictor(self, level, terms)
        return [self.level_predictor(level) for level in levels]

    def neg_log_likelihood(self) -> torch.Tensor:
        """``-log p(y)`` of a single target column (differentiable in the model parameters)."""
        if self.num_fantasies != 1:
            raise ValueError("the marginal likelihood is defined for one target column")
        n = len(self.z)
        return (
            0.5 * (self.weights**2).sum()
            + torch.log(self.factor.diagonal()).sum()
            + 0.5 * n * math.log(2.0 * math.pi)
        )

    def _cross(self, z_test: torch.Tensor) -> torch.Tensor:
        """``L^-1 cov(Z, z_test)``, shape ``(n, n_test)``. Without autograd the last one is kept, by
        the identity and version of ``z_test`` (an in-place change is a new version): drawing the
        fantasies of pending inputs and then conditioning on them (:meth:`sample_joint`, then
        :meth:`extend` on the same tensor) needs it twice."""
        if torch.is_grad_enabled():  # a kept result would carry no (or a stale) graph
            return _solve_lower(self.factor, self.model.covariance(self.z, z_test))
        key = (z_test, z_test._version)
        last = self.__dict__.get("_last_cross")
        if last is not None and last[0][0] is key[0] and last[0][1] == key[1]:
            return last[1]
        cross = _solve_lower(self.factor, self.model.covariance(self.z, z_test))
        self.__dict__["_last_cross"] = (key, cross)
        return cross

    def predict(self, z_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means ``(n_test, m)`` and variances ``(n_test,)`` of the latent function."""
        v = self._cross(z_test)
        means = self.model.mean(z_test).unsqueeze(-1) + v.transpose(0, 1) @ self.weights
        variances = self.model.variance(z_test) - (v * v).sum(0)
        return means, variances.clamp_min(MIN_POSTERIOR_VARIANCE)

    def joint(self, z_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means ``(n_test, m)`` and covariance ``(n_test, n_test)``."""
        v = self._cross(z_test)
        means = self.model.mean(z_test).unsqueeze(-1) + v.transpose(0, 1) @ self.weights
        covariance = self.model.covariance(z_test, z_test) - v.transpose(0, 1) @ v
        return means, covariance

    def sample_joint(self, z_test: torch.Tensor, num_samples: int, rng: np.random.Generator) -> torch.Tensor:
        """Joint samples of the latent function, shape ``(n_test, m, num_samples)``.

        The covariance gets :data:`SAMPLE_JITTER` on its diagonal (as the reference); the
        standard normal draws come from ``rng`` (numpy), shape ``(n_test, m * num_samples)``.
        """
        means, covariance = self.joint(z_test)
        n_test = len(z_test)
        covariance = covariance + SAMPLE_JITTER * torch.eye(n_test, dtype=covariance.dtype)
        factor = robust_cholesky(covariance)
        m = means.shape[1]
        normals = torch.from_numpy(rng.standard_normal((n_test, m * num_samples)))
        samples = (factor @ normals).reshape(n_test, m, num_samples)
        return samples + means.unsqueeze(-1)

    def extend(self, z_new: torch.Tensor, targets_new: torch.Tensor,
               groups: ConfigurationGroups | None = None) -> "GPPosterior":
        """The posterior with data ``(z_new, targets_new)`` appended, by a block Cholesky update.

        Args:
            z_new: shape ``(p, d + 1)``.
            targets_new: shape ``(p, m')``; if this posterior has one column it is
                broadcast to ``m'`` columns (fantasies), else ``m'`` must equal ``m``.
            groups: the configurations of all ``n + p`` rows of the result, if known.
        """
        targets_new = targets_new.reshape(len(z_new), -1)
        m = targets_new.shape[1]
        if self.num_fantasies not in (1, m):
            raise ValueError(f"cannot extend a posterior with {self.num_fantasies} columns by {m} columns")
        a = self._cross(z_new)  # (n, p)
        prior = self.model.covariance(z_new, z_new)
        schur = prior - a.transpose(0, 1) @ a
        schur = schur + self.model.noise_variance * torch.eye(len(z_new), dtype=schur.dtype)
        lower = robust_cholesky(schur, prior_scale=float(prior.diagonal().mean()))
        top = self.weights.expand(-1, m)
        bottom = _solve_lower(lower, targets_new - self.model.mean(z_new).unsqueeze(-1) - a.transpose(0, 1) @ top)
        n, p = len(self.z), len(z_new)
        factor = torch.zeros((n + p, n + p), dtype=self.factor.dtype)
        factor[:n, :n] = self.factor
        factor[n:, :n] = a.transpose(0, 1)
        factor[n:, n:] = lower
        targets = torch.cat([self.targets.expand(-1, m), targets_new], dim=0)
        return GPPosterior(self.model, torch.cat([self.z, z_new], dim=0), targets,
                           factor=factor, weights=torch.cat([top, bottom], dim=0), groups=groups)


class LevelPredictor:
    """Posterior means and variances at ``[x, level]`` for many ``x``, with precomputed terms.

    Same values as :meth:`GPPosterior.predict` on ``[x, level]`` (up to rounding): the
    level-dependent parts of the covariance (:meth:`GPModel.level_terms`) and the scaled
    training configurations are computed once. Differentiable in ``x`` (local optimisation).
    """

    def __init__(self, posterior: GPPosterior, level: int, terms: LevelTerms | None = None) -> None:
        self.posterior = posterior
        self.terms = posterior.model.level_terms(posterior.z, level) if terms is None else terms
        # (1, d), (n, d), (n, 1): the same for every level of the posterior
        self.inverse_lengthscale, self.scaled_train, self.train_norms = posterior.scaled_inputs()

    def numpy_terms(self) -> dict[str, Any]:
        """The precomputed terms as numpy arrays (for :mod:`mfbench.searchers.gp.local_ei`);
        the arrays of the posterior (configurations, factor, weights) are shared by all levels."""
        cached = self.__dict__.get("_numpy_terms")
        if cached is None:
            terms = self.terms
            offset = terms.offset
            solved_offset = self.solved_offset  # computed once per level (predict_mixture uses it too)
            cached = {
                **self.posterior.numpy_arrays(),
                "scale": _scalar(terms.scale),
                "offset": offset.detach().numpy().reshape(-1) if isinstance(offset, torch.Tensor) else float(offset),
                "solved_offset": (solved_offset.detach().numpy().reshape(-1) if isinstance(solved_offset, torch.Tensor)
                                  else float(solved_offset)),  # L^-1 offset
                "prior_mean": _scalar(terms.prior_mean),
                "prior_variance": _scalar(terms.prior_variance),
            }
            self.__dict__["_numpy_terms"] = cached
        return cached

    def correlation(self, x: torch.Tensor) -> torch.Tensor:
        """``k_x(Z_x, x)`` without scale, shape ``(n, m)`` for ``x`` ``(m, d)``; the same for every
        level predictor of one posterior (it depends on the lengthscales and training inputs only).
        With the posterior's configuration groups, computed once per distinct training
        configuration and expanded to the rows (the same values, bit for bit)."""
        from mfbench.searchers.gp.kernels import matern52, scaled_squared_distance

        groups = self.posterior.groups
        if groups is not None:
            scaled, norms = self.posterior.scaled_configurations()
            return matern52(scaled_squared_distance(scaled, x * self.inverse_lengthscale, norms)).index_select(
                0, groups.index)
        return matern52(scaled_squared_distance(self.scaled_train, x * self.inverse_lengthscale, self.train_norms))

    @property
    def solved_offset(self) -> torch.Tensor | float:
        """``L^{-1} offset`` (``(n, 1)``, or ``0.0`` without an offset), cached."""
        solved = self.__dict__.get("_solved_offset")
        if solved is None:
            offset = self.terms.offset
            if isinstance(offset, torch.Tensor):
                solved = _solve_lower(self.posterior.factor, offset.reshape(-1, 1))
            elif offset == 0.0:
                solved = 0.0
            else:
                solved = _solve_lower(self.posterior.factor, torch.full((len(self.posterior.z), 1), float(offset),
                                                                        dtype=self.posterior.factor.dtype))
            self.__dict__["_solved_offset"] = solved
        return solved

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means ``(m, columns)`` and variances ``(m,)`` at configurations ``x`` ``(m, d)``."""
        cross = self.terms.scale * self.correlation(x) + self.terms.offset  # (n, m)
        v = _solve_lower(self.posterior.factor, cross)
        means = self.terms.prior_mean + v.transpose(0, 1) @ self.posterior.weights
        variances = self.terms.prior_variance - (v * v).sum(0)
        return means, variances.clamp_min(MIN_POSTERIOR_VARIANCE)


def _common_scale_and_offsets(predictors: list[tuple[LevelPredictor, float]]) -> bool:
    """Whether the levels share their covariance scale and each has an offset column (the joint model)."""
    scale = _scalar(predictors[0][0].terms.scale)
    return all(_scalar(p.terms.scale) == scale and isinstance(p.solved_offset, torch.Tensor) for p, _ in predictors)


def _add_levels_of_block(posterior: GPPosterior, solved: torch.Tensor, predictors: list[tuple[LevelPredictor, float]],
                         means: torch.Tensor | float, variances: torch.Tensor | float
                         ) -> tuple[torch.Tensor | float, torch.Tensor | float]:
    """Add ``sum_r w_r mean_r`` and ``sum_r w_r^2 var_r`` of several levels of one block to ``means``
    ``(n, columns)`` and ``variances`` ``(n,)``, for levels with a common scale ``s``.

    With ``S = L^-1 k`` ``(n_train, n)`` (``solved``) and ``o_r = L^-1 offset_r`` ``(n_train, 1)``,
    a level's ``v_r = s S + o_r``, so ``mean_r = prior_mean_r + s S^T W + o_r^T W`` and the column
    sums ``|v_r|^2 = s^2 |S|^2 + 2 s o_r^T S + |o_r|^2``: the ``(n_train, n)`` work is done once
    for all levels instead of once per level (the same values up to rounding).
    """
    scale = predictors[0][0].terms.scale
    weights = posterior.weights
    shared_means = scale * (solved.transpose(0, 1) @ weights)  # (n, columns)
    shared_squares = (scale * scale) * (solved * solved).sum(0)  # (n,)
    for predictor, weight in predictors:
        terms = predictor.terms
        offset = predictor.solved_offset.transpose(0, 1)  # type: ignore[union-attr]  (1, n_train)
        means = means + weight * (terms.prior_mean + shared_means + offset @ weights)
        squares = shared_squares + (2.0 * scale) * (offset @ solved).reshape(-1) + (offset * offset).sum()
        level_variances = (terms.prior_variance - squares).clamp_min(MIN_POSTERIOR_VARIANCE)
        variances = variances + weight * weight * level_variances
    return means, variances


class BlockPosterior:
    """The posterior with fantasies for pending evaluations, built lazily block by block.

    For a block-diagonal prior (the independent model: one block per level) the
    posterior of a block only depends on the data in it, so only the blocks that are
    predicted at are factorised; for the joint model there is one block. Pending
    evaluations of a block get ``num_fantasies`` joint fantasy samples from the
    block's posterior on the observed data (reference ``GaussProcEstimator``), drawn
    when the block is first needed.

    Args:
        model: the GP model.
        z: observed extended inputs ``(n, d + 1)``; targets: ``(n,)``.
        z_pending: extended inputs of pending evaluations ``(p, d + 1)`` (may be empty).
        num_fantasies: fantasy samples per pending evaluation.
        rng: source of the fantasy draws.
        configuration_ids: one label per row of ``z``, then of ``z_pending`` (e.g. trial ids),
            equal where the rows share a configuration (checked); optional. Where all rows,
            observed and pending, lie in one block and labels repeat (a trial at several
            levels), that block's kernels are computed once per distinct configuration
            (:class:`ConfigurationGroups`; the Gram matrix only for the joint model, without
            autograd): the same values, bit for bit, with less work.
    """

    def __init__(self, model: GPModel, z: torch.Tensor, targets: torch.Tensor, z_pending: torch.Tensor | None = None,
                 num_fantasies: int = 1, rng: np.random.Generator | None = None,
                 configuration_ids: Sequence[int] | None = None) -> None:
        self.model = model
        self.rng = rng
        self.num_fantasies = num_fantasies
        self._dim = z.shape[1]
        ids = model.block_ids(z)
        self._observed = {int(b): (z[ids == b], targets[ids == b]) for b in torch.unique(ids).tolist()}
        self._pending: dict[int, torch.Tensor] = {}
        if z_pending is not None and len(z_pending):
            pending_ids = model.block_ids(z_pending)
            self._pending = {int(b): z_pending[pending_ids == b] for b in torch.unique(pending_ids).tolist()}
        #: number of columns of every prediction (1 without pending evaluations)
        self.num_columns = num_fantasies if self._pending else 1
        self._blocks: dict[int, GPPosterior] = {}
        self._level_blocks: dict[int, int] = {}
        #: the block that holds every row, with the rows' configuration groups (None: not shared)
        self._grouped_block: int | None = None
        self._groups = self._configuration_groups(z, z_pending, configuration_ids)

    def _configuration_groups(self, z: torch.Tensor, z_pending: torch.Tensor | None,
                              configuration_ids: Sequence[int] | None) -> ConfigurationGroups | None:
        """The groups of all rows (observed, then pending) if they lie in one block and repeat a
        configuration, else None (then there is nothing to share).

        Raises:
            ValueError: not one label per row, or rows with the same label and different
                configurations (their kernels would be computed from the wrong one).
        """
        if configuration_ids is None:
            return None
        rows = z if z_pending is None or not len(z_pending) else torch.cat([z, z_pending], dim=0)
        labels = np.asarray(configuration_ids)
        if labels.shape != (len(rows),):
            raise ValueError(f"configuration_ids has shape {labels.shape}, expected ({len(rows)},): one per input row")
        if len(self._observed) != 1 or not set(self._pending) <= set(self._observed):
            return None
        _, first, index = np.unique(labels, return_index=True, return_inverse=True)
        if len(first) == len(labels):
            return None
        index_tensor = torch.from_numpy(index.reshape(-1).astype(np.int64))
        configs = rows[torch.from_numpy(first), : self._dim - 1].contiguous()
        if not torch.equal(configs.index_select(0, index_tensor), rows[:, : self._dim - 1]):
            raise ValueError("configuration_ids gives the same label to rows with different configurations")
        self._grouped_block = next(iter(self._observed))
        return ConfigurationGroups(configs, index_tensor)

    def block(self, block_id: int) -> GPPosterior:
        """The posterior of one block (fantasies included), computed on first use."""
        posterior = self._blocks.get(block_id)
        if posterior is None:
            z, y = self._observed.get(block_id, (torch.zeros((0, self._dim), dtype=torch.float64),
                                                 torch.zeros(0, dtype=torch.float64)))
            groups = self._groups if block_id == self._grouped_block else None
            posterior = GPPosterior(self.model.block_model(block_id), z, y,  # type: ignore[arg-type]
                                    groups=None if groups is None else groups.head(len(z)))
            z_pending = self._pending.get(block_id)
            if z_pending is not None:
                if self.rng is None:
                    raise ValueError("a random generator is needed to draw fantasies")
                fantasies = posterior.sample_joint(z_pending, self.num_fantasies, self.rng)[:, 0, :]
                posterior = posterior.extend(z_pending, fantasies, groups=groups)
            self._blocks[block_id] = posterior
        return posterior

    def predict_level(self, x: torch.Tensor, level: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Means ``(n, num_columns)`` and variances ``(n,)`` at configurations ``x`` ``(n, d)``, one level.

        The same values as :meth:`predict` on ``[x, level]``, with fewer operations (the
        block is looked up once); used inside the local optimisation of the acquisition.
        """
        means, variances = self.level_predictor(level, x.shape[1])(x)
        return means.expand(-1, self.num_columns), variances

    def level_predictor(self, level: int, dim: int) -> LevelPredictor:
        """The :class:`LevelPredictor` of ``level``'s block (``dim``: encoded dimension)."""
        return self.block(self._block_of(level, dim)).level_predictor(level)

    def _block_of(self, level: int, dim: int) -> int:
        block_id = self._level_blocks.get(level)
        if block_id is None:
            z = torch.zeros((1, dim + 1), dtype=torch.float64)
            z[0, dim] = float(level)
            block_id = int(self.model.block_ids(z)[0])
            self._level_blocks[level] = block_id
        return block_id

    def predict_mixture(self, x: torch.Tensor, weights: dict[int, float],
                        means_only: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``sum_r w_r f(x, r)`` over levels ``r`` with the levels' predictions treated as independent.

        Means ``(n, num_columns)`` (``sum_r w_r mean_r``) and variances ``(n,)``
        (``sum_r w_r^2 var_r``, ``None`` if ``means_only``) at configurations ``x`` ``(n, d)``;
        the same values as combining :meth:`predict_level` (up to rounding) with fewer
        operations: the kernel of the training inputs with ``x`` and its triangular solve
        are computed once per block, not once per level (every level of the joint model
        shares one block), and ``means_only`` needs no solve at all.
        """
        dim = x.shape[1]
        by_block: dict[int, list[tuple[int, float]]] = {}
        for level, weight in weights.items():
            by_block.setdefault(self._block_of(level, dim), []).append((level, weight))
        means: torch.Tensor | float = 0.0
        variances: torch.Tensor | float = 0.0
        for block_id, members in by_block.items():
            posterior = self.block(block_id)
            predictors = list(zip(posterior.level_predictors([level for level, _ in members]),
                                  [weight for _, weight in members]))
            correlation = predictors[0][0].correlation(x)  # (n_train, n)
            if means_only:
                alpha = posterior.alpha
                correlation_alpha = correlation.transpose(0, 1) @ alpha  # (n, columns)
                for predictor, weight in predictors:
                    terms = predictor.terms
                    offset_alpha = (terms.offset * alpha).sum(0) if isinstance(terms.offset, torch.Tensor) \
                        else terms.offset * alpha.sum(0)
                    means = means + weight * (terms.prior_mean + terms.scale * correlation_alpha + offset_alpha)
                continue
            solved = _solve_lower(posterior.factor, correlation)  # (n_train, n)
            if len(predictors) > 1 and _common_scale_and_offsets(predictors):  # Hyper-Tune on the joint model
                means, variances = _add_levels_of_block(posterior, solved, predictors, means, variances)
                continue
            for predictor, weight in predictors:  # one level per block (MOBSTER, the independent model)
                terms = predictor.terms
                v = terms.scale * solved + predictor.solved_offset
                means = means + weight * (terms.prior_mean + v.transpose(0, 1) @ posterior.weights)
                squares = v * v if records_grad(v) else v.mul_(v)  # v is not needed any more
                level_variances = (terms.prior_variance - squares.sum(0)).clamp_min(MIN_POSTERIOR_VARIANCE)
                variances = variances + weight * weight * level_variances
        if not isinstance(means, torch.Tensor):  # no levels
            raise ValueError("predict_mixture needs at least one level")
        return means.expand(-1, self.num_columns), (None if means_only else variances)  # type: ignore[return-value]

    def predict(self, z_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means ``(n_test, num_columns)`` and variances ``(n_test,)``."""
        ids = self.model.block_ids(z_test)
        means = torch.empty((len(z_test), self.num_columns), dtype=z_test.dtype)
        variances = torch.empty(len(z_test), dtype=z_test.dtype)
        for b in torch.unique(ids).tolist():
            rows = ids == b
            m, v = self.block(int(b)).predict(z_test[rows])
            means[rows] = m.expand(-1, self.num_columns)
            variances[rows] = v
        return means, variances

    def sample_joint(self, z_test: torch.Tensor, num_samples: int, rng: np.random.Generator) -> torch.Tensor:
        """Joint samples ``(n_test, num_columns, num_samples)`` (independent across blocks)."""
        ids = self.model.block_ids(z_test)
        out = torch.empty((len(z_test), self.num_columns, num_samples), dtype=z_test.dtype)
        for b in torch.unique(ids).tolist():
            rows = ids == b
            out[rows] = self.block(int(b)).sample_joint(z_test[rows], num_samples, rng).expand(
                -1, self.num_columns, -1)
        return out
