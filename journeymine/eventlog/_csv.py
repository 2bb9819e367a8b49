"""CSV reader: a delimited text file (optionally gzipped) into a validated EventLog.

The file is checked first (there, regular, a whole gzip stream, in the
encoding asked for), then read by DuckDB, in parallel and straight into Arrow,
for the encodings DuckDB decodes, or by pyarrow (which transcodes) for any
other Python codec. DuckDB sniffs the file once (dialect, header, types) and
reads it with that dialect; column types are forced where sniffing would lose
data (customer ids stay text) and ISO timestamps are parsed in the same
query; DuckDB's and pyarrow's errors become errors that name the line and
the fix.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from journeymine._util._duckdb import connect
from journeymine._util._memory import lean_memory
from journeymine.eventlog._csv_shape import (
    _check_duplicate_header,
    _check_ragged,
    _check_sep,
    _duplicate_header_error,
    _ragged_error,
    _ragged_line_error,
)
from journeymine.eventlog._encoding import (
    _DUCKDB_ENCODINGS,
    _check_encoding,
    _codec_name,
    _encoding_fix,
    _not_encoded_error,
    _pyarrow_encoding_fix,
)
from journeymine.eventlog._eventlog import EventLog
from journeymine.eventlog._files import (
    PathType,
    _check_gzip,
    _empty_error,
    _first_file,
    _has_glob,
    _missing_error,
    _not_regular_error,
    _open_maybe_gzip,
)
from journeymine.eventlog._schema import Schema, _split_schema
from journeymine.eventlog._validate import NUMERIC_TYPES, duckdb_literal, quote, to_arrow
from journeymine.exceptions import EncodingError, ReadError

__all__ = ["read_csv"]

# The readers lived in one module, _readers, and have always logged under its name.
logger = logging.getLogger("journeymine.eventlog._readers")


@lean_memory
def read_csv(
    path: PathType,
    schema: Schema | None = None,
    *,
    sep: str | None = None,
    encoding: str = "utf-8",
    **kwargs: Any,
) -> EventLog:
    """Read a CSV file (optionally gzipped) into an :class:`EventLog`.

    The file is read by DuckDB, in parallel, straight into Arrow. The header
    is read first to find the columns, so the customer id column is always
    read as text (ids such as ``"00123"`` keep their leading zeros) and the
    timestamp column is parsed by the same rules as
    :meth:`EventLog.from_pandas` (ISO 8601, ``+07:00``/``Z`` offsets,
    ``timestamp_format``, or epoch numbers).

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` or ``.csv.gz`` file with a header row.
    schema : Schema, optional
        Column roles; columns not named are detected from common names.
    sep : str, optional
        Field separator; detected (``,``, ``;``, tab, ``|``) when ``None``.
    encoding : str, default "utf-8"
        Text encoding. ``"utf-8"``, ``"utf-16"`` and ``"latin-1"`` are
        decoded by DuckDB; any other Python codec (e.g. ``"cp1252"`` for
        files saved by Excel on Windows) is decoded by pyarrow.
    **kwargs
        Passed to :meth:`EventLog.from_arrow`: ``customer``, ``activity``,
        ``timestamp`` (column names), ``stages``, ``timestamp_format``,
        ``tz``, ``drop_duplicates``...

    Returns
    -------
    EventLog

    Raises
    ------
    ReadError
        The file does not exist, is not a regular file (``/dev/null``, a
        pipe), is a truncated or corrupt gzip file (checked to its end before
        anything is read, so no partial log), has rows with more or fewer
        fields than its header (the first such line is named), has a header
        that ``sep`` does not split (the separator it holds is named), or is
        not a readable CSV file.
    EncodingError
        The file is not in ``encoding`` (the message says which one to try;
        UTF-16/32 is recognised by its byte-order mark or NUL bytes).
    EmptyLogError
        The file is empty or has only a header.
    SchemaError
        The header repeats a column name (as for a DataFrame).
    ColumnNotFoundError
        A named column is missing or a required one cannot be detected.
    TimestampError
        Timestamps that do not parse, are outside 1900-01-01 .. 2262-04-11,
        or are epoch numbers mixing units.

    Examples
    --------
    >>> import os, tempfile
    >>> from journeymine.eventlog import read_csv
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "events.csv")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write("customer_id,touchpoint,ts\\n"
    ...                 "00123,instagram_ad,2024-05-01 10:00\\n"
    ...                 "00123,checkout,2024-05-01 10:30\\n"
    ...                 "00456,instagram_ad,2024-05-02 09:00\\n")
    >>> log = read_csv(path)
    >>> log
    EventLog(3 events, 2 customers, 2 touchpoints, 2024-05-01 → 2024-05-02)
    >>> log.table.column("customer_id").to_pylist()
    ['00123', '00123', '00456']
    """
    path_str = str(path)
    wanted = _split_schema(schema, kwargs)
    kwargs.setdefault("source", path_str)
    if not _has_glob(path_str):
        p = Path(path_str)
        if not p.is_file():
            if p.is_dir():
                raise ReadError(
                    f"{path_str!r} is a directory, not a CSV file.",
                    expected="the path of one .csv or .csv.gz file.",
                    fix="Pass one file, or a glob such as 'folder/*.csv'.",
                )
            if p.exists():
                raise _not_regular_error(path_str)
            raise _missing_error(path_str, "CSV")
        if p.stat().st_size == 0:
            raise _empty_error(path_str, "is empty")
    codec = _codec_name(encoding)
    try:
        _check_gzip(path_str)
        codec = _check_encoding(path_str, codec, encoding)
    except OSError as exc:
        if isinstance(exc, ReadError):
            raise
        raise ReadError(
            f"Could not read {path_str!r}: {exc.strerror or exc}.",
            expected="a readable .csv or .csv.gz file.",
            fix="Check the file's permissions and that it is not in use.",
        ) from None
    if codec in _DUCKDB_ENCODINGS:
        table, resolved = _read_csv_duckdb(path_str, wanted, sep, _DUCKDB_ENCODINGS[codec],
                                           kwargs.get("timestamp_format"), kwargs.get("tz"))
    else:  # "utf-16-python": big-endian UTF-16 with a BOM, which DuckDB does not read
        table, resolved = _read_csv_pyarrow(path_str, wanted, sep,
                                            "utf-16" if codec == "utf-16-python" else codec,
                                            kwargs.get("timestamp_format"))
    if table.num_rows == 0:
        raise _empty_error(path_str, "has a header but no events")
    return EventLog.from_arrow(table, resolved, **kwargs)


@dataclasses.dataclass(frozen=True)
class _Dialect:
    """What DuckDB's sniffer found in a CSV file: its dialect, columns and types."""

    options: dict[str, Any]
    columns: list[str]
    types: dict[str, str]
    formats: dict[str, str | None]

    @classmethod
    def sniff(cls, con: duckdb.DuckDBPyConnection, path: str, sep: str | None,
              encoding: str) -> _Dialect:
        """Sniff ``path`` (or the first file its glob matches) once.

        Raises
        ------
        duckdb.Error
            The sniffer's own error (no such file, ragged rows...).
        """
        first = _first_file(path) if _has_glob(path) else path
        if first is None:  # no file matches: read_csv names the problem
            con.sql(_csv_sql(path, _base_options(sep, encoding)))
        (delim, quote_char, escape, new_line, comment, skip, header, columns, date_format,
         ts_format) = con.execute(
            "SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, HasHeader, "
            f"Columns, DateFormat, TimestampFormat FROM sniff_csv({duckdb_literal(first)}, "
            f"{', '.join(f'{k} = {v}' for k, v in _base_options(sep, encoding).items())})"
        ).fetchone()
        empty = "(empty)"
        if quote_char == empty:  # no quotes in the sample: later rows may still quote (RFC 4180)
            quote_char, escape = '"', '"' if escape == empty else escape
        options = {"delim": delim, "quote": quote_char, "escape": escape,
                   "new_line": new_line, "comment": comment, "skip": skip, "header": header}
        options = {k: duckdb_literal("" if v == empty else v) if isinstance(v, str) else v
                   for k, v in options.items()}
        options.update(auto_detect="false", encoding=duckdb_literal(encoding))
        return cls(options, [c["name"] for c in columns],
                   {c["name"]: c["type"] for c in columns},
                   {"DATE": date_format, "TIMESTAMP": ts_format})

    def sql(self, path: str, types: dict[str, str], parse: tuple[str, bool] | None = None
            ) -> str:
        """The query reading ``path`` in this dialect without sniffing it again.

        ``parse`` is a text column of ISO timestamps to parse in the query and
        whether the session is in UTC (see :func:`_iso_sql`).
        """
        sql = _csv_sql(path, {**self.options, "columns": _types_sql({**self.types, **types})})
        if parse is None:
            return sql
        column, utc = parse
        return sql.replace("SELECT *", f"SELECT * REPLACE ({_iso_sql(column, utc)} AS "
                           f"{quote(column)})", 1)

    def is_iso(self, column: str) -> bool:
        """Whether the sniffer typed ``column`` as ISO 8601 dates or timestamps."""
        ts_type = self.types.get(column, "VARCHAR").upper()
        kind = "DATE" if ts_type == "DATE" else "TIMESTAMP"
        return ts_type.startswith(("TIMESTAMP", "DATE")) and not self.formats[kind]

    def text_types(self, resolved: Schema, timestamp_format: str | None) -> dict[str, str]:
        """Column types to force for the validator: text ids, text timestamps (not epochs)."""
        types = {resolved.customer: "VARCHAR"}
        ts_type = self.types.get(resolved.timestamp, "VARCHAR").upper()
        if timestamp_format or not ts_type.startswith(NUMERIC_TYPES):
            types[resolved.timestamp] = "VARCHAR"
        return types

    def read(self, con: duckdb.DuckDBPyConnection, path: str, resolved: Schema,
             timestamp_format: str | None, tz: str | None) -> pa.Table:
        """Read the file, with ISO timestamps parsed by DuckDB when they all parse.

        ISO timestamps (sniffed as dates or timestamps without a format of
        their own) are parsed here by :func:`_iso_sql`, several times faster
        than as text by the validator (naive values are in ``tz``, offsets
        are honoured). Blank or unparsable values, other formats and
        ``timestamp_format`` leave the column as text for the validator,
        which names the values it cannot parse; epoch numbers stay numbers.

        Raises
        ------
        duckdb.Error
            The reader's error.
        """
        text = self.text_types(resolved, timestamp_format)
        column = resolved.timestamp
        if timestamp_format or not self.is_iso(column):
            return self._read(con, path, text)
        table = self._read(con, path, text, parse=(column, not tz or tz.upper() == "UTC"))
        if table.column(column).null_count:
            # Blank or unparsable: the validator tells them apart and names the bad ones.
            table = self._read(con, path, text)
        return table

    def _read(self, con: duckdb.DuckDBPyConnection, path: str, types: dict[str, str],
              parse: tuple[str, bool] | None = None) -> pa.Table:
        try:
            return to_arrow(con.sql(self.sql(path, types, parse)))
        except duckdb.ConversionException:
            # A type was guessed from the first rows and a later row
            # disagrees: sniff every row, with text timestamps.
            logger.info("Re-reading %s with types sniffed from every row.", path)
            options = {k: v for k, v in self.options.items() if k in ("delim", "encoding")}
            return to_arrow(con.sql(_csv_sql(path, {
                "header": "true", **options, "types": _types_sql(types), "sample_size": -1})))


def _iso_sql(column: str, utc: bool) -> str:
    """SQL parsing a text column of ISO 8601 timestamps: naive UTC, or ``TIMESTAMPTZ``.

    In a UTC session (``utc``) the result is a naive UTC ``TIMESTAMP``:
    values without an offset or zone name (what exports mostly hold) are
    parsed as ``TIMESTAMP`` (``Z`` is UTC), twice as fast as ``TIMESTAMPTZ``,
    which takes the rest (a ``+``, a ``-`` after the date, a zone name). In a
    local session every value is parsed as ``TIMESTAMPTZ`` (naive values are
    local to the session). Unparsable values, and words such as
    ``infinity``, become null.
    """
    q = quote(column)
    digit = f"ltrim({q})[1] BETWEEN '0' AND '9'"
    if not utc:
        return f"CASE WHEN {digit} THEN try_cast({q} AS TIMESTAMPTZ) END"
    aware = f"CASE WHEN {digit} THEN make_timestamp(epoch_us(try_cast({q} AS TIMESTAMPTZ))) END"
    # Starts with a digit (byte comparisons: no substring of the first character),
    # no "+" and no "-" after the date; ``contains`` is about a third of the cost of
    # ``strpos`` and ``[1]`` (1M events: 0.70 -> 0.49 s for the read, loaded).
    plain = (f"{q} >= '0' AND {q} < ':' AND NOT contains({q}, '+') "
             f"AND NOT contains(substr({q}, 11), '-')")
    return f"CASE WHEN {plain} THEN coalesce(try_cast({q} AS TIMESTAMP), {aware}) ELSE {aware} END"


def _types_sql(types: dict[str, str]) -> str:
    """``types`` (column -> DuckDB type) as the struct literal ``read_csv`` takes."""
    return "{" + ", ".join(f"{duckdb_literal(k)}: {duckdb_literal(v)}"
                           for k, v in types.items()) + "}"


def _base_options(sep: str | None, encoding: str) -> dict[str, str]:
    options = {"header": "true", "encoding": duckdb_literal(encoding)}
    if sep is not None:
        options["delim"] = duckdb_literal(sep)
    return options


def _csv_sql(path: str, options: dict[str, Any]) -> str:
    body = ", ".join(f"{k} = {v}" for k, v in options.items())
    return f"SELECT * FROM read_csv({duckdb_literal(path)}, {body})"


def _read_csv_duckdb(
    path: str, wanted: Schema, sep: str | None, encoding: str, timestamp_format: str | None,
    tz: str | None = None,
) -> tuple[pa.Table, Schema]:
    """Sniff once, check the header, read with the sniffed dialect and the types to force."""
    con = connect(tz)
    try:
        try:
            dialect = _Dialect.sniff(con, path, sep, encoding)
            columns = dialect.columns
            if sep is None:
                _check_ragged(path, encoding, columns)
            _check_sep(path, sep, columns)
            _check_duplicate_header(path, encoding, columns, sep)
            resolved = wanted.resolve(columns)
            table = dialect.read(con, path, resolved, timestamp_format, tz)
        except duckdb.Error as exc:
            raise _csv_error(path, encoding, exc, sep) from None
    finally:
        con.close()
    return table, resolved


def _csv_error(path: str, encoding: str, exc: Exception, sep: str | None = None
               ) -> ReadError | EncodingError:
    message = str(exc)
    lowered = message.lower()
    if "No files found" in message:
        return _missing_error(path, "CSV")
    ragged = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if ragged:
        line = re.search(r"Line: (\d+)", message)
        delim = re.search(r"delimiter = (\S+)", message)
        return _ragged_error(path, int(line.group(1)) if line else None, int(ragged.group(2)),
                             int(ragged.group(1)), sep or (delim.group(1) if delim else ","))
    if "invalid unicode" in lowered or re.search(r"not [\w-]+ encoded", lowered):
        line = re.search(r"Line: (\d+)", message)
        where, fix = _encoding_fix(path, encoding)
        if line:
            where = f" (first bad byte on line {line.group(1)})"
        return _not_encoded_error(path, encoding, where, fix)
    if "error when sniffing" in lowered and sep is not None:
        error = _ragged_line_error(path, encoding, sep)
        if error:
            return error
    return _not_csv_error(path, message.splitlines()[0] if message else type(exc).__name__)


def _not_csv_error(path: str, detail: object) -> ReadError:
    """The ReadError for a file the CSV reader rejects, with the reader's ``detail``."""
    return ReadError(
        f"Could not read {path!r} as CSV: {detail}",
        expected="a delimited text file with a header row.",
        fix="Check the separator (pass sep=...) and the file's quoting.",
    )


def _read_csv_pyarrow(
    path: str, wanted: Schema, sep: str | None, codec: str, timestamp_format: str | None
) -> tuple[pa.Table, Schema]:
    """Read a CSV in an encoding DuckDB does not decode (pyarrow transcodes it)."""
    from pyarrow import csv as pacsv

    try:
        with _open_maybe_gzip(path) as raw:
            sample = raw.read(1 << 16).decode(codec, errors="strict")
    except OSError as exc:
        raise ReadError(
            f"Could not read {path!r}: {exc}",
            expected="a readable CSV or gzipped CSV file.",
            fix="Check the path and the file's permissions.",
        ) from None
    except UnicodeDecodeError as exc:
        raise _not_encoded_error(path, codec, f" ({exc.reason} at byte {exc.start})",
                                 _pyarrow_encoding_fix(codec, exc)) from None
    given_sep = sep
    if sep is None:
        try:
            sep = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
    read_opts = pacsv.ReadOptions(encoding=codec)
    parse_opts = pacsv.ParseOptions(delimiter=sep)
    try:
        with pacsv.open_csv(path, read_options=read_opts, parse_options=parse_opts) as reader:
            sniffed = {f.name: str(f.type) for f in reader.schema}
        _check_sep(path, given_sep, reader.schema.names)
        names = [n.lower() for n in reader.schema.names]  # pyarrow keeps repeated names
        if len(set(names)) < len(names):
            raise _duplicate_header_error(path, [n for n in reader.schema.names
                                                 if names.count(n.lower()) > 1])
        resolved = wanted.resolve(list(sniffed))
        numeric_ts = pa.types.is_integer(reader.schema.field(resolved.timestamp).type) or \
            pa.types.is_floating(reader.schema.field(resolved.timestamp).type)
        types = {resolved.customer: pa.string()}
        if timestamp_format or not numeric_ts:
            types[resolved.timestamp] = pa.string()
        table = pacsv.read_csv(
            path, read_options=read_opts, parse_options=parse_opts,
            convert_options=pacsv.ConvertOptions(column_types=types),
        )
    except UnicodeDecodeError as exc:
        raise _not_encoded_error(path, codec, f" ({exc.reason})",
                                 _pyarrow_encoding_fix(codec, exc)) from None
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            raise _empty_error(path, "is empty") from None
        if re.search(r"Expected \d+ columns, got \d+", str(exc)):
            error = _ragged_line_error(path, codec, sep)
            if error:
                raise error from None
        raise _not_csv_error(path, exc) from None
    except OSError as exc:  # e.g. a damaged compressed stream the gzip check did not see
        raise ReadError(
            f"Could not read {path!r}: {exc}.",
            expected="a complete, readable CSV or gzipped CSV file.",
            fix="Download or copy the file again.",
        ) from None
    return table, resolved
