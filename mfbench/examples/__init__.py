"""Examples for the user-defined benchmarks (``benchmark=function``); see docs/byo-benchmark.md."""
