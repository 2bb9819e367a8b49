"""SQL reader: the result of a query on DuckDB (or an Ibis backend) as an EventLog."""

from __future__ import annotations

from typing import Any

import duckdb

from journeymine._util._duckdb import connect
from journeymine.eventlog._eventlog import EventLog, relation_to_arrow
from journeymine.eventlog._schema import Schema, _split_schema
from journeymine.exceptions import EmptyLogError, ReadError, SchemaError

__all__ = ["read_sql"]


def read_sql(
    query: str, con: Any = None, schema: Schema | None = None, **kwargs: Any
) -> EventLog:
    """Run a SQL query and read its result as an :class:`EventLog`.

    Parameters
    ----------
    query : str
        A SELECT statement. With the default connection it can read files
        directly, e.g. ``"SELECT * FROM 'events.parquet' WHERE ts >= '2024-01-01'"``.
    con : duckdb.DuckDBPyConnection or Ibis backend, optional
        Where to run it; a new in-memory DuckDB connection by default.
    schema : Schema, optional
        Column roles of the result.
    **kwargs
        Passed to :meth:`EventLog.from_arrow`.

    Returns
    -------
    EventLog

    Raises
    ------
    ReadError
        The query failed (syntax error, missing table or file).
    EmptyLogError
        The query returned no rows.

    Examples
    --------
    >>> from journeymine.eventlog import read_sql
    >>> log = read_sql('''
    ...     SELECT * FROM (VALUES ('c1', 'search', TIMESTAMP '2024-05-01 10:00'),
    ...                           ('c1', 'checkout', TIMESTAMP '2024-05-01 10:05'))
    ...     AS t(customer_id, touchpoint, ts)''')
    >>> log.n_events, log.activities
    (2, ['checkout', 'search'])
    """
    if not isinstance(query, str) or not query.strip():
        raise SchemaError(
            f"query must be a non-empty SQL string, got {query!r}.",
            expected="a SELECT statement.",
            fix="Use EventLog.from_duckdb for a relation, EventLog.from_pandas for a DataFrame.",
        )
    wanted = _split_schema(schema, kwargs)
    kwargs.setdefault("source", "sql")
    own = con is None
    if own:
        con = connect()
    elif not hasattr(con, "sql"):
        raise SchemaError(
            f"con must be a DuckDB connection or an Ibis backend, got {type(con).__name__}.",
            expected="duckdb.connect(...) or ibis.duckdb.connect(...).",
            fix="Leave con=None to use a new in-memory DuckDB connection.",
        )
    try:
        result = con.sql(query)
        if result is None:
            raise SchemaError(
                "The query returned nothing, not a table.",
                expected="a SELECT statement returning rows.",
                fix="End the query with a SELECT.",
            )
        table = relation_to_arrow(result)
    except duckdb.Error as exc:
        raise ReadError(
            f"The query failed: {str(exc).splitlines()[0]}",
            expected="a valid SELECT statement on tables or files the connection can see.",
            fix="Check table, file and column names in the query.",
        ) from None
    finally:
        if own:
            con.close()
    if table.num_rows == 0:
        raise EmptyLogError(
            "The query returned no rows.",
            expected="at least one event (customer, activity, timestamp).",
            fix="Check the query's WHERE clause and the tables it reads.",
        )
    return EventLog.from_arrow(table, wanted, **kwargs)
