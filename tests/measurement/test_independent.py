"""Measurement on a log journeymine's generators did not make (tests/personas/_independent.py).

The visit-graph generator has long multi-visit histories, noise touchpoints and
channels drawn per event, unlike ``make_journeys``. Each test plants one
effect in it and checks that the method finds that effect, and nothing where
nothing was planted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeymine as jm
from tests.personas._independent import make_log

ROLES = dict(customer="customer_id", activity="touchpoint", timestamp="timestamp",
             channel="channel", revenue="revenue")


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return make_log("mixed", 1500, random_state=3)[0]


def cut_after_switch(df: pd.DataFrame, pair: tuple[str, str], share: float,
                     seed: int) -> pd.DataFrame:
    """Drop every event after a customer's first ``pair`` switch, for ``share`` of them."""
    df = df.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
    same = df["customer_id"].eq(df["customer_id"].shift())
    switch = same & df["channel"].shift().eq(pair[0]) & df["channel"].eq(pair[1])
    first = df.index.to_series()[switch].groupby(df["customer_id"][switch]).min()
    cut = first[np.random.default_rng(seed).random(len(first)) < share]
    at = df["customer_id"].map(cut)
    return df[~(at.notna() & (df.index > at))]


def test_planted_channel_gap_is_the_worst(events):
    """80% of the customers who go from app to store leave at once: the worst gap."""
    cut = cut_after_switch(events, ("app", "store"), 0.8, seed=0)
    gaps = jm.discover(jm.EventLog.from_pandas(cut, **ROLES), conversion="checkout").channel_gaps
    top = gaps.iloc[0]
    assert (top["from_channel"], top["to_channel"]) == ("app", "store")
    assert top["ended_share"] > 0.6
    # in the untouched log no switch ends most journeys
    plain = jm.discover(jm.EventLog.from_pandas(events, **ROLES), conversion="checkout")
    assert plain.channel_gaps["ended_share"].max() < 0.5


def cart_exit(df: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """``share`` of the customers who reach add_to_cart leave there for good."""
    df = df.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
    cart = df.index.to_series()[df["touchpoint"] == "add_to_cart"].groupby(
        df["customer_id"]).min()
    leave = cart[np.random.default_rng(seed).random(len(cart)) < share]
    at = df["customer_id"].map(leave)
    return df[~(at.notna() & (df.index > at))]


def halves(events: pd.DataFrame, seed: int) -> pd.Series:
    """Customers split at random into groups ``"a"`` and ``"b"``."""
    customers = events["customer_id"].unique()
    half = np.random.default_rng(seed).random(len(customers)) < 0.5
    return pd.Series(np.where(half, "a", "b"), index=customers)


def test_diff_finds_a_planted_cart_exit(events):
    """Half b of the customers: 50% of those who reach the cart leave there.

    The cart's drop-off is among the three largest changes; its exit edge shrinks.
    """
    groups = halves(events, seed=9)
    b = events["customer_id"].map(groups).eq("b")
    both = pd.concat([events[~b], cart_exit(events[b], 0.5, seed=1)])
    log = jm.EventLog.from_pandas(both, **ROLES)
    result = jm.diff(log, by=groups, conversion="checkout")
    top = set(zip(result.table["kind"].head(3), result.table["where"].head(3), strict=True))
    assert ("drop-off", "add_to_cart") in top
    sig = result.significant.set_index(["kind", "where"])
    assert sig.loc[("drop-off", "add_to_cart"), "change"] > 0
    assert sig.loc[("edge", "add_to_cart → checkout"), "change"] < 0


def test_diff_flags_nothing_between_random_halves(events):
    """One log cut into random halves three times: no change is significant."""
    log = jm.EventLog.from_pandas(events, **ROLES)
    for seed in range(3):
        result = jm.diff(log, by=halves(events, seed), conversion="checkout")
        assert result.summary["rows"] > 30
        assert result.summary["significant"] == 0, result.significant.head()


def test_satisfaction_recovers_planted_nps_per_channel(events):
    """An NPS answer a second after each checkout; app buyers are promoters far more often.

    Planted: promoter / passive / detractor shares app 0.7 / 0.2 / 0.1 (NPS +60), every
    other channel 0.2 / 0.3 / 0.5 (NPS -30). The answer links to the checkout's channel.
    """
    rng = np.random.default_rng(7)
    buys = events[events["touchpoint"] == "checkout"]
    app = buys["channel"].eq("app").to_numpy()
    u = rng.random(len(buys))
    promoter = np.where(app, u < 0.7, u < 0.2)
    passive = ~promoter & np.where(app, u < 0.9, u < 0.5)
    score = np.where(promoter, 9 + (u * 100 % 2 > 1), np.where(passive, 7, 3)).astype(int)
    answers = pd.DataFrame({"customer_id": buys["customer_id"].to_numpy(),
                            "timestamp": buys["timestamp"].to_numpy() + np.timedelta64(1, "s"),
                            "score": score})
    log = jm.EventLog.from_pandas(events, **ROLES)
    sat = jm.satisfaction(log, answers, kind="nps", by="channel", window="1min")
    per = sat.by("channel").set_index("channel")
    assert sat.summary["linked"] == len(answers)
    assert per.loc["app", "nps_low"] < 60 < per.loc["app", "nps_high"]
    others = per.drop(index="app")
    assert (others["nps_high"] < per.loc["app", "nps_low"]).all()
    assert ((others["nps_low"] < -30) & (others["nps_high"] > -30)).mean() >= 0.75


pm4py = pytest.importorskip("pm4py")


def test_conformance_counts_a_planted_unexpected_step(events):
    """A new touchpoint put into 10% of the journeys: exactly those customers deviate there.

    The designed journey is the generator's funnel; the planted step is the only
    change. Token replay ignores a step the design does not know when scoring
    fitness (documented), so every fitness stays what it was and the planted
    customers have one more unexpected step each.
    """
    designed = [("search_ad", "landing_page"), ("social_post", "landing_page"),
                ("email_open", "product_view"), ("landing_page", "product_view"),
                ("product_view", "add_to_cart"), ("add_to_cart", "checkout")]
    df = events.sort_values(["customer_id", "timestamp"], kind="stable")
    customers = df["customer_id"].unique()
    planted = set(customers[np.random.default_rng(5).random(len(customers)) < 0.1])
    first = df.drop_duplicates("customer_id")
    extra = first[first["customer_id"].isin(planted)].assign(
        touchpoint="kiosk_scan", timestamp=lambda d: d["timestamp"] + np.timedelta64(1, "s"))
    before = jm.conformance(jm.EventLog.from_pandas(events, **ROLES), designed,
                            sample=len(customers))
    after = jm.conformance(jm.EventLog.from_pandas(pd.concat([events, extra]), **ROLES),
                           designed, sample=len(customers))
    kiosk = after.deviations[after.deviations["touchpoint"] == "kiosk_scan"]
    assert kiosk["kind"].tolist() == ["unexpected"]
    assert kiosk["customers"].iloc[0] == len(planted)
    fit = pd.merge(before.customers, after.customers, on="customer_id",
                   suffixes=("_before", "_after")).set_index("customer_id")
    assert len(fit) == len(customers) - before.summary["too_long"]  # over max_length events
    more = fit["unexpected_after"] - fit["unexpected_before"]
    assert set(more.index[more == 1]) == planted and set(more.unique()) == {0, 1}
    assert np.allclose(fit["fitness_after"], fit["fitness_before"])
    assert (fit["fitness_before"] < 1).mean() > 0.3  # the funnel is not what most walk
