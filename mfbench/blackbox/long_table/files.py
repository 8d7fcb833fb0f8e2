"""Reading a table file: its format from the name, its header, the columns it is asked for.

pyarrow is imported inside the functions: importing mfbench stays fast for the runs that
never read a table.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

from mfbench.blackbox.long_table.spec import TableError

#: file suffixes read as parquet / as delimited text
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".lz4")


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


def existing_file(path: str | os.PathLike[str]) -> Path:
    """``path`` expanded, if it is a file (FileNotFoundError saying where relative paths start otherwise)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"benchmark.path: the table {path} does not exist"
                                + (" (relative paths are taken from the current directory "
                                   f"{Path.cwd()})" if not path.is_absolute() else ""))
    return path


def read_header(path: str | os.PathLike[str]) -> list[str]:
    """Column names of a table, without reading its rows."""
    path = existing_file(path)
    if path.stat().st_size == 0:
        raise TableError(f"{path} is an empty file (an empty table): there is nothing to simulate")
    with _unreadable_as_table_error(path):
        if table_format(path) == "parquet":
            import pyarrow.parquet as pq

            names = list(pq.read_schema(path).names)
        else:
            import pyarrow.csv as pcsv

            reader = pcsv.open_csv(path, parse_options=_csv_options(path),
                                   read_options=pcsv.ReadOptions(block_size=1 << 20))
            names = list(reader.schema.names)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # a column is then read by its name, and the first of them would stand for all
        raise TableError(f"{path}: the column name(s) {repeated} appear more than once in the header; give every "
                         f"column its own name")
    return names


def read_columns(path: str | os.PathLike[str], columns: Sequence[str]) -> Any:
    """The given columns of a table as a ``pyarrow.Table`` (parquet strings stay dictionary-encoded)."""
    path = existing_file(path)
    with _unreadable_as_table_error(path):
        if table_format(path) == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
            # dictionary-encoded strings are read once per distinct value, not once per row
            strings = [c for c in columns if pa.types.is_string(schema.field(c).type)
                       or pa.types.is_large_string(schema.field(c).type)]
            return pq.ParquetFile(path, read_dictionary=strings).read(columns=list(columns))
        import pyarrow.csv as pcsv

        convert = pcsv.ConvertOptions(include_columns=list(columns), strings_can_be_null=True)
        return pcsv.read_csv(path, parse_options=_csv_options(path), convert_options=convert)


@contextlib.contextmanager
def _unreadable_as_table_error(path: Path) -> Iterator[None]:
    """pyarrow's and the OS's errors as one TableError line naming the file."""
    try:
        yield
    except (OSError, ValueError) as error:  # pyarrow.ArrowInvalid is a ValueError
        if isinstance(error, TableError):
            raise
        raise TableError(f"{path}: cannot read the table ({str(error).splitlines()[0]})") from None


def _csv_options(path: Path) -> Any:
    """Tab-separated for ``.tsv`` files (also compressed), comma-separated otherwise."""
    import pyarrow.csv as pcsv

    tab = ".tsv" in [s.lower() for s in path.suffixes]
    return pcsv.ParseOptions(delimiter="\t" if tab else ",")
