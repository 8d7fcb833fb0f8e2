"""Reading and checking a long-format learning-curve table (parquet or CSV).

A long table has one row per (configuration, seed, fidelity): hyperparameter columns,
a fidelity column, objective columns and an optional seed column (the format
:func:`mfbench.blackbox.export.export_long_format` writes). :func:`read_long_table`
turns it into the dense arrays of a tabular blackbox, checking on the way everything a
simulation relies on; each problem gets its own :class:`TableError` naming the rows,
configurations or columns concerned and the fix:

* an empty table, missing columns, empty cells in hyperparameter / fidelity / seed columns;
* a fidelity that is not a positive integer;
* non-numeric objectives (an empty objective cell is allowed: NaN, a failed evaluation;
  not in the elapsed-time column);
* duplicate rows (the same configuration, seed and fidelity twice);
* gaps: a (configuration, seed) without a row at every fidelity of the table;
* a learning curve whose fidelity is not increasing in file order (not monotone);
* an elapsed time that decreases along a curve (a negative per-epoch time).

Configuration ``i`` is the ``i``-th distinct configuration in row order (as the export
writes them); seeds are numbered in sorted order of their labels; fidelities are sorted.
Everything is vectorised (numpy / pyarrow), so a table of NAS-Bench-201 size (9.4 M rows)
is read in seconds; :mod:`mfbench.blackbox.sources.user_table` caches the result.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from mfbench.errors import ConfigError, UserInputError
from mfbench.space import Categorical, Hyperparameter, hyperparameter_from_dict

#: file suffixes read as parquet / as delimited text
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".lz4")
#: numeric columns whose positive values span at least this ratio are inferred on the log scale
LOG_RATIO = 100.0
#: how many offending configurations / rows an error message lists
SHOWN = 5


class TableError(UserInputError):
    """The table cannot be simulated as it is; the message names the problem and the fix."""


@dataclass
class LongTableSpec:
    """What the columns of a long table mean.

    Args:
        hyperparameters: the hyperparameter columns, in the order of the space.
        fidelity: the fidelity column (positive integers, e.g. epochs).
        objectives: the objective columns (numeric), in output order.
        seed: the seed column, or ``None`` (one seed).
        specs: per hyperparameter, a full or partial spec (``type``, ``choices``,
            ``lower``, ``upper``, ``log``) in the format of
            :func:`mfbench.space.hyperparameter_from_dict`; what is not given is inferred.
        elapsed_time: the column holding training time, or ``None``.
        elapsed_time_is_per_epoch: ``elapsed_time`` holds the seconds of each row's step
            (since the previous fidelity), accumulated here into ``cumulative_name``.
        cost_per_fidelity: without an elapsed-time column, simulated seconds per unit of
            fidelity: ``cumulative_name = cost_per_fidelity * fidelity``.
        cumulative_name: name of the cumulative elapsed-time objective added by the two
            options above (unused when ``elapsed_time`` is already cumulative).
        fidelity_values: the fidelities every curve must have (default: all in the table).
    """

    hyperparameters: list[str]
    fidelity: str
    objectives: list[str]
    seed: str | None = None
    specs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    elapsed_time: str | None = None
    elapsed_time_is_per_epoch: bool = False
    cost_per_fidelity: float | None = None
    cumulative_name: str = "elapsed_time"
    fidelity_values: Sequence[int] | None = None

    @property
    def columns(self) -> list[str]:
        """Every column the table must have."""
        names = [*self.hyperparameters, self.fidelity, *self.objectives]
        if self.seed is not None:
            names.append(self.seed)
        return names

    @property
    def objective_names(self) -> list[str]:
        """Objectives of the blackbox: the objective columns plus a derived cumulative time."""
        derived = self.elapsed_time_is_per_epoch or self.cost_per_fidelity is not None
        return [*self.objectives, self.cumulative_name] if derived else list(self.objectives)

    @property
    def elapsed_time_attr(self) -> str | None:
        """The objective holding cumulative elapsed time."""
        if self.elapsed_time_is_per_epoch or self.cost_per_fidelity is not None:
            return self.cumulative_name
        return self.elapsed_time


@dataclass
class LongTable:
    """A checked long table as dense arrays.

    Attributes:
        hyperparameters: the space's hyperparameters (inferred or declared).
        configurations: encoded configurations ``(N, d)`` as
            :func:`mfbench.blackbox.stored.encode_configurations` writes them (categorical:
            index into the choices; numeric: the value).
        fidelity_values: sorted fidelities ``(F,)``, int64.
        seed_labels: the seed column's values in seed order ``(S,)`` (``[0]`` without one).
        objective_names: ``O`` names (see :attr:`LongTableSpec.objective_names`).
        evaluations: ``(N, S, F, O)``, float32 when every value is exactly a float32, else float64.
        num_rows: rows read.
    """

    hyperparameters: tuple[Hyperparameter, ...]
    configurations: np.ndarray
    fidelity_values: np.ndarray
    seed_labels: list[Any]
    objective_names: list[str]
    evaluations: np.ndarray
    num_rows: int


# ---------------------------------------------------------------------------- reading
def table_format(path: str | os.PathLike[str]) -> str:
    """``"parquet"`` or ``"csv"`` from the file name (TableError for anything else)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in PARQUET_SUFFIXES:
        return "parquet"
    if last in CSV_SUFFIXES:
        return "csv"
    raise TableError(
        f"{path}: unknown table format {last or '(no suffix)'!r}; benchmark=table reads parquet "
        f"({', '.join(PARQUET_SUFFIXES)}) and CSV ({', '.join(CSV_SUFFIXES)}, optionally compressed "
        f"{', '.join(COMPRESSION_SUFFIXES)}); rename the file or convert it"
    )


