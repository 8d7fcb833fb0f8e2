"""Benchmarks: a blackbox plus what a study needs to run on it (metric, mode, workers, budget)."""
from mfbench.benchmarks.base import Benchmark

__all__ = ["Benchmark"]
