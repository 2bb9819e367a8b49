"""Emotions over the journey: link customer texts to events, tag, aggregate.

:func:`emotions` links every text to the journey (by its touchpoint column,
or to the customer's nearest preceding event within a window: one DuckDB
ASOF join), tags it with an emotion tagger and returns a
:class:`JourneyEmotions` with emotion and sentiment per touchpoint, stage,
channel and persona, the emotion curve, pain points, delights, quotes and key
phrases. :func:`run_emotions` also writes the HTML report, JSON and CSV.

Statistics
----------
* Sentiment value of a text: ``+1`` positive, ``0`` neutral, ``-1``
  negative. When the tagger gives probabilities (``p_sentiment_positive``
  and ``p_sentiment_negative``) the value is their expectation,
  ``p_positive - p_negative``; otherwise the label's value.
* Mean sentiment: the mean of those values with a 95% Student-t confidence
  interval (``mean ± t(0.975, n-1) · sd / sqrt(n)``; none for one text).
* Shares of each sentiment and emotion label: labels counted, with 95% Wilson
  score intervals.
* Pain points (delights): touchpoints whose share of negative (positive)
  texts is above the rest's, by a one-sided pooled two-proportion z-test of
  the touchpoint against all other linked texts; p-values are corrected over
  the touchpoints tested (those with at least ``min_texts`` texts) by
  Benjamini-Hochberg, and a touchpoint is flagged when its q-value is at most
  ``alpha``. Effect sizes: difference in proportions, risk ratio, and excess
  texts (``n · (share - rest share)``, how many more negative texts than the
  rest's rate predicts), by which the result is ranked.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import math
import os
import tempfile
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from journeymine._util._json import json_safe, records
from journeymine._util._stats import benjamini_hochberg, wilson_interval
from journeymine.eventlog._eventlog import EventLog, StagesLike
from journeymine.eventlog._schema import (
    ACTIVITY,
    CHANNEL,
    CUSTOMER,
    EVENT_INDEX,
    TIMESTAMP,
    suggest,
)
from journeymine.eventlog._stages import StageMap
from journeymine.eventlog._texts import read_texts
from journeymine.eventlog._validate import connect, to_arrow
from journeymine.exceptions import (
    ColumnNotFoundError,
    InvalidParameterError,
    OptionalDependencyError,
    SchemaError,
    UnknownTouchpointError,
)
from journeymine.reporting._format import humanize_seconds
from journeymine.sentiment._phrases import content_words, distinctive_phrases

__all__ = ["EMOTION_LABELS", "SENTIMENT_LABELS", "JourneyEmotions", "emotions", "run_emotions"]

logger = logging.getLogger(__name__)

#: Emotion labels of :class:`~journeymine.sentiment.EmotionTagger`, in display order.
EMOTION_LABELS = ("joy", "love", "surprise", "anger", "disgust", "fear", "sadness", "neutral")
#: Sentiment labels and their values.
SENTIMENT_LABELS = ("positive", "neutral", "negative")
SENTIMENT_VALUES = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
_SENTIMENT_ALIASES = {
    "positive": "positive", "pos": "positive", "positif": "positive",
    "neutral": "neutral", "neu": "neutral", "netral": "neutral",
    "negative": "negative", "neg": "negative", "negatif": "negative",
}
#: What :meth:`JourneyEmotions.by` groups by.
DIMENSIONS = ("touchpoint", "stage", "channel", "persona")
#: Why a text could not be linked to the journey.
UNLINKED_REASONS = {
    "unknown_touchpoint": "its touchpoint does not occur in the event log",
    "unknown_customer": "its customer has no event in the log",
    "no_timestamp": "it has no timestamp and no touchpoint",
    "no_event_before": "its customer has no event at or before it",
    "outside_window": "its customer's last event before it is older than the window",
}
#: Group label for texts without a stage, channel or persona.
NO_GROUP = "(none)"
#: Files written by :meth:`JourneyEmotions.write`.
EMOTION_FILES = ("emotions.html", "emotions.json", "tagged_texts.csv")
FORMAT_VERSION = 1
_LINK_COLUMNS = ("link", "unlinked_reason", "event_timestamp", "stage", "persona",
                 "sentiment_value")


# ---------------------------------------------------------------------------- statistics
def _mean_interval(grouped) -> pd.DataFrame:
    """Mean with a 95% Student-t interval per group of a grouped Series."""
    from scipy import stats

    agg = grouped.agg(["mean", "std", "count"])
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = (agg["count"] - 1).where(agg["count"] > 1)
        half = stats.t.ppf(0.975, dof) * agg["std"] / np.sqrt(agg["count"])
    return pd.DataFrame({"mean_sentiment": agg["mean"], "mean_sentiment_low": agg["mean"] - half,
                         "mean_sentiment_high": agg["mean"] + half})


# ---------------------------------------------------------------------------- linking
def _parse_window(window) -> pd.Timedelta | None:
    if window is None:
        return None
    try:
        value = pd.Timedelta(window)
    except (ValueError, TypeError):
        value = None
    if value is None or pd.isna(value) or value <= pd.Timedelta(0):
        raise InvalidParameterError(
            f"window={window!r} is not a positive duration.",
            expected="a pandas duration such as '7D', '48h', '30min' or a Timedelta (or None).",
            fix="Pass e.g. window='7D'; None links to the last event however old.",
        )
    return value


def _link(log: EventLog, texts: pd.DataFrame, window: pd.Timedelta | None) -> pd.DataFrame:
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
        con.register("texts", text_table)
        out = to_arrow(con.execute(sql)).to_pandas()
    finally:
        con.close()
    return out.drop(columns="row")


# ---------------------------------------------------------------------------- tagging
def _default_tagger():
    try:
        from journeymine.sentiment import EmotionTagger
    except ImportError as exc:
        raise OptionalDependencyError(
            f"The default emotion tagger is not available ({exc}).",
            expected='the optional dependencies: pip install "journeymine[emotions]".',
            fix="Install them, or pass tagger=<an object with predict(texts)>, or "
            "tagger='labels' to use the texts' own emotion and sentiment columns.",
        ) from exc
    return EmotionTagger()


def _tag_columns(columns) -> list[str]:
    fixed = ["language", "emotion", "emotion_score", "sentiment", "sentiment_score"]
    return [c for c in columns if c in fixed or str(c).startswith(("p_emotion_", "p_sentiment_"))]


def _tags(texts: pd.DataFrame, tagger) -> pd.DataFrame:
    """The tag columns of every text, from ``tagger`` or the texts' own labels."""
    if isinstance(tagger, str):
        if tagger != "labels":
            raise InvalidParameterError(
                f"tagger={tagger!r} is not a tagger.",
                expected="None (the default model), 'labels', or an object with a predict method.",
                fix="Pass tagger='labels' to use the texts' emotion and sentiment columns.",
            )
        for col in ("emotion", "sentiment"):
            if col not in texts.columns:
                close = suggest(col, list(texts.columns))
                raise ColumnNotFoundError(
                    f"tagger='labels' needs a {col!r} column; "
                    f"the texts have {list(texts.columns)}.",
                    expected="texts already tagged, with 'emotion' and 'sentiment' columns.",
                    fix=(f"Did you mean {close!r}? Rename it to {col!r}, " if close else "")
                    + "or pass a tagger.",
                )
        return texts[_tag_columns(texts.columns)].reset_index(drop=True)
    tagger = _default_tagger() if tagger is None else tagger
    if not callable(getattr(tagger, "predict", None)):
        raise InvalidParameterError(
            f"tagger must have a predict(texts) method; got {type(tagger).__name__}.",
            expected="an EmotionTagger or any object whose predict(list of str) returns a "
            "DataFrame with emotion and sentiment columns, one row per text.",
            fix="Pass jm.EmotionTagger(), your own tagger, or tagger='labels'.",
        )
    unique = pd.unique(texts["text"])
    out = tagger.predict(list(unique))
    if not isinstance(out, pd.DataFrame) or len(out) != len(unique):
        got = f"{len(out)} rows" if isinstance(out, pd.DataFrame) else type(out).__name__
        raise SchemaError(
            f"{type(tagger).__name__}.predict returned {got} for {len(unique)} texts.",
            expected="a DataFrame with one row per input text, in input order.",
            fix="Check the tagger's predict method.",
        )
    missing = [c for c in ("emotion", "sentiment") if c not in out.columns]
    if missing:
        raise SchemaError(
            f"{type(tagger).__name__}.predict returned no {missing} column(s) "
            f"(columns: {list(out.columns)}).",
            expected="columns emotion and sentiment, optionally emotion_score, "
            "sentiment_score, p_emotion_<label> and p_sentiment_<label>.",
            fix="Check the tagger's predict method.",
        )
    out = out[_tag_columns(out.columns)].reset_index(drop=True)
    return out.iloc[pd.Index(unique).get_indexer(texts["text"])].reset_index(drop=True)


