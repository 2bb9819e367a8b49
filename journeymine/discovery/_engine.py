"""The query engine: Ibis expressions on DuckDB (default) or another Ibis backend."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from journeymine.eventlog._eventlog import EventLog


def connect(n_jobs: int | None = None):
    """A new in-memory Ibis DuckDB backend in UTC on :func:`journeymine._util._duckdb.connect`."""
    import ibis

    from journeymine._util import _duckdb

    return ibis.duckdb.from_connection(_duckdb.connect("UTC", n_jobs))


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

    if log.backend is not None:  # the events already are on a backend (read_spark)
        return log.to_ibis(con)
    if _is_duckdb(con):
        return _register_arrow(con or connect(), f"jm_events_{id(log):x}", log.table)
    # Other backends (PySpark): a temporary view; they reject temp=True tables.
    return con.create_view(f"jm_events_{id(log):x}", ibis.memtable(log.table), overwrite=True)


def journey_steps(log: EventLog, stage_rank: Mapping[str, int], conversion: Collection[str],
                  con=None):
    """The log's steps: one row per event with its successor, stage and flags (Ibis table).

    On DuckDB (the default) they are computed by position on the sorted Arrow
    table (:func:`journeymine.discovery._positional.steps_table`) and scanned in place; on
    other backends they are the Ibis window query :func:`journeymine.discovery._queries.steps`,
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
    return JourneyTables(log, stage_rank, conversion, con, codes=False).steps


class JourneyTables:
    """The steps of a log and, on first access, its journeys (one row per customer).

    Parameters
    ----------
    log, stage_rank, conversion, con
        As for :func:`journey_steps`.
    n_jobs : int, optional
        Threads for DuckDB and the positional steps (default: every core).
    codes : bool, default True
        On DuckDB, store touchpoints and channels of the steps as integer
        codes: aggregations over them run three to four times faster, and
        :meth:`decode` turns the codes in a result back into names.

    Attributes
    ----------
    steps : ibis.Table
        See :func:`journey_steps`.

    Examples
    --------
    >>> import journeymine as jm
    >>> from journeymine.discovery import _queries as q
    >>> tables = JourneyTables(jm.datasets.make_journeys(50, random_state=0), {}, ())
    >>> edges = tables.decode(q.edges(tables.steps).to_pyarrow())
    >>> edges.schema.field("source").type
    DataType(string)
    >>> tables.journeys.count().execute() == 50
    True
    """

    def __init__(self, log: EventLog, stage_rank: Mapping[str, int],
                 conversion: Collection[str], con=None, *, codes: bool = True,
                 n_jobs: int | None = None):
        self._con = con
        self._dictionaries: dict = {}
        if _is_duckdb(con):
            from journeymine.discovery._positional import as_codes, sorted_events, steps_table

            self._con = con or connect(n_jobs)
            self._arrow = steps_table(sorted_events(log.table), stage_rank, conversion,
                                      n_jobs=n_jobs)
            self._key = f"{id(log):x}_{id(self._arrow):x}"
            st = self._arrow
            if codes:
                st, self._dictionaries = as_codes(st)
            self.steps = _register_arrow(self._con, f"jm_steps_{self._key}", st)
        else:
            from journeymine.discovery import _queries as q

            self.steps = q.steps(register(log, con), stage_rank, conversion).cache()
        self._journeys = self._journeys_arrow = None

    def build_journeys(self) -> None:
        """Compute the journeys without touching the engine (on DuckDB; else a no-op).

        Safe while another thread runs queries on the connection, which is
        not thread-safe: :attr:`journeys` then only registers the result.
        """
        if _is_duckdb(self._con) and self._journeys_arrow is None:
            from journeymine.discovery._positional import journeys_table

            self._journeys_arrow = journeys_table(self._arrow)

    @property
    def journeys(self):
        """One row per customer (Ibis table): path, length, times, conversion, furthest stage.

        Built on first access (so a caller can start querying the steps
        first); see :func:`journeymine.discovery._positional.journeys_table`.
        """
        if self._journeys is None:
            if _is_duckdb(self._con):
                self.build_journeys()
                self._journeys = _register_arrow(self._con, f"jm_journeys_{self._key}",
                                                 self._journeys_arrow)
            else:
                from journeymine.discovery import _queries as q

                self._journeys = q.journeys(self.steps).cache()
        return self._journeys

    def prepare(self, expr):
        """Compile ``expr`` now; return a function that runs it (a decoded ``pyarrow.Table``).

        On DuckDB, Ibis compiles the SQL in the calling thread and DuckDB runs
        it when the function is called, so a worker thread can run one query
        while the next one compiles; the result is cast to the expression's
        schema, as Ibis does (DuckDB sums come back as 128-bit decimals).
        """
        if not _is_duckdb(self._con):
            return lambda: self.decode(expr.to_pyarrow())
        from journeymine.eventlog._validate import to_arrow

        sql = self._con.compile(expr)
        schema = expr.schema().to_pyarrow()
        return lambda: self.decode(to_arrow(self._con.con.sql(sql)).cast(schema))

    def decode(self, table):
        """``table`` (a query result, pyarrow) with touchpoint and channel codes as names.

        Columns are matched through :data:`journeymine.discovery._queries.OUTPUT_SOURCES`;
        a result without codes is returned unchanged.
        """
        import pyarrow as pa

        from journeymine.discovery._queries import OUTPUT_SOURCES

        for i, field in enumerate(table.schema):
            names = self._dictionaries.get(OUTPUT_SOURCES.get(field.name))
            if names is not None and pa.types.is_integer(field.type):
                table = table.set_column(i, field.name, names.take(table.column(i)))
        return table


def _is_duckdb(con) -> bool:
    return con is None or con.name == "duckdb"


def _register_arrow(con, name: str, table):
    """Let DuckDB scan an Arrow table in place (zero-copy) and return it as an Ibis table."""
    con.con.register(name, table)
    return con.table(name)
