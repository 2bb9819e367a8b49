"""Journey diff: :func:`diff` says what changed between two periods, segments or personas.

Both sides are discovered the same way (same grain, stage map and
conversion touchpoints) and compared measure by measure. Every measure is a
proportion of independent journeys, ``x_a / n_a`` against ``x_b / n_b``:

* ``conversion``: converting journeys / journeys;
* ``funnel``: journeys that go on from a stage to the next / journeys that
  reach the stage;
* ``edge``: journeys that take the transition at least once / journeys (its
  share among journeys, not among transitions: a customer who loops counts
  once, so the journeys stay independent);
* ``drop-off``: journeys that end at the touchpoint without converting /
  journeys that visit it (its exit rate);
* ``attribution``: a channel's share of the credit under a rule-based model,
  over the converting journeys with a touch. Each such journey gives the
  channel a credit ``w`` in [0, 1] and the share is their mean, whose
  variance is at most ``p (1 - p) / n``: the binomial test is conservative.
  Markov and Shapley shares depend on all journeys at once and have no such
  bound, so they are not compared;
* ``emotion``: customers with a negative text at a stage / customers with a
  text there, and customers with a text of each emotion / customers with a
  text (customers, not texts: one customer's texts are not independent).

Each row is tested with :func:`~journeymine._util._stats.two_proportion_test`
(pooled z-test, Fisher's exact test when an expected cell is below 5), gets
Newcombe's 95 % interval of the change ``b - a``, and a Benjamini-Hochberg
q-value over all tested rows. Rows whose smaller margin (successes or
failures, both sides together) is below ``min_count`` are not tested: too
rare to tell apart (``summary["untested"]`` counts them). Rows are ranked
significant first, then by ``|change| × n_b``, the journeys of side b that
behaved differently than side a's rate predicts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journeymine._util._params import check_choice, check_number, suggest
from journeymine._util._stats import benjamini_hochberg, newcombe_interval, two_proportion_test
from journeymine.discovery._discover import discover, resolve_conversion
from journeymine.discovery._grains import DEFAULT_EPISODE_GAP, DurationLike, at_grain, check_grain
from journeymine.discovery._processmap import ProcessMap
from journeymine.eventlog._eventlog import EventLog, StagesLike
from journeymine.eventlog._runs import run_starts
from journeymine.eventlog._schema import CUSTOMER, TIMESTAMP
from journeymine.exceptions import (
    ColumnNotFoundError,
    EmptyLogError,
    InvalidParameterError,
    JourneymineError,
    SchemaError,
)
from journeymine.measurement._attribution import attribute
from journeymine.measurement._diff_result import COLUMNS, KINDS, JourneyDiff, sentence

__all__ = ["ATTRIBUTION_MODELS", "JourneyDiff", "diff"]

logger = logging.getLogger(__name__)

#: The attribution models whose shares :func:`diff` can test (see the module notes).
ATTRIBUTION_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position",
                      "participation")
DEFAULT_ATTRIBUTION = ("first_touch", "last_touch", "linear")


# --------------------------------------------------------------------------- entry point
def diff(
    a: EventLog | ProcessMap,
    b: EventLog | ProcessMap | None = None,
    *,
    by: str | Mapping | pd.Series | None = None,
    at: Any = None,
    values: Sequence[Any] | None = None,
    labels: Sequence[str] | None = None,
    grain: str = "customer",
    gap: DurationLike | None = None,
    episode_gap: DurationLike | None = DEFAULT_EPISODE_GAP,
    stages: StagesLike = None,
    conversion: str | Iterable[str] | None = None,
    attribution: str | Iterable[str] | None = DEFAULT_ATTRIBUTION,
    emotions: Any = None,
    min_count: int = 10,
    alpha: float = 0.05,
) -> JourneyDiff:
    """What changed between two sets of journeys, each change tested.

    Parameters
    ----------
    a, b : EventLog or ProcessMap
        The two sides: two logs (two periods, two segments), or two maps
        from :func:`~journeymine.discover` (then nothing is recomputed and
        attribution, which needs the events, is left out). Or one log as
        ``a`` and ``by`` to split it.
    by : "period", str, mapping or Series, optional
        How to split the one log ``a``:

        * ``"period"``: journeys that start before ``at`` against those that
          start at or after it (whole journeys, so none is cut in two);
        * a column of the log (e.g. ``"segment"``): customers by its value
          at their first event;
        * a mapping or Series of customer id to group (e.g. persona
          assignments): customers by group; customers it leaves out are
          left out.
    at : str or Timestamp, optional
        With ``by="period"``: where b starts (UTC, like the log).
    values : two values, optional
        With a column or mapping: the groups to compare (``a``, ``b``);
        needed when there are more than two.
    labels : two str, optional
        Names of the sides in tables and sentences (default: the periods,
        the groups, or ``"a"`` and ``"b"``).
    grain : {"customer", "episode", "session"}, default "customer"
        What one journey is (see :func:`~journeymine.discover`).
    gap, episode_gap
        Session and episode rules; a session gap suggested from the whole
        log is used for both sides.
    stages : StageMap, dict or path, optional
        One stage map for both sides.
    conversion : str or list of str, optional
        Converting touchpoints or stages; by default those of the log (the
        union of both sides' defaults for two logs).
    attribution : str or list of str or None, default first, last touch and linear
        Rule-based attribution models whose channel shares to compare (by
        channel when both logs have one, else by touchpoint); None for none.
        Not at session grain (see :func:`~journeymine.attribute`).
    emotions : JourneyEmotions, DataFrame or pair of them, optional
        Tagged texts (:func:`~journeymine.emotions`): one for a split log
        (split by customer, or by when the text was written for a period),
        or one per side. Columns used: ``customer_id``, ``timestamp``,
        ``stage``, ``sentiment``, ``emotion`` and ``link``.
    min_count : int, default 10
        Rows whose successes or failures, both sides together, are fewer
        are not tested.
    alpha : float, default 0.05
        A row is ``significant`` when its q-value is at most this.

    Returns
    -------
    JourneyDiff

    Raises
    ------
    InvalidParameterError
        A bad combination of sides and ``by``, an unknown attribution model
        or choice, a ``values`` not among the groups.
    SchemaError
        Two logs or maps that cannot be compared: one has channels and the
        other not, no touchpoint in common, different grains.
    EmptyLogError
        A side has no journey.
    ColumnNotFoundError
        ``by`` names a column the log does not have.

    Examples
    --------
    Four journeys in each period; in b nobody goes on from the cart:

    >>> import pandas as pd, journeymine as jm
    >>> rows = [(f"{p}{i}", tp, pd.Timestamp(day) + pd.Timedelta(minutes=k))
    ...         for p, day, path in [("a", "2024-01-01", ["ad", "cart", "buy"]),
    ...                              ("b", "2024-02-01", ["ad", "cart"])]
    ...         for i in range(4) for k, tp in enumerate(path)]
    >>> log = jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id",
    ...                                                             "touchpoint", "ts"]))
    >>> d = jm.diff(log, by="period", at="2024-01-15", conversion="buy", min_count=1)
    >>> d.table.loc[d.table["kind"] == "conversion", ["a", "b", "change"]]
         a    b  change
    0  1.0  0.0    -1.0
    """
    models = _check_attribution(attribution)
    grain = check_grain(grain)
    min_count = check_number("min_count", min_count, low=1, integer=True)
    alpha = check_number("alpha", alpha, low=0, high=1, low_open=True)
    if isinstance(a, ProcessMap) or isinstance(b, ProcessMap):
        if by is not None or not (isinstance(a, ProcessMap) and isinstance(b, ProcessMap)):
            raise InvalidParameterError(
                "diff() compares two ProcessMaps with each other, not a map with a log "
                "or a map split by `by`.", expected="diff(map_a, map_b) or diff(log_a, "
                "log_b) or diff(log, by=...).", fix="Pass two maps, or the logs instead.")
        maps, conv, attr, labels_ = _maps_given(a, b), None, None, ("a", "b")
        texts = _texts_pair(emotions, None, None)
        how = "two process maps"
    else:
        stage_map, conv = stages, ()
        if isinstance(a, EventLog) and b is None:
            stage_map = a.stage_map(stages)
            conv = tuple(resolve_conversion(a, stage_map, conversion))
        sides, labels_, how, split = _sides(a, b, by=by, at=at, values=values, grain=grain,
                                            gap=gap, episode_gap=episode_gap,
                                            conv=conv)
        if grain == "session" and gap is None and split is not None:
            gap = split.gap  # one suggested gap for both sides
        if b is not None:
            stage_map = stages
            conv = _conversion(sides, stages, conversion)
        maps = tuple(discover(s, grain=grain, gap=gap, episode_gap=episode_gap,
                              stages=stage_map, conversion=_present(conv, s)) for s in sides)
        attr = _attributions(sides, models, conv, grain, episode_gap, stage_map)
        texts = _texts_pair(emotions, by, at, sides)
    labels_ = _check_labels(labels, labels_)
    rows = [_conversion_rows(maps), _funnel_rows(maps), _edge_rows(maps), _dropoff_rows(maps)]
    if attr is not None:
        rows.append(_attribution_rows(attr))
    if texts is not None:
        rows.append(_emotion_rows(texts))
    table, untested = _tested(pd.concat(rows, ignore_index=True), min_count, alpha, labels_)
    summary = {
        "compared": how, "labels": list(labels_), "grain": maps[0].grain,
        "journeys": [int(m.summary["journeys"]) for m in maps],
        "conversion": list(conv) if conv is not None else sorted(set(maps[0].conversion)
                                                                 | set(maps[1].conversion)),
        "rows": len(table), "significant": int(table["significant"].sum()),
        "untested": untested, "alpha": alpha, "min_count": min_count,
        "attribution": list(models) if attr is not None else [],
        "emotions": texts is not None,
    }
    return JourneyDiff(table, labels_, maps, summary)


# --------------------------------------------------------------------------- checks
def _check_attribution(models: str | Iterable[str] | None) -> tuple[str, ...]:
    if models is None:
        return ()
    names = [models] if isinstance(models, str) else list(models)
    for name in names:
        if name in ("markov", "shapley"):
            raise InvalidParameterError(
                f"attribution={name!r} cannot be compared with a test: its shares depend on "
                "all journeys at once, not on each journey's own credit.",
                expected=f"rule-based models: {', '.join(ATTRIBUTION_MODELS)}.",
                fix="Compare jm.attribute(log_a, model='markov') with jm.attribute(log_b, ...) "
                "by eye, or pass rule-based models here.")
        check_choice("attribution", name, ATTRIBUTION_MODELS)
    return tuple(dict.fromkeys(names))


def _check_labels(labels: Sequence[str] | None, default: tuple[str, str]) -> tuple[str, str]:
    if labels is None:
        return default
    out = tuple(str(x) for x in labels) if not isinstance(labels, str) else ()
    if len(out) != 2 or out[0] == out[1]:
        raise InvalidParameterError(
            f"labels={labels!r} are not two different names.",
            expected="two names, e.g. labels=('January', 'February').",
            fix="Pass one name per side.")
    return out  # type: ignore[return-value]


def _maps_given(a: ProcessMap, b: ProcessMap) -> tuple[ProcessMap, ProcessMap]:
    a, b = a.full or a, b.full or b
    if a.grain != b.grain:
        raise SchemaError(
            f"The maps are at different grains ({a.grain!r} and {b.grain!r}).",
            expected="two maps discovered at the same grain.",
            fix=f"Discover both with grain={a.grain!r}.")
    if set(a.conversion) != set(b.conversion):
        logger.warning("The maps convert on different touchpoints (%s and %s): conversion "
                       "rates compare different things.", ", ".join(a.conversion) or "none",
                       ", ".join(b.conversion) or "none")
    return a, b


def _check_logs(a: EventLog, b: EventLog) -> None:
    """Two logs that can be compared: both with channels or neither, touchpoints in common."""
    if a.has_channel != b.has_channel:
        has, lacks = ("a", "b") if a.has_channel else ("b", "a")
        raise SchemaError(
            f"Log {has} has a channel column and log {lacks} has none, so channel shares "
            "cannot be compared.", expected="two logs with the same columns.",
            fix=f"Read log {lacks} with its channel column (jm.read_csv(..., channel=...)), "
            "or drop the channel from both.")
    common = set(a.activities) & set(b.activities)
    if not common:
        raise SchemaError(
            f"The logs have no touchpoint in common (a: {a.activities[:5]}, b: "
            f"{b.activities[:5]}).", expected="two logs of the same journey, with the "
            "touchpoints named alike.",
            fix="Check that the touchpoint column is the same in both, or rename touchpoints "
            "with jm.group_touchpoints.")


def _require_side(log: EventLog, label: str, why: str) -> EventLog:
    if log.n_events == 0:
        raise EmptyLogError(
            f"Side {label!r} has no journey: {why}.", expected="journeys on both sides.",
            fix="Choose a split that leaves journeys on both sides.")
    return log


# --------------------------------------------------------------------------- the sides
def _sides(a, b, *, by, at, values, grain, gap, episode_gap, conv):
    """The two logs, their labels, how they were chosen, and the cut journeys (or None)."""
    if not isinstance(a, EventLog) or (b is not None and not isinstance(b, EventLog)):
        bad = a if not isinstance(a, EventLog) else b
        raise JourneymineError(
            f"diff() needs EventLogs or ProcessMaps, got {type(bad).__name__}.",
            expected="diff(log_a, log_b), diff(map_a, map_b) or diff(log, by=...).",
            fix="Build logs with jm.EventLog.from_pandas(df) or jm.read_csv(path).")
    if b is not None:
        if by is not None:
            raise InvalidParameterError(
                "by= splits one log, but two logs were given.",
                expected="diff(log_a, log_b) or diff(log, by=...).",
                fix="Leave out by=, or pass one log.")
        _check_logs(a, b)
        for log, label in ((a, "a"), (b, "b")):
            _require_side(log, label, "the log is empty")
        return (a, b), ("a", "b"), "two event logs", None
    if by is None:
        raise InvalidParameterError(
            "diff() got one log and nothing to split it by.",
            expected="a second log, or by='period' with at=..., by=a column, or by=a mapping "
            "of customer to group.", fix="Pass e.g. jm.diff(log, by='period', at='2025-03-01').")
    split = None
    if isinstance(by, str) and by == "period":
        mask, labels, why, split = _period(a, at, grain, gap, episode_gap, conv)
        how = f"journeys starting before / from {labels[1].removeprefix('from ')}"
    else:
        mask, labels, why = _segments(a, by, values)
        how = f"customers by {by if isinstance(by, str) else 'group'}: {' vs '.join(labels)}"
    sides = tuple(_require_side(_subset(a, m, label), label, w)
                  for m, label, w in zip(mask, labels, why, strict=True))
    return sides, labels, how, split


def _subset(log: EventLog, mask: np.ndarray, label: str) -> EventLog:
    table = log.table.filter(pa.array(mask))
    return EventLog(table, log.schema, report={}, source=f"{log.source} ({label})",
                    stages=log.stages)


def _runs(customers: pa.ChunkedArray) -> np.ndarray:
    """Per row, the row that starts its customer's (or case's) run."""
    starts = run_starts(customers)
    return np.repeat(starts, np.diff(np.append(starts, len(customers))))


def _period(log: EventLog, at: Any, grain: str, gap, episode_gap, conv):
    if at is None:
        raise InvalidParameterError(
            "by='period' needs at=, where the second period starts.",
            expected="a date or time, e.g. at='2025-03-01'.",
            fix="Pass jm.diff(log, by='period', at='2025-03-01').")
    try:
        cut = pd.Timestamp(at)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"at={at!r} is not a date or time ({exc}).", expected="e.g. at='2025-03-01'.",
            fix="Pass an ISO date such as '2025-03-01' or a pandas.Timestamp.") from None
    if pd.isna(cut):
        raise InvalidParameterError(f"at={at!r} is not a date or time.",
                                    expected="e.g. at='2025-03-01'.", fix="Pass a date.")
    if cut.tzinfo is not None:
        cut = cut.tz_convert("UTC").tz_localize(None)
    journeys = None
    table = log.table
    if grain != "customer":
        journeys = at_grain(log, grain, gap=gap, episode_gap=episode_gap, conversion=conv)
        table = journeys.log.table
    stamps = table.column(TIMESTAMP).to_numpy()
    starts = stamps[_runs(table.column(CUSTOMER))]
    before = starts < cut.to_datetime64()
    lo, hi = log.time_range()
    when = f"{cut:%Y-%m-%d %H:%M}".removesuffix(" 00:00")
    window = f"the log runs from {lo:%Y-%m-%d} to {hi:%Y-%m-%d}"
    return ((before, ~before), (f"before {when}", f"from {when}"),
            (f"no journey starts before at={when} ({window})",
             f"no journey starts at or after at={when} ({window})"), journeys)


def _segments(log: EventLog, by: Any, values: Sequence[Any] | None):
    customers = log.table.column(CUSTOMER)
    if isinstance(by, str):
        if by not in log.table.column_names:
            close = suggest(by, log.table.column_names)
            raise ColumnNotFoundError(
                f"by={by!r} is not a column of the log (columns: {log.table.column_names}).",
                expected="'period', a column of the log, or a mapping of customer to group.",
                fix=(f"Did you mean {close!r}? " if close else "")
                + "Pass a column name the log has.")
        column = log.table.column(by)
        group = pc.take(column, pa.array(_runs(customers)))  # the value at the first event
        what, named = f"column {by!r}", set()
    elif isinstance(by, (Mapping, pd.Series)):
        mapping = by if isinstance(by, Mapping) else by.to_dict()
        keys = pa.array([str(k) for k in mapping])
        found = pc.index_in(pc.cast(customers, pa.string()), keys)
        labels = pa.array([str(v) for v in mapping.values()])
        group = pc.take(labels, found)
        what, named = "the mapping", {str(v) for v in mapping.values()}
    else:
        raise InvalidParameterError(
            f"by={by!r} is not 'period', a column name or a mapping.",
            expected="by='period', by='segment' (a column) or by={customer: group}.",
            fix="Pass one of those.")
    found_values = sorted(str(v) for v in pc.unique(group).drop_null().to_pylist())
    if values is None:
        if len(found_values) != 2:
            raise InvalidParameterError(
                f"{what} has {len(found_values)} groups ({found_values[:10]}), so diff() "
                "does not know which two to compare.", expected="two groups, or values=.",
                fix=f"Pass values=({found_values[0]!r}, {found_values[-1]!r})."
                if found_values else "Check the column or mapping.")
        values = found_values
    chosen = tuple(str(v) for v in values) if not isinstance(values, str) else ()
    if len(chosen) != 2 or chosen[0] == chosen[1]:
        raise InvalidParameterError(
            f"values={values!r} are not two different groups.",
            expected=f"two of {found_values[:10]}.", fix="Pass values=(group_a, group_b).")
    for v in chosen:
        if v not in found_values and v not in named:  # a named group may have no customer
            close = suggest(v, found_values)
            raise InvalidParameterError(
                f"{v!r} is not a group of {what} (groups: {found_values[:10]}).",
                expected="values among the groups.",
                fix=(f"Did you mean {close!r}? " if close else "") + "Check the spelling.")
    text = pc.cast(group, pa.string())
    masks = tuple(pc.fill_null(pc.equal(text, v), False).to_numpy(zero_copy_only=False)
                  for v in chosen)
    return masks, chosen, tuple(f"no customer is in group {v!r}" for v in chosen)


def _conversion(sides: tuple[EventLog, EventLog], stages, conversion) -> tuple[str, ...]:
    """The union of both logs' converting touchpoints, so both count the same ones."""
    found: set[str] = set()
    for log in sides:
        found |= set(resolve_conversion(log, log.stage_map(stages), conversion))
    return tuple(sorted(found))


