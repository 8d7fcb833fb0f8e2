"""The blackbox interface and the in-memory / memory-mapped tabular blackbox.

A blackbox answers one question, vectorised: for a configuration, a table seed and a
list of fidelities, what are all objective values? Shapes are stated in the docstrings;
fidelities are the blackbox's own values (e.g. epochs 1..200), not indices, except in
``evaluate_run``, which takes a contiguous run of them by position (how the simulator asks).
"""
from __future__ import annotations

import mmap
import warnings
from abc import ABC, abstractmethod
from typing import Any, Mapping, Sequence

import numpy as np

from mfbench.space import ConfigSpace


class Blackbox(ABC):
    """A multi-fidelity function with several objectives and a finite number of seeds."""

    #: configuration space (restricted to a finite table for tabulated blackboxes)
    config_space: ConfigSpace
    #: sorted fidelity values, shape ``(num_fidelities,)``, integers >= 1
    fidelity_values: np.ndarray
    #: names of the objective columns returned by :meth:`evaluate`
    objective_names: list[str]
    #: number of table seeds (repetitions); a trial draws one for its lifetime
    num_seeds: int
    #: True (epochs): one training run passes every fidelity, so the elapsed-time objective is
    #: cumulative and a trial resumed at fidelity k continues from its checkpoint there.
    #: False (a training-set fraction, a replication index): each fidelity is a separate
    #: evaluation from scratch and the elapsed-time objective is the time of that evaluation
    #: alone; the simulator charges every evaluated fidelity in full (docs/simulator.md).
    #: A class default; set it per instance where one class serves both kinds.
    fidelity_is_cumulative: bool = True

    @abstractmethod
    def evaluate(self, config: Mapping[str, Any], seed: int, fidelities: np.ndarray) -> np.ndarray:
        """All objectives of ``config`` at ``fidelities`` for table seed ``seed``.

        Args:
            config: a configuration of :attr:`config_space`.
            seed: table seed in ``[0, num_seeds)``.
            fidelities: fidelity values, shape ``(n,)``, each one of :attr:`fidelity_values`.

        Returns:
            float array of shape ``(n, len(objective_names))``.
        """

    def evaluate_run(self, config: Mapping[str, Any], seed: int, start: int, stop: int) -> np.ndarray:
        """:meth:`evaluate` at the contiguous run of fidelities ``fidelity_values[start:stop]``.

        The simulator asks for a trial's fidelities this way (positions, not values) when the
        problem's fidelities are one run of consecutive :attr:`fidelity_values`; a subclass may
        read them directly, without looking the values up. The default asks :meth:`evaluate`
        for those values (the blackbox's own array, even where the problem holds them in
        another dtype). Shape ``(stop - start, O)``.
        """
        return self.evaluate(config, seed, self.fidelity_values[start:stop])

    def objective_index(self, name: str) -> int:
        """Column of objective ``name`` in :meth:`evaluate`'s output (clear error if absent)."""
        try:
            return self.objective_names.index(name)
        except ValueError:
            raise KeyError(
                f"objective {name!r} is not in this blackbox; available objectives: {self.objective_names}"
            ) from None

    def fidelity_positions(self, fidelities: np.ndarray) -> np.ndarray | slice:
        """Positions of fidelity values in :attr:`fidelity_values` (ValueError if any is absent).

        A contiguous run of fidelity values comes back as a ``slice``.
        """
        fidelities = np.asarray(fidelities)
        values = self.fidelity_values
        if len(fidelities):  # the common case: a contiguous run of fidelities is a slice (no copy)
            start = int(np.searchsorted(values, fidelities[0]))
            stop = start + len(fidelities)
            if stop <= len(values) and np.array_equal(values[start:stop], fidelities):
                return slice(start, stop)  # type: ignore[return-value]
        positions = np.searchsorted(self.fidelity_values, fidelities)
        positions = np.minimum(positions, len(self.fidelity_values) - 1)
        if not np.array_equal(self.fidelity_values[positions], fidelities):
            bad = sorted(set(fidelities.tolist()) - set(self.fidelity_values.tolist()))
            raise ValueError(f"fidelities {bad[:5]} are not among this blackbox's fidelity values")
        return positions

    def describe(self) -> dict[str, Any]:
        """JSON-serialisable description written into every result's metadata."""
        return {"kind": type(self).__name__, "fidelity_is_cumulative": self.fidelity_is_cumulative}

    def best_in_table(self, metric: str, mode: str, max_fidelity: int | None = None) -> dict[str, Any]:
        """What a run's metadata records about the best value of ``metric`` in the table.

        Only a tabulated blackbox has a finite table to take the best of
        (:meth:`TabularBlackbox.best_in_table`); other blackboxes record nothing, and
        ``--regret table`` of the analysis then says the value is missing.
        """
        return {}


