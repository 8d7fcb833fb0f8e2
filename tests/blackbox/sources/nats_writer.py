"""Test-only writers of NB201 data in its original on-disk layouts, to feed the converters.

* :func:`write_nats_simple`: the NATS-Bench topology "simple" folder (``meta.pickle.pbz2`` +
  ``{index:06d}.pickle.pbz2``), with synthetic records of the real structure;
* :func:`write_nats_file`: the single ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` (``arch2infos``);
* :func:`write_syne_tune_layout`: Syne Tune's ``nasbench201/`` folder, from a converted table.
"""
from __future__ import annotations

import bz2
import json
import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from mfbench.blackbox.sources.nas201_table import (FIDELITY, FIDELITY_VALUES, HP_NAMES, OBJECTIVES, OPERATIONS,
                                                   SEEDS, TASKS, hyperparameters)

#: every (dataset, seed) a real record holds: the table's tasks and cifar10-valid
DATASETS = ("cifar10-valid", *TASKS)


def arch_string(ops: list[str]) -> str:
    """The NB201 arch string of six operations in string order (the inverse of ``arch_str_to_ops``)."""
    return f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|"


def tiny_arch_strings(n: int) -> list[str]:
    """``n`` <= 25 distinct arch strings (edges 0 and 1 vary, the others hold the first operation)."""
    k = len(OPERATIONS)
    return [arch_string([OPERATIONS[i % k], OPERATIONS[i // k % k], *[OPERATIONS[0]] * 4]) for i in range(n)]


def nats_record(index: int, arch_str: str) -> dict[str, Any]:
    """One architecture file's content: the ``'200'`` schedule with every field the converter reads.

    Values are deterministic in ``index``; the structure (key types, ``OrderedDict`` train
    times, split-named eval dicts, numpy scalars) is that of the real NATS-Bench records.
    """
    rng = np.random.default_rng(index)
    epochs = len(FIDELITY_VALUES)
    results = {}
    for dataset in DATASETS:
        for seed in SEEDS:
            acc = np.sort(rng.uniform(10, 90, epochs))
            results[(dataset, seed)] = {
                "name": f"infer.tiny-{dataset}-{seed}",
                "train_acc1es": {e: float(a) for e, a in enumerate(acc - rng.uniform(0, 5))},
                "train_times": OrderedDict((e, float(rng.uniform(5, 15))) for e in range(epochs)),
                "eval_acc1es": {f"ori-test@{e}": float(a) for e, a in enumerate(acc)},
                "eval_times": {f"ori-test@{e}": float(rng.uniform(0.5, 1.5)) for e in range(epochs)},
                "latency": [float(rng.uniform(0.01, 0.02))],
                "flop": float(rng.uniform(10, 100)),
                "params": np.float64(rng.uniform(0.1, 1.5)),
                "seed": str(seed),
                "epochs": epochs,
            }
    return {"arch_index": index, "arch_str": arch_str, "all_results": results, "clear_net_done": True}


def _dump(data: Any, path: Path) -> None:
    """Write ``data`` as a bz2-compressed pickle, as NATS-Bench ships its files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bz2.compress(pickle.dumps(data)))


def write_nats_simple(folder: Path, arch_strings: list[str]) -> Path:
    """A complete "simple" folder of ``len(arch_strings)`` architectures; return ``folder``."""
    _dump({"meta_archs": arch_strings, "total_archs": len(arch_strings), "arch2infos": {},
           "evaluated_indexes": set(range(len(arch_strings)))}, folder / "meta.pickle.pbz2")
    for index, arch_str in enumerate(arch_strings):
        _dump({"200": nats_record(index, arch_str)}, folder / f"{index:06d}.pickle.pbz2")
    return folder


def write_nats_file(path: Path, arch_strings: list[str]) -> Path:
    """The single-file archive of ``len(arch_strings)`` architectures (the same records); return ``path``."""
    _dump({"meta_archs": arch_strings, "total_archs": len(arch_strings),
           "arch2infos": {i: {"200": nats_record(i, s)} for i, s in enumerate(arch_strings)},
           "evaluated_indexes": set(range(len(arch_strings)))}, path)
    return path


def write_syne_tune_layout(blackbox_dir: Path, out: Path) -> Path:
    """Write a converted nas201 blackbox in Syne Tune's ``nasbench201/`` layout (for parity checks)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mfbench.blackbox.stored import decode_configurations

    out.mkdir(parents=True, exist_ok=True)
    rows = decode_configurations(hyperparameters(), np.load(blackbox_dir / "configurations.npy"))
    pq.write_table(pa.table({name: [row[j] for row in rows] for j, name in enumerate(HP_NAMES)}),
                   out / "hyperparameters.parquet", compression="gzip")
    np.save(out / "fidelities_values.npy", FIDELITY_VALUES)
    stacked = np.stack([np.load(blackbox_dir / f"{task}.npy") for task in TASKS])
    np.save(out / "objectives_evaluations.npy", stacked.astype(np.float32), allow_pickle=False)
    (out / "metadata.json").write_text(json.dumps({
        "metric_elapsed_time": "metric_elapsed_time", "metric_default": "metric_valid_error", "time_attr": FIDELITY,
        "objectives_names": list(OBJECTIVES), "task_names": list(TASKS)}))
    return out