def _present(conv: tuple[str, ...], log: EventLog) -> list[str]:
    """The converting touchpoints that occur in ``log`` (``discover`` rejects others)."""
    names = set(log.activities)
    return [c for c in conv if c in names]


def _attributions(sides, models, conv, grain, episode_gap, stage_map):
    if not models:
        return None
    if grain == "session":
        logger.info("diff(): no attribution at session grain (a session rarely holds the "
                    "touches that led to a purchase).")
        return None
    unit = "channel" if all(s.has_channel for s in sides) else "touchpoint"
    return tuple(attribute(s, _present(conv, s), model=list(models), by=unit, grain=grain,
                           episode_gap=episode_gap, stages=stage_map) for s in sides)


def _texts_pair(emotions, by, at, sides=None):
    """Per side, the linked texts (DataFrame), or None without emotions."""
    if emotions is None:
        return None
    if isinstance(emotions, (tuple, list)):
        if len(emotions) != 2:
            raise InvalidParameterError(
                f"emotions has {len(emotions)} items.", expected="one JourneyEmotions per "
                "side, or one for a split log.", fix="Pass emotions=(emotions_a, emotions_b).")
        return tuple(_texts_frame(e) for e in emotions)
    if sides is None or by is None:
        raise InvalidParameterError(
            "One set of texts was given for two separate sides.",
            expected="emotions=(emotions_a, emotions_b) for two logs or maps.",
            fix="Tag each side's texts with jm.emotions and pass both.")
    texts = _texts_frame(emotions)
    if isinstance(by, str) and by == "period":
        cut = pd.Timestamp(at)
        cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut.tz_convert("UTC")
        stamps = pd.to_datetime(texts[TIMESTAMP], utc=True)
        return texts[stamps < cut], texts[stamps >= cut]
    return tuple(texts[texts[CUSTOMER].astype(str).isin(
        set(map(str, side.table.column(CUSTOMER).unique().to_pylist())))] for side in sides)


