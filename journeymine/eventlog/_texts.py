"""Read customer texts (reviews, chats) and survey answers into canonical tables.

Both go through the same machinery as event logs: the columns are found by
:class:`~journeymine.Schema` (same names, same did-you-mean errors), files
are read by DuckDB, and timestamps are normalised to UTC by the same SQL as
:meth:`journeymine.EventLog.from_arrow`. A :class:`RowKind` says what a table
holds (:data:`TEXTS` or :data:`ANSWERS`): which column every row needs and
what the output columns are called.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from journeymine._util._duckdb import connect
from journeymine.eventlog._csv import _read_csv_duckdb, _read_csv_pyarrow
from journeymine.eventlog._encoding import _DUCKDB_ENCODINGS, _codec_name
from journeymine.eventlog._parquet import read_parquet_table
from journeymine.eventlog._schema import (
    _CANDIDATES,
    CUSTOMER,
    TIMESTAMP,
    Schema,
    _norm,
    check_distinct_columns,
    missing_column_error,
    suggest,
)
from journeymine.eventlog._validate import (
    _RAW_TS,
    _ROW,
    _check_timestamps,
    _parses_text,
    _timestamp_sql,
    quote,
    row_numbers,
    to_arrow,
    utc_naive,
)
from journeymine.exceptions import (
    ColumnNotFoundError,
    DataQualityWarning,
    EmptyLogError,
    ReadError,
    SchemaError,
    ScoreError,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ANSWERS", "TEXTS", "RowKind", "read_rows", "read_texts"]

logger = logging.getLogger(__name__)

#: Canonical columns of a texts table, in output order.
TEXT, TOUCHPOINT, CHANNEL, RATING = "text", "touchpoint", "channel", "rating"
TEXT_COLUMNS = (CUSTOMER, TIMESTAMP, TEXT, TOUCHPOINT, CHANNEL, RATING)

# Touchpoint names in a texts file. Narrower than the event log's activity
# candidates: in a table of reviews, "name" or "action" rarely mean a touchpoint.
_TOUCHPOINT_CANDIDATES = (
    "touchpoint", "touch_point", "titik_kontak", "activity", "concept:name",
    "event", "event_name", "aktivitas",
)


@dataclasses.dataclass(frozen=True)
class RowKind:
    """What a table of customer rows holds, for :func:`read_rows`.

    Attributes
    ----------
    noun : str
        What one row is, in messages (``"text"``, ``"answer"``).
    role : str
        The :class:`Schema` role every row needs (rows where it is null are dropped).
    name : str
        What users call that column (and its keyword argument).
    examples : str
        Common names of that column, for the error when none is found.
    columns : dict
        Output name of canonical columns that are renamed (e.g. rating -> score).
    """

    noun: str
    role: str
    name: str
    examples: str
    columns: dict[str, str] = dataclasses.field(default_factory=dict)

    def output(self, canonical: str) -> str:
        """The output name of a canonical column."""
        return self.columns.get(canonical, canonical)


#: Customer texts: every row needs a text.
TEXTS = RowKind("text", "text", "text", "'text', 'review', 'comment', 'message', 'ulasan', "
                "'komentar'")
#: Survey answers: every row needs a numeric score; an optional comment.
ANSWERS = RowKind("answer", "rating", "score", "'score', 'nps', 'csat', 'rating', 'stars', "
                  "'skor'", {RATING: "score", TEXT: "comment"})


def _touchpoint_column(given: str | bool | None, columns: list[str], taken: set[str]) -> str | None:
    """The touchpoint column: the one named, else one with a common name, else none."""
    if given is False:
        return None
    if isinstance(given, str):
        if given not in columns:
            raise missing_column_error(given, "touchpoint", columns)
        return given
    by_norm = {_norm(c): c for c in reversed(columns)}
    return next(
        (by_norm[n] for n in map(_norm, _TOUCHPOINT_CANDIDATES)
         if n in by_norm and by_norm[n] not in taken),
        None,
    )


def _resolve(columns: list[str], roles: dict, kind: RowKind) -> tuple[Schema, str | None]:
    """Bind the roles of a table of rows: a Schema (activity unused) and the touchpoint column."""
    roles = dict(roles)
    touchpoint = roles.pop("touchpoint")
    pinned = {k: v for k, v in roles.items() if v is not None}
    schema = Schema(activity=False, stage=False, revenue=False, **pinned).resolve(columns)
    if getattr(schema, kind.role) is None:
        raise ColumnNotFoundError(
            f"No {kind.name} column found among the columns {columns}.",
            expected=f"a column with a common {kind.name} name such as {kind.examples}.",
            fix=_did_you_mean(columns, kind.role) + f"Name it explicitly: {kind.name}=<column "
            "name>.",
        )
    taken = {c for c in schema.mapping}
    tp = _touchpoint_column(touchpoint, columns, taken)
    if tp is not None and tp in taken:
        raise SchemaError(
            f"Column {tp!r} is used both as the touchpoint and as another role.",
            expected="a different column for each role.",
            fix=f"Name each role's column explicitly (customer=..., {kind.name}=..., "
            "touchpoint=...).",
        )
    return schema, tp


def _did_you_mean(columns: list[str], role: str) -> str:
    close = next((c for c in (suggest(n, columns) for n in _CANDIDATES[role]) if c), None)
    return f"Did you mean {close!r}? " if close else ""


def _frame_to_arrow(df: pd.DataFrame, convert: list[str], kind: RowKind) -> pa.Table:
    """A DataFrame as Arrow, with the ``convert`` columns cast to strings (nulls kept)."""
    frame = df.reset_index(drop=True).rename(columns=str)
    names = list(frame.columns)
    check_distinct_columns(names, f"The {kind.noun}s DataFrame")
    frame = frame.assign(**{c: frame[c].astype("string") for c in convert if c in names})
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise SchemaError(
            f"The {kind.noun}s DataFrame could not be converted: {exc}",
            expected="columns with one type each.",
            fix="Convert mixed-type columns first, e.g. df.assign(col=df['col'].astype(str)).",
        ) from None


def _read_file(path: str, encoding: str, customer: str | None, timestamp: str | None,
               kind: RowKind) -> pa.Table:
    """Read a CSV (optionally gzipped) or Parquet file/directory of rows as Arrow."""
    p = Path(path)
    if not p.exists():
        raise ReadError(
            f"The {kind.noun}s file {path!r} does not exist.",
            expected="the path of an existing CSV or Parquet file.",
            fix=f"Check the path (the working directory is {str(Path.cwd())!r}).",
        )
    parquet = p.is_dir() or p.suffix.lower() in (".parquet", ".pq")
    if not parquet and p.stat().st_size == 0:
        raise _empty(f"The {kind.noun}s file {path!r} is empty.", kind)
    if parquet:
        return read_parquet_table(path)
    # Customer ids and timestamps are read as text (as for event logs: ids keep
    # leading zeros); every other column as DuckDB sniffs it.
    unbound = Schema(customer=customer, timestamp=timestamp, activity=False, stage=False,
                     text=False, rating=False, revenue=False, channel=False)
    codec = _codec_name(encoding)
    if codec in _DUCKDB_ENCODINGS:
        table, _ = _read_csv_duckdb(path, unbound, None, _DUCKDB_ENCODINGS[codec], None)
    else:
        table, _ = _read_csv_pyarrow(path, unbound, None, codec, None)
    return table


def _empty(what: str, kind: RowKind) -> EmptyLogError:
    return EmptyLogError(
        what,
        expected=f"a header row and at least one {kind.noun} (customer id, timestamp, "
        f"{kind.name}).",
        fix="Check that the export finished and that the right file was given.",
    )


def read_texts(
    path_or_df: str | PathLike[str] | pd.DataFrame,
    *,
    customer: str | None = None,
    timestamp: str | None = None,
    text: str | None = None,
    touchpoint: str | bool | None = None,
    channel: str | bool | None = None,
    rating: str | bool | None = None,
    tz: str | None = None,
    encoding: str = "utf-8",
) -> pd.DataFrame:
    """Read customer texts (reviews, chats, survey comments) into a canonical table.

    Columns are detected like an event log's (:class:`~journeymine.Schema`):
    ``customer_id``/``user_id``/``pelanggan``..., ``timestamp``/``ts``/
    ``waktu``..., ``text``/``review``/``comment``/``ulasan``...; optional
    ``touchpoint``, ``channel`` and ``rating``/``stars``/``nps``. Timestamps are
    parsed and converted to UTC exactly as for event logs (ISO 8601, ``+07:00``
    offsets, epoch numbers; naive values are in ``tz``, UTC by default).

    Parameters
    ----------
    path_or_df : str, path-like or pandas.DataFrame
        A CSV file (``.csv``, ``.csv.gz``), a Parquet file or directory, or
        a DataFrame (never modified).
    customer, timestamp, text : str, optional
        Column names; detected from common names when ``None``.
    touchpoint, channel, rating : str or bool, optional
        Optional columns; detected when ``None``, never used when ``False``.
    tz : str, optional
        Time zone of naive timestamps, e.g. ``"Asia/Jakarta"``.
    encoding : str, default "utf-8"
        Text encoding of a CSV file (``"cp1252"`` for files saved by Excel).

    Returns
    -------
    pandas.DataFrame
        One row per non-empty text, in input order: ``customer_id`` (str),
        ``timestamp`` (UTC-aware; stored as naive UTC like event logs),
        ``text`` (str, trimmed), then ``touchpoint``, ``channel`` (str) and
        ``rating`` (float) when present, then every other column unchanged.

    Raises
    ------
    ColumnNotFoundError
        A named column is missing (the closest name is suggested) or no
        customer, timestamp or text column can be detected.
    EmptyLogError
        There are no rows, or no row has a non-empty text.
    TimestampError
        Timestamps could not be parsed.
    ReadError, EncodingError
        The file is missing, not CSV/Parquet, or not in ``encoding``.

    Warns
    -----
    DataQualityWarning
        Rows with an empty or null text were dropped (with their count).

    Examples
    --------
    >>> import pandas as pd
    >>> from journeymine.eventlog._texts import read_texts
    >>> raw = pd.DataFrame({
    ...     "user_id": ["u1", "u2"],
    ...     "waktu": ["2024-05-01 17:00+07:00", "2024-05-02 09:30"],
    ...     "ulasan": ["Pengiriman lama bgt", 5],
    ... })
    >>> texts = read_texts(raw)
    >>> texts[["customer_id", "text"]].values.tolist()
    [['u1', 'Pengiriman lama bgt'], ['u2', '5']]
    >>> str(texts["timestamp"][0])
    '2024-05-01 10:00:00+00:00'
    """
    roles = dict(customer=customer, timestamp=timestamp, text=text, touchpoint=touchpoint,
                 channel=channel, rating=rating)
    return read_rows(path_or_df, roles, TEXTS, tz=tz, encoding=encoding)


def read_rows(path_or_df: str | PathLike[str] | pd.DataFrame, roles: dict, kind: RowKind, *,
              tz: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a table of ``kind`` rows (see :func:`read_texts`); ``roles`` names columns by role."""
    import pandas as pd

    if isinstance(path_or_df, pd.DataFrame):
        if path_or_df.empty:
            raise _empty(f"The {kind.noun}s DataFrame has no rows (columns: "
                         f"{list(path_or_df.columns)}).", kind)
        schema, tp = _resolve([str(c) for c in path_or_df.columns], roles, kind)
        # Scores are cast to numbers by DuckDB, so a column mixing 9 and "sepuluh" is
        # passed as text and reported as not numeric (rather than failing in Arrow).
        score = schema.rating if kind.role == "rating" else None
        strings = [c for c in (schema.customer, schema.text, tp, score) if c]
        table = _frame_to_arrow(path_or_df, strings, kind)
    elif isinstance(path_or_df, (str, PathLike)):
        table = _read_file(str(path_or_df), encoding, roles["customer"], roles["timestamp"], kind)
        if table.num_rows == 0:
            raise _empty(f"The {kind.noun}s file {str(path_or_df)!r} has a header but no rows.",
                         kind)
        schema, tp = _resolve(table.column_names, roles, kind)
    else:
        raise SchemaError(
            f"Expected a path or a pandas DataFrame of {kind.noun}s, got "
            f"{type(path_or_df).__name__}.",
            expected=f"a CSV/Parquet path or a DataFrame with customer, timestamp and "
            f"{kind.name} columns.",
            fix="Pass a file path or build a DataFrame first.",
        )
    return _normalize(table, schema, tp, tz, kind)


