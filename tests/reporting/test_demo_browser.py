"""The README's first command, opened in a real browser (selenium + headless chromium).

``python -m journeymine discover --demo --out out/`` runs as a user would type
it (a subprocess in a fresh folder); the pages it writes are then opened in
chromium through selenium, and what a reader sees is asserted: the emotion
curve with a point per stage that has texts, and a quote of every such stage,
in the emotions page and in the journey map of the report. The default
emotion model is used when torch is installed (the ``emotions`` extra), the
fast model otherwise (the CLI says so).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import journeymine as jm
from tests._browser import FLAGS, chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    """The output folder of the README's first command, run in an empty folder."""
    cwd = tmp_path_factory.mktemp("readme")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.run(
        [sys.executable, "-m", "journeymine", "discover", "--demo", "--out", "out/"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "emotions.html" in proc.stdout
    return cwd / "out"


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        if os.environ.get("CI"):
            pytest.fail("chromedriver is required for the browser checks in CI")
        pytest.skip("chromedriver is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium()
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=1400,2000")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def demo_texts() -> set[str]:
    return set(jm.datasets.load_demo().texts["text"])


def _stage_points(browser) -> list[str]:
    """Tooltips of the visible points of the emotion curve ('stage: +0.12 (n=..), emotion')."""
    from selenium.webdriver.common.by import By

    points = browser.find_elements(By.CSS_SELECTOR, "#curve svg circle.stage-point")
    return [p.find_element(By.TAG_NAME, "title").get_attribute("textContent")
            for p in points if p.is_displayed()]


def test_emotions_page_shows_the_curve_and_a_quote_per_stage(demo_out, browser, demo_texts):
    from selenium.webdriver.common.by import By

    browser.get((demo_out / "emotions.html").resolve().as_uri())
    curve = browser.find_element(By.ID, "curve")
    assert curve.is_displayed() and "Emotion curve" in curve.text
    points = _stage_points(browser)
    # the demo has texts in consideration, purchase, retention and advocacy
    stages = [p.split(":")[0] for p in points]
    assert stages == ["consideration", "purchase", "retention", "advocacy"]
    dominant = {p.split(":")[0]: p.rsplit(", ", 1)[1] for p in points}
    rows = browser.find_elements(By.CSS_SELECTOR, "#stages tr")[1:]
    seen = {}
    for row in rows:
        stage = row.find_element(By.TAG_NAME, "b").text
        quote = row.find_element(By.CSS_SELECTOR, "blockquote.stage-quote")
        assert quote.is_displayed() and quote.size["height"] > 0
        text, attribution = quote.text.rsplit(" — ", 1)
        seen[stage] = text.strip("“” ")
        # the quote is a real demo text, of the stage's dominant emotion
        assert seen[stage] in demo_texts
        assert attribution.endswith(", " + dominant[stage])
    assert list(seen) == stages


def test_report_journey_map_quotes_each_stage_with_texts(demo_out, browser, demo_texts):
    from selenium.webdriver.common.by import By

    browser.get((demo_out / "report.html").resolve().as_uri())
    table = browser.find_element(By.ID, "journey-map")
    assert table.is_displayed() and "customers feel" in table.text.lower()
    quoted = {}
    for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        stage = row.find_element(By.CSS_SELECTOR, ".pill").text
        quotes = row.find_elements(By.CSS_SELECTOR, "blockquote.stage-quote")
        if quotes:
            assert quotes[0].is_displayed()
            quoted[stage] = quotes[0].text.strip("“” ")
    assert list(quoted) == ["consideration", "purchase", "retention", "advocacy"]
    assert set(quoted.values()) <= demo_texts