def _texts_frame(emotions) -> pd.DataFrame:
    texts = getattr(emotions, "texts", emotions)
    needed = [CUSTOMER, TIMESTAMP, "stage", "sentiment", "emotion", "link"]
    if not isinstance(texts, pd.DataFrame) or any(c not in texts.columns for c in needed):
        found = list(texts.columns) if isinstance(texts, pd.DataFrame) else type(texts).__name__
        raise SchemaError(
            f"emotions are not tagged texts (got {found}).",
            expected=f"a JourneyEmotions from jm.emotions(...), or a DataFrame with {needed}.",
            fix="Pass emotions=jm.emotions(log, texts).")
    return texts[texts["link"].notna()]


# --------------------------------------------------------------------------- the rows
def _rows(kind: str, where, x_a, n_a, x_b, n_b) -> pd.DataFrame:
    return pd.DataFrame({"kind": kind, "where": list(where), "x_a": np.asarray(x_a, float),
                         "n_a": np.asarray(n_a, float), "x_b": np.asarray(x_b, float),
                         "n_b": np.asarray(n_b, float)})


def _journeys(pm: ProcessMap) -> int:
    return int(pm.summary["journeys"])


def _conversion_rows(maps) -> pd.DataFrame:
    a, b = maps
    return _rows("conversion", ["overall"], [a.summary["converted"]], [_journeys(a)],
                 [b.summary["converted"]], [_journeys(b)])


