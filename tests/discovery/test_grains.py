"""Journey grains (customer, episode, session), suggest_gap and EventLog.describe."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeymine as jm
from journeymine.exceptions import (
    ColumnNotFoundError,
    DataQualityWarning,
    InvalidParameterError,
    JourneymineError,
)

STAGES = {"home": "awareness", "product": "consideration", "checkout": "purchase",
          "review": "advocacy"}

# A: two visits to a purchase, a review two days later, back 46 days later.
# B: no purchase; 25 min apart stays one visit, 45 min apart starts a new one.
# C: one visit with two checkouts in a row, then a review.
TINY = [
    ("A", "home", "2024-03-01 10:00"),      # session A#1, episode A#1
    ("A", "product", "2024-03-01 10:05"),   # A#1, A#1
    ("A", "product", "2024-03-02 09:00"),   # A#2 (22h55 later), A#1
    ("A", "checkout", "2024-03-02 09:10"),  # A#2, A#1 (conversion ends the episode)
    ("A", "review", "2024-03-04 12:00"),    # A#3, A#2
    ("A", "home", "2024-04-20 10:00"),      # A#4, A#3 (46 days of inactivity)
    ("A", "product", "2024-04-20 10:03"),   # A#4, A#3
    ("B", "home", "2024-03-10 08:00"),      # B#1, B#1
    ("B", "product", "2024-03-10 08:20"),   # B#1, B#1
    ("B", "product", "2024-03-10 08:45"),   # B#1, B#1
    ("B", "home", "2024-03-10 09:30"),      # B#2, B#1
    ("C", "product", "2024-03-15 20:00"),   # C#1, C#1
    ("C", "checkout", "2024-03-15 20:05"),  # C#1, C#1
    ("C", "checkout", "2024-03-15 20:06"),  # C#1, C#1 (still converting)
    ("C", "review", "2024-03-15 20:10"),    # C#1, C#2
]
SESSION_IDS = (["A#1"] * 2 + ["A#2"] * 2 + ["A#3"] + ["A#4"] * 2 + ["B#1"] * 3 + ["B#2"]
               + ["C#1"] * 4)
EPISODE_IDS = ["A#1"] * 4 + ["A#2"] + ["A#3"] * 2 + ["B#1"] * 4 + ["C#1"] * 3 + ["C#2"]


def frame(rows):
    return pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"])


@pytest.fixture(scope="module")
def tiny():
    return jm.EventLog.from_pandas(frame(TINY), stages=STAGES)


def case_ids(journeys):
    return journeys.log.table.column("customer_id").to_pylist()


# --------------------------------------------------------------------------- hand-checked
def test_sessions_by_gap_counted_by_hand(tiny):
    s = jm.sessionize(tiny, gap="30min")
    assert case_ids(s) == SESSION_IDS
    assert (s.n_journeys, s.n_customers) == (7, 3)
    assert s.log.table.column("jm_customer_id").to_pylist() == [r[0] for r in TINY]
    assert s.log.table.column("jm_case_number").to_pylist() == [
        1, 1, 2, 2, 3, 4, 4, 1, 1, 1, 2, 1, 1, 1, 1]
    cases = s.cases.set_index("case_id")
    assert cases["events"].to_dict() == {"A#1": 2, "A#2": 2, "A#3": 1, "A#4": 2, "B#1": 3,
                                         "B#2": 1, "C#1": 4}
    # the window is 2024-03-01 10:00 .. 2024-04-20 10:03: A#1 starts in its first
    # 30 minutes, A#4 ends in its last 30 minutes
    assert cases.index[cases["censored_start"]].tolist() == ["A#1"]
    assert cases.index[cases["censored_end"]].tolist() == ["A#4"]


def test_episodes_counted_by_hand(tiny):
    e = jm.episodes(tiny, conversion="checkout")
    assert case_ids(e) == EPISODE_IDS
    assert e.n_journeys == 6
    assert "after each conversion (checkout)" in e.gap_source
    # conversions only: A's 46-day gap no longer cuts
    only = jm.episodes(tiny, conversion="checkout", episode_gap=None)
    assert case_ids(only) == ["A#1"] * 4 + ["A#2"] * 3 + ["B#1"] * 4 + ["C#1"] * 3 + ["C#2"]


def test_discover_at_session_grain_by_hand(tiny):
    pm = jm.discover(tiny, grain="session", gap="30min", conversion="checkout")
    assert pm.grain == "session"
    s = pm.summary
    assert (s["grain"], s["journeys"], s["customers"]) == ("session", 7, 3)
    assert (s["censored_start"], s["censored_end"]) == (1, 1)
    assert s["converted"] == 2 and s["conversion_rate"] == pytest.approx(2 / 7)
    assert s["gap_seconds"] == 1800 and "given" in s["gap_source"]
    # 15 events, 7 sessions: 8 transitions, none longer than the 30 min gap
    assert pm.edges["count"].sum() == 8
    assert pm.edges["median_seconds"].max() <= 1800
    assert pm.bottlenecks["median_seconds"].max() <= 1800
    # drop-offs: A#1 and B#1 end at product, A#3 at review, B#2 at home; A#4 is
    # censored at the window end, so it is not a drop-off
    assert pm.dropoffs.set_index("touchpoint")["lost_customers"].to_dict() == {
        "product": 2, "review": 1, "home": 1}
    # returns: after product A 22h55 (82,500 s) and B 45 min (2,700 s); after
    # checkout A 2d 2h50 (183,000 s); after review A 46d 22h (4,053,600 s)
    r = pm.returns.set_index("touchpoint")
    assert r["count"].to_dict() == {"product": 2, "checkout": 1, "review": 1}
    assert r["customers"].to_dict() == {"product": 2, "checkout": 1, "review": 1}
    assert r.loc["product", "median_seconds"] == (82_500 + 2_700) / 2
    assert r.loc["checkout", "median_seconds"] == 183_000
    assert r.loc["review", "p90_seconds"] == 4_053_600
    assert "sessions of 3 customers" in repr(pm)


def test_discover_at_episode_grain_by_hand(tiny):
    pm = jm.discover(tiny, grain="episode", conversion="checkout")
    assert (pm.summary["journeys"], pm.summary["converted"]) == (6, 2)
    assert sum(pm.start.values()) == 6
    assert set(pm.returns["touchpoint"]) == {"checkout", "review"}


def test_process_map_json_has_grain_and_returns(tiny, tmp_path):
    pm = jm.discover(tiny, grain="session", gap="30min", conversion="checkout")
    data = json.loads(pm.to_json(tmp_path / "pm.json").read_text("utf-8"))
    assert data["format"]["version"] == 3
    assert data["grain"] == "session"
    assert data["summary"]["grain"] == "session"
    assert {r["touchpoint"] for r in data["returns"]} == {"product", "checkout", "review"}
    assert set(data["returns"][0]) == {"touchpoint", "count", "customers", "median_seconds",
                                       "p90_seconds"}
    default = jm.discover(tiny).to_dict()
    assert default["grain"] == "customer" and default["returns"] == []


# --------------------------------------------------------------------------- session column
SESSION_ROWS = [
    ("x", "home", "2024-01-01 10:00", "s1"),
    ("x", "product", "2024-01-01 10:01", "s1"),
    ("x", "product", "2024-01-01 10:02", None),   # no id, 1 min later: stays in s1
    ("x", "checkout", "2024-01-01 10:03", "s2"),  # new id: new session
    ("x", "review", "2024-01-01 10:04", "s1"),    # s1 comes back: another session
    ("y", "home", "2024-01-01 10:00", "s1"),      # s1 again, but another customer
    ("y", "home", "2024-01-01 12:00", None),      # no id, 2 h later: new session
]


@pytest.fixture(scope="module")
def with_sessions():
    df = pd.DataFrame(SESSION_ROWS, columns=["customer_id", "touchpoint", "ts", "sessionId"])
    return jm.EventLog.from_pandas(df)


def test_session_column_is_detected_and_split_per_customer(with_sessions):
    with pytest.warns(DataQualityWarning) as record:
        s = jm.sessionize(with_sessions)
    assert case_ids(s) == ["x#1", "x#1", "x#1", "x#2", "x#3", "y#1", "y#2"]
    assert "session column 'sessionId'" in s.gap_source
    messages = " ".join(str(w.message) for w in record)
    assert "2 event(s) have no session id" in messages
    assert "1 session id(s)" in messages and "shared by several customers" in messages
    assert "1 session(s) were split" in messages


def test_session_false_uses_the_gap(with_sessions):
    s = jm.sessionize(with_sessions, session=False, gap="30min")
    assert case_ids(s) == ["x#1"] * 5 + ["y#1", "y#2"]


@pytest.mark.parametrize("name", ["session_id", "ga_session_id", "sessionId", "SESSION",
                                  "sesi", "visit_id", "visitId"])
def test_session_column_names(name):
    df = pd.DataFrame({"user_id": ["a", "a", "a"], "event": ["x", "y", "z"],
                       "ts": ["2024-01-01 10:00", "2024-01-01 10:01", "2024-01-01 10:02"],
                       name: [1, 1, 2]})
    s = jm.sessionize(jm.EventLog.from_pandas(df))
    assert case_ids(s) == ["a#1", "a#1", "a#2"]


def test_session_id_as_the_only_id_stays_the_customer():
    df = pd.DataFrame({"session_id": ["s", "s"], "event": ["x", "y"],
                       "ts": ["2024-01-01", "2024-01-02"]})
    log = jm.EventLog.from_pandas(df)
    assert log.schema.customer == "session_id"
    assert case_ids(jm.sessionize(log, gap="1h")) == ["s#1", "s#2"]


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("gap, match", [
    ("30", "has no unit"), (30, "has no unit"), ("soon", "is not a duration"),
    ("-5min", "is not positive"), ("0s", "is not positive"),
])
def test_bad_gap(tiny, gap, match):
    with pytest.raises(InvalidParameterError, match=match) as info:
        jm.discover(tiny, grain="session", gap=gap)
    assert isinstance(info.value, JourneymineError)
    assert info.value.expected and info.value.fix


def test_bad_episode_gap_and_censor(tiny):
    with pytest.raises(InvalidParameterError, match="episode_gap='a month'"):
        jm.discover(tiny, grain="episode", episode_gap="a month")
    with pytest.raises(InvalidParameterError, match="censor"):
        jm.discover(tiny, censor="later")


def test_unknown_grain_suggests_the_closest(tiny):
    with pytest.raises(InvalidParameterError, match="Did you mean 'session'") as info:
        jm.discover(tiny, grain="sesion")
    assert "'customer', 'episode', 'session'" in info.value.expected
    with pytest.raises(InvalidParameterError, match="Unknown grain"):
        jm.discover(tiny, grain=None)


def test_missing_session_column(tiny, with_sessions):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'sessionId'"):
        jm.sessionize(with_sessions, session="sesionid")
    with pytest.raises(InvalidParameterError, match="customer column"):
        jm.sessionize(tiny, session="customer_id")


# --------------------------------------------------------------------------- default grain
def test_default_grain_is_unchanged(tiny):
    default = jm.discover(tiny, conversion="checkout")
    explicit = jm.discover(tiny, grain="customer", conversion="checkout")
    # one session per customer (a gap longer than the log) gives the same tables
    whole = jm.discover(tiny, grain="session", gap="1000D", censor=False,
                        conversion="checkout")
    assert default.grain == "customer" and default.returns.empty
    assert default.summary["journeys"] == default.summary["customers"] == 3
    for name in ("nodes", "edges", "variants", "funnel", "dropoffs", "loops", "bottlenecks"):
        pd.testing.assert_frame_equal(getattr(default, name), getattr(explicit, name))
        pd.testing.assert_frame_equal(getattr(default, name), getattr(whole, name))
    assert default.start == whole.start and default.end == whole.end
    assert jm.sessionize(tiny, gap="1000D").n_journeys == 3


def test_censoring_at_customer_grain(tiny):
    # A ends in the last day of the window, B 41 days and C 36 days before its end;
    # only B is lost (at home)
    pm = jm.discover(tiny, censor="1D", conversion="checkout")
    assert (pm.summary["censored_start"], pm.summary["censored_end"]) == (1, 1)
    assert pm.dropoffs.set_index("touchpoint")["lost_customers"].to_dict() == {"home": 1}
    pm = jm.discover(tiny, censor="60D", conversion="checkout")
    assert pm.summary["censored_end"] == 3 and pm.dropoffs.empty
    assert pm.summary["converted"] == 2  # censoring changes drop-offs only


# --------------------------------------------------------------------------- properties
events = st.lists(
    st.tuples(st.sampled_from(["c1", "c2", "c3", "c4"]),
              st.sampled_from(["home", "product", "checkout", "review", "chat"]),
              st.integers(min_value=0, max_value=400).map(lambda m: m * 600)),
    min_size=1, max_size=40,
)


def prop_log(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "seconds"])
    df["ts"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["seconds"], unit="s")
    return jm.EventLog.from_pandas(df.drop(columns="seconds"), stages=STAGES,
                                   drop_duplicates=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.sampled_from(["20min", "2h", "1D"]), st.sampled_from([None, "3D"]))
def test_grains_partition_the_events(rows, gap, episode_gap):
    log = prop_log(rows)
    df = log.to_pandas()
    for j in (jm.sessionize(log, gap=gap), jm.episodes(log, episode_gap=episode_gap)):
        t = j.log.to_pandas()
        assert len(t) == len(df) and t["event_index"].tolist() == df["event_index"].tolist()
        assert (t["jm_customer_id"] == df["customer_id"]).all()
        assert (t["customer_id"] == t["jm_customer_id"] + "#"
                + t["jm_case_number"].astype(str)).all()
        assert j.cases["events"].sum() == len(df) and j.n_journeys == t["customer_id"].nunique()
        # cases are contiguous runs numbered 1, 2, ... within each customer
        runs = (t["customer_id"] != t["customer_id"].shift()).sum()
        assert runs == j.n_journeys
        numbers = t.drop_duplicates("customer_id").groupby("jm_customer_id")["jm_case_number"]
        assert all(list(g) == list(range(1, len(g) + 1)) for _, g in numbers)
    # the gap rule: consecutive events share a session iff they are at most `gap` apart
    s = jm.sessionize(log, gap=gap).log.to_pandas()
    same_customer = s["jm_customer_id"] == s["jm_customer_id"].shift()
    close = s["timestamp"].diff() <= pd.Timedelta(gap)
    same_case = s["customer_id"] == s["customer_id"].shift()
    assert (same_case == (same_customer & close)).all()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.sampled_from(["customer", "episode", "session"]))
def test_flow_is_conserved_at_every_grain(rows, grain):
    log = prop_log(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = jm.discover(log, grain=grain, gap="2h")
    n = pm.summary["journeys"]
    assert pm.nodes["count"].sum() == log.n_events  # no grain loses an event
    assert sum(pm.start.values()) == sum(pm.end.values()) == n
    assert pm.edges["count"].sum() == log.n_events - n
    assert pm.variants["customers"].sum() == n
    for node in pm.nodes.itertuples():
        incoming = pm.edges.loc[pm.edges.target == node.touchpoint, "count"].sum()
        outgoing = pm.edges.loc[pm.edges.source == node.touchpoint, "count"].sum()
        assert incoming + pm.start.get(node.touchpoint, 0) == node.count
        assert outgoing + pm.end.get(node.touchpoint, 0) == node.count
    lost = n - pm.summary["converted"]
    assert pm.dropoffs["lost_customers"].sum() <= lost
    if grain == "customer":
        assert pm.dropoffs["lost_customers"].sum() == lost
    assert pm.returns["count"].sum() == (0 if grain == "customer" else n - pm.summary["customers"])


# --------------------------------------------------------------------------- suggest_gap
def visits_log(n_customers=60, visits=8, clicks=6, within="1min", between="3D", seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        t = pd.Timestamp("2024-01-01") + pd.Timedelta(hours=int(rng.integers(0, 48)))
        for _ in range(visits):
            for _ in range(clicks):
                rows.append((f"c{c}", "page", t))
                t += pd.Timedelta(within) * rng.lognormal(0, 0.5)
            t += pd.Timedelta(between) * rng.lognormal(0, 0.5)
    return jm.EventLog.from_pandas(frame(rows))


def test_suggest_gap_finds_the_valley():
    g = jm.suggest_gap(visits_log())
    assert g.bimodal
    assert pd.Timedelta("5min") < g.gap < pd.Timedelta("1D")
    assert 20 < g.within_mode_seconds < 300 and 86400 < g.between_mode_seconds < 10 * 86400
    assert len(g.bin_edges) == len(g.counts) + 1 and g.counts.sum() == g.n_gaps - g.zero_gaps
    assert "valley" in g.reason and "bimodal" in repr(g)
    assert list(g.to_frame().columns) == ["left_seconds", "right_seconds", "count"]
    json.dumps(g.to_dict())
    # the session grain then uses it
    s = jm.sessionize(visits_log())
    assert s.gap == g.gap and "suggested" in s.gap_source
    assert s.n_journeys == 60 * 8


def test_suggest_gap_falls_back_when_not_bimodal():
    rng = np.random.default_rng(1)
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        np.cumsum(rng.lognormal(np.log(600), 0.3, 500)), unit="s")
    g = jm.suggest_gap(jm.EventLog.from_pandas(frame([("a", "page", t) for t in stamps])))
    assert not g.bimodal and g.gap == pd.Timedelta("30min")
    assert "30min is used" in g.reason and g.within_mode_seconds is None
    few = jm.suggest_gap(jm.EventLog.from_pandas(frame(TINY[:3])))
    assert not few.bimodal and "too few" in few.reason
    with pytest.raises(InvalidParameterError):
        jm.suggest_gap(visits_log(), bins_per_decade=1)


def test_suggest_gap_on_a_narrow_histogram():
    # every gap is one minute: a single histogram bin, fewer than the 5 of
    # the smoothing kernel (this raised IndexError)
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(200) * 60, unit="s")
    g = jm.suggest_gap(jm.EventLog.from_pandas(frame([("a", "page", t) for t in stamps])))
    assert not g.bimodal and g.gap == pd.Timedelta("30min") and g.counts.sum() == 199


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(1, 1e7), min_size=0, max_size=60), st.integers(1, 4))
def test_suggest_gap_never_fails(gaps, customers):
    # any gaps, any number of customers: a suggestion with a positive gap
    rows = [(f"c{i % customers}", "page", pd.Timestamp("2024-01-01") + pd.Timedelta(seconds=t))
            for i, t in enumerate(np.cumsum([0.0, *gaps]))]
    g = jm.suggest_gap(jm.EventLog.from_pandas(frame(rows), drop_duplicates=False))
    assert g.gap > pd.Timedelta(0) and len(g.bin_edges) == len(g.counts) + 1
    assert g.bimodal or g.gap == pd.Timedelta("30min")


# --------------------------------------------------------------------------- describe
def test_describe_profiles_the_tiny_log():
    rows = [*TINY, ("zed", "xyzzy_widget", "2024-03-20 10:00"),
            ("zed", "xyzzy_widget", "2024-03-20 10:00")]  # an exact duplicate
    with pytest.warns(DataQualityWarning, match="duplicate"):
        log = jm.EventLog.from_pandas(frame(rows), stages=STAGES)
    p = log.describe()
    assert (p.events, p.customers, p.touchpoints) == (16, 4, 5)
    assert p.events_per_customer == {"median": 4.0, "p90": pytest.approx(6.1), "max": 7.0}
    # spans: A 50 days, B 1.5 h, C 10 min, zed 0
    assert p.span_seconds["median"] == (600 + 5400) / 2
    assert p.window == (pd.Timestamp("2024-03-01 10:00"), pd.Timestamp("2024-04-20 10:03"))
    assert p.repeat_share == pytest.approx(3 / 12)  # product, product, checkout repeats
    assert p.duplicates_dropped == 1
    assert p.unmapped == ("xyzzy_widget",)
    assert p.suggested_grain == "customer"
    text = repr(p)
    assert text.startswith("LogProfile(16 events, 4 customers, 5 touchpoints)")
    assert "suggested grain  customer" in text and "xyzzy_widget" in text
    json.dumps(p.to_dict())


def test_describe_suggests_sessions_for_long_histories():
    p = visits_log(n_customers=5).describe()
    assert p.suggested_grain == "session"
    assert "more than 30 events or 7 days" in p.grain_reason
    assert p.gaps.bimodal


# --------------------------------------------------------------------------- clickstream
def test_clickstream_session_bottleneck_is_a_wait_inside_a_visit():
    make_clickstream = pytest.importorskip("journeymine.datasets").__dict__.get(
        "make_clickstream")
    if make_clickstream is None:
        pytest.skip("jm.datasets.make_clickstream is not there yet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        log = jm.EventLog.from_pandas(make_clickstream(400, random_state=0))
    session = jm.discover(log, grain="session")
    customer = jm.discover(log)
    gap = session.summary["gap_seconds"]
    assert session.bottlenecks.iloc[0]["median_seconds"] <= gap
    assert customer.bottlenecks.iloc[0]["median_seconds"] > gap
    assert session.summary["journeys"] > session.summary["customers"]
    assert len(session.returns) and (session.returns["median_seconds"] > gap).all()


def test_heavy_tailed_clickstream_suggests_session_grain_and_the_demo_does_not():
    df = jm.datasets.make_clickstream(2000, random_state=0)
    log = jm.EventLog.from_pandas(df, customer="customer_id", activity="event",
                                  timestamp="timestamp", drop_duplicates=True)
    profile = log.describe()
    assert profile.events_per_customer["median"] <= 30  # most customers visit once or twice
    assert profile.suggested_grain == "session"
    assert "of the events belong to customers with more than 30 events" in profile.grain_reason
    assert jm.datasets.load_demo().log.describe().suggested_grain == "customer"
