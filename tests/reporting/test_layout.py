"""Tests of the layered layout and the SVG process map (journeymine.reporting)."""

from __future__ import annotations

import itertools
import random
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymine.exceptions import (
    ColumnNotFoundError,
    InvalidParameterError,
    JourneymineError,
    SchemaError,
)
from journeymine.reporting._format import humanize_seconds
from journeymine.reporting._layout import Layout, layered_layout
from journeymine.reporting._svg import render_process_map

NS = "{http://www.w3.org/2000/svg}"


# ----------------------------------------------------------------------------- helpers


def make_graph(edge_list, stages=None, start=None, end=None):
    """nodes/edges frames from [(source, target, count), ...]."""
    names = sorted({n for s, t, _ in edge_list for n in (s, t)} | set(stages or {}))
    stages = stages or {}
    nodes = pd.DataFrame(
        {
            "touchpoint": names,
            "count": [10 * (i + 1) for i in range(len(names))],
            "customers": [5 * (i + 1) for i in range(len(names))],
            "stage": [stages.get(n) for n in names],
        }
    )
    edges = pd.DataFrame(
        [
            {
                "source": s,
                "target": t,
                "count": c,
                "customers": max(c - 1, 0),
                "mean_seconds": 90.0 * c,
                "median_seconds": 60.0 * c,
                "p90_seconds": 300.0 * c,
            }
            for s, t, c in edge_list
        ],
        columns=[
            "source",
            "target",
            "count",
            "customers",
            "mean_seconds",
            "median_seconds",
            "p90_seconds",
        ],
    )
    start = start if start is not None else {names[0]: 7} if names else {}
    end = end if end is not None else {names[-1]: 7} if names else {}
    return nodes, edges, start, end