def _funnel_rows(maps) -> pd.DataFrame:
    def steps(pm: ProcessMap) -> pd.DataFrame:
        f = pm.funnel
        where = f["stage"] + " → " + f["stage"].shift(-1).fillna("")
        return pd.DataFrame({"where": where, "x": f["continued"], "n": f["reached"]}).iloc[:-1]

    m = steps(maps[0]).merge(steps(maps[1]), on="where", how="outer", suffixes=("_a", "_b"))
    m = m.fillna(0)
    return _rows("funnel", m["where"], m["x_a"], m["n_a"], m["x_b"], m["n_b"])


def _edge_rows(maps) -> pd.DataFrame:
    keys = ["source", "target"]
    e = maps[0].edges[[*keys, "customers"]].merge(maps[1].edges[[*keys, "customers"]],
                                                  on=keys, how="outer", suffixes=("_a", "_b"))
    e = e.fillna({"customers_a": 0, "customers_b": 0})
    n_a, n_b = _journeys(maps[0]), _journeys(maps[1])
    return _rows("edge", e["source"] + " → " + e["target"], e["customers_a"],
                 np.full(len(e), n_a), e["customers_b"], np.full(len(e), n_b))


def _dropoff_rows(maps) -> pd.DataFrame:
    def exits(pm: ProcessMap) -> pd.DataFrame:
        lost = pm.dropoffs.set_index("touchpoint")["lost_customers"]
        visits = pm.nodes.set_index("touchpoint")["customers"]
        return pd.DataFrame({"x": lost.reindex(visits.index).fillna(0), "n": visits})

    m = exits(maps[0]).join(exits(maps[1]), how="outer", suffixes=("_a", "_b")).fillna(0)
    return _rows("drop-off", m.index, m["x_a"], m["n_a"], m["x_b"], m["n_b"])


