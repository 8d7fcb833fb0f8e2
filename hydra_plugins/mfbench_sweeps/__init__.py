"""Hydra finds sweeper and launcher plugins only in the ``hydra_plugins`` namespace package.

These names point Hydra at the implementations in :mod:`mfbench.sweeps` (kept there, with the
rest of mfbench). Hydra imports this module at every start: keep it cheap.
"""
from mfbench.sweeps.launcher import LocalLauncher as _LocalLauncher
from mfbench.sweeps.launcher import SlurmLauncher as _SlurmLauncher
from mfbench.sweeps.sweeper import ResumableSweeper as _ResumableSweeper


class ResumableSweeper(_ResumableSweeper):
    """``hydra/sweeper=mfbench``: see :class:`mfbench.sweeps.sweeper.ResumableSweeper`."""


class LocalLauncher(_LocalLauncher):
    """``hydra/launcher=local``: see :class:`mfbench.sweeps.launcher.LocalLauncher`."""


class SlurmLauncher(_SlurmLauncher):
    """``hydra/launcher=slurm``: see :class:`mfbench.sweeps.launcher.SlurmLauncher`."""
