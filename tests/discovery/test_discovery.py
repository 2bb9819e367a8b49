"""Discovery on a three-customer log whose every number is counted by hand."""

import json

import numpy as np
import pandas as pd
import pytest

import journeymine as jm
from journeymine.exceptions import JourneymineError

H = 3600.0


@pytest.fixture(scope="module")
def three():
    # A: ad -> page -> page (self-loop) -> checkout (pays)          converts
    # B: ad -> page -> whatsapp -> page (ping-pong), never pays     lost at product_page
    # C: search -> page -> checkout (pays) -> review two days later converts, skips retention
    rows = [
        ("A", "ig_ad", "2024-03-01 10:00", "social", None),
        ("A", "product_page", "2024-03-01 10:10", "web", None),
        ("A", "product_page", "2024-03-01 10:30", "web", None),
        ("A", "checkout", "2024-03-01 11:00", "web", 100.0),
        ("B", "ig_ad", "2024-03-02 09:00", "social", None),
        ("B", "product_page", "2024-03-02 09:20", "app", None),
        ("B", "whatsapp_chat", "2024-03-02 10:20", "chat", None),
        ("B", "product_page", "2024-03-02 10:50", "app", None),
        ("C", "search", "2024-03-03 08:00", "search", None),
        ("C", "product_page", "2024-03-03 08:05", "web", None),
        ("C", "checkout", "2024-03-03 08:35", "web", 50.0),
        ("C", "review", "2024-03-05 08:35", "web", None),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts", "channel", "revenue"])
    stages = {"ig_ad": "awareness", "search": "kesadaran", "product_page": "consideration",
              "whatsapp_chat": "pertimbangan", "checkout": "pembelian", "review": "advokasi"}
    return jm.discover(jm.EventLog.from_pandas(df), stages=stages)


def edge(pm, s, t):
    row = pm.edges[(pm.edges.source == s) & (pm.edges.target == t)]
    assert len(row) == 1, (s, t)
    return row.iloc[0]


def test_dfg_counts_and_durations(three):
    pm = three
    assert len(pm.edges) == 7
    assert pm.edges["count"].sum() == 9  # 3 + 3 + 3 transitions
    e = edge(pm, "ig_ad", "product_page")
    assert (e["count"], e["customers"]) == (2, 2)
    assert e["mean_seconds"] == 900 and e["median_seconds"] == 900
    assert e["p90_seconds"] == pytest.approx(1140)  # 600 + 0.9 * 600
    e = edge(pm, "product_page", "checkout")
    assert (e["count"], e["customers"], e["median_seconds"]) == (2, 2, 1800)
    assert edge(pm, "product_page", "product_page")["count"] == 1
    assert edge(pm, "whatsapp_chat", "product_page")["median_seconds"] == 1800
    assert edge(pm, "checkout", "review")["median_seconds"] == 48 * H
    # the busiest edges come first, ties by name
    assert list(pm.edges[["source", "target"]].iloc[0]) == ["ig_ad", "product_page"]


def test_nodes_start_end(three):
    nodes = three.nodes.set_index("touchpoint")
    assert nodes.loc["product_page", "count"] == 5
    assert nodes.loc["product_page", "customers"] == 3
    assert nodes.loc["whatsapp_chat", "stage"] == "consideration"
    assert three.start == {"ig_ad": 2, "search": 1}
    assert three.end == {"checkout": 1, "product_page": 1, "review": 1}


def test_variants(three):
    v = three.variants
    assert len(v) == 3
    assert v["customers"].tolist() == [1, 1, 1]
    assert v["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    b = v[v.variant == "ig_ad > product_page > whatsapp_chat > product_page"].iloc[0]
    assert b["path"] == ("ig_ad", "product_page", "whatsapp_chat", "product_page")
    assert b["conversion_rate"] == 0 and b["median_duration_seconds"] == 110 * 60


def test_conversion_defaults_to_paid_purchase_touchpoints(three):
    assert three.conversion == ("checkout",)
    assert three.summary["converted"] == 2
    assert three.summary["conversion_rate"] == pytest.approx(2 / 3)


def test_funnel(three):
    f = three.funnel.set_index("stage")
    assert f["reached"].tolist() == [3, 3, 2, 1, 1]
    assert f["visited"].tolist() == [3, 3, 2, 0, 1]
    assert f.loc["consideration", "dropped"] == 1
    assert f.loc["awareness", "median_seconds_to_next"] == 600  # 600, 1200, 300
    assert f.loc["consideration", "median_seconds_to_next"] == 2400  # 3000 and 1800
    assert np.isnan(f.loc["purchase", "median_seconds_to_next"])  # nobody visits retention
    assert f.loc["consideration", "conversion_to_next"] == pytest.approx(2 / 3)


def test_dropoffs(three):
    d = three.dropoffs
    assert d["touchpoint"].tolist() == ["product_page"]
    assert d.iloc[0]["lost_customers"] == 1
    assert d.iloc[0]["exit_rate"] == pytest.approx(1 / 3)


def test_loops(three):
    loops = three.loops.set_index("pattern")
    assert loops.loc["product_page ↺", "count"] == 1
    assert loops.loc["product_page ⇄ whatsapp_chat", "customers"] == 1
    assert loops.loc["product_page (again)", "customers"] == 2  # A and B came back
    assert loops.loc["product_page (again)", "share_of_visitors"] == pytest.approx(2 / 3)


def test_bottlenecks_weight_time_by_volume(three):
    b = three.bottlenecks
    # only edges with >= 2 customers qualify: page->checkout (2 x 30m) beats ad->page (2 x 15m)
    assert b[["source", "target"]].values.tolist() == [
        ["product_page", "checkout"], ["ig_ad", "product_page"]]
    assert b.iloc[0]["impact_hours"] == pytest.approx(1.0)
    assert b["share_of_wait"].sum() == pytest.approx(1.0)


def test_channel_switches(three):
    sw = three.channel_switches
    assert sw["customers"].sum() == 5
    row = sw[(sw.from_channel == "app") & (sw.to_channel == "chat")].iloc[0]
    assert (row["source"], row["target"], row["conversion_rate"]) == (
        "product_page", "whatsapp_chat", 0.0)
    row = sw[sw.from_channel == "search"].iloc[0]
    assert row["conversion_rate"] == 1.0


def test_conversion_by_touchpoint_or_stage_name(three):
    log = jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": ["a", "a", "b"], "touchpoint": ["ad", "review", "ad"],
        "ts": ["2024-01-01", "2024-01-02", "2024-01-01"]}))
    assert jm.discover(log, conversion="review").summary["converted"] == 1
    assert jm.discover(log, conversion="advokasi").conversion == ("review",)
    with pytest.raises(JourneymineError, match="Did you mean 'review'"):
        jm.discover(log, conversion="reviw")


