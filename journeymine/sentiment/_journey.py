"""Emotions over the journey: the entry point :func:`emotions` and its result.

:func:`emotions` links every text to the journey
(:mod:`journeymine.eventlog._linking`), tags it (:mod:`._tags`) and returns a
:class:`JourneyEmotions` with emotion and sentiment per touchpoint, stage,
channel and persona, the emotion curve, pain points and delights
(:mod:`._stats`), quotes (:mod:`._quotes`) and key phrases (:mod:`._phrases`).
:func:`run_emotions` also writes the HTML report
(:mod:`journeymine.reporting._emotion_report`), JSON and CSV.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import math
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeymine._util._json import json_safe, records
from journeymine._util._params import parse_duration
from journeymine._util._stats import wilson_interval
from journeymine._util._write import write_bundle
from journeymine.eventlog._eventlog import EventLog, StagesLike
from journeymine.eventlog._linking import UNLINKED_REASONS, link_texts, persona_of
from journeymine.eventlog._schema import CUSTOMER, suggest
from journeymine.eventlog._stages import StageMap
from journeymine.eventlog._texts import read_texts
from journeymine.exceptions import InvalidParameterError, SchemaError, UnknownTouchpointError
from journeymine.reporting._format import humanize_seconds
from journeymine.sentiment._phrases import distinctive_phrases
from journeymine.sentiment._quotes import diverse_quotes, quote_records
from journeymine.sentiment._stats import excess_test, mean_interval
from journeymine.sentiment._tags import (
    SENTIMENT_LABELS,
    clean_labels,
    emotion_labels,
    tag_texts,
)

__all__ = ["JourneyEmotions", "emotions", "run_emotions"]

logger = logging.getLogger(__name__)

#: What :meth:`JourneyEmotions.by` groups by.
DIMENSIONS = ("touchpoint", "stage", "channel", "persona")
#: Group label for texts without a stage, channel or persona.
NO_GROUP = "(none)"
FORMAT_VERSION = 1
_LINK_COLUMNS = ("link", "unlinked_reason", "event_timestamp", "stage", "persona",
                 "sentiment_value")


# ---------------------------------------------------------------------------- entry point
def emotions(
    log: EventLog,
    texts: pd.DataFrame | str | PathLike[str],
    *,
    tagger: Any = None,
    window: str | pd.Timedelta | None = "7D",
    stages: StagesLike = None,
    personas: pd.Series | Mapping | None = None,
    adapt_priors: bool = False,
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
    personas : Series, dict or PersonaModel, optional
        ``customer_id -> persona`` (or a fitted model's ``labels_``), for
        :meth:`JourneyEmotions.by` ``("persona")``.
    adapt_priors : bool, default False
        Re-estimate the emotion and sentiment class priors of these texts by
        EM before labelling them (label-shift adaptation, Saerens et al. 2002;
        ``EmotionTagger.predict(adapt_priors=True)``). Off by default: on the
        hand-labelled marketplace evaluation set it did not help, see
        ``models/README.md``.

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
    span = None if window is None else parse_duration(window, "window")
    frame = read_texts(texts)
    links = link_texts(log, frame, span)
    tags = clean_labels(tag_texts(frame, tagger, adapt_priors=adapt_priors))
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
        out["persona"] = persona_of(personas, out[CUSTOMER].astype(str)).where(linked)
    out = pd.concat([out, tags], axis=1)
    out = out.astype({c: object for c in ("touchpoint", "stage", "channel", "link",
                                          "unlinked_reason") if c in out})
    return JourneyEmotions.from_frame(out, stage_map, emotion_labels(tags), span,
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
        mean = mean_interval(value.groupby(np.zeros(len(value)))).reindex([0.0]).iloc[0]
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
                fix=" ".join(filter(None, [_did_you_mean(by, DIMENSIONS),
                                           "Pass by='touchpoint' or by='stage'."])),
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
        out = out.join(mean_interval(grouped["sentiment_value"]))
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

    def quotes(self, touchpoint: str | None = None, n: int = 3, sentiment: str | None = None,
               *, stage: str | None = None, emotion: str | None = None) -> pd.DataFrame:
        """Representative, diverse quotes of one touchpoint or one stage.

        Texts are ranked by the tagger's probability of ``sentiment`` (its
        ``sentiment_score`` when ``sentiment`` is None; texts the tagger gave
        no probability rank equal), then by how many distinct content words
        they have (up to 12), then by time. Quotes are then picked greedily,
        skipping a text by a customer already quoted or whose word set
        overlaps a picked quote's by a Jaccard index of 0.5 or more.

        Parameters
        ----------
        touchpoint : str, optional
            Quotes of the texts linked to this touchpoint.
        n : int, default 3
        sentiment : {"positive", "neutral", "negative"}, optional
            Only texts with this sentiment label.
        stage : str, optional
            Instead of ``touchpoint``: quotes of the texts of every touchpoint
            of this stage (give one of the two).
        emotion : str, optional
            Only texts with this emotion label (e.g. the stage's
            ``dominant_emotion`` of :meth:`curve`).

        Returns
        -------
        DataFrame
            ``customer_id``, ``timestamp``, ``text``, ``emotion``,
            ``sentiment``, ``score``, ``channel``; at most ``n`` rows.
        """
        linked = self.linked
        if (touchpoint is None) == (stage is None):
            raise InvalidParameterError(
                "quotes() needs either a touchpoint or a stage.",
                expected="quotes('delivery') or quotes(stage='retention').",
                fix="Pass exactly one of touchpoint and stage.",
            )
        column, name = ("touchpoint", touchpoint) if stage is None else ("stage", stage)
        if name not in set(linked[column].dropna()):
            known = sorted(set(linked[column].dropna()))
            raise UnknownTouchpointError(
                f"No linked texts at {column} {name!r}.",
                expected=f"one of {known[:20]}.",
                fix=_did_you_mean(name, known) or f"Check the {column} name.",
            )
        if sentiment is not None and sentiment not in SENTIMENT_LABELS:
            raise InvalidParameterError(
                f"sentiment={sentiment!r} is not a sentiment label.",
                expected=f"one of {list(SENTIMENT_LABELS)}, or None.",
                fix="Pass sentiment='negative', 'neutral' or 'positive'.",
            )
        if emotion is not None and emotion not in self.emotion_labels:
            raise InvalidParameterError(
                f"emotion={emotion!r} is not an emotion label of these texts.",
                expected=f"one of {list(self.emotion_labels)}, or None.",
                fix=_did_you_mean(emotion, self.emotion_labels) or "Pass e.g. emotion='joy'.",
            )
        if not isinstance(n, int) or n < 1:
            raise InvalidParameterError(f"n={n!r} must be a positive integer.",
                                        expected="an int >= 1.", fix="Pass e.g. n=3.")
        pool = linked[linked[column] == name]
        if sentiment is not None:
            pool = pool[pool["sentiment"] == sentiment]
        if emotion is not None:
            pool = pool[pool["emotion"] == emotion]
        return diverse_quotes(pool, n, sentiment)

    def stage_quotes(self, n: int = 1) -> dict[str, list[dict]]:
        """Quotes of each stage's dominant emotion, for the journey map.

        For every stage of :meth:`curve` with texts: up to ``n`` :meth:`quotes`
        of its texts whose emotion is the stage's ``dominant_emotion``.

        Returns
        -------
        dict
            ``{stage: [{text, customer_id, timestamp, emotion, score}, ...]}``,
            stages in journey order.
        """
        curve = self.curve()
        return {
            row.stage: quote_records(self.quotes(stage=row.stage, n=n,
                                                 emotion=row.dominant_emotion))
            for row in curve[curve["n_texts"] > 0].itertuples(index=False)
        }

    def _contrast(self, label: str, min_texts: int, alpha: float, n_quotes: int) -> pd.DataFrame:
        if not isinstance(min_texts, int) or min_texts < 1:
            raise InvalidParameterError(f"min_texts={min_texts!r} must be a positive integer.",
                                        expected="an int >= 1.", fix="Pass e.g. min_texts=10.")
        if not 0 < alpha < 1:
            raise InvalidParameterError(f"alpha={alpha!r} must be in (0, 1).",
                                        expected="a false discovery rate strictly between 0 and 1.",
                                        fix="Pass e.g. alpha=0.05.")
        tab = self.by("touchpoint")
        stage = self.linked.drop_duplicates("touchpoint").set_index("touchpoint")["stage"]
        test = excess_test(tab[f"n_{label}"], tab["n_texts"], min_texts)
        out = pd.DataFrame({
            "touchpoint": tab["touchpoint"],
            "stage": tab["touchpoint"].map(stage),
            "n_texts": tab["n_texts"], "n_customers": tab["n_customers"],
            f"n_{label}": tab[f"n_{label}"],
            "share": test["share"], "share_low": tab[f"share_{label}_low"],
            "share_high": tab[f"share_{label}_high"],
        }).join(test.drop(columns="share"))
        out = out[(out["q_value"] <= alpha) & (out["share"] > out["rest_share"])]
        out = out.sort_values(["excess", "touchpoint"], ascending=[False, True], kind="stable")
        out = out.reset_index(drop=True)
        out["quotes"] = [
            quote_records(self.quotes(tp, n_quotes, sentiment=label)) for tp in out["touchpoint"]
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

    def to_html(self, *, title: str = "Customer emotions along the journey") -> str:
        """The self-contained HTML emotions page (curve, stages, pain points, quotes)."""
        from journeymine.reporting._emotion_report import render_emotions

        return render_emotions(self, title=title)

    def save(self, out_dir: str | PathLike[str], *, title: str = "Customer emotions "
             "along the journey") -> list[Path]:
        """Write ``emotions.html``, ``emotions.json`` and ``tagged_texts.csv`` into ``out_dir``.

        All or nothing (see :meth:`ProcessMap.save <journeymine.ProcessMap.save>`).

        Returns
        -------
        list of Path
            The files written.

        Raises
        ------
        OutputError
            ``out_dir`` is a file or cannot be written.
        """
        import json

        html_text = self.to_html(title=title)
        return write_bundle(out_dir, {
            "emotions.html": lambda path: path.write_text(html_text, encoding="utf-8"),
            "emotions.json": lambda path: path.write_text(
                json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"),
            "tagged_texts.csv": lambda path: self.texts.to_csv(path, index=False),
        })

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
def _did_you_mean(name: str, choices: Any) -> str:
    close = suggest(name, list(choices))
    return f"Did you mean {close!r}?" if close else ""


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
    result.save(out_dir, title=title)
    return result