def _clean_labels(tags: pd.DataFrame) -> pd.DataFrame:
    """Lower-case labels, sentiment aliases resolved, unknown sentiments rejected."""
    tags = tags.copy()
    tags["emotion"] = tags["emotion"].astype("string").str.strip().str.lower()
    raw = tags["sentiment"].astype("string").str.strip().str.lower()
    tags["sentiment"] = raw.map(_SENTIMENT_ALIASES)
    bad = sorted(set(raw[tags["sentiment"].isna() & raw.notna()]))
    if bad:
        raise SchemaError(
            f"Unknown sentiment label(s) {bad[:5]}.",
            expected=f"one of {list(SENTIMENT_LABELS)} (or pos/neu/neg, positif/netral/negatif).",
            fix="Map the sentiment column onto positive, neutral and negative first.",
        )
    value = tags["sentiment"].map(SENTIMENT_VALUES).astype(float)
    if {"p_sentiment_positive", "p_sentiment_negative"} <= set(tags.columns):
        expected = (pd.to_numeric(tags["p_sentiment_positive"], errors="coerce")
                    - pd.to_numeric(tags["p_sentiment_negative"], errors="coerce"))
        value = expected.fillna(value)
    tags["sentiment_value"] = value
    return tags


def _emotion_labels(tags: pd.DataFrame) -> tuple[str, ...]:
    seen = set(tags["emotion"].dropna())
    known = [e for e in EMOTION_LABELS if e in seen or f"p_emotion_{e}" in tags.columns]
    return tuple(known + sorted(seen - set(EMOTION_LABELS)))


