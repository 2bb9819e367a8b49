"""The one way journeymine opens DuckDB, and the ``n_jobs`` every threaded step takes."""

from __future__ import annotations

import contextlib
import os
from numbers import Integral

import duckdb

from journeymine._util._config import get_config
from journeymine.exceptions import InvalidParameterError

__all__ = ["check_tz", "connect", "resolve_n_jobs"]


def resolve_n_jobs(n_jobs: int | None) -> int:
    """The number of threads for ``n_jobs``: ``None`` or ``-1`` = every core (DuckDB's default).

    Examples
    --------
    >>> resolve_n_jobs(2)
    2
    >>> resolve_n_jobs(None) == (os.cpu_count() or 1)
    True
    """
    cores = os.cpu_count() or 1
    if n_jobs is None or (isinstance(n_jobs, Integral) and not isinstance(n_jobs, bool)
                          and n_jobs == -1):
        return cores
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs < 1:
        raise InvalidParameterError(
            f"n_jobs must be a positive whole number, -1 or None, got {n_jobs!r}.",
            expected="a whole number of threads (1, 2, ...), or -1/None for every core.",
            fix="pass n_jobs=1 for one thread, or leave it out to use every core.",
        )
    return int(n_jobs)


def check_tz(tz: object) -> None:
    """Raise InvalidParameterError unless ``tz`` is None or a string."""
    if tz is not None and not isinstance(tz, str):
        raise InvalidParameterError(
            f"tz must be a time zone name, got {type(tz).__name__} {tz!r}.",
            expected="an IANA time zone name such as 'Asia/Jakarta' or 'UTC' (a string), "
            "or None for UTC.",
            fix="Pass tz='Asia/Jakarta' (WIB, UTC+7), 'Asia/Makassar' (WITA) or "
            "'Asia/Jayapura' (WIT), not an hour offset.",
        )


def connect(tz: str | None = None, n_jobs: int | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection in time zone ``tz`` (UTC by default).

    The memory limit and spill directory of :func:`journeymine.set_config`
    apply to it.

    Parameters
    ----------
    tz : str, optional
        Session time zone (an IANA name); naive timestamps are read in it.
    n_jobs : int, optional
        Threads DuckDB may use (see :func:`resolve_n_jobs`).

    Raises
    ------
    InvalidParameterError
        ``tz`` is not a time zone name DuckDB knows, or ``n_jobs`` is invalid.

    Examples
    --------
    >>> connect("Asia/Jakarta", n_jobs=1).execute("SELECT current_setting('threads')").fetchone()
    (1,)
    """
    check_tz(tz)
    threads = resolve_n_jobs(n_jobs)
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    # Library code prints nothing; in Jupyter without ipywidgets DuckDB refuses
    # to change this setting at all (it then has no bar to show either).
    with contextlib.suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")
    try:
        con.execute("SET TimeZone = $1", [tz or "UTC"])
    except duckdb.Error as exc:
        con.close()
        raise InvalidParameterError(
            f"Unknown time zone {tz!r}.",
            expected="an IANA time zone name such as 'Asia/Jakarta' or 'UTC'.",
            fix="Pass tz='Asia/Jakarta' (WIB), 'Asia/Makassar' (WITA) or 'Asia/Jayapura' (WIT).",
        ) from exc
    settings = get_config()
    for name in ("memory_limit", "temp_directory"):
        if settings[name] is not None:
            con.execute(f"SET {name} = $1", [settings[name]])
    return con
