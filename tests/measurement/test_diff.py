"""jm.diff: a hand-checked case, planted changes found, nothing found between equal samples."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import journeymine as jm
from journeymine.exceptions import (
    ColumnNotFoundError,
    EmptyLogError,
    InvalidParameterError,
    JourneymineError,
    SchemaError,
)
from tests._browser import dump_dom

STAGES = {"ad": "awareness", "cart": "consideration", "buy": "purchase"}


def period_frame(prefix: str, day: str, converting: int, stopping: int) -> pd.DataFrame:
    """``converting`` customers ad > cart > buy and ``stopping`` ad > cart, from ``day``."""
    rows = []
    paths = [["ad", "cart", "buy"]] * converting + [["ad", "cart"]] * stopping
    for i, path in enumerate(paths):
        for k, tp in enumerate(path):
            rows.append({"customer_id": f"{prefix}{i:02d}", "touchpoint": tp,
                         "ts": pd.Timestamp(day) + pd.Timedelta(hours=i, minutes=k)})
    return pd.DataFrame(rows)


def log_of(df: pd.DataFrame) -> jm.EventLog:
    return jm.EventLog.from_pandas(df, stage=False)


# Hand computation. Period a: 8 of 10 customers ad > cart > buy, 2 stop at the cart;
# period b: 1 of 10 buys, 9 stop at the cart.
#   conversion 8/10 vs 1/10; pooled 9/20, smallest expected cell 0.45 * 10 = 4.5 < 5, so
#   Fisher's exact test: hypergeometric N=20, K=9, n=10; P(X=8) = C(9,8) C(11,2) / C(20,10)
#   = 495/184756, P(X=9) = 11/184756, and the other tail (X=1, X=0) is as likely:
#   p = 2 (495 + 11) / 184756.
#   The same 2x2 table is the funnel step consideration -> purchase (8/10 vs 1/10 went on),
#   the edge cart -> buy (8 of 10 journeys vs 1 of 10), the exit rate at the cart
#   (2/10 vs 9/10 ended there): four rows with one p, so each q = p (BH: p * 4 / 4).
#   ad -> cart (10/10 both), the exit rate at ad and buy (0 both) and the touchpoint
#   shares of attribution (with only 1 conversion in b, e.g. linear: ad 4 + 0.5 credits of
#   8 + 1 conversions, a margin of 4.5) are below min_count=5 and not tested. (The
#   default min_count=10 would leave out every row: 9 conversions in all.)
HAND_P = 2 * (495 + 11) / 184756


@pytest.fixture(scope="module")
def hand_logs():
    return (log_of(period_frame("a", "2024-01-01", 8, 2)),
            log_of(period_frame("b", "2024-02-01", 1, 9)))


@pytest.fixture(scope="module")
def hand(hand_logs):
    return jm.diff(*hand_logs, stages=STAGES, conversion="buy", labels=("Jan", "Feb"),
                   min_count=5)


def test_hand_checked_rows(hand):
    t = hand.table.set_index(["kind", "where"])
    assert set(t.index) == {("conversion", "overall"), ("funnel", "consideration → purchase"),
                            ("edge", "cart → buy"), ("drop-off", "cart")}
    conv = t.loc[("conversion", "overall")]
    assert (conv["a"], conv["b"], conv["n_a"], conv["n_b"]) == (0.8, 0.1, 10, 10)
    assert conv["change"] == pytest.approx(-0.7)
    assert conv["impact"] == pytest.approx(-7.0)  # 7 fewer of b's 10 journeys converted
    np.testing.assert_allclose(t["p"], HAND_P)
    np.testing.assert_allclose(t["q"], HAND_P)
    assert t["significant"].all()
    assert t.loc[("drop-off", "cart"), "change"] == pytest.approx(0.7)
    assert (t["low"] <= t["change"]).all() and (t["change"] <= t["high"]).all()
    assert hand.summary["untested"] > 0


def test_hand_sentences_and_ranking(hand):
    assert hand.table["impact"].abs().is_monotonic_decreasing
    first = hand.table.set_index("kind").loc["conversion", "sentence"]
    assert first.startswith("Conversion fell from 80.0% in Jan to 10.0% in Feb (-70.0 pts")
    assert "about 7 fewer of the 10 journeys in Feb" in first


def test_split_forms_agree(hand_logs, hand):
    """One log split by period, by a column and by a mapping gives the two-log answer."""
    frames = [period_frame("a", "2024-01-01", 8, 2), period_frame("b", "2024-02-01", 1, 9)]
    both = pd.concat([f.assign(segment=s) for f, s in zip(frames, "xy", strict=True)])
    log = log_of(both)
    expected = hand.table.drop(columns="sentence").reset_index(drop=True)
    kw = dict(stages=STAGES, conversion="buy", min_count=5)
    by_period = jm.diff(log, by="period", at="2024-01-15", **kw)
    by_column = jm.diff(log, by="segment", **kw)
    mapping = dict.fromkeys(frames[0]["customer_id"], "x") | dict.fromkeys(
        frames[1]["customer_id"], "y")
    by_mapping = jm.diff(log, by=pd.Series(mapping), **kw)
    for result, labels in ((by_period, ("before 2024-01-15", "from 2024-01-15")),
                           (by_column, ("x", "y")), (by_mapping, ("x", "y"))):
        assert result.labels == labels
        pd.testing.assert_frame_equal(result.table.drop(columns="sentence"), expected)


def test_two_maps_give_the_same_rows_as_two_logs(hand_logs, hand):
    maps = [jm.discover(log, stages=STAGES, conversion="buy") for log in hand_logs]
    result = jm.diff(*maps, min_count=5)
    pd.testing.assert_frame_equal(result.table.drop(columns="sentence"),
                                  hand.table.drop(columns="sentence"))
    assert result.summary["attribution"] == []


def test_emotions_compare_customers_with_negative_texts(hand_logs):
    """20 customers with a purchase-stage text per side: 2 negative in a, 12 in b."""
    def texts(prefix, negative):
        return pd.DataFrame({
            "customer_id": [f"{prefix}{i:02d}" for i in range(20)],
            "timestamp": pd.Timestamp("2024-03-01", tz="UTC"), "stage": "purchase",
            "sentiment": ["negative"] * negative + ["positive"] * (20 - negative),
            "emotion": ["anger"] * negative + ["joy"] * (20 - negative), "link": "touchpoint"})

    result = jm.diff(*hand_logs, stages=STAGES, conversion="buy", min_count=5,
                     emotions=(texts("a", 2), texts("b", 12)))
    t = result.table.set_index(["kind", "where"])
    row = t.loc[("emotion", "negative at purchase")]
    # 2/20 vs 12/20: pooled 14/40, expected cells >= 7, so the z-test:
    # z = 0.5 / sqrt(0.35 * 0.65 * (2/20)) = 3.315, two-sided p = 0.000916
    assert (row["a"], row["b"]) == (0.1, 0.6)
    assert row["p"] == pytest.approx(0.000916, abs=2e-6)
    assert t.loc[("emotion", "anger (any stage)"), "change"] == pytest.approx(0.5)


def test_one_set_of_texts_is_split_like_the_log(hand_logs):
    """By a segment: texts follow their customer; by period: when they were written."""
    frames = [period_frame("a", "2024-01-01", 8, 2), period_frame("b", "2024-02-01", 1, 9)]
    log = log_of(pd.concat([frames[0].assign(segment="x"), frames[1].assign(segment="y")]))
    # a00..a09 write in January, b00..b09 in February; 1 of 10 negative in a, 9 of 10 in b
    texts = pd.DataFrame({
        "customer_id": [f"{p}{i:02d}" for p in "ab" for i in range(10)],
        "timestamp": [pd.Timestamp(day, tz="UTC") for day in ("2024-01-05", "2024-02-05")
                      for _ in range(10)],
        "stage": "consideration", "emotion": "neutral", "link": "touchpoint",
        "sentiment": ["negative"] + ["neutral"] * 9 + ["negative"] * 9 + ["neutral"]})
    kw = dict(stages=STAGES, conversion="buy", min_count=5, emotions=texts)
    for result in (jm.diff(log, by="segment", **kw),
                   jm.diff(log, by="period", at="2024-01-15", **kw)):
        row = result.table.set_index(["kind", "where"]).loc[
            ("emotion", "negative at consideration")]
        assert (row["a"], row["b"], row["n_a"], row["n_b"]) == (0.1, 0.9, 10, 10)
    with pytest.raises(InvalidParameterError, match="One set of texts"):
        jm.diff(*hand_logs, emotions=texts)
    with pytest.raises(SchemaError, match="not tagged texts"):
        jm.diff(log, by="segment", emotions=texts.drop(columns="sentiment"))


def test_session_grain_finds_a_payment_incident():
    """make_clickstream with payment errors from 1 March: sessions before vs from that day."""
    df = jm.datasets.make_clickstream(2000, random_state=0, days=120,
                                      incident_start="2024-03-01", incident_days=60)
    log = jm.EventLog.from_pandas(df, customer="customer_id", activity="event",
                                  timestamp="timestamp")
    result = jm.diff(log, by="period", at="2024-03-01", grain="session")
    assert result.summary["grain"] == "session"
    sig = result.significant.set_index(["kind", "where"])
    assert sig.loc[("edge", "payment → payment_error"), "change"] > 0
    assert sig.loc[("conversion", "overall"), "change"] < 0
    assert result.summary["attribution"] == []  # no attribution at session grain


def plant_cart_exit(log: jm.EventLog, share: float, seed: int) -> pd.DataFrame:
    """``log``'s events with ``share`` of the customers who reach add_to_cart leaving there."""
    df = log.to_pandas()
    cart = df[df["activity"] == "add_to_cart"].groupby("customer_id")["event_index"].min()
    leave = cart[np.random.default_rng(seed).random(len(cart)) < share]
    after = df["customer_id"].map(leave)
    return df[~(after.notna() & (df["event_index"] > after))].drop(columns="event_index")


