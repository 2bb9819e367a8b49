"""The report's returns, session-gap histogram, long-tail and measurement sections (no browser)."""

from __future__ import annotations

import html as html_lib
import logging
import re

import pandas as pd
import pytest

import journeymine as jm
from journeymine.reporting._histogram import render_gap_histogram
from journeymine.reporting._journey_report import render_report


@pytest.fixture(autouse=True)
def _quiet():
    logging.disable(logging.WARNING)  # unmapped touchpoints, duplicates
    yield
    logging.disable(logging.NOTSET)


def small_log() -> jm.EventLog:
    """Three customers, two sessions each at a 30 min gap (hand-countable returns)."""
    rows = [("a", "home", "2024-01-01 10:00"), ("a", "cart", "2024-01-01 10:05"),
            ("a", "home", "2024-01-03 10:00"),
            ("b", "home", "2024-01-01 10:00"), ("b", "cart", "2024-01-02 10:00"),
            ("b", "pay", "2024-01-02 10:01"),
            ("c", "home", "2024-01-01 12:00"), ("c", "cart", "2024-01-01 12:10"),
            ("c", "home", "2024-01-01 18:10")]
    return jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"]))


def section(html: str, sid: str) -> str:
    found = re.search(rf'<section id="{sid}">.*?</section>', html, flags=re.S)
    assert found, f"no section {sid}"
    return found.group(0)


def cells(html: str) -> list[list[str]]:
    return [[html_lib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in
            re.findall(r"<tr>(.*?)</tr>", html, flags=re.S) if "<td" in row]


@pytest.fixture(scope="module")
def tail():
    df = jm.datasets.make_clickstream(1500, random_state=0)
    log = jm.EventLog.from_pandas(df)
    pm = jm.discover(log, grain="session")
    assert pm.summary["long_tail"]
    return log, pm


# --------------------------------------------------------------------------- returns
def test_returns_are_counted_by_hand_and_kept_apart_from_bottlenecks():
    pm = jm.discover(small_log(), grain="session", gap="30min", conversion="pay")
    rows = cells(section(pm.to_html(), "returns"))
    # after cart: a comes back 2 days − 5 min later (172,500 s), c after 6 h (21,600 s):
    # median 97,050 s = 1.1d, p90 21,600 + 0.9 × 150,900 = 157,410 s = 1.8d
    # after home: b comes back 24 h later
    assert rows == [["cart", "2", "2", "1.1d", "1.8d"], ["home", "1", "1", "1d", "1d"]]
    assert "above the 30m session gap" in section(pm.to_html(), "returns")
    bottlenecks = section(pm.to_html(), "bottlenecks")
    assert "1.1d" not in bottlenecks and "1d" not in bottlenecks


def test_no_returns_section_at_customer_grain():
    html = jm.discover(small_log(), conversion="pay").to_html()
    assert 'id="returns"' not in html


def test_returns_table_is_capped(tail):
    _, pm = tail
    rows = cells(section(pm.to_html(), "returns"))
    assert len(pm.returns) > 10 and len(rows) == 11
    assert rows[-1][0] == f"… and {len(pm.returns) - 10:,} more"
    assert [r[0] for r in rows[:10]] == pm.returns["touchpoint"].head(10).tolist()


# --------------------------------------------------------------------------- gap histogram
def test_gap_histogram_has_one_bar_per_bin_and_marks_the_gap(tail):
    log, pm = tail
    gaps = jm.suggest_gap(log)
    html = pm.to_html(gaps=gaps)
    block = section(html, "session-gap")
    svg = re.search(r'<svg[^>]*class="jm-gaps".*?</svg>', block, flags=re.S).group(0)
    assert svg.count('class="jm-bar"') == len(gaps.counts)
    # the bars' tooltips hold the counts: they add up to the positive gaps
    counts = [int(n.replace(",", "")) for n in re.findall(r": ([\d,]+)</title></rect>", svg)]
    assert sum(counts) == gaps.counts.sum() == gaps.n_gaps - gaps.zero_gaps
    assert svg.count('class="jm-mark"') == 1 and "suggested 30m" in svg
    assert gaps.reason in block
    # a LogProfile works too and gives the same picture
    assert pm.to_html(gaps=log.describe()) == html
    assert 'id="session-gap"' not in pm.to_html()


def test_gap_histogram_marks_the_gap_used_when_it_differs(tail):
    log, _ = tail
    pm = jm.discover(log, grain="session", gap="2h", session=False)
    svg = re.search(r'<svg[^>]*class="jm-gaps".*?</svg>', pm.to_html(gaps=jm.suggest_gap(log)),
                    flags=re.S).group(0)
    assert svg.count('class="jm-mark"') == 2 and "used 2h" in svg and "suggested 30m" in svg


def test_gap_histogram_positions_bars_on_a_log_axis():
    svg = render_gap_histogram([1, 10, 100, 1000], [4, 0, 2], marks=[("gap", 10)])
    xs = [float(x) for x in re.findall(r'class="jm-bar" x="([\d.]+)"', svg)]
    # equal widths on the log axis: three bins of one decade each
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.2)
    heights = [float(h) for h in re.findall(r'class="jm-bar"[^>]*height="([\d.]+)"', svg)]
    assert heights[0] == pytest.approx(2 * heights[2]) and heights[1] == 0
    mark = float(re.search(r'class="jm-mark" x1="([\d.]+)"', svg).group(1))
    assert mark == pytest.approx(xs[1], abs=0.01)  # 10 s is the second bin's left edge
    assert render_gap_histogram([1, 10], [0, 1]) == ""  # edges and counts do not match


