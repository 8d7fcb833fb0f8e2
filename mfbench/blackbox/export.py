"""Export a tabular blackbox as a long-format parquet table plus a JSON sidecar.

One row per (configuration, seed, fidelity): hyperparameter columns, ``seed`` (table seed
index), the fidelity column and one column per objective. The sidecar (same path, suffix
``.json``) describes the space and the benchmark so other tools (our ``benchmark=table``,
the Syne Tune reference runner under ``benchmarks/reference``) run on exactly our data.
Configuration index ``i`` is the ``i``-th distinct configuration in row order.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from mfbench.blackbox.base import TabularBlackbox
from mfbench.space import hyperparameter_to_dict

EXPORT_FORMAT_VERSION = 1


def export_long_format(
    blackbox: TabularBlackbox,
    path: str | os.PathLike[str],
    fidelity_attr: str = "epoch",
    metric: str | None = None,
    mode: str = "min",
    elapsed_time_attr: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``path`` (parquet) and ``path.with_suffix('.json')``; return the parquet path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    space = blackbox.config_space
    table = space.table or []
    n_configs, n_seeds, n_fid, n_obj = blackbox.evaluations.shape
    config_index = np.repeat(np.arange(n_configs), n_seeds * n_fid)
    columns: dict[str, Any] = {}
    for j, hp in enumerate(space.hyperparameters):
        values = np.asarray([row[j] for row in table], dtype=object)
        columns[hp.name] = pa.array(values[config_index].tolist())
    columns["seed"] = np.tile(np.repeat(np.arange(n_seeds), n_fid), n_configs)
    columns[fidelity_attr] = np.tile(blackbox.fidelity_values, n_configs * n_seeds)
    flat = np.asarray(blackbox.evaluations).reshape(-1, n_obj)
    for k, name in enumerate(blackbox.objective_names):
        columns[name] = flat[:, k]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path, compression="zstd")
    sidecar = {
        "format_version": EXPORT_FORMAT_VERSION,
        "hyperparameters": [hyperparameter_to_dict(hp) for hp in space.hyperparameters],
        "fidelity": fidelity_attr,
        "fidelity_values": blackbox.fidelity_values.tolist(),
        "objectives": blackbox.objective_names,
        "num_seeds": n_seeds,
        "metric": metric,
        "mode": mode,
        "elapsed_time": elapsed_time_attr,
        "blackbox": blackbox.describe(),
        **(extra or {}),
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2, default=str) + "\n", encoding="utf-8")
    return path
