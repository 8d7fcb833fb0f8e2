"""Gaussian-process searchers: MOBSTER, Hyper-Tune and SyncMOBSTER (docs/methods/model_based.md).

The models are written with GPyTorch (kernels, means, priors, parameter constraints) and
fitted by MAP with SciPy's L-BFGS-B. Nothing here is imported by ``mfbench`` itself, and
importing :mod:`mfbench.searchers.gp.searcher` does not import torch: torch and gpytorch
are imported the first time a GP searcher needs its model.
"""
