"""The query engines: hand-written SQL on DuckDB (default), Ibis expressions on other backends.

:func:`discover` asks an engine from :func:`journey_engine` for named queries
(``"edges"``, ``"variants"``, ...; see
:data:`journeymine.discovery._duckdb_queries.QUERIES`) and gets Arrow tables
with touchpoint and channel names. :class:`DuckDBJourneys` runs them as SQL
on the positional steps and never imports Ibis; :class:`IbisJourneys` runs
the portable Ibis definitions (Spark). :class:`JourneyTables` gives the steps
and journeys as Ibis tables to code that builds its own Ibis queries
(personas).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING

from journeymine._util._memory import lean_memory
from journeymine.eventlog._schema import ACTIVITY, CHANNEL, CUSTOMER

if TYPE_CHECKING:
    import pyarrow as pa

    from journeymine.discovery._grains import Journeys
    from journeymine.eventlog._eventlog import EventLog

#: Output columns of the queries that hold a steps column's values, by that column.
#: An engine that stores touchpoints and channels as integer codes decodes them with it.
OUTPUT_SOURCES = {
    "source": ACTIVITY, "target": "next_activity", "touchpoint": ACTIVITY,
    "partner": "next_activity", "from_channel": CHANNEL, "to_channel": "next_channel",
}


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
            events = sorted_events(log.table)
            self._arrow = steps_table(events, stage_rank, conversion, n_jobs=n_jobs,
                                      encoded=log._encoded_columns(events))
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

        Columns are matched through :data:`OUTPUT_SOURCES`;
        a result without codes is returned unchanged.
        """
        return _decode(table, self._dictionaries)


def _decode(table: pa.Table, dictionaries: Mapping[str, pa.Array]) -> pa.Table:
    """``table`` with the integer columns named in :data:`OUTPUT_SOURCES` decoded."""
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        names = dictionaries.get(OUTPUT_SOURCES.get(field.name))
        if names is not None and pa.types.is_integer(field.type):
            table = table.set_column(i, field.name, names.take(table.column(i)))
    return table


def _is_duckdb(con) -> bool:
    return con is None or con.name == "duckdb"


def _register_arrow(con, name: str, table):
    """Let DuckDB scan an Arrow table in place (zero-copy) and return it as an Ibis table."""
    con.con.register(name, table)
    return con.table(name)


def journey_engine(log: EventLog, stage_rank: Mapping[str, int], conversion: Collection[str],
                   con=None, *, journeys: Journeys | None = None,
                   n_jobs: int | None = None) -> DuckDBJourneys | IbisJourneys:
    """The engine :func:`discover` runs its queries on: SQL on DuckDB, else Ibis on ``con``.

    Parameters
    ----------
    log, stage_rank, conversion
        As for :func:`journey_steps` (``log`` holds one run of rows per journey).
    con : ibis backend or duckdb connection, optional
        A new DuckDB connection by default; an Ibis DuckDB backend is used
        through its connection.
    journeys : Journeys, optional
        The grain's journeys: their returns and censored ids become tables
        of the ``"returns"`` and ``"dropoffs"`` queries.
    n_jobs : int, optional
        Threads (every core by default).
    """
    if _is_duckdb(con):
        return DuckDBJourneys(log, stage_rank, conversion, con, journeys=journeys, n_jobs=n_jobs)
    return IbisJourneys(log, stage_rank, conversion, con, journeys=journeys)


def grain_tables(journeys: Journeys | None) -> dict[str, pa.Table]:
    """The tables a grain adds to the queries, as Arrow: ``"returns"`` and ``"censored"``.

    ``"returns"`` holds the gaps between a customer's journeys (not at
    customer grain); ``"censored"`` the ids of journeys cut by the end of
    the data window (when there are any), which drop-offs leave out.
    """
    import pyarrow as pa

    if journeys is None:
        return {}
    out = {}
    if journeys.grain != "customer":
        out["returns"] = journeys.boundaries
    censored = journeys.censored_ids()
    if len(censored):
        out["censored"] = pa.table({CUSTOMER: censored})
    return out


