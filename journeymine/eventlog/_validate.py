"""Validate and normalise raw event tables into the canonical event-log table.

Columns that already have their final types are checked and cast by Arrow
compute functions; anything that must be parsed goes through SQL run by DuckDB
over the Arrow table. Either way the caller's data is never touched.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeymine._util._duckdb import check_tz, connect, resolve_n_jobs
from journeymine.eventlog._runs import same_as_next
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
    StageError,
    TimestampError,
)

logger = logging.getLogger(__name__)

_ROW = "__jm_row"
_RAW_TS = "__jm_raw_timestamp"  # kept only while string timestamps are checked


def quote(name: str) -> str:
    """Quote an identifier for DuckDB SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def to_arrow(result) -> pa.Table:
    """Fetch a DuckDB relation or query result as an Arrow table (any DuckDB >= 1.3)."""
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    return fetch()


def stream_to_arrow(result, batch_rows: int = 1 << 20) -> pa.Table:
    """Fetch a DuckDB relation as an Arrow table batch by batch (any DuckDB >= 1.3).

    DuckDB never holds the whole result beside the Arrow copy, so the peak
    is about the table itself (:func:`to_arrow` holds both for a moment).
    An error found while streaming (a corrupt file) comes out as an
    ``OSError`` carrying DuckDB's message, not as a ``duckdb.Error``.
    """
    reader = getattr(result, "to_arrow_reader", None) or result.fetch_record_batch
    return reader(batch_rows).read_all()


