"""BoTorch's multi-fidelity GP and cost-aware multi-fidelity max-value entropy (MF-MES).

The model and acquisition behind ``method=botorch_mfmes``
(:class:`mfbench.schedulers.external.botorch_mf.BoTorchMFMES`, docs/methods/botorch_mf.md),
following BoTorch's own multi-fidelity recipe (multi-fidelity GP, cost model, cost-aware
utility, projection to the target fidelity, a search over fixed fidelity levels):

* the model is ``SingleTaskMultiFidelityGP`` over ``(encoded configuration, fidelity)``: the
  configuration in our ``[0, 1]^d`` encoding (one-hot categoricals), the fidelity normalised
  to ``level / max_fidelity`` in ``(0, 1]`` as the last column (the target fidelity is 1), with
  BoTorch's linear-truncated fidelity kernel by default;
* the acquisition is ``qMultiFidelityMaxValueEntropy``: the information a result at fidelity
  ``s`` gives about the maximum of the objective *at the target fidelity*
  (``project_to_target_fidelity``), running evaluations as ``X_pending`` (the model is
  fantasized on them), divided by the evaluation's cost by BoTorch's
  ``InverseCostWeightedUtility`` with an ``AffineFidelityCostModel``
  (``fixed_cost + fidelity``);
* candidates are a finite set of ``(configuration, level)`` pairs; the best-scoring one wins
  (the discrete analogue of ``optimize_acqf_mixed`` over fixed fidelity levels).

BoTorch maximises, so the model is fitted on ``-loss``, standardised. torch, gpytorch and
botorch are imported inside the functions (``python -m mfbench --help`` stays fast); the
caller runs them inside :func:`~mfbench.searchers.gp.runtime.torch_session` (one thread,
deterministic, seeded), so that a run is bit-identical for a seed.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mfbench.problem import Problem
from mfbench.searchers.base import Searcher
from mfbench.space import Config

if TYPE_CHECKING:  # pragma: no cover
    import torch


class UnseenConfigurations(Searcher):
    """The configurations no trial has used yet, and uniform draws among them.

    The bookkeeping every searcher shares (no duplicates, sampling without replacement on a
    finite space, exhaustion), driven by a generator the caller passes in, so that the
    method's draws all come from its own named stream.

    Args:
        problem: the run's problem.
        rng: the generator uniform draws come from.
    """

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        super().__init__(problem, points_to_evaluate=[])
        self.rng = rng

    def _propose(self) -> Config | None:
        return self.sample_unseen()

    def unseen_rows(self) -> np.ndarray | None:
        """On a space restricted to a table, the unseen row indices (ascending, ``(k,)``); else None."""
        return None if self._seen_rows is None else np.flatnonzero(~self._seen_rows)


@dataclass(frozen=True)
class MFMESOptions:
    """The model's and the acquisition's options (the YAML keys of the same names).

    Attributes:
        fidelity_role: ``"iteration"`` (the fidelity is training iterations / epochs:
            BoTorch's ``iteration_fidelity``) or ``"data"`` (a data-set size:
            ``data_fidelities``). With the linear-truncated kernel both give the same
            kernel; without it, the exponential-decay kernel resp. the downsampling kernel.
        linear_truncated: BoTorch's ``LinearTruncatedFidelityKernel`` (its default).
        fixed_cost: the affine cost model's fixed cost per evaluation, in units of one full
            evaluation (the fidelity part is ``level / max_fidelity``).
        num_fantasies: fantasy samples of the running evaluations (MF-MES's ``X_pending``);
            0: the kriging believer instead (the model conditioned on its posterior mean at
            the running evaluations: one model, not a batch of ``num_fantasies``).
        num_mv_samples: samples of the maximum value (Gumbel approximation).
        num_y_samples: samples of the observation per candidate.
        fit_maxiter: L-BFGS-B iterations of a hyperparameter fit.
        batch_size: candidates evaluated per acquisition call (bounds the memory).
    """

    fidelity_role: Literal["iteration", "data"] = "iteration"
    linear_truncated: bool = True
    fixed_cost: float = 0.05
    num_fantasies: int = 0
    num_mv_samples: int = 10
    num_y_samples: int = 32
    fit_maxiter: int = 50
    batch_size: int = 256

    def __post_init__(self) -> None:
        if self.fidelity_role not in ("iteration", "data"):
            raise ValueError(f"fidelity_role must be 'iteration' or 'data', got {self.fidelity_role!r}")
        if not self.fixed_cost >= 0.0:
            raise ValueError(f"fixed_cost must be >= 0 (units of one full evaluation), got {self.fixed_cost}")
        if int(self.num_fantasies) < 0:
            raise ValueError(f"num_fantasies must be >= 0 (0: kriging believer), got {self.num_fantasies}")
        for key in ("num_mv_samples", "num_y_samples", "fit_maxiter", "batch_size"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")


def standardized_targets(losses: np.ndarray) -> np.ndarray:
    """``-loss`` standardised to mean 0, std 1 (BoTorch maximises), shape ``(n,)``.

    A failed evaluation (``inf`` loss) is given the worst finite loss, so it ranks last
    without dominating the scale; with no finite loss at all every target is 0.
    """
    losses = np.asarray(losses, dtype=float)
    finite = np.isfinite(losses)
    if not finite.any():
        return np.zeros(len(losses))
    losses = np.where(finite, losses, losses[finite].max())
    targets = -losses
    std = targets.std()
    return (targets - targets.mean()) / (std if std > 0 else 1.0)


def block_posterior_model(model: Any, extra_inputs: Any = None, extra_targets: Any = None) -> Any:
    """The exact GP posterior of ``model`` for many small joint blocks, as a BoTorch ``Model``.

    MF-MES evaluates the posterior on ``batch x q x D`` inputs with a tiny ``q`` (a candidate and
    its projection to the target fidelity). GPyTorch evaluates every batch element against the
    whole training set *jointly* (a ``(n + q) x (n + q)`` kernel per element), which made
    scoring ~6x slower than one flat evaluation. This model gives the same posterior (the same
    formulas: ``mean = m(x) + k(x, X) alpha``, ``cov = k(x, x') - v(x)^T v(x')`` with
    ``v = L^{-1} k(X, x)``) from one flat ``(batch q) x n`` cross-covariance, one Cholesky
    factor of the training covariance, and the small ``q x q`` blocks. ``extra_inputs``
    ``(p, D)`` with ``extra_targets`` ``(p,)`` are appended to the training data (the kriging
    believer: the running evaluations at their posterior mean); ``model``'s hyperparameters are
    used unchanged.
    """
    import torch
    from botorch.models.model import Model
    from botorch.posteriors.gpytorch import GPyTorchPosterior
    from gpytorch.distributions import MultivariateNormal
    from linear_operator import to_linear_operator
    from linear_operator.operators import DiagLinearOperator, MatmulLinearOperator
    from linear_operator.utils.cholesky import psd_safe_cholesky

    train_x = model.train_inputs[0]
    train_y = model.train_targets
    if extra_inputs is not None and len(extra_inputs):
        train_x = torch.cat([train_x, extra_inputs])
        train_y = torch.cat([train_y, extra_targets])
    noise = model.likelihood.noise.squeeze(-1)
    with torch.no_grad():
        k_train = model.covar_module(train_x).to_dense()
        factor = psd_safe_cholesky(k_train + noise * torch.eye(len(train_x), dtype=train_x.dtype))
        alpha = torch.cholesky_solve((train_y - model.mean_module(train_x)).unsqueeze(-1), factor).squeeze(-1)

    class _BlockPosterior(Model):
        _num_outputs = 1

        def __init__(self) -> None:
            super().__init__()
            self.train_inputs = (train_x,)
            self._cache: dict[bytes, tuple[torch.Tensor, torch.Tensor]] = {}

        @property
        def num_outputs(self) -> int:
            return 1

        def _terms(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """``m(x) + k(x, X) alpha`` ``(k,)`` and ``v(x) = L^{-1} k(X, x)`` ``(k, n)`` of distinct points.

            Cached per point: MF-MES asks for each candidate twice (with and without
            noise), and for the projection of a configuration once per level.
            """
            keys = [row.numpy().tobytes() for row in points]
            missing = [i for i, key in enumerate(keys) if key not in self._cache]
            if missing:
                new = points[missing]
                cross = model.covar_module(new, train_x).to_dense()  # (k, n)
                means = model.mean_module(new) + cross @ alpha
                roots = torch.linalg.solve_triangular(factor, cross.T, upper=False).T
                for j, i in enumerate(missing):
                    self._cache[keys[i]] = (means[j], roots[j])
            terms = [self._cache[key] for key in keys]
            return torch.stack([t[0] for t in terms]), torch.stack([t[1] for t in terms])

        def posterior(self, X: torch.Tensor, output_indices: Any = None, observation_noise: Any = False,
                      posterior_transform: Any = None, **kwargs: Any) -> GPyTorchPosterior:
            if posterior_transform is not None:
                raise NotImplementedError("block_posterior_model: no posterior transform")
            lead, q, width = X.shape[:-2], X.shape[-2], X.shape[-1]
            unique, inverse = torch.unique(X.reshape(-1, width), dim=0, return_inverse=True)
            means, roots = self._terms(unique)
            mean = means[inverse].reshape(*lead, q)
            v = roots[inverse].reshape(*lead, q, -1)
            # lazy operators, as GPyTorch's posteriors hold: the max-value sampling asks for the
            # variances of hundreds of points, which need only diagonals; and a block may be
            # singular (a candidate at the target fidelity and its projection coincide), which a
            # dense tensor would refuse
            covar = to_linear_operator(model.covar_module(X)) + MatmulLinearOperator(-v, v.transpose(-1, -2))
            if observation_noise is not False:
                covar = covar + DiagLinearOperator(noise.expand(*lead, q))
            return GPyTorchPosterior(MultivariateNormal(mean, covar))

    return _BlockPosterior()


@functools.lru_cache(maxsize=1)
def _mf_mes_class() -> type:
    """BoTorch's ``qMultiFidelityMaxValueEntropy`` without the max-value draw it discards.

    Its base class draws max values over the candidate set before ``project`` is set, and
    ``qMultiFidelityMaxValueEntropy.__init__`` then draws them again over the projected set,
    replacing the first draw; skipping the first saves a posterior over every candidate and
    training point per decision. Everything else is BoTorch's.
    """
    from botorch.acquisition.max_value_entropy_search import qMultiFidelityMaxValueEntropy

    class MFMES(qMultiFidelityMaxValueEntropy):
        def _sample_max_values(self, num_samples: int, X_pending: Any = None) -> None:
            if "project" not in self.__dict__:  # the base class's draw, replaced once project is set
                return
            super()._sample_max_values(num_samples, X_pending=X_pending)

    return MFMES


class MultiFidelityMES:
    """A ``SingleTaskMultiFidelityGP`` refitted on demand and scored by cost-aware MF-MES.

    Args:
        dim: the configuration encoding's dimension ``d``; the model's inputs have ``d + 1``
            columns, the fidelity last.
        options: model and acquisition options.
    """

    def __init__(self, dim: int, options: MFMESOptions) -> None:
        self.dim = int(dim)
        self.options = options
        self._state: dict[str, Any] | None = None  # hyperparameters of the last fit
        self.model: Any = None
        self.num_fits = 0

    # ------------------------------------------------------------------ model
    def condition(self, inputs: np.ndarray, losses: np.ndarray, refit: bool) -> None:
        """Build the GP on ``inputs`` ``(n, d + 1)`` and ``losses`` ``(n,)``.

        With ``refit`` (or before the first fit) the hyperparameters are fitted by maximum
        marginal likelihood (BoTorch's ``fit_gpytorch_mll``, warm-started from the previous
        fit); otherwise the previous fit's hyperparameters are kept and only the data change.
        """
        import torch
        from botorch.models import SingleTaskMultiFidelityGP

        x = torch.as_tensor(np.asarray(inputs, dtype=np.float64))
        y = torch.as_tensor(standardized_targets(losses)).unsqueeze(-1)
        fidelity = self.dim
        kwargs: dict[str, Any] = (
            {"iteration_fidelity": fidelity} if self.options.fidelity_role == "iteration"
            else {"data_fidelities": [fidelity]}
        )
        model = SingleTaskMultiFidelityGP(x, y, linear_truncated=self.options.linear_truncated,
                                          outcome_transform=None, **kwargs)
        if self._state is not None:
            model.load_state_dict(self._state)
        if refit or self._state is None:
            self._fit(model)
        model.eval()
        self.model = model

    def _fit(self, model: Any) -> None:
        import warnings

        from botorch.fit import fit_gpytorch_mll
        from gpytorch.mlls import ExactMarginalLogLikelihood

        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        with warnings.catch_warnings():
            # BoTorch warns when a fit stops at maxiter or retries; the result is still used
            warnings.simplefilter("ignore")
            fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": self.options.fit_maxiter}})
        self._state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.num_fits += 1

    def target_mean(self, encoded: np.ndarray) -> np.ndarray:
        """Posterior mean of the standardised ``-loss`` at the target fidelity, ``(k,)`` for ``(k, d)``."""
        import torch

        x = torch.as_tensor(np.hstack([encoded, np.ones((len(encoded), 1))]))
        with torch.no_grad():  # the means only (GPyTorch's posterior would build the joint covariance)
            return block_posterior_model(self.model).posterior(x.unsqueeze(-2)).mean.reshape(-1).numpy()

    # ------------------------------------------------------------ acquisition
    def score(self, candidates: np.ndarray, increments: np.ndarray, pending: np.ndarray) -> np.ndarray:
        """Cost-aware MF-MES of each candidate (higher is better), shape ``(m,)``.

        Args:
            candidates: ``(m, d + 1)`` configuration encodings with the normalised fidelity
                the evaluation would run to, last column.
            increments: ``(m,)`` normalised fidelity each evaluation adds (the candidate's
                fidelity minus its checkpoint: a paused trial resumes, it does not retrain);
                the cost is ``fixed_cost + increment``.
            pending: ``(p, d + 1)`` running evaluations (configuration and the fidelity they
                run to), fantasized by MF-MES; ``p`` may be 0.
        """
        import torch
        from botorch.acquisition.cost_aware import GenericCostAwareUtility, InverseCostWeightedUtility
        from botorch.acquisition.utils import project_to_target_fidelity
        from botorch.models.cost import AffineFidelityCostModel

        opts = self.options
        width = self.dim + 1
        x = torch.as_tensor(np.asarray(candidates, dtype=np.float64))
        # the max value is sampled over the candidates' configurations at the target fidelity
        # (MF-MES projects its candidate set; the training inputs are added by BoTorch)
        configs = torch.unique(x[:, : self.dim], dim=0)

        def project(z: torch.Tensor) -> torch.Tensor:
            return project_to_target_fidelity(z, target_fidelities={self.dim: 1.0}, d=width)

        x_pending = torch.as_tensor(np.asarray(pending, dtype=np.float64)) if len(pending) else None
        if opts.num_fantasies == 0:
            # kriging believer: one model conditioned on the posterior mean at the running
            # evaluations; the variance reduction they bring is exact (it does not depend on
            # the value), and one model costs 1/num_fantasies of BoTorch's fantasy batch
            believed = None
            if x_pending is not None:
                with torch.no_grad():
                    believed = self.model.posterior(x_pending).mean.squeeze(-1)
            model, x_pending = block_posterior_model(self.model, x_pending, believed), None
        else:
            model = self.model  # BoTorch's fantasies need the GPyTorch model itself
        # the information gain is scored first, the cost applied after: a resumed trial's cost
        # is its increment, which X (configuration, target level) alone does not hold
        acquisition = _mf_mes_class()(
            model, configs, num_fantasies=max(opts.num_fantasies, 1), num_mv_samples=opts.num_mv_samples,
            num_y_samples=opts.num_y_samples, X_pending=x_pending,
            cost_aware_utility=GenericCostAwareUtility(lambda X, deltas: deltas), project=project,
        )
        with torch.no_grad():
            gains = torch.cat([acquisition(x[i: i + opts.batch_size].unsqueeze(-2))
                               for i in range(0, len(x), opts.batch_size)])
            utility = InverseCostWeightedUtility(
                AffineFidelityCostModel(fidelity_weights={self.dim: 1.0}, fixed_cost=opts.fixed_cost))
            steps = x.clone()
            steps[:, self.dim] = torch.as_tensor(np.asarray(increments, dtype=np.float64))
            scores = utility(steps.unsqueeze(-2), gains.unsqueeze(0)).squeeze(0)
        return scores.numpy()