class DuckDBJourneys:
    """Steps and journeys as Arrow tables DuckDB scans in place, queried in SQL (no Ibis).

    The steps are :func:`~journeymine.discovery._positional.steps_table`
    with integer codes and the columns ``journey`` and ``first_open_switch``
    (with channels); the journeys are
    :func:`~journeymine.discovery._positional.journey_codes`, built on first
    use (:meth:`build_journeys`). Queries are
    :data:`journeymine.discovery._duckdb_queries.QUERIES`.

    Parameters
    ----------
    log, stage_rank, conversion, con, journeys, n_jobs
        As for :func:`journey_engine`.

    Examples
    --------
    >>> import journeymine as jm
    >>> engine = DuckDBJourneys(jm.datasets.make_journeys(50, random_state=0), {}, ())
    >>> edges = engine.prepare("edges")()
    >>> edges.column_names[:3], edges.schema.field("source").type
    (['source', 'target', 'count'], DataType(string))
    >>> int(engine.prepare("totals")().column("single_event_customers")[0]) >= 0
    True
    """

    @lean_memory
    def __init__(self, log: EventLog, stage_rank: Mapping[str, int],
                 conversion: Collection[str], con=None, *, journeys: Journeys | None = None,
                 n_jobs: int | None = None):
        import pyarrow as pa

        from journeymine._util import _duckdb
        from journeymine.discovery._positional import (
            as_codes,
            journey_numbers,
            open_switches,
            sorted_events,
            steps_table,
        )

        if con is None:
            con = _duckdb.connect("UTC", n_jobs)
        self._con = getattr(con, "con", con)  # an Ibis DuckDB backend's connection
        events = sorted_events(log.table)
        steps, self._dictionaries = as_codes(
            steps_table(events, stage_rank, conversion, n_jobs=n_jobs,
                        next_timestamp=False, encoded=log._encoded_columns(events)))
        self._starts, run_of = journey_numbers(steps)
        extra = {"journey": pa.array(run_of)}
        if CHANNEL in steps.column_names:
            extra["first_open_switch"] = pa.array(open_switches(steps, self._starts, run_of))
        for name, values in extra.items():
            steps = steps.append_column(name, values)
        self._steps, self._journeys, self._journeys_registered = steps, None, False
        self._names, self._registered = {"ended": ""}, []
        self._names["steps"] = self._register("steps", steps)
        extra = grain_tables(journeys)
        if "returns" in extra:
            self._names["returns"] = self._register("returns", extra["returns"])
        if "censored" in extra:
            name = self._register("censored", extra["censored"])
            self._names["ended"] = f"AND {CUSTOMER} NOT IN (SELECT {CUSTOMER} FROM {name})"

    def _register(self, what: str, table: pa.Table) -> str:
        """Let DuckDB scan ``table`` in place (zero-copy) as a view; return its name."""
        name = f"jm_{what}_{id(self):x}"
        self._con.register(name, table)
        self._registered.append(name)
        return name

    def release_steps(self) -> None:
        """Keep of the steps only the touchpoints, which name the variants (no query reads more)."""
        name = self._names.pop("steps")
        self._con.unregister(name)
        self._registered.remove(name)
        self._steps = self._steps.select([ACTIVITY])

    def close(self) -> None:
        """Unregister the tables and drop them, once every query has run (frees the steps)."""
        for name in self._registered:
            self._con.unregister(name)
        self._registered.clear()
        self._steps = self._journeys = None

    @lean_memory
    def build_journeys(self) -> None:
        """Compute the journeys (safe while another thread runs queries: DuckDB is not used)."""
        if self._journeys is None:
            from journeymine.discovery._positional import journey_codes

            self._journeys = journey_codes(self._steps, self._starts)

    def prepare(self, name: str) -> Callable[[], pa.Table]:
        """A function that runs the query ``name`` and returns its result with names.

        A query of the journeys registers them (building them if
        :meth:`build_journeys` has not) when it runs: the connection is used
        by one thread at a time, the one that runs the queries.
        """
        from journeymine.discovery._duckdb_queries import QUERIES
        from journeymine.eventlog._validate import to_arrow

        sql = QUERIES[name]
        journeys = "{journeys}" in sql
        sql = sql.format(journeys=f"jm_journeys_{id(self):x}", **self._names)
        name_result = self._name_variants if name == "variants" else self.decode

        def run() -> pa.Table:
            if journeys and not self._journeys_registered:
                self.build_journeys()
                self._register("journeys", self._journeys)
                self._journeys_registered = True
            return name_result(to_arrow(self._con.sql(sql)))

        return run

    def _name_variants(self, table: pa.Table) -> pa.Table:
        """The variants result with each id replaced by its path (touchpoints joined by " > ")."""
        import numpy as np

        from journeymine.discovery._positional import paths_of

        first = table.column("jm_first").to_numpy()
        lengths = table.column("length").to_numpy()
        paths = paths_of(self._steps.column(ACTIVITY).to_numpy(), self._starts[first],
                         lengths.astype(np.int64, copy=False), self._dictionaries[ACTIVITY])
        return table.drop_columns(["jm_first"]).set_column(0, "variant", paths.cast("string"))

    def decode(self, table: pa.Table) -> pa.Table:
        """``table`` with touchpoint and channel codes as names (see :func:`_decode`)."""
        return _decode(table, self._dictionaries)


