"""The GP runtime: the allocator settings keep values and are no-ops where they do not apply."""
from __future__ import annotations

import ctypes
import sys
from typing import Any, Callable

import pytest

from mfbench.searchers.gp import runtime


class FakeLibc:
    """Stands for glibc: records the calls of ``mallopt`` and ``malloc_trim`` (plain functions,
    as ctypes gives them: the code under test sets their ``argtypes``)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

        def mallopt(parameter: int, value: int) -> int:
            self.calls.append(("mallopt", parameter, value))
            return 1

        def malloc_trim(pad: int) -> int:
            self.calls.append(("malloc_trim", pad))
            return 1

        self.mallopt, self.malloc_trim = mallopt, malloc_trim


#: each allocator function, with the cache to clear so that it looks up the library again
ALLOCATOR_FUNCTIONS: list[tuple[Callable[[], bool], Callable[[], None]]] = [
    (runtime.keep_freed_memory, runtime.keep_freed_memory.cache_clear),
    (runtime.release_freed_memory, runtime._malloc_trim.cache_clear),
]


@pytest.fixture
def fake_glibc(monkeypatch: pytest.MonkeyPatch):
    libc = FakeLibc()
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    for _, clear in ALLOCATOR_FUNCTIONS:
        clear()
    yield libc
    for _, clear in ALLOCATOR_FUNCTIONS:
        clear()


def test_keep_freed_memory_sets_glibc_thresholds(fake_glibc: FakeLibc) -> None:
    assert runtime.keep_freed_memory() is True
    assert fake_glibc.calls == [("mallopt", -3, runtime.MMAP_THRESHOLD_BYTES),
                                ("mallopt", -1, runtime.TRIM_THRESHOLD_BYTES)]
    assert runtime.keep_freed_memory() is True and len(fake_glibc.calls) == 2  # once per process


def test_release_freed_memory_trims_at_every_call(fake_glibc: FakeLibc) -> None:
    assert runtime.release_freed_memory() is True
    assert runtime.release_freed_memory() is True
    assert fake_glibc.calls == [("malloc_trim", 0), ("malloc_trim", 0)]


@pytest.mark.parametrize("function, clear", ALLOCATOR_FUNCTIONS, ids=["keep", "release"])
def test_allocator_functions_are_no_ops_without_glibc(function, clear, monkeypatch: pytest.MonkeyPatch) -> None:
    clear()
    try:
        monkeypatch.setattr(sys, "platform", "darwin")
        assert function() is False
        clear()
        monkeypatch.setattr(sys, "platform", "linux")

        def no_libc(name: str) -> None:
            raise OSError(f"{name}: cannot open shared object file")
        monkeypatch.setattr(ctypes, "CDLL", no_libc)
        assert function() is False
    finally:
        clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and malloc_trim")
@pytest.mark.parametrize("function, clear", ALLOCATOR_FUNCTIONS, ids=["keep", "release"])
def test_allocator_functions_on_this_machine(function, clear) -> None:
    clear()
    assert isinstance(function(), bool)  # glibc: True for mallopt, True or False for malloc_trim; musl: False
