"""Blackboxes: what a benchmark evaluates (tables, surrogates, analytic functions)."""
from mfbench.blackbox.base import Blackbox, TabularBlackbox

__all__ = ["Blackbox", "TabularBlackbox"]
