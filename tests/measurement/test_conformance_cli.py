"""``python -m journeymine conformance``: outputs, the demo's designed journey, one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from journeymine.cli import app

pm4py = pytest.importorskip("pm4py")
runner = CliRunner()


@pytest.fixture()
def tiny(tmp_path):
    """Designed ad > page > buy; u1 follows it, u2 skips the page, u3 sees it before the ad."""
    rows = [("u1", "ad", 0), ("u1", "page", 1), ("u1", "buy", 2), ("u2", "ad", 3), ("u2", "buy", 4),
            ("u3", "page", 5), ("u3", "ad", 6), ("u3", "buy", 7)]
    log = tmp_path / "events.csv"
    pd.DataFrame({"customer_id": [r[0] for r in rows], "touchpoint": [r[1] for r in rows],
                  "timestamp": [f"2024-05-0{1 + r[2] // 4} 1{r[2] % 4}:00" for r in rows]}
                 ).to_csv(log, index=False)
    designed = tmp_path / "designed.csv"
    designed.write_text("step,touchpoint,stage\n1,ad,kesadaran\n2,page,pertimbangan\n"
                        "3,buy,pembelian\n", encoding="utf-8")
    return log, designed


def one_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


def test_a_log_and_a_designed_csv(tiny, tmp_path):
    log, designed = tiny
    out = tmp_path / "out"
    result = runner.invoke(app, ["conformance", str(log), "--designed", str(designed),
                                 "--method", "alignments", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["conformance.json", "customers.csv",
                                                     "deviations.csv"]
    customers = pd.read_csv(out / "customers.csv").set_index("customer_id")
    # alignments: u2 one model move, 1 - 1/(2 + 3); u3 two moves, 1 - 2/(3 + 3)
    assert customers["fitness"].round(4).to_dict() == {"u1": 1.0, "u2": 0.8, "u3": 0.6667}
    deviations = pd.read_csv(out / "deviations.csv")
    skipped = deviations[deviations["kind"] == "skipped"]
    assert skipped[["touchpoint", "stage", "customers"]].values.tolist() \
        == [["page", "consideration", 1]]
    data = json.loads((out / "conformance.json").read_text("utf-8"))
    assert data["summary"]["replayed_customers"] == 3 and data["method"] == "alignments"
    assert "33% of 3 customers follow the designed journey" in result.stdout


def test_demo_uses_its_designed_journey_and_the_bound(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["conformance", "--demo", "--sample", "150", "--model",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "conformance.json").read_text("utf-8"))
    assert data["designed"][0] == "instagram_ad" and len(data["designed"]) == 8
    assert data["summary"]["sampled"] and data["summary"]["replayed_variants"] <= 150
    assert len(pd.read_csv(out / "customers.csv")) == data["summary"]["replayed_customers"]
    net, im, fm = pm4py.read_pnml(str(out / "discovered.pnml"))
    assert len({t.label for t in net.transitions} - {None}) == 20 and im and fm
    assert pm4py.read_bpmn(str(out / "discovered.bpmn")).get_nodes()
    assert "instagram_ad" in result.stdout and "Deviations from the designed journey" in \
        result.stdout


def test_a_log_needs_a_designed_journey(tiny, tmp_path):
    log, _ = tiny
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["conformance", str(log), "--out", str(out)]))
    assert "--designed" in line
    assert not out.exists()


def test_unknown_touchpoint_is_one_line_and_writes_nothing(tiny, tmp_path):
    log, designed = tiny
    designed.write_text("touchpoint\nad\npaeg\nbuy\n", encoding="utf-8")
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["conformance", str(log), "--designed", str(designed),
                                         "--out", str(out)]))
    assert "'paeg' (did you mean 'page'?)" in line
    assert not out.exists()


@pytest.mark.parametrize("args, words", [(["--sample", "0"], "sample=0"),
                                         (["--method", "alignment"], "alignments")])
def test_bad_options_are_one_line(tiny, tmp_path, args, words):
    log, designed = tiny
    line = one_error(runner.invoke(app, ["conformance", str(log), "--designed", str(designed),
                                         *args, "--out", str(tmp_path / "out")]))
    assert words in line


def test_help_is_readable():
    result = runner.invoke(app, ["conformance", "--help"], terminal_width=100)
    assert result.exit_code == 0 and "--designed" in result.output
    assert all(len(line) <= 100 for line in result.output.splitlines())
