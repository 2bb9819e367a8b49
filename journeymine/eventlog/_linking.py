"""Linking what customers said to the journey: to their touchpoint, or the customer's nearest event.

Texts (:func:`journeymine.emotions`) and survey answers
(:func:`journeymine.satisfaction`) are linked the same way. A row with a
``touchpoint`` is linked to it (the touchpoint must occur in the log); any
other row to its customer's last event at or before it, if that event is at
most ``window`` older. All rows are linked by one DuckDB query with ASOF
joins (:func:`link_texts`); a row that cannot be linked keeps one reason of
:data:`UNLINKED_REASONS`. :func:`persona_of` looks up the persona of each
row's customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from journeymine._util._duckdb import connect
from journeymine.eventlog._eventlog import EventLog
from journeymine.eventlog._schema import ACTIVITY, CHANNEL, CUSTOMER, EVENT_INDEX, TIMESTAMP
from journeymine.eventlog._validate import to_arrow
from journeymine.exceptions import InvalidParameterError

__all__ = ["UNLINKED_REASONS", "link_texts", "persona_of"]

#: Why a text could not be linked to the journey.
UNLINKED_REASONS = {
    "unknown_touchpoint": "its touchpoint does not occur in the event log",
    "unknown_customer": "its customer has no event in the log",
    "no_timestamp": "it has no timestamp and no touchpoint",
    "no_event_before": "its customer has no event at or before it",
    "outside_window": "its customer's last event before it is older than the window",
}


def link_texts(log: EventLog, texts: pd.DataFrame, window: pd.Timedelta | None) -> pd.DataFrame:
    """Link each text to an event: one DuckDB query with ASOF joins, no Python loop.

    Returns, per text in order: ``link`` (``"touchpoint"``, ``"nearest_event"``
    or null), ``unlinked_reason``, ``linked_touchpoint``, ``event_timestamp``
    (naive UTC) and ``event_channel``.
    """
    cols = [CUSTOMER, ACTIVITY, TIMESTAMP, EVENT_INDEX] + ([CHANNEL] if log.has_channel else [])
    events = log.table.select(cols)
    has_tp = "touchpoint" in texts.columns
    text_table = pa.table({
        "row": pa.array(np.arange(len(texts)), pa.int64()),
        "customer_id": pa.array(texts[CUSTOMER].astype(object).where(texts[CUSTOMER].notna(), None),
                                pa.string()),
        "timestamp": pa.array(texts[TIMESTAMP].dt.tz_convert("UTC").dt.tz_localize(None)),
        "touchpoint": pa.array(texts["touchpoint"].astype(object).where(
            texts["touchpoint"].notna(), None) if has_tp else [None] * len(texts), pa.string()),
    })
    channel = CHANNEL if log.has_channel else "CAST(NULL AS VARCHAR)"
    too_old = (f"t.timestamp - n.event_ts > to_microseconds({int(window / pd.Timedelta('1us'))})"
               if window is not None else "false")
    sql = f"""
    WITH ev AS (SELECT customer_id, activity, timestamp, {channel} AS channel, event_index
                FROM events),
    -- one event per customer and instant (per touchpoint): the last one in log order
    at_instant AS (SELECT * FROM ev QUALIFY row_number() OVER (
        PARTITION BY customer_id, timestamp ORDER BY event_index DESC) = 1),
    at_touchpoint AS (SELECT * FROM ev QUALIFY row_number() OVER (
        PARTITION BY customer_id, activity, timestamp ORDER BY event_index DESC) = 1),
    near AS (SELECT t.row, e.activity, e.timestamp AS event_ts, e.channel
             FROM texts t ASOF LEFT JOIN at_instant e
             ON t.customer_id = e.customer_id AND t.timestamp >= e.timestamp),
    same AS (SELECT t.row, e.timestamp AS event_ts, e.channel
             FROM texts t ASOF LEFT JOIN at_touchpoint e
             ON t.customer_id = e.customer_id AND t.touchpoint = e.activity
                AND t.timestamp >= e.timestamp),
    reasons AS (
        SELECT t.*, n.activity AS near_activity, n.event_ts AS near_ts, n.channel AS near_channel,
               s.event_ts AS same_ts, s.channel AS same_channel,
               CASE
                 WHEN t.touchpoint IS NOT NULL THEN CASE WHEN t.touchpoint IN
                      (SELECT activity FROM ev) THEN NULL ELSE 'unknown_touchpoint' END
                 WHEN t.customer_id IS NULL OR t.customer_id NOT IN
                      (SELECT customer_id FROM ev) THEN 'unknown_customer'
                 WHEN t.timestamp IS NULL THEN 'no_timestamp'
                 WHEN n.event_ts IS NULL THEN 'no_event_before'
                 WHEN {too_old} THEN 'outside_window'
               END AS unlinked_reason
        FROM texts t LEFT JOIN near n ON n.row = t.row LEFT JOIN same s ON s.row = t.row)
    SELECT row, unlinked_reason,
           CASE WHEN unlinked_reason IS NOT NULL THEN NULL
                WHEN touchpoint IS NOT NULL THEN 'touchpoint' ELSE 'nearest_event' END AS link,
           CASE WHEN unlinked_reason IS NOT NULL THEN NULL
                ELSE coalesce(touchpoint, near_activity) END AS linked_touchpoint,
           CASE WHEN unlinked_reason IS NOT NULL THEN NULL
                WHEN touchpoint IS NOT NULL THEN same_ts ELSE near_ts END AS event_timestamp,
           CASE WHEN unlinked_reason IS NOT NULL THEN NULL
                WHEN touchpoint IS NOT NULL THEN same_channel ELSE near_channel END
               AS event_channel
    FROM reasons ORDER BY row
    """
    con = connect()
    try:
        con.register("events", events)
        # A temp table, not the registered Arrow table: DuckDB's ASOF join probes an Arrow
        # scan on its left very slowly (15k texts x 292k events: 22 s, against 0.5 s).
        con.register("text_rows", text_table)
        con.execute("CREATE TEMP TABLE texts AS SELECT * FROM text_rows")
        out = to_arrow(con.execute(sql)).to_pandas()
    finally:
        con.close()
    return out.drop(columns="row")


def persona_of(personas: Any, customers: pd.Series) -> pd.Series:
    """The persona of each customer in ``customers`` (object dtype, NaN when unknown).

    ``personas`` is a Series or dict ``customer_id -> persona``, a one-column
    DataFrame indexed by customer, or a fitted model with a ``labels_``
    Series (a :class:`~journeymine.PersonaModel`), whose persona ids are
    named by its cards (``personas_``) when it has them.

    Examples
    --------
    >>> persona_of({"a": "loyal"}, pd.Series(["a", "b"])).tolist()
    ['loyal', nan]
    """
    labels = getattr(personas, "labels_", None)
    if isinstance(labels, pd.Series):
        names = {card.id: card.name for card in getattr(personas, "personas_", None) or ()}
        personas = labels.map(lambda label: names.get(label, label))
    if isinstance(personas, pd.DataFrame) and personas.shape[1] == 1:
        personas = personas.iloc[:, 0]
    if isinstance(personas, Mapping):
        personas = pd.Series(dict(personas))
    if not isinstance(personas, pd.Series):
        raise InvalidParameterError(
            f"personas must map customer ids to personas; got {type(personas).__name__}.",
            expected="a pandas Series indexed by customer_id, a dict, or a fitted PersonaModel.",
            fix="Pass e.g. df.set_index('customer_id')['persona'].",
        )
    lookup = personas.set_axis(personas.index.astype(str))
    lookup = lookup[~lookup.index.duplicated(keep="last")]
    return customers.map(lookup).astype(object)
