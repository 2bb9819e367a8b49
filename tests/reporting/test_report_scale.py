"""The report, the SVG map and the layout stay bounded however many touchpoints a log has.

Timings are not asserted here; ``benchmarks/bench_report.py`` measures them.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import re

import numpy as np
import pandas as pd
import pytest

import journeymine as jm
from journeymine.exceptions import InvalidParameterError, JourneymineError
from journeymine.reporting._layout import MAX_LAYOUT_ITEMS, Layout, layered_layout
from journeymine.reporting._svg import MAX_DRAWN_EDGES, MAX_DRAWN_TOUCHPOINTS

NODE = re.compile(r'<g class="jm-node">')  # touchpoints (Start and End are "jm-node jm-pseudo")
EDGE = re.compile(r'<g class="jm-edge"><title>[^<]*</title><path [^>]*/>')


def make_log(n_touchpoints: int, n_events: int = 100_000, seed: int = 0) -> jm.EventLog:
    """``n_events`` events of 10 per customer over exactly ``n_touchpoints`` names, Zipf-like."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_touchpoints + 1)
    drawn = rng.choice(n_touchpoints, size=n_events - n_touchpoints, p=weights / weights.sum())
    codes = rng.permutation(np.concatenate([np.arange(n_touchpoints), drawn]))
    names = np.array([f"tp{i:05d}" for i in range(n_touchpoints)], dtype=object)
    customer = np.arange(n_events) // 10
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(customer * 60 + np.arange(n_events) % 10,
                                                      unit="min")
    df = pd.DataFrame({"customer_id": customer.astype(str), "touchpoint": names[codes], "ts": ts})
    return jm.EventLog.from_pandas(df)


def discover(log: jm.EventLog, **kwargs) -> jm.ProcessMap:
    logging.disable(logging.WARNING)  # the unmapped-touchpoint warning lists every name
    try:
        return jm.discover(log, **kwargs)
    finally:
        logging.disable(logging.NOTSET)


@pytest.fixture(scope="module", params=[200, 1_000, 10_000])
def big(request):
    pm = discover(make_log(request.param))
    assert len(pm.nodes) == request.param
    return pm


def drawn(svg: str) -> tuple[int, int]:
    """Touchpoints and transitions (Start/End arrows are dashed, not counted) in an SVG."""
    edges = [m for m in EDGE.findall(svg) if "stroke-dasharray" not in m]
    return len(NODE.findall(svg)), len(edges)


def test_report_is_small_and_its_map_bounded(big, tmp_path):
    written = big.save(tmp_path)
    html = written[0].read_text("utf-8")
    assert len(html.encode()) < 5_000_000
    svgs = re.findall(r'<svg[^>]*class="jm-pmap".*?</svg>', html, flags=re.S)
    assert len(svgs) == 2
    for svg in svgs:
        nodes, edges = drawn(svg)
        assert 0 < nodes <= MAX_DRAWN_TOUCHPOINTS
        assert 0 < edges <= MAX_DRAWN_EDGES
        assert f"of {len(big.nodes):,} touchpoints" in svg
    assert re.search(rf"Showing \d+ of {len(big.nodes):,} touchpoints \(covering [\d.]+% of "
                     r"events\)", html)
    data = json.loads((tmp_path / "process_map.json").read_text("utf-8"))
    assert len(data["nodes"]) == len(big.nodes)
    assert len(data["edges"]) == len(big.edges)


def test_unmapped_note_and_tables_are_capped(big):
    html = big.to_html()
    note = re.search(r"<div>Touchpoints without a stage: (.*?)</div>", html).group(1)
    assert note.endswith(f"… and {len(big.unmapped) - 8:,} more")
    assert note.split(" … ")[0].split(", ") == sorted(big.unmapped)[:8]
    assert f"… and {len(big.dropoffs) - 10:,} more" in html
    assert f"… and {len(big.bottlenecks) - 10:,} more" in html


def test_long_tail_sections_stay_bounded(big):
    # every journey is unique here: the report adds patterns and paths, each bounded
    assert big.summary["long_tail"]
    html = big.to_html()
    patterns = re.search(r'<section id="patterns">.*?</section>', html, flags=re.S).group(0)
    for body in re.findall(r"<tbody>(.*?)</tbody>", patterns, flags=re.S):
        assert body.count("<tr>") <= 11  # 10 rows and "… and N more"
    sankeys = re.findall(r'<svg[^>]*class="jm-sankey".*?</svg>', html, flags=re.S)
    assert len(sankeys) == 1  # no conversion: paths from the top drop-off only
    # 1 anchor + 3 steps of at most 5 touchpoints, "other" and "(end)"
    assert sankeys[0].count("<rect") <= 1 + 3 * 7


