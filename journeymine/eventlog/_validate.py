"""Validate and normalise raw event tables into the canonical event-log table.

Columns that already have their final types are checked and cast by Arrow
compute functions; anything that must be parsed goes through SQL run by DuckDB
over the Arrow table. Either way the caller's data is never touched.
"""

from __future__ import annotations

import logging
import warnings

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeymine.eventlog._schema import (
    ACTIVITY,
    CANONICAL,
    CUSTOMER,
    EVENT_INDEX,
    STAGE,
    TIMESTAMP,
    Schema,
)
from journeymine.eventlog._stages import STAGES, normalize_stage
from journeymine.exceptions import (
    DataQualityWarning,
    EmptyLogError,
    InvalidParameterError,
    StageError,
    TimestampError,
)

logger = logging.getLogger(__name__)

_ROW = "__jm_row"
_RAW_TS = "__jm_raw_timestamp"  # kept only while string timestamps are checked


def quote(name: str) -> str:
    """Quote an identifier for DuckDB SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def connect(tz: str | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection whose session time zone is ``tz`` (UTC by default).

    Raises
    ------
    InvalidParameterError
        ``tz`` is not a time zone name DuckDB knows.
    """
    con = duckdb.connect()
    try:
        con.execute(f"SET TimeZone = {duckdb_literal(tz or 'UTC')}")
    except duckdb.Error as exc:
        con.close()
        raise InvalidParameterError(
            f"Unknown time zone {tz!r}.",
            expected="an IANA time zone name such as 'Asia/Jakarta' or 'UTC'.",
            fix="Pass tz='Asia/Jakarta' (WIB), 'Asia/Makassar' (WITA) or 'Asia/Jayapura' (WIT).",
        ) from exc
    return con


def to_arrow(result) -> pa.Table:
    """Fetch a DuckDB relation or query result as an Arrow table (any DuckDB >= 1.3)."""
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    return fetch()


def _epoch_scale(con: duckdb.DuckDBPyConnection, col: str) -> float:
    """Seconds per unit of a numeric epoch column, guessed from its magnitude."""
    biggest = con.execute(f"SELECT max(abs({quote(col)})) FROM raw").fetchone()[0]
    if biggest is None or biggest < 1e11:
        return 1.0  # seconds (until year 5138)
    if biggest < 1e14:
        return 1e-3  # milliseconds
    if biggest < 1e17:
        return 1e-6  # microseconds
    return 1e-9  # nanoseconds


NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE",
                  "DECIMAL", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")


def _parses_text(dtype: str) -> bool:
    """Whether a timestamp column of DuckDB type ``dtype`` is parsed from text."""
    dtype = dtype.upper()
    return not (dtype.startswith(("TIMESTAMP", "DATE")) or dtype.startswith(NUMERIC_TYPES))


def _timestamp_sql(
    con: duckdb.DuckDBPyConnection, col: str, dtype: str, fmt: str | None, tz: str | None
) -> str:
    """SQL expression turning column ``col`` into a naive UTC ``TIMESTAMP``.

    The connection's session time zone must be ``tz`` (UTC when ``None``): DuckDB
    then reads naive values as local to it, honours explicit offsets, and
    ``make_timestamp(epoch_us(...))`` turns the instant into naive UTC cheaply
    (``timezone()`` is three times slower).
    """
    q = quote(col)
    dtype = dtype.upper()
    as_utc = "make_timestamp(epoch_us({}))".format
    local = tz and tz.upper() != "UTC"
    if dtype.startswith("TIMESTAMP WITH TIME ZONE") or dtype == "TIMESTAMPTZ":
        return as_utc(q)
    if dtype.startswith(("TIMESTAMP", "DATE")):
        naive = f"CAST({q} AS TIMESTAMP)"
        return as_utc(f"CAST({naive} AS TIMESTAMPTZ)") if local else naive
    if dtype.startswith(NUMERIC_TYPES):
        micros = _epoch_scale(con, col) * 1e6
        return f"make_timestamp(CAST(round(CAST({q} AS DOUBLE) * {micros}) AS BIGINT))"
    text = f"trim(CAST({q} AS VARCHAR))"
    if fmt:
        parsed = f"try_strptime({text}, {duckdb_literal(fmt)})"
        return as_utc(f"CAST({parsed} AS TIMESTAMPTZ)") if local else parsed
    # DuckDB needs seconds before an offset: "10:05+07:00" -> "10:05:00+07:00" (fallback only).
    with_seconds = rf"regexp_replace({text}, '([T ]\d\d:\d\d)(Z|[+-])', '\1:00\2')"
    return as_utc(
        f"coalesce(try_cast({text} AS TIMESTAMPTZ), try_cast({with_seconds} AS TIMESTAMPTZ))"
    )