def test_filter_is_a_view(three):
    small = three.filter(paths=0.3)  # the top variant (1/3 of customers) covers 30%
    assert small.coverage["variants"] == 1
    assert small.edges["count"].sum() == len(small.variants.path.iloc[0]) - 1
    assert small.full is three
    assert small.to_dict() == three.to_dict()  # the export keeps the full graph
    top = three.filter(edges=0.5)
    assert set(top.edges.index) <= set(three.edges.index)
    with pytest.raises(JourneymineError, match="out of range"):
        three.filter(paths=1.5)


def test_process_map_json_format(three, tmp_path):
    data = json.loads(three.to_json(tmp_path / "pm.json").read_text("utf-8"))
    assert data["format"] == {"name": "journeymine.process_map", "version": 3}
    assert set(data["nodes"][0]) == {"touchpoint", "count", "customers", "stage"}
    assert set(data["edges"][0]) == {"source", "target", "count", "customers",
                                     "mean_seconds", "median_seconds", "p90_seconds"}
    assert data["start"] == {"ig_ad": 2, "search": 1}
    assert sum(e["count"] for e in data["edges"]) == 9


def test_single_event_customers_have_no_edges():
    log = jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": ["a", "b"], "touchpoint": ["ad", "ad"],
        "ts": ["2024-01-01", "2024-01-02"]}))
    pm = jm.discover(log)
    assert pm.edges.empty and pm.start == {"ad": 2} and pm.end == {"ad": 2}
    assert pm.summary["single_event_customers"] == 2


def test_ties_keep_input_order():
    log = jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": ["a", "a", "a"], "touchpoint": ["ad", "page", "cart"],
        "ts": ["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-01 10:00"]}))
    pm = jm.discover(log)
    assert pm.variants["variant"].tolist() == ["ad > page > cart"]
    assert pm.dropoffs.empty  # cart is a purchase-stage touchpoint, so "a" converted


def test_discover_rejects_non_logs():
    with pytest.raises(JourneymineError, match="needs an EventLog"):
        jm.discover(pd.DataFrame())


def test_time_to_convert_by_hand():
    # a converts 1 h after its first event, b after 4 h, c never: median 2.5 h, p90 3.7 h
    df = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "c"],
        "touchpoint": ["ad", "view", "buy", "ad", "buy", "ad"],
        "ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:30", "2024-01-01 11:00",
                              "2024-01-02 09:00", "2024-01-02 13:00", "2024-01-03 00:00"]),
    })
    log = jm.EventLog.from_pandas(df)
    for grain in ("customer", "episode"):
        s = jm.discover(log, conversion="buy", grain=grain, stages={"buy": "purchase"}).summary
        assert s["median_seconds_to_convert"] == 9000.0
        assert s["p90_seconds_to_convert"] == pytest.approx(3600 + 0.9 * 10800)
    at_view = jm.discover(log, conversion="view", stages={"buy": "purchase"}).summary
    assert at_view["median_seconds_to_convert"] == 1800.0  # only a views, 30 min in


@pytest.mark.parametrize("engine", ["positional", "ibis"])
def test_time_to_next_stage_counts_forward_moves_only(engine):
    # a: ad (awareness) 10:00 -> view (consideration) 10:01: 60 s forward.
    # b: view 10:00, ad 10:05, view 10:10: consideration came first, so b's
    #    awareness -> consideration time is not a move forward (was -300 s).
    # c: ad only.
    df = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "b", "c"],
        "touchpoint": ["ad", "view", "view", "ad", "view", "ad"],
        "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:01",
                                     "2024-01-01 10:00", "2024-01-01 10:05",
                                     "2024-01-01 10:10", "2024-01-01 10:00"]),
    })
    log = jm.EventLog.from_pandas(df)
    stages = {"ad": "awareness", "view": "consideration"}
    if engine == "positional":
        f = jm.discover(log, stages=stages, conversion=[]).funnel.set_index("stage")
        assert f.loc["awareness", "median_seconds_to_next"] == 60
    else:
        from journeymine.discovery import _queries as q
        from journeymine.discovery._engine import register

        st = q.steps(register(log), {"ad": 0, "view": 1}, ()).to_pandas()
        first = st[st.first_in_stage].set_index(["customer_id", "stage_rank"])
        assert first.loc[("a", 0), "seconds_to_next_stage"] == 60
        assert pd.isna(first.loc[("b", 0), "seconds_to_next_stage"])
        assert pd.isna(first.loc[("c", 0), "seconds_to_next_stage"])