def _normalize(table: pa.Table, schema: Schema, touchpoint: str | None, tz: str | None,
               kind: RowKind) -> pd.DataFrame:
    """Canonical columns, UTC timestamps, rows without ``kind``'s column dropped; in DuckDB."""
    roles = {CUSTOMER: schema.customer, TIMESTAMP: schema.timestamp, TEXT: schema.text,
             TOUCHPOINT: touchpoint, CHANNEL: schema.channel, RATING: schema.rating}
    bound = {canon: col for canon, col in roles.items() if col}
    needed = {"text": TEXT, "rating": RATING}[kind.role]
    table, aware = utc_naive(table, schema.timestamp)
    # As for event logs: the session time zone is the one naive timestamps are in.
    con = connect(None if aware else tz)
    try:
        con.register("raw", table.append_column(_ROW, row_numbers(table.num_rows)))
        dtypes = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE raw)").fetchall())
        select = []
        for canon, col in bound.items():
            if canon == TIMESTAMP:
                expr = _timestamp_sql(con, col, dtypes[col], None, None if aware else tz)
            elif canon == RATING:
                expr = f"try_cast({quote(col)} AS DOUBLE)"
            else:
                expr = f"NULLIF(trim(CAST({quote(col)} AS VARCHAR)), '')"
            select.append(f"{expr} AS {quote(kind.output(canon))}")
        if needed == RATING:
            _check_numeric(con, bound[RATING], kind)
        reserved = {kind.output(c) for c in TEXT_COLUMNS} | {_ROW}
        extras = [c for c in table.column_names if c not in bound.values() and c != _ROW]
        shadowed = [c for c in extras if c in reserved]
        if shadowed:
            warnings.warn(
                f"Dropped {kind.noun}s column(s) {shadowed}: their names are reserved, and "
                f"the roles are played by: {', '.join(f'{k}={v}' for k, v in bound.items())}.",
                DataQualityWarning, stacklevel=4,
            )
        select += [quote(c) for c in extras if c not in reserved]
        select.append(_ROW)
        check = _parses_text(dtypes[schema.timestamp])
        if check:
            select.append(f"CAST({quote(schema.timestamp)} AS VARCHAR) AS {_RAW_TS}")
        con.execute(f"CREATE TEMP TABLE typed AS SELECT {', '.join(select)} FROM raw")
        if check:
            _check_timestamps(con, schema.timestamp)
        column = quote(kind.output(needed))
        empty = con.execute(f"SELECT count(*) FROM typed WHERE {column} IS NULL").fetchone()[0]
        if empty == table.num_rows:
            raise _empty(f"All {empty:,} {kind.noun}s have an empty or null {kind.name} (column "
                         f"{bound[needed]!r}).", kind)
        if empty:
            warnings.warn(
                f"Dropped {empty:,} of {table.num_rows:,} {kind.noun}(s) with an empty or null "
                f"{kind.name}.", DataQualityWarning, stacklevel=4,
            )
        keep = [c for c in con.table("typed").columns
                if c not in (_ROW, _RAW_TS)]
        result = to_arrow(con.execute(
            f"SELECT {', '.join(map(quote, keep))} FROM typed WHERE {column} IS NOT NULL "
            f"ORDER BY {_ROW}"
        ))
    finally:
        con.close()
    logger.info("%s columns: %s", kind.noun.capitalize(),
                ", ".join(f"{kind.output(k)}={v}" for k, v in bound.items()))
    df = result.to_pandas()
    df[TIMESTAMP] = df[TIMESTAMP].dt.tz_localize("UTC")
    return df


def _check_numeric(con, column: str, kind: RowKind) -> None:
    """Refuse values of the required numeric column that are present but not numbers."""
    col = quote(column)
    bad, examples = con.execute(
        f"SELECT count(*), list(DISTINCT CAST({col} AS VARCHAR)) FILTER (WHERE rn <= 3) "
        f"FROM (SELECT {col}, row_number() OVER () AS rn FROM raw "
        f"WHERE NULLIF(trim(CAST({col} AS VARCHAR)), '') IS NOT NULL "
        f"AND try_cast({col} AS DOUBLE) IS NULL)").fetchone()
    if bad:
        raise ScoreError(
            f"{bad:,} {kind.noun}(s) have a {kind.name} that is not a number in the column "
            f"{column!r}, e.g. {', '.join(map(repr, sorted(examples or [])))}.",
            expected=f"numbers (e.g. 0-10 for NPS, 1-5 for CSAT); empty cells for no "
            f"{kind.name}.",
            fix=f"Clean the column (e.g. map 'sepuluh' to 10, blank out 'N/A') or name the "
            f"right one with {kind.name}=<column name>.",
        )