# --------------------------------------------------------------------------- long tail
def test_long_tail_is_said_first_and_patterns_and_paths_are_shown(tail):
    _, pm = tail
    html = pm.to_html()
    note = re.search(r'<div class="callout" id="long-tail"[^>]*>(.*?)</div>', html, flags=re.S)
    coverage = f"{100 * pm.summary['path_coverage_top10']:.1f}%"
    assert note and coverage in note.group(1)
    assert html.index('id="long-tail"') < html.index('id="journey-map"')
    found = jm.patterns(pm, top=None)
    block = section(html, "patterns")
    tables = re.findall(r"<tbody>(.*?)</tbody>", block, flags=re.S)
    by_journeys, by_lift = (cells(t) for t in tables)
    assert [r[0] for r in by_journeys[:10]] == found["pattern"].head(10).tolist()
    assert by_journeys[-1][0] == f"… and {len(found) - 10:,} more"
    lowest = found[found["lift_high"] < 1].sort_values(["lift", "journeys", "pattern"],
                                                       ascending=[True, False, True])
    assert len(lowest) > 0 and [r[0] for r in by_lift[:10]] == lowest["pattern"].head(10).tolist()
    # the generator's planted barriers: the checkout loop and the pop-up
    barriers = " | ".join(r[0] for r in by_lift)
    assert "shipping_details > cart" in barriers and "shipping_cost_popup" in barriers
    first = found.iloc[0]
    assert by_journeys[0][1] == f"{first['journeys']:,}"
    assert by_journeys[0][5] == (f"{first['lift']:.2f} ({first['lift_low']:.2f}–"
                                 f"{first['lift_high']:.2f})")


