"""Journey grains: cut each customer's history into episodes or sessions.

On a real analytics export one customer's history spans months and hundreds
of events; as one case, every journey is unique and the days between visits
look like bottlenecks. A *grain* maps every event to a case id:

* ``"customer"``: the customer (the whole history, the default);
* ``"episode"``: the customer's history cut after each conversion (the
  journey to the first purchase, then to the repurchase, ...) and at long
  inactivity (``episode_gap``, 30 days by default);
* ``"session"``: a visit, from a session column (``session_id``,
  ``ga_session_id``, ``visitId``, ``sesi``, ...) or by an inactivity gap
  (``gap="30min"``, or suggested from the log's gap histogram by
  :func:`suggest_gap`).

The result is a :class:`Journeys` holding a derived :class:`~journeymine.EventLog`
whose ``customer_id`` is the case id (``"<customer>#<n>"``, ``n`` counting
the customer's cases from 1) with the original customer kept in
``jm_customer_id``: the same rows in the same order, so discovery runs
unchanged on it. The cut points are computed in a few vectorised NumPy passes
over the validated table, whose rows are sorted by customer and time.

Journeys cut by the data window are flagged *censored*: those starting within
``censor`` of the first timestamp of the log, or ending within ``censor`` of
its last one. A journey that ends near the end of the window may simply not
be over, so :func:`~journeymine.discover` does not count it as a drop-off.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import warnings
from collections.abc import Collection
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journeymine._util._arrays import distinct_sorted
from journeymine._util._params import parse_duration
from journeymine.eventlog._eventlog import EventLog, format_duration
from journeymine.eventlog._runs import run_start_mask, same_as_next
from journeymine.eventlog._schema import (
    ACTIVITY,
    CANONICAL,
    CUSTOMER,
    EVENT_INDEX,
    TIMESTAMP,
    detect_column,
    missing_column_error,
    suggest,
)
from journeymine.eventlog._validate import dictionary_encode
from journeymine.exceptions import DataQualityWarning, InvalidParameterError

__all__ = [
    "DEFAULT_EPISODE_GAP",
    "DEFAULT_GAP",
    "GRAINS",
    "GapSuggestion",
    "Journeys",
    "at_grain",
    "episodes",
    "parse_duration",
    "sessionize",
    "suggest_gap",
]

logger = logging.getLogger(__name__)

#: The grains a journey can be built at, coarsest first.
GRAINS = ("customer", "episode", "session")
#: Session gap used when the gap histogram is not bimodal (the web-analytics convention).
DEFAULT_GAP = pd.Timedelta(minutes=30)
#: Inactivity that ends an episode.
DEFAULT_EPISODE_GAP = pd.Timedelta(days=30)
#: Column of a grain's log holding the original customer id.
ORIGINAL_CUSTOMER = "jm_customer_id"
#: Column of a grain's log holding the case number within the customer (1, 2, ...).
CASE_NUMBER = "jm_case_number"
#: Separator between customer and case number in a case id.
CASE_SEPARATOR = "#"

DurationLike = str | pd.Timedelta | timedelta | np.timedelta64

#: Values a suggested gap is rounded to (seconds), so reports show "1h", not "1h 3min 7s".
_NICE_GAPS = np.array([
    60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 2 * 3600, 3 * 3600, 4 * 3600, 6 * 3600,
    8 * 3600, 12 * 3600, 86400, 2 * 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400,
], dtype=float)


# --------------------------------------------------------------------------- parameters
def check_grain(grain: Any) -> str:
    """``grain`` if it is one of :data:`GRAINS`, else an error that suggests the closest.

    Examples
    --------
    >>> check_grain("session")
    'session'
    >>> check_grain("sesion")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    journeymine.exceptions.InvalidParameterError: Unknown grain 'sesion'. ...
    """
    if isinstance(grain, str) and grain in GRAINS:
        return grain
    close = suggest(str(grain), GRAINS)
    raise InvalidParameterError(
        f"Unknown grain {grain!r}.",
        expected=f"one of {', '.join(map(repr, GRAINS))}.",
        fix=(f"Did you mean {close!r}? " if close else "")
        + "Use grain='session' for visits, 'episode' for journeys to each purchase.",
    )


# --------------------------------------------------------------------------- gaps
def _positions(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Per row, whether the next row is the same customer, and the timestamps in µs."""
    same = same_as_next(table.column(CUSTOMER))
    stamps = table.column(TIMESTAMP).to_numpy().astype("datetime64[us]", copy=False)
    return same, stamps.view(np.int64)


