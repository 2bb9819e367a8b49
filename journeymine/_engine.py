"""The query engine: Ibis expressions on DuckDB (default) or another Ibis backend."""

from __future__ import annotations

from collections.abc import Collection, Mapping
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

    if _is_duckdb(con):
        return _register_arrow(con or connect(), f"jm_events_{id(log):x}", log.table)
    # Other backends (PySpark): a temporary view; they reject temp=True tables.
    return con.create_view(f"jm_events_{id(log):x}", ibis.memtable(log.table), overwrite=True)


def journey_steps(log: EventLog, stage_rank: Mapping[str, int], conversion: Collection[str],
                  con=None):
    """The log's steps: one row per event with its successor, stage and flags (Ibis table).

    On DuckDB (the default) they are computed by position on the sorted Arrow
    table (:func:`journeymine._positional.steps_table`) and scanned in place; on
    other backends they are the Ibis window query :func:`journeymine._queries.steps`,
    cached. Both give the same rows (tested).

    Parameters
    ----------
    log : EventLog
    stage_rank : mapping of str to int
        Touchpoint to stage position.
    conversion : collection of str
        Converting touchpoints.
    con : ibis backend, optional
        A new DuckDB backend by default.

    Returns
    -------
    ibis.Table
    """
    return journey_tables(log, stage_rank, conversion, con, journeys=False)[0]


def journey_tables(log: EventLog, stage_rank: Mapping[str, int], conversion: Collection[str],
                   con=None, *, journeys: bool = True):
    """The log's steps (see :func:`journey_steps`) and journeys (one row per customer).

    Returns
    -------
    tuple of ibis.Table
        ``(steps, journeys)``; ``journeys`` is ``None`` when not asked for.
    """
    steps, jr, _ = coded_journey_tables(log, stage_rank, conversion, con, journeys=journeys,
                                        codes=False)
    return steps, jr


def coded_journey_tables(log: EventLog, stage_rank: Mapping[str, int],
                         conversion: Collection[str], con=None, *, journeys: bool = True,
                         codes: bool = True):
    """Like :func:`journey_tables`, with touchpoints and channels as integer codes on DuckDB.

    Aggregations over codes run three to four times faster; ``decode``
    turns the codes in a query result back into names.

    Returns
    -------
    tuple
        ``(steps, journeys, decode)``: two Ibis tables (``journeys`` is
        ``None`` when not asked for) and a function from a result
        ``pyarrow.Table`` to the same table with names (see
        :data:`journeymine._queries.OUTPUT_SOURCES`); it returns tables
        without codes unchanged.
    """
    if _is_duckdb(con):
        from journeymine._positional import as_codes, journeys_table, sorted_events, steps_table

        con = con or connect()
        st = steps_table(sorted_events(log.table), stage_rank, conversion)
        key = f"{id(log):x}_{id(st):x}"
        jr = _register_arrow(con, f"jm_journeys_{key}", journeys_table(st)) if journeys else None
        st, dictionaries = as_codes(st) if codes else (st, {})
        return _register_arrow(con, f"jm_steps_{key}", st), jr, _decoder(dictionaries)
    from journeymine import _queries as q

    st = q.steps(register(log, con), stage_rank, conversion).cache()
    return st, q.journeys(st).cache() if journeys else None, _decoder({})


def _decoder(dictionaries):
    """A function naming the coded columns of a query result (identity without codes)."""
    import pyarrow as pa

    from journeymine._queries import OUTPUT_SOURCES

    def decode(table: pa.Table) -> pa.Table:
        for i, field in enumerate(table.schema):
            names = dictionaries.get(OUTPUT_SOURCES.get(field.name))
            if names is not None and pa.types.is_integer(field.type):
                table = table.set_column(i, field.name, names.take(table.column(i)))
        return table

    return decode


def _is_duckdb(con) -> bool:
    return con is None or con.name == "duckdb"


def _register_arrow(con, name: str, table):
    """Let DuckDB scan an Arrow table in place (zero-copy) and return it as an Ibis table."""
    con.con.register(name, table)
    return con.table(name)