#: The supported timestamps: from 1900 to the last microsecond a pandas
#: ``datetime64[ns]`` can hold, so every log converts to pandas (and pm4py)
#: intact. Earlier or later values are placeholders or unit mix-ups.
TIMESTAMP_MIN = np.datetime64("1900-01-01T00:00:00", "us")
TIMESTAMP_MAX = np.datetime64(np.iinfo(np.int64).max // 1000, "us")  # 2262-04-11 23:47:16
_RANGE = f"{TIMESTAMP_MIN.astype('M8[D]')} to {TIMESTAMP_MAX.astype('M8[s]')}".replace("T", " ")
_RANGE_FIX = ("Fix or blank those rows (blank timestamps are dropped with a warning); placeholder "
              "dates such as 0001-01-01 or 9999-12-31 usually mean 'unknown'.")

#: Epoch magnitudes: below 1e11 seconds (to year 5138), then ms, us, ns.
_EPOCH_UNITS = ((1e11, 1.0, "seconds"), (1e14, 1e-3, "milliseconds"),
                (1e17, 1e-6, "microseconds"), (float("inf"), 1e-9, "nanoseconds"))


def _epoch_unit(magnitude: float) -> tuple[float, str]:
    """Seconds per unit, and the unit's name, of an epoch number of this magnitude."""
    return next((scale, name) for bound, scale, name in _EPOCH_UNITS if magnitude < bound)


def _epoch_examples(con: duckdb.DuckDBPyConnection, col: str, where: str) -> str:
    """The first three values of ``col`` (with their rows) matching the SQL ``where``."""
    rows = con.execute(
        f"SELECT {quote(col)}, {_ROW} FROM raw WHERE {where} ORDER BY {_ROW} LIMIT 3"
    ).fetchall()
    return ", ".join(f"{value!r} (row {row})" for value, row in rows)


def _epoch_scale(con: duckdb.DuckDBPyConnection, col: str) -> float:
    """Seconds per unit of a numeric epoch column, from its magnitude.

    A column mixing magnitudes (seconds and milliseconds, say) has no single
    unit: taking the biggest would put the seconds in January 1970, so it is
    an error, as are infinite values and instants outside the supported range.
    Zero is the same instant in every unit and says nothing about the unit.

    Raises
    ------
    TimestampError
        Mixed units, infinite values, or instants outside 1900-2262.
    """
    v = f"CAST({quote(col)} AS DOUBLE)"
    finite = f"isfinite({v})"
    lo, hi, small, big, n_inf = con.execute(
        f"SELECT min({v}) FILTER ({finite}), max({v}) FILTER ({finite}), "
        f"min(abs({v})) FILTER ({finite} AND {v} <> 0), max(abs({v})) FILTER ({finite}), "
        f"count(*) FILTER (isinf({v})) FROM raw"
    ).fetchone()
    expected = (f"epoch numbers in one unit (seconds, milliseconds, microseconds or "
                f"nanoseconds since 1970) for instants from {_RANGE} (UTC).")
    if n_inf:
        raise TimestampError(
            f"{n_inf:,} epoch value(s) of the timestamp column {col!r} are infinite, e.g. "
            f"{_epoch_examples(con, col, f'isinf({v})')}.",
            expected=expected,
            fix="Replace them by null (dropped with a warning) or by real epoch numbers.",
        )
    if big is None:
        return 1.0  # only nulls and zeros
    scale, unit = _epoch_unit(big)
    small_scale, small_unit = _epoch_unit(small if small is not None else big)
    if small_scale != scale:
        bound = next(b for b, s, _ in _EPOCH_UNITS if s == small_scale)
        raise TimestampError(
            f"The epoch numbers of the timestamp column {col!r} mix units: some look like "
            f"{small_unit}, e.g. {_epoch_examples(con, col, f'{v} <> 0 AND abs({v}) < {bound}')}"
            f", others like {unit}, e.g. "
            f"{_epoch_examples(con, col, f'{finite} AND abs({v}) >= {bound}')}. "
            f"Read as {unit}, the {small_unit} would land in January 1970.",
            expected=expected,
            fix="Convert the column to datetimes first, each value by its unit, e.g. "
            "pd.to_datetime(ts.where(ts > 1e11, ts * 1000), unit='ms'), or fix the export.",
        )
    first, last = (TIMESTAMP_MIN.astype("M8[s]").astype(np.int64),
                   TIMESTAMP_MAX.astype("M8[s]").astype(np.int64))
    if lo * scale < first or hi * scale > last:
        outside = f"{finite} AND ({v} * {scale} < {first} OR {v} * {scale} > {last})"
        n_out = con.execute(f"SELECT count(*) FROM raw WHERE {outside}").fetchone()[0]
        raise TimestampError(
            f"{n_out:,} epoch value(s) of the timestamp column {col!r}, read as {unit}, are "
            f"outside the supported range {_RANGE}, e.g. {_epoch_examples(con, col, outside)}.",
            expected=expected,
            fix=_RANGE_FIX,
        )
    return scale


def _check_range(typed: pa.Table, source: pa.ChunkedArray, col: str) -> None:
    """Raise TimestampError if a parsed timestamp is outside the supported range.

    Nearly free (one min/max); only a failing log pays for finding the rows.
    """
    stamps = typed.column(TIMESTAMP)
    mm = pc.min_max(stamps)
    if not mm["min"].is_valid:
        return
    first, last = TIMESTAMP_MIN.astype(np.int64), TIMESTAMP_MAX.astype(np.int64)
    if first <= mm["min"].value and mm["max"].value <= last:
        return
    micros = pc.fill_null(stamps.cast(pa.int64()), first).to_numpy()
    bad = np.flatnonzero((micros < first) | (micros > last))
    rows = typed.column(_ROW).to_numpy()[bad]
    order = np.argsort(rows, kind="stable")[:3]
    if pa.types.is_string(source.type) or pa.types.is_large_string(source.type) or \
            pa.types.is_integer(source.type) or pa.types.is_floating(source.type):
        shown = source.take(pa.array(rows[order])).to_pylist()
    else:  # datetimes outside Python's range: show them as parsed (UTC)
        shown = [str(t.astype("M8[s]") if t.astype(np.int64) % 10**6 == 0 else t).replace("T", " ")
                 for t in micros[bad[order]].astype("M8[us]")]
    examples = ", ".join(f"{value!r} (row {row})" for value, row in
                         zip(shown, rows[order].tolist(), strict=True))
    raise TimestampError(
        f"{len(bad):,} timestamp(s) of the column {col!r} are outside the supported range "
        f"{_RANGE}, e.g. {examples}.",
        expected=f"timestamps from {_RANGE} (UTC; what pandas datetime64[ns] can hold).",
        fix=_RANGE_FIX,
    )


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
        # NaN (a float "missing") becomes null, dropped with the other nulls.
        number = f"nullif(CAST({q} AS DOUBLE), 'NaN'::DOUBLE)"
        return f"make_timestamp(CAST(round({number} * {micros}) AS BIGINT))"
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
    mapping = stage_mapping(values, col)
    if not mapping:
        return "CAST(NULL AS VARCHAR)"
    cases = " ".join(
        f"WHEN {duckdb_literal(k)} THEN {duckdb_literal(v)}" for k, v in mapping.items()
    )
    return f"CASE CAST({quote(col)} AS VARCHAR) {cases} END"


def stage_mapping(values: list[str], col: str) -> dict[str, str]:
    """Each distinct value of the stage column ``col`` mapped to its canonical stage.

    Raises
    ------
    StageError
        A value is not a stage name (English or Indonesian).
    """
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
    return mapping


def row_numbers(n: int) -> pa.Array:
    """``0 .. n-1`` as an Arrow int64 array."""
    return pa.array(np.arange(n, dtype=np.int64))


def dictionary_encode(values: pa.ChunkedArray) -> pa.DictionaryArray:
    """``values`` dictionary-encoded as one array (dictionary in order of first appearance).

    A column with few distinct values (touchpoints, channels) is encoded chunk
    by chunk and the small dictionaries unified, without copying its strings;
    one with many (customer ids) is put in one chunk first: unifying many
    large dictionaries costs more than the copy (14x at 100 chunks of 1M ids).
    """
    if not values.num_chunks:
        return pc.dictionary_encode(pa.array([], type=values.type))
    first = pc.dictionary_encode(values.chunk(0))
    if values.num_chunks == 1:
        return first
    if len(first.dictionary) * 16 > len(first):
        try:
            return pc.dictionary_encode(values.combine_chunks())
        except pa.ArrowInvalid:  # over 2 GB of text: no one-chunk copy
            pass
    encoded = pc.dictionary_encode(values).unify_dictionaries()
    indices = pa.concat_arrays([chunk.indices for chunk in encoded.chunks])
    return pa.DictionaryArray.from_arrays(indices, encoded.chunk(0).dictionary)


def is_increasing(values: np.ndarray) -> bool:
    """Whether every value is greater than the one before it."""
    return bool(np.all(values[1:] > values[:-1]))


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
    con = connect()
    con.register("tied", result.take(pa.array(rows)).append_column("__jm_pos", pa.array(rows)))
    cols = ", ".join(map(quote, columns))
    dupes = con.execute(
        # Rows are in input order within a tie, so position order is input order.
        f"SELECT __jm_pos FROM tied QUALIFY row_number() OVER "
        f"(PARTITION BY {cols} ORDER BY __jm_pos) > 1"
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


def extra_columns(columns: list[str], schema: Schema, *, stacklevel: int) -> list[str]:
    """The columns of the input that play no role and are kept under their own names.

    Every canonical name is reserved, bound or not: consumers test for a role
    by its column name, so an unused "channel" column must not pose as one.
    Such columns are dropped with a :class:`~journeymine.exceptions.DataQualityWarning`
    (``stacklevel`` points it at the user's call).
    """
    canon_names = set(CANONICAL.values()) | {EVENT_INDEX, _ROW}
    extras = [c for c in columns if c not in schema.mapping and c not in canon_names]
    shadowed = [c for c in columns if c not in schema.mapping and c in canon_names]
    if shadowed:
        warnings.warn(
            f"Dropped input column(s) {shadowed}: their names are reserved for the "
            f"canonical columns, and the roles are played by: {schema.describe()}. "
            "Rename those columns first to keep them as extra columns.",
            DataQualityWarning,
            stacklevel=stacklevel,
        )
    return extras


def normalize_table(
    table: pa.Table,
    schema: Schema,
    *,
    timestamp_format: str | None = None,
    tz: str | None = None,
    drop_duplicates: bool = True,
    encodings: dict[str, pa.DictionaryArray] | None = None,
) -> tuple[pa.Table, dict]:
    """Validate ``table`` and return the canonical event table and a report.

    The canonical table has ``customer_id``, ``activity`` (strings),
    ``timestamp`` (naive UTC), the optional roles under their canonical names,
    every extra column unchanged, and ``event_index``: the position of the
    event after sorting by customer, timestamp and original row (ties keep
    file order). Rows with a null customer, activity or timestamp are dropped
    with a :class:`~journeymine.exceptions.DataQualityWarning`, as are exact
    duplicate rows when ``drop_duplicates``.

    Text roles (customer, activity, channel, text) are normalised to Unicode
    NFC and lose surrounding white space of any kind (tabs, no-break
    spaces...), so one name is one value however it was typed. Timestamps
    must lie in :data:`TIMESTAMP_MIN` .. :data:`TIMESTAMP_MAX` (1900-01-01 to
    2262-04-11, what pandas ``datetime64[ns]`` holds), and a column of epoch
    numbers must use one unit: anything else raises a
    :class:`~journeymine.exceptions.TimestampError` naming rows and values.

    Columns that already have their final types (strings, timestamps,
    numbers) are typed by Arrow casts; anything to parse (text or epoch
    timestamps, local time zones, a stage column, text numbers) by DuckDB
    SQL. Both give the same table (tested).

    When the rows had to be reordered, the touchpoint, channel and stage
    columns were moved as dictionary codes; pass a dict as ``encodings`` to
    receive those encodings (column name -> dictionary array, in the
    result's row order), which spares discovery encoding them again.
    """
    check_tz(tz)
    if table.num_rows == 0:
        raise EmptyLogError(
            "The event log has no rows.",
            expected="at least one event (customer, activity, timestamp).",
            fix="Check the file or the filter that produced it.",
        )
    table, aware = utc_naive(table, schema.timestamp)
    tz = None if aware else tz
    extras = extra_columns(table.column_names, schema, stacklevel=5)
    typed = _typed_by_arrow(table, schema, extras, tz=tz, timestamp_format=timestamp_format)
    if typed is None:
        typed = _typed_by_sql(table, schema, extras, tz=tz, timestamp_format=timestamp_format)
    _check_range(typed, table.column(schema.timestamp), schema.timestamp)
    result = _canonical(typed, schema, drop_duplicates=drop_duplicates, encodings=encodings)
    # Give the reading and reordering buffers back to the OS (mimalloc keeps them otherwise).
    pa.default_memory_pool().release_unused()
    return result


def _typed_by_arrow(
    table: pa.Table, schema: Schema, extras: list[str], *, tz: str | None,
    timestamp_format: str | None,
) -> pa.Table | None:
    """The canonical columns by Arrow casts alone, or None when something must be parsed.

    Same rules as :func:`_typed_by_sql`: text roles go through
    :func:`_clean_text` (NFC, no surrounding white space, blanks null),
    timestamps become naive UTC microseconds, rating and revenue become doubles.
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


def _has_non_ascii(values: pa.ChunkedArray) -> bool:
    """Whether any string holds a non-ASCII byte: one scan of the raw bytes, no kernel."""
    for chunk in values.chunks:
        if not len(chunk):
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)
        lo, hi = offsets[chunk.offset], offsets[chunk.offset + len(chunk)]
        data = chunk.buffers()[2]
        if hi > lo and np.frombuffer(data, dtype=np.uint8, count=hi - lo, offset=lo).max() > 127:
            return True
    return False


def _nfc(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` in Unicode NFC; only non-ASCII strings are normalised (ASCII is NFC)."""
    other = pc.invert(pc.string_is_ascii(values))
    subset = values.filter(other)
    normal = pc.utf8_normalize(subset, "NFC")
    if pc.all(pc.equal(normal, subset)).as_py() is not False:
        return values
    mask = pc.fill_null(other, False).combine_chunks()
    return pc.replace_with_mask(values, mask, normal.combine_chunks())


def _string_chunks(values: pa.ChunkedArray) -> Iterator[tuple[pa.Array, np.ndarray, np.ndarray]]:
    """Each non-empty chunk of a string column with its offsets and data bytes, in place."""
    for chunk in values.chunks:
        if len(chunk):
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[
                chunk.offset: chunk.offset + len(chunk) + 1]
            data = chunk.buffers()[2]  # None when every value is empty or null
            yield chunk, offsets, np.frombuffer(data or b"", dtype=np.uint8)


def _may_need_trim(values: pa.ChunkedArray) -> bool:
    """Whether a value of ``values`` is blank or may start or end with white space.

    Looks only at the first and last byte of each string (in place, no
    kernel): a byte up to 0x20 (ASCII white space and controls) or from 0x80
    (any non-ASCII character, such as a no-break space) means "maybe".
    """
    for chunk, offsets, data in _string_chunks(values):
        lengths = np.diff(offsets)
        valid = chunk.is_valid().to_numpy(zero_copy_only=False) if chunk.null_count else None
        filled = lengths > 0
        if not (filled.all() if valid is None else filled[valid].all()):
            return True  # a blank value, to become null
        if not filled.any():
            continue  # only nulls
        ends = np.concatenate((data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]))
        if ((ends <= 0x20) | (ends >= 0x80)).any():
            return True
    return False


def _clean_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` in NFC, without surrounding whitespace, blanks as null.

    NFC makes one name one value however it was typed ("café" as one code
    point or as "e" plus a combining accent); trimming removes every Unicode
    white space (tabs, no-break spaces...), like Python's ``str.strip``.
    Most columns are pure ASCII with nothing to trim: one scan of their
    bytes skips NFC, one look at each value's ends skips the trim, and the
    column is returned as it is (no copy: a 10M-event log is not held twice).
    """
    if _has_non_ascii(values):
        values = _nfc(values)
    if not _may_need_trim(values):
        return values
    values = pc.utf8_trim_whitespace(values)
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
        elif canonical in _TEXT_ROLES:  # cleaned by Arrow below, as in _typed_by_arrow
            select.append(f"CAST({quote(source)} AS VARCHAR) AS {canonical}")
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
    for name in schema.mapping.values():
        if name in _TEXT_ROLES:
            idx = typed.schema.get_field_index(name)
            values = _clean_text(typed.column(idx).cast(pa.string()))
            typed = typed.set_column(idx, pa.field(name, pa.string()), values)
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


_PACK_BYTES = 8  # ids of up to 8 bytes fit one uint64


def _key_parts(keys: np.ndarray, dtype: type) -> np.ndarray:
    """A view of uint64 ``keys`` as rows of ``dtype`` parts, most significant first (no copy)."""
    parts = keys.view(dtype).reshape(len(keys), -1)
    return parts[:, ::-1] if np.little_endian else parts


def _packed_ids(values: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """Ids of at most 8 bytes as uint64 keys (bytes in order, zero-padded), and their lengths.

    For strings without NUL bytes, the keys compare as the strings do (byte by
    byte, which is code-point order for UTF-8): ``"C0012" < "C01"`` exactly
    when their keys are. Returns None when an id is longer or a shorter id
    holds a NUL byte (padding would tie it with a longer one). No nulls.
    """
    keys = np.zeros(len(values), dtype=np.uint64)
    lengths = np.empty(len(values), dtype=np.uint8)
    start = 0
    for chunk, offsets, data in _string_chunks(values):
        size = np.diff(offsets)
        width = int(size.max())
        if width > _PACK_BYTES:
            return None
        data = data[offsets[0]: offsets[-1]]
        padded = _key_parts(keys[start: start + len(chunk)], np.uint8)
        if int(size.min()) == width:  # one width, as most id schemes have: one copy
            padded[:, :width] = data.reshape(len(chunk), width)
        else:
            if not data.all():
                return None
            starts = offsets[:-1] - offsets[0]
            for j in range(width):
                has = size > j
                padded[has, j] = data[starts[has] + j]
        lengths[start: start + len(chunk)] = size
        start += len(chunk)
    return (keys, lengths) if start else None


def _unpacked_ids(keys: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """The string array of :func:`_packed_ids`' ``keys`` of these ``lengths`` (its inverse)."""
    padded = _key_parts(keys, np.uint8)
    width = int(lengths.max())
    if int(lengths.min()) == width:
        data = np.ascontiguousarray(padded[:, :width]).ravel()
    else:
        data = padded[np.arange(_PACK_BYTES) < lengths[:, None]]
    offsets = np.zeros(len(keys) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(keys),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _compact_codes(keys: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Keys of :func:`_packed_ids` renumbered densely, two bytes at a time, in the same order.

    Each pair of byte positions keeps only the values that occur there (a
    prefix such as ``"C0"`` takes none, two decimal digits a hundred), and
    the pairs are combined as a mixed-radix number: ``"C00123"`` -> ``0123``
    in base 100 (the padding byte counts as a value where ids are shorter).
    Returns the codes and how many codes are possible, or None when that
    exceeds 2**32.
    """
    pairs = _key_parts(keys, np.uint16)
    codes = np.zeros(len(keys), dtype=np.uint32)
    size = 1
    for position in range(pairs.shape[1]):
        pair = pairs[:, position]
        present = np.bincount(pair, minlength=2**16) > 0
        values = int(present.sum())
        if values == 1:
            continue
        size *= values
        if size > 2**32:
            return None
        digit = (np.cumsum(present) - 1).astype(np.uint32)
        codes *= np.uint32(values)
        codes += digit[pair]
    return codes, size


def _radix_order(order: np.ndarray | None, group: np.ndarray, size: int, *,
                 sorted_group: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """``order`` and ``group`` (< ``size`` < 2**32) stably sorted by group, 16 bits at a time.

    ``order`` None stands for ``0 .. len(group) - 1`` (not gathered). Without
    ``sorted_group`` the sorted group is not made (None: one gather fewer).
    """
    shifts = (0, 16) if size > 2**16 else (0,)
    for shift in shifts:
        by_digit = np.argsort(((group >> shift) & 0xFFFF).astype(np.uint16), kind="stable")
        order = by_digit if order is None else order[by_digit]
        group = group[by_digit] if sorted_group or shift != shifts[-1] else None
    return order, group


def _journey_order(table: pa.Table) -> tuple[np.ndarray, Callable[[], pa.Array]]:
    """Row order by customer, then timestamp, then input row; and a function making the customers.

    Stable sorts of integers instead of a string sort: by timestamp first
    (nearly free when the log is in time order, as exports usually are),
    then by customer, 16 bits at a time (NumPy's radix sort). Ids of up to 8
    bytes (most id schemes) are packed into one integer each
    (:func:`_packed_ids`, no hashing), renumbered two bytes at a time
    (:func:`_compact_codes`) and the sorted customer column is unpacked from
    the sorted keys (10M events, 1M customers: 3.2-4.7 -> 1.4-2.3 CPU
    s). Longer ids are ranked among the distinct ids, which are found by
    hashing; the sorted column is then read off the sorted distinct ids.

    The customers in that order are made by the returned function, so that
    :func:`_reorder` can make them while it moves the other columns. A file
    in time order (timestamps never decrease with the row) is not sorted
    by time at all.
    """
    stamps = table.column(TIMESTAMP).to_numpy().view(np.int64)
    rows = table.column(_ROW).to_numpy()
    base = None if is_increasing(rows) else np.argsort(rows, kind="stable")
    if base is not None:  # ties must keep input order
        stamps = stamps[base]
    order = None if _non_decreasing(stamps) else np.argsort(stamps, kind="stable")
    if base is not None:
        order = base if order is None else base[order]
    packed = _packed_ids(table.column(CUSTOMER))
    if packed is not None:
        keys, lengths = packed
        compact = _compact_codes(keys)
        if compact is None:
            ordered_keys = keys if order is None else keys[order]
            by_key = np.argsort(ordered_keys, kind="stable")
            order = by_key if order is None else order[by_key]
        else:
            codes, size = compact
            del compact
            order = _radix_order(order, codes if order is None else codes[order], size,
                                 sorted_group=False)[0]
            del codes
        return order, lambda: _unpacked_ids(keys[order], lengths[order])
    customers = dictionary_encode(table.column(CUSTOMER))
    rank = pc.rank(customers.dictionary, sort_keys="ascending").to_numpy().astype(np.uint32)
    group = (rank - 1)[customers.indices.to_numpy()]
    order, group = _radix_order(order, group if order is None else group[order], len(rank))
    by_rank = np.empty(len(rank), dtype=np.int64)
    by_rank[rank - 1] = np.arange(len(rank))
    return order, lambda: customers.dictionary.take(pa.array(by_rank)).take(pa.array(group))


def _non_decreasing(values: np.ndarray) -> bool:
    """Whether no value is less than the one before it (then a stable sort keeps the order)."""
    return bool(np.all(values[1:] >= values[:-1]))


#: Text roles with few distinct values: reordered through their codes (twice as fast).
_FEW_VALUES = (ACTIVITY, CANONICAL["channel"], STAGE)


def _few_values(table: pa.Table) -> list[str]:
    """The text columns of ``table`` that :func:`_reorder` moves as dictionary codes."""
    return [f.name for f in table.schema if f.name in _FEW_VALUES and pa.types.is_string(f.type)]


def _reorder(table: pa.Table, order: np.ndarray, customers: Callable[[], pa.Array],
             encodings: dict[str, pa.DictionaryArray], *, pool: ThreadPoolExecutor | None = None,
             encoded: dict[str, Future] | None = None) -> pa.Table:
    """``table.take(order)``, given a function making its customer column in that order.

    Moving a string row by row touches scattered memory; a column with few
    distinct values (touchpoints, channels, stages) moves its small integer
    codes instead and is decoded from a dictionary that stays in cache. The
    moved codes are put in ``encodings`` under the column's name.

    ``customers`` is the second result of :func:`_journey_order`. With a
    ``pool`` the columns move side by side on its threads (Arrow's ``take`` and
    NumPy's gathers release the GIL); ``encoded`` holds the dictionary
    encodings of the few-value columns already begun there, before the
    order was known. The result is the same either way (tested).
    """
    indices = pa.array(order)
    few = set(_few_values(table))
    encoded = encoded or {}

    def move(name: str) -> pa.Array | pa.ChunkedArray:
        if name == CUSTOMER:
            return customers()
        if name in few:
            codes = encoded[name].result() if name in encoded else dictionary_encode(
                table.column(name))
            encodings[name] = moved = codes.take(indices)
            return moved.cast(pa.string())
        return table.column(name).take(indices)

    if pool is None:
        columns = [move(name) for name in table.column_names]
    else:
        columns = [f.result() for f in [pool.submit(move, name) for name in table.column_names]]
    return pa.Table.from_arrays(columns, schema=table.schema)


def _canonical(typed: pa.Table, schema: Schema, *, drop_duplicates: bool,
               encodings: dict[str, pa.DictionaryArray] | None = None) -> tuple[pa.Table, dict]:
    """Drop null rows, sort by customer, time and row, drop duplicates, number the events.

    ``encodings`` receives the dictionary encodings :func:`_reorder` made, when
    they still match the result's rows (see :func:`normalize_table`).
    """
    encodings = {} if encodings is None else encodings
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
        # The few-value columns are encoded while the order is found; the input
        # row numbers are not moved (ties keep input order: position order is it).
        with ThreadPoolExecutor(resolve_n_jobs(None)) as pool:
            encoded = {name: pool.submit(dictionary_encode, typed.column(name))
                       for name in _few_values(typed)}
            order, customers = _journey_order(typed)
            typed = _reorder(typed.drop_columns([_ROW]), order, customers, encodings,
                             pool=pool, encoded=encoded)
        same_customer = same_as_next(typed.column(CUSTOMER))
    if drop_duplicates:
        rows = typed.num_rows
        typed = _drop_duplicates(typed, [c for c in typed.column_names if c != _ROW],
                                 same_customer)
        if typed.num_rows < rows:
            same_customer = same_as_next(typed.column(CUSTOMER))
            encodings.clear()  # of the rows before the duplicates went
    result = typed.drop_columns([_ROW]) if _ROW in typed.column_names else typed
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
