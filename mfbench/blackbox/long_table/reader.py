"""The reader: a long table file -> the dense arrays of a tabular blackbox, checked on the way.

Configuration ``i`` is the ``i``-th distinct configuration in row order (as the export
writes them); seeds are numbered in sorted order of their labels; fidelities are sorted.
Large per-row arrays are dropped (``del``) as soon as they are used: a table of
NAS-Bench-201 size has 9.4 M rows, and every per-row int64 array is 75 MB.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from mfbench.blackbox.long_table.columns import (check_no_nulls, distinct, first_rows, recode, rows_with,
                                                 sorted_if_possible)
from mfbench.blackbox.long_table.curves import CurveNames, GridPositions, check_curves
from mfbench.blackbox.long_table.elapsed_time import with_cumulative_time
from mfbench.blackbox.long_table.files import existing_file, read_columns, read_header, table_format
from mfbench.blackbox.long_table.inference import (hyperparameter_of_column, is_float32, is_numeric,
                                                   objective_values)
from mfbench.blackbox.long_table.messages import RowNames, ranges
from mfbench.blackbox.long_table.spec import LongTable, LongTableSpec, TableError
from mfbench.blackbox.long_table.values import check_values
from mfbench.space import Hyperparameter


def read_long_table(path: str | os.PathLike[str], spec: LongTableSpec) -> LongTable:
    """Read, check and densify a long table (see :mod:`mfbench.blackbox.long_table` for the checks).

    Args:
        path: a parquet or CSV file.
        spec: the meaning of its columns.

    Raises:
        FileNotFoundError: no such file.
        TableError: the table is malformed (the message says where and how to fix it).
    """
    path = existing_file(path)
    rows = RowNames(table_format(path) == "csv")
    table = _read_spec_columns(path, spec)
    n = table.num_rows
    hps, config_id, configurations = _configurations(table, spec, rows)
    seed_codes, seed_labels = _seeds(table, spec, rows)
    fidelity_codes, fidelity_values = _fidelities(table, spec, rows)
    # objectives are checked numeric before the structure, which needs no values
    objective_columns = [table.column(name) for name in spec.objectives]
    for name, column in zip(spec.objectives, objective_columns):
        if not is_numeric(column):
            objective_values(column, name, rows)  # raises the right message
    grid = GridPositions(config_id, seed_codes, fidelity_codes, len(configurations), len(seed_labels),
                         fidelity_values)
    del config_id, seed_codes, fidelity_codes
    names = CurveNames(configurations, hps, seed_labels, seeded=spec.seed is not None)
    check_curves(grid, names, spec, rows)
    flat = grid.cells()  # a permutation of the grid's cells now
    shape = (grid.n_configs, grid.n_seeds, grid.n_fidelities, len(spec.objective_names))
    del grid
    evaluations = _densify(flat, objective_columns, spec, rows, shape)
    del table, objective_columns, flat
    check_values(evaluations, spec, fidelity_values, names)
    evaluations = with_cumulative_time(evaluations, spec, fidelity_values, names)
    return LongTable(tuple(hps), configurations, fidelity_values, seed_labels, spec.objective_names, evaluations, n)


def _read_spec_columns(path: Path, spec: LongTableSpec) -> Any:
    """The columns of ``spec`` as a ``pyarrow.Table``: all present, at least one row."""
    header = read_header(path)
    missing = [c for c in dict.fromkeys(spec.columns) if c not in header]
    if missing:
        raise TableError(f"{path.name} has no column(s) {missing}; its columns are {header}. Name the right "
                         "columns with benchmark.metric / fidelity / elapsed_time / seed_column / objectives")
    table = read_columns(path, list(dict.fromkeys(spec.columns)))
    if table.num_rows == 0:
        raise TableError(f"{path} has no rows (an empty table): there is nothing to simulate")
    return table


def _configurations(table: Any, spec: LongTableSpec,
                    rows: RowNames) -> tuple[list[Hyperparameter], np.ndarray, np.ndarray]:
    """``(hyperparameters, per-row configuration id, encoded configurations (N, d))``.

    Each row's values are combined into one int64 key (mixed radix over the columns'
    distinct values), whose distinct values in order of first appearance are the
    configuration ids.
    """
    import pyarrow as pa

    n = table.num_rows
    hps, key, encoded_per_code, code_columns = [], np.zeros(n, dtype=np.int64), [], []
    radix = 1
    for name in spec.hyperparameters:
        column = table.column(name)
        check_no_nulls(column, name, "hyperparameter", rows)
        hp, codes, encoded = hyperparameter_of_column(name, column, spec.specs.get(name, {}), rows)
        hps.append(hp)
        encoded_per_code.append(encoded)
        size = max(len(encoded), 1)
        if radix * size < 2**62:
            key = key * size + codes
            radix *= size
        else:  # too many combinations for one int64: fold the key so far into its distinct ids
            key, _ = distinct(pa.array(key))
            key = key * size + codes
            radix = (int(key.max()) + 1)
        code_columns.append(codes)
    config_id, _ = distinct(pa.array(key))
    del key
    first = first_rows(config_id)
    configurations = np.stack([e[c[first]] for e, c in zip(encoded_per_code, code_columns)], axis=1)
    return hps, config_id, configurations


def _seeds(table: Any, spec: LongTableSpec, rows: RowNames) -> tuple[np.ndarray, list[Any]]:
    """``(per-row seed index, seed labels in sorted order)``; one seed ``[0]`` without a seed column."""
    if spec.seed is None:
        return np.zeros(table.num_rows, dtype=np.int64), [0]
    seed_column = table.column(spec.seed)
    check_no_nulls(seed_column, spec.seed, "seed", rows)
    seed_codes, labels = distinct(seed_column)
    seed_labels = sorted_if_possible(labels)
    return recode(seed_codes, labels, seed_labels, "seed", rows), seed_labels


def _fidelities(table: Any, spec: LongTableSpec, rows: RowNames) -> tuple[np.ndarray, np.ndarray]:
    """``(per-row index into the fidelity values, the sorted fidelity values)``, checked integers >= 1."""
    fidelity_column = table.column(spec.fidelity)
    check_no_nulls(fidelity_column, spec.fidelity, "fidelity", rows)
    if not is_numeric(fidelity_column):
        raise TableError(f"fidelity column {spec.fidelity!r} is not numeric ({fidelity_column.type}); fidelities "
                         "are positive integers such as epochs")
    fid_codes, fid_values = distinct(fidelity_column)
    numbers = np.asarray(fid_values, dtype=np.float64)
    bad = (numbers != np.round(numbers)) | (numbers < 1)
    if np.any(bad):
        raise TableError(f"fidelity column {spec.fidelity!r} must hold integers >= 1 (e.g. epochs); found "
                         f"{numbers[bad][0]:g} in {rows(rows_with(fid_codes, bad))}. Map fractional budgets to "
                         "integer levels (1, 2, ...) or drop the rows below 1")
    if spec.fidelity_values is not None:  # the sidecar's: a value outside them is an error, a missing one a gap
        fidelity_values = np.asarray(sorted(int(v) for v in spec.fidelity_values), dtype=np.int64)
        outside = ~np.isin(numbers, fidelity_values)
        if np.any(outside):
            raise TableError(f"{spec.fidelity}={numbers[outside][0]:g} ({rows(rows_with(fid_codes, outside))})"
                             f" is not among the fidelity values of the sidecar ({ranges(fidelity_values.tolist())})")
    else:
        fidelity_values = np.asarray(sorted(int(v) for v in numbers), dtype=np.int64)
    return np.searchsorted(fidelity_values, numbers.astype(np.int64))[fid_codes], fidelity_values


def _densify(flat: np.ndarray, objective_columns: list[Any], spec: LongTableSpec, rows: RowNames,
             shape: tuple[int, int, int, int]) -> np.ndarray:
    """The objective columns placed at their rows' cells: ``(N, S, F, O)``, the derived time column unfilled.

    float32 when every objective value is exactly a float32 (half the memory of a large
    table), else float64.
    """
    exact32 = all(is_float32(c) for c in objective_columns)
    values = np.empty((math.prod(shape[:3]), shape[3]), dtype=np.float32 if exact32 else np.float64)
    for k, (name, column) in enumerate(zip(spec.objectives, objective_columns)):
        values[flat, k] = objective_values(column, name, rows)
    return values.reshape(shape)