def _csv_options(path: Path) -> Any:
    import pyarrow.csv as pcsv

    tab = ".tsv" in [s.lower() for s in path.suffixes]
    return pcsv.ParseOptions(delimiter="\t" if tab else ",")


def read_header(path: str | os.PathLike[str]) -> list[str]:
    """Column names of a table, without reading its rows."""
    path = _existing(path)
    if path.stat().st_size == 0:
        raise TableError(f"{path} is an empty file (an empty table): there is nothing to simulate")
    try:
        if table_format(path) == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        import pyarrow.csv as pcsv

        reader = pcsv.open_csv(path, parse_options=_csv_options(path),
                               read_options=pcsv.ReadOptions(block_size=1 << 20))
        return list(reader.schema.names)
    except (OSError, ValueError) as error:  # pyarrow.ArrowInvalid is a ValueError
        if isinstance(error, TableError):
            raise
        raise TableError(f"{path}: cannot read the table ({str(error).splitlines()[0]})") from None


def read_columns(path: str | os.PathLike[str], columns: Sequence[str]) -> Any:
    """The given columns of a table as a ``pyarrow.Table`` (parquet strings stay dictionary-encoded)."""
    path = _existing(path)
    try:
        if table_format(path) == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
            strings = [c for c in columns if pa.types.is_string(schema.field(c).type)
                       or pa.types.is_large_string(schema.field(c).type)]
            return pq.ParquetFile(path, read_dictionary=strings).read(columns=list(columns))
        import pyarrow.csv as pcsv

        convert = pcsv.ConvertOptions(include_columns=list(columns), strings_can_be_null=True)
        return pcsv.read_csv(path, parse_options=_csv_options(path), convert_options=convert)
    except (OSError, ValueError) as error:  # pyarrow.ArrowInvalid is a ValueError
        if isinstance(error, TableError):
            raise
        raise TableError(f"{path}: cannot read the table ({str(error).splitlines()[0]})") from None


def _existing(path: str | os.PathLike[str]) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"benchmark.path: the table {path} does not exist"
                                + (" (relative paths are taken from the current directory "
                                   f"{Path.cwd()})" if not path.is_absolute() else ""))
    return path


