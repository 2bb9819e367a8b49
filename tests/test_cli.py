"""The command line: outputs, help, and one-line errors."""

import csv
import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from journeymine.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "journeymine", "discover", "--demo", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr  # also no "Exception ignored" noise at exit
    return out, proc.stdout


def test_demo_writes_every_output(demo_out):
    out, stdout = demo_out
    assert sorted(p.name for p in out.iterdir()) == [
        "assignments.csv", "bottlenecks.csv", "dropoffs.csv", "edges.csv", "funnel.csv",
        "personas.html", "personas.json", "process_map.json", "report.html", "variants.csv"]
    assert "Journey summary" in stdout and "payment → delivery" in stdout


def test_process_map_json_is_the_full_graph(demo_out):
    out, _ = demo_out
    data = json.loads((out / "process_map.json").read_text("utf-8"))
    edges = pd.read_csv(out / "edges.csv")
    assert len(data["edges"]) == len(edges)
    assert sum(e["count"] for e in data["edges"]) == data["summary"]["transitions"]
    assert sum(data["start"].values()) == data["summary"]["customers"]


def test_variants_and_funnel_csv(demo_out):
    out, _ = demo_out
    with open(out / "variants.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert {"variant", "customers", "share"} <= set(header)
    funnel = pd.read_csv(out / "funnel.csv")
    assert funnel["stage"].tolist() == ["awareness", "consideration", "purchase", "retention",
                                        "advocacy"]


@pytest.fixture()
def csv_log(tmp_path):
    path = tmp_path / "events.csv"
    pd.DataFrame({
        "user": ["u1", "u1", "u2", "u2"],
        "page": ["iklan_ig", "bayar", "iklan_ig", "keranjang"],
        "time": ["2024-05-01 10:00", "2024-05-01 10:30", "2024-05-02 09:00", "2024-05-02 09:05"],
    }).to_csv(path, index=False)
    return path


def test_csv_with_stages_and_conversion(csv_log, tmp_path):
    stages = tmp_path / "stages.yaml"
    stages.write_text("kesadaran: [iklan_ig]\npembelian: [bayar, keranjang]\n", "utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["discover", str(csv_log), "--out", str(out), "--customer", "user",
                                 "--activity", "page", "--timestamp", "time",
                                 "--stages", str(stages), "--conversion", "bayar"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "process_map.json").read_text("utf-8"))
    assert data["conversion"] == ["bayar"]
    assert data["summary"]["conversion_rate"] == 0.5
    assert data["stages"]["mapping"]["iklan_ig"] == "awareness"


def test_missing_file_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["discover", str(tmp_path / "nope.csv"), "--out", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("error:") and "does not exist" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_misspelt_column_suggests_the_right_one(csv_log, tmp_path):
    result = runner.invoke(app, ["discover", str(csv_log), "--out", str(tmp_path / "o"),
                                 "--customer", "usr"])
    assert result.exit_code == 2
    assert "Did you mean 'user'" in result.output


def test_debug_shows_the_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "journeymine", "discover", str(tmp_path / "nope.csv"),
         "--out", str(tmp_path / "o"), "--debug"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_needs_a_log_or_demo(tmp_path):
    result = runner.invoke(app, ["discover", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--demo" in result.output


def test_texts_add_emotions_to_the_report(tmp_path):
    from journeymine.datasets import load_demo

    texts = tmp_path / "texts.csv"
    load_demo().texts[["customer_id", "timestamp", "text"]].to_csv(texts, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["discover", "--demo", "--out", str(out), "--texts", str(texts),
                                 "--emotion-model", "fast", "--no-personas"])
    assert result.exit_code == 0, result.output
    assert {"emotions.html", "emotions.json", "tagged_texts.csv"} <= {
        p.name for p in out.iterdir()}
    html = (out / "report.html").read_text("utf-8")
    assert 'id="pain-points"' in html and "Customers feel" in html
    assert "personas.html" not in {p.name for p in out.iterdir()}


def test_help_has_examples():
    result = runner.invoke(app, ["discover", "--help"])
    assert result.exit_code == 0
    assert "Examples" in result.output and "--demo" in result.output
