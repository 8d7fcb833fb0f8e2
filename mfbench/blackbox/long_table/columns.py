"""Vectorised work on one pyarrow column: its kind, empty cells, distinct values as codes.

Every column is turned into per-row integer codes into its distinct values (hashing, no
sort), so checks and lookups work on numpy integer arrays whatever the column's type, and a
table of millions of rows is handled in seconds.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from mfbench.blackbox.long_table.messages import SHOWN, RowNames
from mfbench.blackbox.long_table.spec import TableError


def column_kind(array: Any) -> str:
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


def check_no_nulls(array: Any, name: str, role: str, rows: RowNames) -> None:
    """TableError naming the rows where column ``name`` (the ``role`` column) has empty cells."""
    if array.null_count:
        import pyarrow.compute as pc

        where = np.flatnonzero(pc.is_null(array).to_numpy())
        raise TableError(f"{role} column {name!r} has {array.null_count} empty value(s) ({rows(where)}); "
                         f"every row needs a {role} value: fill them in or drop those rows (in a CSV file the texts "
                         f"NA, N/A, NULL, null, NaN and nan are empty cells too: if one of them is a value, write "
                         f"the table as parquet)")


def distinct(array: Any) -> tuple[np.ndarray, list[Any]]:
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


def first_rows(codes: np.ndarray) -> np.ndarray:
    """For codes numbered in order of first appearance: the row where each code first appears."""
    running = np.maximum.accumulate(codes)
    new = np.empty(len(codes), dtype=bool)
    new[0] = True
    new[1:] = running[1:] > running[:-1]
    return np.flatnonzero(new)


def recode(codes: np.ndarray, values: Sequence[Any], order: Sequence[Any], what: str, rows: RowNames) -> np.ndarray:
    """Codes into ``values`` -> codes into ``order`` (TableError naming values absent from ``order``)."""
    position = {v: i for i, v in enumerate(order)}
    unknown = [v for v in values if v not in position]
    if unknown:
        where = np.flatnonzero(np.isin(codes, [values.index(v) for v in unknown]))
        raise TableError(f"{what}: value(s) {unknown[:SHOWN]} ({rows(where)}) are not among its declared choices "
                         f"{list(order)}; add them to the choices or drop those rows")
    return np.array([position[v] for v in values], dtype=np.int64)[codes]


def sorted_if_possible(values: Sequence[Any]) -> list[Any]:
    """``values`` sorted, or in their given order when they do not compare (mixed types)."""
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def rows_with(codes: np.ndarray, bad: Sequence[bool] | np.ndarray) -> np.ndarray:
    """The rows whose code is one of the distinct values flagged in ``bad``."""
    return np.flatnonzero(np.isin(codes, np.flatnonzero(np.asarray(bad, dtype=bool))))
