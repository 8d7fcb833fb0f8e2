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

The modules, in the order a read goes through them: :mod:`~.files` (format, header,
columns), :mod:`~.columns` (one column as codes into its distinct values),
:mod:`~.inference` (hyperparameter types and ranges, numeric objectives), :mod:`~.curves`
(duplicates, gaps, fidelity order), :mod:`~.elapsed_time` (the simulator's clock), all
driven by :mod:`~.reader`; :mod:`~.spec` holds the types and :mod:`~.messages` how errors
name rows and configurations.
"""
from mfbench.blackbox.long_table.files import (COMPRESSION_SUFFIXES, CSV_SUFFIXES, PARQUET_SUFFIXES, read_columns,
                                               read_header, table_format)
from mfbench.blackbox.long_table.inference import LOG_RATIO
from mfbench.blackbox.long_table.messages import SHOWN
from mfbench.blackbox.long_table.reader import read_long_table
from mfbench.blackbox.long_table.spec import LongTable, LongTableSpec, TableError

__all__ = ["COMPRESSION_SUFFIXES", "CSV_SUFFIXES", "LOG_RATIO", "PARQUET_SUFFIXES", "SHOWN", "LongTable",
           "LongTableSpec", "TableError", "read_columns", "read_header", "read_long_table", "table_format"]
