"""mfbench: multi-fidelity HPO benchmarking with simulated time, configured by Hydra.

Importing the package is cheap: heavy dependencies (torch, gpytorch, pandas, pyarrow)
are imported only by the modules that use them.
"""
__version__ = "0.1.0"
