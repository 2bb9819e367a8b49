"""The long tail of event names and steps: group names, collapse repeats.

Real clickstreams name one page many ways (``Product View``,
``product-view``, ``product_view_123``) and log the same page several times
in a row; both make every journey unique. Two transformations of the event
table, each returning a derived :class:`~journeymine.EventLog` (the same
columns, rows still sorted by customer and time) that discovery runs on
unchanged:

* :func:`group_touchpoints` renames touchpoints by a mapping (exact names or
  regular expressions); :func:`suggest_groups` proposes one for names that
  differ only by case, separators or a trailing id.
* :func:`collapse_repeats` merges each run of consecutive events at the same
  touchpoint into one step (its first event), counting the events in
  ``jm_repeats`` and the seconds from the run's first to its last event in
  ``jm_run_seconds``. The repeats are not lost: ``jm_repeats`` sums to the
  events of the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journeymine._util._arrays import distinct_sorted
from journeymine.eventlog._eventlog import EventLog, require_event_log
from journeymine.eventlog._runs import run_start_mask, same_as_next
from journeymine.eventlog._schema import ACTIVITY, CUSTOMER, REVENUE, TIMESTAMP
from journeymine.eventlog._validate import dictionary_encode
from journeymine.exceptions import InvalidParameterError

__all__ = ["REPEATS", "RUN_SECONDS", "apply_groups", "collapse_repeats", "group_touchpoints",
           "repeat_counts", "suggest_groups"]

#: Column of a collapsed log: events merged into the step (1 = no repeat).
REPEATS = "jm_repeats"
#: Column of a collapsed log: seconds from the run's first to its last event.
RUN_SECONDS = "jm_run_seconds"

MappingLike = Mapping[str, str] | Iterable[tuple[str, str]]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^0-9a-z]+")
#: A trailing id: digits, or a hex/uuid-like token with at least one digit.
_TRAILING_ID = re.compile(r"(_(?=[0-9a-f_]*[0-9])[0-9a-f]{1,}(_[0-9a-f]+)*)$")


# --------------------------------------------------------------------------- grouping
def _rules(mapping: MappingLike) -> list[tuple[str, str]]:
    """``mapping`` as a list of (pattern, replacement) string pairs, checked."""
    expected = ("a dict {name or regex: new name} or a list of (regex, replacement) pairs, "
                "e.g. {r'product_view_\\d+': 'product_view'}.")
    if isinstance(mapping, Mapping):
        pairs = list(mapping.items())
    elif isinstance(mapping, (str, bytes)) or not isinstance(mapping, Iterable):
        raise InvalidParameterError(f"mapping={mapping!r} is not a mapping of names.",
                                    expected=expected, fix="Pass a dict or a list of pairs.")
    else:
        pairs = list(mapping)
    out = []
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2
                and all(isinstance(p, str) for p in pair)):
            raise InvalidParameterError(
                f"The mapping entry {pair!r} is not a (pattern, replacement) pair of strings.",
                expected=expected, fix="Write each entry as ('regex', 'new name').")
        if not pair[1].strip():
            raise InvalidParameterError(
                f"The mapping entry {pair!r} renames to an empty name.", expected=expected,
                fix="Give every group a non-empty name.")
        out.append(pair)
    return out


def _compile(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidParameterError(
            f"The mapping key {pattern!r} is not a valid regular expression ({exc}).",
            expected="a Python regular expression matching whole touchpoint names.",
            fix="Escape special characters (re.escape(name)) or fix the pattern, e.g. "
                "r'product_view_\\d+'.",
        ) from None


def apply_groups(log: EventLog, mapping: MappingLike) -> tuple[EventLog, dict[str, list[str]]]:
    """``log`` with touchpoints renamed by ``mapping``, and what was grouped.

    See :func:`group_touchpoints`. The second item maps each new name to the
    sorted old names it replaces (only names that changed).
    """
    require_event_log(log, "Grouping touchpoints")
    rules = _rules(mapping)
    names = log.activities
    exact = {old: new for old, new in rules if old in set(names)}
    compiled = [(_compile(old), new) for old, new in rules if old not in exact]
    renamed = {}
    for name in names:
        new = exact.get(name)
        if new is None:
            for pattern, replacement in compiled:
                if pattern.fullmatch(name):
                    new = pattern.sub(replacement, name, count=1)
                    break
        if new is not None and new != name:
            renamed[name] = new
    groups: dict[str, list[str]] = {}
    for old, new in sorted(renamed.items()):
        groups.setdefault(new, []).append(old)
    if not renamed:
        return log, groups
    encoded = dictionary_encode(log.table.column(ACTIVITY))
    dictionary = pa.array([renamed.get(n, n) for n in encoded.dictionary.to_pylist()],
                          type=pa.string())
    values = pc.take(dictionary, encoded.indices)
    table = log.table.set_column(log.table.schema.get_field_index(ACTIVITY), ACTIVITY, values)
    grouped = EventLog(table, log.schema, report=log.validation, source=log.source,
                       stages=log.stages)
    return grouped, groups


def group_touchpoints(log: EventLog, mapping: MappingLike) -> EventLog:
    """Rename touchpoints, merging the names that mean the same step.

    Parameters
    ----------
    log : EventLog
        The events.
    mapping : dict or list of (str, str)
        ``{name or regex: new name}`` or ``[(regex, replacement), ...]``. A
        key that is a touchpoint of the log renames that touchpoint; any
        other key is a regular expression that must match the whole name,
        and the replacement may use its groups (``r"\\1"``). The first
        matching entry wins; names no entry matches are kept.

    Returns
    -------
    EventLog
        The same rows with the new names (``log`` itself when nothing changes).

    Raises
    ------
    InvalidParameterError
        ``mapping`` is not a dict or a list of pairs, an entry renames to an
        empty name, or a key is not a valid regular expression.

    See Also
    --------
    suggest_groups : a mapping for names that differ by case, separators or ids.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> df = pd.DataFrame({"customer_id": "a", "ts": ["2024-01-01", "2024-01-02", "2024-01-03"],
    ...                    "touchpoint": ["product_view_12", "Product View", "cart"]})
    >>> log = jm.EventLog.from_pandas(df)
    >>> group_touchpoints(log, {r"product_view_\\d+": "product_view",
    ...                         "Product View": "product_view"}).activities
    ['cart', 'product_view']
    """
    return apply_groups(log, mapping)[0]


def _normal_name(name: str) -> str:
    """``name`` in snake_case without a trailing id (``Product-View 12`` -> ``product_view``)."""
    snake = _SEPARATORS.sub("_", _CAMEL.sub("_", name.strip()).lower()).strip("_")
    stripped = _TRAILING_ID.sub("", snake)
    return stripped or snake or name


def suggest_groups(log: EventLog) -> dict[str, str]:
    """Propose groups of touchpoint names that differ only by case, separators or a trailing id.

    Each name is normalised: camelCase and separators (spaces, ``-``, ``.``,
    ``/``, ...) become snake_case and a trailing id (``_123``, ``_a1b2c3``)
    is dropped. Names that share a normal form with at least one other name
    are proposed to be renamed to it; review the proposal before using it.

    Parameters
    ----------
    log : EventLog
        The events.

    Returns
    -------
    dict of str to str
        ``{old name: group name}`` for the names to rename, sorted; pass it
        to :func:`group_touchpoints` or ``discover(..., rename=...)``.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> names = ["Product View", "product-view", "product_view_123", "productView", "cart"]
    >>> df = pd.DataFrame({"customer_id": "a", "touchpoint": names,
    ...                    "ts": pd.date_range("2024-01-01", periods=5, freq="min")})
    >>> suggest_groups(jm.EventLog.from_pandas(df))  # doctest: +NORMALIZE_WHITESPACE
    {'Product View': 'product_view', 'product-view': 'product_view',
     'productView': 'product_view', 'product_view_123': 'product_view'}
    """
    require_event_log(log, "suggest_groups()")
    families: dict[str, list[str]] = {}
    for name in log.activities:
        families.setdefault(_normal_name(name), []).append(name)
    return dict(sorted((name, normal) for normal, members in families.items()
                       if len(members) > 1 for name in members if name != normal))


# --------------------------------------------------------------------------- repeats
def collapse_repeats(log: EventLog) -> EventLog:
    """Merge each run of consecutive events at the same touchpoint into one step.

    A customer's ``product_view, product_view, product_view, cart`` becomes
    ``product_view, cart``. The step keeps the run's first event (its
    timestamp and other columns; revenue is summed over the run) and gains
    ``jm_repeats`` (events in the run) and ``jm_run_seconds`` (from the
    run's first to its last event). On a journey log (see
    :func:`~journeymine.sessionize`) runs stay within a journey.

    Parameters
    ----------
    log : EventLog
        The events.

    Returns
    -------
    EventLog
        One row per step, sorted as ``log``; ``jm_repeats`` sums to
        ``log.n_events``.

    Notes
    -----
    Times between steps run from a step's first event to the next step, so
    they include the time spent repeating the step; a journey's duration
    loses the time spent in its last run.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> df = pd.DataFrame({"customer_id": "a", "touchpoint": ["view", "view", "view", "cart"],
    ...                    "ts": pd.date_range("2024-01-01", periods=4, freq="min")})
    >>> steps = collapse_repeats(jm.EventLog.from_pandas(df))
    >>> steps.table.select(["activity", "jm_repeats", "jm_run_seconds"]).to_pylist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'activity': 'view', 'jm_repeats': 3, 'jm_run_seconds': 120.0},
     {'activity': 'cart', 'jm_repeats': 1, 'jm_run_seconds': 0.0}]
    """
    require_event_log(log, "collapse_repeats()")
    table = log.table
    n = table.num_rows
    same = same_as_next(table.column(CUSTOMER))
    codes = dictionary_encode(table.column(ACTIVITY)).indices.to_numpy(zero_copy_only=False)
    repeat_next = np.zeros(n, dtype=bool)
    repeat_next[:-1] = same[:-1] & (codes[1:] == codes[:-1])
    first = np.ones(n, dtype=bool)
    first[1:] = ~repeat_next[:-1]
    rows = np.flatnonzero(first)
    lasts = np.append(rows[1:], n) - 1
    stamps = table.column(TIMESTAMP).to_numpy().astype("datetime64[us]", copy=False)
    micros = stamps.view(np.int64)
    out = table.take(pa.array(rows))
    extra = {REPEATS: pa.array(lasts - rows + 1),
             RUN_SECONDS: pa.array((micros[lasts] - micros[rows]) / 1e6)}
    if REVENUE in table.column_names and len(rows) < n:
        revenue = table.column(REVENUE).to_numpy(zero_copy_only=False).astype(float)
        valid = ~np.isnan(revenue)
        total = np.add.reduceat(np.where(valid, revenue, 0.0), rows)
        any_valid = np.maximum.reduceat(valid, rows)
        summed = pa.array(total, mask=~any_valid).cast(table.schema.field(REVENUE).type)
        out = out.set_column(out.schema.get_field_index(REVENUE), REVENUE, summed)
    for name, values in extra.items():
        if name in out.column_names:
            out = out.drop_columns([name])
        out = out.append_column(name, values)
    return EventLog(out, log.schema, report=log.validation, source=log.source, stages=log.stages)


def repeat_counts(log: EventLog) -> pd.DataFrame:
    """The repeats a collapsed log merged, per touchpoint: the self-loops of the raw log.

    Parameters
    ----------
    log : EventLog
        A log from :func:`collapse_repeats`.

    Returns
    -------
    DataFrame
        ``touchpoint``, ``count`` (repeated events: the raw log's ``A -> A``
        transitions) and ``customers`` (journeys with a repeat there), for
        the touchpoints with repeats.
    """
    encoded = dictionary_encode(log.table.column(ACTIVITY))
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    extra = log.table.column(REPEATS).to_numpy() - 1
    names = encoded.dictionary.to_pylist()
    count = np.bincount(codes, weights=extra, minlength=len(names)).astype(np.int64)
    rows = np.flatnonzero(extra > 0)
    case = np.cumsum(run_start_mask(log.table.column(CUSTOMER)))
    pairs = distinct_sorted(case[rows].astype(np.int64) * len(names) + codes[rows])
    customers = np.bincount(pairs % len(names), minlength=len(names))
    kept = np.flatnonzero(count > 0)
    return pd.DataFrame({"touchpoint": [names[i] for i in kept], "count": count[kept],
                         "customers": customers[kept]})