# -------------------------------------------------------------------- column helpers
class _Rows:
    """How rows are named in messages: ``row 3`` (parquet) or ``line 4`` (CSV, header = line 1)."""

    def __init__(self, csv: bool) -> None:
        self.csv = csv

    def __call__(self, rows: Sequence[int] | np.ndarray) -> str:
        rows = [int(r) for r in list(rows)[:SHOWN]]
        if self.csv:
            return ("lines " if len(rows) > 1 else "line ") + ", ".join(str(r + 2) for r in rows)
        return ("rows " if len(rows) > 1 else "row ") + ", ".join(str(r + 1) for r in rows)


def _kind(array: Any) -> str:
    """``"string"``, ``"bool"``, ``"integer"``, ``"float"`` or ``"other"`` of a pyarrow array."""
    import pyarrow as pa

    t = array.type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "float"
    return "other"


def _no_nulls(array: Any, name: str, role: str, rows: _Rows) -> None:
    if array.null_count:
        import pyarrow.compute as pc

        where = np.flatnonzero(pc.is_null(array).to_numpy())
        raise TableError(f"{role} column {name!r} has {array.null_count} empty value(s) ({rows(where)}); "
                         f"every row needs a {role} value: fill them in or drop those rows")


def _distinct(array: Any) -> tuple[np.ndarray, list[Any]]:
    """``(codes, values)``: per-row int64 index into the column's distinct values (hashing, no sort)."""
    import pyarrow as pa

    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    if isinstance(array, pa.ChunkedArray):
        array = array.unify_dictionaries()
        chunks = [c for c in array.chunks if len(c)]
        dictionary = chunks[0].dictionary if chunks else pa.array([])
        codes = np.concatenate([c.indices.to_numpy().astype(np.int64, copy=False) for c in chunks])
    else:
        dictionary, codes = array.dictionary, array.indices.to_numpy().astype(np.int64, copy=False)
    return codes, dictionary.to_pylist()


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """For codes numbered in order of first appearance: the row where each code first appears."""
    running = np.maximum.accumulate(codes)
    new = np.empty(len(codes), dtype=bool)
    new[0] = True
    new[1:] = running[1:] > running[:-1]
    return np.flatnonzero(new)


def _recode(codes: np.ndarray, values: Sequence[Any], order: Sequence[Any], what: str, rows: _Rows) -> np.ndarray:
    """Codes into ``values`` -> codes into ``order`` (TableError naming values absent from ``order``)."""
    position = {v: i for i, v in enumerate(order)}
    unknown = [v for v in values if v not in position]
    if unknown:
        where = np.flatnonzero(np.isin(codes, [values.index(v) for v in unknown]))
        raise TableError(f"{what}: value(s) {unknown[:SHOWN]} ({rows(where)}) are not among its declared choices "
                         f"{list(order)}; add them to the choices or drop those rows")
    return np.array([position[v] for v in values], dtype=np.int64)[codes]


def _rows_with(codes: np.ndarray, values: Sequence[Any], bad: Sequence[bool]) -> np.ndarray:
    return np.flatnonzero(np.isin(codes, np.flatnonzero(np.asarray(bad, dtype=bool))))


