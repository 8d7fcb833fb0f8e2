"""Write small LCBench files in the original layout of ``data_2k_lw.zip`` / ``data_2k_lw.json``.

``{task: {config_id: {"config": {...}, "log": {tag: [52 values], ...}, "results": {...}}}}``:
the configurations (the same in every task, as in LCBench) hold the 7 hyperparameters that
vary and the constant ones LCBench also records (optimizer, network, ...); the logs hold the
tags Syne Tune converts plus some it does not, each 52 entries long (before training, 50
epochs, a final repeat); ``time`` is cumulative and starts with the scoring of the untrained
model. The values are random; the writers return the data so that tests compare against it.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mfbench.blackbox.sources.lcbench import OPENML_TASK_IDS, TAGS


def lcbench_data(tasks: tuple[str, ...], n_configs: int, seed: int = 0) -> dict[str, dict[str, Any]]:
    """The JSON object of ``tasks`` x ``n_configs`` configurations (ids "0".. in order)."""
    rng = np.random.default_rng(seed)
    configs = []
    for _ in range(n_configs):
        configs.append({
            "batch_size": int(np.exp(rng.uniform(np.log(16), np.log(512)))),
            "cosine_annealing_T_max": 50, "cosine_annealing_eta_min": 1e-08, "imputation_strategy": "mean",
            "learning_rate": float(np.exp(rng.uniform(np.log(1e-4), np.log(1e-1)))), "loss": "CrossEntropyLoss",
            "max_dropout": float(rng.uniform(0.0, 1.0)), "max_units": int(np.exp(rng.uniform(np.log(64), np.log(1024)))),
            "mlp_shape": "funnel", "momentum": float(rng.uniform(0.1, 0.99)), "network": "shapedmlpnet",
            "normalization_strategy": "standardize", "num_layers": int(rng.integers(1, 6)), "optimizer": "sgd",
            "weight_decay": float(rng.uniform(1e-5, 0.1)),
        })
    data: dict[str, dict[str, Any]] = {}
    for task in tasks:
        records = {}
        for i, config in enumerate(configs):
            log = {}
            for tag in TAGS.values():
                if tag == "time":
                    log[tag] = np.cumsum(rng.uniform(0.5, 20.0, 52)).tolist()
                else:
                    log[tag] = rng.uniform(0.0, 100.0, 52).tolist()
            log["epoch"] = list(range(52))
            log["Train/loss"] = rng.uniform(0.0, 3.0, 52).tolist()  # a tag the reference does not convert
            records[str(i)] = {"config": dict(config), "log": log,
                               "results": {"OpenML_task_id": int(OPENML_TASK_IDS.get(task, 0)),
                                           "final_val_accuracy": log["Train/val_accuracy"][-1]}}
        data[task] = records
    return data


def write_lcbench_json(path: Path, tasks: tuple[str, ...], n_configs: int = 3, seed: int = 0) -> dict[str, Any]:
    """``data_2k_lw.json`` at ``path``; returns the object written."""
    data = lcbench_data(tasks, n_configs, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return data


def write_lcbench_zip(archive: Path, tasks: tuple[str, ...], n_configs: int = 3, seed: int = 0) -> dict[str, Any]:
    """``data_2k_lw.zip`` at ``archive`` holding ``data_2k_lw.json``, as figshare serves it."""
    data = lcbench_data(tasks, n_configs, seed)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("data_2k_lw.json", json.dumps(data))
    return data