def utc_naive(table: pa.Table, column: str) -> tuple[pa.Table, bool]:
    """Replace a time-zone-aware Arrow timestamp column by naive UTC (a free cast).

    Returns the table and whether the column was time-zone aware.
    """
    field = table.schema.field(column)
    if not (pa.types.is_timestamp(field.type) and field.type.tz):
        return table, False
    naive = table.column(column).cast(pa.timestamp(field.type.unit))
    idx = table.schema.get_field_index(column)
    return table.set_column(idx, pa.field(column, naive.type), naive), True


def _check_timestamps(con: duckdb.DuckDBPyConnection, col: str) -> None:
    """Raise TimestampError if a non-blank raw timestamp string did not parse."""
    bad = con.execute(
        f"SELECT count(*), list({_RAW_TS} ORDER BY {_ROW})[1:3] FROM typed "
        f"WHERE {TIMESTAMP} IS NULL AND trim({_RAW_TS}) <> ''"
    ).fetchone()
    if bad[0]:
        raise TimestampError(
            f"{bad[0]:,} value(s) of the timestamp column {col!r} could not be parsed, "
            f"e.g. {bad[1]}.",
            expected="ISO 8601 strings ('2024-05-01 13:45:00', optionally with '+07:00'), "
            "datetimes, dates or epoch numbers.",
            fix="Pass timestamp_format (strptime codes, e.g. '%d/%m/%Y %H:%M') "
            "or clean those rows first.",
        )


def _stage_sql(con: duckdb.DuckDBPyConnection, col: str) -> str:
    """SQL CASE mapping a stage column's values (any language) to canonical stages."""
    values = [r[0] for r in con.execute(
        f"SELECT DISTINCT CAST({quote(col)} AS VARCHAR) FROM raw WHERE {quote(col)} IS NOT NULL"
    ).fetchall()]
    mapping, unknown = {}, []
    for value in values:
        try:
            mapping[value] = normalize_stage(value)
        except StageError:
            unknown.append(value)
    if unknown:
        raise StageError(
            f"The stage column {col!r} has values that are not stages: {sorted(unknown)[:10]}.",
            expected=f"stage names {list(STAGES)} or their Indonesian names "
            "(kesadaran, pertimbangan, pembelian, retensi, advokasi).",
            fix="Rename those values, or drop the column (stage=False) and pass a StageMap.",
        )
    if not mapping:
        return "CAST(NULL AS VARCHAR)"
    cases = " ".join(
        f"WHEN {duckdb_literal(k)} THEN {duckdb_literal(v)}" for k, v in mapping.items()
    )
    return f"CASE CAST({quote(col)} AS VARCHAR) {cases} END"


def row_numbers(n: int) -> pa.Array:
    """``0 .. n-1`` as an Arrow int64 array."""
    return pa.array(np.arange(n, dtype=np.int64))


def dictionary_encode(values: pa.ChunkedArray) -> pa.DictionaryArray:
    """``values`` dictionary-encoded as one array, without copying the strings first.

    Encoding chunk by chunk and concatenating the indices avoids
    ``combine_chunks``, which copies every string (pandas hands over text
    columns in many chunks).
    """
    if not values.num_chunks:
        return pc.dictionary_encode(pa.array([], type=values.type))
    encoded = pc.dictionary_encode(values).unify_dictionaries()
    indices = pa.concat_arrays([chunk.indices for chunk in encoded.chunks])
    return pa.DictionaryArray.from_arrays(indices, encoded.chunk(0).dictionary)


def is_increasing(values: np.ndarray) -> bool:
    """Whether every value is greater than the one before it."""
    return bool(np.all(values[1:] > values[:-1]))


def same_as_next(values: pa.ChunkedArray) -> np.ndarray:
    """Per row, whether the next row holds an equal value (False for the last row)."""
    n = len(values)
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[:-1] = pc.equal(values.slice(1), values.slice(0, n - 1)).to_numpy(
            zero_copy_only=False
        )
    return same