def _hyperparameter(name: str, array: Any, spec: Mapping[str, Any], rows: _Rows) -> tuple[Hyperparameter, np.ndarray, np.ndarray]:
    """The hyperparameter of a column, its per-row codes and each code's encoded value.

    Returns ``(hp, codes, encoded)``: ``codes`` (int64, per row) identify equal values;
    ``encoded[code]`` is the value as :func:`mfbench.blackbox.stored.encode_configurations`
    stores it (categorical: index into the choices; numeric: the value).
    """
    kind = _kind(array)
    declared = spec.get("type")
    if declared not in (None, "categorical", "integer", "float"):
        raise TableError(f"benchmark.hyperparameters.{name}.type: {declared!r} is not a type; use categorical, "
                         "integer or float")
    if kind == "other":
        raise TableError(f"column {name!r} has type {array.type}, which cannot be a hyperparameter; convert it to "
                         "strings or numbers, or list it in benchmark.ignore")
    codes, values = _distinct(array)
    if declared == "categorical" or (declared is None and kind in ("string", "bool")):
        choices = spec.get("choices")
        if choices is None:
            try:
                choices = sorted(values)
            except TypeError:
                choices = list(values)
        codes = _recode(codes, values, choices, f"hyperparameter {name!r}", rows)
        hp = Categorical(name, tuple(choices))
        return hp, codes, np.arange(len(hp.choices), dtype=np.float64)
    if kind in ("string", "bool"):
        raise TableError(f"benchmark.hyperparameters.{name}.type={declared}: column {name!r} holds "
                         f"{kind} values; only numbers can be {declared}")
    numbers = np.asarray(values, dtype=np.float64)
    if np.any(~np.isfinite(numbers)):
        raise TableError(f"hyperparameter {name!r} has non-finite values "
                         f"({rows(_rows_with(codes, values, ~np.isfinite(numbers)))}); fix or drop those rows")
    is_integer = declared == "integer" or (declared is None and kind == "integer")
    fractional = numbers != np.round(numbers)
    if is_integer and np.any(fractional):
        raise TableError(f"hyperparameter {name!r} is declared integer but has fractional values "
                         f"({rows(_rows_with(codes, values, fractional))})")
    lower = float(numbers.min()) if spec.get("lower") is None else float(spec["lower"])
    upper = float(numbers.max()) if spec.get("upper") is None else float(spec["upper"])
    outside = (numbers < lower) | (numbers > upper)
    if np.any(outside):
        raise TableError(f"hyperparameter {name!r}: values outside its declared range [{lower:g}, {upper:g}] "
                         f"({rows(_rows_with(codes, values, outside))}); widen the range or drop those rows")
    log = spec.get("log")
    if log is None:
        log = lower > 0 and upper / lower >= LOG_RATIO
    full = {"name": name, "type": "integer" if is_integer else "float", "lower": lower, "upper": upper, "log": bool(log)}
    try:
        hp = hyperparameter_from_dict(full)
    except ValueError as error:
        raise TableError(f"benchmark.hyperparameters.{name}: {error}") from None
    return hp, codes, np.round(numbers) if is_integer else numbers


def _objective(array: Any, name: str, rows: _Rows) -> np.ndarray:
    """An objective column as float64 (empty cells: NaN)."""
    kind = _kind(array)
    if kind in ("integer", "float"):
        return np.asarray(array.to_numpy(), dtype=np.float64)
    if kind == "string":
        codes, values = _distinct(array)
        numbers = []
        for value in values:
            try:
                numbers.append(math.nan if value is None else float(value))
            except ValueError:
                raise TableError(f"objective column {name!r} is not numeric: {value!r} in "
                                 f"{rows(np.flatnonzero(codes == values.index(value)))}; objectives must be numbers "
                                 "(leave a cell empty for a failed evaluation)") from None
        raise TableError(f"objective column {name!r} holds numbers as text (e.g. {values[0]!r}); store them as numbers")
    raise TableError(f"objective column {name!r} has type {array.type}; objectives must be numbers")


def _is_float32(array: Any) -> bool:
    """True if every value of a numeric pyarrow column is exactly a float32."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_float32(array.type) or pa.types.is_float16(array.type):
        return True
    if pa.types.is_integer(array.type):
        bounds = pc.min_max(array).as_py()
        return bounds["min"] is None or max(abs(bounds["min"]), abs(bounds["max"])) <= 2**24
    return False


def _ranges(values: Sequence[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1..3, 7"``."""
    parts, start = [], None
    values = list(values)
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            parts.append(str(start) if start == v else f"{start}..{v}")
            start = None
    return ", ".join(parts)


