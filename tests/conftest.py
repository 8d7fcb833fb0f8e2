"""Shared fixtures: tiny hand-made blackboxes and problems."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from mfbench.benchmarks.base import Benchmark
from mfbench.blackbox.base import TabularBlackbox
from mfbench.problem import Problem
from mfbench.space import Categorical, ConfigSpace

REPO = Path(__file__).resolve().parents[1]
#: real third-party fixtures, vendored with their licences (tests/data/NOTICE)
FIXTURES = REPO / "tests" / "data"


def load_script(relative_path: str) -> ModuleType:
    """A script of the repository (e.g. ``benchmarks/parity_summary.py``) loaded as a module
    named after its file; its folder goes on ``sys.path`` so that it imports its neighbours."""
    path = REPO / relative_path
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_blackbox() -> TabularBlackbox:
    """3 configurations x 1 seed x epochs 1..3; objectives (loss, elapsed_time).

    loss:    a 0.5 0.4 0.3 | b 0.6 0.2 0.1 | c 0.9 0.8 0.7
    seconds per epoch: a 10, b 20, c 5 (elapsed_time is cumulative)
    """
    space = ConfigSpace((Categorical("x", ("a", "b", "c")),), table=[("a",), ("b",), ("c",)])
    loss = np.array([[0.5, 0.4, 0.3], [0.6, 0.2, 0.1], [0.9, 0.8, 0.7]])
    per_epoch = np.array([10.0, 20.0, 5.0])
    elapsed = per_epoch[:, None] * np.arange(1, 4)[None, :]
    evaluations = np.stack([loss, elapsed], axis=-1)[:, None, :, :]  # (3, 1, 3, 2)
    return TabularBlackbox(space, [1, 2, 3], ["loss", "elapsed_time"], evaluations)


@pytest.fixture
def tiny_benchmark() -> Benchmark:
    return Benchmark(blackbox=tiny_blackbox(), metric="loss", mode="min", elapsed_time_attr="elapsed_time",
                     n_workers=2, max_wallclock_time=1000.0)


def make_problem(blackbox: TabularBlackbox, n_workers: int = 2, seed: int = 0, mode: str = "min",
                 metric: str = "loss") -> Problem:
    return Problem(blackbox.config_space, blackbox.fidelity_values, metric, mode, n_workers, seed)  # type: ignore[arg-type]


@pytest.fixture(scope="session", autouse=True)
def _private_blackbox_cache(tmp_path_factory):
    """Blackboxes built by the tests (e.g. the offline NB201 default) go to a temporary cache,
    never into the user's ~/.cache; subprocesses inherit it through MFBENCH_CACHE."""
    import os

    previous = os.environ.get("MFBENCH_CACHE")
    os.environ["MFBENCH_CACHE"] = str(tmp_path_factory.mktemp("mfbench_cache"))
    yield Path(os.environ["MFBENCH_CACHE"])
    if previous is None:
        os.environ.pop("MFBENCH_CACHE", None)
    else:
        os.environ["MFBENCH_CACHE"] = previous


#: configurations of the FCNet / LCBench tables written for the benchmark and method tests
FCNET_FIXTURE_CONFIGS = 24
LCBENCH_FIXTURE_CONFIGS = 8

#: the YAHPO scenarios whose real models are vendored under tests/data/yahpo-<scenario>
YAHPO_VENDORED = ("lcbench", "iaml_glmnet", "rbv2_rpart", "rbv2_xgboost")


@pytest.fixture(scope="session")
def converted_fixtures(_private_blackbox_cache):
    """The vendored fixtures converted once into the private cache, for the benchmarks that need
    converted data: ``nas201`` from the 3 real NATS-Bench architectures (``allow_partial``) and
    the YAHPO scenarios from their real ONNX models (lcbench, iaml_glmnet, rbv2_rpart,
    rbv2_xgboost); ``fcnet`` and ``lcbench`` from small files written in their original layouts
    (:data:`FCNET_FIXTURE_CONFIGS` configurations of the 4 FCNet data sets; every LCBench task
    with :data:`LCBENCH_FIXTURE_CONFIGS` configurations). A missing fixture fails here (no skip)."""
    import tempfile

    from mfbench.blackbox.sources import fcnet, lcbench, nas201, yahpo, yahpo_scenarios
    from tests.blackbox.sources.fcnet_writer import write_fcnet_archive
    from tests.blackbox.sources.lcbench_writer import write_lcbench_zip

    if not (_private_blackbox_cache / nas201.NAME).exists():
        nas201.convert(FIXTURES / "nats-tss-v1_0-3ffb9-simple", _private_blackbox_cache, allow_partial=True,
                       progress=False)
    for scenario in YAHPO_VENDORED:
        if not (_private_blackbox_cache / yahpo_scenarios.SCENARIOS[scenario].entry).exists():
            yahpo.convert(FIXTURES / f"yahpo-{scenario}", _private_blackbox_cache)
    with tempfile.TemporaryDirectory() as scratch:
        if not (_private_blackbox_cache / fcnet.NAME).exists():
            write_fcnet_archive(Path(scratch) / fcnet.ARCHIVE, FCNET_FIXTURE_CONFIGS)
            fcnet.convert(Path(scratch) / fcnet.ARCHIVE, _private_blackbox_cache, allow_partial=True)
        if not (_private_blackbox_cache / lcbench.NAME).exists():
            write_lcbench_zip(Path(scratch) / lcbench.ARCHIVE, (*lcbench.TASKS, *lcbench.OTHER_TASKS),
                              LCBENCH_FIXTURE_CONFIGS)
            lcbench.convert(Path(scratch) / lcbench.ARCHIVE, _private_blackbox_cache, allow_partial=True)
    return _private_blackbox_cache