def _personas(personas, customers: pd.Series) -> pd.Series:
    if isinstance(personas, pd.DataFrame) and personas.shape[1] == 1:
        personas = personas.iloc[:, 0]
    if isinstance(personas, Mapping):
        personas = pd.Series(dict(personas))
    if not isinstance(personas, pd.Series):
        raise InvalidParameterError(
            f"personas must map customer ids to personas; got {type(personas).__name__}.",
            expected="a pandas Series indexed by customer_id (or a dict).",
            fix="Pass e.g. df.set_index('customer_id')['persona'].",
        )
    lookup = personas.set_axis(personas.index.astype(str))
    lookup = lookup[~lookup.index.duplicated(keep="last")]
    return customers.map(lookup).astype(object)


# ---------------------------------------------------------------------------- entry point
def emotions(
    log: EventLog,
    texts: pd.DataFrame | str | PathLike[str],
    *,
    tagger: Any = None,
    window: str | pd.Timedelta | None = "7D",
    stages: StagesLike = None,
    personas: pd.Series | Mapping | None = None,
) -> JourneyEmotions:
    """Link customer texts to the journey, tag their emotions and aggregate them.

    Each text is linked to the journey by its ``touchpoint`` column when it
    has one (the touchpoint must occur in the log), otherwise to its
    customer's nearest event at or before the text, if that event is at most
    ``window`` older. Texts that cannot be linked are kept, counted and
    reported by reason in :attr:`JourneyEmotions.unlinked`.

    Parameters
    ----------
    log : EventLog
        The journeys.
    texts : DataFrame or path
        Customer texts, as returned by :func:`read_texts` or anything it reads
        (a raw DataFrame, a CSV or Parquet path). Never modified.
    tagger : object, "labels" or None
        Anything with ``predict(list of str) -> DataFrame`` with ``emotion``
        and ``sentiment`` columns (optionally ``emotion_score``,
        ``sentiment_score``, ``p_emotion_<label>``, ``p_sentiment_<label>``),
        one row per text. ``None`` builds the default
        :class:`~journeymine.sentiment.EmotionTagger` (needs the ``emotions``
        extra). ``"labels"`` uses the texts' own ``emotion`` and ``sentiment``
        columns (texts you already tagged).
    window : str, Timedelta or None, default "7D"
        How old the linked event may be, for texts without a touchpoint.
        ``None`` links to the last event however old.
    stages : StageMap, dict or path, optional
        Touchpoint to stage map; by default :meth:`EventLog.stage_map`.
    personas : Series or dict, optional
        ``customer_id -> persona``, for :meth:`JourneyEmotions.by` ``("persona")``.

    Returns
    -------
    JourneyEmotions

    Raises
    ------
    OptionalDependencyError
        ``tagger=None`` and the emotion model's dependencies are missing.
    InvalidParameterError
        A bad ``window``, ``tagger`` or ``personas``.
    SchemaError
        The tagger's output does not follow the contract.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> from journeymine.sentiment._journey import emotions
    >>> log = jm.EventLog.from_pandas(pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "touchpoint": ["checkout", "delivery", "checkout"],
    ...     "timestamp": ["2024-05-01", "2024-05-03", "2024-05-02"]}))
    >>> texts = pd.DataFrame({
    ...     "customer_id": ["a", "b", "zz"],
    ...     "timestamp": ["2024-05-04", "2024-05-02 10:00", "2024-05-02"],
    ...     "text": ["Paketnya lama bgt", "Checkout gampang", "halo"],
    ...     "emotion": ["anger", "joy", "neutral"],
    ...     "sentiment": ["negative", "positive", "neutral"]})
    >>> emo = emotions(log, texts, tagger="labels")
    >>> emo
    JourneyEmotions(3 texts, 2 linked, 2 touchpoints, mean sentiment +0.00)
    >>> emo.texts["touchpoint"].tolist()[:2], emo.texts["link"].tolist()[:2]
    (['delivery', 'checkout'], ['nearest_event', 'nearest_event'])
    >>> emo.unlinked[["reason", "texts"]].values.tolist()
    [['unknown_customer', 1]]
    >>> emo.by("stage")[["stage", "n_texts", "share_negative"]].values.tolist()
    [['purchase', 1, 0.0], ['retention', 1, 1.0]]
    """
    if not isinstance(log, EventLog):
        raise SchemaError(
            f"log must be an EventLog, got {type(log).__name__}.",
            expected="a validated event log.",
            fix="Build one with jm.read_csv(...) or jm.EventLog.from_pandas(df).",
        )
    span = _parse_window(window)
    frame = read_texts(texts)
    links = _link(log, frame, span)
    tags = _clean_labels(_tags(frame, tagger))
    stage_map = log.stage_map(stages)
    reserved = set(tags.columns) | set(_LINK_COLUMNS) | {"touchpoint", "channel"}
    base = frame[[c for c in frame.columns if c not in reserved]].reset_index(drop=True)
    linked = links["link"].notna()
    given_tp = frame["touchpoint"].reset_index(drop=True) if "touchpoint" in frame else None
    touchpoint = links["linked_touchpoint"].where(linked, given_tp if given_tp is not None
                                                  else None)
    channel = links["event_channel"]
    if "channel" in frame.columns:
        channel = channel.fillna(frame["channel"].reset_index(drop=True).where(linked))
    out = base.assign(
        touchpoint=touchpoint.astype(object),
        stage=links["linked_touchpoint"].map(stage_map.mapping).astype(object),
        channel=channel.astype(object),
        link=links["link"],
        unlinked_reason=links["unlinked_reason"],
        event_timestamp=pd.to_datetime(links["event_timestamp"]).dt.tz_localize("UTC"),
    )
    if personas is not None:
        out["persona"] = _personas(personas, out[CUSTOMER].astype(str)).where(linked)
    out = pd.concat([out, tags], axis=1)
    out = out.astype({c: object for c in ("touchpoint", "stage", "channel", "link",
                                          "unlinked_reason") if c in out})
    return JourneyEmotions.from_frame(out, stage_map, _emotion_labels(tags), span,
                                      source=str(getattr(log, "source", "")))


