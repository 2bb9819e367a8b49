"""Tests of journeymine.datasets: the journey generator and the bundled demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeymine import STAGES, EventLog, StageMap
from journeymine.datasets import (
    TOUCHPOINTS,
    JourneyTruth,
    load_demo,
    make_journeys,
)
from journeymine.datasets._demo import DEMO_FILES
from journeymine.datasets._generator import _journeys_frame
from journeymine.exceptions import InvalidParameterError, JourneymineError

ROOT = Path(__file__).resolve().parents[2]
RANK = {s: i for i, s in enumerate(STAGES)}
CONVERSION = ("payment", "store_purchase")


# --------------------------------------------------------------------------- helpers
def frame(n: int = 2000, seed: int = 0, **kw) -> tuple[pd.DataFrame, JourneyTruth]:
    log, truth = make_journeys(n, random_state=seed, return_truth=True, **kw)
    df = log.to_pandas().rename(columns={"activity": "touchpoint"})
    return df.sort_values(["customer_id", "event_index"]), truth


def bottlenecks(df: pd.DataFrame) -> pd.DataFrame:
    """The reference metric: customers on edge x median seconds, forward edges only."""
    df = df.sort_values(["customer_id", "timestamp"], kind="stable")
    nxt = df.groupby("customer_id")[["touchpoint", "timestamp", "stage"]].shift(-1)
    e = pd.DataFrame({
        "customer": df["customer_id"], "a": df["touchpoint"], "b": nxt["touchpoint"],
        "fwd": nxt["stage"].map(RANK) >= df["stage"].map(RANK),
        "seconds": (nxt["timestamp"] - df["timestamp"]).dt.total_seconds(),
    }).dropna(subset=["b"])
    e = e[e["fwd"]]
    g = e.groupby(["a", "b"]).agg(customers=("customer", "nunique"),
                                  median=("seconds", "median"))
    g = g[g["customers"] >= max(5, 0.005 * df["customer_id"].nunique())]
    g["impact"] = g["customers"] * g["median"]
    return g.sort_values("impact", ascending=False)


def converted(df: pd.DataFrame) -> pd.Series:
    return df.groupby("customer_id")["touchpoint"].agg(lambda s: s.isin(CONVERSION).any())


def exit_rates(df: pd.DataFrame) -> pd.Series:
    last = df.groupby("customer_id")["touchpoint"].last().value_counts()
    counts = df["touchpoint"].value_counts()
    return last.reindex(counts.index, fill_value=0) / counts


def switch_customers(df: pd.DataFrame, truth: JourneyTruth) -> pd.Index:
    """Customers who moved from the truth's from-channel to its to-channel at the drop-off."""
    prev = df.groupby("customer_id")["channel"].shift(1)
    hit = ((prev == truth.channel_switch[0]) & (df["channel"] == truth.channel_switch[1])
           & (df["touchpoint"] == truth.dropoff_touchpoint))
    return pd.Index(df.loc[hit, "customer_id"].unique())


@pytest.fixture(scope="module")
def default() -> tuple[pd.DataFrame, JourneyTruth]:
    return frame(2000, 0)


@pytest.fixture(scope="module")
def demo():
    return load_demo()


