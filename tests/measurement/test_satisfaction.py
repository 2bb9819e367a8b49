"""jm.satisfaction: NPS/CSAT by hand, linking to journeys, the outcome link, coverage, bad input."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeymine as jm
from journeymine._util._stats import newcombe_interval, wilson_interval
from journeymine.exceptions import (
    ColumnNotFoundError,
    InvalidParameterError,
    ScoreError,
    UnknownCustomerError,
    UnknownTouchpointError,
)
from journeymine.measurement._scores import nps_interval

DAY = pd.Timedelta(days=1)
START = pd.Timestamp("2024-01-01", tz="UTC")


def at(day: float) -> pd.Timestamp:
    return START + day * DAY


# --------------------------------------------------------------------------- hand-made log
# Three customers (days in brackets), stages guessed from the names:
#   a: instagram_ad(0) checkout(1) delivery(3) repurchase(20)
#   b: instagram_ad(0) checkout(2) delivery(5) customer_support(6)
#   c: website(0) checkout(1)
@pytest.fixture(scope="module")
def log() -> jm.EventLog:
    rows = [("a", "instagram_ad", "social", 0), ("a", "checkout", "web", 1),
            ("a", "delivery", "courier", 3), ("a", "repurchase", "web", 20),
            ("b", "instagram_ad", "social", 0), ("b", "checkout", "app", 2),
            ("b", "delivery", "courier", 5), ("b", "customer_support", "whatsapp", 6),
            ("c", "website", "web", 0), ("c", "checkout", "web", 1)]
    return jm.EventLog.from_pandas(pd.DataFrame(
        rows, columns=["customer_id", "touchpoint", "channel", "day"]).assign(
        timestamp=lambda d: START + d["day"] * DAY).drop(columns="day"),
        stages={"awareness": ["instagram_ad", "website"], "purchase": ["checkout"],
                "retention": ["delivery", "repurchase", "customer_support"]})


@pytest.fixture
def answers() -> pd.DataFrame:
    # a: 10 on delivery (touchpoint given)      -> delivery, retention, courier
    # b: 2, no touchpoint, day 6.5              -> nearest event customer_support (day 6)
    # c: 7, no touchpoint, day 30               -> last event day 1, older than 7 days: unlinked
    # d: 9, not a customer of the log           -> unlinked (unknown customer)
    # a: 6 on "gudang" (not a touchpoint)       -> unlinked (unknown touchpoint)
    return pd.DataFrame({
        "Pelanggan": ["a", "b", "c", "d", "a"],
        "Waktu": [at(4), at(6.5), at(30), at(2), at(4)],
        "Skor": [10, 2, 7, 9, 6],
        "touchpoint": ["delivery", None, None, None, "gudang"],
        "komentar": ["cepat!", "CS lama bgt", "", "ok", "<b>lama</b>"],
    })


def test_answers_are_linked_to_the_journey_by_hand(log, answers):
    s = jm.satisfaction(log, answers, min_answers=1, outcome=False)
    a = s.answers
    assert a["customer_id"].tolist() == ["a", "b", "c", "d", "a"]
    assert a["touchpoint"].tolist()[:2] == ["delivery", "customer_support"]
    assert a["stage"].tolist()[:2] == ["retention", "retention"]
    assert a["channel"].tolist()[:2] == ["courier", "whatsapp"]
    assert a["link"].tolist()[:2] == ["touchpoint", "nearest_event"]
    assert a["unlinked_reason"].tolist()[2:] == ["outside_window", "unknown_customer",
                                                  "unknown_touchpoint"]
    assert a["category"].tolist() == ["promoter", "detractor", "passive", "promoter",
                                      "detractor"]
    assert a["comment"].tolist()[1] == "CS lama bgt"
    assert dict(zip(s.unlinked["reason"], s.unlinked["answers"], strict=True)) == {
        "unknown_customer": 1, "unknown_touchpoint": 1, "outside_window": 1}
    assert s.summary["linked"] == 2 and s.summary["unlinked"] == 3
    assert s.summary["unknown_customers"] == 1
    # all 5 answers: promoters 2, detractors 2 -> NPS 0; linked retention: 10 and 2 -> 0
    overall = s.by("all").iloc[0]
    assert (overall["n_answers"], overall["promoters"], overall["detractors"]) == (5, 2, 2)
    assert overall["nps"] == 0
    stage = s.by("stage")
    assert stage["stage"].tolist() == ["retention"]
    assert stage[["n_answers", "promoters", "detractors", "nps"]].iloc[0].tolist() == [2, 1, 1, 0]
    assert s.by("channel")["channel"].tolist() == ["courier", "whatsapp"]
    # a window of 30 days reaches c's checkout (29 days before)
    wide = jm.satisfaction(log, answers, min_answers=1, window="30D", outcome=False)
    assert wide.answers.loc[2, "touchpoint"] == "checkout"
    assert wide.by("stage")["stage"].tolist() == ["purchase", "retention"]


def test_input_is_left_unchanged(log, answers):
    before = answers.copy()
    jm.satisfaction(log, answers, min_answers=1)
    with pytest.raises(ScoreError):
        jm.satisfaction(log, answers.assign(Skor=[10, 2, 7, 9, 11]), kind="nps")
    pd.testing.assert_frame_equal(answers, before)


# --------------------------------------------------------------------------- NPS, CSAT, mean
def _answers(scores, customers=None) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame({"customer_id": customers or ["a"] * n, "timestamp": [at(4)] * n,
                         "score": scores})


def test_nps_by_hand(log):
    # 3 promoters, 2 passives, 5 detractors: NPS = 100 * (3 - 5) / 10 = -20
    scores = [9, 10, 10, 7, 8, 0, 3, 5, 6, 6]
    s = jm.satisfaction(log, _answers(scores), kind="nps")
    row = s.by("all").iloc[0]
    assert (row["promoters"], row["passives"], row["detractors"]) == (3, 2, 5)
    assert row["nps"] == pytest.approx(-20)
    assert row["share_promoters"] == pytest.approx(0.3)
    assert row["share_detractors"] == pytest.approx(0.5)
    # adjusted Wald: p+ = 3.75/13, p- = 5.75/13, centre -2/13, variance (9.5/13 - (2/13)^2)/13
    centre, var = -2 / 13, (9.5 / 13 - (2 / 13) ** 2) / 13
    assert row["nps_low"] == pytest.approx(100 * (centre - 1.959964 * var**0.5), abs=1e-4)
    assert row["nps_high"] == pytest.approx(100 * (centre + 1.959964 * var**0.5), abs=1e-4)
    assert row["mean_score"] == pytest.approx(6.4)
    assert s.headline() == "NPS -20 [-61, +30]"
    assert repr(s) == "Satisfaction(10 NPS answers, 10 linked, NPS -20 [-61, +30])"


def test_csat_share_threshold_and_mean_by_hand(log):
    scores = [5, 4, 3, 2, 5]
    s = jm.satisfaction(log, _answers(scores), kind="csat", min_answers=1)
    row = s.by("all").iloc[0]
    assert (row["satisfied"], row["csat"]) == (3, pytest.approx(0.6))  # 4-5 of 1-5
    low, high = wilson_interval(3, 5)
    assert (row["csat_low"], row["csat_high"]) == (pytest.approx(low), pytest.approx(high))
    assert s.threshold == 4 and s.scale == (1, 5)
    strict = jm.satisfaction(log, _answers(scores), kind="csat", threshold=5, min_answers=1)
    assert strict.by("all")["csat"].iloc[0] == pytest.approx(0.4)
    # mean 3.8, sd sqrt(1.7), t(0.975, 4) = 2.776445
    half = 2.776445 * 1.7**0.5 / 5**0.5
    assert row["mean_score"] == pytest.approx(3.8)
    assert row["mean_score_high"] - row["mean_score"] == pytest.approx(half, abs=1e-5)
    seven = jm.satisfaction(log, _answers([7, 6, 1, 5]), kind="csat", scale=(1, 7),
                            min_answers=1)
    assert seven.threshold == 6 and seven.by("all")["csat"].iloc[0] == pytest.approx(0.5)


def test_kind_auto(log):
    assert jm.satisfaction(log, _answers([0, 8, 9])).kind == "nps"
    assert jm.satisfaction(log, _answers([3, 8, 10])).kind == "nps"
    assert jm.satisfaction(log, _answers([1, 2, 5])).kind == "csat"
    rating = jm.satisfaction(log, _answers([4.5, 3.0, 5.0]), min_answers=1)
    assert rating.kind == "rating" and rating.metric == "mean_score"
    assert rating.summary["value"] == pytest.approx(12.5 / 3)
    with pytest.raises(ScoreError, match="Cannot tell the survey kind"):
        jm.satisfaction(log, _answers([1.5, 7.5]))


def test_minimum_cell_size_guard(log, answers):
    s = jm.satisfaction(log, answers, outcome=False)  # min_answers=10
    stage = s.by("stage").iloc[0]
    assert stage["n_answers"] == 2 and np.isnan(stage["nps"]) and np.isnan(stage["nps_low"])
    assert np.isnan(s.summary["value"])
    assert "n/a" in s.headline()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=1, max_size=60))
def test_nps_is_its_definition_and_its_interval_is_sane(scores):
    s = pd.Series(scores)
    promoters, detractors = int((s >= 9).sum()), int((s <= 6).sum())
    from journeymine.measurement._scores import Scale, aggregate

    scale = Scale("nps", 0, 10, None, "test")
    frame = pd.DataFrame({"customer_id": [str(i) for i in range(len(s))],
                          "score": s.astype(float), "category": scale.category(s)})
    row = aggregate(frame, pd.Series("all", index=frame.index), scale, 1).iloc[0]
    assert row["nps"] == pytest.approx(100 * (promoters - detractors) / len(s))
    assert row["promoters"] + row["passives"] + row["detractors"] == len(s)
    assert -100 <= row["nps_low"] <= row["nps_high"] <= 100
    # swapping promoters and detractors mirrors the interval
    low, high = nps_interval(detractors, promoters, len(s))
    assert (float(low), float(high)) == (pytest.approx(-row["nps_high"]),
                                         pytest.approx(-row["nps_low"]))


@pytest.mark.parametrize(("n", "p_promoter", "p_detractor"),
                         [(15, 0.5, 0.2), (40, 0.3, 0.3), (40, 0.75, 0.05), (200, 0.45, 0.25)])
def test_nps_interval_covers_the_true_nps_about_95_percent(n, p_promoter, p_detractor):
    """Seeded simulation: 4,000 trinomial samples per case."""
    rng = np.random.default_rng(12)
    counts = rng.multinomial(n, [p_promoter, 1 - p_promoter - p_detractor, p_detractor],
                             size=4000)
    low, high = nps_interval(counts[:, 0], counts[:, 2], n)
    truth = 100 * (p_promoter - p_detractor)
    coverage = np.mean((low <= truth) & (truth <= high))
    assert 0.93 <= coverage <= 0.985, coverage


# --------------------------------------------------------------------------- dimensions
def test_personas_from_a_series_or_a_fitted_model(log, answers):
    series = pd.Series({"a": "loyal", "b": "bargain"})
    s = jm.satisfaction(log, answers, personas=series, min_answers=1, outcome=False)
    assert s.dimensions == ("touchpoint", "stage", "channel", "persona")
    assert s.answers["persona"].tolist()[:2] == ["loyal", "bargain"]
    assert sorted(s.by("persona")["persona"]) == ["bargain", "loyal"]

    class Fitted:  # what a fitted PersonaModel exposes
        labels_ = pd.Series([0, 1], index=pd.Index(["a", "b"], name="customer_id"))

    m = jm.satisfaction(log, answers, personas=Fitted(), by="stage", min_answers=1,
                        outcome=False)
    assert m.dimensions == ("stage", "persona")
    assert m.answers["persona"].tolist()[:2] == [0, 1]

    class Named(Fitted):  # with persona cards, the ids are named
        personas_ = (SimpleNamespace(id=0, name="Social shoppers"),
                     SimpleNamespace(id=1, name="Store regulars"))

    named = jm.satisfaction(log, answers, personas=Named(), min_answers=1, outcome=False)
    assert named.answers["persona"].tolist()[:2] == ["Social shoppers", "Store regulars"]
    with pytest.raises(InvalidParameterError, match="needs personas"):
        jm.satisfaction(log, answers, by="persona")
    with pytest.raises(InvalidParameterError, match="Did you mean 'stage'"):
        jm.satisfaction(log, answers, by="stages")
    with pytest.raises(InvalidParameterError, match="dimension"):
        s.by("region")


# --------------------------------------------------------------------------- outcome link
def test_outcome_link_by_hand():
    # Five customers surveyed about delivery on day 10; a purchase ("repurchase") counts.
    #   d1 (score 2): repurchase day 15            -> outcome
    #   d2 (score 4): repurchase day 5, BEFORE      -> no outcome (only events after count)
    #   p1, p2 (9, 10): repurchase days 12, 40      -> outcome
    #   p3 (8): repurchase day 11                   -> outcome
    # low 1 of 2, rest 3 of 3: difference 0.5 - 1.0 = -0.5
    rows = []
    for c, buy in (("d1", 15), ("d2", 5), ("p1", 12), ("p2", 40), ("p3", 11)):
        rows += [(c, "checkout", 0), (c, "delivery", 8), (c, "repurchase", buy)]
    log = jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id", "touchpoint", "d"])
                                  .assign(timestamp=lambda d: START + d["d"] * DAY)
                                  .drop(columns="d"),
                                  stages={"purchase": ["checkout"],
                                          "retention": ["delivery", "repurchase"]})
    answers = pd.DataFrame({"customer_id": ["d1", "d2", "p1", "p2", "p3"],
                            "timestamp": [at(10)] * 5, "touchpoint": "delivery",
                            "score": [2, 4, 9, 10, 8]})
    s = jm.satisfaction(log, answers, kind="nps", outcome="repurchase", min_answers=1)
    assert s.answers["outcome"].tolist() == [True, False, True, True, True]
    row = s.outcome.set_index("stage").loc["retention"]
    assert (row["n_low_score"], row["outcome_low_score"], row["n_rest"],
            row["outcome_rest"]) == (2, 1, 3, 3)
    assert row["difference"] == pytest.approx(-0.5)
    low, high = newcombe_interval(3, 3, 1, 2)  # low-score rate minus the rest's
    assert (row["difference_low"], row["difference_high"]) == (pytest.approx(float(low)),
                                                               pytest.approx(float(high)))
    assert s.outcome["stage"].tolist() == ["retention", "all"]
    # within 10 days only: p2's day-40 repurchase no longer counts; the log ends on day 40,
    # so every answer (day 10) has its full 10 days
    short = jm.satisfaction(log, answers, kind="nps", outcome="repurchase", horizon="10D",
                            min_answers=1)
    assert short.answers["outcome"].tolist() == [True, False, True, False, True]
    assert short.summary["censored"] == 0
    # a 40-day horizon passes the end of the log (day 40) for every answer: all censored
    long = jm.satisfaction(log, answers, kind="nps", outcome="repurchase", horizon="40D",
                           min_answers=1)
    assert long.summary["censored"] == 5 and long.outcome["n_rest"].sum() == 0
    # churn: any later event; d2 has none after day 10
    churn = jm.satisfaction(log, answers, kind="nps", outcome="any", min_answers=1)
    assert churn.answers["outcome"].tolist() == [True, False, True, True, True]
    # the default outcome: a later purchase-stage event (checkout) -- none here
    default = jm.satisfaction(log, answers, kind="nps", min_answers=1)
    assert default.summary["outcome"] == ["checkout"] and not default.answers["outcome"].any()
    with pytest.raises(UnknownTouchpointError, match="Did you mean 'repurchase'"):
        jm.satisfaction(log, answers, outcome="repurchse")


def _planted(n: int, rate_low: float, rate_rest: float, seed: int):
    """Customers surveyed after delivery; detractors (a third) repurchase at ``rate_low``."""
    rng = np.random.default_rng(seed)
    low = rng.random(n) < 1 / 3
    score = np.where(low, rng.integers(0, 7, n), rng.integers(7, 11, n))
    buys = rng.random(n) < np.where(low, rate_low, rate_rest)
    events, answers = [], []
    for i in range(n):
        c = f"c{i:04d}"
        events += [(c, "checkout", 0.0), (c, "delivery", 2.0)]
        if buys[i]:
            events.append((c, "repurchase", 5 + 50 * rng.random()))
        if rng.random() < 0.5:  # a purchase before the survey never counts
            events.append((c, "repurchase", 1.0))
        answers.append((c, at(3), "delivery", int(score[i])))
    log = jm.EventLog.from_pandas(
        pd.DataFrame(events, columns=["customer_id", "touchpoint", "d"]).assign(
            timestamp=lambda d: START + d["d"] * DAY).drop(columns="d"),
        stages={"purchase": ["checkout"], "retention": ["delivery", "repurchase"]})
    return log, pd.DataFrame(answers, columns=["customer_id", "timestamp", "touchpoint", "nps"])


def test_outcome_link_finds_a_planted_effect_and_no_effect_where_none_was_planted():
    log, answers = _planted(900, 0.15, 0.45, seed=3)
    row = jm.satisfaction(log, answers, outcome="repurchase").outcome.set_index(
        "stage").loc["retention"]
    assert row["difference_low"] <= -0.30 <= row["difference_high"]
    assert row["difference_high"] < 0 and row["q_value"] < 0.001
    misses = 0
    for seed in range(5):
        log, answers = _planted(400, 0.3, 0.3, seed=seed)
        row = jm.satisfaction(log, answers, outcome="repurchase").outcome.set_index(
            "stage").loc["retention"]
        misses += not row["difference_low"] <= 0 <= row["difference_high"]
    assert misses <= 1


# --------------------------------------------------------------------------- bad input
def test_bad_scores_and_columns(log):
    with pytest.raises(ScoreError, match="not a number"):
        jm.satisfaction(log, _answers([9, "sepuluh", "N/A"]))
    with pytest.raises(ScoreError, match=r"outside 0-10 \(e.g. 11\)"):
        jm.satisfaction(log, _answers([9, 11]), kind="nps")
    with pytest.raises(ScoreError, match="outside 1-5"):
        jm.satisfaction(log, _answers([0, 4]), kind="csat")
    with pytest.raises(ScoreError, match="not whole numbers"):
        jm.satisfaction(log, _answers([7.5, 9]), kind="nps")
    with pytest.raises(ColumnNotFoundError, match="No score column"):
        jm.satisfaction(log, _answers([9]).rename(columns={"score": "jawaban"}))
    with pytest.raises(UnknownCustomerError, match="None of the 2 answers"):
        jm.satisfaction(log, _answers([9, 3], customers=["x", "y"]))


def test_bad_parameters(log):
    good = _answers([9, 3])
    with pytest.raises(InvalidParameterError, match="Did you mean 'nps'"):
        jm.satisfaction(log, good, kind="npss")
    with pytest.raises(InvalidParameterError, match="does not apply to NPS"):
        jm.satisfaction(log, good, kind="nps", threshold=8)
    with pytest.raises(InvalidParameterError, match="scale"):
        jm.satisfaction(log, good, kind="rating", scale=(5, 1))
    with pytest.raises(InvalidParameterError, match="threshold"):
        jm.satisfaction(log, _answers([4, 5]), kind="csat", threshold=9)
    with pytest.raises(InvalidParameterError, match="window"):
        jm.satisfaction(log, good, window=7)
    with pytest.raises(InvalidParameterError, match="min_answers"):
        jm.satisfaction(log, good, min_answers=0)
    with pytest.raises(jm.JourneymineError, match="needs an EventLog"):
        jm.satisfaction(good, good)


# --------------------------------------------------------------------------- demo and views
@pytest.fixture(scope="module")
def demo_result():
    demo = jm.datasets.load_demo()
    return demo, jm.satisfaction(demo.log, demo.nps)


def test_demo_nps_matches_a_direct_count(demo_result):
    demo, s = demo_result
    scores = demo.nps["score"]
    direct = 100 * ((scores >= 9).mean() - (scores <= 6).mean())
    assert s.summary["value"] == pytest.approx(direct)
    assert s.summary["linked"] == len(demo.nps)  # every answer names its touchpoint
    by_tp = s.by("touchpoint").set_index("touchpoint")
    for tp, group in demo.nps.groupby("touchpoint"):
        g = group["score"]
        assert by_tp.loc[tp, "nps"] == pytest.approx(100 * ((g >= 9).mean() - (g <= 6).mean()))
    # the planted slow deliveries and support contacts make delivery the worse touchpoint
    assert by_tp.loc["delivery", "nps_high"] < by_tp.loc["store_purchase", "nps_low"]
    assert list(s.outcome["stage"]) == ["purchase", "retention", "all"]


def test_views_export_and_plot(demo_result):
    _, s = demo_result
    payload = json.loads(json.dumps(s.to_dict()))
    assert payload["format"] == {"name": "journeymine.satisfaction", "version": 1}
    assert payload["kind"] == "nps" and len(payload["table"]) == len(s.table)
    frame = s.to_frame()
    frame.loc[0, "nps"] = 0
    assert s.table.loc[0, "nps"] != 0  # a copy
    assert "<table>" in s._repr_html_() and "retention" in s._repr_html_()
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ax = s.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["retention", "purchase"]
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_html_escapes_user_text(log):
    answers = pd.DataFrame({"customer_id": ["a"], "timestamp": [at(4)], "score": [9],
                            "touchpoint": ["delivery"]})
    personas = pd.Series({"a": "<script>x</script>"})
    s = jm.satisfaction(log, answers, personas=personas, by="persona", min_answers=1)
    assert "<script>" not in s._repr_html_()