# ---------------------------------------------------------------------- the reader
def read_long_table(path: str | os.PathLike[str], spec: LongTableSpec) -> LongTable:
    """Read, check and densify a long table (see the module docstring for the checks).

    Args:
        path: a parquet or CSV file.
        spec: the meaning of its columns.

    Raises:
        FileNotFoundError: no such file.
        TableError: the table is malformed (the message says where and how to fix it).
    """
    import pyarrow as pa

    path = _existing(path)
    rows = _Rows(table_format(path) == "csv")
    header = read_header(path)
    missing = [c for c in dict.fromkeys(spec.columns) if c not in header]
    if missing:
        raise TableError(f"{path.name} has no column(s) {missing}; its columns are {header}. Name the right "
                         "columns with benchmark.metric / fidelity / elapsed_time / seed_column / objectives")
    table = read_columns(path, list(dict.fromkeys(spec.columns)))
    n = table.num_rows
    if n == 0:
        raise TableError(f"{path} has no rows (an empty table): there is nothing to simulate")

    # hyperparameters -> per-row codes -> configuration ids in order of first appearance
    hps, key, encoded_per_code, code_columns = [], np.zeros(n, dtype=np.int64), [], []
    radix = 1
    for name in spec.hyperparameters:
        column = table.column(name)
        _no_nulls(column, name, "hyperparameter", rows)
        hp, codes, encoded = _hyperparameter(name, column, spec.specs.get(name, {}), rows)
        hps.append(hp)
        encoded_per_code.append(encoded)
        size = max(len(encoded), 1)
        if radix * size < 2**62:
            key = key * size + codes
            radix *= size
        else:  # too many combinations for one int64: fold the key so far into its distinct ids
            key, _ = _distinct(pa.array(key))
            key = key * size + codes
            radix = (int(key.max()) + 1)
        code_columns.append(codes)
    config_id, _ = _distinct(pa.array(key))
    del key
    first_rows = _first_rows(config_id)
    configurations = np.stack([e[c[first_rows]] for e, c in zip(encoded_per_code, code_columns)], axis=1)
    del code_columns
    n_configs = len(first_rows)

    # seeds and fidelities
    if spec.seed is not None:
        seed_column = table.column(spec.seed)
        _no_nulls(seed_column, spec.seed, "seed", rows)
        seed_codes, labels = _distinct(seed_column)
        try:
            seed_labels = sorted(labels)
        except TypeError:
            seed_labels = list(labels)
        seed_codes = _recode(seed_codes, labels, seed_labels, "seed", rows)
    else:
        seed_codes, seed_labels = np.zeros(n, dtype=np.int64), [0]
    n_seeds = len(seed_labels)
    fidelity_column = table.column(spec.fidelity)
    _no_nulls(fidelity_column, spec.fidelity, "fidelity", rows)
    if _kind(fidelity_column) not in ("integer", "float"):
        raise TableError(f"fidelity column {spec.fidelity!r} is not numeric ({fidelity_column.type}); fidelities "
                         "are positive integers such as epochs")
    fid_codes, fid_values = _distinct(fidelity_column)
    numbers = np.asarray(fid_values, dtype=np.float64)
    bad = (numbers != np.round(numbers)) | (numbers < 1)
    if np.any(bad):
        where = _rows_with(fid_codes, fid_values, bad)
        raise TableError(f"fidelity column {spec.fidelity!r} must hold integers >= 1 (e.g. epochs); found "
                         f"{numbers[bad][0]:g} in {rows(where)}. Map fractional budgets to integer levels "
                         "(1, 2, ...) or drop the rows below 1")
    present = sorted(int(v) for v in numbers)
    if spec.fidelity_values is not None:
        fidelity_values = np.asarray(sorted(int(v) for v in spec.fidelity_values), dtype=np.int64)
        outside = ~np.isin(numbers, fidelity_values)
        if np.any(outside):
            raise TableError(f"{spec.fidelity}={numbers[outside][0]:g} ({rows(_rows_with(fid_codes, fid_values, outside))})"
                             f" is not among the fidelity values of the sidecar ({_ranges(fidelity_values.tolist())})")
    else:
        fidelity_values = np.asarray(present, dtype=np.int64)
    n_fid = len(fidelity_values)
    fid_code = np.searchsorted(fidelity_values, numbers.astype(np.int64))[fid_codes]
    del fid_codes

    # objectives are checked numeric before the structure, which needs no values
    objective_columns = [table.column(name) for name in spec.objectives]
    for name, column in zip(spec.objectives, objective_columns):
        if _kind(column) not in ("integer", "float"):
            _objective(column, name, rows)  # raises the right message
    exact32 = all(_is_float32(c) for c in objective_columns)

    _check_structure(config_id, seed_codes, fid_code, n_configs, n_seeds, fidelity_values, configurations, hps,
                     seed_labels, spec, rows)

    flat = (config_id * n_seeds + seed_codes) * n_fid + fid_code  # a permutation of 0..N*S*F-1 now
    del config_id, seed_codes, fid_code
    values = np.empty((n_configs * n_seeds * n_fid, len(spec.objective_names)),
                      dtype=np.float32 if exact32 else np.float64)
    for k, (name, column) in enumerate(zip(spec.objectives, objective_columns)):
        values[flat, k] = _objective(column, name, rows)
    del table, objective_columns, flat
    evaluations = values.reshape(n_configs, n_seeds, n_fid, len(spec.objective_names))
    evaluations = _elapsed_time(evaluations, spec, fidelity_values, configurations, hps, seed_labels)
    return LongTable(tuple(hps), configurations, fidelity_values, seed_labels, spec.objective_names, evaluations, n)


