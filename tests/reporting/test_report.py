"""The HTML report: self-contained, escaped, and rendered by a real browser."""

import re
import struct

import pandas as pd
import pytest

import journeymine as jm
from journeymine.exceptions import OutputError
from journeymine.reporting._journey_report import render_report
from tests._browser import dump_dom, screenshot

EVIL = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def pm():
    rows = [
        ("a", "ig_ad", "2024-01-01 10:00"), ("a", EVIL, "2024-01-01 10:05"),
        ("a", "checkout", "2024-01-01 10:30"), ("b", "ig_ad", "2024-01-02 10:00"),
        ("b", EVIL, "2024-01-02 11:00"), ("c", "search & find", "2024-01-03 09:00"),
        ("c", "checkout", "2024-01-03 09:30"),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"])
    return jm.discover(jm.EventLog.from_pandas(df), conversion="checkout")


def test_user_text_is_escaped(pm):
    html = render_report(pm, title="Report <b>x</b>")
    assert EVIL not in html
    assert "&lt;script&gt;" in html
    assert "<b>x</b>" not in html


def test_self_contained(pm):
    html = render_report(pm)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html


def test_sections_present(pm):
    html = render_report(pm)
    for section in ("summary", "journey-map", "process-map", "funnel", "dropoffs",
                    "bottlenecks", "variants", "loops", "channel-switches"):
        assert f'id="{section}"' in html


def test_browser_renders_the_report(pm, tmp_path):
    page = pm.save(tmp_path)[0]
    dom = dump_dom(page)
    assert "<svg" in dom and "Stage funnel" in dom
    assert "<script>alert" not in dom  # escaped text stayed text
    assert 'alert("x")' in dom or "alert(&quot;x&quot;)" in dom
    png = screenshot(page, tmp_path / "report.png")
    width, height = struct.unpack(">II", png.read_bytes()[16:24])
    assert (width, height) == (1280, 2400)
    assert png.stat().st_size > 20_000  # a blank page compresses to a few KB


BUNDLE = ["bottlenecks.csv", "channel_gaps.csv", "dropoffs.csv", "edges.csv", "funnel.csv",
          "process_map.json", "report.html", "returns.csv", "variants.csv"]


def test_browser_renders_the_long_tail_returns_and_gap_sections(tmp_path):
    df = jm.datasets.make_clickstream(1200, random_state=1)
    log = jm.EventLog.from_pandas(df)
    pm = jm.discover(log, grain="session")
    page = pm.save(tmp_path, gaps=log.describe())[0]
    dom = dump_dom(page)
    for heading in ("Returns", "Session gap", "Patterns", "Step by step"):
        assert f"<h2>{heading}</h2>" in dom
    assert re.search(r'<div class="callout" id="long-tail"[^>]*><strong>Long tail', dom)
    # the inline SVGs survive parsing: two Sankeys with their bands, one histogram with bars
    sankeys = re.findall(r'<svg[^>]*class="jm-sankey".*?</svg>', dom, flags=re.S)
    assert len(sankeys) == 2 and all(s.count("<path") > 3 for s in sankeys)
    gaps = re.search(r'<svg[^>]*class="jm-gaps".*?</svg>', dom, flags=re.S).group(0)
    assert gaps.count('class="jm-bar"') > 10 and 'class="jm-mark"' in gaps
    png = screenshot(page, tmp_path / "tail.png", size="1280,9000")
    assert png.stat().st_size > 100_000


def test_save_writes_the_bundle_and_nothing_else(pm, tmp_path):
    written = pm.save(tmp_path / "new" / "out", notes=["a note <i>"])
    assert sorted(p.name for p in written) == BUNDLE
    assert sorted(p.name for p in (tmp_path / "new" / "out").iterdir()) == BUNDLE
    assert "a note &lt;i&gt;" in written[0].read_text("utf-8")


def test_report_says_what_one_journey_is(pm):
    html = pm.to_html()
    assert "one journey = a customer&#39;s history" in html


def test_save_into_a_file_fails_and_leaves_it(pm, tmp_path):
    target = tmp_path / "report"
    target.write_text("keep me")
    with pytest.raises(OutputError, match="is a file"):
        pm.save(target)
    assert target.read_text() == "keep me"


def test_save_fails_whole_and_removes_the_folder_it_made(pm, tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="No space"):
        pm.save(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_save_keeps_an_existing_folder_untouched_on_failure(pm, tmp_path, monkeypatch):
    (tmp_path / "old.txt").write_text("x")
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        pm.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["old.txt"]


# --------------------------------------------------------------------------- satisfaction
@pytest.fixture(scope="module")
def nps_log() -> jm.EventLog:
    rows = [(c, tp, f"2024-01-0{day} 10:00") for c in "abc"
            for tp, day in (("ig_ad", 1), ("checkout", 2), ("delivery", 4))]
    return jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"]))


def test_satisfaction_section_and_csv(nps_log, tmp_path):
    # delivery: 10, 9, 2 -> NPS 100 * (2 - 1) / 3 = +33; checkout: 7 (passive) -> 0
    answers = pd.DataFrame({"customer_id": ["a", "b", "c", "a"],
                            "timestamp": ["2024-01-05"] * 3 + ["2024-01-02 12:00"],
                            "touchpoint": ["delivery"] * 3 + ["checkout"],
                            "score": [10, 9, 2, 7]})
    sat = jm.satisfaction(nps_log, answers, min_answers=1)
    pm = jm.discover(nps_log, conversion="checkout")
    html = pm.to_html(satisfaction=sat)
    assert 'id="satisfaction"' not in pm.to_html()
    section = html[html.index('id="satisfaction"'):html.index('id="process-map"')]
    assert "Satisfaction / NPS per stage" in section and "4 survey answers" in section
    rows = re.findall(r'stage-(\w+)">\w+</span></td><td class="num">(\d+)</td>'
                      r'<td class="num">([+-]\d+)</td>', section)
    assert rows == [("purchase", "1", "+0"), ("retention", "3", "+33")]
    low = sat.by("stage").set_index("stage").loc["retention", "nps_low"]
    assert f"{low:+.0f} to " in section
    written = pm.save(tmp_path, satisfaction=sat)
    assert sorted(p.name for p in written) == sorted([*BUNDLE, "satisfaction.csv"])
    table = pd.read_csv(tmp_path / "satisfaction.csv")
    by_group = table.set_index(["dimension", "group"])["nps"].round(2)
    assert by_group[("touchpoint", "delivery")] == by_group[("stage", "retention")] == 33.33
    dom = dump_dom(written[0])
    assert "Satisfaction / NPS per stage" in dom and "+33" in dom
