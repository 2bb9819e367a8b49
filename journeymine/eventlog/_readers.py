"""Readers: CSV, Parquet, XES and SQL into a validated :class:`EventLog`.

CSV, Parquet and SQL are read by DuckDB (multi-threaded, straight into Arrow);
XES is parsed in a streaming fashion with :func:`xml.etree.ElementTree.iterparse`.
Nothing is ever written to disk: a failing read leaves no file behind.
"""

from __future__ import annotations

import codecs
import csv
import glob
import gzip
import io
import logging
import os
import re
import stat
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import duckdb
import pyarrow as pa

from journeymine._util._duckdb import connect
from journeymine.eventlog._eventlog import EventLog, relation_to_arrow
from journeymine.eventlog._schema import Schema
from journeymine.eventlog._validate import NUMERIC_TYPES, duckdb_literal, quote, to_arrow
from journeymine.exceptions import EmptyLogError, EncodingError, ReadError, SchemaError

__all__ = ["read_csv", "read_parquet", "read_sql", "read_xes"]

logger = logging.getLogger(__name__)

PathType = str | PathLike[str]

_ROLE_KEYS = ("customer", "activity", "timestamp", "channel", "stage", "text", "rating", "revenue")
# Encodings DuckDB's CSV reader decodes natively, by Python codec name.
_DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "iso8859-1": "latin-1"}


# ---------------------------------------------------------------------- helpers
def _split_schema(schema: Schema | None, kwargs: dict[str, Any]) -> Schema:
    """Merge ``schema`` with role keyword arguments (popped from ``kwargs``)."""
    if schema is not None and not isinstance(schema, Schema):
        raise SchemaError(
            f"schema must be a journeymine Schema, got {type(schema).__name__}.",
            expected="jm.Schema(customer=..., activity=..., timestamp=...) or None.",
            fix="Pass a Schema, or name columns with keywords such as customer='user_id'.",
        )
    given = {k: kwargs.pop(k) for k in _ROLE_KEYS if kwargs.get(k) is not None}
    for k in _ROLE_KEYS:
        kwargs.pop(k, None)
    return Schema(**{**vars(schema or Schema()), **given})


def _empty_error(path: PathType, what: str) -> EmptyLogError:
    return EmptyLogError(
        f"The file {str(path)!r} {what}.",
        expected="a header row and at least one event (customer, activity, timestamp).",
        fix="Check that the export finished and that the right file was given.",
    )


def _missing_error(path: PathType, kind: str) -> ReadError:
    return ReadError(
        f"The {kind} file {str(path)!r} does not exist.",
        expected="the path of an existing file.",
        fix=f"Check the path (the working directory is {str(Path.cwd())!r}).",
    )


def _has_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise EncodingError(
            f"Unknown text encoding {encoding!r}.",
            expected="an encoding Python knows, such as 'utf-8', 'latin-1' or 'cp1252'.",
            fix='Pass encoding="utf-8", encoding="latin-1" or encoding="cp1252".',
        ) from None


def _not_regular_error(path: str) -> ReadError:
    mode = os.stat(path).st_mode
    kind = ("a character device" if stat.S_ISCHR(mode) else "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a block device" if stat.S_ISBLK(mode) else "not a regular file")
    empty = " (it is always empty)" if path == os.devnull else ""
    return ReadError(
        f"{path!r} is not a regular file but {kind}{empty}: there are no events to read.",
        expected="the path of a .csv or .csv.gz file.",
        fix="Save the data to a file and pass its path (or read a stream with pandas and "
        "use EventLog.from_pandas).",
    )


