"""The environment of a measured ``python -m mfbench`` process that runs a given checkout's code.

Benchmark scripts that time or measure runs of this or another checkout (``throughput.py``,
``gp_memory.py``) start them with :func:`checkout_env`: the variables a surrounding run or
cluster job sets (``MFBENCH_*``, ``SLURM_*``, ``SUBMITIT_*``) are dropped, so the measured
process sees only what the script sets, and ``PYTHONPATH`` names the checkout (after any
folders the script puts first, e.g. one holding a ``sitecustomize.py``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

#: variables of a surrounding run or cluster job that must not reach a measured process
FOREIGN_PREFIXES = ("MFBENCH_", "SLURM_", "SUBMITIT_")


def checkout_env(code: Path, front: Sequence[str] = (), **variables: str) -> dict[str, str]:
    """This process's environment without :data:`FOREIGN_PREFIXES`, plus ``variables``, with
    ``PYTHONPATH`` = ``front``, then ``code``, then this process's ``PYTHONPATH`` (empty parts left out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}
    env.update(variables)
    paths = [*front, str(code), os.environ.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env
