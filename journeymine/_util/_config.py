"""Process-wide settings of the DuckDB engine: memory limit and spill directory.

Like scikit-learn's ``set_config``/``get_config``/``config_context``: one
dictionary of settings, read by :func:`journeymine._util._duckdb.connect`
each time journeymine opens DuckDB (readers, validation, discovery), so a
setting holds for everything that runs after it. DuckDB keeps its own working
memory (hash tables, sorts, CSV buffers) under ``memory_limit`` and spills the
rest to ``temp_directory``; the Arrow tables an :class:`~journeymine.EventLog`
holds live outside that limit (see the README's "Large logs").
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

from journeymine.exceptions import InvalidParameterError

__all__ = ["config_context", "get_config", "set_config"]

_CONFIG: dict[str, Any] = {"memory_limit": None, "temp_directory": None}

#: What DuckDB's ``memory_limit`` accepts: a number and a unit (1000- or 1024-based).
_MEMORY = re.compile(r"\d+(\.\d+)?\s*[KMGT]i?B", re.IGNORECASE)


def _check_memory_limit(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and _MEMORY.fullmatch(value.strip())):
        return value and value.strip()
    raise InvalidParameterError(
        f"memory_limit={value!r} is not an amount of memory.",
        expected="a string with a unit: KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, "
        "TiB (powers of 1024), e.g. '2GB'; or None for DuckDB's default (80% of RAM).",
        fix="Pass e.g. memory_limit='2GB'.",
    )


def _check_temp_directory(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | PathLike):
        raise InvalidParameterError(
            f"temp_directory must be a path, got {type(value).__name__} {value!r}.",
            expected="a directory path (created when DuckDB first spills), or None for "
            "DuckDB's default ('.tmp' beside a database file; none in memory).",
            fix="Pass e.g. temp_directory='/scratch/duckdb'.",
        )
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise InvalidParameterError(
            f"temp_directory={os.fspath(value)!r} is a file, not a directory.",
            expected="a directory DuckDB can write spill files into.",
            fix="Pass a directory path (it is created if missing).",
        )
    return str(path)


def get_config() -> dict[str, Any]:
    """The current settings, as a new dictionary.

    Examples
    --------
    >>> import journeymine as jm
    >>> jm.get_config()
    {'memory_limit': None, 'temp_directory': None}
    """
    return dict(_CONFIG)


def set_config(*, memory_limit: str | None = ..., temp_directory: str | PathLike | None = ...
               ) -> None:
    """Set how journeymine's DuckDB connections may use memory and disk.

    Settings left out keep their value; ``None`` restores DuckDB's default.
    They apply to every DuckDB connection opened afterwards (one per read
    and per ``discover``).

    Parameters
    ----------
    memory_limit : str or None
        DuckDB's working-memory limit, e.g. ``"2GB"`` or ``"512MiB"``.
        Joins, aggregations, sorts and the CSV reader spill to
        ``temp_directory`` beyond it instead of failing.
    temp_directory : str, path-like or None
        Where DuckDB writes spill files; created when first needed. Put it on
        a disk with room for about the size of the log.

    Raises
    ------
    InvalidParameterError
        ``memory_limit`` has no unit or is not a number; ``temp_directory``
        is not a path or is an existing file.

    Examples
    --------
    >>> import journeymine as jm
    >>> jm.set_config(memory_limit="2GB")
    >>> jm.get_config()["memory_limit"]
    '2GB'
    >>> jm.set_config(memory_limit=None)  # back to DuckDB's default
    """
    updates = {}
    if memory_limit is not ...:
        updates["memory_limit"] = _check_memory_limit(memory_limit)
    if temp_directory is not ...:
        updates["temp_directory"] = _check_temp_directory(temp_directory)
    _CONFIG.update(updates)


@contextlib.contextmanager
def config_context(*, memory_limit: str | None = ...,
                   temp_directory: str | PathLike | None = ...) -> Iterator[None]:
    """Settings of :func:`set_config` for the duration of a ``with`` block.

    Examples
    --------
    >>> import journeymine as jm
    >>> with jm.config_context(memory_limit="1GB", temp_directory="/tmp/jm-spill"):
    ...     jm.get_config()["memory_limit"]
    '1GB'
    >>> jm.get_config()["memory_limit"] is None
    True
    """
    before = get_config()
    set_config(memory_limit=memory_limit, temp_directory=temp_directory)
    try:
        yield
    finally:
        _CONFIG.update(before)
