"""The validated :class:`EventLog`."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from os import PathLike
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from journeymine.eventlog._schema import (
    ACTIVITY,
    CHANNEL,
    CUSTOMER,
    STAGE,
    TIMESTAMP,
    Schema,
)
from journeymine.eventlog._stages import StageMap
from journeymine.eventlog._validate import normalize_table, to_arrow
from journeymine.exceptions import EmptyLogError, SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EventLog"]

logger = logging.getLogger(__name__)

StagesLike = StageMap | Mapping[str, Any] | str | PathLike | None


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

    # ------------------------------------------------------------------ builders
    @classmethod
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
        given = {
            k: v for k, v in dict(
                customer=customer, activity=activity, timestamp=timestamp, channel=channel,
                stage=stage, text=text, rating=rating, revenue=revenue,
            ).items() if v is not None
        }
        if table.num_rows == 0:
            raise EmptyLogError(
                f"The event log has no rows (columns: {table.column_names}).",
                expected="at least one event (customer, activity, timestamp).",
                fix="Check the file or the filter that produced it.",
            )
        base = schema or Schema()
        resolved = Schema(**{**vars(base), **given}).resolve(table.column_names)
        logger.info("Event log columns: %s", resolved.describe())
        canonical, report = normalize_table(
            table, resolved, timestamp_format=timestamp_format, tz=tz,
            drop_duplicates=drop_duplicates,
        )
        return cls(canonical, resolved, report=report, source=source,
                   stages=as_stage_map(stages))

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
        dupes = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
        if dupes:
            raise SchemaError(
                f"The DataFrame has duplicate column names: {dupes}.",
                expected="distinct column names.",
                fix="Rename or drop the duplicates, e.g. df.loc[:, ~df.columns.duplicated()].",
            )
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

    @property
    def has_channel(self) -> bool:
        """Whether the log has a channel column."""
        return CHANNEL in self.table.column_names

    def time_range(self) -> tuple[Any, Any]:
        """First and last timestamp (UTC)."""
        import pyarrow.compute as pc

        mm = pc.min_max(self.table.column(TIMESTAMP))
        return mm["min"].as_py(), mm["max"].as_py()

    def stage_map(self, stages: StagesLike = None) -> StageMap:
        """The touchpoint to stage map discovery uses.

        In order of preference: ``stages`` given here, the map the log was
        built with, the log's stage column (most common stage per
        touchpoint), and keyword guesses for anything still unmapped.
        Touchpoints left unmapped are logged and listed by
        :meth:`StageMap.unmapped`, never dropped.
        """
        chosen = as_stage_map(stages) or self.stages
        if chosen is None and STAGE in self.table.column_names:
            chosen = StageMap.from_frame(
                self.table.select([ACTIVITY, STAGE]).to_pandas(), ACTIVITY, STAGE
            )
        chosen = (chosen or StageMap()).with_guesses(self.activities)
        missing = chosen.unmapped(self.activities)
        if missing:
            logger.warning("Touchpoints without a stage: %s", ", ".join(missing))
        return chosen

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
