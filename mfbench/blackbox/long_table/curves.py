"""A table's rows as learning curves, and the checks that each curve is whole and in order.

A curve is one (configuration, seed); each row sits in one cell of the dense grid
(configuration, seed, fidelity). The checks run in this order, each one relying on the
previous: no cell holds two rows (duplicates), every cell holds a row (gaps), and along
each curve the file lists the fidelities in increasing order (monotone).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from mfbench.blackbox.long_table.messages import SHOWN, RowNames, describe_config, ranges
from mfbench.blackbox.long_table.spec import LongTableSpec, TableError
from mfbench.space import Hyperparameter


@dataclass
class GridPositions:
    """Where each row of a table sits in the dense (configuration, seed, fidelity) grid.

    Attributes:
        config: per row, the configuration id (order of first appearance).
        seed: per row, the seed index (sorted order of the labels).
        fidelity: per row, the index into ``fidelity_values``.
        n_configs: number of configurations.
        n_seeds: number of seeds.
        fidelity_values: the sorted fidelities of the grid.
    """

    config: np.ndarray
    seed: np.ndarray
    fidelity: np.ndarray
    n_configs: int
    n_seeds: int
    fidelity_values: np.ndarray

    @property
    def n_fidelities(self) -> int:
        return len(self.fidelity_values)

    @property
    def n_cells(self) -> int:
        return self.n_configs * self.n_seeds * self.n_fidelities

    def curves(self) -> np.ndarray:
        """Per row, the curve index ``config * n_seeds + seed``."""
        return self.config * self.n_seeds + self.seed

    def cells(self) -> np.ndarray:
        """Per row, the flat cell index ``curve * n_fidelities + fidelity`` (row-major in the grid)."""
        return self.curves() * self.n_fidelities + self.fidelity


@dataclass
class CurveNames:
    """Names a curve in messages by its configuration's values (and seed label, if the table has seeds)."""

    configurations: np.ndarray
    hyperparameters: Sequence[Hyperparameter]
    seed_labels: list[Any]
    seeded: bool

    def __call__(self, config: int, seed: int) -> str:
        name = describe_config(self.configurations, self.hyperparameters, config)
        return name + (f" seed {self.seed_labels[seed]!r}" if self.seeded else "")


def check_curves(grid: GridPositions, names: CurveNames, spec: LongTableSpec, rows: RowNames) -> None:
    """Duplicates, then gaps, then the fidelity order of each curve (in that order)."""
    curve = grid.curves()
    flat = curve * grid.n_fidelities + grid.fidelity
    _check_no_duplicates(flat, grid, names, spec, rows)
    if len(flat) != grid.n_cells:  # no duplicates: fewer rows than cells means gaps
        _raise_gaps(curve, grid, names, spec)
    _check_monotone(flat, grid, names, spec, rows)


def _check_no_duplicates(flat: np.ndarray, grid: GridPositions, names: CurveNames, spec: LongTableSpec,
                         rows: RowNames) -> None:
    n_fid, n_seeds = grid.n_fidelities, grid.n_seeds
    # bincount is the fast test, when its array of counts is not much larger than the table
    counts = np.bincount(flat, minlength=grid.n_cells) if grid.n_cells <= 4 * len(flat) + 1024 else None
    if counts is not None and counts.max() <= 1:
        return
    distinct, _, multiplicity = np.unique(flat, return_index=True, return_counts=True)
    if not np.any(multiplicity > 1):
        return
    dup = distinct[multiplicity > 1]
    shown = []
    for cell in dup[:SHOWN]:
        where = np.flatnonzero(flat == cell)
        curve = int(cell // n_fid)
        shown.append(f"{names(curve // n_seeds, curve % n_seeds)} {spec.fidelity}={grid.fidelity_values[cell % n_fid]} "
                     f"({rows(where)})")
    hint = ("" if spec.seed is not None else
            "; if the table holds several runs (seeds) of a configuration, name the column telling them apart "
            "with benchmark.seed_column=COLUMN")
    raise TableError(f"duplicate rows: {len(dup)} (configuration, seed, fidelity) combination(s) appear more "
                     f"than once: {'; '.join(shown)}. Keep one row per configuration, seed and fidelity{hint}")


def _raise_gaps(curve: np.ndarray, grid: GridPositions, names: CurveNames, spec: LongTableSpec) -> None:
    n_fid, n_seeds, fidelity_values = grid.n_fidelities, grid.n_seeds, grid.fidelity_values
    n_curves = grid.n_configs * n_seeds
    per_curve = np.bincount(curve, minlength=n_curves)
    incomplete = np.flatnonzero(per_curve < n_fid)
    shown = []
    for c in incomplete[:SHOWN]:
        present = np.zeros(n_fid, dtype=bool)
        present[grid.fidelity[curve == c]] = True
        lacking = fidelity_values[~present].tolist()
        who = names(int(c) // n_seeds, int(c) % n_seeds)
        shown.append(f"{who} lacks {spec.fidelity} {ranges(lacking)}" if present.any() else f"{who} has no rows")
    raise TableError(
        f"gaps in the fidelities: {len(incomplete)} of {n_curves} learning curves (configuration, seed) "
        f"lack some of the table's {n_fid} {spec.fidelity} values ({ranges(fidelity_values.tolist())}): "
        f"{'; '.join(shown)}{' ...' if len(incomplete) > SHOWN else ''}. Every configuration needs a row at every "
        f"fidelity for every seed: complete or drop those curves. If some hyperparameter column is really an "
        f"objective (hyperparameter columns here: {[hp.name for hp in names.hyperparameters]}), list the objectives "
        f"with benchmark.objectives=[...]"
    )


def _check_monotone(flat: np.ndarray, grid: GridPositions, names: CurveNames, spec: LongTableSpec,
                    rows: RowNames) -> None:
    """Along each curve, file order must be fidelity order (``flat`` is a permutation of the cells by now)."""
    n_fid, n_seeds, fidelity_values = grid.n_fidelities, grid.n_seeds, grid.fidelity_values
    row_at = np.empty(grid.n_cells, dtype=np.int64)
    row_at[flat] = np.arange(len(flat))
    row_at = row_at.reshape(grid.n_configs * n_seeds, n_fid)
    backwards = np.diff(row_at, axis=1) < 0
    if not np.any(backwards):
        return
    c, k = np.argwhere(backwards)[0]
    later, earlier = row_at[c, k], row_at[c, k + 1]
    raise TableError(
        f"the fidelity column {spec.fidelity!r} is not monotone along the learning curve of "
        f"{names(int(c) // n_seeds, int(c) % n_seeds)}: "
        f"{spec.fidelity}={fidelity_values[k + 1]} ({rows([earlier])}) comes before {spec.fidelity}="
        f"{fidelity_values[k]} ({rows([later])}). Rows of each curve must be in increasing fidelity order: "
        f"sort the table by configuration, seed and {spec.fidelity}"
        + ("" if spec.seed is not None else ", or name the column telling several runs of a configuration apart "
                                            "with benchmark.seed_column=COLUMN")
    )