def customer_gaps(table: pa.Table) -> np.ndarray:
    """Seconds between each pair of consecutive events of one customer.

    ``table`` is a validated event table (sorted by customer and time).
    """
    same, micros = _positions(table)
    return (np.diff(micros)[same[:-1]] / 1e6) if len(micros) > 1 else np.zeros(0)


@dataclasses.dataclass(frozen=True, repr=False)
class GapSuggestion:
    """A session gap suggested from the distribution of gaps between a customer's events.

    Returned by :func:`suggest_gap`. Gaps inside a visit (seconds to
    minutes) and between visits (hours to weeks) form two modes of the
    log10-gap histogram; the suggested gap is the valley between them,
    rounded to a round duration. When the histogram is not bimodal, the gap
    falls back to :data:`DEFAULT_GAP` (30 min) and ``reason`` says why.

    Attributes
    ----------
    gap : pandas.Timedelta
        The suggested session gap.
    bimodal : bool
        Whether a within-visit and a between-visit mode were found.
    reason : str
        One sentence saying how the gap was chosen.
    bin_edges : numpy.ndarray
        Edges of the histogram bins in seconds (log-spaced, ``len(counts) + 1``).
    counts : numpy.ndarray
        Gaps per bin (gaps of zero seconds are not in the histogram).
    within_mode_seconds, between_mode_seconds : float or None
        Centres of the two modes (None when not bimodal).
    n_gaps : int
        Consecutive same-customer event pairs.
    zero_gaps : int
        Of those, pairs with equal timestamps.
    """

    gap: pd.Timedelta
    bimodal: bool
    reason: str
    bin_edges: np.ndarray
    counts: np.ndarray
    within_mode_seconds: float | None
    between_mode_seconds: float | None
    n_gaps: int
    zero_gaps: int

    def to_frame(self) -> pd.DataFrame:
        """The histogram: ``left_seconds``, ``right_seconds``, ``count`` per bin."""
        return pd.DataFrame({"left_seconds": self.bin_edges[:-1],
                             "right_seconds": self.bin_edges[1:], "count": self.counts})

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON: the gap in seconds, the reason and the histogram."""
        return {
            "gap_seconds": self.gap.total_seconds(), "bimodal": self.bimodal,
            "reason": self.reason, "bin_edges_seconds": self.bin_edges.tolist(),
            "counts": self.counts.tolist(), "within_mode_seconds": self.within_mode_seconds,
            "between_mode_seconds": self.between_mode_seconds, "n_gaps": self.n_gaps,
            "zero_gaps": self.zero_gaps,
        }

    def __repr__(self) -> str:
        return (f"GapSuggestion(gap {format_duration(self.gap.total_seconds())}, "
                f"{'bimodal' if self.bimodal else 'not bimodal'}, {self.n_gaps:,} gaps)")

    def _repr_html_(self) -> str:
        return f"<p><strong>{html.escape(repr(self))}</strong>: {html.escape(self.reason)}</p>"


def suggest_gap(log: EventLog, *, bins_per_decade: int = 10) -> GapSuggestion:
    """Suggest a session gap from the valley of the log10-gap histogram.

    Parameters
    ----------
    log : EventLog
        The events.
    bins_per_decade : int, default 10
        Histogram resolution (bins per factor of ten in seconds).

    Returns
    -------
    GapSuggestion
        The gap, whether the histogram was bimodal, the reason, and the
        histogram (bins and counts) for reports.

    Notes
    -----
    The histogram is smoothed over five bins. Every pair of local maxima at
    least one decade apart, the lower one below one hour, whose valley is at
    most half the lower of the two peaks and with at least 1% of the gaps
    above it, is a candidate; the most prominent pair wins. The gap is the
    middle (in log time) of the valley floor, rounded to a round duration.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> stamps = [pd.Timestamp("2024-01-01") + pd.Timedelta(days=3 * visit, minutes=click)
    ...           for visit in range(20) for click in range(5)]
    >>> df = pd.DataFrame({"customer_id": "a", "touchpoint": "page", "ts": stamps})
    >>> suggest_gap(jm.EventLog.from_pandas(df)).gap
    Timedelta('0 days 01:00:00')
    """
    if not isinstance(bins_per_decade, int) or isinstance(bins_per_decade, bool) \
            or bins_per_decade < 2:
        raise InvalidParameterError(
            f"bins_per_decade={bins_per_decade!r} is not a whole number of at least 2.",
            expected="an int >= 2.", fix="Pass e.g. bins_per_decade=10.",
        )
    gaps = customer_gaps(log.table)
    positive = gaps[gaps > 0]
    zero = int(len(gaps) - len(positive))
    if not len(positive):
        edges, counts = np.array([1.0, 10.0]), np.zeros(1, dtype=np.int64)
        return GapSuggestion(DEFAULT_GAP, False, "No two events of a customer are apart in "
                             "time: the default gap of 30min is used.", edges, counts,
                             None, None, len(gaps), zero)
    logs = np.log10(positive)
    lo = np.floor(logs.min() * bins_per_decade)
    hi = max(np.ceil(logs.max() * bins_per_decade), lo + 1)
    edges_log = np.arange(lo, hi + 1) / bins_per_decade
    counts, _ = np.histogram(logs, bins=edges_log)
    found = _valley(counts, edges_log, bins_per_decade, len(positive))
    if isinstance(found, str):
        return GapSuggestion(DEFAULT_GAP, False, found + " The default gap of 30min is used.",
                             10.0**edges_log, counts, None, None, len(gaps), zero)
    valley, within, between = found
    nice = float(_NICE_GAPS[np.argmin(np.abs(np.log10(_NICE_GAPS) - np.log10(valley)))])
    reason = (f"Gaps within a visit peak at {format_duration(within)}, gaps between visits at "
              f"{format_duration(between)}; the valley between them is at "
              f"{format_duration(valley)}, rounded to {format_duration(nice)}.")
    return GapSuggestion(pd.Timedelta(seconds=nice), True, reason, 10.0**edges_log, counts,
                         within, between, len(gaps), zero)


def _valley(counts: np.ndarray, edges_log: np.ndarray, per_decade: int,
            total: int) -> tuple[float, float, float] | str:
    """(valley, lower mode, upper mode) in seconds, or why the histogram is not bimodal."""
    if total < 20:
        return f"Only {total} positive gaps: too few for a histogram."
    # zero-padded so the smoothed histogram has one value per bin, however few bins
    smooth = np.convolve(np.pad(counts, 2), np.array([1, 2, 3, 2, 1]) / 9.0, mode="valid")
    centres = (edges_log[:-1] + edges_log[1:]) / 2
    padded = np.concatenate(([-1.0], smooth, [-1.0]))
    peaks = np.flatnonzero((smooth > padded[:-2]) & (smooth >= padded[2:]) & (smooth > 0))
    cum = np.concatenate(([0], np.cumsum(counts)))
    best, best_score = None, 0.0
    for i, a in enumerate(peaks):
        if centres[a] > np.log10(3600):
            break
        for b in peaks[i + 1:]:
            if b - a < per_decade:
                continue
            floor = a + int(np.argmin(smooth[a:b + 1]))
            low_peak = min(smooth[a], smooth[b])
            above = total - cum[floor + 1]
            if smooth[floor] > 0.5 * low_peak or above < max(0.01 * total, 5):
                continue
            score = low_peak - smooth[floor]
            if score > best_score:
                best, best_score = (a, b, floor), score
    if best is None:
        return "The gap histogram has no valley between a within-visit and a between-visit mode."
    a, b, floor = best
    level = smooth[floor] + 0.1 * (min(smooth[a], smooth[b]) - smooth[floor])
    left = right = floor
    while left - 1 > a and smooth[left - 1] <= level:
        left -= 1
    while right + 1 < b and smooth[right + 1] <= level:
        right += 1
    valley = 10.0 ** ((centres[left] + centres[right]) / 2)
    return float(valley), float(10.0 ** centres[a]), float(10.0 ** centres[b])


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, repr=False)
class Journeys:
    """An event log cut into journeys at one grain.

    Returned by :func:`sessionize`, :func:`episodes` and :func:`at_grain`;
    :func:`~journeymine.discover` runs on :attr:`log`.

    Attributes
    ----------
    grain : str
        ``"customer"``, ``"episode"`` or ``"session"``.
    log : EventLog
        The events with ``customer_id`` set to the case id
        (``"<customer>#<n>"``; the customer id itself at customer grain), the
        original customer in ``jm_customer_id`` and the case number (1, 2,
        ...) in ``jm_case_number``. Same rows, same order as the input.
    gap : pandas.Timedelta or None
        The inactivity that cuts journeys (session gap, episode gap).
    gap_source : str
        How the cuts were made, in words.
    censor : pandas.Timedelta or None
        Journeys starting or ending within this of the data window are censored.
    n_customers : int
        Distinct original customers.
    case_table : pyarrow.Table
        One row per journey; see :attr:`cases`.
    boundaries : pyarrow.Table
        One row per return (a customer's next journey): ``touchpoint`` (the
        last of the journey before), ``next_touchpoint``, ``customer_id``
        (the original customer) and ``seconds`` until the return.
    """

    grain: str
    log: EventLog
    gap: pd.Timedelta | None
    gap_source: str
    censor: pd.Timedelta | None
    n_customers: int
    case_table: pa.Table
    boundaries: pa.Table

    @property
    def n_journeys(self) -> int:
        """Number of journeys (cases)."""
        return self.case_table.num_rows

    @property
    def cases(self) -> pd.DataFrame:
        """One row per journey: ``case_id``, ``customer_id``, ``number``, ``events``,
        ``first_timestamp``, ``last_timestamp``, ``censored_start``, ``censored_end``."""
        return self.case_table.to_pandas()

    def censored_ids(self, end: bool = True) -> pa.Array:
        """Case ids of the journeys censored at the window end (or start with ``end=False``)."""
        flag = self.case_table.column("censored_end" if end else "censored_start")
        return self.case_table.column("case_id").filter(flag).combine_chunks()

    def summary(self) -> dict[str, Any]:
        """Headline numbers: grain, journeys, customers, gap and censoring."""
        t = self.case_table
        return {
            "grain": self.grain,
            "journeys": self.n_journeys,
            "customers": self.n_customers,
            "gap_seconds": self.gap.total_seconds() if self.gap is not None else None,
            "gap_source": self.gap_source,
            "censor_seconds": self.censor.total_seconds() if self.censor is not None else None,
            "censored_start": int(pc.sum(t.column("censored_start")).as_py() or 0),
            "censored_end": int(pc.sum(t.column("censored_end")).as_py() or 0),
        }

    def __repr__(self) -> str:
        unit = {"customer": "customer journeys", "episode": "episodes",
                "session": "sessions"}[self.grain]
        return (f"Journeys({self.n_journeys:,} {unit} of {self.n_customers:,} customers, "
                f"{self.gap_source})")

    def _repr_html_(self) -> str:
        return f"<p><strong>{html.escape(repr(self))}</strong></p>"


# --------------------------------------------------------------------------- grains
def sessionize(
    log: EventLog,
    *,
    gap: DurationLike | None = None,
    session: str | bool | None = None,
    censor: DurationLike | bool | None = None,
) -> Journeys:
    """Cut each customer's history into sessions (visits).

    Parameters
    ----------
    log : EventLog
        The events.
    gap : str or Timedelta, optional
        Inactivity that starts a new session (e.g. ``"30min"``). Without a
        session column and without ``gap``, the gap is :func:`suggest_gap`'s
        (30 min when the gap histogram is not bimodal). With a session
        column, it is the rule for rows without a session id (30 min by
        default).
    session : str or False, optional
        The session column; by default one named like ``session_id``,
        ``ga_session_id``, ``sessionId``, ``session``, ``visit_id`` or
        ``sesi`` is used when the log has one. ``False`` ignores any and
        applies the gap rule.
    censor : str, Timedelta or False, optional
        Sessions starting or ending within this of the data window are
        censored; the session gap by default.

    Returns
    -------
    Journeys

    Notes
    -----
    Sessions are per customer: a session is a run of a customer's
    consecutive events with the same session id. An id shared by several
    customers is split into one session per customer, and an id that comes
    back after another session starts a new session; both are counted in a
    :class:`~journeymine.exceptions.DataQualityWarning`. Rows with a null
    session id follow the gap rule (also counted in a warning): such a row
    joins the session before it unless the gap exceeds ``gap``, and the next
    row with an id starts a new session if its id differs from the last id seen.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> df = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "touchpoint": ["home", "product", "home", "home"],
    ...                    "ts": ["2024-01-01 10:00", "2024-01-01 10:05",
    ...                           "2024-01-03 09:00", "2024-01-01 12:00"]})
    >>> s = sessionize(jm.EventLog.from_pandas(df), gap="30min")
    >>> s
    Journeys(3 sessions of 2 customers, gap 30min (given))
    >>> s.log.table.column("customer_id").to_pylist()
    ['a#1', 'a#1', 'a#2', 'b#1']
    """
    return at_grain(log, "session", gap=gap, session=session, censor=censor)


def episodes(
    log: EventLog,
    *,
    episode_gap: DurationLike | None = DEFAULT_EPISODE_GAP,
    conversion: str | Collection[str] | None = None,
    stages=None,
    censor: DurationLike | bool | None = None,
) -> Journeys:
    """Cut each customer's history after each conversion and at long inactivity.

    Parameters
    ----------
    log : EventLog
        The events.
    episode_gap : str or Timedelta or None, default 30 days
        Inactivity that starts a new episode; ``None`` cuts at conversions only.
    conversion : str or list of str, optional
        Converting touchpoints or stages (see
        :func:`~journeymine.discovery.resolve_conversion`).
    stages : StageMap, dict or path, optional
        Touchpoint to stage map used to find the default conversion.
    censor : str, Timedelta or False, optional
        Episodes starting or ending within this of the data window are
        censored; ``episode_gap`` by default.

    Returns
    -------
    Journeys

    Notes
    -----
    A new episode starts at the first non-converting event after a
    conversion, so consecutive conversion events (checkout, payment) stay in
    one episode, which ends with them.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> df = pd.DataFrame({"customer_id": "a",
    ...                    "touchpoint": ["ad", "checkout", "review", "checkout"],
    ...                    "ts": ["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-09"]})
    >>> e = episodes(jm.EventLog.from_pandas(df), conversion="checkout")
    >>> e.log.table.column("jm_case_number").to_pylist()
    [1, 1, 2, 2]
    """
    from journeymine.discovery._discover import resolve_conversion

    conv = resolve_conversion(log, log.stage_map(stages), conversion)
    return at_grain(log, "episode", episode_gap=episode_gap, conversion=conv, censor=censor)


def at_grain(
    log: EventLog,
    grain: str = "customer",
    *,
    gap: DurationLike | None = None,
    session: str | bool | None = None,
    episode_gap: DurationLike | None = DEFAULT_EPISODE_GAP,
    conversion: Collection[str] = (),
    censor: DurationLike | bool | None = None,
) -> Journeys:
    """The log cut into journeys at ``grain``; see :func:`sessionize` and :func:`episodes`.

    Parameters
    ----------
    log : EventLog
    grain : {"customer", "episode", "session"}
    gap, session
        Session rules (session grain).
    episode_gap : str, Timedelta or None
        Episode inactivity rule (episode grain).
    conversion : collection of str
        Converting touchpoints (episode grain).
    censor : str, Timedelta or False, optional
        Censoring window; by default the grain's gap (none at customer grain).

    Returns
    -------
    Journeys

    Raises
    ------
    InvalidParameterError
        Unknown grain, or a gap that is not a positive duration.
    ColumnNotFoundError
        ``session`` names a column the log does not have.
    """
    grain = check_grain(grain)
    table = log.table
    same, micros = _positions(table)
    new = np.ones(table.num_rows, dtype=bool)
    new[1:] = ~same[:-1]
    cut = np.zeros(table.num_rows, dtype=bool)
    gap_td: pd.Timedelta | None = None
    if grain == "session":
        gap_td, source = _session_cuts(log, cut, micros, gap, session)
    elif grain == "episode":
        gap_td = None if episode_gap is None else parse_duration(episode_gap, "episode_gap")
        source = _episode_cuts(table, cut, micros, gap_td, conversion)
    else:
        source = "one journey per customer"
    if censor is None:
        censor_td = gap_td
    elif censor is False:
        censor_td = None
    else:
        censor_td = parse_duration(censor, "censor")
    new |= cut
    return _journeys(log, grain, new, same, micros, gap_td, source, censor_td)


def _session_cuts(log: EventLog, cut: np.ndarray, micros: np.ndarray, gap: Any,
                  session: str | bool | None) -> tuple[pd.Timedelta, str]:
    """Mark in ``cut`` the rows that start a new session; return the gap and how it was chosen."""
    column = _session_column(log, session)
    if gap is not None:
        gap_td, how = parse_duration(gap), "given"
    elif column is not None:
        gap_td, how = DEFAULT_GAP, "default"
    else:
        suggestion = suggest_gap(log)
        gap_td = suggestion.gap
        how = "suggested" if suggestion.bimodal else "default: the gap histogram is not bimodal"
        if not suggestion.bimodal:
            logger.warning("Session gap: %s", suggestion.reason)
        else:
            logger.info("Session gap: %s", suggestion.reason)
    long_gap = np.zeros(len(cut), dtype=bool)
    long_gap[1:] = np.diff(micros) > gap_td.value // 1000
    text = f"gap {format_duration(gap_td.total_seconds())} ({how})"
    if column is None:
        cut |= long_gap
        return gap_td, text
    _column_cuts(log.table, column, cut, long_gap)
    return gap_td, f"session column {column!r}, {text} for rows without a session id"


def _session_column(log: EventLog, session: str | bool | None) -> str | None:
    """The session column to use, or None for the gap rule."""
    reserved = set(CANONICAL.values()) | {EVENT_INDEX, ORIGINAL_CUSTOMER, CASE_NUMBER}
    extras = [c for c in log.table.column_names if c not in reserved]
    if session is False:
        return None
    if session is None or session is True:
        found = detect_column("session", extras)
        if found is None and session is True:
            raise missing_column_error("session", "session", extras)
        return found
    if session == log.schema.customer:
        raise InvalidParameterError(
            f"session={session!r} is the customer column of this log.",
            expected="a session column other than the customer column.",
            fix="Pass session=False to cut sessions by the inactivity gap instead.",
        )
    if session not in extras:
        raise missing_column_error(session, "session", extras)
    return session


def _column_cuts(table: pa.Table, column: str, cut: np.ndarray, long_gap: np.ndarray) -> None:
    """Mark the rows where the session id changes; rows without an id follow ``long_gap``."""
    n = table.num_rows
    values = table.column(column)
    starts = run_start_mask(table.column(CUSTOMER))
    if values.null_count == 0:
        # every row has an id: compare each with the row before, no encoding
        change = run_start_mask(values) & ~starts
        cut |= change
        _check_session_ids(values, starts, np.flatnonzero(change | starts), column)
        return
    codes = dictionary_encode(values).indices
    codes = codes.fill_null(-1).to_numpy()
    valid = codes >= 0
    first_row = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    last_valid = np.maximum.accumulate(np.where(valid, np.arange(n), -1))
    before = np.full(n, -1)
    before[1:] = last_valid[:-1]
    has_before = (before >= first_row) & ~starts
    compare = valid & has_before
    change = np.zeros(n, dtype=bool)
    change[compare] = codes[compare] != codes[before[compare]]
    cut |= change
    cut[~compare] |= long_gap[~compare]
    missing = n - int(valid.sum())
    warnings.warn(
        f"{missing:,} event(s) have no session id in {column!r}; they are assigned to "
        "sessions by the inactivity gap.", DataQualityWarning, stacklevel=4,
    )
    if missing < n:
        _check_session_ids(values, starts, np.flatnonzero(valid & (change | ~has_before)),
                           column)


def _check_session_ids(values: pa.ChunkedArray, starts: np.ndarray, runs: np.ndarray,
                       column: str) -> None:
    """Warn when session ids are shared by customers or come back after another session.

    ``runs`` are the first rows of each run of one id within a customer; only
    those are encoded (a few per session instead of every event).
    """
    if not len(runs):
        return
    codes = dictionary_encode(values.take(pa.array(runs))).indices.to_numpy()
    # distinct (customer, session id) pairs by integer key
    width = int(codes.max()) + 1
    pairs = distinct_sorted((np.cumsum(starts) - 1)[runs] * width + codes)
    shared = int(np.count_nonzero(np.bincount(pairs % width) > 1))
    split = len(runs) - len(pairs)
    if shared or split:
        warnings.warn(
            f"Sessions are per customer and per run of events: {shared:,} session id(s) in "
            f"{column!r} are shared by several customers and {split:,} session(s) were split "
            "because an id came back after another session; each part is its own session.",
            DataQualityWarning, stacklevel=5,
        )


def _episode_cuts(table: pa.Table, cut: np.ndarray, micros: np.ndarray,
                  gap: pd.Timedelta | None, conversion: Collection[str]) -> str:
    """Mark in ``cut`` the first non-converting event after a conversion, and long gaps."""
    parts = []
    if conversion:
        converts = pc.is_in(table.column(ACTIVITY), pa.array(sorted(conversion))).to_numpy(
            zero_copy_only=False)
        cut[1:] |= converts[:-1] & ~converts[1:]
        parts.append("after each conversion (" + ", ".join(sorted(conversion)) + ")")
    else:
        logger.warning("Episodes: no conversion touchpoint, cut at inactivity only.")
    if gap is not None:
        cut[1:] |= np.diff(micros) > gap.value // 1000
        parts.append(f"after {format_duration(gap.total_seconds())} of inactivity")
    return "cut " + " and ".join(parts) if parts else "no cuts (no conversion, no episode gap)"


def _journeys(log: EventLog, grain: str, new: np.ndarray, same: np.ndarray,
              micros: np.ndarray, gap: pd.Timedelta | None, source: str,
              censor: pd.Timedelta | None) -> Journeys:
    """Number the cases, build the derived log, the case table and the returns."""
    table = log.table
    n = table.num_rows
    customer_start = np.ones(n, dtype=bool)
    customer_start[1:] = ~same[:-1]
    counter = np.cumsum(new)
    number = counter - np.maximum.accumulate(np.where(customer_start, counter, 0)) + 1
    customers = table.column(CUSTOMER)
    firsts = np.flatnonzero(new)
    take_first = pa.array(firsts)
    first_customers = pc.take(customers, take_first)
    if grain == "customer":
        names, case_ids = first_customers, customers
    else:
        # one id per case, then spread to its rows: 3x faster than joining per row
        names = pc.binary_join_element_wise(
            first_customers, pc.cast(pa.array(number[firsts]), pa.string()), CASE_SEPARATOR)
        case_ids = pc.take(names, pa.array(counter - 1))
    derived = table.set_column(table.schema.get_field_index(CUSTOMER), CUSTOMER, case_ids)
    for name, values in ((ORIGINAL_CUSTOMER, customers), (CASE_NUMBER, pa.array(number))):
        if name in derived.column_names:
            derived = derived.drop_columns([name])
        derived = derived.append_column(name, values)
    case_log = EventLog(derived, log.schema, report=log.validation, source=log.source,
                        stages=log.stages)

    lasts = np.append(firsts[1:], n) - 1
    first_at, last_at = micros[firsts], micros[lasts]
    limit = 0 if censor is None else censor.value // 1000  # no gap is below 0
    case_table = pa.table({
        "case_id": names,
        "customer_id": first_customers,
        "number": pa.array(number[firsts]),
        "events": pa.array(lasts - firsts + 1),
        "first_timestamp": pc.take(table.column(TIMESTAMP), take_first),
        "last_timestamp": pc.take(table.column(TIMESTAMP), pa.array(lasts)),
        "censored_start": pa.array(first_at - micros.min() < limit),
        "censored_end": pa.array(micros.max() - last_at < limit),
    })
    back = np.flatnonzero(same & np.append(new[1:], False))  # last event before a return
    activity = table.column(ACTIVITY)
    boundaries = pa.table({
        "touchpoint": pc.take(activity, pa.array(back)),
        "next_touchpoint": pc.take(activity, pa.array(back + 1)),
        CUSTOMER: pc.take(customers, pa.array(back)),
        "seconds": pa.array((micros[back + 1] - micros[back]) / 1e6),
    })
    n_customers = int(np.count_nonzero(customer_start))
    return Journeys(grain, case_log, gap, source, censor, n_customers, case_table, boundaries)


# --------------------------------------------------------------------------- queries
def returns_query(boundaries):
    """Returns per touchpoint: after it, how long until the customer's next journey (Ibis).

    ``boundaries`` is :attr:`Journeys.boundaries` as an Ibis table. Columns:
    ``touchpoint``, ``count``, ``customers`` (distinct), ``median_seconds``,
    ``p90_seconds``.
    """
    b = boundaries
    out = b.group_by("touchpoint").aggregate(
        count=b.count(), customers=b[CUSTOMER].nunique(),
        quantiles=b.seconds.quantile([0.5, 0.9]),
    )
    return out.mutate(median_seconds=out.quantiles[0], p90_seconds=out.quantiles[1]).drop(
        "quantiles")
