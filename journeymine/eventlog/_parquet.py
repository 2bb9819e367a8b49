"""Parquet reader: a file, a directory of files (hive partitions) or a glob, via DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from journeymine._util._duckdb import connect
from journeymine._util._memory import lean_memory
from journeymine.eventlog._eventlog import EventLog
from journeymine.eventlog._files import (
    PathType,
    _empty_error,
    _has_glob,
    _missing_error,
    _not_regular_error,
)
from journeymine.eventlog._schema import Schema, _split_schema
from journeymine.eventlog._validate import duckdb_literal, stream_to_arrow
from journeymine.exceptions import ReadError

__all__ = ["read_parquet", "read_parquet_table"]


def read_parquet_table(path_str: str) -> pa.Table:
    """Read a Parquet file, a directory of ``.parquet`` files or a glob into Arrow (DuckDB).

    Streamed in batches of a million rows: the peak memory is about the
    table itself.

    Raises
    ------
    ReadError
        Nothing is there, it is not a regular file (``/dev/null``, a pipe),
        or it is not Parquet.
    """
    target = path_str
    if not _has_glob(path_str):
        p = Path(path_str)
        if p.is_dir():
            target = str(p / "**" / "*.parquet")
        elif not p.exists():
            raise _missing_error(path_str, "Parquet")
        elif not p.is_file():
            raise _not_regular_error(path_str, "a .parquet file or a directory of them")
    con = connect()
    try:
        return stream_to_arrow(con.sql(f"SELECT * FROM read_parquet({duckdb_literal(target)})"))
    except (duckdb.Error, OSError) as exc:
        message = str(exc)
        if "No files found" in message:
            raise ReadError(
                f"No Parquet files found at {path_str!r}.",
                expected="a .parquet file, a directory holding .parquet files, or a glob.",
                fix="Check the path; files in a directory must end with .parquet.",
            ) from None
        raise ReadError(
            f"Could not read {path_str!r} as Parquet: {message.splitlines()[0]}",
            expected="Apache Parquet file(s).",
            fix="Check that the file is Parquet (or read a CSV file instead).",
        ) from None
    finally:
        con.close()


@lean_memory
def read_parquet(path: PathType, schema: Schema | None = None, **kwargs: Any) -> EventLog:
    """Read Parquet file(s) into an :class:`EventLog`.

    Parameters
    ----------
    path : str or path-like
        A Parquet file, a directory of Parquet files (read recursively, with
        hive partitions such as ``date=2024-05-01/`` as columns), or a glob
        such as ``"events/*.parquet"``.
    schema : Schema, optional
        Column roles; columns not named are detected from common names.
    **kwargs
        Passed to :meth:`EventLog.from_arrow` (``customer=...``, ``tz=...``...).

    Returns
    -------
    EventLog

    Raises
    ------
    ReadError
        Nothing exists at ``path``, it is not a regular file (``/dev/null``, a
        pipe), or it is not Parquet.
    EmptyLogError
        The files hold no rows.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from journeymine.eventlog import read_parquet
    >>> path = os.path.join(tempfile.mkdtemp(), "events.parquet")
    >>> pd.DataFrame({
    ...     "user_id": ["u1", "u1", "u2"],
    ...     "event": ["search", "checkout", "search"],
    ...     "timestamp": pd.to_datetime(["2024-05-01 10:00", "2024-05-01 10:09",
    ...                                  "2024-05-03 08:00"]),
    ... }).to_parquet(path)
    >>> read_parquet(path)
    EventLog(3 events, 2 customers, 2 touchpoints, 2024-05-01 → 2024-05-03)
    """
    path_str = str(path)
    wanted = _split_schema(schema, kwargs)
    kwargs.setdefault("source", path_str)
    table = read_parquet_table(path_str)
    if table.num_rows == 0:
        raise _empty_error(path_str, "holds no rows")
    return EventLog.from_arrow(table, wanted, **kwargs)