def _describe_config(configurations: np.ndarray, hps: Sequence[Hyperparameter], index: int) -> str:
    from mfbench.blackbox.stored import decode_configurations

    row = decode_configurations(hps, configurations[index : index + 1])[0]
    return "{" + ", ".join(f"{hp.name}: {v!r}" for hp, v in zip(hps, row)) + "}"


def _check_structure(config_id: np.ndarray, seed_codes: np.ndarray, fid_code: np.ndarray, n_configs: int,
                     n_seeds: int, fidelity_values: np.ndarray, configurations: np.ndarray,
                     hps: Sequence[Hyperparameter], seed_labels: list[Any], spec: LongTableSpec, rows: _Rows) -> None:
    """Duplicates, then gaps, then the fidelity order of each curve (in that order)."""
    n_fid = len(fidelity_values)
    n = len(config_id)
    curve = config_id * n_seeds + seed_codes
    flat = curve * n_fid + fid_code
    cells = n_configs * n_seeds * n_fid

    def who(c: int) -> str:
        config = _describe_config(configurations, hps, c // n_seeds)
        return config + (f" seed {seed_labels[c % n_seeds]!r}" if spec.seed is not None else "")

    counts = np.bincount(flat, minlength=cells) if cells <= 4 * n + 1024 else None
    if counts is None or counts.max() > 1:
        distinct, first, multiplicity = np.unique(flat, return_index=True, return_counts=True)
        if np.any(multiplicity > 1):
            dup = distinct[multiplicity > 1]
            shown = []
            for cell in dup[:SHOWN]:
                where = np.flatnonzero(flat == cell)
                shown.append(f"{who(int(cell // n_fid))} {spec.fidelity}={fidelity_values[cell % n_fid]} "
                             f"({rows(where)})")
            hint = ("" if spec.seed is not None else
                    "; if the table holds several runs (seeds) of a configuration, name the column telling them apart "
                    "with benchmark.seed_column=COLUMN")
            raise TableError(f"duplicate rows: {len(dup)} (configuration, seed, fidelity) combination(s) appear more "
                             f"than once: {'; '.join(shown)}. Keep one row per configuration, seed and fidelity{hint}")
    if n != cells:
        per_curve = np.bincount(curve, minlength=n_configs * n_seeds)
        incomplete = np.flatnonzero(per_curve < n_fid)
        shown = []
        for c in incomplete[:SHOWN]:
            present = np.zeros(n_fid, dtype=bool)
            present[fid_code[curve == c]] = True
            lacking = fidelity_values[~present].tolist()
            shown.append(f"{who(int(c))} lacks {spec.fidelity} {_ranges(lacking)}" if present.any()
                         else f"{who(int(c))} has no rows")
        raise TableError(
            f"gaps in the fidelities: {len(incomplete)} of {n_configs * n_seeds} learning curves (configuration, seed) "
            f"lack some of the table's {n_fid} {spec.fidelity} values ({_ranges(fidelity_values.tolist())}): "
            f"{'; '.join(shown)}{' ...' if len(incomplete) > SHOWN else ''}. Every configuration needs a row at every "
            f"fidelity for every seed: complete or drop those curves. If some hyperparameter column is really an "
            f"objective (hyperparameter columns here: {[hp.name for hp in hps]}), list the objectives with "
            f"benchmark.objectives=[...]"
        )
    # monotone: along each curve, file order must be fidelity order
    row_at = np.empty(cells, dtype=np.int64)
    row_at[flat] = np.arange(n)
    row_at = row_at.reshape(n_configs * n_seeds, n_fid)
    backwards = np.diff(row_at, axis=1) < 0
    if np.any(backwards):
        c, k = np.argwhere(backwards)[0]
        later, earlier = row_at[c, k], row_at[c, k + 1]
        raise TableError(
            f"the fidelity column {spec.fidelity!r} is not monotone along the learning curve of {who(int(c))}: "
            f"{spec.fidelity}={fidelity_values[k + 1]} ({rows([earlier])}) comes before {spec.fidelity}="
            f"{fidelity_values[k]} ({rows([later])}). Rows of each curve must be in increasing fidelity order: "
            f"sort the table by configuration, seed and {spec.fidelity}"
            + ("" if spec.seed is not None else ", or name the column telling several runs of a configuration apart "
                                                "with benchmark.seed_column=COLUMN")
        )


def _elapsed_time(evaluations: np.ndarray, spec: LongTableSpec, fidelity_values: np.ndarray,
                  configurations: np.ndarray, hps: Sequence[Hyperparameter], seed_labels: list[Any]) -> np.ndarray:
    """Check elapsed time never decreases; fill the derived cumulative time, if any.

    Returns ``evaluations`` (upcast to float64 if a derived time is not exactly a float32).
    """
    names = spec.objective_names

    def who(c: int, s: int) -> str:
        return _describe_config(configurations, hps, c) + (f" seed {seed_labels[s]!r}" if spec.seed is not None else "")

    derived: np.ndarray | None = None
    if spec.cost_per_fidelity is not None:
        derived = np.broadcast_to(spec.cost_per_fidelity * fidelity_values.astype(np.float64), evaluations.shape[:3])
    elif spec.elapsed_time is not None:
        column = evaluations[..., names.index(spec.elapsed_time)]
        if np.any(np.isnan(column)):
            c, s, k = np.argwhere(np.isnan(column))[0]
            raise TableError(f"elapsed-time column {spec.elapsed_time!r} is empty for {who(c, s)} at "
                             f"{spec.fidelity}={fidelity_values[k]}; the simulator needs a training time for every row")
        if spec.elapsed_time_is_per_epoch:
            if np.any(column < 0):
                c, s, k = np.argwhere(column < 0)[0]
                raise TableError(f"per-epoch time {spec.elapsed_time!r} is negative ({column[c, s, k]:g}) for "
                                 f"{who(c, s)} at {spec.fidelity}={fidelity_values[k]}: the elapsed time would decrease")
            derived = np.cumsum(column, axis=-1, dtype=np.float64)
        else:
            decreasing = np.diff(column, axis=-1) < 0
            if np.any(decreasing):
                c, s, k = np.argwhere(decreasing)[0]
                raise TableError(
                    f"elapsed time {spec.elapsed_time!r} decreases along the curve of {who(c, s)}: {column[c, s, k]:g} "
                    f"at {spec.fidelity}={fidelity_values[k]}, then {column[c, s, k + 1]:g} at {spec.fidelity}="
                    f"{fidelity_values[k + 1]}. It must be cumulative (total seconds since the start of training); "
                    "if it holds the seconds of each epoch, set benchmark.elapsed_time_is_per_epoch=true"
                )
    if derived is not None:
        if evaluations.dtype != np.float64 and not np.array_equal(derived.astype(evaluations.dtype), derived):
            evaluations = evaluations.astype(np.float64)
        evaluations[..., names.index(spec.cumulative_name)] = derived
    return evaluations
