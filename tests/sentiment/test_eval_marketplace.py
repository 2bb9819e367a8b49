"""Schema and coverage of the hand-labelled marketplace evaluation set.

``tests/data/emotion_eval_marketplace.csv`` holds marketplace reviews and
customer-service chats (Indonesian, English, code-mixed) written by hand for
evaluation only; see ``tests/data/README.md``. These checks need neither torch
nor the training data: they read the CSV with pandas and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

CSV = Path(__file__).parents[1] / "data" / "emotion_eval_marketplace.csv"
COLUMNS = ["text", "emotion", "sentiment", "language", "domain", "style"]
EMOTIONS = {"anger", "fear", "joy", "love", "sadness", "surprise", "neutral"}
SENTIMENTS = {"positive", "neutral", "negative"}
LANGUAGES = {"id", "en", "mixed"}
DOMAINS = {"review", "chat"}
# Sentiment each emotion must carry; surprise may be either polarity.
POLARITY = {"joy": {"positive"}, "love": {"positive"}, "anger": {"negative"},
            "sadness": {"negative"}, "fear": {"negative"}, "neutral": {"neutral"},
            "surprise": {"positive", "negative"}}
MIN_ROWS, MIN_PER_EMOTION, MIN_LONG, LONG_CHARS = 360, 35, 30, 300


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype=str, keep_default_na=False, encoding="utf-8")


def test_schema(df):
    assert df.columns.tolist() == COLUMNS
    assert len(df) >= MIN_ROWS
    assert (df.text.str.strip() != "").all()
    assert (df.text == df.text.str.strip()).all(), "leading/trailing whitespace in text"
    assert (df["style"].str.strip() != "").all()


@pytest.mark.parametrize(("column", "allowed"), [
    ("emotion", EMOTIONS), ("sentiment", SENTIMENTS),
    ("language", LANGUAGES), ("domain", DOMAINS),
])
def test_labels_valid_and_all_present(df, column, allowed):
    assert set(df[column]) <= allowed, set(df[column]) - allowed
    assert set(df[column]) == allowed, f"{column}: missing {allowed - set(df[column])}"


def test_every_emotion_covered(df):
    counts = df.emotion.value_counts()
    assert (counts >= MIN_PER_EMOTION).all(), counts.to_dict()
    # each emotion appears in both domains and in Indonesian and English
    for column in ["domain", "language"]:
        combos = df.groupby("emotion")[column].nunique()
        assert (combos >= 2).all(), combos.to_dict()


def test_sentiment_agrees_with_emotion(df):
    bad = df[[s not in POLARITY[e] for e, s in zip(df.emotion, df.sentiment, strict=True)]]
    assert bad.empty, bad[["text", "emotion", "sentiment"]].head().to_dict("records")


def test_long_and_short_texts(df):
    lengths = df.text.str.len()
    assert (lengths > LONG_CHARS).sum() >= MIN_LONG
    assert lengths.max() <= 1200
    assert (lengths <= 20).sum() >= 10, "too few very short texts ('ok', 'mantap')"


def test_no_duplicate_texts(df):
    normalised = df.text.str.lower().str.split().str.join(" ")
    dups = df.text[normalised.duplicated(keep=False)]
    assert dups.empty, dups.tolist()


def test_labels_are_known_to_the_tagger(df):
    # importing the tagger must not need torch; its label set covers ours
    from journeymine.sentiment import EmotionTagger

    assert set(df.emotion) <= set(EmotionTagger.emotions)
    assert set(df.sentiment) <= set(EmotionTagger.sentiments)