def _gzip_problem(path: str) -> str | None:
    """Why the gzip file ``path`` cannot be trusted (truncated, corrupt), or None.

    A gzip stream ends with its length and CRC: reading to there is the only
    way to know the file is whole, and DuckDB (like many readers) returns the
    rows before a cut without a word. Streaming through zlib costs about 5% of
    a read; the output is discarded, bounded to 16 MB at a time.
    """
    with open(path, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return None
        f.seek(0)
        inflate, fed = zlib.decompressobj(31), False
        data = f.read(1 << 20)
        try:
            while data:
                inflate.decompress(data, 1 << 24)
                fed = True
                if inflate.eof:  # a member ended; another may follow (as `cat a.gz b.gz`)
                    data = inflate.unused_data or f.read(1 << 20)
                    if 0 < len(data) < 2:
                        data += f.read(1 << 20)
                    if data and not data.startswith(b"\x1f\x8b"):
                        return None  # trailing bytes after a complete stream, as gzip allows
                    inflate, fed = zlib.decompressobj(31), False
                else:
                    data = inflate.unconsumed_tail or f.read(1 << 20)
        except zlib.error as exc:
            return f"corrupt ({exc})"
    return "truncated (the compressed stream stops before its end)" if fed else None


def _check_gzip(path: str) -> None:
    """Raise ReadError if ``path`` (or any file a glob matches) is a cut or corrupt gzip file."""
    for name in sorted(glob.glob(path, recursive=True)) if _has_glob(path) else [path]:
        problem = _gzip_problem(name)
        if problem:
            raise ReadError(
                f"The gzip file {name!r} is {problem}: reading it would give only part of "
                "the events.",
                expected="a complete gzip file (`gzip -t` checks one).",
                fix="Download or copy the file again, or re-compress the original.",
            )


def _first_file(path: str) -> str | None:
    if not _has_glob(path):
        return path
    names = sorted(glob.glob(path, recursive=True))
    return names[0] if names else None


def _head(path: str, size: int = 4096) -> bytes:
    """The first ``size`` bytes of ``path``, gunzipped if it is gzipped."""
    with _open_maybe_gzip(path) as f:
        return f.read(size)


def _text_lines(path: str, codec: str) -> io.TextIOWrapper:
    """``path`` as text (gunzipped, undecodable bytes replaced), for error diagnosis."""
    return io.TextIOWrapper(_open_maybe_gzip(path), encoding=codec, errors="replace",
                            newline="")


def _wide_encoding(head: bytes) -> str | None:
    """The UTF-16/32 encoding ``head`` looks like (BOM or NUL-byte pattern), or None."""
    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    nul = head.count(0)
    if not head or nul * 4 < len(head):
        return None
    if nul * 4 >= len(head) * 3:
        return "utf-32"
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd >= 9 * even:
        return "utf-16"  # little-endian: DuckDB's "utf-16" reads it without a BOM
    if even >= 9 * odd:
        return "utf-16-be"
    return None


def _is_utf8(head: bytes) -> bool:
    """Whether ``head`` (maybe cut inside a character) is UTF-8."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _check_encoding(path: str, codec: str, encoding: str) -> str:
    """Check the start of ``path`` against ``codec``; return the codec to read it with.

    UTF-16 read as UTF-8 or Latin-1 gives NUL bytes between letters or a
    byte-order mark in the first column name; UTF-8 read as UTF-16 gives
    Chinese-looking names. Both are caught here, with the encoding to pass.
    A big-endian UTF-16 file with a BOM is routed to Python's codec (DuckDB
    reads little-endian only).
    """
    name = _first_file(path)
    if name is None:
        return codec
    head = _head(name)
    wide = _wide_encoding(head)
    if codec.startswith(("utf-16", "utf-32")):
        if codec == "utf-16" and head[:2] == b"\xfe\xff":
            return "utf-16-python"  # big-endian with a BOM
        if codec == "utf-16" and wide == "utf-16-be":
            suggestion = "utf-16-be"
        elif wide is None and b"\x00" not in head and _is_utf8(head):
            suggestion = "utf-8"
        else:
            return codec
        looks = ("like big-endian UTF-16 without a byte-order mark"
                 if suggestion == "utf-16-be" else "like UTF-8 (no NUL bytes, no byte-order mark)")
    elif wide is not None:
        suggestion = wide
        kind = {"utf-16": "UTF-16", "utf-16-be": "big-endian UTF-16", "utf-32": "UTF-32"}[wide]
        bom = head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:4] == b"\x00\x00\xfe\xff"
        looks = (f"like {kind} text: it starts with a {kind} byte-order mark" if bom
                 else f"like {kind} text: NUL bytes between the letters")
    else:
        return codec
    raise EncodingError(
        f"The CSV file {name!r} is not {encoding} text: it looks {looks}.",
        expected=f"a file saved as {encoding}.",
        fix=f'Pass encoding="{suggestion}", or re-save the file as UTF-8.',
    )


def _ragged_error(path: str, line: int | None, found: int, header: list[str] | int,
                  sep: str) -> ReadError:
    names = f" ({', '.join(header)})" if isinstance(header, list) else ""
    width = len(header) if isinstance(header, list) else header
    where = f"line {line} has {found}" if line else f"a line has {found}"
    return ReadError(
        f"The CSV file {path!r} has rows with a different number of fields than its header: "
        f"{where} field(s), the header has {width}{names}.",
        expected=f"the same number of {sep!r}-separated fields on every line.",
        fix=f"Fix or remove that line (a value with an unquoted {sep!r}? a line cut short?), "
        "or quote values that contain the separator.",
    )


def _find_ragged(path: str, codec: str, sep: str, limit: int = 2_000_000
                 ) -> tuple[int, int, list[str]] | None:
    """The first line (1-based), its field count and the header, where the count differs."""
    with _text_lines(path, codec) as text:
        reader = csv.reader(text, delimiter=sep)
        header = next(reader, None)
        if header is None:
            return None
        header[0] = header[0].lstrip("\ufeff")
        for row in reader:
            if row and len(row) != len(header):
                return reader.line_num, len(row), header
            if reader.line_num > limit:
                break
    return None


def _check_ragged(path: str, codec: str, columns: list[str]) -> None:
    """Raise the ragged-rows ReadError when a sniffed single column hides a separator."""
    if len(columns) != 1:
        return
    counts = {d: columns[0].count(d) for d in ",;\t|"}
    sep = max(counts, key=counts.get)
    name = _first_file(path)
    if counts[sep] and name:
        found = _find_ragged(name, codec, sep)
        if found:
            raise _ragged_error(name, *found, sep)


def _check_duplicate_header(path: str, codec: str, columns: list[str], sep: str | None) -> None:
    """Raise SchemaError if the header repeats a name (readers rename it ``name_1``)."""
    lowered = {c.lower() for c in columns}
    if not any((m := re.fullmatch(r"(.+)_\d+", c)) and m.group(1).lower() in lowered
               for c in columns):
        return  # the common case: nothing renamed, nothing to read
    name = _first_file(path)
    if name is None:
        return
    with _text_lines(name, codec) as text:
        line = text.readline()
    for delim in [sep] if sep else [",", ";", "\t", "|"]:
        names = next(csv.reader([line], delimiter=delim), [])
        if len(names) == len(columns):
            break
    else:
        return
    names = [n.lstrip("\ufeff").strip() for n in names]
    seen = [n.lower() for n in names]
    dupes = [n for n in names if seen.count(n.lower()) > 1]
    if dupes:
        raise _duplicate_header_error(name, dupes)


def _duplicate_header_error(path: str, dupes: list[str]) -> SchemaError:
    return SchemaError(
        f"The CSV file {path!r} has duplicate column names in its header: {sorted(set(dupes))}.",
        expected="distinct column names (as for a DataFrame).",
        fix="Rename or delete the duplicate columns in the file, so it is clear which "
        "one holds the data.",
    )


# ---------------------------------------------------------------------- CSV
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
        fields than its header (the first such line is named), or is not a
        readable CSV file.
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
    >>> from journeymine.eventlog._readers import read_csv
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
    if codec == "utf-16-python":
        table, resolved = _read_csv_pyarrow(path_str, wanted, sep, "utf-16",
                                            kwargs.get("timestamp_format"))
    elif codec in _DUCKDB_ENCODINGS:
        table, resolved = _read_csv_duckdb(path_str, wanted, sep, _DUCKDB_ENCODINGS[codec],
                                           kwargs.get("timestamp_format"), kwargs.get("tz"))
    else:
        table, resolved = _read_csv_pyarrow(path_str, wanted, sep, codec,
                                            kwargs.get("timestamp_format"))
    if table.num_rows == 0:
        raise _empty_error(path_str, "has a header but no events")
    return EventLog.from_arrow(table, resolved, **kwargs)


#: ISO 8601 date or date-time, optional fraction and offset: the only text
#: timestamps whose type DuckDB's sniffer may decide (never "01/02/2024").
_ISO_TIMESTAMP = r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d+)?)?)?\s*(Z|[+-]\d\d(:?\d\d)?)?"


def _csv_types(
    resolved: Schema, sniffed: dict[str, str], timestamp_format: str | None, iso: bool
) -> dict[str, str]:
    """Column types to force: text ids, and how the CSV reader takes the timestamps.

    ISO timestamps the sniffer recognised are parsed by the CSV reader as
    ``TIMESTAMPTZ`` in the session time zone (naive values are local to it,
    offsets are honoured): several times faster than parsing text later.
    Anything else (other formats, ``timestamp_format``) stays text for the
    validator, which reports unparsable values; epoch numbers stay numbers.
    """
    types = {resolved.customer: "VARCHAR"}
    ts_type = sniffed.get(resolved.timestamp, "VARCHAR").upper()
    if timestamp_format or not ts_type.startswith(NUMERIC_TYPES):
        native = ts_type.startswith(("TIMESTAMP", "DATE")) and iso and not timestamp_format
        types[resolved.timestamp] = "TIMESTAMPTZ" if native else "VARCHAR"
    return types


def _iso_sample(con: duckdb.DuckDBPyConnection, path: str, sep: str | None, encoding: str,
                column: str, rows: int = 2000) -> bool:
    """Whether the first ``rows`` non-blank values of ``column`` are all ISO 8601."""
    sample = _csv_sql(path, sep, encoding, {column: "VARCHAR"}, columns=[column])
    ok = con.sql(
        f"SELECT bool_and(regexp_full_match(trim(v), '{_ISO_TIMESTAMP}')) FROM "
        f"(SELECT {quote(column)} AS v FROM ({sample}) WHERE trim({quote(column)}) <> '' "
        f"LIMIT {rows})"
    ).fetchone()[0]
    return bool(ok)


def _csv_sql(path: str, sep: str | None, encoding: str, types: dict[str, str] | None,
             full_sample: bool = False, columns: list[str] | None = None) -> str:
    options = ["header = true", f"encoding = {duckdb_literal(encoding)}"]
    if sep is not None:
        options.append(f"delim = {duckdb_literal(sep)}")
    if types:
        body = ", ".join(f"{duckdb_literal(k)}: {duckdb_literal(v)}" for k, v in types.items())
        options.append(f"types = {{{body}}}")
    if full_sample:
        options.append("sample_size = -1")
    select = ", ".join(map(quote, columns)) if columns else "*"
    return f"SELECT {select} FROM read_csv({duckdb_literal(path)}, {', '.join(options)})"


def _read_csv_duckdb(
    path: str, wanted: Schema, sep: str | None, encoding: str, timestamp_format: str | None,
    tz: str | None = None,
) -> tuple[pa.Table, Schema]:
    con = connect(tz)
    try:
        try:
            header = con.sql(_csv_sql(path, sep, encoding, None) + " LIMIT 0")
            if sep is None:
                _check_ragged(path, encoding, header.columns)
            _check_duplicate_header(path, encoding, header.columns, sep)
            sniffed = dict(zip(header.columns, map(str, header.types), strict=True))
            resolved = wanted.resolve(header.columns)
            iso = _iso_sample(con, path, sep, encoding, resolved.timestamp)
            types = _csv_types(resolved, sniffed, timestamp_format, iso)
            try:
                table = to_arrow(con.sql(_csv_sql(path, sep, encoding, types)))
                if types.get(resolved.timestamp) == "TIMESTAMPTZ" and \
                        table.column(resolved.timestamp).null_count:
                    # Blank or unparsable: the validator tells them apart and names the bad ones.
                    types = _csv_types(resolved, sniffed, timestamp_format, iso=False)
                    table = to_arrow(con.sql(_csv_sql(path, sep, encoding, types)))
            except duckdb.ConversionException:
                # A type was guessed from the first rows and a later row
                # disagrees: sniff every row, and leave text timestamps to the
                # validator (it names the values it cannot parse).
                logger.info("Re-reading %s with types sniffed from every row.", path)
                types = _csv_types(resolved, sniffed, timestamp_format, iso=False)
                table = to_arrow(con.sql(_csv_sql(path, sep, encoding, types, True)))
        except duckdb.Error as exc:
            raise _csv_error(path, encoding, exc, sep) from None
    finally:
        con.close()
    return table, resolved


def _encoding_fix(path: str, encoding: str) -> tuple[str, str]:
    """Where the first byte ``encoding`` rejects may be, and the encoding to suggest."""
    if encoding != "latin-1":
        return "", ('Pass encoding="cp1252" for files saved by Excel on Windows, or '
                    'encoding="latin-1", or re-save the file as UTF-8 (Excel: "CSV UTF-8").')
    # DuckDB's Latin-1 has no characters at 0x80-0x9F; Windows-1252 puts € and curly quotes there
    where = ""
    name = _first_file(path)
    if name:
        with _open_maybe_gzip(name) as f:
            for number, line in enumerate(f, 1):
                bad = re.search(rb"[\x80-\x9f]", line)
                if bad:
                    where = f" (byte 0x{bad.group()[0]:02X} on line {number})"
                    break
    return where, ('Pass encoding="cp1252": files saved by Excel on Windows use the bytes '
                   "0x80-0x9F for characters such as € and curly quotes, which Latin-1 does not "
                   'have. Or re-save the file as UTF-8 (Excel: "CSV UTF-8").')


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
        return EncodingError(
            f"The CSV file {path!r} is not {encoding} text{where}.",
            expected=f"a file saved as {encoding}.",
            fix=fix,
        )
    if "error when sniffing" in lowered and sep is not None:
        name = _first_file(path)
        found = _find_ragged(name, encoding, sep) if name else None
        if found:
            return _ragged_error(name, *found, sep)
    first = message.splitlines()[0] if message else type(exc).__name__
    return ReadError(
        f"Could not read {path!r} as CSV: {first}",
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
        raise EncodingError(
            f"The CSV file {path!r} is not {codec} text ({exc.reason} at byte {exc.start}).",
            expected=f"a file saved as {codec}.",
            fix=_pyarrow_encoding_fix(codec, exc),
        ) from None
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
        raise EncodingError(
            f"The CSV file {path!r} is not {codec} text ({exc.reason}).",
            expected=f"a file saved as {codec}.",
            fix=_pyarrow_encoding_fix(codec, exc),
        ) from None
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            raise _empty_error(path, "is empty") from None
        if re.search(r"Expected \d+ columns, got \d+", str(exc)):
            found = _find_ragged(path, codec, sep)
            if found:
                raise _ragged_error(path, *found, sep) from None
        raise ReadError(
            f"Could not read {path!r} as CSV: {exc}",
            expected="a delimited text file with a header row.",
            fix="Check the separator (pass sep=...) and the file's quoting.",
        ) from None
    except OSError as exc:  # e.g. a damaged compressed stream the gzip check did not see
        raise ReadError(
            f"Could not read {path!r}: {exc}.",
            expected="a complete, readable CSV or gzipped CSV file.",
            fix="Download or copy the file again.",
        ) from None
    return table, resolved


def _pyarrow_encoding_fix(codec: str, exc: UnicodeDecodeError) -> str:
    if codec == "cp1252":
        # 0x81, 0x8D, 0x8F, 0x90, 0x9D are the only bytes cp1252 leaves undefined: such a
        # file is usually UTF-8 (e.g. the curly quote ” is E2 80 9D) or mixes encodings.
        byte = exc.object[exc.start] if exc.start < len(exc.object) else None
        shown = f"0x{byte:02X}" if byte is not None else "a byte"
        return (f'{shown} is not a cp1252 character: try encoding="utf-8", or re-save the '
                "file as UTF-8 if it mixes encodings.")
    return 'Pass the encoding the file was saved in, e.g. encoding="latin-1".'


# ---------------------------------------------------------------------- Parquet
def read_parquet_table(path_str: str) -> pa.Table:
    """Read a Parquet file, a directory of ``.parquet`` files or a glob into Arrow (DuckDB).

    Raises
    ------
    ReadError
        Nothing is there, or it is not Parquet.
    """
    target = path_str
    if not _has_glob(path_str):
        p = Path(path_str)
        if p.is_dir():
            target = str(p / "**" / "*.parquet")
        elif not p.exists():
            raise _missing_error(path_str, "Parquet")
    con = connect()
    try:
        return to_arrow(con.sql(f"SELECT * FROM read_parquet({duckdb_literal(target)})"))
    except duckdb.Error as exc:
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
        Nothing exists at ``path``, or it is not Parquet.
    EmptyLogError
        The files hold no rows.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from journeymine.eventlog._readers import read_parquet
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


# ---------------------------------------------------------------------- XES
_XES_TYPES = {"string", "date", "int", "float", "boolean", "id"}


def _open_maybe_gzip(path: str):
    """Open ``path`` for binary reading, transparently gunzipping it."""
    f = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    magic = f.read(2)
    f.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f, mode="rb")
    return f


def _xes_value(tag: str, value: str | None, key: str) -> Any:
    """Convert an XES attribute value to its Python type."""
    if value is None:
        return None
    try:
        if tag == "int":
            return int(value)
        if tag == "float":
            return float(value)
        if tag == "boolean":
            return value.strip().lower() == "true"
        if tag == "date":
            # Python keeps microseconds: cut longer fractions (e.g. nanoseconds).
            parsed = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value.strip()))
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed
    except ValueError:
        raise ReadError(
            f"The XES {tag} attribute {key!r} has the value {value!r}, which is not a {tag}.",
            expected="values matching their XES type (dates as ISO 8601).",
            fix="Fix the file, or declare the attribute as <string>.",
        ) from None
    return value


def _iter_xes(path: str) -> Iterator[dict[str, Any]]:
    """Yield one dict per event, with trace attributes as ``case:<key>``."""
    with _open_maybe_gzip(path) as handle:
        depth = 0
        root = None
        trace_attrs: dict[str, Any] = {}
        trace_events: list[dict[str, Any]] = []
        event: dict[str, Any] | None = None
        in_trace = False
        for kind, elem in ElementTree.iterparse(handle, events=("start", "end")):
            tag = elem.tag.rsplit("}", 1)[-1]
            if kind == "start":
                depth += 1
                if root is None:
                    root = elem
                elif tag == "trace" and depth == 2:
                    in_trace, trace_attrs, trace_events = True, {}, []
                elif tag == "event" and in_trace and depth == 3:
                    event = {}
                continue
            depth -= 1
            if tag in _XES_TYPES and "key" in elem.attrib:
                key = elem.attrib["key"]
                if event is not None and depth == 3:
                    event[key] = _xes_value(tag, elem.attrib.get("value"), key)
                elif in_trace and event is None and depth == 2:
                    trace_attrs[key] = _xes_value(tag, elem.attrib.get("value"), key)
            elif tag == "event" and event is not None and depth == 2:
                trace_events.append(event)
                event = None
                elem.clear()
            elif tag == "trace" and in_trace and depth == 1:
                case = {f"case:{k}": v for k, v in trace_attrs.items()}
                for ev in trace_events:
                    yield {**case, **ev}
                in_trace, trace_events = False, []
                elem.clear()
                root.clear()  # drop finished traces (and log-level elements) from the tree


def _xes_column(values: list[Any]) -> pa.Array:
    """An Arrow array for one attribute, falling back to text on mixed types."""
    kinds = {type(v) for v in values if v is not None}
    if kinds == {datetime}:
        aware = {v.tzinfo is not None for v in values if v is not None}
        if aware == {True}:
            return pa.array(values, pa.timestamp("us", tz="UTC"))
        if aware == {False}:
            return pa.array(values, pa.timestamp("us"))
        return pa.array([None if v is None else v.isoformat() for v in values], pa.string())
    if kinds and kinds <= {int, float} and bool not in kinds:
        return pa.array(values, pa.int64() if kinds == {int} else pa.float64())
    if len(kinds) <= 1:
        return pa.array(values)
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def read_xes(path: PathType, schema: Schema | None = None, **kwargs: Any) -> EventLog:
    """Read an XES event log (``.xes`` or ``.xes.gz``) into an :class:`EventLog`.

    The file is parsed as a stream, one trace at a time, so large logs do not
    need a DOM in memory. Trace attributes become columns ``case:<key>`` (the
    trace's ``concept:name`` is ``case:concept:name``, the customer id); event
    attributes keep their keys (``concept:name``, ``time:timestamp``,
    ``org:resource``...). Values are typed by their XES tag: string, date,
    int, float, boolean, id. Nested (list/container) attributes are skipped.
    pm4py is not needed.

    Parameters
    ----------
    path : str or path-like
        The XES file, optionally gzipped.
    schema : Schema, optional
        Column roles; by default pm4py's names are detected.
    **kwargs
        Passed to :meth:`EventLog.from_arrow`.

    Returns
    -------
    EventLog

    Raises
    ------
    ReadError
        The file is missing, not (well-formed) XML, or has a badly typed value.
    EmptyLogError
        The file has no events.

    Examples
    --------
    >>> import os, tempfile
    >>> from journeymine.eventlog._readers import read_xes
    >>> path = os.path.join(tempfile.mkdtemp(), "journeys.xes")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write('''<?xml version="1.0" encoding="UTF-8"?>
    ... <log xes.version="1.0">
    ...   <trace><string key="concept:name" value="c1"/>
    ...     <event><string key="concept:name" value="iklan_instagram"/>
    ...            <date key="time:timestamp" value="2024-05-01T10:00:00+07:00"/></event>
    ...     <event><string key="concept:name" value="checkout"/>
    ...            <date key="time:timestamp" value="2024-05-01T10:20:00+07:00"/></event>
    ...   </trace>
    ... </log>''')
    >>> log = read_xes(path)
    >>> log
    EventLog(2 events, 1 customers, 2 touchpoints, 2024-05-01 → 2024-05-01)
    >>> str(log.table.column("timestamp")[0].as_py())
    '2024-05-01 03:00:00'
    """
    path_str = str(path)
    wanted = _split_schema(schema, kwargs)
    kwargs.setdefault("source", path_str)
    if not Path(path_str).is_file():
        raise _missing_error(path_str, "XES")
    columns: dict[str, list[Any]] = {}
    n = 0
    try:
        for row in _iter_xes(path_str):
            for key, value in row.items():
                col = columns.get(key)
                if col is None:
                    col = columns[key] = [None] * n
                col.append(value)
            n += 1
            for col in columns.values():
                if len(col) < n:
                    col.append(None)
    except ElementTree.ParseError as exc:
        raise ReadError(
            f"{path_str!r} is not well-formed XML: {exc}.",
            expected="an XES file (<log><trace><event>...).",
            fix="Check that the file is complete (not truncated) and is XES, not CSV.",
        ) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ReadError(
            f"{path_str!r} looks gzipped but cannot be decompressed: {exc}.",
            expected="a complete .xes.gz file.",
            fix="Re-download or re-compress the file.",
        ) from None
    if n == 0:
        raise _empty_error(path_str, "has no events (no <trace><event> elements)")
    table = pa.table({k: _xes_column(v) for k, v in columns.items()})
    return EventLog.from_arrow(table, wanted, **kwargs)


# ---------------------------------------------------------------------- SQL
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
    >>> from journeymine.eventlog._readers import read_sql
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

