"""YAHPO Gym LCBench: the ``lcbench`` scenario of :mod:`mfbench.blackbox.sources.yahpo`, under its old names.

``conf/benchmark/yahpo_lcbench*.yaml`` name :func:`yahpo_lcbench_blackbox`, and finished runs
are recognised by that ``_target_``; it stays, and is now the generic YAHPO source's
blackbox for ``scenario=lcbench`` (same cache folder ``yahpo_lcbench``, same space, encoding
and predictions). The data source is ``yahpo`` (``python -m mfbench.data download yahpo``);
this module declares none.

The model predicts the learning curve (epochs 1..52) of a funnel-shaped MLP on 34 OpenML
tasks (the benchmark instances) for 7 hyperparameters; outputs: ``time`` (cumulative
training seconds), ``val_accuracy`` (in %), ``val_cross_entropy``, ``val_balanced_accuracy``,
``test_cross_entropy``, ``test_balanced_accuracy``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from mfbench.blackbox.sources import yahpo, yahpo_scenarios
from mfbench.blackbox.surrogate import SurrogateBlackbox

SCENARIO = yahpo_scenarios.SCENARIOS["lcbench"]
NAME = SCENARIO.entry
REBUILD = yahpo_scenarios.rebuild("lcbench")
FILES: dict[str, str] = {file: yahpo_scenarios.PINNED[f"lcbench/{file}"] for file in yahpo_scenarios.FILES}
INSTANCE = "OpenML_task_id"
FIDELITY = "epoch"
CONT_NAMES = SCENARIO.cont_names
OBJECTIVES = SCENARIO.targets
#: the 34 OpenML task ids (instances), as in config_space.json
INSTANCES = ("3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149", "167152",
             "167161", "167168", "167181", "167184", "167185", "167190", "167200", "167201", "168329", "168330",
             "168331", "168335", "168868", "168908", "168910", "189354", "189862", "189865", "189866", "189873",
             "189905", "189906", "189908", "189909")


def convert(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None, progress: bool = True,
            report: Callable[[str], None] | None = None) -> Path:
    """Copy a yahpo_data ``lcbench/`` folder (or the yahpo_data folder holding it) into the cache.

    Returns:
        The cache folder ``yahpo_lcbench``.
    """
    folder = Path(path).expanduser()
    if (folder / "config_space.json").is_file() and folder.name.removeprefix("yahpo-") != "lcbench":
        # an lcbench folder under another name (the old converter accepted any name)
        return _convert_named(folder, cache_dir, report)
    root = yahpo.convert(folder, cache_dir, progress=progress, report=report, scenarios=["lcbench"])
    return root / NAME


def _convert_named(folder: Path, cache_dir: str | os.PathLike[str] | None,
                   report: Callable[[str], None] | None) -> Path:
    """Convert an lcbench folder whose name is not ``lcbench`` through a correctly named link."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        link = Path(scratch) / "lcbench"
        link.symlink_to(folder.resolve(), target_is_directory=True)
        root = yahpo.convert(link, cache_dir, report=report, scenarios=["lcbench"])
    return root / NAME


def yahpo_lcbench_blackbox(instance: str = "3945", cache_dir: str | None = None,
                           data_dir: str | None = None) -> SurrogateBlackbox:
    """The LCBench surrogate of one OpenML task (``yahpo_blackbox("lcbench", instance, ...)``).

    Args:
        instance: the OpenML task id (one of :data:`INSTANCES`).
        cache_dir: the cache root override (the model is read from ``<cache>/yahpo_lcbench``).
        data_dir: a yahpo_data ``lcbench/`` folder to use in place instead of the cache.
    """
    return yahpo.yahpo_blackbox("lcbench", str(instance), cache_dir=cache_dir, data_dir=data_dir)


yahpo_lcbench_blackbox.data_source = "yahpo"  # type: ignore[attr-defined]  # for --help: which data it needs