def svg_root(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def all_text(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter() if el.tag in (NS + "text", NS + "title")]


def skincare():
    stage = {
        "instagram_ad": "awareness",
        "tiktok_ad": "awareness",
        "google_search": "awareness",
        "website_product_page": "consideration",
        "marketplace_listing": "consideration",
        "whatsapp_chat": "pertimbangan",  # Indonesian alias of consideration
        "add_to_cart": "purchase",
        "checkout": "purchase",
        "payment": "purchase",
        "delivery": "retention",
        "review": "advocacy",
    }
    edge_list = [
        ("instagram_ad", "website_product_page", 820),
        ("tiktok_ad", "marketplace_listing", 640),
        ("google_search", "website_product_page", 560),
        ("website_product_page", "add_to_cart", 700),
        ("website_product_page", "whatsapp_chat", 260),
        ("whatsapp_chat", "whatsapp_chat", 210),
        ("whatsapp_chat", "website_product_page", 120),
        ("marketplace_listing", "add_to_cart", 520),
        ("add_to_cart", "checkout", 1300),
        ("checkout", "add_to_cart", 150),
        ("checkout", "payment", 1100),
        ("payment", "delivery", 1050),
        ("delivery", "review", 430),
        ("review", "instagram_ad", 40),
    ]
    start = {"instagram_ad": 1100, "tiktok_ad": 880, "google_search": 650}
    end = {"review": 390, "delivery": 600, "marketplace_listing": 120}
    return make_graph(edge_list, stage, start, end)


def random_edges(n_nodes: int, n_edges: int, seed: int) -> list[tuple[str, str, int]]:
    rng = random.Random(seed)
    names = [f"tp_{i:02d}" for i in range(n_nodes)]
    pairs = set()
    while len(pairs) < n_edges:
        pairs.add((rng.choice(names), rng.choice(names)))
    return [(s, t, rng.randint(1, 500)) for s, t in sorted(pairs)]


# ---------------------------------------------------------------------- SVG rendering


def test_output_is_valid_standalone_svg():
    svg = render_process_map(*skincare(), title="Skincare & co")
    root = svg_root(svg)
    assert root.tag == NS + "svg"
    assert root.get("width") == "100%"
    assert root.get("viewBox", "").startswith("0 0 ")
    # nothing to fetch and nothing to run
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "@import" not in svg and "url(" not in svg
    assert "Skincare &amp; co" in svg


def test_same_input_gives_identical_svg():
    assert render_process_map(*skincare()) == render_process_map(*skincare())


def test_row_and_key_order_do_not_change_the_svg():
    nodes, edges, start, end = skincare()
    reference = render_process_map(nodes, edges, start, end, metric="time")
    shuffled = render_process_map(
        nodes.sample(frac=1.0, random_state=3).reset_index(drop=True),
        edges.sample(frac=1.0, random_state=4).reset_index(drop=True),
        dict(reversed(list(start.items()))),
        dict(reversed(list(end.items()))),
        metric="time",
    )
    assert shuffled == reference


def test_malicious_names_are_escaped():
    evil = "<script>alert(1)</script>"
    nasty = 'Toko "Ibu" & <Anak> \'s'
    nodes, edges, start, end = make_graph([(evil, nasty, 3), (nasty, evil, 1)])
    svg = render_process_map(nodes, edges, start, end, title=evil)
    assert evil not in svg
    assert "<script" not in svg and "<Anak>" not in svg
    assert "&lt;script&gt;" in svg
    root = svg_root(svg)  # parses, so every attribute and text node is escaped
    texts = all_text(root)
    assert any(evil in t for t in texts)
    assert any(nasty in t for t in texts)


def test_every_node_id_is_shown():
    nodes, edges, start, end = skincare()
    texts = all_text(svg_root(render_process_map(nodes, edges, start, end)))
    for name in nodes["touchpoint"]:
        assert any(t == name or t.startswith(name + "\n") for t in texts), name
    assert "Start" in texts and "End" in texts


def test_one_path_per_edge_start_and_end():
    nodes, edges, start, end = skincare()
    root = svg_root(render_process_map(nodes, edges, start, end))
    paths = root.findall(f".//{NS}path")
    assert len(paths) == len(edges) + len(start) + len(end)
    # each edge group carries a tooltip with the counts and the durations
    groups = [g for g in root.iter(NS + "g") if g.get("class") == "jm-edge"]
    assert len(groups) == len(paths)
    tips = [g.find(NS + "title").text for g in groups]
    checkout = next(t for t in tips if t.startswith("add_to_cart → checkout"))
    assert "transitions: 1,300" in checkout
    assert "customers: 1,299" in checkout
    assert "median time: 22h" in checkout  # 60 s x 1300
    assert "mean time: 1.4d" in checkout
    assert "p90 time: 4.5d" in checkout


def test_count_labels_are_formatted_with_thousands_separator():
    texts = all_text(svg_root(render_process_map(*skincare())))
    assert "1,300" in texts and "1,100" in texts


def test_stroke_width_grows_with_count():
    root = svg_root(render_process_map(*skincare()))
    width = {}
    for g in root.iter(NS + "g"):
        if g.get("class") == "jm-edge":
            head = g.find(NS + "title").text.split("\n")[0]
            width[head] = float(g.find(NS + "path").get("stroke-width"))
    assert min(width.values()) >= 1.0
    assert max(width.values()) <= 8.0
    assert width["add_to_cart → checkout"] > width["review → instagram_ad"]


def test_time_metric_labels_and_colours():
    nodes, edges, start, end = make_graph([("a", "b", 1), ("b", "c", 1)])
    edges["median_seconds"] = [45.0, 2.1 * 86400]
    root = svg_root(render_process_map(nodes, edges, start, end, metric="time"))
    texts = all_text(root)
    assert "45s" in texts and "2.1d" in texts
    colour = {}
    for g in root.iter(NS + "g"):
        if g.get("class") == "jm-edge":
            colour[g.find(NS + "title").text.split("\n")[0]] = g.find(NS + "path").get("stroke")
    assert colour["b → c"] == "#d62728"  # slowest edge is red
    assert colour["a → b"] != colour["b → c"]


def test_time_metric_needs_median_seconds():
    nodes, edges, start, end = make_graph([("a", "b", 1)])
    with pytest.raises(ColumnNotFoundError, match="median_seconds"):
        render_process_map(nodes, edges.drop(columns="median_seconds"), start, end, metric="time")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (720, "12m"), (12600, "3.5h"), (181440, "2.1d"), (None, "n/a")],
)
def test_humanize_seconds(seconds, text):
    assert humanize_seconds(seconds) == text


