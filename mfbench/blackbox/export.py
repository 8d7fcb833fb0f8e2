"""Export a tabular blackbox as a long-format parquet table plus a JSON sidecar.

One row per (configuration, seed, fidelity): hyperparameter columns, ``seed`` (table seed
index), the fidelity column and one column per objective. The sidecar (same path, suffix
``.json``) describes the space and the benchmark so other tools (our ``benchmark=table``,
the Syne Tune reference runner under ``benchmarks/reference``) run on exactly our data.
Configuration index ``i`` is the ``i``-th distinct configuration in row order.

A surrogate blackbox is exported on a finite set of configurations: all of them when its
space is finite, else ``sample_configs`` random ones (seeded); without that a continuous
surrogate is refused with a message saying so.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from mfbench.blackbox.base import Blackbox, TabularBlackbox
from mfbench.space import MAX_ENUMERATED, ConfigSpace, hyperparameter_to_dict

EXPORT_FORMAT_VERSION = 1


def tabulate(blackbox: Blackbox, configs: list[dict[str, Any]]) -> TabularBlackbox:
    """Evaluate ``blackbox`` on ``configs`` at every seed and fidelity: a tabular blackbox."""
    evaluate_many = getattr(blackbox, "evaluate_many", None)
    per_seed = []
    for seed in range(blackbox.num_seeds):
        if evaluate_many is not None:
            per_seed.append(evaluate_many(configs, seed, blackbox.fidelity_values))
        else:
            per_seed.append(np.stack([blackbox.evaluate(c, seed, blackbox.fidelity_values) for c in configs]))
    evaluations = np.stack(per_seed, axis=1)  # (N, S, F, O)
    space = blackbox.config_space
    table = ConfigSpace(space.hyperparameters, table=[space.key(c) for c in configs])
    description = {**blackbox.describe(), "tabulated_from": "surrogate", "num_configs": len(configs)}
    description.pop("kind", None)
    tabular = TabularBlackbox(table, blackbox.fidelity_values, blackbox.objective_names, evaluations, description)
    # the table of a non-cumulative surrogate is charged as the surrogate would be
    tabular.fidelity_is_cumulative = blackbox.fidelity_is_cumulative
    return tabular


def parquet_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as the parquet file an export writes; ValueError for another suffix (``.csv``
    would hold parquet under a CSV name, which no reader, ours included, reads back)."""
    path = Path(path)
    if path.suffix.lower() != ".parquet":
        raise ValueError(f"--out {path}: an export is written as parquet; name the file "
                         f"{path.name.split('.')[0] or 'table'}.parquet (a .json sidecar goes beside it)")
    return path


def _as_tabular(blackbox: Blackbox, sample_configs: int | None, seed: int) -> TabularBlackbox:
    if isinstance(blackbox, TabularBlackbox):
        return blackbox
    space = blackbox.config_space
    if space.is_finite and space.size <= MAX_ENUMERATED and sample_configs is None:
        return tabulate(blackbox, space.enumerate())
    if sample_configs is None:
        what = (f"a configuration space of {space.size:,} configurations ({space.names}), too many to export whole"
                if space.is_finite else f"a continuous configuration space ({space.names}): there is no finite table "
                "to export")
        raise ValueError(
            f"{type(blackbox).__name__} has {what}. Pass sample_configs=N (command line: --sample-configs N) to "
            "export N random configurations at every fidelity and seed."
        )
    if sample_configs < 1:
        raise ValueError(f"sample_configs must be >= 1, got {sample_configs}")
    rng = np.random.default_rng(seed)
    configs, seen = [], set()
    for _ in range(100 * sample_configs):
        config = space.sample(rng)
        if space.key(config) not in seen:
            seen.add(space.key(config))
            configs.append(config)
            if len(configs) == sample_configs:
                break
    return tabulate(blackbox, configs)


def export_long_format(
    blackbox: Blackbox,
    path: str | os.PathLike[str],
    fidelity_attr: str = "epoch",
    metric: str | None = None,
    mode: str = "min",
    elapsed_time_attr: str | None = None,
    extra: dict[str, Any] | None = None,
    sample_configs: int | None = None,
    seed: int = 0,
) -> Path:
    """Write ``path`` (parquet) and ``path.with_suffix('.json')``; return the parquet path.

    Args:
        blackbox: a tabular blackbox, or a surrogate (see the module docstring).
        sample_configs: for a surrogate with a continuous space, how many random
            configurations to export (refused without it).
        seed: seed of those random configurations.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = parquet_path(path)
    source = blackbox
    blackbox = _as_tabular(blackbox, sample_configs, seed)
    space = blackbox.config_space
    table = space.table or []
    n_configs, n_seeds, n_fid, n_obj = blackbox.evaluations.shape
    config_index = pa.array(np.repeat(np.arange(n_configs), n_seeds * n_fid))
    columns: dict[str, Any] = {}
    for j, hp in enumerate(space.hyperparameters):
        distinct = pa.array([row[j] for row in table])  # one value per configuration, then gathered in C++
        columns[hp.name] = pc.take(distinct, config_index)
    columns["seed"] = np.tile(np.repeat(np.arange(n_seeds), n_fid), n_configs)
    columns[fidelity_attr] = np.tile(blackbox.fidelity_values, n_configs * n_seeds)
    flat = np.asarray(blackbox.evaluations).reshape(-1, n_obj)
    for k, name in enumerate(blackbox.objective_names):
        columns[name] = flat[:, k]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:  # atomic: a reader never sees a half-written table
        pq.write_table(pa.table(columns), temporary, compression="zstd")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
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
        "exported_from": f"surrogate tabulated on {n_configs} configurations" if source is not blackbox else "table",
        **(extra or {}),
    }
    sidecar_path = path.with_suffix(".json")
    temporary = sidecar_path.with_name(f".{sidecar_path.name}.tmp-{os.getpid()}")
    temporary.write_text(json.dumps(sidecar, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(temporary, sidecar_path)
    return path
