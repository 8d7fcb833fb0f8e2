"""The NAS-Bench-201 table: its names, space, and how one NATS record becomes its values.

The table is Syne Tune's ``nasbench201`` (its ``nasbench201_import.py``, reproduced value for
value); every reader of :mod:`mfbench.blackbox.sources.nas201_formats` fills it through
:func:`fill_task`, and the offline tables (:mod:`mfbench.blackbox.sources.nas201_offline`)
share its space and fidelities:

* hyperparameters ``hp_x0 .. hp_x5``: the operation on edges 0->1, 0->2, 1->2, 0->3,
  1->3, 2->3 (the order of the ops in the arch string), each a choice of
  :data:`OPERATIONS` (in Syne Tune's order); rows in NB201 architecture-index order;
* fidelity ``hp_epoch`` = 1..200 (value ``e`` is the record of epoch index ``e - 1``);
* 3 seeds (777, 888, 999); a missing seed is imputed, per architecture and epoch, by the
  mean of the seeds present (float32, as Syne Tune);
* 7 objectives (float32) per task ``cifar10``, ``cifar100``, ``ImageNet16-120``:

  ======================  ================================================================
  metric_valid_error      ``1 - eval_acc1es["ori-test@{e-1}"] / 100`` (the ori-test split)
  metric_train_error      ``1 - train_acc1es[e-1] / 100``
  metric_runtime          ``train_times[e-1] + eval_times["ori-test@{e-1}"]`` (s, this epoch)
  metric_elapsed_time     cumulative sum of metric_runtime over epochs (after imputation)
  metric_latency          ``latency[0]`` of seed 777
  metric_flops            ``flop`` of seed 777
  metric_params           ``params`` of seed 777
  ======================  ================================================================
"""
from __future__ import annotations

import warnings
from typing import Any, Iterable, Mapping

import numpy as np

from mfbench.space import Categorical

#: the cache folder of the converted table
NAME = "nas201"
#: Syne Tune's order of the operation choices (the first one is the midpoint)
OPERATIONS = ("avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none")
HP_NAMES = tuple(f"hp_x{i}" for i in range(6))
FIDELITY = "hp_epoch"
FIDELITY_VALUES = np.arange(1, 201)
OBJECTIVES = (
    "metric_valid_error",
    "metric_train_error",
    "metric_runtime",
    "metric_elapsed_time",
    "metric_latency",
    "metric_flops",
    "metric_params",
)
TASKS = ("cifar10", "cifar100", "ImageNet16-120")
SEEDS = (777, 888, 999)
TOTAL_ARCHS = 15625


def hyperparameters() -> tuple[Categorical, ...]:
    """The six edge operations, as Syne Tune defines them."""
    return tuple(Categorical(name, OPERATIONS) for name in HP_NAMES)


def arch_str_to_ops(arch_str: str) -> list[str]:
    """Operations of an arch string in string order (Syne Tune's ``str_to_list``).

    ``"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|..."`` -> ``["avg_pool_3x3", ...]``.
    """
    ops = []
    for node in arch_str.split("+"):
        for edge in (x for x in node.split("|") if x):
            parts = edge.split("~")
            if len(parts) != 2:
                raise ValueError(f"invalid edge {edge!r} in the arch string {arch_str!r}")
            ops.append(parts[0])
    if len(ops) != 6:
        raise ValueError(f"the arch string {arch_str!r} has {len(ops)} operations, expected 6")
    return ops


# ----------------------------------------------------------------------- one record
def record_values(record_200: Mapping[str, Any], task: str) -> dict[str, np.ndarray]:
    """Per-seed curves and constants of one architecture's ``'200'`` record for one task.

    Returns:
        ``valid_error``, ``train_error``, ``runtime``: float32 ``(3, 200)`` (NaN rows for a
        missing seed); ``latency``, ``flops``, ``params``: float64 scalars (seed 777).
    """
    results = record_200["all_results"]
    n = len(FIDELITY_VALUES)
    out = {k: np.full((len(SEEDS), n), np.nan, dtype=np.float32) for k in ("valid_error", "train_error", "runtime")}
    for s, seed in enumerate(SEEDS):
        try:
            result = results[(task, seed)]
            acc, train_acc = result["eval_acc1es"], result["train_acc1es"]
            train_times, eval_times = result["train_times"], result["eval_times"]
            out["valid_error"][s] = [1 - acc[f"ori-test@{e}"] / 100 for e in range(n)]
            out["train_error"][s] = [1 - train_acc[e] / 100 for e in range(n)]
            out["runtime"][s] = [train_times[e] + eval_times[f"ori-test@{e}"] for e in range(n)]
        except KeyError:  # Syne Tune: a seed with any missing value is missing as a whole
            for key in out:
                out[key][s] = np.nan
    first = results[(task, SEEDS[0])]
    out["latency"] = np.float64(first["latency"][0])
    out["flops"] = np.float64(first["flop"])
    out["params"] = np.float64(first["params"])
    return out


def impute_missing_seeds(values: np.ndarray) -> np.ndarray:
    """Replace NaN at (arch, seed, epoch) by the mean over the other seeds (in place, float32).

    ``values`` has shape ``(N, S, F)``; identical to Syne Tune's ``impute_values``.
    """
    missing = np.isnan(values)
    if missing.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all seeds missing -> NaN, as Syne Tune
            means = np.nanmean(values, axis=1, keepdims=True).astype(values.dtype)
        values[missing] = np.broadcast_to(means, values.shape)[missing]
    return values


def fill_task(per_record: Iterable[Mapping[str, np.ndarray]], out: np.ndarray) -> None:
    """Write one task's ``(N, 3, 200, 7)`` evaluations into ``out`` (float32).

    Args:
        per_record: :func:`record_values` of each architecture, in table row order (``N``).
        out: float32 array (or writable memmap) of shape ``(N, 3, 200, 7)``.
    """
    n_configs = out.shape[0]
    curves = {k: np.empty(out.shape[:3], dtype=np.float32) for k in ("valid_error", "train_error", "runtime")}
    constants = {k: np.empty(n_configs, dtype=np.float64) for k in ("latency", "flops", "params")}
    count = 0
    for i, values in enumerate(per_record):
        for key in curves:
            curves[key][i] = values[key]
        for key in constants:
            constants[key][i] = values[key]
        count += 1
    if count != n_configs:
        raise ValueError(f"expected {n_configs} records, got {count}")
    for key in curves:
        impute_missing_seeds(curves[key])
    out[..., 0] = curves["valid_error"]
    out[..., 1] = curves["train_error"]
    out[..., 2] = curves["runtime"]
    out[..., 3] = np.cumsum(curves["runtime"], axis=-1)
    for k, key in enumerate(("latency", "flops", "params")):
        out[..., 4 + k] = constants[key][:, None, None]