def test_self_loop_and_two_cycle_render():
    nodes, edges, start, end = make_graph([("a", "a", 4), ("a", "b", 9), ("b", "a", 2)])
    svg = render_process_map(nodes, edges, start, end)
    root = svg_root(svg)
    assert len(root.findall(f".//{NS}path")) == 3 + 2
    tips = [g.find(NS + "title").text for g in root.iter(NS + "g") if g.get("class") == "jm-edge"]
    assert any(t.startswith("a → a") for t in tips)
    assert any(t.startswith("b → a") for t in tips)

    lay = layered_layout(["a", "b"], [("a", "a", 4), ("a", "b", 9), ("b", "a", 2)])
    kinds = {(e.source, e.target): e.kind for e in lay.edges}
    assert kinds == {("a", "a"): "self", ("a", "b"): "forward", ("b", "a"): "back"}
    loop = next(e for e in lay.edges if e.kind == "self")
    box = lay.nodes["a"]
    # the loop starts and ends on the node's border and bulges outside it
    (x0, y0), *_ = loop.segments[0]
    x1, y1 = loop.segments[-1][3]
    assert box.left <= x0 <= box.right and y0 == pytest.approx(box.top)
    assert x1 == pytest.approx(box.right) and box.top <= y1 <= box.bottom
    assert min(p[1] for p in loop.segments[0]) < box.top
    # the back edge b -> a is drawn on the side: it does not reuse the forward route
    fwd = next(e for e in lay.edges if e.kind == "forward")
    back = next(e for e in lay.edges if e.kind == "back")
    assert back.d != fwd.d
    assert max(p[0] for p in back.segments[0]) > max(box.right, lay.nodes["b"].right)


def test_unknown_and_indonesian_stages_are_coloured():
    nodes, edges, start, end = make_graph(
        [("iklan_instagram", "keranjang", 3)],
        stages={"iklan_instagram": "kesadaran", "keranjang": None},
    )
    root = svg_root(render_process_map(nodes, edges, start, end))
    tips = [t for t in all_text(root) if "\nstage: " in t]
    assert any(t.startswith("iklan_instagram\nstage: awareness") for t in tips)
    assert any(t.startswith("keranjang\nstage: unknown") for t in tips)
    assert "other" in all_text(root)  # legend entry for the grey unknown stage


def test_long_names_are_truncated_with_full_name_in_tooltip():
    long = "halaman_produk_serum_vitamin_c_niacinamide_30ml_😍_edisi_terbatas"
    nodes, edges, start, end = make_graph([(long, "checkout", 2)])
    texts = all_text(svg_root(render_process_map(nodes, edges, start, end)))
    assert any(t.endswith("…") and long.startswith(t[:-1]) for t in texts)
    assert any(t.startswith(long + "\n") for t in texts)


def test_graph_without_edges_still_renders():
    nodes = pd.DataFrame({"touchpoint": ["store_visit", "app_open"], "count": [3, 2],
                          "stage": None})
    edges = pd.DataFrame(columns=["source", "target", "count"])
    once = {"store_visit": 3, "app_open": 2}
    svg = render_process_map(nodes, edges, once, once)
    root = svg_root(svg)
    assert len(root.findall(f".//{NS}path")) == 4
    texts = all_text(root)
    assert "store_visit" in texts and "app_open" in texts


def test_graph_without_nodes_renders_start_and_end():
    nodes = pd.DataFrame({"touchpoint": [], "count": []})
    edges = pd.DataFrame({"source": [], "target": [], "count": []})
    root = svg_root(render_process_map(nodes, edges, {}, {}))
    assert {"Start", "End"} <= set(all_text(root))
    assert root.findall(f".//{NS}path") == []


def test_large_graph_renders():
    edge_list = random_edges(60, 400, seed=7)
    nodes, edges, start, end = make_graph(edge_list)
    stages = ("awareness", "consideration", "purchase", "retention", "advocacy", None)
    nodes["stage"] = [stages[i % 6] for i in range(len(nodes))]
    svg = render_process_map(nodes, edges, start, end)
    root = svg_root(svg)
    assert len(root.findall(f".//{NS}path")) == 400 + 2


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda n, e: (n.rename(columns={"touchpoint": "touchpointt"}), e), ColumnNotFoundError,
         "Did you mean"),
        (lambda n, e: (n, e.drop(columns="count")), ColumnNotFoundError, "count"),
        (lambda n, e: (n, e.assign(target="ghost")), SchemaError, "ghost"),
        (lambda n, e: (pd.concat([n, n]), e), SchemaError, "more than once"),
        (lambda n, e: (n.assign(count=-1), e), SchemaError, "non-negative"),
    ],
)
def test_bad_input_raises_specific_errors(change, error, match):
    nodes, edges, start, end = make_graph([("a", "b", 1)])
    nodes, edges = change(nodes, edges)
    with pytest.raises(error, match=match) as info:
        render_process_map(nodes, edges, start, end)
    assert isinstance(info.value, JourneymineError)