def _trimmed(column: str) -> str:
    """SQL for ``column`` as text without surrounding spaces.

    Only values that start or end with a space pay for ``trim`` (a new
    string): the check is nearly free, trimming every value is not.
    """
    text = f"CAST({quote(column)} AS VARCHAR)"
    return f"CASE WHEN prefix({text}, ' ') OR suffix({text}, ' ') THEN trim({text}) ELSE {text} END"


def _drop_duplicates(result: pa.Table, columns: list[str], same_customer: np.ndarray) -> pa.Table:
    """Drop exact duplicate rows of ``result`` (sorted by customer, time, row), keeping the first.

    Duplicates share customer and timestamp, so only runs of tied rows can
    hold them: those few rows go through DuckDB's de-duplication, not the
    whole log. ``same_customer`` is :func:`same_as_next` of the customers.
    """
    tie = same_customer & same_as_next(result.column(TIMESTAMP))
    if not tie.any():
        return result
    tied = tie.copy()
    tied[1:] |= tie[:-1]
    rows = np.flatnonzero(tied)
    con = duckdb.connect()
    con.register("tied", result.take(pa.array(rows)).append_column("__jm_pos", pa.array(rows)))
    cols = ", ".join(map(quote, columns))
    dupes = con.execute(
        f"SELECT __jm_pos FROM tied QUALIFY row_number() OVER "
        f"(PARTITION BY {cols} ORDER BY {_ROW}) > 1"
    ).fetchnumpy()["__jm_pos"]
    con.close()
    if not len(dupes):
        return result
    keep = np.ones(result.num_rows, dtype=bool)
    keep[dupes] = False
    return result.filter(pa.array(keep))


def duckdb_literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


_TEXT_ROLES = (CUSTOMER, ACTIVITY, CANONICAL["channel"], CANONICAL["text"])


def normalize_table(
    table: pa.Table,
    schema: Schema,
    *,
    timestamp_format: str | None = None,
    tz: str | None = None,
    drop_duplicates: bool = True,
) -> tuple[pa.Table, dict]:
    """Validate ``table`` and return the canonical event table and a report.

    The canonical table has ``customer_id``, ``activity`` (strings),
    ``timestamp`` (naive UTC), the optional roles under their canonical names,
    every extra column unchanged, and ``event_index``: the position of the
    event after sorting by customer, timestamp and original row (ties keep
    file order). Rows with a null customer, activity or timestamp are dropped
    with a :class:`~journeymine.exceptions.DataQualityWarning`, as are exact
    duplicate rows when ``drop_duplicates``.

    Columns that already have their final types (strings, timestamps,
    numbers) are typed by Arrow casts; anything to parse (text or epoch
    timestamps, local time zones, a stage column, text numbers) by DuckDB
    SQL. Both give the same table (tested).
    """
    if table.num_rows == 0:
        raise EmptyLogError(
            "The event log has no rows.",
            expected="at least one event (customer, activity, timestamp).",
            fix="Check the file or the filter that produced it.",
        )
    table, aware = utc_naive(table, schema.timestamp)
    tz = None if aware else tz
    # Every canonical name is reserved, bound or not: consumers test for a role
    # by its column name, so an unused "channel" column must not pose as one.
    canon_names = set(CANONICAL.values()) | {EVENT_INDEX, _ROW}
    extras = [c for c in table.column_names if c not in schema.mapping and c not in canon_names]
    shadowed = [c for c in table.column_names if c not in schema.mapping and c in canon_names]
    if shadowed:
        warnings.warn(
            f"Dropped input column(s) {shadowed}: their names are reserved for the "
            f"canonical columns, and the roles are played by: {schema.describe()}. "
            "Rename those columns first to keep them as extra columns.",
            DataQualityWarning,
            stacklevel=4,
        )
    typed = _typed_by_arrow(table, schema, extras, tz=tz, timestamp_format=timestamp_format)
    if typed is None:
        typed = _typed_by_sql(table, schema, extras, tz=tz, timestamp_format=timestamp_format)
    return _canonical(typed, schema, drop_duplicates=drop_duplicates)


