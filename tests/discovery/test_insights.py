"""jm.insights: hand-made logs with a known answer, guards, languages, errors, generators."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import journeymine as jm
from journeymine.discovery._insights import COLUMNS, KINDS
from journeymine.exceptions import InvalidParameterError, JourneymineError

START = pd.Timestamp("2024-01-01")


@pytest.fixture(autouse=True)
def _quiet():
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def make_log(paths, *, step="1min", start=START, every="2h", waits=None) -> jm.EventLog:
    """One customer per path, one session each; ``waits`` maps (a, b) to the wait between them."""
    rows = []
    for i, path in enumerate(paths):
        t = start + i * pd.Timedelta(every)
        for j, tp in enumerate(path):
            if j:
                t += pd.Timedelta((waits or {}).get((path[j - 1], tp), step))
            rows.append((f"c{i:05d}", tp, t))
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"])
    return jm.EventLog.from_pandas(df)


def rows_of(result, kind, where=None):
    t = result.table
    t = t[t["kind"] == kind]
    return t if where is None else t[t["where"] == where]


# ------------------------------------------------------------------ events with lift
def test_negative_event_is_found_with_the_right_sign():
    # 250 sessions of equal length; "coupon_error" in 50 converting 10%, others 40%.
    paths = []
    for i in range(250):
        exposed = i < 50
        middle = "coupon_error" if exposed else "reviews"
        converts = (i % 10 == 0) if exposed else (i % 5 < 2)
        paths.append(["home", "product", middle, "cart"] + (["checkout"] if converts else []))
    found = jm.insights(make_log(paths), conversion="checkout", gap="30min")
    row = rows_of(found, "event", "coupon_error").iloc[0]
    assert row["type"] == "barrier"
    assert row["effect"] == pytest.approx(-0.3, abs=0.01)
    assert row["effect_high"] < 0 < row["q_value"] <= 0.05
    assert row["loss"] == pytest.approx(15, abs=1)  # 50 sessions × 30 points
    assert "coupon_error" in row["sentence"] and "10%" in row["sentence"]


def test_confounded_event_is_not_an_opportunity_after_stratifying_by_length():
    # "blog" appears only in long journeys; long journeys convert 60%, short 20%,
    # with or without the blog.
    rng = np.random.default_rng(0)
    paths = []
    for i in range(600):
        long = i % 2 == 0
        path = ["home", "product"] + (["reviews", "faq", "product", "size_guide"] if long else [])
        if long and i % 4 == 0:
            path[3] = "blog"
        if rng.random() < (0.6 if long else 0.2):
            path.append("checkout")
        paths.append(path)
    log = make_log(paths)
    crude = pd.DataFrame({"blog": ["blog" in p for p in paths],
                          "converted": ["checkout" in p for p in paths]})
    rates = crude.groupby("blog")["converted"].mean()
    assert rates[True] > rates[False] + 0.15  # a naive comparison calls it an opportunity
    found = jm.insights(log, conversion="checkout", gap="30min", event_share=0.5)
    assert rows_of(found, "event", "blog").empty


def test_min_cell_size_is_respected():
    paths = []
    for i in range(300):
        exposed = i < 20
        converts = False if exposed else i % 2 == 0
        paths.append(["home", "oops" if exposed else "product", "cart"]
                     + (["checkout"] if converts else []))
    log = make_log(paths)
    assert rows_of(jm.insights(log, conversion="checkout", gap="30min"), "event", "oops").empty
    small = jm.insights(log, conversion="checkout", gap="30min", min_cases=10)
    assert len(rows_of(small, "event", "oops")) == 1


def test_no_leakage_from_events_after_the_conversion():
    # "thank_you" only ever follows the purchase: it must not look like an opportunity.
    paths = []
    for i in range(400):
        path = ["home", "product", "reviews" if i % 3 else "faq", "cart"]
        if i % 2 == 0:
            path += ["checkout", "thank_you"]
        paths.append(path)
    found = jm.insights(make_log(paths), conversion="checkout", gap="30min", event_share=1.0)
    assert not found.table["where"].str.contains("thank_you").any()


# ------------------------------------------------------------------ loops
def test_a_checkout_loop_is_found_with_lower_conversion():
    # Journeys of every length (browsing extras), so loopers have non-loopers of their length.
    extras = [f"page_{k}" for k in range(12)]
    paths = []
    for i in range(800):
        loops = i % 4 == 0
        path = ["home", *extras[: (i // 4) % 13], "product", "cart", "shipping"]
        if loops:
            path += ["cart", "shipping", "add_to_cart", "cart", "shipping"]
        converts = (i % 20 == 0) if loops else (i % 2 == 0)
        paths.append(path + (["checkout"] if converts else []))
    found = jm.insights(make_log(paths), conversion="checkout", gap="30min")
    loops = rows_of(found, "loop")
    assert len(loops) == 1
    row = loops.iloc[0]
    assert "cart ⇄ shipping" in row["where"] and "add_to_cart" in row["where"]
    assert row["cases"] == 200 and row["effect_high"] < 0
    assert row["type"] == "barrier"


# ------------------------------------------------------------------ slow steps
def test_slow_steps_are_waits_inside_sessions_not_gaps_between_visits():
    rows = []
    for i in range(120):
        c, t = f"c{i:04d}", START + pd.Timedelta(hours=3 * i)
        session1 = [("home", 0), ("product", 20), ("cart", 30), ("payment", 40 * 60)]
        for tp, seconds in session1:  # cart -> payment waits 40 min - 30 s, inside the visit
            rows.append((c, tp, t + pd.Timedelta(seconds=seconds)))
        t2 = t + pd.Timedelta(days=3)  # the next visit, three days later
        for k, tp in enumerate(["home", "product", "faq"]):
            rows.append((c, tp, t2 + pd.Timedelta(seconds=20 * k)))
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"])
    found = jm.insights(jm.EventLog.from_pandas(df), conversion="payment", gap="2h")
    slow = rows_of(found, "slow step")
    assert slow["where"].tolist() == ["cart → payment"]
    assert slow.iloc[0]["unit"] == "hours"
    assert slow.iloc[0]["loss"] == pytest.approx(120 * (40 * 60 - 10 - 20) / 3600, rel=0.05)


def test_a_slow_step_is_compared_with_steps_of_the_same_kind():
    # 120 sessions each: A  home > product > cart > payment > delivery > review
    #                    B  home > product > cart > repurchase > delivery
    #                    C  home > product > support > review
    # Steps take 20 s, except payment > delivery 3 h, repurchase > delivery 1 h and the
    # reviews 5 h after delivery or support. Typical wait: 20 s (8 of 12 waits per triple).
    # Against the typical wait all four long steps would be slow; against steps of the same
    # kind only payment > delivery is: 3 h against the 1 h of the other step into delivery.
    # The reviews take 5 h after both steps into review, so neither is slow.
    waits = {("payment", "delivery"): "3h", ("repurchase", "delivery"): "1h",
             ("delivery", "review"): "5h", ("support", "review"): "5h"}
    paths = [["home", "product", "cart", "payment", "delivery", "review"],
             ["home", "product", "cart", "repurchase", "delivery"],
             ["home", "product", "support", "review"]] * 120
    log = make_log(paths, step="20s", every="1D", waits=waits)
    for lang, said in (("en", "3.0× the 1h of other steps into delivery"),
                       ("id", "3.0× waktu tunggu 1h langkah lain menuju delivery")):
        slow = rows_of(jm.insights(log, conversion="payment", gap="12h", lang=lang),
                       "slow step")
        assert slow["where"].tolist() == ["payment → delivery"]
        row = slow.iloc[0]
        # loss: 120 customers × (3 h − 1 h); effect: 1 − 1 h / 3 h
        assert row["loss"] == pytest.approx(240.0)
        assert row["effect"] == pytest.approx(2 / 3)
        assert said in row["sentence"]
    assert "vs 1h for other steps into delivery" in row["evidence"]


# ------------------------------------------------------------------ incidents
def test_an_incident_window_is_dated_within_a_week():
    rng = np.random.default_rng(1)
    start, end = pd.Timestamp("2024-05-06"), pd.Timestamp("2024-05-27")  # 3 weeks
    rows = []
    for i in range(365 * 30):  # a year, 30 sessions a day
        t = START + pd.Timedelta(days=i // 30, minutes=(i % 30) * 40)
        incident = start <= t < end
        path = ["home", "product", "cart"]
        if rng.random() < (0.5 if incident else 0.01):
            path.append("payment_error")
        if rng.random() < (0.1 if "payment_error" in path else 0.3):
            path.append("checkout")
        rows += [(f"c{i:06d}", tp, t + pd.Timedelta(seconds=30 * k)) for k, tp in enumerate(path)]
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"])
    found = jm.insights(jm.EventLog.from_pandas(df), conversion="checkout", gap="30min")
    inc = rows_of(found, "incident")
    assert len(inc) == 1
    row = inc.iloc[0]
    assert abs((row["start"] - start).days) <= 7
    assert abs((row["end"] - (end - pd.Timedelta(days=1))).days) <= 7
    assert row["effect"] < 0 and row["loss"] > 0
    assert "payment_error" in row["where"]


# ------------------------------------------------------------------ result and languages
def test_result_shape_repr_and_dict():
    found = jm.insights(jm.datasets.load_demo().log, grain="customer")
    assert tuple(found.table.columns) == COLUMNS
    assert set(found.table["kind"]) <= set(KINDS)
    assert found.table["rank"].tolist() == list(range(1, len(found) + 1))
    assert found.table["score"].is_monotonic_decreasing
    assert (found.table["q_value"] <= 0.05).all()
    assert repr(found).startswith("Insights(") and "\n" not in repr(found)
    assert "<table>" in found._repr_html_()
    d = found.to_dict()
    assert d["grain"] == "customer" and len(d["findings"]) == len(found)
    assert found.to_frame() is not found.table


def test_indonesian_sentences():
    paths = [["home", "product", "reviews", "cart"] + (["checkout"] if i % 2 else [])
             for i in range(200)]
    paths += [["home", "product", "oops", "cart"] for _ in range(40)]
    found = jm.insights(make_log(paths), conversion="checkout", gap="30min", lang="id")
    sentences = " ".join(found.table["sentence"])
    assert "dibanding" in sentences and "against" not in sentences
    event = rows_of(found, "event", "oops").iloc[0]["sentence"]
    assert event.startswith("Sesi dengan oops berkonversi 0%")


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"grain": "visit"}, InvalidParameterError),
    ({"lang": "fr"}, InvalidParameterError),
    ({"min_cases": 0}, InvalidParameterError),
    ({"alpha": 1.5}, InvalidParameterError),
    ({"slow_factor": 1}, InvalidParameterError),
    ({"event_share": 0}, InvalidParameterError),
    ({"max_loop_length": 0}, InvalidParameterError),
    ({"gap": "soon"}, InvalidParameterError),
])
def test_bad_parameters(kwargs, error):
    log = make_log([["home", "checkout"]] * 3)
    with pytest.raises(error) as info:
        jm.insights(log, **kwargs)
    assert info.value.expected and info.value.fix


def test_bad_log():
    with pytest.raises(JourneymineError, match="needs an EventLog") as info:
        jm.insights(pd.DataFrame({"a": [1]}))
    assert "from_pandas" in info.value.fix


# ------------------------------------------------------------------ generators
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clickstream_planted_items_are_in_the_top_five(seed):
    df, truth = jm.datasets.make_clickstream(5000, random_state=seed, return_truth=True)
    log = jm.EventLog.from_pandas(df, customer="customer_id", activity="event",
                                  timestamp="timestamp")
    top = jm.insights(log).table.head(5)
    loop = top[(top["kind"] == "loop") & top["where"].str.contains("cart ⇄ shipping_details")]
    assert len(loop) == 1
    event = top[(top["kind"] == "event") & (top["where"] == truth.negative_lift_event)]
    assert len(event) == 1 and event.iloc[0]["effect_high"] < 0
    incident = top[top["kind"] == "incident"]
    assert len(incident) == 1 and truth.incident_event in incident.iloc[0]["where"]
    last_day = truth.incident_end - pd.Timedelta(days=1)
    assert abs((incident.iloc[0]["start"] - truth.incident_start).days) <= 7
    assert abs((incident.iloc[0]["end"] - last_day).days) <= 7


def test_demo_shop_shows_its_planted_barriers():
    demo = jm.datasets.load_demo()
    truth = demo.truth
    found = jm.insights(demo.log, demo.texts, grain="customer").table
    slow = found[found["kind"] == "slow step"]
    assert slow.iloc[0]["where"] == " → ".join(truth.bottleneck)
    switches = found[(found["kind"] == "channel switch") & (found["type"] == "barrier")]
    top_switch = switches.iloc[0]["where"]
    assert top_switch.startswith(" → ".join(truth.channel_switch))
    assert top_switch.endswith(truth.dropoff_touchpoint)
    negative = found[found["kind"] == "negative emotion"]["where"]
    assert truth.negative_touchpoint in set(negative)