#: rows of a memory-mapped table read per block by :func:`_cells` (bytes of the mapping touched at a time)
_CELLS_BLOCK_BYTES = 16 * 2**20


def _cells(evaluations: np.ndarray, position: np.ndarray | slice, column: int) -> np.ndarray:
    """``evaluations[:, :, position, column]`` for one fidelity position (a length-1 slice or
    array), as float64, shape ``(configs, seeds)``.

    One cell of each (configuration, seed) lies on its own page of a table's file (the
    fidelities and objectives of a row are contiguous), so a strided read through the
    memory mapping maps the whole file into the process: ~150 MB resident for
    NAS-Bench-201, the peak RSS of a short run, for 47k numbers. A memory-mapped table is
    therefore read in blocks of rows, and each block's pages are released from the mapping
    (``MADV_DONTNEED``: the file is read-only, pages come back from the page cache on use).
    """
    rows, seeds = evaluations.shape[:2]
    mapping = getattr(evaluations, "_mmap", None) if isinstance(evaluations, np.memmap) else None
    if mapping is None or not hasattr(mapping, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return np.asarray(evaluations[:, :, position, column], dtype=np.float64).reshape(rows, seeds)
    out = np.empty((rows, seeds), dtype=np.float64)
    step = max(1, _CELLS_BLOCK_BYTES // max(1, evaluations[:1].nbytes))
    for start in range(0, rows, step):
        block = evaluations[start : start + step, :, position, column]
        out[start : start + step] = block.reshape(len(block), seeds)
        mapping.madvise(mmap.MADV_DONTNEED)
    return out


#: the rows of :func:`best_summary`: per fidelity and objective, the best cell and the best
#: seed-mean, for either mode
SUMMARY_ROWS = ("cell_min", "cell_max", "seed_mean_min", "seed_mean_max")


def best_summary(evaluations: np.ndarray) -> np.ndarray:
    """What :meth:`TabularBlackbox.best_in_table` reduces a table to, at every fidelity and for
    every objective at once: shape ``(4, F, O)`` float64, rows :data:`SUMMARY_ROWS`, NaN where
    every cell is NaN.

    Computed when a table is stored (one sequential pass over its file, in blocks of rows) and
    read when it opens: ``best_in_table`` on a fresh process otherwise reads one cell per
    (configuration, seed), each on its own page, which costs a short run more than its
    decisions (NAS-Bench-201: 47k pages, ~40 ms). The values are the ones ``best_in_table``
    computes from the cells, bit for bit: each seed mean sums a configuration's seeds in the
    same contiguous order, and minima and maxima are exact.

    Args:
        evaluations: ``(N, S, F, O)``, e.g. a read-only memory map.
    """
    rows, _, fidelities, objectives = evaluations.shape
    out = np.full((len(SUMMARY_ROWS), fidelities, objectives), np.nan)
    step = max(1, _CELLS_BLOCK_BYTES // max(1, np.dtype(np.float64).itemsize * int(np.prod(evaluations.shape[1:]))))
    with warnings.catch_warnings():  # an all-NaN slice reduces to NaN, which fmin / fmax then skip
        warnings.simplefilter("ignore", RuntimeWarning)
        for start in range(0, rows if evaluations.size else 0, step):  # no cells: all NaN
            block = np.asarray(evaluations[start : start + step], dtype=np.float64)
            out[0] = np.fmin(out[0], np.nanmin(block, axis=(0, 1)))
            out[1] = np.fmax(out[1], np.nanmax(block, axis=(0, 1)))
            # each configuration's seeds contiguous, as in best_in_table's (configs, seeds) cells
            seed_mean = np.nanmean(np.ascontiguousarray(block.transpose(0, 2, 3, 1)), axis=-1)
            out[2] = np.fmin(out[2], np.nanmin(seed_mean, axis=0))
            out[3] = np.fmax(out[3], np.nanmax(seed_mean, axis=0))
    return out


class TabularBlackbox(Blackbox):
    """A blackbox backed by a dense table of evaluations.

    Args:
        config_space: a space restricted to the table's configurations (row ``i`` of
            ``config_space.table`` is configuration index ``i``).
        fidelity_values: sorted fidelity values, shape ``(F,)``.
        objective_names: names of the ``O`` objectives.
        evaluations: array of shape ``(N, S, F, O)`` (configurations, seeds, fidelities,
            objectives); may be a read-only ``np.memmap`` so opening costs no copy.
        description: what this table is (goes into the metadata of every run).
        summary: the table's :func:`best_summary` if it was stored with it (``best_in_table``
            then reads it instead of the cells); ``None``: computed from the cells when asked.
    """

    def __init__(
        self,
        config_space: ConfigSpace,
        fidelity_values: Sequence[int] | np.ndarray,
        objective_names: Sequence[str],
        evaluations: np.ndarray,
        description: Mapping[str, Any] | None = None,
        summary: np.ndarray | None = None,
    ) -> None:
        if config_space.table is None:
            raise ValueError("a tabular blackbox needs a config space restricted to its table")
        self.config_space = config_space
        self.fidelity_values = np.asarray(fidelity_values)
        self.objective_names = list(objective_names)
        self.evaluations = evaluations
        expected = (len(config_space.table), evaluations.shape[1], len(self.fidelity_values), len(self.objective_names))
        if evaluations.ndim != 4 or evaluations.shape != expected:
            raise ValueError(f"evaluations have shape {evaluations.shape}, expected (configs, seeds, fidelities, objectives) = {expected}")
        if np.any(np.diff(self.fidelity_values) <= 0):
            raise ValueError("fidelity values must be strictly increasing")
        self.num_seeds = int(evaluations.shape[1])
        # the same cells as a plain array: indexing a np.memmap runs its Python-level __getitem__
        self._plain_evaluations = evaluations.view(np.ndarray) if isinstance(evaluations, np.memmap) else evaluations
        self._description = dict(description or {})
        if summary is not None and summary.shape != (len(SUMMARY_ROWS), *evaluations.shape[2:]):
            raise ValueError(f"the summary has shape {summary.shape}, expected "
                             f"{(len(SUMMARY_ROWS), *evaluations.shape[2:])} (rows, fidelities, objectives)")
        self._summary = summary
        # best_in_table() per (metric, mode, fidelity): a reduction over the table, done once
        self._best_in_table: dict[tuple[str, str, int], dict[str, Any]] = {}

    @property
    def summary(self) -> np.ndarray | None:
        """The stored :func:`best_summary` this table was opened with, if any."""
        return self._summary

    def evaluate(self, config: Mapping[str, Any], seed: int, fidelities: np.ndarray) -> np.ndarray:
        row = self.config_space.index_of(config)
        return np.asarray(self.evaluations[row, seed, self.fidelity_positions(fidelities)], dtype=np.float64)

    def evaluate_run(self, config: Mapping[str, Any], seed: int, start: int, stop: int) -> np.ndarray:
        if not self._reads_its_cells():  # evaluate() gives something else: ask it
            return super().evaluate_run(config, seed, start, stop)
        return self.evaluate_index(self.config_space.index_of(config), seed, slice(start, stop))

    def _reads_its_cells(self) -> bool:
        """Whether :meth:`evaluate` is this class's own (not changed by a subclass or on the instance)
        and the plain view of the cells exists, so that reading the cells directly gives what it gives."""
        cls = type(self)
        return (cls.evaluate is TabularBlackbox.evaluate and cls.fidelity_positions is Blackbox.fidelity_positions
                and "evaluate" not in self.__dict__ and "fidelity_positions" not in self.__dict__
                and "_plain_evaluations" in self.__dict__)

    def evaluate_index(self, index: int, seed: int, fidelity_positions: np.ndarray | slice) -> np.ndarray:
        """Objectives by configuration row and fidelity positions, shape ``(n, O)``."""
        return np.asarray(self._plain_evaluations[index, seed, fidelity_positions], dtype=np.float64)

    def best_in_table(self, metric: str, mode: str, max_fidelity: int | None = None) -> dict[str, Any]:
        """The best value of ``metric`` in the table at the max fidelity, for every run's metadata.

        The analysis measures regret (``--regret table``) of the running best of the values a run
        *observed*, and each observed value is that of one table seed. So the reference is the best
        over all configurations **and** all table seeds (``best_in_table``): a run that reaches the
        max fidelity can never beat it, and regret stays >= 0. The best of the seed-mean (the best
        configuration's expected value) is recorded as well (``best_in_table_seed_mean``). NaN cells
        (failed evaluations) are ignored.

        Args:
            metric: an objective of the table.
            mode: ``"min"`` or ``"max"``.
            max_fidelity: the fidelity a trial runs to (default: the table's last).

        Returns:
            ``{"best_in_table", "best_in_table_seed_mean", "best_in_table_definition"}``, or ``{}``
            when every cell of the metric at that fidelity is NaN. Computed once per arguments and
            cached: it reads ``configs x seeds`` cells, 47k for NAS-Bench-201.
        """
        fidelity = int(self.fidelity_values[-1] if max_fidelity is None else max_fidelity)
        key = (metric, mode, fidelity)
        if key not in self._best_in_table:
            self._best_in_table[key] = self._reduce_best(metric, mode, fidelity)
        return dict(self._best_in_table[key])

    def _reduce_best(self, metric: str, mode: str, fidelity: int) -> dict[str, Any]:
        """:meth:`best_in_table` without the cache."""
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        position = self.fidelity_positions(np.array([fidelity]))
        column = self.objective_index(metric)
        if self._summary is not None:
            first = 0 if mode == "min" else 1
            index = int(np.arange(len(self.fidelity_values))[position][0])  # a position may be a slice
            best, best_seed_mean = (float(self._summary[row, index, column]) for row in (first, first + 2))
        else:
            values = _cells(self.evaluations, position, column)  # (configs, seeds)
            if np.isnan(values).all():
                return {}
            reduce = np.nanmin if mode == "min" else np.nanmax
            with warnings.catch_warnings():  # a configuration with every seed NaN has no mean: NaN, skipped below
                warnings.simplefilter("ignore", RuntimeWarning)
                seed_mean = np.nanmean(values, axis=1)
            best, best_seed_mean = float(reduce(values)), float(reduce(seed_mean))
        if np.isnan(best):  # every cell NaN
            return {}
        return {  # + 0.0: a zero is +0.0 whichever of 0.0 and -0.0 the reduction met first
            "best_in_table": best + 0.0,
            "best_in_table_seed_mean": best_seed_mean + 0.0,
            "best_in_table_definition": (f"{mode} of {metric} over {self.evaluations.shape[0]} configurations x "
                                         f"{self.num_seeds} table seeds at fidelity {fidelity}"),
        }

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "tabular",
            "num_configs": len(self.config_space.table or ()),
            "num_seeds": self.num_seeds,
            "num_fidelities": len(self.fidelity_values),
            "objectives": self.objective_names,
            **self._description,
            # after the description: a table tabulated from a surrogate carries the surrogate's
            # description, but how this table is charged is what its own attribute says
            "fidelity_is_cumulative": self.fidelity_is_cumulative,
        }