def _typed_by_arrow(
    table: pa.Table, schema: Schema, extras: list[str], *, tz: str | None,
    timestamp_format: str | None,
) -> pa.Table | None:
    """The canonical columns by Arrow casts alone, or None when something must be parsed.

    Same rules as :func:`_typed_by_sql`: text roles lose surrounding spaces
    and blanks become null, timestamps become naive UTC microseconds, rating
    and revenue become doubles.
    """
    if timestamp_format or (tz and tz.upper() != "UTC"):
        return None
    columns = {}
    for source, canonical in schema.mapping.items():
        column = table.column(source)
        kind = column.type
        if canonical == TIMESTAMP and pa.types.is_timestamp(kind):
            columns[canonical] = column.cast(pa.timestamp("us"), safe=False)
        elif canonical in _TEXT_ROLES and (pa.types.is_string(kind)
                                           or pa.types.is_large_string(kind)):
            try:
                columns[canonical] = _clean_text(column.cast(pa.string()))
            except pa.ArrowInvalid:  # over 2 GB of text in one chunk
                return None
        elif canonical in (CANONICAL["rating"], CANONICAL["revenue"]) and (
            pa.types.is_integer(kind) or pa.types.is_floating(kind)
        ):
            columns[canonical] = column.cast(pa.float64())
        else:
            return None
    columns.update({c: table.column(c) for c in extras})
    columns[_ROW] = row_numbers(table.num_rows)
    return pa.table(columns)


