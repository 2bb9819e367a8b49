"""The validated :class:`EventLog`."""

from __future__ import annotations

import dataclasses
import html
import logging
from collections.abc import Mapping
from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from journeymine._util._memory import lean_memory
from journeymine.eventlog._runs import run_starts, same_as_next
from journeymine.eventlog._schema import (
    ACTIVITY,
    CHANNEL,
    CUSTOMER,
    STAGE,
    TIMESTAMP,
    Schema,
    _split_schema,
    check_distinct_columns,
)
from journeymine.eventlog._stages import StageMap
from journeymine.eventlog._validate import normalize_table, to_arrow
from journeymine.exceptions import EmptyLogError, JourneymineError, SchemaError

if TYPE_CHECKING:
    import pandas as pd

    from journeymine.discovery._grains import GapSuggestion

__all__ = ["EventLog", "LogProfile", "format_duration", "require_event_log"]

logger = logging.getLogger(__name__)

StagesLike = StageMap | Mapping[str, Any] | str | PathLike | None

#: A log whose median customer has more events than this is better read per session.
SESSION_GRAIN_EVENTS = 30
#: ... or whose median customer history spans more than this many seconds (7 days).
SESSION_GRAIN_SECONDS = 7 * 86400.0
#: ... or when at least this share of the events belongs to customers with more than
#: :data:`SESSION_GRAIN_EVENTS` events (heavy-tailed logs: few customers, most events).
SESSION_GRAIN_EVENT_SHARE = 0.4


def format_duration(seconds: float) -> str:
    """A short human duration: ``"45s"``, ``"30min"``, ``"2.5h"``, ``"3d"``.

    Examples
    --------
    >>> format_duration(1800), format_duration(9000), format_duration(3 * 86400)
    ('30min', '2.5h', '3d')
    """
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:.3g}s"


