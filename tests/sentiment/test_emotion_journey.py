"""Emotions over the journey: linking, aggregation, pain points, quotes, phrases, report.

Every expected number here is computed by hand (or by the textbook formula
written out in the test), on logs small enough to check on paper.
"""

from __future__ import annotations

import json
import math
import warnings

import pandas as pd
import pytest

import journeymine as jm
from journeymine.exceptions import (
    ColumnNotFoundError,
    InvalidParameterError,
    OptionalDependencyError,
    SchemaError,
    UnknownTouchpointError,
)
from journeymine.reporting._emotion_report import render_emotions
from journeymine.sentiment._journey import emotions, run_emotions
from journeymine.sentiment._phrases import distinctive_phrases, tokenize
from journeymine.sentiment._tags import EMOTION_LABELS, SENTIMENT_LABELS
from tests._browser import dump_dom

Z = 1.959963984540054  # 97.5% normal quantile
T3 = 3.182446305284263  # 97.5% Student-t quantile, 3 degrees of freedom


class LookupTagger:
    """A hand-written deterministic tagger: text -> (emotion, sentiment[, p_negative]).

    Follows the EmotionTagger.predict contract; records what it was asked.
    """

    def __init__(self, table: dict, probabilities: bool = False):
        self.table = table
        self.probabilities = probabilities
        self.calls: list[list[str]] = []

    def predict(self, texts: list[str]) -> pd.DataFrame:
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            emotion, sentiment, *p_neg = self.table[text]
            row = {"text": text, "language": "id", "emotion": emotion, "emotion_score": 1.0,
                   "sentiment": sentiment, "sentiment_score": 1.0}
            row |= {f"p_emotion_{e}": float(e == emotion) for e in EMOTION_LABELS}
            if self.probabilities:
                neg = p_neg[0]
                pos = {"positive": 1 - neg, "neutral": (1 - neg) / 2}.get(sentiment, 0.0)
                row |= {"p_sentiment_negative": neg, "p_sentiment_positive": pos,
                        "p_sentiment_neutral": 1 - neg - pos,
                        "sentiment_score": {"negative": neg, "positive": pos}.get(
                            sentiment, 1 - neg - pos)}
            rows.append(row)
        return pd.DataFrame(rows)


def wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    center = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return center - half, center + half


# --------------------------------------------------------------------------- linking
@pytest.fixture
def log() -> jm.EventLog:
    return jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c2"],
        "touchpoint": ["instagram_ad", "product_page", "checkout", "instagram_ad"],
        "timestamp": ["2024-05-01 10:00", "2024-05-01 10:05", "2024-05-02 09:00",
                      "2024-05-03 08:00"],
        "channel": ["social", "web", "web", "social"],
    }))


@pytest.fixture
def link_texts() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c9", "c2", "c1", "c2", "c1", "c1"],
        "timestamp": ["2024-05-01 10:07", "2024-05-01 09:00", "2024-05-20 12:00",
                      "2024-05-01 11:00", "2024-05-03 09:00", "2024-05-02 10:00",
                      "2024-05-03 09:00", "2024-05-02 09:00", "2024-05-09 09:00"],
        "text": [f"text {i}" for i in range(9)],
        "touchpoint": [None, None, None, None, "checkout", "instagram_ad", "tiktok_ad", None,
                       None],
        "emotion": ["joy"] * 9,
        "sentiment": ["positive"] * 9,
    })