def test_stage_table_lists_few_touchpoints_per_stage():
    log = make_log(1_000)
    names = sorted(log.to_pandas()["activity"].unique())
    stages = {name: ("awareness", "consideration", "purchase")[i % 3]
              for i, name in enumerate(names)}
    staged = discover(log, stages=stages)
    row = re.search(r'<span class="pill stage-awareness">awareness</span></td>\s*<td>(.*?)</td>',
                    staged.to_html()).group(1)
    in_stage = sum(s == "awareness" for s in stages.values())
    assert row.endswith(f"… and {in_stage - 8:,} more")


def test_to_svg_and_notebook_view_are_bounded(big):
    for svg in (big.to_svg(), big.to_svg("time"), big._repr_html_()):
        nodes, edges = drawn(svg)
        assert nodes <= MAX_DRAWN_TOUCHPOINTS and edges <= MAX_DRAWN_EDGES
        assert "touchpoints (covering" in svg
    assert big.to_svg() == big.to_svg()


def test_filter_bounds_touchpoints_and_edges(big):
    view = big.filter(touchpoints=20, max_edges=30)
    assert len(view.nodes) == 20 and len(view.edges) <= 30
    busiest = big.nodes.sort_values("customers", ascending=False, kind="mergesort").head(20)
    assert set(view.nodes["touchpoint"]) == set(busiest["touchpoint"])
    assert set(view.edges["source"]) | set(view.edges["target"]) <= set(view.nodes["touchpoint"])
    assert set(view.start) <= set(view.nodes["touchpoint"])
    assert view.coverage["touchpoints"] == 20
    assert len(view.to_dict()["nodes"]) == len(big.nodes)  # a view, not data loss


def test_filter_keeps_each_touchpoints_busiest_link_first():
    journeys = {("a", "b"): 50, ("b", "a"): 40, ("a", "a"): 30, ("c", "a"): 1, ("b", "c"): 2}
    rows = []
    for path, n in journeys.items():
        for _ in range(n):
            customer = f"c{len(rows)}"
            rows += [(customer, tp, f"2024-01-01 00:0{i}") for i, tp in enumerate(path)]
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"])
    view = discover(jm.EventLog.from_pandas(df)).filter(max_edges=3)
    pairs = set(zip(view.edges["source"], view.edges["target"], strict=True))
    # the 3 busiest would be a→b, b→a and the self-loop a→a, leaving c unlinked
    assert pairs == {("a", "b"), ("b", "a"), ("b", "c")}


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10"])
def test_filter_rejects_bad_bounds(big, bad):
    with pytest.raises(InvalidParameterError, match="out of range"):
        big.filter(touchpoints=bad)
    with pytest.raises(InvalidParameterError, match="out of range"):
        big.filter(max_edges=bad)


@pytest.mark.parametrize("n_edges", [20_000, 10_000_000])
def test_layout_of_5000_nodes_raises_a_clear_error(n_edges):
    rng = random.Random(0)
    names = [f"n{i}" for i in range(5_000)]
    edges = ((rng.choice(names), rng.choice(names), 1) for _ in range(n_edges))  # lazy
    with pytest.raises(JourneymineError, match="too large to lay out") as info:
        layered_layout(names, edges)
    assert "filter(touchpoints=" in str(info.value)


def test_layout_refuses_too_many_nodes_before_sorting_them():
    with pytest.raises(InvalidParameterError, match="too large"):
        layered_layout(range(MAX_LAYOUT_ITEMS + 1), [])


def test_layout_of_a_5000_node_chain_is_computed():
    names = [f"n{i:04d}" for i in range(5_000)]
    lay = layered_layout(names, list(itertools.pairwise(names)))
    assert isinstance(lay, Layout)
    assert lay.n_layers == 5_000 and len(lay.edges) == 4_999


def test_long_journeys_and_many_conversion_touchpoints_are_shortened():
    steps = [f"step{i:02d}" for i in range(60)]
    ts = pd.date_range("2024-01-01", periods=60, freq="min")
    df = pd.DataFrame({"customer_id": "c0", "touchpoint": steps, "ts": ts})
    html = discover(jm.EventLog.from_pandas(df), conversion=steps).to_html()
    variants = re.search(r'<section id="variants">.*?</section>', html, flags=re.S).group(0)
    assert "step24 … (35 more steps)" in variants and "step25" not in variants
    assert "conversion = step00, step01" in html and "… and 52 more" in html
