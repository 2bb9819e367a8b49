"""The :class:`Schema` that names the columns of an event log."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from typing import Any

from journeymine._util._params import suggest
from journeymine.exceptions import ColumnNotFoundError, SchemaError

__all__ = ["Schema"]

logger = logging.getLogger(__name__)

#: Canonical column names inside an :class:`~journeymine.EventLog`.
CUSTOMER, ACTIVITY, TIMESTAMP = "customer_id", "activity", "timestamp"
CHANNEL, STAGE, TEXT, RATING, REVENUE = "channel", "stage", "text", "rating", "revenue"
EVENT_INDEX = "event_index"

_ROLES = ("customer", "activity", "timestamp", "channel", "stage", "text", "rating", "revenue")
_REQUIRED = ("customer", "activity", "timestamp")
CANONICAL = {
    "customer": CUSTOMER,
    "activity": ACTIVITY,
    "timestamp": TIMESTAMP,
    "channel": CHANNEL,
    "stage": STAGE,
    "text": TEXT,
    "rating": RATING,
    "revenue": REVENUE,
}

# Candidate names per role, most specific first. Compared after normalising
# case and separators, so "Customer ID", "customer-id" and "customerId" match.
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "customer": (
        "case:concept:name", "customer_id", "customerid", "user_id", "userid",
        "client_id", "visitor_id", "member_id", "buyer_id", "person_id", "account_id",
        "case_id", "caseid", "case", "id_pelanggan", "pelanggan_id", "customer",
        "user", "client", "visitor", "pelanggan", "anonymous_id", "session_id",
    ),
    "activity": (
        "concept:name", "touchpoint", "activity", "event", "event_name", "eventname",
        "event_type", "action", "step", "page", "aktivitas", "kegiatan", "titik_kontak",
        "interaction", "name",
    ),
    "timestamp": (
        "time:timestamp", "timestamp", "ts", "event_time", "event_timestamp", "datetime",
        "date_time", "time", "event_date", "created_at", "occurred_at", "waktu",
        "tanggal", "date",
    ),
    "channel": ("channel", "kanal", "saluran", "medium", "source", "platform"),
    "stage": ("stage", "journey_stage", "funnel_stage", "tahap", "tahapan", "phase"),
    "text": ("text", "review", "comment", "message", "feedback", "ulasan", "pesan", "komentar"),
    "rating": ("rating", "stars", "score", "nps", "csat", "nilai_ulasan", "bintang", "skor"),
    "revenue": (
        "revenue", "amount", "order_value", "value", "price", "total", "gmv",
        "sales", "pendapatan", "nilai", "harga",
    ),
    # Not a Schema role (a session column stays an extra column under its own
    # name); found by :func:`detect_column` when journeys are cut into sessions.
    "session": (
        "session_id", "ga_session_id", "sessionid", "session", "session_key",
        "ga_session_number", "session_number", "visit_id", "visitid", "visit",
        "visit_number", "sesi_id", "id_sesi", "sesi", "kunjungan_id", "id_kunjungan",
    ),
}


def _norm(name: str) -> str:
    """Normalise a column name for matching: lower case, ``_`` for separators."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))  # camelCase -> camel_Case
    return re.sub(r"[\s\-.]+", "_", name.strip()).lower()


def detect_column(role: str, columns: Sequence[str]) -> str | None:
    """The first of ``columns`` named like a ``role`` column (most specific name first).

    Names are compared after normalising case and separators, as in
    :meth:`Schema.resolve`.

    Examples
    --------
    >>> detect_column("session", ["customer_id", "activity", "gaSessionId"])
    'gaSessionId'
    >>> detect_column("session", ["customer_id", "activity"]) is None
    True
    """
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(_norm(col), str(col))
    return next((by_norm[c] for c in map(_norm, _CANDIDATES[role]) if c in by_norm), None)


def missing_column_error(name: str, role: str, columns: Sequence[str]) -> ColumnNotFoundError:
    """Build the error for a column the user named that is not there."""
    close = suggest(name, columns)
    hint = f"Did you mean {close!r}? " if close else ""
    return ColumnNotFoundError(
        f"Column {name!r} (the {role} column) is not in the data.",
        expected=f"one of the columns found: {', '.join(map(repr, columns))}.",
        fix=f"{hint}Pass {role}=<column name> with one of the columns found.",
    )


#: How to drop repeated columns of a pandas DataFrame (the fix of :func:`check_distinct_columns`).
PANDAS_DUPLICATES_FIX = "Rename or drop the duplicates, e.g. df.loc[:, ~df.columns.duplicated()]."


def check_distinct_columns(names: Sequence[str], what: str = "The DataFrame",
                           fix: str = PANDAS_DUPLICATES_FIX) -> None:
    """Raise a :class:`SchemaError` when a column name stands more than once in ``names``.

    Parameters
    ----------
    names : sequence of str
        The column names, in order.
    what : str, default "The DataFrame"
        What holds the columns, to start the message with.
    fix : str
        How to fix it (by default, for a pandas DataFrame).

    Raises
    ------
    SchemaError
        Names the repeated columns, sorted.

    Examples
    --------
    >>> check_distinct_columns(["user", "event", "ts"])
    >>> check_distinct_columns(["ts", "user", "ts"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    journeymine.exceptions.SchemaError: The DataFrame has duplicate column names: ['ts']. ...
    """
    names = list(names)
    if len(set(names)) != len(names):
        dupes = sorted({c for c in names if names.count(c) > 1})
        raise SchemaError(f"{what} has duplicate column names: {dupes}.",
                          expected="distinct column names.", fix=fix)