def test_long_tail_paths_run_to_the_conversion_and_from_the_top_dropoff(tail):
    _, pm = tail
    html = pm.to_html()
    block = section(html, "paths")
    to = jm.paths_to(pm, "order_complete")
    after = jm.paths_from(pm, pm.dropoffs["touchpoint"].iloc[0])
    for paths, sid, word in ((to, "paths-to", "before"), (after, "paths-from", "after")):
        part = re.search(rf'<div id="{sid}">.*?</table>', block, flags=re.S).group(0)
        title = f"Journeys {word} {paths.anchor} ({paths.journeys:,})"
        assert paths.to_svg(title=title) in part  # the Sankey, byte for byte
        rows = cells(part)
        steps = paths.steps()
        assert len(rows) == steps["step"].nunique() == 4  # anchor and 3 steps
        anchor = next(r for r in rows if r[0] == "anchor")[1]
        assert anchor == f"{paths.anchor} 100.0% ({paths.journeys:,})"
    assert html.count('class="jm-sankey"') == 2
    assert "<script" not in html.lower()


def test_a_short_tail_shows_no_patterns_or_paths():
    pm = jm.discover(small_log(), grain="session", gap="30min")
    assert not pm.summary.get("long_tail")
    html = pm.to_html()
    for sid in ("long-tail", "patterns", "paths"):
        assert f'id="{sid}"' not in html


# --------------------------------------------------------------------------- attribution
def channel_log() -> jm.EventLog:
    """Two converting journeys and one that is not, on four channels (hand-countable credit)."""
    rows = [("a", "ig_ad", "social", "2024-01-01 10:00"),
            ("a", "newsletter", "email", "2024-01-02 10:00"),
            ("a", "product", "web", "2024-01-03 10:00"),
            ("a", "checkout", "web", "2024-01-03 10:10"),
            ("b", "search_ad", "search", "2024-01-01 09:00"),
            ("b", "product", "web", "2024-01-01 09:05"),
            ("b", "checkout", "web", "2024-01-01 09:20"),
            ("c", "ig_ad", "social", "2024-01-02 12:00"),
            ("c", "product", "web", "2024-01-02 12:05")]
    return jm.EventLog.from_pandas(
        pd.DataFrame(rows, columns=["customer_id", "touchpoint", "channel", "ts"]))


def test_attribution_section_shows_shares_and_roles_counted_by_hand(tmp_path):
    log = channel_log()
    result = jm.attribute(log, "checkout", model=["first_touch", "last_touch", "linear"])
    pm = jm.discover(log, conversion="checkout")
    assert 'id="attribution"' not in pm.to_html()
    block = section(pm.to_html(attribution=result), "attribution")
    assert "Which channels open, assist and close journeys" in block
    assert "2 conversions of 2 converting customer journeys (of 3)" in block
    heads = [html_lib.unescape(h) for h in re.findall(r"<th(?: [^>]*)?>(.*?)</th>", block)]
    assert heads == ["channel", "first touch", "last touch", "linear", "opens", "assists",
                     "closes", "role"]
    # touches before checkout: a social > email > web, b search > web (c never converts).
    # first touch: social 1, search 1; last touch: web 2; linear: a 1/3 each, b 1/2 each
    # -> web 1/3 + 1/2 = 5/6 of 2 = 41.7%, search 25%, social and email 1/6 = 16.7% each.
    # roles: social and search open one journey each, email assists a, web closes both.
    rows = {r[0]: r[1:] for r in cells(block)}
    assert rows == {
        "web": ["0.0%", "100.0%", "41.7%", "0", "0", "2", "closes"],
        "search": ["50.0%", "0.0%", "25.0%", "1", "0", "0", "opens"],
        "email": ["0.0%", "0.0%", "16.7%", "0", "1", "0", "assists"],
        "social": ["50.0%", "0.0%", "16.7%", "1", "0", "0", "opens"],
    }
    assert [r[0] for r in cells(block)][:2] == ["web", "search"]  # by the last model's share
    written = pm.save(tmp_path, attribution=result)
    assert "attribution.csv" in [p.name for p in written]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "attribution.csv")[["channel", "model"]],
                                  result.table[["channel", "model"]])