def test_bad_parameters_raise():
    nodes, edges, start, end = make_graph([("a", "b", 1)])
    with pytest.raises(InvalidParameterError, match="metric"):
        render_process_map(nodes, edges, start, end, metric="money")
    with pytest.raises(SchemaError, match="not in nodes"):
        render_process_map(nodes, edges, {"nowhere": 3}, end)
    with pytest.raises(SchemaError, match=r"Edge \('a' -> 'nowhere'\) names 'nowhere'"):
        render_process_map(nodes, edges.assign(target="nowhere"), start, end)
    with pytest.raises(InvalidParameterError, match="direction"):
        render_process_map(nodes, edges, start, end, direction="RL")


def test_input_frames_are_not_mutated():
    nodes, edges, start, end = skincare()
    before = (nodes.copy(), edges.copy(), dict(start), dict(end))
    render_process_map(nodes, edges, start, end, metric="time")
    pd.testing.assert_frame_equal(nodes, before[0])
    pd.testing.assert_frame_equal(edges, before[1])
    assert (start, end) == before[2:]


# ----------------------------------------------------------------------------- layout


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_chain_is_layered_in_order(direction):
    lay = layered_layout(["c", "a", "b"], [("b", "c", 1), ("a", "b", 1)], direction=direction)
    axis = "y" if direction == "TB" else "x"
    a, b, c = (getattr(lay.nodes[n], axis) for n in "abc")
    assert a < b < c
    assert [lay.nodes[n].layer for n in "abc"] == [0, 1, 2]
    assert all(e.kind == "forward" for e in lay.edges)


def test_stage_hint_keeps_earlier_stages_first():
    # the heavier edge goes consideration -> awareness, yet awareness stays on top
    lay = layered_layout(
        ["ad", "web"], [("web", "ad", 50), ("ad", "web", 5)], rank_hint={"ad": 0, "web": 1}
    )
    assert lay.nodes["ad"].y < lay.nodes["web"].y
    assert {(e.source, e.target): e.kind for e in lay.edges}[("web", "ad")] == "back"
    # unrelated nodes of a later stage go below all nodes of earlier stages
    lay = layered_layout(
        ["ad1", "ad2", "web", "cart"],
        [("ad1", "ad2", 1), ("ad1", "web", 1), ("web", "cart", 1)],
        rank_hint={"ad1": 0, "ad2": 0, "web": 1, "cart": 2},
    )
    assert lay.nodes["ad2"].layer < lay.nodes["web"].layer < lay.nodes["cart"].layer


def test_sources_first_and_sinks_last():
    lay = layered_layout(
        ["S", "E", "x", "y", "z"],
        [("S", "x", 1), ("x", "y", 1), ("y", "z", 1), ("x", "E", 1), ("z", "E", 1)],
        sources=["S"],
        sinks=["E"],
    )
    layers = {n: box.layer for n, box in lay.nodes.items()}
    assert layers["S"] == 0
    assert layers["E"] == max(layers.values())
    assert all(layers[n] >= 1 for n in "xyz")