class IbisJourneys:
    """The named queries of :func:`discover` as the portable Ibis expressions, on any backend.

    Parameters
    ----------
    log, stage_rank, conversion, con, journeys
        As for :func:`journey_engine`.
    """

    def __init__(self, log: EventLog, stage_rank: Mapping[str, int],
                 conversion: Collection[str], con=None, *, journeys: Journeys | None = None):
        import ibis

        self._tables = JourneyTables(log, stage_rank, conversion, con)
        con = self._tables._con
        self._extra = {what: con.create_view(f"jm_{what}_{id(self):x}", ibis.memtable(table),
                                             overwrite=True)
                       for what, table in grain_tables(journeys).items()}

    def release_steps(self) -> None:
        """Nothing to release early: the backend holds the steps until :meth:`close`."""

    def close(self) -> None:
        """Drop this engine's tables once every query has run (the backend keeps its views)."""
        self._tables = None
        self._extra = {}

    def build_journeys(self) -> None:
        """Compute the journeys ahead of their queries (:meth:`JourneyTables.build_journeys`)."""
        self._tables.build_journeys()

    def expression(self, name: str):
        """The Ibis expression of the query ``name``."""
        from journeymine.discovery import _queries as q
        from journeymine.discovery._channels import channel_gaps
        from journeymine.discovery._grains import returns_query

        st = self._tables.steps
        if name in ("edges", "nodes", "ping_pongs", "to_convert"):
            return getattr(q, name if name != "to_convert" else "time_to_convert")(st)
        if name == "switches":
            return q.channel_switches(st)
        if name == "gaps":
            return channel_gaps(st)
        if name == "returns":
            return returns_query(self._extra["returns"])
        jr = self._tables.journeys
        if name == "funnel":
            return q.funnel(jr, q.stage_reach(st))
        if name == "dropoffs":
            censored = self._extra.get("censored")
            return q.dropoffs(jr if censored is None else jr.anti_join(censored, CUSTOMER))
        return {"variants": q.variants, "totals": q.journey_totals}[name](jr)

    def prepare(self, name: str) -> Callable[[], pa.Table]:
        """A function that runs the query ``name`` (see :meth:`DuckDBJourneys.prepare`)."""
        return self._tables.prepare(self.expression(name))
