"""Gaussian-process searchers: MOBSTER, Hyper-Tune and SyncMOBSTER (docs/methods/model_based.md).

The models are written with GPyTorch (kernels, means, priors, parameter constraints) and
fitted by MAP with SciPy's L-BFGS-B (on a NumPy closed form of the criterion, ``map_numpy``). Nothing here is imported by ``mfbench`` itself, and
importing :mod:`mfbench.searchers.gp.searcher` does not import torch: torch and gpytorch
are imported the first time a GP searcher needs its model.

Modules, one concept each: ``searcher`` (the searcher: orchestrates a proposal),
``proposal_options`` and ``refit`` (its options; the refit schedule), ``state``
(observations and pending evaluations), ``training_data`` (data cap, normalisation),
``model_store`` (the model kept between proposals), ``models`` and ``kernels`` (the GPs),
``fit`` (MAP fit), ``posterior`` (predictions, fantasies, samples), ``acquisition`` and
``local_ei`` (EI, Thompson scores), ``candidates`` (candidate search, local optimisation),
``hypertune`` and ``hypertune_state`` (Hyper-Tune's computations and its learnt state),
``runtime`` (the deterministic torch context).
"""
