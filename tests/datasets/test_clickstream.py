"""Tests of journeymine.datasets.make_clickstream: shape of the export and the planted truth.

Every planted effect is measured here directly on the events with pandas (no
journeymine code), then compared with the :class:`ClickstreamTruth`.
"""

from __future__ import annotations

import dataclasses
import json
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import journeymine as jm
from journeymine.datasets import ClickstreamTruth, make_clickstream
from journeymine.exceptions import InvalidParameterError

COLUMNS = ["customer_id", "session_id", "event", "timestamp", "channel", "revenue", "page"]
LANDING = {"home", "search", "category", "product_view", "promo_click", "review", "cart", "login",
           "newsletter_open", "customer_service_chat", "Store Visit"}


@pytest.fixture(scope="module")
def default() -> tuple[pd.DataFrame, ClickstreamTruth]:
    return make_clickstream(2000, random_state=0, return_truth=True)


@pytest.fixture(scope="module")
def clean(default) -> pd.DataFrame:
    """Without the planted duplicate rows, in (session, time) order."""
    df, _ = default
    return df.drop_duplicates().sort_values(["session_id", "timestamp"], kind="stable")


def session_table(clean: pd.DataFrame, truth: ClickstreamTruth) -> pd.DataFrame:
    """Per-session facts computed from the events only."""
    g = clean.groupby("session_id", sort=False)
    ev = clean["event"]
    return pd.DataFrame({
        "start": g["timestamp"].min(),
        "n": g.size(),
        "converted": (ev == truth.conversion_event).groupby(clean["session_id"]).any(),
        "checkout": (ev == "payment").groupby(clean["session_id"]).any(),
        "error": (ev == truth.incident_event).groupby(clean["session_id"]).any(),
        "popup": (ev == truth.negative_lift_event).groupby(clean["session_id"]).any(),
        "banner": (ev == truth.positive_lift_event).groupby(clean["session_id"]).any(),
        "cart": (ev == "cart").groupby(clean["session_id"]).any(),
        "channel": g["channel"].agg(lambda s: s.dropna().iloc[0] if s.notna().any() else None),
    })


# --------------------------------------------------------------------------- shape
def test_columns_and_types(default):
    df, _ = default
    assert list(df.columns) == COLUMNS
    assert df["timestamp"].dtype == np.dtype("datetime64[ns]")  # naive
    assert df["revenue"].dtype == np.float64
    for col in ("customer_id", "session_id", "event", "page"):
        assert df[col].notna().all()
    assert df["customer_id"].str.fullmatch(r"u_\d{6,}|LOY-\d{8}").all()
    assert df["customer_id"].str.startswith("LOY-").any()
    assert df["session_id"].str.fullmatch(r"ga_\d+").all()
    assert set(df["channel"].dropna()) == {"web", "app", "email", "whatsapp", "store"}
    assert df["customer_id"].nunique() == 2000
    assert 15_000 < len(df) < 40_000


def test_rows_are_in_time_order_not_grouped_by_customer(default):
    df, truth = default
    assert df["timestamp"].is_monotonic_increasing
    runs = (df["customer_id"] != df["customer_id"].shift()).sum()
    assert runs > 2 * df["customer_id"].nunique()  # customers' visits interleave in time
    start, end = truth.window
    assert df["timestamp"].min() >= start and df["timestamp"].max() < end


def test_same_seed_same_rows_different_seed_differs():
    a, ta = make_clickstream(300, random_state=5, return_truth=True)
    b, tb = make_clickstream(300, random_state=5, return_truth=True)
    c = make_clickstream(300, random_state=6)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ta.sessions, tb.sessions)
    pd.testing.assert_frame_equal(ta.customers, tb.customers)
    assert not a.equals(c)
    g = make_clickstream(300, random_state=np.random.default_rng(5))
    assert g["customer_id"].nunique() == 300


def test_session_ids_belong_to_one_customer_and_match_truth(default, clean):
    df, truth = default
    assert (df.groupby("session_id")["customer_id"].nunique() == 1).all()
    s = truth.sessions.set_index("session_id")
    assert set(s.index) == set(df["session_id"])
    mine = session_table(clean, truth)
    assert (mine["n"] == s.loc[mine.index, "n_events"]).all()
    assert (mine["converted"] == s.loc[mine.index, "converted"]).all()
    assert (truth.session_ids.loc[mine.index].to_numpy()
            == clean.groupby("session_id", sort=False)["customer_id"].first().to_numpy()).all()