def test_links_by_hand(log, link_texts):
    emo = emotions(log, link_texts, tagger="labels")
    t = emo.texts
    expected = [  # (touchpoint, link, reason, event time, channel)
        ("product_page", "nearest_event", None, "2024-05-01 10:05", "web"),  # 2 min after
        (None, None, "no_event_before", None, None),       # before c1's first event
        (None, None, "outside_window", None, None),        # 18 days after checkout > 7D
        (None, None, "unknown_customer", None, None),      # c9 has no events
        ("checkout", "touchpoint", None, None, None),      # c2 never had a checkout event
        ("instagram_ad", "touchpoint", None, "2024-05-01 10:00", "social"),
        ("tiktok_ad", None, "unknown_touchpoint", None, None),
        ("checkout", "nearest_event", None, "2024-05-02 09:00", "web"),  # same instant
        ("checkout", "nearest_event", None, "2024-05-02 09:00", "web"),  # exactly 7 days
    ]
    for i, (tp, link, reason, when, channel) in enumerate(expected):
        row = t.iloc[i]
        assert (row["touchpoint"] if pd.notna(row["touchpoint"]) else None) == tp, i
        assert (row["link"] if pd.notna(row["link"]) else None) == link, i
        assert (row["unlinked_reason"] if pd.notna(row["unlinked_reason"]) else None) == reason
        got = row["event_timestamp"]
        assert (None if pd.isna(got) else got) == (
            None if when is None else pd.Timestamp(when, tz="UTC")), i
        assert (row["channel"] if pd.notna(row["channel"]) else None) == channel, i
    assert t["stage"].tolist()[0] == "consideration"  # product_page, guessed by keyword
    assert emo.unlinked[["reason", "texts"]].values.tolist() == [
        ["unknown_touchpoint", 1], ["unknown_customer", 1], ["no_event_before", 1],
        ["outside_window", 1]]
    assert emo.summary["linked"] == 5 and emo.summary["unlinked"] == 4
    assert emo.unlinked["share"].sum() == pytest.approx(4 / 9)


def test_window_none_and_shorter_window(log, link_texts):
    unlimited = emotions(log, link_texts, tagger="labels", window=None).texts
    assert unlimited.loc[2, "link"] == "nearest_event"
    assert unlimited.loc[2, "touchpoint"] == "checkout"
    short = emotions(log, link_texts, tagger="labels", window="1min").texts
    assert short.loc[0, "unlinked_reason"] == "outside_window"  # 2 minutes > 1 minute
    assert short.loc[7, "link"] == "nearest_event"  # 0 seconds


def test_text_channel_used_when_no_event_matches(log):
    texts = pd.DataFrame({"customer_id": ["c2"], "timestamp": ["2024-05-03 09:00"],
                          "text": ["ok"], "touchpoint": ["checkout"], "channel": ["whatsapp"],
                          "emotion": ["joy"], "sentiment": ["positive"]})
    assert emotions(log, texts, tagger="labels").texts["channel"].tolist() == ["whatsapp"]


def test_equal_timestamps_link_to_the_last_event_in_log_order():
    log = jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": ["a", "a"], "touchpoint": ["cart", "checkout"],
        "timestamp": ["2024-01-01 10:00", "2024-01-01 10:00"]}))
    texts = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-01 10:01"],
                          "text": ["x"], "emotion": ["joy"], "sentiment": ["positive"]})
    assert emotions(log, texts, tagger="labels").texts["touchpoint"].tolist() == ["checkout"]


# --------------------------------------------------------------------------- tagging
def test_tagger_gets_unique_texts_and_input_is_not_modified(log, link_texts):
    texts = link_texts.drop(columns=["emotion", "sentiment"])
    texts.loc[1, "text"] = "text 0"  # a repeated text is tagged once
    before = texts.copy(deep=True)
    tagger = LookupTagger({f"text {i}": ("anger", "negative") for i in range(9)})
    emo = emotions(log, texts, tagger=tagger)
    assert tagger.calls == [["text 0", "text 2", "text 3", "text 4", "text 5", "text 6",
                             "text 7", "text 8"]]
    assert (emo.texts["sentiment"] == "negative").all()
    assert {f"p_emotion_{e}" for e in EMOTION_LABELS} <= set(emo.texts.columns)
    pd.testing.assert_frame_equal(texts, before)


def test_bad_taggers(log, link_texts, monkeypatch):
    with pytest.raises(InvalidParameterError, match="predict"):
        emotions(log, link_texts, tagger=object())
    with pytest.raises(InvalidParameterError, match="not a tagger"):
        emotions(log, link_texts, tagger="model")

    class Short:
        def predict(self, texts):
            return pd.DataFrame({"emotion": ["joy"], "sentiment": ["positive"]})

    with pytest.raises(SchemaError, match="returned 1 rows for 9 texts"):
        emotions(log, link_texts, tagger=Short())
    weird = link_texts.assign(sentiment="happy")
    with pytest.raises(SchemaError, match="Unknown sentiment"):
        emotions(log, weird, tagger="labels")
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'sentiments'"):
        emotions(log, link_texts.rename(columns={"sentiment": "sentiments"}), tagger="labels")
    import journeymine.sentiment as pkg

    monkeypatch.delattr(pkg, "EmotionTagger", raising=False)
    with pytest.raises(OptionalDependencyError, match=r"journeymine\[emotions\]"):
        emotions(log, link_texts)


