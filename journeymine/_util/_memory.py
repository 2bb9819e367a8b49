"""How journeymine's readers and discovery ask the operating system for memory.

Both allocators that hold their large arrays mark new memory for transparent
huge pages: pyarrow's default pool (mimalloc, on Linux) its arenas, and NumPy
every array of 4 MB or more. Where the kernel compacts memory to find a huge
page on such a fault (``/sys/kernel/mm/transparent_hugepage/defrag`` =
``madvise``, the default of common distributions) and memory is fragmented
(a long-running, shared machine), each first touch of new memory stalls in
the kernel. Measured on the 2-core development machine (load 7-10): on 1M
events, read + ``discover`` spent 0.79 s of system CPU under mimalloc
against 0.34 s under jemalloc; on 10M, the positional steps 4.6 s of CPU
(3.1 s system) with NumPy's huge pages against 2.8 s (0.9 s) without.

:func:`lean_memory` runs a function with Arrow allocating from jemalloc (or
the system allocator where pyarrow has no jemalloc) and NumPy's huge-page
advice off, and restores both afterwards. A pool the user chose
(``ARROW_DEFAULT_MEMORY_POOL`` or :func:`pyarrow.set_memory_pool`) is kept.
Buffers remember the pool that allocated them, so switching back is safe.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import pyarrow as pa

try:  # NumPy 2
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # NumPy 1.26
    from numpy.core.multiarray import _set_madvise_hugepage

__all__ = ["lean_memory"]

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _lean_pool() -> pa.MemoryPool:
    """jemalloc when pyarrow has it, else the system allocator."""
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return pa.system_memory_pool()


def _replaces(pool: pa.MemoryPool) -> bool:
    """Whether ``pool`` is pyarrow's own mimalloc default (not a pool the user picked)."""
    return pool.backend_name == "mimalloc" and "ARROW_DEFAULT_MEMORY_POOL" not in os.environ


@contextlib.contextmanager
def _arrow_pool() -> Iterator[None]:
    previous = pa.default_memory_pool()
    if not _replaces(previous):
        yield
        return
    pa.set_memory_pool(_lean_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@contextlib.contextmanager
def _no_huge_pages() -> Iterator[None]:
    previous = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(previous)


def lean_memory(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with the allocation settings of the module docstring.

    Examples
    --------
    >>> @lean_memory
    ... def allocate():
    ...     return pa.default_memory_pool().backend_name
    >>> allocate() in ("jemalloc", "system") or "ARROW_DEFAULT_MEMORY_POOL" in os.environ
    True
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _arrow_pool(), _no_huge_pages():
            return func(*args, **kwargs)

    return run
