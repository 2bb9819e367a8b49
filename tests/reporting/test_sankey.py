"""The step-by-step Sankey SVG: valid XML, escaped names, deterministic, offline."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd

import journeymine as jm
from journeymine.reporting._palette import STAGE_COLORS
from journeymine.reporting._sankey import render_sankey

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '</text><script>alert("x")</script>&amp;<b'


def _log(paths: list[str]) -> jm.EventLog:
    t0 = pd.Timestamp("2024-01-01")
    rows = [(f"u{i}", tp, t0 + pd.Timedelta(days=i, minutes=k))
            for i, p in enumerate(paths) for k, tp in enumerate(p.split("|"))]
    return jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"]))


def test_sankey_parses_and_escapes_a_hostile_name():
    log = _log([f"cart|{HOSTILE}|checkout", f"cart|{HOSTILE}", "cart|checkout"])
    svg = jm.paths_from(log, "cart", steps=2).to_svg()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert "<script" not in svg and not root.findall(f".//{SVG}script")
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert any(text and text.startswith(HOSTILE[:27]) for text in labels)
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_sankey_is_deterministic_and_draws_one_band_per_flow():
    log = _log(["a|cart|pay", "cart|pay", "b|cart", "cart|a|b"])
    p = jm.paths_from(log, "cart", steps=2)
    assert p.to_svg() == jm.paths_from(log, "cart", steps=2).to_svg()
    root = ET.fromstring(p.to_svg())
    assert len(root.findall(f"{SVG}path")) == int(p.table["next"].notna().sum())
    assert len(root.findall(f"{SVG}rect")) == len(p.steps())


def test_sankey_colours_come_from_the_palette():
    flows = pd.DataFrame({"step": [0, 1], "touchpoint": ["checkout", "(end)"],
                          "next": ["(end)", None], "journeys": [2, 2]})
    svg = render_sankey(flows, colors={"checkout": STAGE_COLORS["purchase"]}, title="t & u")
    assert STAGE_COLORS["purchase"] in svg and "<title>t &amp; u</title>" in svg
    ET.fromstring(svg)


def test_sankey_of_paths_to_on_the_clickstream():
    log = jm.EventLog.from_pandas(jm.datasets.make_clickstream(300, random_state=0))
    p = jm.paths_to(log, "order_complete", grain="session", steps=3)
    root = ET.fromstring(p.to_svg())
    assert root.findall(f"{SVG}rect")
    assert "anchor" in p._repr_html_()