ROLES = dict(customer="customer_id", activity="activity", timestamp="timestamp",
             channel="channel", stage="stage", revenue="revenue")


@pytest.fixture(scope="module")
def planted():
    """Period a from January, period b from May in one log; in b, 40% leave at the cart."""
    a = jm.datasets.make_journeys(2000, random_state=0)
    b = jm.datasets.make_journeys(2000, random_state=1, start="2025-05-01")
    b_df = plant_cart_exit(b, 0.4, seed=0).assign(customer_id=lambda d: "B" + d["customer_id"])
    both = pd.concat([a.to_pandas().drop(columns="event_index"), b_df])
    log = jm.EventLog.from_pandas(both, **ROLES)
    return jm.diff(log, by="period", at="2025-05-01", labels=("before", "after"))


def test_planted_dropoff_is_found_at_the_top(planted):
    """The new exit at the cart and the edge it empties are the two largest changes."""
    top = set(zip(planted.table["kind"].head(2), planted.table["where"].head(2), strict=True))
    assert top == {("drop-off", "add_to_cart"), ("edge", "add_to_cart → checkout")}
    sig = planted.significant.set_index(["kind", "where"])
    assert sig.loc[("conversion", "overall"), "change"] < 0
    assert sig.loc[("edge", "add_to_cart → checkout"), "change"] < 0