def test_revenue_only_on_purchases(default):
    df, truth = default
    buy = df["event"] == truth.conversion_event
    assert df.loc[~buy, "revenue"].isna().all()
    assert (df.loc[buy, "revenue"] > 0).all()
    assert 20 < df.loc[buy, "revenue"].median() < 100


def test_noise_duplicates_and_missing_channels(default):
    df, truth = default
    assert df.duplicated().sum() == truth.n_duplicates > 0
    assert df["channel"].isna().sum() == truth.n_missing_channel > 0
    assert truth.n_missing_channel < 0.01 * len(df)


def test_long_tail_of_names_styles_and_repeats(default, clean):
    df, truth = default
    assert len(set(truth.rare_events)) == len(truth.rare_events) >= 200
    assert sum(e in set(df["event"]) for e in truth.rare_events) >= 120
    counts = df.loc[df["event"].isin(truth.rare_events), "event"].value_counts()
    assert counts.iloc[0] > 20 * counts.median()  # Zipf
    assert df["event"].str.fullmatch(r"product_view_\d+").mean() > 0.03
    names = pd.Series(df["event"].unique())
    assert names.str.contains(" ").any() and names.str.contains(r"[A-Z]").any()
    assert names.str.fullmatch(r"[a-z]+(_[a-z0-9]+)+").mean() > 0.5
    # Runs of product views (x5 and more) and reloads (same event, seconds apart).
    prod = clean["event"].str.startswith("product_view")
    run_id = (prod != prod.shift()) | (clean["session_id"] != clean["session_id"].shift())
    runs = prod.groupby(run_id.cumsum()).agg(["all", "size"])
    assert (runs["all"] & (runs["size"] >= 5)).sum() >= 50
    same = ((clean["event"] == clean["event"].shift())
            & (clean["page"] == clean["page"].shift())
            & (clean["session_id"] == clean["session_id"].shift())
            & (clean["timestamp"].diff() <= pd.Timedelta(seconds=3)))
    assert same.sum() >= 0.01 * len(clean)


# --------------------------------------------------------------------------- visits
def test_heavy_tailed_visits_and_bimodal_gaps(default, clean):
    df, truth = default
    visits = df.groupby("customer_id")["session_id"].nunique()
    assert visits.le(3).mean() > 0.75 and visits.ge(30).sum() >= 5
    by_cust = clean.sort_values(["customer_id", "timestamp"], kind="stable")
    gap = by_cust.groupby("customer_id")["timestamp"].diff()
    same = by_cust["session_id"] == by_cust.groupby("customer_id")["session_id"].shift()
    assert gap[same].max() <= pd.Timedelta(minutes=25)
    between = gap[~same & gap.notna()]
    assert between.min() >= pd.Timedelta(hours=1)
    assert between.median() > pd.Timedelta(days=2)
    # The log-gap histogram: two modes (seconds, days) and an empty 25-60 min valley.
    s = gap.dropna().dt.total_seconds()
    assert s.between(25 * 60, 3600, inclusive="neither").sum() == 0
    assert s.lt(120).mean() > 0.5 and s.gt(86_400).sum() > 1000
    # Sessionising at the truth's gap recovers the session ids exactly.
    new = gap.isna() | (gap > truth.session_gap)
    rebuilt = new.cumsum()
    assert (rebuilt.groupby(by_cust["session_id"]).nunique() == 1).all()
    assert rebuilt.nunique() == by_cust["session_id"].nunique()


def test_window_cuts(default, clean):
    _, truth = default
    c = truth.customers
    start, end = truth.window
    first = clean.groupby("customer_id")["timestamp"].min()
    last = clean.groupby("customer_id")["timestamp"].max()
    cut_s, cut_e = c.index[c["cut_at_start"]], c.index[c["cut_at_end"]]
    assert len(cut_s) >= 30 and len(cut_e) >= 8
    assert (first[cut_s] < start + pd.Timedelta(minutes=25)).all()
    assert (last[cut_e] > end - pd.Timedelta(minutes=25)).all()
    # Cut at the start: the first events look mid-journey more often than a fresh visit.
    first_ev = clean.sort_values("timestamp").groupby("customer_id")["event"].first()
    assert (~first_ev[cut_s].isin(LANDING)).mean() > (~first_ev.isin(LANDING)).mean() + 0.15
    assert c["started_before"].sum() > len(cut_s) and c["continues_after"].sum() > len(cut_e)
    s = truth.sessions
    assert (s.loc[s["cut"] == "start", "start"] < start + pd.Timedelta(minutes=25)).all()