def _attribution_rows(attr) -> pd.DataFrame:
    def credit(result) -> pd.DataFrame:
        t = result.table
        total = float(result.summary["total"])
        return pd.DataFrame({"where": t["model"] + ": " + t["channel"].astype(str),
                             "x": t["share"] * total, "n": total})

    m = credit(attr[0]).merge(credit(attr[1]), on="where", how="outer", suffixes=("_a", "_b"))
    m["n_a"] = m["n_a"].fillna(float(attr[0].summary["total"]))
    m["n_b"] = m["n_b"].fillna(float(attr[1].summary["total"]))
    m = m.fillna(0)
    return _rows("attribution", m["where"], m["x_a"], m["n_a"], m["x_b"], m["n_b"])


def _emotion_rows(texts) -> pd.DataFrame:
    def counts(t: pd.DataFrame) -> pd.DataFrame:
        per_stage = t.assign(neg=t["sentiment"] == "negative",
                             stage=t["stage"].fillna("(no stage)"))
        s = per_stage.groupby(["stage", CUSTOMER])["neg"].any().groupby("stage").agg(
            ["sum", "count"])
        s.index = "negative at " + s.index.astype(str)
        customers = t[CUSTOMER].nunique()
        e = t.groupby("emotion")[CUSTOMER].nunique()
        e = pd.DataFrame({"sum": e, "count": customers})
        e.index = e.index.astype(str) + " (any stage)"
        return pd.concat([s, e])

    m = counts(texts[0]).join(counts(texts[1]), how="outer", suffixes=("_a", "_b"))
    m = m.fillna(0)
    return _rows("emotion", m.index, m["sum_a"], m["count_a"], m["sum_b"], m["count_b"])