def test_sentiment_aliases_and_bad_parameters(log, link_texts):
    emo = emotions(log, link_texts.assign(sentiment="Negatif"), tagger="labels")
    assert set(emo.texts["sentiment"]) == {"negative"}
    for window in ("soon", "-1D", 0):
        with pytest.raises(InvalidParameterError, match="window"):
            emotions(log, link_texts, tagger="labels", window=window)
    with pytest.raises(SchemaError, match="EventLog"):
        emotions(link_texts, link_texts, tagger="labels")
    with pytest.raises(InvalidParameterError, match="Did you mean 'stage'"):
        emo.by("stages")
    with pytest.raises(InvalidParameterError, match="without personas"):
        emo.by("persona")
    with pytest.raises(UnknownTouchpointError, match="Did you mean 'checkout'"):
        emo.quotes("chekout")


# --------------------------------------------------------------------------- aggregation
@pytest.fixture
def agg_log() -> jm.EventLog:
    return jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": ["a", "a"], "touchpoint": ["instagram_ad", "checkout"],
        "timestamp": ["2024-01-01", "2024-01-02"]}))


@pytest.fixture
def agg_texts() -> pd.DataFrame:
    # checkout: 2 positive (joy), 1 negative (anger), 1 neutral; instagram_ad: 1 negative
    return pd.DataFrame({
        "customer_id": ["a", "b", "c", "a", "d"],
        "timestamp": ["2024-01-03"] * 5,
        "text": ["cepat", "mantap", "gagal bayar", "biasa saja", "iklan ganggu"],
        "touchpoint": ["checkout"] * 4 + ["instagram_ad"],
        "rating": [5, 4, 1, None, None],
    })


AGG_TABLE = {"cepat": ("joy", "positive", 0.1), "mantap": ("joy", "positive", 0.0),
             "gagal bayar": ("anger", "negative", 0.9), "biasa saja": ("neutral", "neutral", 0.2),
             "iklan ganggu": ("anger", "negative", 0.7)}


def test_by_touchpoint_numbers_by_hand(agg_log, agg_texts):
    emo = emotions(agg_log, agg_texts, tagger=LookupTagger(AGG_TABLE))
    row = emo.by("touchpoint").set_index("touchpoint").loc["checkout"]
    assert row["n_texts"] == 4 and row["n_customers"] == 3
    assert (row["n_positive"], row["n_neutral"], row["n_negative"]) == (2, 1, 1)
    assert row["share_positive"] == 0.5 and row["share_negative"] == 0.25
    low, high = wilson(2, 4)
    assert (row["share_positive_low"], row["share_positive_high"]) == pytest.approx((low, high))
    low, high = wilson(1, 4)
    assert (row["emotion_anger_low"], row["emotion_anger_high"]) == pytest.approx((low, high))
    assert row["emotion_joy"] == 0.5 and row["dominant_emotion"] == "joy"
    # values +1, +1, -1, 0: mean 0.25, sd sqrt(2.75 / 3)
    half = T3 * math.sqrt(2.75 / 3) / 2
    assert row["mean_sentiment"] == pytest.approx(0.25)
    assert (row["mean_sentiment_low"], row["mean_sentiment_high"]) == pytest.approx(
        (0.25 - half, 0.25 + half))
    assert row["mean_rating"] == pytest.approx(10 / 3) and row["n_ratings"] == 3
    ad = emo.by("touchpoint").set_index("touchpoint").loc["instagram_ad"]
    assert ad["n_texts"] == 1 and math.isnan(ad["mean_sentiment_low"])  # no interval for 1