# ---------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, repr=False)
class JourneyEmotions:
    """Emotion and sentiment of customer texts over the journey.

    Returned by :func:`emotions`.

    Attributes
    ----------
    texts : DataFrame
        One row per text: the text's columns, ``touchpoint``, ``stage``,
        ``channel`` (of the linked event, else the text's own), ``persona``
        (when given), ``link`` (``"touchpoint"``/``"nearest_event"``, null
        when unlinked), ``unlinked_reason``, ``event_timestamp`` (UTC), the
        tagger's columns and ``sentiment_value`` (-1..+1, see the module notes).
    stages : StageMap
    emotion_labels : tuple of str
        The emotion labels, in display order.
    window : Timedelta or None
    unlinked : DataFrame
        ``reason``, ``texts``, ``share`` (of all texts), ``meaning``.
    summary : dict
        Headline numbers.
    """

    texts: pd.DataFrame
    stages: StageMap
    emotion_labels: tuple[str, ...]
    window: pd.Timedelta | None
    unlinked: pd.DataFrame
    summary: dict[str, Any]

    @classmethod
    def from_frame(cls, texts: pd.DataFrame, stages: StageMap, emotion_labels: tuple[str, ...],
                   window: pd.Timedelta | None, source: str = "") -> JourneyEmotions:
        """Build the result from a linked and tagged per-text table."""
        counts = texts["unlinked_reason"].value_counts()
        unlinked = pd.DataFrame({
            "reason": list(UNLINKED_REASONS),
            "texts": [int(counts.get(r, 0)) for r in UNLINKED_REASONS],
            "meaning": list(UNLINKED_REASONS.values()),
        })
        unlinked = unlinked[unlinked["texts"] > 0].reset_index(drop=True)
        unlinked.insert(2, "share", unlinked["texts"] / max(len(texts), 1))
        linked = texts[texts["link"].notna()]
        value = linked["sentiment_value"]
        mean = _mean_interval(value.groupby(np.zeros(len(value)))).reindex([0.0]).iloc[0]
        probs = "p_sentiment_positive" in texts.columns
        summary = {
            "texts": len(texts),
            "linked": len(linked),
            "unlinked": len(texts) - len(linked),
            "linked_share": len(linked) / len(texts) if len(texts) else float("nan"),
            "customers": int(linked[CUSTOMER].nunique()),
            "touchpoints": int(linked["touchpoint"].nunique()),
            **{k: float(v) for k, v in mean.items()},
            **{f"share_{s}": float((linked["sentiment"] == s).mean()) if len(linked)
               else float("nan") for s in SENTIMENT_LABELS},
            "sentiment_value": "p_positive - p_negative" if probs else "label (+1/0/-1)",
            "window": None if window is None else humanize_seconds(window.total_seconds()),
            "source": source,
        }
        return cls(texts.reset_index(drop=True), stages, tuple(emotion_labels), window,
                   unlinked, summary)

    # ------------------------------------------------------------------ views
    @property
    def linked(self) -> pd.DataFrame:
        """The texts linked to the journey."""
        return self.texts[self.texts["link"].notna()]

    def _key(self, by: str) -> str:
        if by not in DIMENSIONS:
            raise InvalidParameterError(
                f"Cannot group by {by!r}.",
                expected=f"one of {list(DIMENSIONS)}.",
                fix=f"Pass by='touchpoint' or by='stage'. {_did_you_mean(by, DIMENSIONS)}",
            )
        if by == "persona" and "persona" not in self.texts.columns:
            raise InvalidParameterError(
                "No personas: emotions() was called without personas.",
                expected="personas=<Series customer_id -> persona>.",
                fix="Call jm.emotions(log, texts, personas=...) to group by persona.",
            )
        return by

    def by(self, by: str = "touchpoint") -> pd.DataFrame:
        """Emotion and sentiment per touchpoint, stage, channel or persona.

        Parameters
        ----------
        by : {"touchpoint", "stage", "channel", "persona"}

        Returns
        -------
        DataFrame
            One row per group (``(none)`` for linked texts without a stage,
            channel or persona): ``n_texts``, ``n_customers``,
            ``mean_sentiment`` with ``mean_sentiment_low``/``_high`` (95%
            t-interval), ``dominant_emotion``; per sentiment ``n_<label>``,
            ``share_<label>`` with ``share_<label>_low``/``_high`` (95%
            Wilson); per emotion ``emotion_<label>`` (share) with
            ``emotion_<label>_low``/``_high``; and ``mean_rating``,
            ``n_ratings`` when the texts have ratings. Stages are in journey
            order; other groups by number of texts.
        """
        key = self._key(by)
        frame = self.linked
        group = frame[key].fillna(NO_GROUP).astype(str).rename(key)
        grouped = frame.groupby(group, sort=True)
        out = pd.DataFrame({"n_texts": grouped.size(), "n_customers": grouped[CUSTOMER].nunique()})
        out = out.join(_mean_interval(grouped["sentiment_value"]))
        emo = pd.crosstab(group, frame["emotion"]).reindex(
            index=out.index, columns=list(self.emotion_labels), fill_value=0)
        out["dominant_emotion"] = emo.idxmax(axis=1).where(emo.sum(axis=1) > 0)
        sent = pd.crosstab(group, frame["sentiment"]).reindex(
            index=out.index, columns=list(SENTIMENT_LABELS), fill_value=0)
        for label in SENTIMENT_LABELS:
            out[f"n_{label}"] = sent[label]
        shares = {f"share_{s}": sent[s] for s in SENTIMENT_LABELS}
        shares |= {f"emotion_{e}": emo[e] for e in self.emotion_labels}
        for name, hits in shares.items():
            low, high = wilson_interval(hits, out["n_texts"])
            out[name] = hits / out["n_texts"]
            out[f"{name}_low"], out[f"{name}_high"] = low, high
        if "rating" in frame.columns:
            out["mean_rating"] = grouped["rating"].mean()
            out["n_ratings"] = grouped["rating"].count()
        out = out.reset_index()
        if key == "stage":
            rank = {s: i for i, s in enumerate(self.stages.order)}
            out = out.sort_values("stage", key=lambda s: s.map(rank).fillna(len(rank)),
                                  kind="stable")
        else:
            out = out.sort_values(["n_texts", key], ascending=[False, True], kind="stable")
        return out.reset_index(drop=True)

    def curve(self) -> pd.DataFrame:
        """The emotion curve: mean sentiment (95% CI) and dominant emotion per stage, in order.

        Every stage of the taxonomy has a row; stages without texts have
        ``n_texts`` 0 and NaN values. Texts at touchpoints without a stage
        are left out (they are in :meth:`by` ``("stage")`` as ``(none)``).
        """
        cols = ["stage", "n_texts", "mean_sentiment", "mean_sentiment_low",
                "mean_sentiment_high", "dominant_emotion", "share_positive", "share_negative"]
        per = self.by("stage").set_index("stage")
        out = per.reindex(list(self.stages.order))[cols[1:]]
        out["n_texts"] = out["n_texts"].fillna(0).astype(int)
        return out.rename_axis("stage").reset_index()

    def quotes(self, touchpoint: str, n: int = 3, sentiment: str | None = None) -> pd.DataFrame:
        """Representative, diverse quotes of one touchpoint.

        Texts are ranked by the tagger's probability of ``sentiment`` (its
        ``sentiment_score`` when ``sentiment`` is None; texts the tagger gave
        no probability rank equal), then by how many distinct content words
        they have (up to 12), then by time. Quotes are then picked greedily,
        skipping a text by a customer already quoted or whose word set
        overlaps a picked quote's by a Jaccard index of 0.5 or more.

        Parameters
        ----------
        touchpoint : str
        n : int, default 3
        sentiment : {"positive", "neutral", "negative"}, optional
            Only texts with this sentiment label.

        Returns
        -------
        DataFrame
            ``customer_id``, ``timestamp``, ``text``, ``emotion``,
            ``sentiment``, ``score``, ``channel``; at most ``n`` rows.
        """
        linked = self.linked
        if touchpoint not in set(linked["touchpoint"]):
            known = sorted(set(linked["touchpoint"]))
            raise UnknownTouchpointError(
                f"No linked texts at touchpoint {touchpoint!r}.",
                expected=f"one of {known[:20]}.",
                fix=_did_you_mean(touchpoint, known) or "Check the touchpoint name.",
            )
        if sentiment is not None and sentiment not in SENTIMENT_LABELS:
            raise InvalidParameterError(
                f"sentiment={sentiment!r} is not a sentiment label.",
                expected=f"None or one of {list(SENTIMENT_LABELS)}.",
                fix="Pass sentiment='negative', 'neutral' or 'positive'.",
            )
        if not isinstance(n, int) or n < 1:
            raise InvalidParameterError(f"n={n!r} must be a positive integer.",
                                        fix="Pass e.g. n=3.")
        pool = linked[linked["touchpoint"] == touchpoint]
        if sentiment is not None:
            pool = pool[pool["sentiment"] == sentiment]
        return _diverse(pool, n, sentiment)

    def _contrast(self, label: str, min_texts: int, alpha: float, n_quotes: int) -> pd.DataFrame:
        if not isinstance(min_texts, int) or min_texts < 1:
            raise InvalidParameterError(f"min_texts={min_texts!r} must be a positive integer.",
                                        fix="Pass e.g. min_texts=10.")
        if not 0 < alpha < 1:
            raise InvalidParameterError(f"alpha={alpha!r} must be in (0, 1).",
                                        fix="Pass e.g. alpha=0.05.")
        tab = self.by("touchpoint")
        stage = self.linked.drop_duplicates("touchpoint").set_index("touchpoint")["stage"]
        x, n = tab[f"n_{label}"].astype(float), tab["n_texts"].astype(float)
        big_x, big_n = x.sum(), n.sum()
        rest_x, rest_n = big_x - x, big_n - n
        tested = (n >= min_texts) & (rest_n > 0)
        share = x / n
        with np.errstate(divide="ignore", invalid="ignore"):
            rest = rest_x / rest_n
            pooled = big_x / big_n
            se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / rest_n))
            z = ((share - rest) / se).where(se > 0, 0.0)
            ratio = share / rest
        p = z.map(lambda v: 0.5 * math.erfc(v / math.sqrt(2)))
        q = pd.Series(np.nan, index=tab.index)
        q[tested] = benjamini_hochberg(p[tested])
        out = pd.DataFrame({
            "touchpoint": tab["touchpoint"],
            "stage": tab["touchpoint"].map(stage),
            "n_texts": tab["n_texts"], "n_customers": tab["n_customers"],
            f"n_{label}": tab[f"n_{label}"],
            "share": share, "share_low": tab[f"share_{label}_low"],
            "share_high": tab[f"share_{label}_high"],
            "rest_share": rest, "overall_share": big_x / big_n if big_n else np.nan,
            "difference": share - rest, "risk_ratio": ratio, "excess": n * (share - rest),
            "z": z, "p_value": p, "q_value": q,
        })
        out = out[tested & (q <= alpha) & (share > rest)]
        out = out.sort_values(["excess", "touchpoint"], ascending=[False, True], kind="stable")
        out = out.reset_index(drop=True)
        out["quotes"] = [
            _quote_records(self.quotes(tp, n_quotes, sentiment=label)) for tp in out["touchpoint"]
        ]
        return out

    def pain_points(self, min_texts: int = 10, alpha: float = 0.05,
                    n_quotes: int = 3) -> pd.DataFrame:
        """Touchpoints with significantly more negative texts than the rest, with quotes.

        A one-sided pooled two-proportion z-test of each touchpoint's share of
        negative texts against all other linked texts, Benjamini-Hochberg
        corrected over the touchpoints with at least ``min_texts`` texts.

        Parameters
        ----------
        min_texts : int, default 10
            Touchpoints with fewer linked texts are not tested.
        alpha : float, default 0.05
            False discovery rate.
        n_quotes : int, default 3
            Quotes per pain point (see :meth:`quotes`).

        Returns
        -------
        DataFrame
            The flagged touchpoints, most excess negative texts first:
            ``touchpoint``, ``stage``, ``n_texts``, ``n_customers``,
            ``n_negative``, ``share`` (with ``share_low``/``_high``, 95%
            Wilson), ``rest_share``, ``overall_share``, ``difference``,
            ``risk_ratio``, ``excess``, ``z``, ``p_value``, ``q_value`` and
            ``quotes`` (a list of dicts: text, customer_id, timestamp,
            emotion, score).
        """
        return self._contrast("negative", min_texts, alpha, n_quotes)

    def delights(self, min_texts: int = 10, alpha: float = 0.05,
                 n_quotes: int = 3) -> pd.DataFrame:
        """Touchpoints with significantly more positive texts than the rest, with quotes.

        The mirror of :meth:`pain_points` for positive texts (``n_positive``).
        """
        return self._contrast("positive", min_texts, alpha, n_quotes)

    def phrases(self, by: str = "touchpoint", n: int = 8, min_count: int = 2) -> pd.DataFrame:
        """Key phrases per group: what customers say, in their own language.

        The uni- and bigrams most distinctive of each group against the other
        groups (see :func:`~journeymine.sentiment._phrases.distinctive_phrases`),
        with chat slang normalised.

        Parameters
        ----------
        by : {"touchpoint", "stage", "channel", "persona"}
        n : int, default 8
            Phrases per group.
        min_count : int, default 2
            Minimum number of the group's texts using a phrase.

        Returns
        -------
        DataFrame
            ``<by>``, ``rank``, ``phrase``, ``texts``, ``share``, ``z``.
        """
        key = self._key(by)
        frame = self.linked
        out = distinctive_phrases(frame["text"], frame[key].fillna(NO_GROUP), n=n,
                                  min_count=min_count).rename(columns={"group": key})
        if key == "stage":
            rank = {s: i for i, s in enumerate(self.stages.order)}
            out = out.sort_values(["stage", "rank"], key=lambda s: s.map(rank).fillna(
                len(rank)) if s.name == "stage" else s, kind="stable").reset_index(drop=True)
        return out

    # ------------------------------------------------------------------ export
    def to_frame(self) -> pd.DataFrame:
        """Every text with its link, stage, channel and tags (a copy)."""
        return self.texts.copy()

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-safe dicts and lists (what ``emotions.json`` holds)."""
        tables = {
            f"by_{dim}": self.by(dim) for dim in DIMENSIONS
            if dim != "persona" or "persona" in self.texts.columns
        }
        tables |= {"curve": self.curve(), "pain_points": self.pain_points(),
                   "delights": self.delights(), "unlinked": self.unlinked,
                   "phrases_touchpoint": self.phrases("touchpoint"),
                   "phrases_stage": self.phrases("stage")}
        return json_safe({
            "format_version": FORMAT_VERSION,
            "summary": self.summary,
            "emotion_labels": list(self.emotion_labels),
            "sentiment_labels": list(SENTIMENT_LABELS),
            "stages": self.stages.to_dict(),
            **{name: records(df, list(df.columns)) for name, df in tables.items()},
        })

    def write(self, out_dir: str | PathLike[str], *, title: str = "Customer emotions "
              "along the journey") -> list[Path]:
        """Write ``emotions.html``, ``emotions.json`` and ``tagged_texts.csv`` into ``out_dir``.

        The files are written into a temporary directory inside ``out_dir``
        and then moved into place, so a failure leaves no half-written file.

        Returns
        -------
        list of Path
            The files written.
        """
        import json

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out, prefix=".jm-") as tmp:
            staging = Path(tmp)
            (staging / "emotions.html").write_text(render_emotions(self, title=title),
                                                   encoding="utf-8")
            (staging / "emotions.json").write_text(
                json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
            self.texts.to_csv(staging / "tagged_texts.csv", index=False)
            for name in EMOTION_FILES:
                os.replace(staging / name, out / name)
        return [out / name for name in EMOTION_FILES]

    def __repr__(self) -> str:
        s = self.summary
        mean = s["mean_sentiment"]
        shown = "n/a" if mean is None or not math.isfinite(mean) else f"{mean:+.2f}"
        return (f"JourneyEmotions({s['texts']:,} texts, {s['linked']:,} linked, "
                f"{s['touchpoints']} touchpoints, mean sentiment {shown})")

    def _repr_html_(self) -> str:
        cols = ["stage", "n_texts", "mean_sentiment", "share_positive", "share_negative",
                "dominant_emotion"]
        stages = self.by("stage")[cols].round(2).to_html(index=False, border=0)
        pains = self.pain_points(n_quotes=1)
        pain_html = pains[["touchpoint", "n_texts", "share", "rest_share", "q_value"]].round(
            3).to_html(index=False, border=0) if len(pains) else "<p>No pain point.</p>"
        return (f"<div class='jm-emotions'><strong>{html.escape(repr(self))}</strong>"
                f"<h4>By stage</h4>{stages}<h4>Pain points</h4>{pain_html}</div>")


# ---------------------------------------------------------------------------- helpers
def _did_you_mean(name: str, choices) -> str:
    close = suggest(name, list(choices))
    return f"Did you mean {close!r}?" if close else ""


def _jaccard(a: frozenset, b: frozenset) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def _diverse(pool: pd.DataFrame, n: int, sentiment: str | None) -> pd.DataFrame:
    """Pick up to ``n`` high-scoring quotes from distinct customers, no near-duplicates."""
    column = f"p_sentiment_{sentiment}" if sentiment else "sentiment_score"
    score = (pd.to_numeric(pool[column], errors="coerce") if column in pool.columns
             else pd.Series(np.nan, index=pool.index)).fillna(1.0)
    words = pool["text"].map(content_words)
    ranked = pool.assign(score=score, _words=words, _richness=words.map(len).clip(upper=12))
    ranked = ranked.sort_values(["score", "_richness", "timestamp", "text"],
                                ascending=[False, False, True, True], kind="stable")
    picked: list[int] = []
    customers: set = set()
    seen: list[frozenset] = []
    for idx, cust, ws in zip(ranked.index, ranked[CUSTOMER], ranked["_words"], strict=True):
        if cust in customers or any(_jaccard(ws, other) >= 0.5 for other in seen):
            continue
        picked.append(idx)
        customers.add(cust)
        seen.append(ws)
        if len(picked) == n:
            break
    cols = [CUSTOMER, TIMESTAMP, "text", "emotion", "sentiment", "score", "channel"]
    return ranked.loc[picked, cols].reset_index(drop=True)


def _quote_records(quotes: pd.DataFrame) -> list[dict]:
    return records(quotes, ["text", CUSTOMER, TIMESTAMP, "emotion", "score"])


# ---------------------------------------------------------------------------- report
_EMOTION_COLORS = {
    "joy": "#e0a800", "love": "#d9507a", "surprise": "#8e6bd8", "anger": "#d64545",
    "disgust": "#6b8e23", "fear": "#56677a", "sadness": "#3f7cc4", "neutral": "#9aa5b1",
}


def _signed(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    return f"{value:+.{digits}f}"


def _curve_svg(curve: pd.DataFrame) -> dict:
    """Coordinates of the emotion-curve SVG (drawn by the template)."""
    width, height, left, right, top, bottom = 760, 300, 56, 16, 34, 70
    inner_w, inner_h = width - left - right, height - top - bottom
    step = inner_w / max(len(curve), 1)

    def y(v: float) -> float:
        return round(top + (1 - max(-1.0, min(1.0, v))) / 2 * inner_h, 1)

    points = []
    for i, row in enumerate(curve.itertuples(index=False)):
        x = round(left + (i + 0.5) * step, 1)
        has = row.n_texts > 0 and math.isfinite(row.mean_sentiment)
        low, high = row.mean_sentiment_low, row.mean_sentiment_high
        points.append({
            "x": x, "stage": row.stage, "n": f"n={row.n_texts:,}", "has": has,
            "y": y(row.mean_sentiment) if has else None,
            "y_low": y(low) if has and math.isfinite(low) else None,
            "y_high": y(high) if has and math.isfinite(high) else None,
            "label": _signed(row.mean_sentiment) if has else "no texts",
            "emotion": row.dominant_emotion if has else "",
            "color": _EMOTION_COLORS.get(row.dominant_emotion, "#3559c7") if has else "#9aa5b1",
        })
    line = " ".join(f"{p['x']},{p['y']}" for p in points if p["has"])
    ticks = [{"y": y(v), "label": _signed(v, 1) if v else "0"} for v in (1, 0.5, 0, -0.5, -1)]
    return {"width": width, "height": height, "left": left, "right": width - right,
            "points": points, "line": line, "ticks": ticks, "zero": y(0.0),
            "label_y": height - bottom + 20}


def _phrase_text(phrases: pd.DataFrame, key: str, group: str, n: int = 5) -> str:
    sub = phrases[phrases[key] == group].head(n)
    return ", ".join(f"{p} ({t})" for p, t in zip(sub["phrase"], sub["texts"], strict=True))


def _contrast_rows(table: pd.DataFrame) -> list[dict]:
    from journeymine.reporting._format import percent

    return [{
        "touchpoint": r.touchpoint, "stage": r.stage or "–", "n": f"{r.n_texts:,}",
        "share": percent(r.share), "ci": f"{percent(r.share_low, 0)}–{percent(r.share_high, 0)}",
        "rest": percent(r.rest_share), "diff": f"{100 * r.difference:+.1f} pts",
        "rr": f"{r.risk_ratio:.2f}×" if math.isfinite(r.risk_ratio) else "∞",
        "excess": f"{r.excess:,.0f}", "q": f"{r.q_value:.1g}",
        "quotes": r.quotes,
    } for r in table.itertuples(index=False)]


def render_emotions(result: JourneyEmotions, *, title: str = "Customer emotions along the "
                    "journey") -> str:
    """Render ``result`` as one self-contained HTML page (inline CSS and SVG, no scripts).

    All customer text is escaped by jinja2's autoescaping.
    """
    from journeymine import __version__
    from journeymine.reporting._format import percent
    from journeymine.reporting._templates import get_template

    s = result.summary
    by_stage, by_tp = result.by("stage"), result.by("touchpoint")
    ph_stage, ph_tp = result.phrases("stage"), result.phrases("touchpoint")
    in_stage: dict[str, list[str]] = {}
    for tp, n in zip(by_tp["touchpoint"], by_tp["n_texts"], strict=True):
        in_stage.setdefault(result.stages.get(tp) or NO_GROUP, []).append(f"{tp} ({n:,})")
    has_rating = "mean_rating" in by_stage.columns

    def share_bar(row) -> list[dict]:
        return [{"label": lab, "width": round(100 * getattr(row, f"share_{lab}"), 1),
                 "text": percent(getattr(row, f"share_{lab}"), 0)} for lab in SENTIMENT_LABELS]

    stage_rows = []
    for r in by_stage.itertuples(index=False):
        stage_rows.append({
            "stage": r.stage, "n": f"{r.n_texts:,}",
            "touchpoints": ", ".join(in_stage.get(r.stage, [])) or "–",
            "mean": _signed(r.mean_sentiment),
            "ci": f"{_signed(r.mean_sentiment_low)} to {_signed(r.mean_sentiment_high)}",
            "bars": share_bar(r), "emotion": r.dominant_emotion or "–",
            "color": _EMOTION_COLORS.get(r.dominant_emotion, "#9aa5b1"),
            "rating": f"{r.mean_rating:.2f} ({r.n_ratings:,})"
            if has_rating and r.n_ratings else "–",
            "phrases": _phrase_text(ph_stage, "stage", r.stage) or "–",
        })
    tp_rows = [{
        "touchpoint": r.touchpoint, "stage": result.stages.get(r.touchpoint) or "–",
        "n": f"{r.n_texts:,}", "mean": _signed(r.mean_sentiment),
        "ci": f"{_signed(r.mean_sentiment_low)} to {_signed(r.mean_sentiment_high)}",
        "bars": share_bar(r), "emotion": r.dominant_emotion or "–",
        "color": _EMOTION_COLORS.get(r.dominant_emotion, "#9aa5b1"),
        "phrases": _phrase_text(ph_tp, "touchpoint", r.touchpoint) or "–",
    } for r in by_tp.itertuples(index=False)]
    kpis = [
        ("texts", f"{s['texts']:,}"),
        ("linked to the journey", percent(s["linked_share"])),
        ("customers", f"{s['customers']:,}"),
        ("mean sentiment (−1…+1)", _signed(s["mean_sentiment"])),
        ("positive", percent(s["share_positive"])),
        ("negative", percent(s["share_negative"])),
    ]
    notes = [f"{r.texts:,} text(s) ({percent(r.share)}) not linked: {r.meaning}."
             for r in result.unlinked.itertuples(index=False)]
    window = s["window"] or "no limit"
    context = {
        "title": title, "version": __version__,
        "subtitle": f"{s['texts']:,} customer texts from {s['source'] or 'an event log'}; "
                    f"texts without a touchpoint linked to the customer's last event "
                    f"within {window}.",
        "kpis": kpis, "notes": notes, "curve": _curve_svg(result.curve()),
        "stage_rows": stage_rows, "tp_rows": tp_rows,
        "pains": _contrast_rows(result.pain_points()),
        "delights": _contrast_rows(result.delights()),
        "colors": _EMOTION_COLORS, "weighting": s["sentiment_value"],
    }
    return get_template("emotions.html.j2").render(**context)


def run_emotions(
    log: EventLog,
    texts: pd.DataFrame | str | PathLike[str],
    out_dir: str | PathLike[str],
    *,
    tagger: Any = None,
    window: str | pd.Timedelta | None = "7D",
    stages: StagesLike = None,
    personas: pd.Series | Mapping | None = None,
    title: str = "Customer emotions along the journey",
) -> JourneyEmotions:
    """Run :func:`emotions` and write its report files into ``out_dir``.

    Writes ``emotions.html`` (self-contained: inline CSS and SVG, no
    scripts), ``emotions.json`` (:meth:`JourneyEmotions.to_dict`) and
    ``tagged_texts.csv`` (:meth:`JourneyEmotions.to_frame`), atomically.

    Returns
    -------
    JourneyEmotions
        The result whose files were written.
    """
    result = emotions(log, texts, tagger=tagger, window=window, stages=stages,
                      personas=personas)
    result.write(out_dir, title=title)
    return result
