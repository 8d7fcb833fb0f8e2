"""The GP runtime: the allocator setting keeps values and is a no-op where it does not apply."""
from __future__ import annotations

import ctypes
import sys

import pytest

from mfbench.searchers.gp import runtime


def test_keep_freed_memory_sets_glibc_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    class FakeLibc:
        def __init__(self) -> None:
            def mallopt(parameter: int, value: int) -> int:
                calls.append((parameter, value))
                return 1
            self.mallopt = mallopt

    runtime.keep_freed_memory.cache_clear()
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibc())
    try:
        assert runtime.keep_freed_memory() is True
        assert calls == [(-3, runtime.MMAP_THRESHOLD_BYTES), (-1, runtime.TRIM_THRESHOLD_BYTES)]
        assert runtime.keep_freed_memory() is True and len(calls) == 2  # once per process
    finally:
        runtime.keep_freed_memory.cache_clear()


def test_keep_freed_memory_is_a_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.keep_freed_memory.cache_clear()
    try:
        monkeypatch.setattr(sys, "platform", "darwin")
        assert runtime.keep_freed_memory() is False
        runtime.keep_freed_memory.cache_clear()
        monkeypatch.setattr(sys, "platform", "linux")

        def no_libc(name: str) -> None:
            raise OSError(f"{name}: cannot open shared object file")
        monkeypatch.setattr(ctypes, "CDLL", no_libc)
        assert runtime.keep_freed_memory() is False
    finally:
        runtime.keep_freed_memory.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_on_this_machine() -> None:
    runtime.keep_freed_memory.cache_clear()
    assert isinstance(runtime.keep_freed_memory(), bool)  # True with glibc, False with musl


def test_release_freed_memory_calls_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    class FakeLibc:
        def __init__(self) -> None:
            def malloc_trim(pad: int) -> int:
                calls.append(pad)
                return 1
            self.malloc_trim = malloc_trim

    runtime._malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibc())
    try:
        assert runtime.release_freed_memory() is True
        assert runtime.release_freed_memory() is True
        assert calls == [0, 0]  # every call trims; the library is looked up once
    finally:
        runtime._malloc_trim.cache_clear()


def test_release_freed_memory_is_a_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime._malloc_trim.cache_clear()
    try:
        monkeypatch.setattr(sys, "platform", "darwin")
        assert runtime.release_freed_memory() is False
        runtime._malloc_trim.cache_clear()
        monkeypatch.setattr(sys, "platform", "linux")

        def no_libc(name: str) -> None:
            raise OSError(f"{name}: cannot open shared object file")
        monkeypatch.setattr(ctypes, "CDLL", no_libc)
        assert runtime.release_freed_memory() is False
    finally:
        runtime._malloc_trim.cache_clear()

