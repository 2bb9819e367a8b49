"""Long tail: collapse repeats, group names, coverage, sub-path patterns, paths around an anchor."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import journeymine as jm
from journeymine.exceptions import InvalidParameterError, JourneymineError, UnknownTouchpointError


def _log(paths: list[str], sep: str = " ", **kwargs) -> jm.EventLog:
    """One customer per path (touchpoints separated by ``sep``), one minute apart."""
    t0 = pd.Timestamp("2024-01-01")
    rows = [(f"u{i:02d}", tp, t0 + pd.Timedelta(days=i, minutes=k))
            for i, p in enumerate(paths) for k, tp in enumerate(p.split(sep))]
    return jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"]),
                                   **kwargs)


@pytest.fixture(scope="module")
def clickstream():
    df, truth = jm.datasets.make_clickstream(2000, random_state=0, return_truth=True)
    return jm.EventLog.from_pandas(df), truth


# --------------------------------------------------------------------------- collapse
def test_collapse_keeps_every_event():
    log = _log(["a a a b b a", "b", "c c"])
    steps = jm.collapse_repeats(log)
    table = steps.table.to_pandas()
    assert table["activity"].tolist() == ["a", "b", "a", "b", "c"]
    assert table["jm_repeats"].tolist() == [3, 2, 1, 1, 2]
    assert table["jm_repeats"].sum() == log.n_events
    assert table["jm_run_seconds"].tolist() == [120.0, 60.0, 0.0, 0.0, 60.0]


def test_collapse_on_the_clickstream_keeps_every_event_and_sums_revenue(clickstream):
    log, _ = clickstream
    steps = jm.collapse_repeats(log)
    assert steps.table.column("jm_repeats").to_numpy().sum() == log.n_events
    revenue = log.table.column("revenue").to_numpy(zero_copy_only=False)
    collapsed = steps.table.column("revenue").to_numpy(zero_copy_only=False)
    assert np.nansum(collapsed) == pytest.approx(np.nansum(revenue))


def test_discover_collapse_repeats_keeps_self_loops_in_the_loops_table():
    log = _log(["a a a b", "a b b", "a b"])
    raw = jm.discover(log)
    pm = jm.discover(log, collapse_repeats=True)
    assert pm.summary["repeats_collapsed"] == 3
    assert pm.variants["variant"].tolist() == ["a > b"]
    assert not (pm.edges["source"] == pm.edges["target"]).any()
    cols = ["touchpoint", "count", "customers"]

    def loops(p):
        return p.loops[p.loops["kind"] == "self-loop"][cols].sort_values("touchpoint")

    pd.testing.assert_frame_equal(loops(pm).reset_index(drop=True),
                                  loops(raw).reset_index(drop=True), check_dtype=False)


def test_collapse_stays_within_sessions():
    t0 = pd.Timestamp("2024-01-01")
    df = pd.DataFrame({"customer_id": "a", "touchpoint": ["view", "view", "view"],
                       "ts": [t0, t0 + pd.Timedelta(minutes=1), t0 + pd.Timedelta(days=2)]})
    pm = jm.discover(jm.EventLog.from_pandas(df), grain="session", gap="30min",
                     collapse_repeats=True)
    assert pm.summary["journeys"] == 2 and pm.summary["repeats_collapsed"] == 1


def test_collapse_repeats_must_be_a_bool():
    with pytest.raises(InvalidParameterError, match="collapse_repeats"):
        jm.discover(_log(["a b"]), collapse_repeats="yes")


# --------------------------------------------------------------------------- grouping
def test_group_touchpoints_with_a_regex_and_a_dict():
    log = _log(["product_view_12|product_view_7|cart", "Product View|cart", "home"], sep="|")
    by_regex = jm.group_touchpoints(log, [(r"product_view_\d+", "product_view"),
                                          (r"Product View", "product_view")])
    assert by_regex.activities == ["cart", "home", "product_view"]
    assert by_regex.n_events == log.n_events
    by_dict = jm.group_touchpoints(log, {r"product_view_\d+": "product_view", "home": "landing"})
    assert by_dict.activities == ["Product View", "cart", "landing", "product_view"]


def test_group_replacement_uses_regex_groups_and_exact_names_are_literal():
    log = _log(["page.1 pageX1 step-2"])
    out = jm.group_touchpoints(log, {"page.1": "first", r"step-(\d)": r"step \1"})
    assert out.activities == ["first", "pageX1", "step 2"]


def test_discover_rename_says_what_was_grouped():
    log = _log(["product_view_1 cart", "product_view_2 cart", "product_view cart"])
    pm = jm.discover(log, rename={r"product_view_\d+": "product_view"})
    assert pm.summary["grouped"] == {"product_view": ["product_view_1", "product_view_2"]}
    assert pm.variants["variant"].tolist() == ["product_view > cart"]
    assert jm.discover(log).summary["grouped"] == {}


def test_suggest_groups_on_messy_names():
    names = ["Product View", "product-view", "product_view_123", "productView", "product_view",
             "Add To Cart", "add_to_cart", "checkout_a1b2c3d4", "checkout", "Store Visit", "cart"]
    log = _log(["|".join(names)], sep="|")
    groups = jm.suggest_groups(log)
    assert groups == {"Add To Cart": "add_to_cart", "Product View": "product_view",
                      "checkout_a1b2c3d4": "checkout", "product-view": "product_view",
                      "productView": "product_view", "product_view_123": "product_view"}
    assert jm.group_touchpoints(log, groups).activities == [
        "Store Visit", "add_to_cart", "cart", "checkout", "product_view"]


def test_suggest_groups_on_the_clickstream_groups_product_ids_only(clickstream):
    log, _ = clickstream
    groups = jm.suggest_groups(log)
    assert set(groups.values()) == {"product_view"}
    assert all(name.startswith("product_view_") for name in groups)


@pytest.mark.parametrize("mapping, match", [
    ({"(": "x"}, "not a valid regular expression"),
    ("product_view", "not a mapping"),
    ([("a",)], "pair of strings"),
    ({"a": " "}, "empty name"),
])
def test_bad_mappings(mapping, match):
    with pytest.raises(InvalidParameterError, match=match) as info:
        jm.group_touchpoints(_log(["a b"]), mapping)
    assert info.value.expected and info.value.fix


# --------------------------------------------------------------------------- coverage
def test_variant_coverage_curve():
    pm = jm.discover(_log(["a b"] * 3 + ["a c"] * 2 + ["a"] * 5))
    curve = pm.variant_coverage()
    assert curve["k"].tolist() == [1, 2, 3]
    assert curve["share"].tolist() == pytest.approx([0.5, 0.8, 1.0])
    paths = pm.variant_coverage(min_length=2)
    assert paths["variant"].tolist() == ["a > b", "a > c"]
    assert paths["share"].tolist() == pytest.approx([0.6, 1.0])
    with pytest.raises(InvalidParameterError):
        pm.variant_coverage(0)


def test_long_tail_flag_on_the_clickstream_sessions(clickstream, caplog):
    log, _ = clickstream
    with caplog.at_level(logging.INFO, logger="journeymine.discovery._discover"):
        pm = jm.discover(log, grain="session")
    assert pm.summary["long_tail"] is True
    assert pm.summary["path_coverage_top10"] < 0.2
    assert pm.summary["path_coverage_top10"] == pytest.approx(
        pm.variant_coverage(10, min_length=2)["share"].iloc[-1])
    assert len(pm.variants) == pm.summary["variants"]  # the variants stay complete
    messages = [r.getMessage() for r in caplog.records if "Long tail" in r.getMessage()]
    assert len(messages) == 1 and "jm.patterns" in messages[0]


def test_make_journeys_is_long_tailed_too_but_a_short_tail_is_not_flagged(caplog):
    # make_journeys: ~10 events over 20 touchpoints, so most paths are unique as well.
    pm = jm.discover(jm.datasets.make_journeys(2000, random_state=0))
    assert pm.variant_coverage(10)["share"].iloc[-1] < 0.2 and pm.summary["long_tail"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="journeymine.discovery._discover"):
        short = jm.discover(_log(["a b c"] * 30 + ["a b"] * 20 + [f"a x{i}" for i in range(40)]))
    assert short.summary["long_tail"] is False
    # the top 10: 30 + 20 + 8 unique ones
    assert short.summary["path_coverage_top10"] == pytest.approx(58 / 90)
    assert not [r for r in caplog.records if "Long tail" in r.getMessage()]


# --------------------------------------------------------------------------- patterns
def test_patterns_counted_by_hand():
    log = _log(["a b c buy", "a b c", "a b", "x a b c buy", "a b a b"])
    df = jm.patterns(log, conversion="buy", min_journeys=1, top=None, closed=False)
    row = df.set_index("pattern")
    # a > b is in all 5 journeys (twice in the last one: counted once)
    assert row.loc["a > b", "journeys"] == 5
    assert row.loc["b > c", "journeys"] == 3
    assert row.loc["a > b > c", "journeys"] == 3
    assert row.loc["x > a > b > c", "journeys"] == 1
    assert row.loc["b > a > b", "journeys"] == 1
    # only steps before the conversion count
    assert not df["pattern"].str.contains("buy").any()
    # a > b > c: 2 of 3 convert; the other journeys reaching `a` convert 0 of 2
    assert row.loc["a > b > c", "conversion"] == pytest.approx(2 / 3)
    assert row.loc["a > b > c", "baseline"] == 0.0 and np.isnan(row.loc["a > b > c", "lift"])
    # b > a: 0 of 1; reached `b` without it: 2 of 4 -> lift 0
    assert row.loc["b > a", "lift"] == 0.0 and row.loc["b > a", "baseline"] == 0.5
    assert set(df["length"]) == {2, 3, 4}
    assert df["share"].max() == 1.0
    assert list(df.columns) == ["pattern", "length", "journeys", "share", "conversion",
                                "baseline", "lift", "lift_low", "lift_high"]


def test_patterns_drop_sub_paths_explained_by_a_longer_one():
    log = _log(["a b c buy", "a b c", "a b", "x a b c buy", "a b a b"])
    every = jm.patterns(log, conversion="buy", min_journeys=1, top=None, closed=False)
    df = jm.patterns(log, conversion="buy", min_journeys=1, top=None)
    # journeys before the purchase: abc, abc, ab, xabc, abab. Dropped (same journeys as a
    # pattern one step longer that starts or ends with it):
    #   b > c (3)  = a > b > c (3): every b > c comes after a
    #   x > a (1)  = x > a > b (1) = x > a > b > c (1); a > b > c (3) stays, x > a > b > c (1)
    #   is rarer; b > a (1) = a > b > a (1) = b > a > b (1) = a > b > a > b (1)
    assert set(every["pattern"]) - set(df["pattern"]) == {
        "b > c", "x > a", "x > a > b", "b > a", "a > b > a", "b > a > b"}
    assert df["pattern"].tolist() == ["a > b", "a > b > c", "a > b > a > b", "x > a > b > c"]
    # what is kept is unchanged: same counts, conversion and lift as without the rule
    kept = every.set_index("pattern").loc[df["pattern"]].reset_index()
    pd.testing.assert_frame_equal(df, kept)


def test_patterns_never_drop_the_longest_or_a_pattern_with_more_journeys():
    # a > b in 4 journeys, a > b > c in 3: a > b says something a > b > c does not
    log = _log(["a b c"] * 3 + ["a b"])
    df = jm.patterns(log, min_journeys=1, max_len=2, top=None)
    # with max_len=2 the 3-step extension is not counted, so b > c is kept
    assert df.set_index("pattern")["journeys"].to_dict() == {"a > b": 4, "b > c": 3}
    assert jm.patterns(log, min_journeys=1, top=None)["pattern"].tolist() == ["a > b",
                                                                              "a > b > c"]


def test_patterns_min_support_lengths_and_baseline():
    log = _log(["a b c buy"] * 6 + ["a b"] * 6 + ["a c"] * 4 + ["c buy"] * 4)
    df = jm.patterns(log, conversion="buy", min_journeys=5, min_len=2, max_len=2, top=None)
    assert df["pattern"].tolist() == ["a > b", "b > c"]
    first = df.set_index("pattern").loc["a > b"]
    # reached `a`: 16 journeys; with a > b 12 (6 convert), without 4 (0 convert)
    assert first["conversion"] == 0.5 and first["baseline"] == 0.0
    every = jm.patterns(log, conversion="buy", min_journeys=5, max_len=2, baseline="all",
                        top=None).set_index("pattern").loc["a > b"]
    assert every["baseline"] == pytest.approx(4 / 8)
    assert every["lift"] == pytest.approx(1.0)
    assert every["lift_low"] < 1 < every["lift_high"]


def test_patterns_lift_interval_matches_the_katz_interval_on_large_counts():
    paths = ["a b buy"] * 300 + ["a b"] * 700 + ["a c buy"] * 500 + ["a c"] * 500
    row = jm.patterns(_log(paths), conversion="buy", max_len=2, top=None).set_index(
        "pattern").loc["a > b"]
    assert row["lift"] == pytest.approx(0.6)
    se = np.sqrt(1 / 300 - 1 / 1000 + 1 / 500 - 1 / 1000)
    assert row["lift_low"] == pytest.approx(0.6 * np.exp(-1.96 * se), rel=0.02)
    assert row["lift_high"] == pytest.approx(0.6 * np.exp(1.96 * se), rel=0.02)


def test_patterns_from_a_map_equal_patterns_from_the_log(clickstream):
    log, _ = clickstream
    from_log = jm.patterns(log, grain="session", top=None)
    from_map = jm.patterns(jm.discover(log, grain="session"), top=None)
    pd.testing.assert_frame_equal(from_log, from_map)


def test_patterns_find_the_planted_checkout_loop_with_lift_below_one(clickstream):
    log, truth = clickstream
    df = jm.patterns(log, grain="session", collapse_repeats=True, top=None)
    loops = {" > ".join(p) for p in [("cart", "shipping_details", "add_to_cart"),
                                     ("shipping_details", "add_to_cart"),
                                     ("cart", "add_to_cart"),
                                     ("cart", "shipping_details", "cart")]}
    found = df[df["pattern"].isin(loops)]
    assert len(found) == len(loops)
    assert (found["lift_high"] < 1).all(), found
    # the planted edges really are the loop's (sanity of the test itself)
    assert ("shipping_details", "add_to_cart") in truth.loop_edges
    # while the forward checkout path is not a barrier
    forward = df.set_index("pattern").loc["cart > shipping_details > payment"]
    assert forward["lift_low"] > 1


@pytest.mark.parametrize("kwargs, match", [
    ({"min_len": 0}, "min_len"), ({"min_len": 3, "max_len": 2}, "max_len"),
    ({"top": 0}, "top"), ({"min_journeys": 0}, "min_journeys"),
    ({"baseline": "first"}, "Did you mean 'first_step'"), ({"sort": "lifts"}, "Did you mean"),
    ({"closed": "yes"}, "closed"),
])
def test_patterns_bad_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match) as info:
        jm.patterns(_log(["a b"]), **kwargs)
    assert info.value.expected and info.value.fix


def test_patterns_bad_input():
    with pytest.raises(JourneymineError, match="EventLog or a ProcessMap"):
        jm.patterns(pd.DataFrame())
    pm = jm.discover(_log(["a b"]))
    with pytest.raises(InvalidParameterError, match="grain only apply to an EventLog"):
        jm.patterns(pm, grain="session")


def test_patterns_on_a_log_without_any_frequent_pattern():
    df = jm.patterns(_log(["a", "b"]), min_journeys=1)
    assert df.empty and list(df.columns) == list(jm.patterns(_log(["a b"])).columns)


# --------------------------------------------------------------------------- paths
def test_paths_from_counted_by_hand():
    log = _log(["a cart pay x", "cart pay", "a cart", "cart a b", "b", "cart cart y"])
    p = jm.paths_from(log, "cart", steps=2, top=1)
    assert p.journeys == 5
    nodes = p.steps().set_index(["step", "touchpoint"])["journeys"]
    assert nodes[(0, "cart")] == 5
    assert nodes[(1, "pay")] == 2 and nodes[(1, "(end)")] == 1 and nodes[(1, "other")] == 2
    assert nodes[(2, "(end)")] == 1  # the journey "cart pay" stops after pay
    assert nodes[(2, "b")] == 1 and nodes[(2, "other")] == 2  # x, b, y tie: by name
    assert nodes.xs(2, level="step").sum() == 4  # the journey that stopped at step 1 is gone
    flows = p.table.set_index(["step", "touchpoint", "next"])["journeys"]
    assert flows[(1, "pay", "other")] == 1 and flows[(1, "pay", "(end)")] == 1
    assert p.table["share"].sum() == pytest.approx(p.table["journeys"].sum() / 5)


def test_paths_to_counted_by_hand_and_from_a_map():
    log = _log(["a b cart", "b cart", "cart", "x cart cart"])
    p = jm.paths_to(log, "cart", steps=2)
    nodes = p.steps().set_index(["step", "touchpoint"])["journeys"]
    assert nodes[(-1, "b")] == 2 and nodes[(-1, "(start)")] == 1 and nodes[(-1, "x")] == 1
    assert nodes[(-2, "a")] == 1 and nodes[(-2, "(start)")] == 2
    assert p.table["step"].is_monotonic_increasing
    from_map = jm.paths_to(jm.discover(log), "cart", steps=2)
    pd.testing.assert_frame_equal(p.table, from_map.table)


def test_paths_bad_input():
    log = _log(["add_to_cart pay"])
    with pytest.raises(UnknownTouchpointError, match="Did you mean 'add_to_cart'") as info:
        jm.paths_from(log, "add_to_kart")
    assert info.value.expected and info.value.fix
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidParameterError, match="steps"):
            jm.paths_from(log, "pay", steps=bad)
    with pytest.raises(InvalidParameterError, match="top"):
        jm.paths_to(log, "pay", top=0)


def test_paths_on_the_clickstream(clickstream):
    log, _ = clickstream
    p = jm.paths_from(log, "add_to_cart", grain="session", steps=3, top=5)
    first = p.steps().query("step == 1").set_index("touchpoint")["journeys"]
    assert first.idxmax() == "cart"
    assert "(end)" in first.index and "other" in first.index
    assert len(first) <= 5 + 2
    assert p.to_dict()["journeys"] == p.journeys
