"""Result columns as an Arrow table, built without importing pandas.

``pyarrow.array`` asks its pandas shim whether each input is a pandas object, and the first
question imports pandas: ~0.2 s, a fifth of a short run's process, spent on a library the run
never uses. The columns of a run are simple (``int64`` and ``float64`` numpy arrays, lists of
strings, integers or floats, see :class:`mfbench.results.recorder.ResultRecorder`), so they are
handed to Arrow as buffers; any other column goes through ``pyarrow.array`` as before. The
types, values and therefore the written files are the same as ``pyarrow.table(columns)``'s.
In a process that has imported pandas already (a sweep's job process writes hundreds of runs)
there is nothing to save, and ``pyarrow.table``'s C conversion of the string columns is faster
than encoding them here (7 against 10 ms per run of 4,000 results): it is used.
"""
from __future__ import annotations

import sys
from typing import Any, Mapping

import numpy as np

#: numpy dtypes handed to Arrow as one data buffer (no nulls: NaN stays a value, as pyarrow.array keeps it)
_BUFFER_DTYPES = (np.dtype(np.int64), np.dtype(np.float64))
#: Arrow's ``string`` type has int32 offsets: longer columns go through pyarrow.array
_MAX_STRING_BYTES = 2**31 - 1


def arrow_table(columns: Mapping[str, Any]) -> Any:
    """``pyarrow.table(columns)``, each column a 1-d numpy array or a list."""
    import pyarrow as pa

    if "pandas" in sys.modules:
        return pa.table(dict(columns))
    return pa.Table.from_arrays([arrow_array(values) for values in columns.values()], names=list(columns))


def arrow_array(values: Any) -> Any:
    """One column as a ``pyarrow.Array``, of the type ``pyarrow.array(values)`` infers.

    Buffers for ``int64`` / ``float64`` arrays and for lists whose items are all strings, all
    ``int`` / ``np.int64`` or all ``float`` / ``np.float64``; ``pyarrow.array`` for anything
    else (booleans, ``None``, mixed types, numpy scalars of other widths, masked arrays).
    """
    import pyarrow as pa

    if isinstance(values, np.ndarray):
        if values.ndim == 1 and values.dtype in _BUFFER_DTYPES and not isinstance(values, np.ma.MaskedArray):
            return _numeric(values)
        return pa.array(values)
    items = list(values)
    kinds = {type(v) for v in items}
    if items and kinds <= {str, np.str_}:
        return _strings(items)
    # exactly these types: pyarrow keeps a numpy scalar's width (np.int32 -> int32), bool is not an int
    if items and kinds <= {int, np.int64}:
        try:
            return _numeric(np.array(items, dtype=np.int64))
        except OverflowError:  # beyond int64: pyarrow decides (and refuses) as before
            return pa.array(items)
    if items and kinds <= {float, np.float64}:
        return _numeric(np.array(items, dtype=np.float64))
    return pa.array(items)


def _numeric(values: np.ndarray) -> Any:
    import pyarrow as pa

    data = np.ascontiguousarray(values)
    arrow_type = pa.int64() if data.dtype == np.int64 else pa.float64()
    return pa.Array.from_buffers(arrow_type, len(data), [None, pa.py_buffer(data)])


def _strings(items: list[str]) -> Any:
    import pyarrow as pa

    encoded = [str(item).encode("utf-8") for item in items]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    if offsets[-1] > _MAX_STRING_BYTES:
        return pa.array(items)
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(b"".join(encoded))])