def _tested(rows: pd.DataFrame, min_count: int, alpha: float,
            labels: tuple[str, str]) -> tuple[pd.DataFrame, int]:
    """Test the rows with enough counts; add rates, interval, q-values, ranking, sentences."""
    x_a, n_a, x_b, n_b = (rows[c].to_numpy() for c in ("x_a", "n_a", "x_b", "n_b"))
    margin = np.minimum(x_a + x_b, (n_a - x_a) + (n_b - x_b))
    keep = (n_a > 0) & (n_b > 0) & (margin >= min_count)
    rows = rows[keep].reset_index(drop=True)
    x_a, n_a, x_b, n_b = (rows[c].to_numpy() for c in ("x_a", "n_a", "x_b", "n_b"))
    out = rows[["kind", "where"]].copy()
    out["a"], out["b"] = x_a / n_a, x_b / n_b
    out["change"] = out["b"] - out["a"]
    out["low"], out["high"] = newcombe_interval(x_a, n_a, x_b, n_b)
    out["p"] = two_proportion_test(x_a, n_a, x_b, n_b) if len(rows) else np.zeros(0)
    out["q"] = benjamini_hochberg(out["p"].to_numpy())
    out["n_a"], out["n_b"] = n_a.round().astype(np.int64), n_b.round().astype(np.int64)
    out["customers"] = out["n_b"]
    out["impact"] = out["change"] * out["n_b"]
    out["significant"] = out["q"] <= alpha
    out["kind"] = pd.Categorical(out["kind"], categories=KINDS)
    out = out.assign(rank_key=out["impact"].abs()).sort_values(
        ["significant", "rank_key", "kind", "where"], ascending=[False, False, True, True],
        kind="mergesort").drop(columns="rank_key")
    out["kind"] = out["kind"].astype(str)
    out = out.reset_index(drop=True)
    out["sentence"] = [sentence(r, labels) for r in out.itertuples(index=False)]
    return out[list(COLUMNS)], int((~keep).sum())
