"""Patterns in a long tail of journeys: frequent sub-paths and paths around an anchor.

When every journey is unique, the list of variants is a list of singletons.
What customers share are pieces of paths:

* :func:`patterns`: frequent *contiguous* sub-paths of ``min_len`` to
  ``max_len`` steps, with the journeys containing them and their conversion
  lift. Only steps before a journey's first conversion count (what happens
  after buying cannot cause the purchase). The lift compares the journeys
  containing the pattern with those that reached its first touchpoint
  without it (``baseline="first_step"``, so a checkout pattern is compared
  with other journeys that reached the checkout, not with bounces), or with
  every other journey (``baseline="all"``). Its 95 % interval is the MOVER
  interval of a ratio (Donner & Zou 2012) built from the Wilson intervals of
  the two conversion rates.
* :func:`paths_from` and :func:`paths_to`: step by step after (or before)
  the first occurrence of an anchor touchpoint, where journeys go, the most
  common touchpoints kept and the rest in ``"other"``, with ``"(end)"``
  (``"(start)"``) for journeys that stop; a :class:`Paths` table and an SVG
  Sankey diagram.

A sub-path fully explained by a longer one is dropped (``closed=True``, the
default): when ``a > b`` occurs in exactly as many journeys as ``a > b > c``
(or ``x > a > b``), every journey with ``a > b`` goes on to ``c`` (came from
``x``), so the shorter row repeats the longer one with nothing to add (the same
journeys give the same conversion and lift). Only the longer pattern is kept:
these are the *closed* patterns of sequence mining. Comparing with the
patterns one step longer is enough: the journeys of a sub-path can only
shrink as it grows, so a pattern with a longer equal-count super-path also
has a one-step extension with that count. Patterns of ``max_len`` steps are
never dropped (their extensions are not counted).

Both run on an :class:`~journeymine.EventLog` (cut into journeys like
:func:`~journeymine.discover`: ``grain``, ``rename``, ``collapse_repeats``)
or on a :class:`~journeymine.ProcessMap`, whose variants already hold every
journey's path (each variant weighted by its journeys).

Sub-paths are counted by n-gram hashing over the integer-coded steps: the
``k``-step sub-path starting at each row gets a dense id from the
``k-1``-step id and the next step's code (one sort per length), distinct
(journey, sub-path) pairs are one more sort, and sub-paths whose prefix is
already rarer than ``min_journeys`` are pruned before the next length.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journeymine._util._arrays import distinct_sorted
from journeymine._util._json import VARIANT_SEPARATOR, records
from journeymine._util._stats import Z95, wilson_interval
from journeymine.discovery._discover import prepare_log
from journeymine.discovery._processmap import ProcessMap
from journeymine.eventlog._eventlog import EventLog
from journeymine.eventlog._runs import run_starts
from journeymine.eventlog._schema import ACTIVITY, CUSTOMER, suggest
from journeymine.eventlog._validate import dictionary_encode
from journeymine.exceptions import InvalidParameterError, JourneymineError, UnknownTouchpointError

__all__ = ["END", "OTHER", "PATTERN_COLUMNS", "START", "Paths", "paths_from", "paths_to",
           "patterns"]

#: Columns of the :func:`patterns` table.
PATTERN_COLUMNS = ("pattern", "length", "journeys", "share", "conversion", "baseline", "lift",
                   "lift_low", "lift_high")
#: Bucket of the touchpoints beyond the ``top`` kept at a step.
OTHER = "other"
#: Where a journey ends (paths_from) or starts (paths_to).
END, START = "(end)", "(start)"


# --------------------------------------------------------------------------- coded journeys
@dataclasses.dataclass(frozen=True)
class _Coded:
    """Journeys as integer-coded steps: one run of ``codes`` per journey."""

    codes: np.ndarray       # step codes, journeys one after another
    starts: np.ndarray      # start row of each journey, then len(codes)
    weight: np.ndarray      # journeys each run stands for (1 per journey, or a variant's count)
    names: list[str]        # code -> touchpoint
    conversion: tuple[str, ...]
    stage_of: dict[str, str]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    def cut(self) -> np.ndarray:
        """Per journey, the row of its first conversion (its end when it never converts)."""
        conv = np.isin(self.codes, [self.names.index(c) for c in self.conversion
                                    if c in self.names])
        rows = np.arange(len(self.codes))
        at = np.where(conv, rows, np.repeat(self.starts[1:], self.lengths))
        return np.minimum.reduceat(at, self.starts[:-1]) if len(self.codes) else at


def _coded(source: EventLog | ProcessMap, options: dict[str, Any]) -> _Coded:
    """The journeys of a log (prepared like :func:`discover`) or of a map's variants."""
    if isinstance(source, ProcessMap):
        if options:
            raise InvalidParameterError(
                f"{', '.join(sorted(options))} only apply to an EventLog, not a ProcessMap.",
                expected="a ProcessMap alone, or an EventLog with these options.",
                fix="Pass them to jm.discover(...) instead, or pass the EventLog.")
        base = source.full or source
        variants = base.variants
        parts = pc.split_pattern(pa.array(variants["variant"], type=pa.string()),
                                 VARIANT_SEPARATOR)
        steps = pc.dictionary_encode(parts.flatten())
        return _Coded(steps.indices.to_numpy().astype(np.int64),
                      parts.offsets.to_numpy().astype(np.int64),
                      variants["customers"].to_numpy(np.int64),
                      steps.dictionary.to_pylist(), base.conversion, dict(base.stages.mapping))
    if not isinstance(source, EventLog):
        raise JourneymineError(
            f"Expected an EventLog or a ProcessMap, got {type(source).__name__}.",
            expected="a journeymine.EventLog or the ProcessMap from jm.discover.",
            fix="Build a log with jm.EventLog.from_pandas(df), or pass jm.discover(log).")
    prep = prepare_log(source, **options)
    table = prep.cases.table
    encoded = dictionary_encode(table.column(ACTIVITY))
    starts = run_starts(table.column(CUSTOMER))
    return _Coded(encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
                  np.append(starts, table.num_rows).astype(np.int64),
                  np.ones(len(starts), dtype=np.int64), encoded.dictionary.to_pylist(),
                  prep.conversion, dict(prep.stage_map.mapping))


