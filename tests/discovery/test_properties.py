"""Invariants of discovery on random logs (hypothesis)."""

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeymine as jm

TOUCHPOINTS = ["ig_ad", "search", "product_page", "whatsapp_chat", "checkout", "delivery",
               "review"]

events = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3", "c4", "c5"]),
        st.sampled_from(TOUCHPOINTS),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=40,
)


def to_log(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "seconds"])
    df["ts"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["seconds"], unit="s")
    return jm.EventLog.from_pandas(df.drop(columns="seconds"), drop_duplicates=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_flow_is_conserved(rows):
    log = to_log(rows)
    pm = jm.discover(log)
    n_customers = log.n_customers
    assert pm.edges["count"].sum() == log.n_events - n_customers
    assert sum(pm.start.values()) == sum(pm.end.values()) == n_customers
    assert pm.variants["customers"].sum() == n_customers
    assert pm.variants["cumulative_share"].iloc[-1] == 1.0 or abs(
        pm.variants["cumulative_share"].iloc[-1] - 1.0) < 1e-9
    # every event is entered either from the start or by an edge, and left to the end or an edge
    for node in pm.nodes.itertuples():
        incoming = pm.edges.loc[pm.edges.target == node.touchpoint, "count"].sum()
        outgoing = pm.edges.loc[pm.edges.source == node.touchpoint, "count"].sum()
        assert node.count == incoming + pm.start.get(node.touchpoint, 0)
        assert node.count == outgoing + pm.end.get(node.touchpoint, 0)
    assert (pm.edges["customers"] <= pm.edges["count"]).all()
    assert (pm.edges["median_seconds"] <= pm.edges["p90_seconds"] + 1e-9).all()
    assert (pm.edges["median_seconds"] >= 0).all()
    reached = pm.funnel["reached"].tolist()
    assert reached == sorted(reached, reverse=True)
    assert pm.dropoffs["lost_customers"].sum() == n_customers - pm.summary["converted"]


@settings(max_examples=15, deadline=None)
@given(events, st.floats(min_value=0.05, max_value=1.0))
def test_filters_never_invent_flow(rows, share):
    pm = jm.discover(to_log(rows))
    for view in (pm.filter(paths=share), pm.filter(edges=share)):
        full = pm.edges.set_index(["source", "target"])["count"]
        for r in view.edges.itertuples():
            assert r.count <= full[(r.source, r.target)]
        assert view.to_dict() == pm.to_dict()
    assert pm.filter(paths=share).coverage["customers_share"] >= share - 1e-9