def test_repurchase_and_churn(default, clean):
    _, truth = default
    c = truth.customers
    orders = clean[clean["event"] == truth.conversion_event].groupby("customer_id")[
        "session_id"].nunique().reindex(c.index, fill_value=0)
    assert (orders == c["n_purchases"]).all()
    assert (c["repurchaser"] == (orders >= 2)).all() and c["repurchaser"].sum() >= 40
    last = clean.groupby("customer_id")["timestamp"].max()
    churned = c.index[c["churned"]]
    assert (last[churned] < truth.window[1] - pd.Timedelta(days=45)).all()
    assert 0.3 < c["churned"].mean() < 0.9


# --------------------------------------------------------------------------- planted
def test_checkout_loop_share_and_lower_conversion(default, clean):
    _, truth = default
    prev = clean.groupby("session_id")["event"].shift()
    back = (((prev == "shipping_details") & clean["event"].isin(["cart", "add_to_cart"]))
            | ((prev == "cart") & (clean["event"] == "add_to_cart")))
    n_back = back.groupby(clean["session_id"]).sum()
    s = session_table(clean, truth)
    cart = s[s["cart"]]
    loops = n_back.loc[cart.index] >= 2  # one step back also happens without the loop
    assert abs(loops.mean() - truth.loop_share) < 0.04
    assert (n_back.loc[cart.index] >= 3).sum() >= 30  # several bounces, not one
    conv_loop, conv_rest = cart.loc[loops, "converted"].mean(), cart.loc[~loops, "converted"].mean()
    assert conv_loop < 0.75 * conv_rest
    edges = set(zip(prev[back], clean.loc[back, "event"], strict=True))
    assert edges <= set(truth.loop_edges)


def test_incident_error_share_and_conversion_drop(default, clean):
    _, truth = default
    s = session_table(clean, truth)
    ck = s[s["checkout"]]
    inside = (ck["start"] >= truth.incident_start) & (ck["start"] < truth.incident_end)
    assert inside.sum() >= 40
    assert ck.loc[inside, "error"].mean() > 0.5 > 0.1 > ck.loc[~inside, "error"].mean()
    drop = 1 - ck.loc[inside, "converted"].mean() / ck.loc[~inside, "converted"].mean()
    assert drop == pytest.approx(truth.incident_conversion_drop, abs=0.03)
    assert 0.3 < drop < 0.75
    online = clean["session_id"].map(s["channel"]) != "store"  # store tills never fail
    orders = clean.loc[(clean["event"] == truth.conversion_event) & online, "timestamp"]
    in_win = (orders >= truth.incident_start) & (orders < truth.incident_end)
    days_in = (truth.incident_end - truth.incident_start) / pd.Timedelta(days=1)
    days_out = (truth.window[1] - truth.window[0]) / pd.Timedelta(days=1) - days_in
    per_day_in, per_day_out = in_win.sum() / days_in, (~in_win).sum() / days_out
    assert 0.25 < per_day_in / per_day_out < 0.75  # online purchases roughly halve


def test_negative_and_positive_lift(default, clean):
    _, truth = default
    s = session_table(clean, truth)
    on = s[(s["channel"] != "store") & (s["n"] >= 2)]
    neither = on.loc[~on["popup"] & ~on["banner"], "converted"].mean()
    popup = on.loc[on["popup"], "converted"].mean()
    banner = on.loc[on["banner"], "converted"].mean()
    assert popup < 0.5 * neither and banner > 1.3 * neither
    assert truth.lift_realised[truth.negative_lift_event] == pytest.approx(popup, abs=0.01)
    assert truth.lift_realised[truth.positive_lift_event] == pytest.approx(banner, abs=0.01)
    # Not a length artefact: standardised to the length mix of unexposed visits, the
    # popup still converts at less than half the rate.
    bins = pd.cut(on["n"], [1, 5, 9, 14, 25, 10**6])
    none = on[~on["popup"] & ~on["banner"]]
    weight = bins[none.index].value_counts(normalize=True)
    rate = on[on["popup"]].groupby(bins[on["popup"]], observed=False)["converted"].mean()
    base = none.groupby(bins[none.index], observed=False)["converted"].mean()
    assert (rate * weight).sum() < 0.5 * (base * weight).sum()
    # Exposure is random: a similar share of web and app visits see the popup.
    share = on.groupby("channel")["popup"].mean()
    assert abs(share["web"] - share["app"]) < 0.05