@dataclasses.dataclass(frozen=True)
class Schema:
    """Names the columns of an event log.

    An event log needs a customer id, an activity (the touchpoint) and a
    timestamp per row. Channel, stage, text, rating and revenue are optional;
    any other column is kept as an extra attribute.

    Parameters
    ----------
    customer, activity, timestamp : str or None
        Column names of the required roles. ``None`` means "detect it".
    channel, stage, text, rating, revenue : str or None
        Column names of the optional roles. ``None`` means "detect it if a
        column with a common name exists"; pass ``False`` to never use one.

    Examples
    --------
    >>> import journeymine as jm
    >>> schema = jm.Schema(customer="user_id", activity="event", timestamp="ts")
    >>> schema.resolve(["user_id", "event", "ts", "channel"]).channel
    'channel'
    """

    customer: str | None = None
    activity: str | None = None
    timestamp: str | None = None
    channel: str | bool | None = None
    stage: str | bool | None = None
    text: str | bool | None = None
    rating: str | bool | None = None
    revenue: str | bool | None = None

    def resolve(self, columns: Sequence[str]) -> Schema:
        """Return a schema with every role bound to a column of ``columns``.

        Roles given explicitly must exist (a :class:`ColumnNotFoundError`
        suggests the closest name otherwise); roles left as ``None`` are
        detected from common names such as pm4py's ``case:concept:name`` or
        ``user_id``/``event``/``timestamp``.

        Parameters
        ----------
        columns : sequence of str
            Column names of the data.

        Returns
        -------
        Schema
            A new schema; optional roles with no column are ``None``.

        Raises
        ------
        ColumnNotFoundError
            A named column is missing, or a required role cannot be detected.
        SchemaError
            Two roles point at the same column.
        """
        columns = [str(c) for c in columns]
        by_norm: dict[str, str] = {}
        for col in columns:
            by_norm.setdefault(_norm(col), col)
        bound: dict[str, str | None] = {}
        for role in _ROLES:
            given = getattr(self, role)
            if given is False:
                bound[role] = None
            elif given is not None and given is not True:
                if given not in columns:
                    raise missing_column_error(given, role, columns)
                bound[role] = given
            else:
                taken = {v for v in bound.values() if v}
                found = next(
                    (by_norm[c] for c in map(_norm, _CANDIDATES[role])
                     if c in by_norm and by_norm[c] not in taken),
                    None,
                )
                if found is None and role in _REQUIRED:
                    raise self._undetected(role, columns)
                bound[role] = found
        used = [v for v in bound.values() if v]
        dupes = {v for v in used if used.count(v) > 1}
        if dupes:
            raise SchemaError(
                f"Column(s) {sorted(dupes)} are used for more than one role.",
                expected="a different column for each role.",
                fix="Name each role's column explicitly, e.g. Schema(customer=..., activity=...).",
            )
        return Schema(**bound)

    @staticmethod
    def _undetected(role: str, columns: Sequence[str]) -> ColumnNotFoundError:
        names = ", ".join(repr(c) for c in _CANDIDATES[role][:6])
        close = next(
            (c for c in (suggest(n, columns) for n in _CANDIDATES[role]) if c), None
        )
        hint = f"Did you mean {close!r}? " if close else ""
        return ColumnNotFoundError(
            f"No {role} column found among the columns {columns}.",
            expected=f"a column with a common {role} name such as {names}.",
            fix=f"{hint}Name it explicitly: {role}=<column name>.",
        )

    @property
    def mapping(self) -> dict[str, str]:
        """The bound columns as ``{source column: canonical name}``."""
        return {
            getattr(self, role): CANONICAL[role]
            for role in _ROLES
            if isinstance(getattr(self, role), str)
        }

    def describe(self) -> str:
        """One line saying which column plays which role.

        Examples
        --------
        >>> Schema("user_id", "event", "ts").describe()
        'customer=user_id, activity=event, timestamp=ts'
        """
        return ", ".join(
            f"{role}={getattr(self, role)}"
            for role in _ROLES
            if isinstance(getattr(self, role), str)
        )


def _split_schema(schema: Schema | None, kwargs: dict[str, Any]) -> Schema:
    """Merge ``schema`` with role keyword arguments (popped from ``kwargs``).

    The readers take column roles both ways: ``read_csv(path, schema)`` and
    ``read_csv(path, customer="user_id")``; keywords win over the schema.
    """
    if schema is not None and not isinstance(schema, Schema):
        raise SchemaError(
            f"schema must be a journeymine Schema, got {type(schema).__name__}.",
            expected="jm.Schema(customer=..., activity=..., timestamp=...) or None.",
            fix="Pass a Schema, or name columns with keywords such as customer='user_id'.",
        )
    given = {k: kwargs.pop(k) for k in _ROLES if kwargs.get(k) is not None}
    for k in _ROLES:
        kwargs.pop(k, None)
    return Schema(**{**vars(schema or Schema()), **given})
