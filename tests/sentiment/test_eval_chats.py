"""Schema and coverage of the hand-written chats/app-review/survey evaluation set.

``tests/data/emotion_eval_chats.csv`` holds customer-service chats, app-store
reviews, social-media comments, long reviews and survey answers (Indonesian,
English, code-mixed), written by hand for evaluation only; see
``tests/data/README.md``. The checks read the file with the standard ``csv``
module and need neither torch nor pandas.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

CSV = Path(__file__).parents[1] / "data" / "emotion_eval_chats.csv"
COLUMNS = ["text", "emotion", "sentiment", "language", "domain", "style"]
ALLOWED = {
    "emotion": {"joy", "love", "surprise", "sadness", "anger", "fear", "neutral"},
    "sentiment": {"positive", "neutral", "negative"},
    "language": {"id", "en", "mixed"},
    "domain": {"chat", "app_review", "social", "long_review", "survey"},
    "style": {"formal", "casual", "slang", "terse", "elderly", "teen", "english-native",
              "emoji", "typo", "caps", "repeat", "polite", "sarcasm", "javanese", "sundanese"},
}
# Sentiment each emotion must carry; surprise may be either polarity.
POLARITY = {"joy": {"positive"}, "love": {"positive"}, "anger": {"negative"},
            "sadness": {"negative"}, "fear": {"negative"}, "neutral": {"neutral"},
            "surprise": {"positive", "negative"}}
MIN_ROWS, MIN_PER_EMOTION, MIN_LONG, LONG_CHARS, MAX_CHARS = 420, 45, 60, 300, 1000


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    raw = CSV.read_bytes()
    raw.decode("utf-8")  # strict: raises on invalid UTF-8
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
    with CSV.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def test_schema(rows):
    assert len(rows) >= MIN_ROWS
    for row in rows:
        assert None not in row and all(v is not None for v in row.values()), row
        assert row["text"] and row["text"] == row["text"].strip(), row["text"]


@pytest.mark.parametrize("column", sorted(ALLOWED))
def test_values_allowed(rows, column):
    seen = {row[column] for row in rows}
    assert seen <= ALLOWED[column], seen - ALLOWED[column]
    if column != "style":
        assert seen == ALLOWED[column], f"{column}: missing {ALLOWED[column] - seen}"


def test_sentiment_follows_emotion(rows):
    bad = [r["text"][:60] for r in rows if r["sentiment"] not in POLARITY[r["emotion"]]]
    assert not bad, bad[:5]
    surprise = Counter(r["sentiment"] for r in rows if r["emotion"] == "surprise")
    assert surprise["positive"] and surprise["negative"], surprise


def test_coverage(rows):
    emotions = Counter(r["emotion"] for r in rows)
    assert min(emotions.values()) >= MIN_PER_EMOTION, emotions
    for column in ["language", "domain"]:
        for emotion in ALLOWED["emotion"]:
            values = {r[column] for r in rows if r["emotion"] == emotion}
            assert len(values) >= 3, (emotion, column, values)
    languages = Counter(r["language"] for r in rows)
    assert languages["id"] > languages["mixed"] > 0 and languages["en"] > 0, languages


def test_long_texts(rows):
    lengths = [len(r["text"]) for r in rows]
    assert sum(n >= LONG_CHARS for n in lengths) >= MIN_LONG
    assert max(lengths) <= MAX_CHARS
    # every long_review row is a long text
    assert all(len(r["text"]) >= LONG_CHARS for r in rows if r["domain"] == "long_review")


def test_no_duplicate_texts(rows):
    normalised = Counter(" ".join(r["text"].lower().split()) for r in rows)
    dups = [t for t, n in normalised.items() if n > 1]
    assert not dups, dups
