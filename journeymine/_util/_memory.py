"""The Arrow memory pool journeymine's readers and discovery allocate from.

pyarrow's default pool on Linux is mimalloc, whose arenas are marked for
transparent huge pages. Where the kernel compacts memory on faults in such
regions (``/sys/kernel/mm/transparent_hugepage/defrag`` = ``madvise``, the
default of common distributions), every first touch of new memory and every
give-back of freed memory costs kernel time: on the 1M-event benchmark
``discover`` spent 0.6-1.4 s of system CPU under mimalloc against 0.1-0.4 s
under jemalloc, with the same user CPU. :func:`arrow_pool` switches to
jemalloc (or the system allocator where pyarrow has no jemalloc) while a
function runs, unless the user chose a pool (``ARROW_DEFAULT_MEMORY_POOL``
or :func:`pyarrow.set_memory_pool`). Buffers remember the pool that
allocated them, so switching back is safe.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import pyarrow as pa

__all__ = ["arrow_pool"]

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


def arrow_pool(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with Arrow allocating from :func:`_lean_pool` (see the module docstring).

    Examples
    --------
    >>> @arrow_pool
    ... def allocate():
    ...     return pa.default_memory_pool().backend_name
    >>> allocate() in ("jemalloc", "system") or "ARROW_DEFAULT_MEMORY_POOL" in os.environ
    True
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        previous = pa.default_memory_pool()
        if not _replaces(previous):
            return func(*args, **kwargs)
        pa.set_memory_pool(_lean_pool())
        try:
            return func(*args, **kwargs)
        finally:
            pa.set_memory_pool(previous)

    return run