def test_long_edges_are_routed_through_virtual_nodes():
    lay = layered_layout(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
    long = next(e for e in lay.edges if (e.source, e.target) == ("a", "d"))
    assert len(long.segments) == 3  # one segment per layer crossed
    for seg, nxt in itertools.pairwise(long.segments):
        assert seg[3] == nxt[0]  # continuous
        # smooth: the tangent is continuous at the joint
        out_dir = (seg[3][0] - seg[2][0], seg[3][1] - seg[2][1])
        in_dir = (nxt[1][0] - nxt[0][0], nxt[1][1] - nxt[0][1])
        assert out_dir[0] * in_dir[1] - out_dir[1] * in_dir[0] == pytest.approx(0.0)
    # the route does not pass through b or c
    for t in (i / 20 for i in range(21)):
        x, y = long.point_at(t)
        for n in "bc":
            box = lay.nodes[n]
            assert not (box.left < x < box.right and box.top < y < box.bottom)


def test_unknown_nodes_and_directions_raise():
    with pytest.raises(SchemaError, match=r"Edge \('a' -> 'b'\) names 'b', which is not in nodes"):
        layered_layout(["a"], [("a", "b")])
    with pytest.raises(SchemaError, match="Duplicate"):
        layered_layout(["a", "a"], [])
    with pytest.raises(InvalidParameterError, match="direction"):
        layered_layout(["a"], [], direction="BT")


def assert_well_formed(lay: Layout, names: list[str]) -> None:
    boxes = list(lay.nodes.values())
    assert sorted(lay.nodes) == sorted(set(names))
    for b1, b2 in itertools.combinations(boxes, 2):
        assert not b1.overlaps(b2), (b1, b2)
    for box in boxes:
        assert box.left >= 0
        assert box.right <= lay.width
        assert box.top >= 0
        assert box.bottom <= lay.height
    for edge in lay.edges:
        for seg in edge.segments:
            for x, y in seg:
                assert -1e-6 <= x <= lay.width + 1e-6 and -1e-6 <= y <= lay.height + 1e-6


def test_random_40_node_graph_has_no_overlaps():
    edge_list = random_edges(40, 120, seed=11)
    names = sorted({n for s, t, _ in edge_list for n in (s, t)})
    lay = layered_layout(names, edge_list, sizes={n: (60 + 3 * len(n), 40) for n in names})
    assert_well_formed(lay, names)
    assert len(lay.edges) == len(edge_list)


def test_layout_of_60_nodes_and_400_edges():
    edge_list = random_edges(60, 400, seed=5)
    names = sorted({n for s, t, _ in edge_list for n in (s, t)})
    lay = layered_layout(names, edge_list, rank_hint={n: i % 5 for i, n in enumerate(names)})
    assert_well_formed(lay, names)
    assert len(lay.edges) == 400


graphs = st.integers(min_value=1, max_value=9).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(
                st.integers(0, n - 1), st.integers(0, n - 1), st.integers(min_value=1, max_value=50)
            ),
            max_size=25,
        ),
        st.lists(st.sampled_from([None, 0, 1, 2, 3, 4]), min_size=n, max_size=n),
        st.sampled_from(["TB", "LR"]),
    )
)
NAMES = ["a", "b<", "c&d", "😍", "ulasan", "Z", 'toko "x"', "aa", "b"]


@settings(max_examples=60, deadline=None)
@given(graphs)
def test_property_small_random_graphs(graph):
    n, raw_edges, hints, direction = graph
    names = NAMES[:n]
    edge_list = [(names[s], names[t], w) for s, t, w in raw_edges]
    hint = dict(zip(names, hints, strict=True))
    lay = layered_layout(names, edge_list, rank_hint=hint, direction=direction)
    assert_well_formed(lay, names)
    assert {(e.source, e.target) for e in lay.edges} == {(s, t) for s, t, _ in edge_list}
    # forward edges go down (TB) or right (LR) one or more layers
    axis = "y" if direction == "TB" else "x"
    for e in lay.edges:
        if e.kind == "forward":
            assert getattr(lay.nodes[e.source], axis) < getattr(lay.nodes[e.target], axis)
            assert lay.nodes[e.source].layer < lay.nodes[e.target].layer
    # deterministic, independent of input order
    again = layered_layout(
        list(reversed(names)), list(reversed(edge_list)), rank_hint=hint, direction=direction
    )
    assert again == lay


@settings(max_examples=25, deadline=None)
@given(graphs, st.sampled_from(["count", "time"]))
def test_property_svg_always_parses(graph, metric):
    n, raw_edges, hints, direction = graph
    names = NAMES[:n]
    merged = {}
    for s, t, w in raw_edges:
        merged[(names[s], names[t])] = w
    stages = dict(
        zip(
            names,
            [
                None
                if h is None
                else ("awareness", "consideration", "purchase", "retention", "advocacy")[h]
                for h in hints
            ],
            strict=True,
        )
    )
    nodes, edges, start, end = make_graph(
        [(s, t, w) for (s, t), w in merged.items()], stages, {names[0]: 2}, {names[-1]: 2}
    )
    svg = render_process_map(nodes, edges, start, end, metric=metric, direction=direction)
    root = svg_root(svg)
    assert len(root.findall(f".//{NS}path")) == len(merged) + 2