def test_planted_change_leaves_the_upstream_journey_alone(planted):
    """Nothing before the cart changed: no edge between awareness/consideration steps moves."""
    upstream = {tp for tp, stage, _ in jm.datasets._generator.TOUCHPOINTS
                if stage in ("awareness", "consideration")}
    edges = planted.significant[planted.significant["kind"] == "edge"]
    ends = edges["where"].str.split(" → ")
    assert not any(set(pair) <= upstream for pair in ends)


def test_planted_change_on_the_map_is_red(planted, tmp_path):
    page = tmp_path / "diff.html"
    page.write_text(planted.to_html(), encoding="utf-8")
    dom = dump_dom(page)
    assert "What changed" in dom and "<svg" in dom
    assert 'stroke="#d6604d"' in dom  # add_to_cart -> checkout shrank
    assert "http://" not in dom.replace("http://www.w3.org/2000/svg", "")


def test_no_false_positives_between_samples_of_one_period():
    """Ten pairs of independent samples of the same shop: at most the expected rate.

    With no change, Benjamini-Hochberg at q <= 0.05 rejects anything in at most 5% of
    pairs; allow 2 of 10 (P(3+ of 10) is 1% at a 5% rate).
    """
    flagged = []
    for seed in range(10):
        a = jm.datasets.make_journeys(1500, random_state=100 + 2 * seed)
        b = jm.datasets.make_journeys(1500, random_state=101 + 2 * seed)
        result = jm.diff(a, b)
        assert result.summary["rows"] > 50
        flagged.append(result.summary["significant"])
    assert sum(n > 0 for n in flagged) <= 2, flagged


