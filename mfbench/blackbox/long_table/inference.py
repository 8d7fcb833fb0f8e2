"""What a column's values say about it: a hyperparameter's type and range, an objective's numbers.

A hyperparameter column is categorical when it holds strings or booleans (choices sorted),
integer when it holds integers, float otherwise; its bounds are its smallest and largest
values, on the log scale when its positive values span a factor of :data:`LOG_RATIO` or
more. A declared spec (``benchmark.hyperparameters``) overrides any part of that, and the
values are checked against it.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from mfbench.blackbox.long_table.columns import column_kind, distinct, recode, rows_with, sorted_if_possible
from mfbench.blackbox.long_table.messages import RowNames
from mfbench.blackbox.long_table.spec import TableError
from mfbench.space import Categorical, Hyperparameter, hyperparameter_from_dict

#: numeric columns whose positive values span at least this ratio are inferred on the log scale
LOG_RATIO = 100.0


def hyperparameter_of_column(name: str, array: Any, spec: Mapping[str, Any],
                             rows: RowNames) -> tuple[Hyperparameter, np.ndarray, np.ndarray]:
    """The hyperparameter of a column, its per-row codes and each code's encoded value.

    Returns ``(hp, codes, encoded)``: ``codes`` (int64, per row) identify equal values;
    ``encoded[code]`` is the value as :func:`mfbench.blackbox.stored.encode_configurations`
    stores it (categorical: index into the choices; numeric: the value).
    """
    kind = column_kind(array)
    declared = spec.get("type")
    if declared not in (None, "categorical", "integer", "float"):
        raise TableError(f"benchmark.hyperparameters.{name}.type: {declared!r} is not a type; use categorical, "
                         "integer or float")
    if kind == "other":
        raise TableError(f"column {name!r} has type {array.type}, which cannot be a hyperparameter; convert it to "
                         "strings or numbers, or list it in benchmark.ignore")
    codes, values = distinct(array)
    if declared == "categorical" or (declared is None and kind in ("string", "bool")):
        return _categorical(name, codes, values, spec, rows)
    if kind in ("string", "bool"):
        raise TableError(f"benchmark.hyperparameters.{name}.type={declared}: column {name!r} holds "
                         f"{kind} values; only numbers can be {declared}")
    is_integer = declared == "integer" or (declared is None and kind == "integer")
    if kind == "integer" and max(abs(int(v)) for v in values) >= 2**53:  # float64 cannot tell them apart
        raise TableError(f"column {name!r} holds integers of magnitude 2^53 or more (e.g. {max(values, key=abs)}), "
                         f"which cannot be encoded as numbers exactly: declare it categorical "
                         f"(benchmark.hyperparameters.{name}.type=categorical) or list it in benchmark.ignore")
    return _numeric(name, codes, np.asarray(values, dtype=np.float64), is_integer, spec, rows)


def _categorical(name: str, codes: np.ndarray, values: list[Any], spec: Mapping[str, Any],
                 rows: RowNames) -> tuple[Hyperparameter, np.ndarray, np.ndarray]:
    """A categorical hyperparameter: declared choices (their order kept), else the sorted values."""
    choices = spec.get("choices")
    if choices is None:
        choices = sorted_if_possible(values)
    codes = recode(codes, values, choices, f"hyperparameter {name!r}", rows)
    hp = Categorical(name, tuple(choices))
    return hp, codes, np.arange(len(hp.choices), dtype=np.float64)


def _numeric(name: str, codes: np.ndarray, numbers: np.ndarray, is_integer: bool, spec: Mapping[str, Any],
             rows: RowNames) -> tuple[Hyperparameter, np.ndarray, np.ndarray]:
    """An integer or float hyperparameter over the distinct ``numbers``, checked against its spec."""
    if np.any(~np.isfinite(numbers)):
        raise TableError(f"hyperparameter {name!r} has non-finite values "
                         f"({rows(rows_with(codes, ~np.isfinite(numbers)))}); fix or drop those rows")
    fractional = numbers != np.round(numbers)
    if is_integer and np.any(fractional):
        raise TableError(f"hyperparameter {name!r} is declared integer but has fractional values "
                         f"({rows(rows_with(codes, fractional))})")
    lower = float(numbers.min()) if spec.get("lower") is None else float(spec["lower"])
    upper = float(numbers.max()) if spec.get("upper") is None else float(spec["upper"])
    outside = (numbers < lower) | (numbers > upper)
    if np.any(outside):
        raise TableError(f"hyperparameter {name!r}: values outside its declared range [{lower:g}, {upper:g}] "
                         f"({rows(rows_with(codes, outside))}); widen the range or drop those rows")
    log = spec.get("log")
    if log is None:
        log = lower > 0 and upper / lower >= LOG_RATIO
    full = {"name": name, "type": "integer" if is_integer else "float", "lower": lower, "upper": upper,
            "log": bool(log)}
    try:
        hp = hyperparameter_from_dict(full)
    except ValueError as error:
        raise TableError(f"benchmark.hyperparameters.{name}: {error}") from None
    return hp, codes, np.round(numbers) if is_integer else numbers


def is_numeric(array: Any) -> bool:
    """Whether a pyarrow column holds numbers (as numbers, not as text)."""
    return column_kind(array) in ("integer", "float")


def objective_values(array: Any, name: str, rows: RowNames) -> np.ndarray:
    """An objective column as float64 (empty cells: NaN); TableError saying why it is not numeric."""
    kind = column_kind(array)
    if kind in ("integer", "float"):
        return np.asarray(array.to_numpy(), dtype=np.float64)
    import pyarrow as pa

    if pa.types.is_null(array.type):  # every cell empty (a CSV reader cannot tell the type): all failed
        return np.full(len(array), np.nan)
    if kind == "string":
        codes, values = distinct(array)
        for value in values:  # a value that is no number at all makes the clearer message
            if value is None:  # an empty cell: a failed evaluation
                continue
            try:
                float(value)
            except ValueError:
                raise TableError(f"objective column {name!r} is not numeric: {value!r} in "
                                 f"{rows(np.flatnonzero(codes == values.index(value)))}; objectives must be numbers "
                                 "(leave a cell empty for a failed evaluation)") from None
        raise TableError(f"objective column {name!r} holds numbers as text (e.g. {values[0]!r}); store them as numbers")
    raise TableError(f"objective column {name!r} has type {array.type}; objectives must be numbers")


def is_float32(array: Any) -> bool:
    """True if every value of a numeric pyarrow column is exactly a float32."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_float32(array.type) or pa.types.is_float16(array.type):
        return True
    if pa.types.is_integer(array.type):
        bounds = pc.min_max(array).as_py()
        return bounds["min"] is None or max(abs(bounds["min"]), abs(bounds["max"])) <= 2**24
    return False