# --------------------------------------------------------------------------- generator
def test_returns_eventlog_with_expected_columns(default):
    log = make_journeys(50, random_state=1)
    assert isinstance(log, EventLog)
    df, _ = default
    assert {"customer_id", "touchpoint", "timestamp", "channel", "stage", "revenue"} <= set(
        df.columns)
    assert "persona" not in df.columns
    assert df["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert set(df["touchpoint"]) <= {tp for tp, _, _ in TOUCHPOINTS}
    assert set(df["stage"]) <= set(STAGES)
    assert set(df["channel"]) == {"social", "search", "web", "app", "marketplace", "chat",
                                  "store"}
    assert str(df["timestamp"].dt.tz) == "UTC"
    assert df["timestamp"].min() >= pd.Timestamp("2025-01-01", tz="UTC")


def test_stage_and_channel_follow_touchpoint_table(default):
    df, _ = default
    table = {tp: (stage, ch) for tp, stage, ch in TOUCHPOINTS}
    assert (df["stage"] == df["touchpoint"].map(lambda t: table[t][0])).all()
    fixed = df["touchpoint"].map(lambda t: table[t][1])
    has_fixed = fixed.notna()
    assert (df.loc[has_fixed, "channel"] == fixed[has_fixed]).all()
    assert set(df.loc[~has_fixed, "channel"]) <= {"web", "app", "marketplace"}


def test_revenue_only_on_sales_in_idr(default):
    df, _ = default
    sales = df["touchpoint"].isin(["payment", "store_purchase", "repurchase"])
    assert df.loc[~sales, "revenue"].isna().all()
    rev = df.loc[sales, "revenue"]
    assert rev.notna().all() and (rev >= 25_000).all() and (rev % 1000 == 0).all()
    assert 50_000 < rev.median() < 600_000


def test_same_seed_same_frame_different_seed_differs():
    a, ta = _journeys_frame(300, 42, "2025-01-01", 4, 0.15)
    b, tb = _journeys_frame(300, 42, "2025-01-01", 4, 0.15)
    c, _ = _journeys_frame(300, 43, "2025-01-01", 4, 0.15)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(ta.personas, tb.personas)
    assert not a.equals(c)
    la, lb = make_journeys(300, random_state=7), make_journeys(300, random_state=7)
    assert la.table.equals(lb.table)


def test_generator_accepts_numpy_generator():
    log = make_journeys(100, random_state=np.random.default_rng(3))
    assert log.n_customers == 100


@pytest.mark.parametrize("n", [1, 10, 2000])
def test_sizes(n):
    df, truth = _journeys_frame(n, 0, "2025-01-01", 4, 0.15)
    assert df["customer_id"].nunique() == n == len(truth.personas)
    lengths = df.groupby("customer_id").size()
    assert lengths.min() >= 1 and lengths.max() <= 40
    if n == 2000:
        assert 6 <= lengths.mean() <= 14
        assert (lengths == 1).any() and lengths.max() >= 30
        assert 0.01 < (lengths == 1).mean() < 0.2


def test_journeys_loop(default):
    df, _ = default
    nxt = df.groupby("customer_id")["touchpoint"].shift(-1)
    self_loops = (nxt == df["touchpoint"]).sum()
    ping = ((df["touchpoint"] == "website_product_page") & (nxt == "whatsapp_chat")).sum()
    pong = ((df["touchpoint"] == "whatsapp_chat") & (nxt == "website_product_page")).sum()
    assert self_loops > 100 and ping > 50 and pong > 50


def test_time_gaps_are_realistic(default):
    df, _ = default
    nxt = df.groupby("customer_id")[["touchpoint", "timestamp"]].shift(-1)
    gap = (nxt["timestamp"] - df["timestamp"]).dt.total_seconds()
    assert (gap.dropna() > 0).all()  # strictly increasing per customer: no duplicates
    edge = df["touchpoint"] + ">" + nxt["touchpoint"]
    med = gap.groupby(edge).median()
    assert med["checkout>payment"] < 3600  # minutes within a session
    assert 3600 * 24 < med["repurchase>delivery"] < 4 * 86400  # a normal delivery
    assert med["payment>delivery"] > 2 * med["repurchase>delivery"]  # the planted one
    assert med["review>repurchase"] > 14 * 86400  # weeks before buying again


def test_personas_present_with_sensible_shares(default):
    df, truth = default
    assert truth.persona_names == (
        "social_impulse", "careful_researcher", "app_bargain_hunter", "offline_loyalist")
    shares = truth.personas.value_counts(normalize=True)
    assert set(shares.index) == set(truth.persona_names)
    assert shares.between(0.12, 0.45).all()
    assert set(truth.personas.index) == set(df["customer_id"])


def test_personas_behave_differently(default):
    df, truth = default
    persona = df["customer_id"].map(truth.personas)
    ch = pd.crosstab(persona, df["channel"], normalize="index")
    assert ch.loc["offline_loyalist", "store"] == ch["store"].max()
    assert ch.loc["app_bargain_hunter", "app"] == ch["app"].max()
    assert ch.loc["social_impulse", "marketplace"] == ch["marketplace"].max()
    assert ch.loc["careful_researcher", "search"] == ch["search"].max()
    conv = converted(df).groupby(truth.personas).mean()
    assert conv["app_bargain_hunter"] == conv.min()
    lengths = df.groupby("customer_id").size().groupby(truth.personas).mean()
    assert lengths["careful_researcher"] == lengths.max()


def test_personas_overlap_but_zero_overlap_is_cleaner():
    def store_share_of_impulse(overlap):
        df, truth = _journeys_frame(3000, 5, "2025-01-01", 4, overlap)
        persona = df["customer_id"].map(truth.personas)
        return (df.loc[persona == "social_impulse", "channel"] == "store").mean()

    assert store_share_of_impulse(0.0) < store_share_of_impulse(0.15) < \
        store_share_of_impulse(0.6)


@pytest.mark.parametrize("k", [2, 5, 6])
def test_n_personas(k):
    _, truth = _journeys_frame(600, 1, "2025-01-01", k, 0.15)
    assert len(truth.persona_names) == k
    assert set(truth.personas.unique()) == set(truth.persona_names)


@pytest.mark.parametrize("kwargs", [
    {"n_customers": 0}, {"n_customers": 2.5}, {"n_customers": True}, {"n_personas": 1},
    {"n_personas": 7}, {"overlap": -0.1}, {"overlap": 1.5}, {"start": "not a date"},
])
def test_invalid_parameters_raise_specific_error(kwargs):
    with pytest.raises(InvalidParameterError) as info:
        make_journeys(**{"n_customers": 10, **kwargs})
    assert isinstance(info.value, JourneymineError) and isinstance(info.value, ValueError)
    assert "Expected" in str(info.value) and "Fix" in str(info.value)


def test_start_parameter_moves_the_window():
    df, _ = _journeys_frame(200, 0, "2024-06-01", 4, 0.15)
    assert df["timestamp"].min() >= pd.Timestamp("2024-06-01", tz="UTC")
    assert df["timestamp"].min() < pd.Timestamp("2024-07-01", tz="UTC")


# --------------------------------------------------------------------------- planted truth
@pytest.mark.parametrize("n", [2000, 20000])
def test_planted_bottleneck_is_top_for_every_seed(n):
    for seed in range(10):
        df, truth = _journeys_frame(n, seed, "2025-01-01", 4, 0.15)
        ranked = bottlenecks(df)
        assert ranked.index[0] == truth.bottleneck, (seed, ranked.head(3))
        assert ranked["impact"].iloc[0] > 2 * ranked["impact"].iloc[1], (seed, ranked.head(3))


def test_dropoff_touchpoint_in_top3_non_converting_ends():
    for seed in range(10):
        df, truth = _journeys_frame(2000, seed, "2025-01-01", 4, 0.15)
        conv = converted(df)
        last = df.groupby("customer_id")["touchpoint"].last()
        ends = last[~conv].value_counts()
        assert truth.dropoff_touchpoint in ends.index[:3], (seed, ends.head(5))


def test_negative_touchpoint_has_higher_exit_rate(default):
    df, truth = default
    rates = exit_rates(df)
    assert rates[truth.negative_touchpoint] > rates.mean() + 0.2
    assert rates[truth.negative_touchpoint] == rates.max()


def test_channel_switch_customers_convert_less(default):
    df, truth = default
    conv = converted(df)
    switched = switch_customers(df, truth)
    assert len(switched) > 50
    assert conv[switched].mean() < 0.6 * conv.drop(switched).mean()
    # and they leave right at the drop-off touchpoint
    last = df.groupby("customer_id")["touchpoint"].last()
    assert (last[switched] == truth.dropoff_touchpoint).mean() > 0.5


def test_truth_object(default):
    _, truth = default
    assert truth.bottleneck == ("payment", "delivery")
    assert truth.negative_touchpoint == "customer_support"
    assert truth.dropoff_touchpoint == "website_product_page"
    assert truth.channel_switch == ("app", "web")
    assert truth.conversion_touchpoints == CONVERSION
    text = truth.describe()
    assert "payment -> delivery" in text and "customer_support" in text
    assert repr(truth).startswith("JourneyTruth(2,000 customers")
    d = truth.to_dict()
    assert d["n_customers"] == 2000 and abs(sum(d["persona_shares"].values()) - 1) < 1e-6
    with pytest.raises(AttributeError):
        truth.bottleneck = ("a", "b")  # frozen


# --------------------------------------------------------------------------- demo
def test_load_demo_shapes_and_types(demo):
    assert repr(demo).startswith("DemoData(")
    assert demo.log.n_customers == demo.events["customer_id"].nunique() == 3200
    assert 28_000 <= len(demo.events) <= 40_000
    assert list(demo.events.columns) == [
        "customer_id", "touchpoint", "timestamp", "channel", "stage", "revenue"]
    assert str(demo.events["timestamp"].dt.tz) == "UTC"
    assert demo.events["revenue"].dtype == float
    assert list(demo.texts.columns[:8]) == [
        "customer_id", "timestamp", "touchpoint", "channel", "text", "rating", "language",
        "kind"]
    assert set(demo.texts["language"]) == {"id", "en", "mixed"}
    assert set(demo.texts["kind"]) == {"review", "chat", "nps"}
    ratings = demo.texts["rating"].dropna()
    assert ratings.between(1, 5).all() and (ratings == ratings.round()).all()
    assert demo.texts.loc[demo.texts["kind"] == "review", "rating"].notna().all()
    assert demo.texts["text"].str.len().gt(0).all()
    assert list(demo.nps.columns[[0, 1]]) == ["customer_id", "timestamp"]
    assert demo.nps["score"].between(0, 10).all()
    assert isinstance(demo.stages, StageMap) and len(demo.stages) == len(TOUCHPOINTS)
    assert demo.log.stage_map()["store_purchase"] == "purchase"
    assert demo.keys()[0] == "log" and demo["events"] is demo.events
    assert "CC0" in demo.description


def test_demo_truth_matches_events(demo):
    df = demo.events
    assert set(demo.truth.personas.index) == set(df["customer_id"])
    assert bottlenecks(df).index[0] == demo.truth.bottleneck
    conv = converted(df)
    last = df.groupby("customer_id")["touchpoint"].last()
    assert demo.truth.dropoff_touchpoint in last[~conv].value_counts().index[:3]


def test_stage_yaml_uses_indonesian_aliases(demo):
    text = (ROOT / "journeymine/datasets/data/stages.yaml").read_text(encoding="utf-8")
    assert "kesadaran:" in text and "pembelian:" in text and "consideration:" in text
    assert demo.stages["instagram_ad"] == "awareness"
    assert demo.stages["review"] == "advocacy"
    assert all(demo.stages[tp] == stage for tp, stage, _ in TOUCHPOINTS)


def test_designed_journey(demo):
    journey = demo.designed_journey
    assert journey[0] == "instagram_ad" and "checkout" in journey and "payment" in journey
    ranks = [demo.stages.rank(tp) for tp in journey]
    assert ranks == sorted(ranks)
    assert set(journey) <= set(demo.events["touchpoint"])


def test_every_text_customer_exists(demo):
    customers = set(demo.events["customer_id"])
    assert set(demo.texts["customer_id"]) <= customers
    assert set(demo.nps["customer_id"]) <= customers
    assert set(demo.texts["touchpoint"]) <= set(demo.events["touchpoint"])


def test_texts_are_indonesian_slang_english_and_mixed(demo):
    text = " ".join(demo.texts["text"]).lower()
    for slang in ("bgt", "gak", "udh", "kak", "min", "ori", "cepet", "lama bgt"):
        assert slang in text, slang
    assert any(e in text for e in ("😍", "😭", "🙏", "😡"))
    en = demo.texts.loc[demo.texts["language"] == "en", "text"]
    assert en.str.contains(r"\b(?:the|my|is|and)\b", case=False).mean() > 0.5
    assert demo.texts["language"].value_counts(normalize=True)["id"] > 0.5
    assert demo.texts["text"].nunique() > 600


def test_text_polarity_follows_truth(demo):
    neg = (demo.texts["sentiment"] == "negative").groupby(demo.texts["touchpoint"]).mean()
    assert neg[demo.truth.negative_touchpoint] > 0.75
    assert neg[demo.truth.negative_touchpoint] == neg.max() or \
        neg.idxmax() == demo.truth.dropoff_touchpoint
    # the bottleneck edge collects "lama" complaints at its target touchpoint
    waiting = demo.texts[(demo.texts["touchpoint"] == demo.truth.bottleneck[1])
                         & (demo.texts["kind"] == "chat")]
    assert len(waiting) > 100 and (waiting["sentiment"] == "negative").all()
    about_wait = waiting["text"].str.contains(
        "lama|hari|days|resi|dikirim|dikemas|diproses|dipercepat|paket", case=False)
    assert about_wait.mean() > 0.9
    reviews = demo.texts[demo.texts["kind"] == "review"]
    assert reviews["text"].str.contains(r"lama (?:banget|bgt|bngt)", case=False).sum() > 20
    pos = demo.texts[demo.texts["touchpoint"] == "loyalty_program"]["sentiment"]
    assert (pos == "positive").all()
    emotions = set(demo.texts["emotion"])
    assert {"joy", "love", "surprise", "anger", "disgust", "fear", "sadness",
            "neutral"} <= emotions


def test_bundled_files_match_build_script(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "datasets" / "build_demo.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    bundled = ROOT / "journeymine" / "datasets" / "data"
    for name in DEMO_FILES:
        assert (tmp_path / name).read_bytes() == (bundled / name).read_bytes(), name
    total = sum((bundled / n).stat().st_size for n in DEMO_FILES)
    assert total < 3 * 1024 * 1024