def test_result_exports(hand, tmp_path):
    d = hand.to_dict()
    assert d["format"] == {"name": "journeymine.diff", "version": 1}
    assert json.loads(json.dumps(d))["rows"][0]["kind"] == hand.table["kind"].iloc[0]
    assert repr(hand).startswith("JourneyDiff(Jan vs Feb: 4 significant of 4 tested")
    assert "<table>" in hand._repr_html_()
    names = sorted(p.name for p in hand.save(tmp_path / "out"))
    assert names == ["diff.csv", "diff.html", "diff.json"]
    assert len(pd.read_csv(tmp_path / "out" / "diff.csv")) == 4


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_refused_and_leaves_the_log_alone(hand_logs):
    a, b = hand_logs
    before = a.table
    with pytest.raises(InvalidParameterError, match="Did you mean 'linear'"):
        jm.diff(a, b, attribution="linaer")
    with pytest.raises(InvalidParameterError, match="markov"):
        jm.diff(a, b, attribution=["linear", "markov"])
    with pytest.raises(InvalidParameterError, match="two logs were given"):
        jm.diff(a, b, by="period")
    with pytest.raises(InvalidParameterError, match="nothing to split"):
        jm.diff(a)
    with pytest.raises(InvalidParameterError, match="needs at="):
        jm.diff(a, by="period")
    with pytest.raises(JourneymineError, match="got DataFrame"):
        jm.diff(a.to_pandas(), b)
    with pytest.raises(InvalidParameterError, match="not a map with a log"):
        jm.diff(jm.discover(a), b)
    assert a.table is before and a.table.equals(before)


def test_different_schemas_are_refused(hand_logs):
    a, b = hand_logs
    with_channel = log_of(period_frame("c", "2024-03-01", 3, 3).assign(channel="web"))
    with pytest.raises(SchemaError, match="Log b has a channel column and log a has none"):
        jm.diff(a, with_channel)
    other = log_of(period_frame("d", "2024-03-01", 3, 3).assign(
        touchpoint=lambda d: "page_" + d["touchpoint"]))
    with pytest.raises(SchemaError, match="no touchpoint in common"):
        jm.diff(a, other)
    session_map = jm.discover(a, grain="session", gap="30min")
    with pytest.raises(SchemaError, match="different grains"):
        jm.diff(session_map, jm.discover(b))


def test_empty_side_and_bad_groups(hand_logs):
    frames = [period_frame("a", "2024-01-01", 8, 2), period_frame("b", "2024-02-01", 1, 9)]
    log = log_of(pd.concat([frames[0].assign(segment="x"), frames[1].assign(segment="y"),
                            period_frame("c", "2024-03-01", 2, 2).assign(segment="z")]))
    with pytest.raises(EmptyLogError, match="no journey starts before at=2023-06-01"):
        jm.diff(log, by="period", at="2023-06-01")
    with pytest.raises(InvalidParameterError, match="3 groups"):
        jm.diff(log, by="segment")
    with pytest.raises(InvalidParameterError, match="Did you mean 'x'"):
        jm.diff(log, by="segment", values=("X1", "y"))
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'segment'"):
        jm.diff(log, by="segmnt")
    with pytest.raises(EmptyLogError, match="no customer is in group 'y'"):
        jm.diff(log, by={"a00": "x", "zz": "y"}, values=("x", "y"))
