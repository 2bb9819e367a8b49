"""Spark reader: a Spark DataFrame or table as an :class:`EventLog` whose events stay in Spark.

:func:`read_spark` validates the events with Spark jobs whose results are a
handful of numbers and distinct names (null and parse-failure counts, the
timestamp range, the stage spellings, the non-ASCII names to normalise), never
the events themselves, and returns a :class:`SparkEventLog`: the canonical
events as a lazy Ibis table on the PySpark backend. :func:`journeymine.discover`
runs its portable Ibis queries (``journeymine.discovery._queries``) on that
table, so only aggregated results reach the driver. The DuckDB fast path
(``journeymine.discovery._positional``) needs the events in memory and is never
used for such a log.

Validation follows :func:`~journeymine.eventlog._validate.normalize_table`:
the same column detection, reserved names, text cleaning (no surrounding white
space, blanks are null; customer, touchpoint and channel names in Unicode NFC),
null and duplicate rows dropped with a warning that counts them, timestamps in
1900-2262. ``event_index`` is the event's position within its customer after
sorting by time and input order (Spark's partition and row order): the
queries only ever order events within a customer.
"""

from __future__ import annotations

import datetime
import logging
import unicodedata
import warnings
from typing import TYPE_CHECKING, Any

from journeymine._util._duckdb import check_tz
from journeymine._util._optional import import_optional
from journeymine.eventlog._eventlog import EventLog, StagesLike, as_stage_map
from journeymine.eventlog._schema import (
    ACTIVITY,
    CANONICAL,
    CHANNEL,
    CUSTOMER,
    EVENT_INDEX,
    STAGE,
    TIMESTAMP,
    Schema,
    _split_schema,
    check_distinct_columns,
)
from journeymine.eventlog._stages import StageMap
from journeymine.eventlog._validate import (
    TIMESTAMP_MAX,
    TIMESTAMP_MIN,
    extra_columns,
    stage_mapping,
)
from journeymine.exceptions import (
    BackendError,
    DataQualityWarning,
    EmptyLogError,
    SchemaError,
    TimestampError,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SparkEventLog", "read_spark"]

logger = logging.getLogger(__name__)

_ROW = "__jm_row"
_RAW_TS = "__jm_raw_timestamp"  # the trimmed timestamp text, kept while it is checked
#: Roles whose values are names: trimmed, blanks null, normalised to NFC.
_NAME_ROLES = (CUSTOMER, ACTIVITY, CHANNEL)
#: At most this many distinct non-ASCII names are normalised to NFC (they go to the driver).
NFC_LIMIT = 100_000
_NON_ASCII = "[^\\x00-\\x7F]"
#: Surrounding white space of any kind (Java's Unicode White_Space: tabs, no-break spaces...).
_SURROUNDING_SPACE = "(?U)^\\s+|\\s+$"
#: A timestamp string that carries its own offset.
_HAS_OFFSET = "(Z|[+-]\\d\\d(:?\\d\\d)?)$"
_EPOCH = datetime.datetime(1970, 1, 1)
_TIMESTAMP_TYPES = ("timestamp", "timestamp_ntz", "date", "string")


def _import_pyspark() -> Any:
    """The ``pyspark.sql`` module, or an :class:`OptionalDependencyError` naming the extra."""
    return import_optional("pyspark.sql", "read_spark", extra="spark")


class SparkEventLog(EventLog):
    """An event log whose events stay in Spark; built by :func:`~journeymine.read_spark`.

    It is an :class:`EventLog` for discovery: :func:`journeymine.discover`
    runs on it with the Spark backend and returns the same
    :class:`~journeymine.ProcessMap` as for a log in memory. Counts, the
    touchpoints and the time range come from Spark aggregations. What needs
    every event on one machine (``table``, :meth:`describe`, sessions and
    episodes, personas) raises :class:`~journeymine.exceptions.BackendError`;
    :meth:`to_pandas` collects the events when that is really wanted.

    Attributes
    ----------
    events : ibis.Table
        The canonical events, a lazy table on :attr:`backend`.
    backend : ibis backend
        Ibis' PySpark backend on the session that holds the events.
    schema, validation, source, stages
        As for :class:`EventLog`.
    """

    def __init__(self, events, backend, schema: Schema, *, report: dict, source: str,
                 stages: StageMap | None, totals: dict):
        self.events = events
        self.backend = backend
        self.schema = schema
        self.validation = dict(report)
        self.source = source
        self.stages = stages
        self._totals = totals
        self._activities: list[str] | None = None

    @property
    def table(self):
        """Not available: the events stay in Spark (see :meth:`to_pandas`)."""
        raise BackendError(
            f"This log's {self.n_events:,} events stay in Spark (read_spark): this needs them "
            "in memory on one machine, as an Arrow table.",
            expected="an in-memory EventLog, or an operation that runs on Spark (discover() at "
            "customer grain).",
            fix="Filter or sample the events in Spark and build an in-memory log with "
            "jm.EventLog.from_pandas(log.to_pandas()), or use log.events (an Ibis table).",
        )

    @property
    def columns(self) -> list[str]:
        """The canonical column names."""
        return list(self.events.columns)

    @property
    def n_events(self) -> int:
        """Number of events (counted when the log was read)."""
        return self.validation["rows_out"]

    @property
    def n_customers(self) -> int:
        """Number of distinct customers (counted when the log was read)."""
        return self._totals["customers"]

    @property
    def activities(self) -> list[str]:
        """Distinct touchpoints, sorted (one Spark job on first use)."""
        if self._activities is None:
            names = self.events.select(ACTIVITY).distinct().to_pyarrow().column(0)
            self._activities = sorted(names.to_pylist())
        return list(self._activities)

    def time_range(self) -> tuple[Any, Any]:
        """First and last timestamp (UTC, found when the log was read)."""
        return self._totals["first"], self._totals["last"]

    def _stage_column_map(self) -> StageMap:
        """The most common stage of each touchpoint, counted by Spark (ties: earlier stage)."""
        staged = self.events.filter(self.events[STAGE].notnull())
        counts = staged.group_by([ACTIVITY, STAGE]).aggregate(n=staged.count())
        frame = counts.to_pandas()
        order = {s: i for i, s in enumerate(StageMap().order)}
        top = frame.assign(rank=frame[STAGE].map(order)).sort_values(
            ["n", "rank"], ascending=[False, True]).drop_duplicates(ACTIVITY)
        return StageMap(dict(zip(top[ACTIVITY], top[STAGE], strict=True)))

    def to_pandas(self) -> pd.DataFrame:
        """Every event, collected to the driver, as a new DataFrame (timestamps UTC-aware).

        Only for logs that fit one machine: filter or sample ``events`` first.
        """
        df = self.events.order_by([CUSTOMER, EVENT_INDEX]).to_pandas()
        df[TIMESTAMP] = df[TIMESTAMP].dt.tz_localize(None).dt.tz_localize("UTC")
        return df

    def to_ibis(self, con=None):
        """The events as an Ibis table on the log's Spark backend.

        Raises
        ------
        BackendError
            ``con`` is not a PySpark backend: the events cannot move there.
        """
        if con is not None and con.name != self.backend.name:
            raise BackendError(
                f"The events of this log are on the Spark backend, not on {con.name!r}.",
                expected="con=None or the log's own backend (log.backend).",
                fix="Call discover(log) without con: it runs on the log's Spark backend.",
            )
        return self.events

    def __repr__(self) -> str:
        lo, hi = self.time_range()
        return (f"SparkEventLog({self.n_events:,} events, {self.n_customers:,} customers, "
                f"{self._totals['touchpoints']} touchpoints, {lo:%Y-%m-%d} → {hi:%Y-%m-%d})")

    def _repr_html_(self) -> str:
        import html

        head = self.events.limit(5).to_pandas().to_html(index=False, border=0)
        return (f"<div class='jm-eventlog'><strong>{html.escape(repr(self))}</strong>"
                f"<div>columns: {html.escape(self.schema.describe())}</div>{head}</div>")


def read_spark(
    data: Any,
    schema: Schema | None = None,
    *,
    customer: str | None = None,
    activity: str | None = None,
    timestamp: str | None = None,
    channel: str | bool | None = None,
    stage: str | bool | None = None,
    text: str | bool | None = None,
    rating: str | bool | None = None,
    revenue: str | bool | None = None,
    stages: StagesLike = None,
    tz: str | None = None,
    drop_duplicates: bool = True,
    spark: Any = None,
    source: str | None = None,
) -> SparkEventLog:
    """Read a Spark DataFrame or table as an event log that stays in Spark.

    The events are validated by Spark jobs that return only counts and
    distinct names, and :func:`~journeymine.discover` on the result runs its
    Ibis queries on Spark: the events never travel to the driver, only the
    aggregated tables do. Needs the ``spark`` extra and a Java runtime.

    Parameters
    ----------
    data : pyspark.sql.DataFrame or str
        The events, or the name of a table (or view) of the session, such
        as ``"lake.web_events"``.
    schema : Schema, optional
        Column roles; keywords override it. Roles not given are detected
        from common column names, as by :meth:`EventLog.from_arrow`.
    customer, activity, timestamp, channel, stage, text, rating, revenue : str
        Column names of each role (``False`` for an optional role means
        "do not use one").
    stages : StageMap, dict or path, optional
        Touchpoint to stage map used by discovery (see :meth:`EventLog.stage_map`).
    tz : str, optional
        Time zone of naive timestamps (``TIMESTAMP_NTZ``, dates, and strings
        without an offset); UTC by default. Spark ``TIMESTAMP`` values are
        instants already.
    drop_duplicates : bool, default True
        Drop exact duplicate rows (with a warning that counts them).
    spark : pyspark.sql.SparkSession, optional
        The session to look a table name up in (the active session by default).
    source : str, optional
        A label for where the events came from (default: the table name, or
        ``"spark"``).
    Returns
    -------
    SparkEventLog

    Raises
    ------
    ColumnNotFoundError
        A named column is missing (the closest name is suggested), or a
        required role cannot be detected.
    TimestampError
        The timestamp column is not a timestamp, date or ISO 8601 string
        column, a string did not parse, or a value is outside 1900-2262.
    EmptyLogError
        No rows, or none with a customer, activity and timestamp.
    SchemaError
        ``data`` is neither a DataFrame nor a table name, or column names repeat.

    Notes
    -----
    Ibis' PySpark backend sets the session time zone
    (``spark.sql.session.timeZone``) to UTC. Reading runs four to six small
    Spark jobs (scans and one aggregation with the duplicate shuffle).

    Examples
    --------
    >>> import journeymine as jm
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
    >>> events = spark.read.parquet("events.parquet")  # doctest: +SKIP
    >>> log = jm.read_spark(events, customer="user_id", activity="event")  # doctest: +SKIP
    >>> pm = jm.discover(log)  # doctest: +SKIP
    """
    sql = _import_pyspark()
    import ibis
    from pyspark.sql import functions as sf

    check_tz(tz)
    wanted = _split_schema(schema, dict(
        customer=customer, activity=activity, timestamp=timestamp, channel=channel,
        stage=stage, text=text, rating=rating, revenue=revenue))
    df, label = _as_dataframe(sql, data, spark)
    names = [str(c) for c in df.columns]
    check_distinct_columns(names, fix="Rename or drop the duplicates, e.g. df.drop(...) or "
                           "df.withColumnRenamed(...).")
    resolved = wanted.resolve(names)
    logger.info("Event log columns: %s", resolved.describe())
    backend = ibis.pyspark.connect(df.sparkSession)  # sets the session time zone to UTC
    extras = extra_columns(names, resolved, stacklevel=3)
    typed = df.select(*_typed_columns(df, resolved, tz), *[sf.col(f"`{c}`") for c in extras],
                      sf.monotonically_increasing_id().alias(_ROW))
    typed = _normalised_names(typed)
    report = _check(typed, resolved)
    if resolved.stage:
        typed = _stage_names(typed, resolved)
    canonical, report, totals = _canonical(typed, report, drop_duplicates=drop_duplicates)
    view = f"jm_events_{id(canonical):x}"
    canonical.createOrReplaceTempView(view)
    return SparkEventLog(backend.table(view), backend, resolved, report=report,
                         source=source or label, stages=as_stage_map(stages), totals=totals)


def _as_dataframe(sql: Any, data: Any, spark: Any) -> tuple[Any, str]:
    """``data`` as a Spark DataFrame, and a label for it."""
    if isinstance(data, sql.DataFrame):
        return data, "spark"
    if not isinstance(data, str) or not data.strip():
        raise SchemaError(
            f"Expected a Spark DataFrame or a table name, got {type(data).__name__}.",
            expected="a pyspark.sql.DataFrame or a table name such as 'lake.events'.",
            fix="Use jm.EventLog.from_pandas for pandas DataFrames, jm.read_parquet for files "
            "on one machine, or spark.read.parquet(path) for a lake path.",
        )
    session = spark or sql.SparkSession.getActiveSession()
    if session is None:
        raise SchemaError(
            f"No Spark session to look up the table {data!r} in.",
            expected="an active SparkSession, or spark=session.",
            fix="Pass spark=SparkSession.builder.getOrCreate().",
        )
    if not session.catalog.tableExists(data):
        tables = [t.name for t in session.catalog.listTables()]
        raise SchemaError(
            f"The Spark session has no table or view {data!r}.",
            expected=f"one of its tables {tables[:12]}." if tables else "an existing table.",
            fix="Check the name (with its database, e.g. 'lake.events'), or read the files "
            "with spark.read.parquet(path) and pass the DataFrame.",
        )
    return session.table(data), data


def _typed_columns(df: Any, schema: Schema, tz: str | None) -> list:
    """The role columns under their canonical names, typed and cleaned (Spark columns).

    String timestamps also keep their text as ``__jm_raw_timestamp``, to show the
    values that fail to parse.
    """
    from pyspark.sql import functions as sf

    types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    out = []
    if types[schema.timestamp] == "string":
        raw = sf.regexp_replace(sf.col(f"`{schema.timestamp}`"), _SURROUNDING_SPACE, "")
        out.append(raw.alias(_RAW_TS))
    for name, canonical in schema.mapping.items():
        col = sf.col(f"`{name}`")
        if canonical == TIMESTAMP:
            value = _timestamp(col, name, types[name], tz)
        elif canonical in (CANONICAL["rating"], CANONICAL["revenue"]):
            value = col.try_cast("double")
        else:  # names and text: trimmed, blanks null (stage spellings mapped later)
            text = sf.regexp_replace(col.cast("string"), _SURROUNDING_SPACE, "")
            value = sf.when(text != "", text)
        out.append(value.alias(canonical))
    return out


def _timestamp(col: Any, name: str, kind: str, tz: str | None) -> Any:
    """The timestamp column as Spark ``TIMESTAMP`` instants (session time zone UTC).

    Raises
    ------
    TimestampError
        The column is of another type (numbers, booleans...).
    """
    from pyspark.sql import functions as sf

    if kind not in _TIMESTAMP_TYPES:
        raise TimestampError(
            f"The timestamp column {name!r} is of Spark type {kind}.",
            expected="a timestamp, timestamp_ntz or date column, or ISO 8601 strings "
            "('2024-05-01 13:45:00', optionally with '+07:00').",
            fix=f"Convert it in Spark first, e.g. sf.timestamp_seconds('{name}') or "
            f"sf.timestamp_millis('{name}') for epoch numbers, or sf.to_timestamp('{name}', "
            "'dd/MM/yyyy HH:mm') for other text; or pass timestamp='<another column>'.",
        )
    if kind == "timestamp":
        return col
    local = tz is not None and tz.upper() != "UTC"
    if kind == "string":
        text = sf.regexp_replace(col, _SURROUNDING_SPACE, "")
        parsed = sf.try_to_timestamp(text)
        if not local:
            return parsed
        return sf.when(text.rlike(_HAS_OFFSET), parsed).otherwise(sf.to_utc_timestamp(parsed, tz))
    naive = col.cast("timestamp")  # read in the session time zone, UTC
    return sf.to_utc_timestamp(naive, tz) if local else naive


def _normalised_names(typed: Any) -> Any:
    """``typed`` with customer, touchpoint and channel names in Unicode NFC.

    One scan finds the distinct non-ASCII names (ASCII is NFC already);
    those that change under NFC are replaced through a literal map.
    """
    from pyspark.sql import functions as sf

    roles = [c for c in _NAME_ROLES if c in typed.columns]
    tagged = sf.array(*[sf.when(sf.col(c).rlike(_NON_ASCII), sf.struct(
        sf.lit(c).alias("role"), sf.col(c).alias("name"))) for c in roles])
    rows = (typed.select(sf.explode(tagged).alias("v")).where("v IS NOT NULL")
            .select("v.role", "v.name").distinct().limit(NFC_LIMIT + 1).collect())
    if len(rows) > NFC_LIMIT:
        warnings.warn(
            f"More than {NFC_LIMIT:,} distinct non-ASCII names: only the first {NFC_LIMIT:,} "
            "were normalised to Unicode NFC, so a name typed two ways may count twice.",
            DataQualityWarning, stacklevel=4)
        rows = rows[:NFC_LIMIT]
    changes: dict[str, dict[str, str]] = {}
    for role, name in rows:
        nfc = unicodedata.normalize("NFC", name)
        if nfc != name:
            changes.setdefault(role, {})[name] = nfc
    for role, mapping in changes.items():
        lookup = sf.create_map(*[sf.lit(v) for pair in mapping.items() for v in pair])
        typed = typed.withColumn(role, sf.coalesce(lookup[sf.col(role)], sf.col(role)))
    return typed


def _check(typed: Any, schema: Schema) -> dict:
    """Count rows, nulls and bad timestamps in one Spark job.

    Raises
    ------
    EmptyLogError
        No rows.
    TimestampError
        Unparsed timestamp strings or instants outside 1900-2262.
    """
    from pyspark.sql import functions as sf

    ts = sf.col(TIMESTAMP)
    lo = sf.lit(str(TIMESTAMP_MIN).replace("T", " ")).cast("timestamp")
    hi = sf.lit(str(TIMESTAMP_MAX).replace("T", " ")).cast("timestamp")
    outside = (ts < lo) | (ts > hi)
    unparsed = ts.isNull() & (sf.col(_RAW_TS) != "") if _RAW_TS in typed.columns else sf.lit(False)
    null = [sf.col(c).isNull() for c in (CUSTOMER, ACTIVITY, TIMESTAMP)]
    counts = {
        "rows_in": sf.count(sf.lit(1)),
        "null_customer": sf.count_if(null[0]),
        "null_activity": sf.count_if(null[1]),
        "null_timestamp": sf.count_if(null[2]),
        "dropped_nulls": sf.count_if(null[0] | null[1] | null[2]),
        "outside": sf.count_if(outside),
        "unparsed": sf.count_if(unparsed),
    }
    row = typed.agg(*[v.alias(k) for k, v in counts.items()]).first().asDict()
    if row["rows_in"] == 0:
        raise EmptyLogError(
            f"The event log has no rows (columns: {schema.describe()}).",
            expected="at least one event (customer, activity, timestamp).",
            fix="Check the table or the filter that produced it.",
        )
    n_unparsed, n_outside = row.pop("unparsed"), row.pop("outside")
    if n_unparsed:
        shown = [r[0] for r in typed.where(unparsed).select(_RAW_TS).limit(3).collect()]
        raise TimestampError(
            f"{n_unparsed:,} value(s) of the timestamp column "
            f"{schema.timestamp!r} could not be parsed, e.g. {shown}.",
            expected="ISO 8601 strings ('2024-05-01 13:45:00', optionally with '+07:00'), "
            "timestamps or dates.",
            fix=f"Parse them in Spark first, e.g. sf.to_timestamp('{schema.timestamp}', "
            "'dd/MM/yyyy HH:mm'), or clean those rows.",
        )
    if n_outside:
        as_text = sf.date_format(ts, "yyyy-MM-dd HH:mm:ss")  # in the session time zone, UTC
        shown = [r[0] for r in typed.where(outside).select(as_text).limit(3).collect()]
        raise TimestampError(
            f"{n_outside:,} timestamp(s) of the column {schema.timestamp!r} "
            f"are outside the supported range 1900-01-01 to 2262-04-11, e.g. {shown}.",
            expected="timestamps from 1900-01-01 to 2262-04-11 (UTC; what pandas "
            "datetime64[ns] can hold).",
            fix="Fix or blank those rows (blank timestamps are dropped with a warning); "
            "placeholder dates such as 0001-01-01 or 9999-12-31 usually mean 'unknown'.",
        )
    if row["dropped_nulls"] == row["rows_in"]:
        raise EmptyLogError(
            f"No usable events: all {row['rows_in']:,} rows have a null customer id, "
            "activity or timestamp.",
            expected="rows with a customer id, an activity and a timestamp.",
            fix="Check that the right columns were picked: " + schema.describe(),
        )
    return {**row, "schema": schema.describe()}


def _stage_names(typed: Any, schema: Schema) -> Any:
    """``typed`` with the stage column's spellings (any language) as canonical stages.

    Raises
    ------
    StageError
        A value is not a stage name.
    """
    from pyspark.sql import functions as sf

    stage = sf.col(STAGE)
    values = [r[0] for r in typed.where(stage.isNotNull()).select(stage).distinct().collect()]
    mapping = stage_mapping(values, schema.stage)
    lookup = sf.create_map(*[sf.lit(v) for pair in mapping.items() for v in pair])
    return typed.withColumn(STAGE, lookup[stage] if mapping else sf.lit(None).cast("string"))


def _canonical(typed: Any, report: dict, *, drop_duplicates: bool
               ) -> tuple[Any, dict, dict]:
    """Drop null rows (and duplicates), number events per customer, count the result."""
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    nulls = [report[k] for k in ("null_customer", "null_activity", "null_timestamp")]
    if report["dropped_nulls"]:
        warnings.warn(
            f"Dropped {report['dropped_nulls']:,} event(s) with a null customer id "
            f"({nulls[0]:,}), activity ({nulls[1]:,}) or timestamp ({nulls[2]:,}).",
            DataQualityWarning, stacklevel=4)
    data = [sf.col(f"`{c}`") for c in typed.columns if c not in (_ROW, _RAW_TS)]
    valid = typed.where(sf.col(CUSTOMER).isNotNull() & sf.col(ACTIVITY).isNotNull()
                        & sf.col(TIMESTAMP).isNotNull())
    if drop_duplicates:  # keep the first of each set of exact duplicates
        valid = valid.groupBy(*data).agg(sf.min(_ROW).alias(_ROW))
    order = Window.partitionBy(CUSTOMER).orderBy(TIMESTAMP, _ROW)
    events = valid.select(*data, (sf.row_number().over(order) - 1).cast("long").alias(EVENT_INDEX))
    totals = events.agg(
        sf.count(sf.lit(1)).alias("rows_out"), sf.count_distinct(CUSTOMER).alias("customers"),
        sf.count_distinct(ACTIVITY).alias("touchpoints"),
        sf.unix_micros(sf.min(TIMESTAMP)).alias("first"),
        sf.unix_micros(sf.max(TIMESTAMP)).alias("last"),
    ).first().asDict()
    report["rows_out"] = totals.pop("rows_out")
    for end in ("first", "last"):  # naive UTC datetimes, as EventLog.time_range gives
        totals[end] = _EPOCH + datetime.timedelta(microseconds=totals[end])
    report["duplicates"] = report["rows_in"] - report["dropped_nulls"] - report["rows_out"]
    if report["duplicates"]:
        warnings.warn(
            f"Dropped {report['duplicates']:,} exact duplicate event(s) "
            "(pass drop_duplicates=False to keep them).",
            DataQualityWarning, stacklevel=4)
    return events, report, totals