def test_probability_weighted_sentiment(agg_log, agg_texts):
    emo = emotions(agg_log, agg_texts, tagger=LookupTagger(AGG_TABLE, probabilities=True))
    # p_pos - p_neg per text: cepat .9-.1, mantap 1-0, gagal bayar 0-.9, biasa saja .4-.2
    values = [0.8, 1.0, -0.9, 0.2]
    row = emo.by("touchpoint").set_index("touchpoint").loc["checkout"]
    assert row["mean_sentiment"] == pytest.approx(sum(values) / 4)
    assert emo.summary["sentiment_value"] == "p_positive - p_negative"


def test_stages_in_journey_order_and_curve(agg_log, agg_texts):
    emo = emotions(agg_log, agg_texts, tagger=LookupTagger(AGG_TABLE))
    assert emo.by("stage")["stage"].tolist() == ["awareness", "purchase"]  # not by volume
    curve = emo.curve()
    assert curve["stage"].tolist() == list(jm.STAGES)
    assert curve["n_texts"].tolist() == [1, 0, 4, 0, 0]
    assert curve.loc[0, "mean_sentiment"] == -1.0 and curve.loc[0, "dominant_emotion"] == "anger"
    assert math.isnan(curve.loc[1, "mean_sentiment"])


def test_personas_and_channels(agg_log, agg_texts):
    personas = pd.Series({"a": "loyal", "b": "loyal", "c": "bargain"})
    emo = emotions(agg_log, agg_texts, tagger=LookupTagger(AGG_TABLE), personas=personas)
    by = emo.by("persona").set_index("persona")
    assert by["n_texts"].to_dict() == {"loyal": 3, "bargain": 1, "(none)": 1}
    assert by.loc["bargain", "share_negative"] == 1.0
    assert emo.by("channel")["channel"].tolist() == ["(none)"]


# --------------------------------------------------------------------------- pain points
SYLLABLES = ("ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu")


def _word(i: int) -> str:
    """A distinct made-up word per number (no digits: numbers are not phrase words)."""
    return "".join(SYLLABLES[int(d)] for d in f"{i:04d}")


def _contrast_case(first: str | None = None):
    """delivery: 24/30 negative; review 6/60; whatsapp_chat 12/60; store_visit 2/3.

    Every text has its own words, so no two are near-duplicates; ``first``
    replaces the first delivery text.
    """
    rows = []
    plan = {"delivery": (30, 24), "review": (60, 6), "whatsapp_chat": (60, 12),
            "store_visit": (3, 2)}
    table = {}
    for tp, (n, neg) in plan.items():
        for i in range(n):
            negative = i < neg
            text = f"{tp} {_word(i)} {_word(i + 500)} " + ("kecewa" if negative else "senang")
            if first and tp == "delivery" and i == 0:
                text = first
            p_negative = 0.9 - i / 100 if negative else 0.1
            table[text] = ("anger", "negative", p_negative) if negative else ("joy", "positive",
                                                                                p_negative)
            rows.append({"customer_id": f"{tp}-{i}", "timestamp": "2024-01-05",
                         "text": text, "touchpoint": tp})
    log = jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": ["x"] * 4, "touchpoint": list(plan),
        "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]}))
    return log, pd.DataFrame(rows), LookupTagger(table, probabilities=True)


def test_stage_quotes_quote_each_stage_in_its_dominant_emotion():
    log, texts, tagger = _contrast_case()
    emo = emotions(log, texts, tagger=tagger)
    quotes = emo.stage_quotes()
    # awareness has no texts; consideration = whatsapp_chat (48 joy, 12 anger) + store_visit
    # (1 joy, 2 anger): joy; retention = delivery (24 anger, 6 joy); advocacy = review (54 joy)
    assert list(quotes) == ["consideration", "retention", "advocacy"]
    assert [q[0]["emotion"] for q in quotes.values()] == ["joy", "anger", "joy"]
    assert all(len(q) == 1 for q in quotes.values())
    # the most negative delivery text (p_negative 0.90, the first) speaks for retention
    assert quotes["retention"][0]["text"] == texts.loc[0, "text"]
    assert quotes["advocacy"][0]["text"].startswith("review ")
    assert quotes["consideration"][0]["text"].split()[0] in {"whatsapp_chat", "store_visit"}
    # the same pick through quotes(stage=..., emotion=...)
    by_stage = emo.quotes(stage="retention", n=1, emotion="anger")
    assert by_stage["text"].tolist() == [quotes["retention"][0]["text"]]
    happy = emo.quotes(stage="retention", n=10, emotion="joy")
    assert len(happy) == 6 and (happy["emotion"] == "joy").all()


