"""A test double for sweep tests: ASHA that can wait at a gate, fail on purpose, and record
the thread settings of the process that runs it.

Used through ``tests/sweeps/support/conf/method/gated.yaml`` (added with
``hydra.searchpath=[file://.../support/conf]``), importable by job processes through
``PYTHONPATH``. Controlled by environment variables, so that the run's config (and its
fingerprint) stays the same when a test re-runs a sweep:

- ``MFBENCH_TEST_GATE``: a file; the run waits (at most ``max_wait_s``) until it exists;
- ``MFBENCH_TEST_FAIL``: ``"1"`` makes the run raise;
- ``MFBENCH_TEST_RECORD``: a directory; the run writes ``<pid>-<seed>.json`` with its thread
  settings (with ``MFBENCH_TEST_RECORD_TORCH=1`` also torch's, after importing it).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Literal

from mfbench.schedulers.asha import ASHA
from mfbench.problem import Problem
from mfbench.searchers.base import Searcher

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class GatedASHA(ASHA):
    """ASHA (stopping) behind a gate file; see the module docstring."""

    def __init__(
        self,
        problem: Problem,
        type: Literal["stopping", "promotion"] = "stopping",
        brackets: int = 1,
        grace_period: int = 1,
        reduction_factor: float = 3,
        searcher: Callable[..., Searcher] | None = None,
        max_wait_s: float = 150.0,
    ) -> None:
        super().__init__(problem, type=type, brackets=brackets, grace_period=grace_period,
                         reduction_factor=reduction_factor, searcher=searcher)
        record = os.environ.get("MFBENCH_TEST_RECORD")
        if record:
            data: dict[str, Any] = {v: os.environ.get(v) for v in THREAD_VARIABLES}
            if os.environ.get("MFBENCH_TEST_RECORD_TORCH") == "1":
                import torch

                data["torch_threads"] = torch.get_num_threads()
            Path(record).mkdir(parents=True, exist_ok=True)
            (Path(record) / f"{os.getpid()}-{problem.seed}.json").write_text(json.dumps(data))
        if os.environ.get("MFBENCH_TEST_FAIL") == "1":
            raise RuntimeError("deliberate failure of the gated test method")
        gate = os.environ.get("MFBENCH_TEST_GATE")
        deadline = time.monotonic() + max_wait_s
        while gate and not os.path.exists(gate):
            if time.monotonic() > deadline:
                raise TimeoutError(f"gate {gate} not opened within {max_wait_s} s")
            time.sleep(0.05)
        print(f"gated run (seed {problem.seed}) passed its gate", file=sys.stderr, flush=True)
