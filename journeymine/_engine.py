"""The query engine: Ibis expressions on DuckDB (default) or another Ibis backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from journeymine._eventlog import EventLog


def connect():
    """A new in-memory Ibis DuckDB backend with the session time zone set to UTC."""
    import ibis

    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    return con


def register(log: EventLog, con=None):
    """Make the log's events available as an Ibis table on ``con``.

    Parameters
    ----------
    log : EventLog
        The events.
    con : ibis backend, optional
        Where to run queries; a new DuckDB backend by default. Any Ibis
        backend that can create a table from Arrow (DuckDB, PySpark) works.

    Returns
    -------
    ibis.Table
    """
    import ibis

    if con is None or con.name == "duckdb":
        con = con or connect()
        # Zero-copy: DuckDB scans the Arrow table in place.
        con.con.register(f"jm_events_{id(log):x}", log.table)
        return con.table(f"jm_events_{id(log):x}")
    # Other backends (PySpark): a temporary view; they reject temp=True tables.
    return con.create_view(f"jm_events_{id(log):x}", ibis.memtable(log.table), overwrite=True)