def _clean_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` without surrounding spaces, blanks as null (like ``NULLIF(trim(x), '')``)."""
    padded = pc.or_(pc.starts_with(values, " "), pc.ends_with(values, " "))
    if pc.any(padded).as_py():
        values = pc.utf8_trim(values, characters=" ")
    blank = pc.equal(values, "")
    if pc.any(blank).as_py():
        values = pc.if_else(blank, pa.scalar(None, pa.string()), values)
    return values


def _typed_by_sql(
    table: pa.Table, schema: Schema, extras: list[str], *, tz: str | None,
    timestamp_format: str | None,
) -> pa.Table:
    """The canonical columns computed by DuckDB (parses text and epoch timestamps, stages).

    Raises
    ------
    TimestampError
        A non-blank timestamp did not parse.
    """
    con = connect(tz)
    con.register("raw", table.append_column(_ROW, row_numbers(table.num_rows)))
    dtypes = dict(
        con.execute("SELECT column_name, column_type FROM (DESCRIBE raw)").fetchall()
    )
    ts_type = dtypes[schema.timestamp]
    ts_expr = _timestamp_sql(con, schema.timestamp, ts_type, timestamp_format, tz)
    select = []
    for source, canonical in schema.mapping.items():
        if canonical == TIMESTAMP:
            select.append(f"{ts_expr} AS {TIMESTAMP}")
        elif canonical == STAGE:
            select.append(f"{_stage_sql(con, source)} AS {STAGE}")
        elif canonical in _TEXT_ROLES:
            select.append(f"NULLIF({_trimmed(source)}, '') AS {canonical}")
        else:  # rating, revenue
            select.append(f"try_cast({quote(source)} AS DOUBLE) AS {canonical}")
    select += [quote(c) for c in extras]
    select.append(_ROW)
    if _parses_text(ts_type):
        # Parse once into a table, so failures can be shown with their raw text.
        select.append(f"CAST({quote(schema.timestamp)} AS VARCHAR) AS {_RAW_TS}")
        con.execute(f"CREATE TEMP TABLE typed AS SELECT {', '.join(select)} FROM raw")
        _check_timestamps(con, schema.timestamp)
    else:
        con.execute(f"CREATE TEMP VIEW typed AS SELECT {', '.join(select)} FROM raw")
    columns = [*schema.mapping.values(), *extras, _ROW]
    typed = to_arrow(con.execute(f"SELECT {', '.join(map(quote, columns))} FROM typed"))
    con.close()
    return typed


def _is_sorted(table: pa.Table, same_customer: np.ndarray) -> bool:
    """Whether rows are already ordered by customer, timestamp and input row (no nulls).

    ``same_customer`` is :func:`same_as_next` of the customers.
    """
    n = table.num_rows
    if n < 2:
        return True
    if not is_increasing(table.column(_ROW).to_numpy()):
        return False
    customers, stamps = table.column(CUSTOMER), table.column(TIMESTAMP)
    if not pc.all(pc.less_equal(customers.slice(0, n - 1), customers.slice(1))).as_py():
        return False
    in_order = pc.less_equal(stamps.slice(0, n - 1), stamps.slice(1))
    return bool(np.all(in_order.to_numpy(zero_copy_only=False) | ~same_customer[:-1]))


def _journey_order(table: pa.Table) -> np.ndarray:
    """Row order by customer, then timestamp, then input row.

    Stable sorts of integers instead of a string sort: by timestamp first
    (nearly free when the log is in time order, as exports usually are),
    then by each customer's rank among the distinct ids, 16 bits at a time
    (NumPy's radix sort). Three times faster than sorting by the strings.
    """
    customers = dictionary_encode(table.column(CUSTOMER))
    rank = pc.rank(customers.dictionary, sort_keys="ascending").to_numpy().astype(np.uint32)
    group = (rank - 1)[customers.indices.to_numpy()]
    stamps = table.column(TIMESTAMP).to_numpy().view(np.int64)
    rows = table.column(_ROW).to_numpy()
    base = None if is_increasing(rows) else np.argsort(rows, kind="stable")
    if base is not None:  # ties must keep input order
        group, stamps = group[base], stamps[base]
    order = np.argsort(stamps, kind="stable")
    group = group[order]
    for shift in (0, 16) if len(rank) > 2**16 else (0,):
        by_digit = np.argsort(((group >> shift) & 0xFFFF).astype(np.uint16), kind="stable")
        order, group = order[by_digit], group[by_digit]
    return order if base is None else base[order]


def _canonical(typed: pa.Table, schema: Schema, *, drop_duplicates: bool) -> tuple[pa.Table, dict]:
    """Drop null rows, sort by customer, time and row, drop duplicates, number the events."""
    n = typed.num_rows
    report: dict = {"rows_in": n, "schema": schema.describe()}
    nulls = [typed.column(c).null_count for c in (CUSTOMER, ACTIVITY, TIMESTAMP)]
    report["null_customer"], report["null_activity"], report["null_timestamp"] = nulls
    if any(nulls):
        valid = pc.and_(pc.and_(pc.is_valid(typed.column(CUSTOMER)),
                                pc.is_valid(typed.column(ACTIVITY))),
                        pc.is_valid(typed.column(TIMESTAMP)))
        typed = typed.filter(valid)
    report["dropped_nulls"] = dropped_nulls = n - typed.num_rows
    if dropped_nulls:
        warnings.warn(
            f"Dropped {dropped_nulls:,} event(s) with a null customer id ({nulls[0]:,}), "
            f"activity ({nulls[1]:,}) or timestamp ({nulls[2]:,}).",
            DataQualityWarning,
            stacklevel=5,
        )
    if dropped_nulls == n:
        raise EmptyLogError(
            f"No usable events: all {n:,} rows have a null customer id, "
            "activity or timestamp.",
            expected="rows with a customer id, an activity and a timestamp.",
            fix="Check that the right columns were picked: " + schema.describe(),
        )
    same_customer = same_as_next(typed.column(CUSTOMER))
    if not _is_sorted(typed, same_customer):
        typed = typed.take(_journey_order(typed))
        same_customer = same_as_next(typed.column(CUSTOMER))
    if drop_duplicates:
        rows = typed.num_rows
        typed = _drop_duplicates(typed, [c for c in typed.column_names if c != _ROW],
                                 same_customer)
        if typed.num_rows < rows:
            same_customer = same_as_next(typed.column(CUSTOMER))
    result = typed.drop_columns([_ROW])
    result = result.append_column(EVENT_INDEX, row_numbers(result.num_rows))
    rows_out = result.num_rows
    report["duplicates"] = n - dropped_nulls - rows_out
    if report["duplicates"]:
        warnings.warn(
            f"Dropped {report['duplicates']:,} exact duplicate event(s) "
            "(pass drop_duplicates=False to keep them).",
            DataQualityWarning,
            stacklevel=5,
        )
    # customers are runs of rows: a single event has no same-customer neighbour
    single = int(np.count_nonzero(~same_customer[1:] & ~same_customer[:-1])) + int(
        not same_customer[0])
    report.update(rows_out=rows_out, single_event_customers=single)
    if single:
        logger.info("%s customer(s) have a single event; they have no transitions.", single)
    return result, report