def test_quotes_need_one_touchpoint_or_stage_and_known_labels():
    log, texts, tagger = _contrast_case()
    emo = emotions(log, texts, tagger=tagger)
    with pytest.raises(InvalidParameterError, match="either a touchpoint or a stage"):
        emo.quotes()
    with pytest.raises(InvalidParameterError, match="either a touchpoint or a stage"):
        emo.quotes("delivery", stage="retention")
    with pytest.raises(UnknownTouchpointError, match="Did you mean 'retention'"):
        emo.quotes(stage="retension")
    with pytest.raises(InvalidParameterError, match="Did you mean 'joy'"):
        emo.quotes("delivery", emotion="jo")


def _one_sided_p(x1, n1, x2, n2):
    p1, p2, pooled = x1 / n1, x2 / n2, (x1 + x2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, 0.5 * math.erfc(z / math.sqrt(2))


def test_pain_point_detected_with_hand_computed_test():
    log, texts, tagger = _contrast_case()
    emo = emotions(log, texts, tagger=tagger)
    pains = emo.pain_points()
    assert pains["touchpoint"].tolist() == ["delivery"]
    row = pains.iloc[0]
    z, p = _one_sided_p(24, 30, 20, 123)  # rest: 6 + 12 + 2 of 60 + 60 + 3
    assert row["z"] == pytest.approx(z) and row["p_value"] == pytest.approx(p)
    # BH over the 3 tested touchpoints (store_visit has < 10 texts): delivery has the
    # smallest p, so q = p * 3 / 1
    assert row["q_value"] == pytest.approx(min(1.0, p * 3))
    assert row["difference"] == pytest.approx(0.8 - 20 / 123)
    assert row["risk_ratio"] == pytest.approx(0.8 / (20 / 123))
    assert row["excess"] == pytest.approx(30 * (0.8 - 20 / 123))
    assert row["n_texts"] == 30 and row["n_negative"] == 24
    assert row["overall_share"] == pytest.approx(44 / 153)
    assert len(row["quotes"]) == 3


def test_small_sample_is_not_flagged():
    log, texts, tagger = _contrast_case()
    emo = emotions(log, texts, tagger=tagger)
    assert "store_visit" not in emo.pain_points()["touchpoint"].tolist()  # 3 < min_texts
    loose = emo.pain_points(min_texts=1)
    assert "store_visit" not in loose["touchpoint"].tolist()
    _, p = _one_sided_p(2, 3, 42, 150)
    assert p > 0.05  # 2 of 3 is not evidence, corrected or not
    with pytest.raises(InvalidParameterError, match="min_texts"):
        emo.pain_points(min_texts=0)
    with pytest.raises(InvalidParameterError, match="alpha"):
        emo.pain_points(alpha=1.5)


def test_delights_mirror_pain_points():
    log, texts, tagger = _contrast_case()
    delights = emotions(log, texts, tagger=tagger).delights()
    # review 54/60 positive vs 55/93 elsewhere; whatsapp_chat 48/60 vs 61/93
    assert delights["touchpoint"].tolist() == ["review", "whatsapp_chat"]
    z, p_review = _one_sided_p(54, 60, 6 + 48 + 1, 93)
    assert delights.iloc[0]["z"] == pytest.approx(z)
    _, p_chat = _one_sided_p(48, 60, 6 + 54 + 1, 93)
    _, p_delivery = _one_sided_p(6, 30, 54 + 48 + 1, 123)
    assert p_review < p_chat < 0.05 < p_delivery
    # BH over 3 tests: the second smallest p-value times 3 / 2 (below the largest's q)
    assert delights.iloc[1]["q_value"] == pytest.approx(p_chat * 3 / 2)
    assert p_chat * 3 / 2 < 0.05 < p_chat * 3


def test_quotes_are_diverse():
    log = jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": ["x"], "touchpoint": ["delivery"], "timestamp": ["2024-01-01"]}))
    texts = pd.DataFrame({
        "customer_id": ["a", "b", "a", "c", "d", "e"],
        "timestamp": ["2024-01-02"] * 6,
        "text": ["paket belum sampai sudah seminggu kecewa",      # best
                 "paket belum sampai sudah seminggu kecewa!!",    # near-duplicate of it
                 "kurir hilang tanpa kabar, parah",               # same customer as the best
                 "resi tidak update dari kemarin",
                 "Paket BELUM sampai, sudah seminggu. kecewa 😡",  # near-duplicate again
                 "barang datang penyok dan bocor"],
        "touchpoint": ["delivery"] * 6,
    })
    p_neg = [0.99, 0.98, 0.97, 0.9, 0.96, 0.8]
    table = {t: ("anger", "negative", p) for t, p in zip(texts["text"], p_neg, strict=True)}
    emo = emotions(log, texts, tagger=LookupTagger(table, probabilities=True))
    quotes = emo.quotes("delivery", n=3, sentiment="negative")
    assert quotes["text"].tolist() == ["paket belum sampai sudah seminggu kecewa",
                                       "resi tidak update dari kemarin",
                                       "barang datang penyok dan bocor"]
    assert quotes["customer_id"].is_unique
    words = [set(tokenize(t)) for t in quotes["text"]]
    for i in range(3):
        for j in range(i + 1, 3):
            assert len(words[i] & words[j]) / len(words[i] | words[j]) < 0.5
    assert emo.quotes("delivery", n=1)["text"].tolist() == [
        "paket belum sampai sudah seminggu kecewa"]


# --------------------------------------------------------------------------- phrases
def test_tokenize_normalises_slang_and_drops_emoji():
    assert tokenize("Gak bisa login, udh 3x 😡 yg bgt") == [
        "tidak", "bisa", "login", "sudah", "yang", "banget"]
    assert tokenize("krn blm dikirim dgn benar, tp ok") == [
        "karena", "belum", "dikirim", "dengan", "benar", "tapi", "ok"]


def test_phrases_find_the_complaint_in_indonesian_slang():
    corpus = {
        "delivery": ["pengiriman lama bgt kak 😡", "pengirimannya lamaaa bngt, kecewa",
                     "kok lama banget ya pengirimannya", "udh seminggu, lama bgt",
                     "paket blm sampai"],
        "review": ["kulit jadi lembab, suka", "lembab bgt di kulit", "bikin kulit lembab ✨",
                   "wanginya enak", "teksturnya ringan"],
    }
    texts = [t for ts in corpus.values() for t in ts]
    groups = [g for g, ts in corpus.items() for _ in ts]
    top = distinctive_phrases(texts, groups, n=3)
    delivery = top[top["group"] == "delivery"]
    assert delivery["phrase"].iloc[0] == "lama banget"
    assert delivery["texts"].iloc[0] == 4
    review = top[top["group"] == "review"]["phrase"].tolist()
    assert set(review[:2]) == {"kulit", "lembab"}  # 3 texts each
    assert not any("bgt" in p or "😡" in p for p in top["phrase"])


def test_phrases_by_stage_on_the_result(agg_log, agg_texts):
    texts = pd.concat([agg_texts] * 2, ignore_index=True)  # each phrase in two texts
    emo = emotions(agg_log, texts, tagger=LookupTagger(AGG_TABLE))
    phrases = emo.phrases("stage", n=2)
    assert phrases["stage"].tolist()[0] == "awareness"
    assert "iklan ganggu" in phrases[phrases["stage"] == "awareness"]["phrase"].tolist() or \
        "ganggu" in phrases[phrases["stage"] == "awareness"]["phrase"].tolist()


# --------------------------------------------------------------------------- ground truth
@pytest.fixture(scope="module")
def demo_emotions():
    demo = jm.datasets.load_demo()
    texts = demo.texts
    # The generator's own intended labels (not a model), as a deterministic tagger.
    labels = texts.drop_duplicates("text").set_index("text")[["emotion", "sentiment"]]
    table = {t: (e, s) for t, (e, s) in labels.iterrows()}
    truth = demo.truth
    emo = emotions(demo.log, texts.drop(columns=["emotion", "sentiment"]),
                   tagger=LookupTagger(table), personas=truth.personas)
    return demo, emo


def test_demo_pain_points_are_the_planted_problems(demo_emotions):
    demo, emo = demo_emotions
    assert emo.summary["linked"] == len(demo.texts)  # every demo text has a known touchpoint
    pains = emo.pain_points()
    negative = demo.truth.negative_touchpoint
    assert negative == "customer_support"
    # Exactly the touchpoints the generator made painful: the negative touchpoint, the
    # slow delivery (bottleneck payment -> delivery) and the app -> web drop-off page.
    assert set(pains["touchpoint"]) == {negative, demo.truth.bottleneck[1],
                                        "website_product_page"}
    row = pains.set_index("touchpoint").loc[negative]
    assert row["risk_ratio"] > 2 and row["q_value"] < 1e-10
    assert row["share"] > 0.8  # the generator's 82% negative support chats
    assert len(row["quotes"]) == 3
    assert len({q["customer_id"] for q in row["quotes"]}) == 3
    assert set(emo.delights()["touchpoint"]) == {"review", "store_purchase", "loyalty_program"}
    curve = emo.curve().dropna(subset=["mean_sentiment"])
    assert curve.loc[curve["mean_sentiment"].idxmin(), "stage"] == "retention"


# --------------------------------------------------------------------------- output
def test_repr_dict_and_html(agg_log, agg_texts):
    emo = emotions(agg_log, agg_texts, tagger=LookupTagger(AGG_TABLE))
    assert repr(emo) == "JourneyEmotions(5 texts, 5 linked, 2 touchpoints, mean sentiment +0.00)"
    assert "\n" not in repr(emo)
    data = json.loads(json.dumps(emo.to_dict(), allow_nan=False))
    assert data["summary"]["texts"] == 5
    assert [r["stage"] for r in data["curve"]] == list(jm.STAGES)
    assert set(data) >= {"by_touchpoint", "by_stage", "pain_points", "delights", "unlinked",
                         "phrases_touchpoint", "phrases_stage"}
    page = render_emotions(emo)
    assert "<svg" in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<b>purchase</b>" in page and "jm-emotions" in emo._repr_html_()
    assert list(emo.to_frame().columns[:3]) == ["customer_id", "timestamp", "text"]
    assert SENTIMENT_LABELS == ("positive", "neutral", "negative")


def test_save_writes_three_files_or_none(agg_log, agg_texts, tmp_path, monkeypatch):
    emo = emotions(agg_log, agg_texts, tagger=LookupTagger(AGG_TABLE))
    written = emo.save(tmp_path / "out")
    assert [p.name for p in written] == ["emotions.html", "emotions.json", "tagged_texts.csv"]
    assert emo.to_html() == written[0].read_text("utf-8")
    (tmp_path / "file").write_text("keep")
    with pytest.raises(jm.exceptions.OutputError, match="is a file"):
        emo.save(tmp_path / "file")
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        emo.save(tmp_path / "new")
    assert not (tmp_path / "new").exists() and (tmp_path / "file").read_text() == "keep"


@pytest.mark.browser
def test_run_emotions_writes_files_atomically_and_renders(tmp_path):
    log, texts, tagger = _contrast_case(first="<script>alert('x')</script> paket hilang")
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pandas or numpy warnings on the way
        emo = run_emotions(log, texts, out, tagger=tagger)
    assert sorted(p.name for p in out.iterdir()) == ["emotions.html", "emotions.json",
                                                     "tagged_texts.csv"]
    assert json.loads((out / "emotions.json").read_text())["summary"]["linked"] == 153
    tagged = pd.read_csv(out / "tagged_texts.csv")
    assert len(tagged) == 153 and {"link", "stage", "sentiment"} <= set(tagged.columns)
    dom = dump_dom(out / "emotions.html")
    assert "Emotion curve" in dom and 'id="pain-points"' in dom
    assert dom.count('class="stage-point"') == 3  # awareness has no texts in this case
    assert "delivery" in dom and emo.summary["texts"] == 153
    page = (out / "emotions.html").read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(&#39;x&#39;)" in page  # quoted
    assert "<script>alert" not in dom
    assert "<script>alert" not in emo._repr_html_()