def test_bottleneck_is_within_session(default, clean):
    _, truth = default
    nxt = clean.groupby("session_id")[["event", "timestamp"]].shift(-1)
    e = pd.DataFrame({"a": clean["event"], "b": nxt["event"],
                      "wait": (nxt["timestamp"] - clean["timestamp"]).dt.total_seconds()})
    med = e.dropna().groupby(["a", "b"])["wait"].agg(["median", "size"])
    med = med[med["size"] >= 30].sort_values("median", ascending=False)
    assert med.index[0] == truth.bottleneck
    planted = truth.bottleneck_median_wait.total_seconds()
    assert med["median"].iloc[0] == pytest.approx(planted, rel=0.2)
    assert med["median"].iloc[1] < 1.5 * truth.other_median_wait_max.total_seconds()
    # Without sessions, the gaps between visits (days) would swamp it.
    by_cust = clean.sort_values(["customer_id", "timestamp"], kind="stable")
    gap = by_cust.groupby("customer_id")["timestamp"].diff(-1).abs().dt.total_seconds()
    assert gap.median() < 60 and gap.max() > 30 * 86_400


# --------------------------------------------------------------------------- journeymine
def test_eventlog_reads_it_and_discover_runs(default):
    df, truth = default
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the planted duplicates are dropped with a warning
        log = jm.EventLog.from_pandas(df, customer="customer_id", activity="event",
                                      timestamp="timestamp")
    assert log.n_customers == 2000
    assert log.n_events == len(df) - truth.n_duplicates
    pm = jm.discover(log, conversion=truth.conversion_event)
    assert pm.summary["events"] == log.n_events


# --------------------------------------------------------------------------- parameters
def test_truth_summary_is_json_safe(default):
    _, truth = default
    d = json.loads(json.dumps(truth.to_dict()))
    assert d["bottleneck"] == ["shipping_details", "payment"]
    assert d["incident"]["event"] == "payment_error"
    assert "Planted ground truth for 2,000 customers" in truth.describe()
    assert "ClickstreamTruth(" in repr(truth) and "jm-truth" in truth._repr_html_()
    with pytest.raises(dataclasses.FrozenInstanceError):
        truth.loop_share = 0.5  # type: ignore[misc]


def test_effects_can_be_switched_off():
    df, truth = make_clickstream(
        800, random_state=3, return_truth=True, incident_days=0, loop_share=0.0,
        popup_share=0.0, banner_share=0.0, duplicate_rate=0.0, missing_channel_rate=0.0,
        page=False, start="2023-06-01", days=90)
    assert "page" not in df.columns
    assert truth.incident_start is None and not truth.sessions["incident"].any()
    assert not truth.sessions["looped"].any()
    assert not df["event"].isin([truth.negative_lift_event, truth.positive_lift_event]).any()
    assert df.duplicated().sum() == 0 and df["channel"].notna().all()
    assert df["timestamp"].min() >= pd.Timestamp("2023-06-01")
    assert df["timestamp"].max() < pd.Timestamp("2023-08-30")


def test_n_events_scales():
    df = make_clickstream(n_events=30_000, random_state=1)
    assert 20_000 < len(df) < 45_000


@pytest.mark.parametrize("kw", [
    {"n_customers": 0}, {"n_customers": 2.5}, {"days": 0}, {"loop_share": 1.5},
    {"popup_share": 0.6, "banner_share": 0.6}, {"start": "not a date"},
    {"bottleneck_wait": 10_000}, {"session_tail": 1.0}, {"n_events": -3},
])
def test_invalid_parameters(kw):
    with pytest.raises(InvalidParameterError):
        make_clickstream(**{"n_customers": 10, **kw})


@pytest.mark.slow
def test_a_million_events_in_seconds():
    t = time.perf_counter()
    df = make_clickstream(n_events=1_000_000, random_state=0)
    assert 0.8e6 < len(df) < 1.3e6
    assert time.perf_counter() - t < 20