def test_attribution_section_is_capped_at_top_channels():
    rows = [(f"c{i}", f"ad{i}", f"ch{i:02d}", "2024-01-01 10:00") for i in range(12)]
    rows += [(f"c{i}", "checkout", "web", "2024-01-01 11:00") for i in range(12)]
    log = jm.EventLog.from_pandas(
        pd.DataFrame(rows, columns=["customer_id", "touchpoint", "channel", "ts"]))
    result = jm.attribute(log, "checkout", model="linear")
    block = section(jm.discover(log, conversion="checkout").to_html(attribution=result),
                    "attribution")
    # 12 channels credited 1/12 each (web only converts), plus web without credit: 13 rows,
    # 10 shown and the rest counted
    shown = cells(block)
    assert len(shown) == 11 and shown[-1][0] == "… and 3 more"


# --------------------------------------------------------------------------- channel gaps
def test_channel_gaps_follow_the_switches_worst_first(channel_switchers, tmp_path):
    html = channel_switchers.to_html()
    assert html.index('id="channel-switches"') < html.index('id="channel-gaps"')
    rows = cells(section(html, "channel-gaps"))
    # overall conversion 2/3: app -> chat, chat -> app and social -> app lose 1 x 2/3 each;
    # web -> chat only after C's purchase (no open journey), search -> web and
    # social -> web convert (1 x (2/3 - 1) = -1/3)
    assert [(r[0], r[-1]) for r in rows] == [
        ("app → chat", "+0.7"), ("chat → app", "+0.7"), ("social → app", "+0.7"),
        ("web → chat", "+0.0"), ("search → web", "-0.3"), ("social → web", "-0.3")]
    by = {r[0]: r for r in rows}
    # chat -> app is B's last event: ended at the switch; waits 30 min
    assert by["chat → app"][1:5] == ["1", "0.0% [0%–79%]", "100.0%", "30m"]
    assert by["web → chat"][1:3] == ["0", "–"]
    # web -> chat waits 1 h against 30 min between two web steps
    assert by["web → chat"][4:6] == ["1h", "30m"]
    written = channel_switchers.save(tmp_path)
    assert "channel_gaps.csv" in [p.name for p in written]
    table = pd.read_csv(tmp_path / "channel_gaps.csv")
    assert table["to_channel"].tolist() == channel_switchers.channel_gaps["to_channel"].tolist()
    assert table["lost_conversions"].round(4).tolist() == [0.6667] * 3 + [0.0, -0.3333, -0.3333]


def test_channel_gaps_are_capped_and_absent_without_channels(channel_switchers):
    rows = cells(section(render_report(channel_switchers, top=2), "channel-gaps"))
    assert [r[0] for r in rows] == ["app → chat", "chat → app", "… and 4 more"]
    assert 'id="channel-gaps"' not in jm.discover(small_log()).to_html()


# --------------------------------------------------------------------------- conformance
def test_conformance_line_gives_fitness_and_the_top_deviations():
    pytest.importorskip("pm4py")
    # designed ad > page > buy: a follows it, b skips the page, c sees the page before the ad.
    # Token replay (tests/measurement/test_conformance.py): fitness 1, 6/7, 8/9, mean 0.92;
    # deviations: page skipped (b) and page out of order (c), one customer (33%) each.
    rows = [(c, tp, f"2024-01-0{i + 1}") for c, steps in
            {"a": ["ad", "page", "buy"], "b": ["ad", "buy"], "c": ["page", "ad", "buy"]}.items()
            for i, tp in enumerate(steps)]
    log = jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"]))
    result = jm.conformance(log, designed=["ad", "page", "buy"])
    pm = jm.discover(log, conversion="buy")
    assert 'id="conformance"' not in pm.to_html()
    block = html_lib.unescape(section(pm.to_html(conformance=result), "conformance"))
    assert "33% of 3 customers follow the designed journey (mean fitness 0.92" in block
    assert "Designed: ad > page > buy." in block
    top = block.split("Top deviations: ")[1].split(".</p>")[0].split("; ")
    assert sorted(top) == ["page out of order (1 customer, 33%)", "page skipped (1 customer, 33%)"]