@dataclasses.dataclass(frozen=True, repr=False)
class LogProfile:
    """What an event log looks like, and at which grain to read it.

    Returned by :meth:`EventLog.describe`. Its ``repr`` is a readable
    table; :meth:`to_dict` gives plain values for JSON.

    Attributes
    ----------
    events, customers, touchpoints : int
    events_per_customer : dict
        ``median``, ``p90`` and ``max`` events of one customer.
    span_seconds : dict
        ``median``, ``p90`` and ``max`` seconds between a customer's first
        and last event.
    window : tuple of Timestamp
        First and last timestamp of the log (UTC).
    gaps : GapSuggestion
        The histogram of gaps between a customer's consecutive events and the
        session gap suggested from it (see :func:`journeymine.suggest_gap`).
    suggested_grain : str
        ``"session"`` when the median customer has more than 30 events or a
        history longer than 7 days, else ``"customer"``.
    grain_reason : str
        Why, in one sentence.
    repeat_share : float
        Share of consecutive event pairs of a customer at the same touchpoint.
    duplicates_dropped : int
        Exact duplicate events dropped by validation.
    unmapped : tuple of str
        Touchpoints without a stage (after keyword guesses).
    """

    events: int
    customers: int
    touchpoints: int
    events_per_customer: dict[str, float]
    span_seconds: dict[str, float]
    window: tuple[Any, Any]
    gaps: GapSuggestion
    suggested_grain: str
    grain_reason: str
    repeat_share: float
    duplicates_dropped: int
    unmapped: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain JSON values (timestamps as ISO strings)."""
        return {
            "events": self.events, "customers": self.customers,
            "touchpoints": self.touchpoints,
            "events_per_customer": self.events_per_customer,
            "span_seconds": self.span_seconds,
            "window": [self.window[0].isoformat(), self.window[1].isoformat()],
            "gaps": self.gaps.to_dict(), "suggested_grain": self.suggested_grain,
            "grain_reason": self.grain_reason, "repeat_share": self.repeat_share,
            "duplicates_dropped": self.duplicates_dropped, "unmapped": list(self.unmapped),
        }

    def __repr__(self) -> str:
        e, sp = self.events_per_customer, self.span_seconds
        rows = [
            ("window", f"{self.window[0]:%Y-%m-%d %H:%M} → {self.window[1]:%Y-%m-%d %H:%M}"),
            ("events/customer", f"median {e['median']:g}, p90 {e['p90']:g}, max {e['max']:g}"),
            ("span/customer", ", ".join(f"{k} {format_duration(sp[k])}"
                                        for k in ("median", "p90", "max"))),
            ("session gap", f"{format_duration(self.gaps.gap.total_seconds())}: "
                            f"{self.gaps.reason}"),
            ("suggested grain", f"{self.suggested_grain}: {self.grain_reason}"),
            ("repeats", f"{self.repeat_share:.1%} of consecutive events repeat the touchpoint"),
            ("duplicates", f"{self.duplicates_dropped:,} dropped"),
            ("no stage", ", ".join(self.unmapped[:8]) + (
                f", ... ({len(self.unmapped)} in all)" if len(self.unmapped) > 8 else "")
                or "none"),
        ]
        head = (f"LogProfile({self.events:,} events, {self.customers:,} customers, "
                f"{self.touchpoints} touchpoints)")
        return "\n".join([head, *(f"  {k:<16} {v}" for k, v in rows)])

    def _repr_html_(self) -> str:
        return f"<pre class='jm-profile'>{html.escape(repr(self))}</pre>"


def as_stage_map(stages: StagesLike) -> StageMap | None:
    """Turn a StageMap, a dict or a YAML path into a :class:`StageMap` (``None`` stays)."""
    if stages is None or isinstance(stages, StageMap):
        return stages
    if isinstance(stages, Mapping):
        return StageMap.from_dict(stages)
    return StageMap.from_yaml(stages)


def relation_to_arrow(relation) -> pa.Table:
    """The rows of a DuckDB relation or an Ibis table expression as an Arrow table.

    Raises
    ------
    SchemaError
        ``relation`` is neither.
    """
    if hasattr(relation, "fetch_arrow_table"):
        return to_arrow(relation)
    if hasattr(relation, "to_pyarrow"):
        return relation.to_pyarrow()
    raise SchemaError(
        f"Expected a DuckDB relation or Ibis table, got {type(relation).__name__}.",
        expected="duckdb.sql('SELECT ...') or an ibis table expression.",
        fix="Use jm.read_sql for a SQL string.",
    )


class EventLog:
    """A validated event log: one row per customer interaction with a touchpoint.

    Build one with :meth:`from_pandas`, :meth:`from_arrow`, :meth:`from_duckdb`
    or the readers :func:`~journeymine.read_csv`,
    :func:`~journeymine.read_parquet` and :func:`~journeymine.read_xes`.
    The input is never modified: the log holds its own Arrow table with
    canonical columns ``customer_id``, ``activity``, ``timestamp`` (UTC,
    without time zone) and, when present, ``channel``, ``stage``, ``text``,
    ``rating``, ``revenue``, every extra column, and ``event_index`` (the
    event's position after sorting by customer, time and original row, so
    events with equal timestamps keep their input order).

    Attributes
    ----------
    table : pyarrow.Table
        The canonical events.
    schema : Schema
        Which input column played which role.
    validation : dict
        What validation did: rows in and out, nulls and duplicates dropped,
        single-event customers.
    source : str
        Where the events came from.

    Examples
    --------
    >>> import pandas as pd
    >>> import journeymine as jm
    >>> df = pd.DataFrame({
    ...     "user_id": ["a", "a", "b"],
    ...     "event": ["ig_ad", "checkout", "ig_ad"],
    ...     "ts": ["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-02 09:00"],
    ... })
    >>> log = jm.EventLog.from_pandas(df)
    >>> log
    EventLog(3 events, 2 customers, 2 touchpoints, 2024-01-01 → 2024-01-02)
    >>> log.schema.describe()
    'customer=user_id, activity=event, timestamp=ts'
    """

    def __init__(
        self,
        table: pa.Table,
        schema: Schema,
        *,
        report: dict | None = None,
        source: str = "",
        stages: StageMap | None = None,
    ):
        self.table = table
        self.schema = schema
        self.validation = dict(report or {})
        self.source = source
        self.stages = stages
        self._activities: tuple[pa.Table, list[str]] | None = None
        self._encodings: tuple[pa.Table, dict[str, pa.DictionaryArray]] | None = None

    # ------------------------------------------------------------------ builders
    @classmethod
    @lean_memory
    def from_arrow(
        cls,
        table: pa.Table,
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
        timestamp_format: str | None = None,
        tz: str | None = None,
        drop_duplicates: bool = True,
        source: str = "arrow",
    ) -> EventLog:
        """Validate an Arrow table as an event log.

        Parameters
        ----------
        table : pyarrow.Table
            The raw events.
        schema : Schema, optional
            Column roles; keyword arguments override it. Roles not given are
            detected from common column names, and the result is logged.
        customer, activity, timestamp, channel, stage, text, rating, revenue : str
            Column names of each role (``False`` for an optional role means
            "do not use one").
        stages : StageMap, dict or path, optional
            Touchpoint to stage map used by discovery. Without one, a stage
            column is used when present, else stages are guessed by keyword.
        timestamp_format : str, optional
            strptime format for string timestamps that are not ISO 8601.
        tz : str, optional
            Time zone of naive timestamps (e.g. ``"Asia/Jakarta"``). Naive
            timestamps are taken as UTC by default; everything is stored in UTC.
        drop_duplicates : bool, default True
            Drop exact duplicate rows (with a warning that counts them).
        source : str
            A label for where the events came from.

        Returns
        -------
        EventLog
        """
        if not isinstance(table, pa.Table):
            raise SchemaError(
                f"Expected a pyarrow.Table, got {type(table).__name__}.",
                expected="a pyarrow.Table.",
                fix="Use EventLog.from_pandas for DataFrames.",
            )
        if table.num_rows == 0:
            raise EmptyLogError(
                f"The event log has no rows (columns: {table.column_names}).",
                expected="at least one event (customer, activity, timestamp).",
                fix="Check the file or the filter that produced it.",
            )
        wanted = _split_schema(schema, dict(
            customer=customer, activity=activity, timestamp=timestamp, channel=channel,
            stage=stage, text=text, rating=rating, revenue=revenue))
        resolved = wanted.resolve(table.column_names)
        logger.info("Event log columns: %s", resolved.describe())
        encodings: dict[str, pa.DictionaryArray] = {}
        canonical, report = normalize_table(
            table, resolved, timestamp_format=timestamp_format, tz=tz,
            drop_duplicates=drop_duplicates, encodings=encodings,
        )
        log = cls(canonical, resolved, report=report, source=source, stages=as_stage_map(stages))
        if encodings:
            log._encodings = (canonical, encodings)
        return log

    @classmethod
    def from_pandas(cls, df: pd.DataFrame, schema: Schema | None = None, **kwargs) -> EventLog:
        """Validate a pandas DataFrame as an event log (the DataFrame is not modified).

        Takes the same keyword arguments as :meth:`from_arrow`.
        """
        import pandas as pd

        if not isinstance(df, pd.DataFrame):
            raise SchemaError(
                f"Expected a pandas DataFrame, got {type(df).__name__}.",
                expected="a pandas.DataFrame with one row per event.",
                fix="Build one with pandas.DataFrame(...) or use jm.read_csv.",
            )
        frame = df.reset_index(drop=True) if not isinstance(df.index, pd.RangeIndex) else df
        frame = frame.rename(columns=str)
        check_distinct_columns(frame.columns)
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise SchemaError(
                f"The DataFrame could not be converted: {exc}",
                expected="columns with one type each (e.g. all ids str, or all int).",
                fix="Convert mixed-type columns first, e.g. df.assign(customer_id="
                "df['customer_id'].astype(str)).",
            ) from None
        kwargs.setdefault("source", "DataFrame")
        return cls.from_arrow(table, schema, **kwargs)

    @classmethod
    def from_duckdb(cls, relation, schema: Schema | None = None, **kwargs) -> EventLog:
        """Validate a DuckDB relation (or an Ibis table) as an event log.

        Examples
        --------
        >>> import duckdb, journeymine as jm
        >>> rel = duckdb.sql("SELECT 'c1' AS customer_id, 'ad' AS touchpoint, "
        ...                  "TIMESTAMP '2024-01-01' AS ts")
        >>> jm.EventLog.from_duckdb(rel).n_events
        1
        """
        table = relation_to_arrow(relation)
        kwargs.setdefault("source", "duckdb")
        return cls.from_arrow(table, schema, **kwargs)

    # ------------------------------------------------------------------ views
    #: The Ibis backend holding the events, or None when they are in memory
    #: (this Arrow table, queried by DuckDB). :func:`~journeymine.read_spark`
    #: logs keep their events on the Spark backend.
    backend = None

    @property
    def columns(self) -> list[str]:
        """The canonical column names."""
        return self.table.column_names

    @property
    def n_events(self) -> int:
        """Number of events."""
        return self.table.num_rows

    @property
    def n_customers(self) -> int:
        """Number of distinct customers."""
        return len(self.table.column(CUSTOMER).unique())

    @property
    def activities(self) -> list[str]:
        """Distinct touchpoints, sorted."""
        if self._activities is None or self._activities[0] is not self.table:
            names = sorted(self.table.column(ACTIVITY).unique().to_pylist())
            self._activities = (self.table, names)  # computed once per table
        return list(self._activities[1])

    def _encoded_columns(self, table: pa.Table) -> dict[str, pa.DictionaryArray]:
        """Dictionary encodings of ``table``'s text columns that validation already made.

        Empty unless ``table`` is this log's table as validated, with its rows
        reordered (then touchpoint, channel and stage were moved as codes).
        """
        if self._encodings is None or self._encodings[0] is not table:
            return {}
        return dict(self._encodings[1])

    @property
    def has_channel(self) -> bool:
        """Whether the log has a channel column."""
        return CHANNEL in self.columns

    def time_range(self) -> tuple[Any, Any]:
        """First and last timestamp (UTC)."""
        import pyarrow.compute as pc

        mm = pc.min_max(self.table.column(TIMESTAMP))
        return mm["min"].as_py(), mm["max"].as_py()

    def stage_map(self, stages: StagesLike = None) -> StageMap:
        """The touchpoint to stage map discovery uses.

        In order of preference: ``stages`` given here, the map the log was
        built with, the log's stage column (most common stage per
        touchpoint), and keyword guesses for anything still unmapped
        (:meth:`StageMap.with_guesses`). One warning names the guessed and
        the unmapped touchpoints (at most 10 of each, then "… and N more");
        the full lists are :attr:`StageMap.guesses` and
        :meth:`StageMap.unmapped`. Unmapped touchpoints are never dropped.
        """
        chosen = as_stage_map(stages) or self.stages
        if chosen is None and STAGE in self.columns:
            chosen = self._stage_column_map()
        chosen = (chosen or StageMap()).with_guesses(self.activities)
        note = chosen.report(self.activities)
        if note:
            logger.warning(note)
        return chosen

    def _stage_column_map(self) -> StageMap:
        """The most common stage of each touchpoint in the stage column."""
        return StageMap.from_frame(self.table.select([ACTIVITY, STAGE]).to_pandas(),
                                   ACTIVITY, STAGE)

    def describe(self) -> LogProfile:
        """Profile the log: sizes, lengths, time gaps, and the grain to read it at.

        Returns
        -------
        LogProfile
            Events and customers; events and time span per customer (median,
            p90, max); the data window; the histogram of gaps between a
            customer's consecutive events with the suggested session gap; the
            suggested grain (``"session"`` when the median customer has more
            than 30 events or spans more than 7 days, or when at least 40% of
            the events belong to customers with more than 30 events); the share of
            consecutive repeats; duplicates dropped by validation; touchpoints
            without a stage.

        Examples
        --------
        >>> import journeymine as jm
        >>> profile = jm.datasets.make_journeys(200, random_state=0).describe()
        >>> profile.customers, profile.suggested_grain
        (200, 'customer')
        >>> print(repr(profile).splitlines()[0])
        LogProfile(2,035 events, 200 customers, 20 touchpoints)
        """
        from journeymine.discovery._grains import suggest_gap

        n = self.n_events
        firsts = run_starts(self.table.column(CUSTOMER))
        lasts = np.append(firsts[1:], n) - 1
        stamps = self.table.column(TIMESTAMP).to_numpy().astype("datetime64[us]", copy=False)
        micros = stamps.view(np.int64)
        lengths = (lasts - firsts + 1).astype(float)
        spans = (micros[lasts] - micros[firsts]) / 1e6
        # pairs of a customer's consecutive events, and those at the same touchpoint
        pairs = n - len(firsts)
        repeats = same_as_next(self.table.column(ACTIVITY))
        repeats[lasts] = False  # a customer's last event is not paired with the next one's

        def stats(values: np.ndarray) -> dict[str, float]:
            return {"median": float(np.median(values)), "p90": float(np.quantile(values, 0.9)),
                    "max": float(values.max())}

        per_customer, span = stats(lengths), stats(spans)
        long_events = per_customer["median"] > SESSION_GRAIN_EVENTS
        long_span = span["median"] > SESSION_GRAIN_SECONDS
        # Heavy-tailed logs: most customers visit once, yet most EVENTS belong to
        # long multi-visit histories, which is what paths and waits are made of.
        in_long = lengths[lengths > SESSION_GRAIN_EVENTS]
        long_share = float(in_long.sum() / n) if n else 0.0
        journey = (f"the median customer has {per_customer['median']:g} events over "
                   f"{format_duration(span['median'])}")
        limits = f"{SESSION_GRAIN_EVENTS} events or 7 days"
        if long_events or long_span:
            reason = f"{journey} (more than {limits})."
        elif long_share >= SESSION_GRAIN_EVENT_SHARE:
            reason = (f"{journey}, but {long_share:.0%} of the events belong to customers with "
                      f"more than {SESSION_GRAIN_EVENTS} events.")
        else:
            reason = f"{journey}; {long_share:.0%} of the events belong to longer histories."
        session = long_events or long_span or long_share >= SESSION_GRAIN_EVENT_SHARE
        lo, hi = self.time_range()
        return LogProfile(
            events=n, customers=len(firsts), touchpoints=len(self.activities),
            events_per_customer=per_customer, span_seconds=span, window=(lo, hi),
            gaps=suggest_gap(self),
            suggested_grain="session" if session else "customer",
            grain_reason=reason[0].upper() + reason[1:],
            repeat_share=float(repeats.sum() / pairs) if pairs else 0.0,
            duplicates_dropped=int(self.validation.get("duplicates", 0)),
            unmapped=tuple(self.stage_map().unmapped(self.activities)),
        )

    def to_pandas(self) -> pd.DataFrame:
        """The canonical events as a new pandas DataFrame (timestamps UTC-aware)."""
        df = self.table.to_pandas()
        df[TIMESTAMP] = df[TIMESTAMP].dt.tz_localize("UTC")
        return df

    def to_ibis(self, con=None):
        """The events as an Ibis table on ``con`` (a new DuckDB backend by default)."""
        from journeymine.discovery._engine import register

        return register(self, con)

    def __len__(self) -> int:
        return self.n_events

    def __repr__(self) -> str:
        if self.n_events == 0:
            return "EventLog(0 events)"
        lo, hi = self.time_range()
        return (
            f"EventLog({self.n_events:,} events, {self.n_customers:,} customers, "
            f"{len(self.activities)} touchpoints, {lo:%Y-%m-%d} → {hi:%Y-%m-%d})"
        )

    def _repr_html_(self) -> str:
        head = self.table.slice(0, 5).to_pandas().to_html(index=False, border=0)
        return (
            f"<div class='jm-eventlog'><strong>{html.escape(repr(self))}</strong>"
            f"<div>columns: {html.escape(self.schema.describe())}</div>{head}</div>"
        )


def require_event_log(log: object, who: str) -> None:
    """Raise JourneymineError unless ``log`` is an :class:`EventLog` (``who`` needs one).

    ``who`` starts the message: ``"discover()"`` gives "discover() needs an
    EventLog, got DataFrame."
    """
    if not isinstance(log, EventLog):
        raise JourneymineError(
            f"{who} needs an EventLog, got {type(log).__name__}.",
            expected="a journeymine.EventLog.",
            fix="Build one with jm.EventLog.from_pandas(df) or jm.read_csv(path).",
        )