def _whole(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InvalidParameterError(
            f"{name}={value!r} is not a whole number of at least {low}.",
            expected=f"an int >= {low}.", fix=f"Pass e.g. {name}={max(low, 3)}.")
    return int(value)


# --------------------------------------------------------------------------- patterns
def _ratio_interval(x1, n1, x0, n0) -> tuple[np.ndarray, np.ndarray]:
    """95 % MOVER interval of ``(x1/n1) / (x0/n0)`` from the two Wilson intervals."""
    l1, u1 = wilson_interval(x1, n1, Z95)
    l0, u0 = wilson_interval(x0, n0, Z95)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p0 = x1 / n1, x0 / n0
        low = (p1 * p0 - np.sqrt(np.maximum((p1 * p0) ** 2 - l1 * u0 * (2 * p1 - l1)
                                            * (2 * p0 - u0), 0))) / (u0 * (2 * p0 - u0))
        high = (p1 * p0 + np.sqrt(np.maximum((p1 * p0) ** 2 - u1 * l0 * (2 * p1 - u1)
                                             * (2 * p0 - l0), 0))) / (l0 * (2 * p0 - l0))
    return low, np.where(l0 > 0, high, np.inf)


def _distinct(case: np.ndarray, ids: np.ndarray, size: int, weight: np.ndarray,
              converted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Journeys (weighted) and converting journeys containing each id at least once.

    Distinct (journey, id) pairs by one integer key (see :func:`distinct_sorted`).
    """
    pairs = distinct_sorted(case * size + ids)
    cases, grams = pairs // size, pairs % size
    n = np.bincount(grams, weights=weight[cases], minlength=size)
    x = np.bincount(grams, weights=(weight * converted)[cases], minlength=size)
    return n.astype(np.int64), x.astype(np.int64)


def patterns(
    source: EventLog | ProcessMap,
    *,
    min_len: int = 2,
    max_len: int = 5,
    top: int | None = 20,
    min_journeys: int = 30,
    baseline: str = "first_step",
    sort: str = "journeys",
    closed: bool = True,
    **options,
) -> pd.DataFrame:
    """Frequent contiguous sub-paths, with the journeys containing them and their conversion lift.

    Parameters
    ----------
    source : EventLog or ProcessMap
        The events (cut into journeys as by :func:`~journeymine.discover`
        with ``options``), or a discovered map (its variants).
    min_len, max_len : int, default 2 and 5
        Shortest and longest sub-path, in steps.
    top : int or None, default 20
        Rows to return (all with ``None``).
    min_journeys : int, default 30
        Fewest journeys a pattern must occur in (minimum support).
    baseline : {"first_step", "all"}, default "first_step"
        Whom the journeys with the pattern are compared with: those that
        reached the pattern's first touchpoint without the pattern, or all
        journeys without it.
    sort : {"journeys", "lift"}, default "journeys"
        Most journeys first, or lowest lift first (barriers first).
    closed : bool, default True
        Drop a pattern that occurs in exactly as many journeys as a pattern
        one step longer that starts or ends with it (every journey with it
        continues the same way, see the module notes); ``False`` keeps every
        frequent sub-path.
    **options
        For an EventLog: :func:`~journeymine.discover`'s ``grain``, ``gap``,
        ``session``, ``episode_gap``, ``censor``, ``stages``, ``conversion``,
        ``rename`` and ``collapse_repeats``.

    Returns
    -------
    DataFrame
        ``pattern`` (touchpoints joined by ``" > "``), ``length``,
        ``journeys`` containing it before their first conversion, ``share``
        of all journeys, ``conversion`` of those journeys, ``baseline``
        (conversion of the comparison journeys), ``lift`` (their ratio;
        NaN when the comparison group is empty or never converts) and
        ``lift_low``/``lift_high`` (95 %).

    Raises
    ------
    InvalidParameterError
        Lengths, ``top`` or ``min_journeys`` out of range, unknown
        ``baseline``/``sort``, ``closed`` not a bool, or options given with a
        ProcessMap.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> paths = ["a b c buy", "a b c", "a b", "x a b c buy"]
    >>> df = pd.DataFrame([(f"u{i}", tp, pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=k))
    ...                    for i, p in enumerate(paths) for k, tp in enumerate(p.split())],
    ...                   columns=["customer_id", "touchpoint", "ts"])
    >>> log = jm.EventLog.from_pandas(df)
    >>> patterns(log, conversion="buy", min_journeys=2)[["pattern", "journeys", "conversion"]]
         pattern  journeys  conversion
    0      a > b         4    0.500000
    1  a > b > c         3    0.666667

    ``b > c`` is in the same 3 journeys as ``a > b > c``, so it is dropped:

    >>> patterns(log, conversion="buy", min_journeys=2, closed=False)["pattern"].tolist()
    ['a > b', 'b > c', 'a > b > c']
    """
    min_len = _whole("min_len", min_len, 1)
    max_len = _whole("max_len", max_len, min_len)
    top = None if top is None else _whole("top", top)
    min_journeys = _whole("min_journeys", min_journeys)
    _choice("baseline", baseline, ("first_step", "all"))
    _choice("sort", sort, ("journeys", "lift"))
    if not isinstance(closed, bool | np.bool_):
        raise InvalidParameterError(
            f"closed={closed!r} is not a bool.", expected="True or False.",
            fix="Pass closed=False to keep sub-paths explained by a longer pattern.")
    coded = _coded(source, options)
    codes, weight, size = coded.codes, coded.weight, max(len(coded.names), 1)
    lengths = coded.lengths
    cut = coded.cut()
    converted = (cut < coded.starts[1:]).astype(np.int64)
    limit = np.repeat(cut, lengths)
    case = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    total, total_x = int(weight.sum()), int((weight * converted).sum())

    rows = np.flatnonzero(np.arange(len(codes)) < limit)
    ids, n_ids = codes[rows], size
    first_n, first_x = _distinct(case[rows], ids, size, weight, converted)
    n, x = first_n, first_x
    found = []
    for length in range(1, max_len + 1):
        if length > 1:
            keep = (rows + length <= limit[rows]) & (n[ids] >= min_journeys)
            rows, key = rows[keep], ids[keep] * size + codes[rows[keep] + length - 1]
            if not len(rows):
                break
            _, first_at, ids = np.unique(key, return_index=True, return_inverse=True)
            n_ids = len(first_at)
            n, x = _distinct(case[rows], ids, n_ids, weight, converted)
        else:
            first_at = np.full(size, -1)
            first_at[ids[::-1]] = np.arange(len(ids))[::-1]
        if length >= min_len:
            frequent = np.flatnonzero(n >= min_journeys)
            start = rows[first_at[frequent]]
            found.append((length, start, n[frequent], x[frequent]))
    if closed:
        found = _closed(found, codes)
    return _pattern_table(found, coded, first_n, first_x, total, total_x, baseline, sort, top)


def _closed(found: list, codes: np.ndarray) -> list:
    """``found`` without the patterns explained by one a step longer (same journeys, see notes).

    ``found`` holds, per length in increasing order, ``(length, start, n, x)``:
    the row where each pattern first occurs, its journeys and conversions.
    """
    kept = []
    for k, (length, start, n1, x1) in enumerate(found):
        keep = np.ones(len(start), dtype=bool)
        if k + 1 < len(found) and found[k + 1][0] == length + 1:
            _, longer, n2, _ = found[k + 1]
            steps = codes[longer[:, None] + np.arange(length + 1)]
            explained = {(tuple(s), int(n)) for part in (steps[:, :-1], steps[:, 1:])
                         for s, n in zip(part.tolist(), n2.tolist(), strict=True)}
            mine = codes[start[:, None] + np.arange(length)].tolist()
            keep = np.array([(tuple(s), int(n)) not in explained
                             for s, n in zip(mine, n1.tolist(), strict=True)], dtype=bool)
        kept.append((length, start[keep], n1[keep], x1[keep]))
    return kept


def _pattern_table(found, coded: _Coded, first_n, first_x, total: int, total_x: int,
                   baseline: str, sort: str, top: int | None) -> pd.DataFrame:
    """The :func:`patterns` table from the frequent sub-paths of each length."""
    names = np.array(coded.names, dtype=object)
    frames = []
    for length, start, n1, x1 in found:
        steps = coded.codes[start[:, None] + np.arange(length)]
        first = steps[:, 0]
        n0 = (first_n[first] if baseline == "first_step" else total) - n1
        x0 = (first_x[first] if baseline == "first_step" else total_x) - x1
        with np.errstate(divide="ignore", invalid="ignore"):
            p1, p0 = x1 / n1, np.where(n0 > 0, x0 / n0, np.nan)
            lift = np.where(p0 > 0, p1 / p0, np.nan)
        low, high = _ratio_interval(x1, n1, x0, n0)
        undefined = ~(p0 > 0)
        frames.append(pd.DataFrame({
            "pattern": [VARIANT_SEPARATOR.join(s) for s in names[steps].tolist()],
            "length": length, "journeys": n1, "share": n1 / total if total else 0.0,
            "conversion": p1, "baseline": p0, "lift": lift,
            "lift_low": np.where(undefined, np.nan, low),
            "lift_high": np.where(undefined, np.nan, high),
        }))
    df = (pd.concat(frames, ignore_index=True) if frames
          else pd.DataFrame({c: [] for c in PATTERN_COLUMNS}))
    by, ascending = (["journeys", "length", "pattern"], [False, True, True]) \
        if sort == "journeys" else (["lift", "journeys", "pattern"], [True, False, True])
    df = df.sort_values(by, ascending=ascending, kind="mergesort", na_position="last")
    return (df if top is None else df.head(top)).reset_index(drop=True)[list(PATTERN_COLUMNS)]


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        close = suggest(str(value), choices)
        raise InvalidParameterError(
            f"Unknown {name}={value!r}.", expected=f"one of {', '.join(map(repr, choices))}.",
            fix=(f"Did you mean {close!r}? " if close else "") + f"Pass {name}={choices[0]!r}.")


# --------------------------------------------------------------------------- paths
@dataclasses.dataclass(frozen=True, repr=False)
class Paths:
    """Where journeys go after (or came from before) the first occurrence of an anchor.

    Returned by :func:`paths_from` and :func:`paths_to`.

    Attributes
    ----------
    anchor : str
        The anchor touchpoint.
    direction : {"from", "to"}
        After the anchor (steps 1, 2, ...) or before it (steps -1, -2, ...).
    journeys : int
        Journeys with the anchor.
    table : DataFrame
        One row per flow: ``step`` (0 is the anchor), ``touchpoint`` at that
        step (the ``top`` most common, ``"other"`` for the rest, ``"(end)"``
        / ``"(start)"`` where journeys stop), ``next`` (the touchpoint at
        the next step in time; None at the last step, after ``"(end)"`` and
        for ``"to"`` at the anchor), ``journeys`` and ``share`` of the
        anchor's journeys. Steps are in time order.
    stages : dict
        Touchpoint -> stage, for colours.
    stage_order : tuple of str
        The stages in order.
    """

    anchor: str
    direction: str
    journeys: int
    table: pd.DataFrame
    stages: dict[str, str]
    stage_order: tuple[str, ...]

    def steps(self) -> pd.DataFrame:
        """Per step, the touchpoints' journeys and share (the nodes of the Sankey)."""
        return (self.table.groupby(["step", "touchpoint"], sort=False, as_index=False)
                [["journeys", "share"]].sum())

    def to_frame(self) -> pd.DataFrame:
        """The flows (:attr:`table`) as a new DataFrame."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON: anchor, direction, journeys and the flows."""
        return {"anchor": self.anchor, "direction": self.direction, "journeys": self.journeys,
                "flows": records(self.table, ["step", "touchpoint", "next", "journeys",
                                              "share"])}

    def to_svg(self, *, title: str | None = None) -> str:
        """The flows as a standalone SVG Sankey diagram (no script, deterministic)."""
        from journeymine.reporting._palette import NO_STAGE_COLOR, stage_colors
        from journeymine.reporting._sankey import render_sankey

        palette = stage_colors(self.stage_order)
        colors = {tp: palette.get(stage, NO_STAGE_COLOR) for tp, stage in self.stages.items()}
        word = "after" if self.direction == "from" else "before"
        return render_sankey(self.table, colors=colors, title=title or (
            f"Journeys {word} {self.anchor} ({self.journeys:,})"))

    def __repr__(self) -> str:
        n = int(self.table["step"].abs().max()) if len(self.table) else 0
        return (f"Paths({self.direction} {self.anchor!r}: {self.journeys:,} journeys, "
                f"{n} steps)")

    def _repr_html_(self) -> str:
        return f"<div><p><strong>{html.escape(repr(self))}</strong></p>{self.to_svg()}</div>"


def paths_from(source: EventLog | ProcessMap, anchor: str, *, steps: int = 3, top: int = 5,
               **options) -> Paths:
    """Where journeys go, step by step, after the first occurrence of ``anchor``.

    Parameters
    ----------
    source : EventLog or ProcessMap
        The events (with :func:`~journeymine.discover`'s journey
        ``options``: ``grain``, ``rename``, ``collapse_repeats``, ...) or a
        discovered map.
    anchor : str
        The touchpoint to start from (its first occurrence in each journey).
    steps : int, default 3
        Steps after the anchor.
    top : int, default 5
        Touchpoints kept at each step; the rest are ``"other"``.
    **options
        See :func:`patterns`.

    Returns
    -------
    Paths
        The flows table (``step``, ``touchpoint``, ``next``, ``journeys``,
        ``share``) and :meth:`Paths.to_svg`.

    Raises
    ------
    UnknownTouchpointError
        ``anchor`` is not a touchpoint (with the closest name).
    InvalidParameterError
        ``steps`` or ``top`` is not a positive whole number.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> paths = ["a cart pay", "cart pay", "a cart", "cart a"]
    >>> df = pd.DataFrame([(f"u{i}", tp, pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=k))
    ...                    for i, p in enumerate(paths) for k, tp in enumerate(p.split())],
    ...                   columns=["customer_id", "touchpoint", "ts"])
    >>> p = paths_from(jm.EventLog.from_pandas(df), "cart", steps=1)
    >>> p.table
       step touchpoint   next  journeys  share
    0     0       cart    pay         2   0.50
    1     0       cart  (end)         1   0.25
    2     0       cart      a         1   0.25
    3     1        pay   None         2   0.50
    4     1          a   None         1   0.25
    5     1      (end)   None         1   0.25
    """
    return _paths(source, anchor, steps, top, "from", options)


def paths_to(source: EventLog | ProcessMap, anchor: str, *, steps: int = 3, top: int = 5,
             **options) -> Paths:
    """Where journeys came from, step by step, before the first occurrence of ``anchor``.

    The mirror of :func:`paths_from`: steps are ``..., -2, -1`` (``-1`` is the
    touchpoint just before the anchor, at step 0) and ``"(start)"`` marks
    journeys that begin there. Same parameters, result and errors.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> df = pd.DataFrame({"customer_id": ["u1", "u1", "u2"], "touchpoint": ["a", "cart", "cart"],
    ...                    "ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:01",
    ...                                          "2024-01-01 10:00"])})
    >>> paths_to(jm.EventLog.from_pandas(df), "cart", steps=1).steps()
       step touchpoint  journeys  share
    0    -1          a         1    0.5
    1    -1    (start)         1    0.5
    2     0       cart         2    1.0
    """
    return _paths(source, anchor, steps, top, "to", options)


def _paths(source, anchor: str, steps: int, top: int, direction: str,
           options: dict[str, Any]) -> Paths:
    steps, top = _whole("steps", steps), _whole("top", top)
    coded = _coded(source, options)
    if not isinstance(anchor, str) or anchor not in coded.names:
        close = suggest(str(anchor), coded.names)
        raise UnknownTouchpointError(
            f"The anchor {anchor!r} is not a touchpoint of these journeys.",
            expected=f"one of the {len(coded.names)} touchpoints, e.g. "
                     f"{', '.join(map(repr, sorted(coded.names)[:8]))}.",
            fix=(f"Did you mean {close!r}? " if close else "") + "Check the spelling.")
    code = coded.names.index(anchor)
    hits = np.flatnonzero(coded.codes == code)
    case = np.repeat(np.arange(len(coded.weight)), coded.lengths)
    cases, first = np.unique(case[hits], return_index=True)
    at, weight = hits[first], coded.weight[cases]
    begin, end = coded.starts[cases], coded.starts[cases + 1]
    size = len(coded.names)
    other, stop, gone = size, size + 1, -1
    sign = 1 if direction == "from" else -1
    by_name = np.argsort(np.argsort(np.array(coded.names, dtype=object)))  # ties by name
    labels = np.empty((steps + 1, len(at)), dtype=np.int64)
    labels[0] = code
    for k in range(1, steps + 1):
        row = at + sign * k
        inside = (row < end) if sign > 0 else (row >= begin)
        just_out = (row == end) if sign > 0 else (row == begin - 1)
        step = np.where(inside, coded.codes[np.clip(row, 0, len(coded.codes) - 1)], gone)
        step[just_out] = stop
        counts = np.bincount(step[step >= 0], weights=weight[step >= 0], minlength=size + 2)
        ranked = np.lexsort((by_name, -counts[:size]))[:top]
        kept = np.zeros(size + 2, dtype=bool)
        kept[ranked[counts[ranked] > 0]] = True
        kept[stop] = True
        labels[k] = np.where(step < 0, gone, np.where(kept[np.maximum(step, 0)], step, other))
    names = [*coded.names, OTHER, END if sign > 0 else START]
    return Paths(anchor, direction, int(weight.sum()),
                 _flows(labels, weight, names, sign), coded.stage_of,
                 tuple(source.stages.order if isinstance(source, ProcessMap)
                       else source.stage_map(options.get("stages")).order))


def _flows(labels: np.ndarray, weight: np.ndarray, names: list[str], sign: int) -> pd.DataFrame:
    """The flows table from the per-step labels (row ``k`` is step ``sign * k``; -1: stopped).

    Steps are in time order, and ``next`` is the label one step later in time.
    """
    total = int(weight.sum())
    width = len(names) + 1
    ordered = labels if sign > 0 else labels[::-1]
    first_step = 0 if sign > 0 else -(len(labels) - 1)
    frames = []
    for k, here in enumerate(ordered):
        nxt = ordered[k + 1] if k + 1 < len(ordered) else np.full(len(here), -1)
        ok = here >= 0
        key = here[ok] * width + (nxt[ok] + 1)
        uniq, inverse = np.unique(key, return_inverse=True)
        count = np.bincount(inverse, weights=weight[ok]).astype(np.int64)
        src, dst = uniq // width, uniq % width - 1
        frames.append(pd.DataFrame({
            "step": first_step + k, "touchpoint": [names[i] for i in src],
            "next": [names[i] if i >= 0 else None for i in dst], "journeys": count,
            "share": count / total if total else 0.0}))
    df = pd.concat(frames, ignore_index=True)
    node = df.groupby(["step", "touchpoint"])["journeys"].transform("sum")
    special = df["touchpoint"].isin([OTHER, END, START])
    df = df.assign(_special=special, _node=node).sort_values(
        ["step", "_special", "_node", "touchpoint", "journeys", "next"],
        ascending=[True, True, False, True, False, True], kind="mergesort")
    return df.drop(columns=["_special", "_node"]).reset_index(drop=True)
