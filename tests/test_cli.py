"""The command line: outputs, help, and one-line errors."""

import csv
import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import journeymine as jm
from journeymine import cli
from journeymine.cli import app
from journeymine.measurement._attribution import DEFAULT_MODELS
from tests._browser import dump_dom

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
        "assignments.csv", "attribution.csv", "bottlenecks.csv", "channel_gaps.csv",
        "dropoffs.csv", "edges.csv", "emotions.html",
        "emotions.json", "funnel.csv", "insights.csv", "personas.html", "personas.json",
        "process_map.json", "report.html", "returns.csv", "satisfaction.csv", "tagged_texts.csv",
        "variants.csv"]
    assert "Journey summary" in stdout and "payment → delivery" in stdout
    assert "What matters" in stdout
    assert "Satisfaction: NPS +19 [+13, +25] over 808 answers" in stdout


def test_demo_report_shows_nps_per_stage(demo_out):
    out, _ = demo_out
    html = (out / "report.html").read_text("utf-8")
    section = html[html.index('id="satisfaction"'):html.index('id="process-map"')]
    assert "NPS per stage" in section and "808 survey answers" in section
    rows = re.findall(r'<tr><td><span class="pill stage-(\w+)">', section)
    assert rows == ["purchase", "retention"]  # the demo surveys store purchases and deliveries
    table = pd.read_csv(out / "satisfaction.csv")
    stage = table[table["dimension"] == "stage"].set_index("group")
    assert f"{stage.loc['retention', 'nps']:+.0f}" in section
    assert table.loc[table["dimension"] == "all", "n_answers"].item() == 808


def test_demo_report_shows_which_channels_open_assist_and_close(demo_out):
    out, stdout = demo_out
    html = (out / "report.html").read_text("utf-8")
    block = re.search(r'<section id="attribution">.*?</section>', html, flags=re.S).group(0)
    assert "Which channels open, assist and close journeys" in block
    table = pd.read_csv(out / "attribution.csv")
    assert tuple(table["model"].unique()) == DEFAULT_MODELS
    shapley = table[table["model"] == "shapley"].set_index("channel")["share"]  # by credit
    rows = re.findall(r"<tr><td>([^<]+)</td>((?:<td class=\"num\">[^<]*</td>)+)", block)
    assert [name for name, _ in rows] == shapley.index.tolist()  # the last model's order
    top, values = rows[0]
    assert f"{100 * shapley[top]:.1f}%" in values
    assert "Attribution(7 models" in stdout


def test_demo_report_compares_with_the_designed_journey(demo_out):
    pytest.importorskip("pm4py")
    out, stdout = demo_out
    html = (out / "report.html").read_text("utf-8")
    block = re.search(r'<section id="conformance">.*?</section>', html, flags=re.S).group(0)
    design = " &gt; ".join(jm.datasets.load_demo().designed_journey)
    assert f"Designed: {design}." in block and "Top deviations: " in block
    assert "follow the designed journey (mean fitness" in stdout


def test_demo_report_shows_what_matters_first_and_emotions(demo_out):
    out, _ = demo_out
    html = (out / "report.html").read_text("utf-8")
    assert html.index('id="what-matters"') < html.index('id="journey-map"')
    assert 'id="pain-points"' in html or "Pain points" in html
    insights = pd.read_csv(out / "insights.csv")
    assert {"rank", "kind", "where", "customers", "sentence"} <= set(insights.columns)
    assert "payment → delivery" in insights["where"].head(5).tolist()


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
    assert not (out / "attribution.csv").exists()  # no channel column, nothing to attribute


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


def test_answers_add_satisfaction(csv_log, tmp_path):
    # u1 answered 9 after paying, u2 answered 3 after the cart: NPS (1 - 1) / 2 = 0, shown as
    # n/a under the 10-answer minimum
    answers = tmp_path / "nps.csv"
    pd.DataFrame({"user_id": ["u1", "u2"], "waktu": ["2024-05-01 11:00", "2024-05-02 10:00"],
                  "NPS": [9, 3]}).to_csv(answers, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["discover", str(csv_log), "--out", str(out), "--customer", "user",
                                 "--activity", "page", "--timestamp", "time",
                                 "--answers", str(answers), "--no-personas"])
    assert result.exit_code == 0, result.output
    assert "Satisfaction: NPS n/a (fewer than 10 answers) over 2 answers" in result.output
    table = pd.read_csv(out / "satisfaction.csv")
    overall = table[table["dimension"] == "all"].iloc[0]
    assert (overall["n_answers"], overall["promoters"], overall["detractors"]) == (2, 1, 1)
    assert 'id="satisfaction"' in (out / "report.html").read_text("utf-8")


def test_designed_adds_the_conformance_line(csv_log, tmp_path):
    pytest.importorskip("pm4py")
    # designed iklan_ig > bayar: u1 follows it, u2 goes to the cart instead of paying
    designed = tmp_path / "designed.csv"
    pd.DataFrame({"touchpoint": ["iklan_ig", "bayar"]}).to_csv(designed, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["discover", str(csv_log), "--out", str(out), "--customer", "user",
                                 "--activity", "page", "--timestamp", "time",
                                 "--designed", str(designed), "--no-personas"])
    assert result.exit_code == 0, result.output
    assert "of 2 customers follow the designed journey" in result.output
    html = (out / "report.html").read_text("utf-8")
    assert "Designed: iklan_ig &gt; bayar." in html


def test_bad_answers_are_one_line_and_write_nothing(csv_log, tmp_path):
    answers = tmp_path / "nps.csv"
    pd.DataFrame({"user_id": ["u1", "u2"], "ts": ["2024-05-01", "2024-05-02"],
                  "nps": [9, 12]}).to_csv(answers, index=False)
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["discover", str(csv_log), "--out", str(out),
                                         "--customer", "user", "--activity", "page",
                                         "--timestamp", "time", "--answers", str(answers)]))
    assert "Cannot tell the survey kind from scores ranging from 9 to 12" in line
    assert "0-10" in line
    assert not out.exists()


def test_help_has_examples():
    result = runner.invoke(app, ["discover", "--help"])
    assert result.exit_code == 0
    assert "Examples" in result.output and "--demo" in result.output


# ---------------------------------------------------------------------------- consistency
LOG_OPTIONS = ("--demo", "--customer", "--activity", "--timestamp", "--tz", "--timestamp-format",
               "--encoding", "--sep", "--stages")


def one_error(result, code: int = 2) -> str:
    """Assert a failed run printed exactly one ``error:`` line, last on stderr; return it."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert all(line.startswith(("warning:", "error:")) for line in lines), result.stderr
    return errors[0]


def write_log(path: Path, rows: list[tuple[str, str, str]], header=("customer_id", "touchpoint",
                                                                      "timestamp"), sep=","):
    path.write_text(sep.join(header) + "\n" + "".join(sep.join(r) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture()
def small_log(tmp_path):
    return write_log(tmp_path / "ev.csv", [
        ("u1", "instagram_ad", "2024-05-01 10:00"), ("u1", "checkout", "2024-05-01 10:30"),
        ("u2", "instagram_ad", "2024-05-02 09:00"), ("u2", "add_to_cart", "2024-05-02 09:05")])


@pytest.fixture()
def texts_csv(tmp_path):
    path = tmp_path / "texts.csv"
    pd.DataFrame({"customer_id": ["u1", "u2"], "timestamp": ["2024-05-01 11:00",
                                                             "2024-05-02 10:00"],
                  "text": ["Checkout gampang banget", "Kok mahal bgt ongkirnya"]}).to_csv(
        path, index=False)
    return path


def command_args(command: str, log: Path, texts: Path, out: Path) -> list[str]:
    if command == "emotions":
        return ["emotions", str(texts), "--log", str(log), "--model", "fast", "--out", str(out)]
    return [command, str(log), "--out", str(out)]


@pytest.mark.parametrize("command", ["discover", "personas", "emotions", "attribute"])
def test_every_log_command_has_the_same_log_options(command):
    result = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    for option in LOG_OPTIONS:
        assert option in result.output, (command, option)
    assert ("--conversion" in result.output) == (command != "emotions")
    assert "Event log" in result.output
    words = " ".join(result.output.replace("│", " ").split())
    assert "stage -> list of touchpoints" in words  # no help text eaten as markup


@pytest.mark.parametrize("command", ["discover", "personas", "emotions", "attribute"])
def test_out_is_an_existing_file(command, small_log, texts_csv, tmp_path):
    out = tmp_path / "taken"
    out.write_text("keep me", "utf-8")
    line = one_error(runner.invoke(app, command_args(command, small_log, texts_csv, out)))
    assert "is a file, not a folder" in line and "--out" in line
    assert out.read_text("utf-8") == "keep me"


@pytest.mark.parametrize("command", ["discover", "personas", "emotions", "attribute"])
def test_out_cannot_be_created(command, small_log, texts_csv, tmp_path):
    if os.geteuid() == 0:  # root may write anywhere: use a path that cannot be created
        parent, out = None, Path("/proc/journeymine-test/out")
    else:
        parent = tmp_path / "read-only"
        parent.mkdir()
        parent.chmod(0o555)
        out = parent / "out"
    try:
        line = one_error(runner.invoke(app, command_args(command, small_log, texts_csv, out)))
        assert "Cannot write to the output folder" in line
        assert not out.exists()
    finally:
        if parent is not None:
            parent.chmod(0o755)


def test_read_only_file_system_while_writing_leaves_nothing(small_log, tmp_path, monkeypatch):
    def read_only(self, out_dir, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(out_dir))

    monkeypatch.setattr(jm.ProcessMap, "save", read_only)
    out = tmp_path / "new" / "out"
    line = one_error(runner.invoke(app, ["discover", str(small_log), "--out", str(out)]))
    assert "Read-only file system" in line
    assert not (tmp_path / "new").exists()  # the folders this run created are gone


def test_failure_after_some_files_leaves_an_existing_out_as_it_was(small_log, tmp_path,
                                                                  monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old", "utf-8")

    class Broken:
        def __init__(self, *args, **kwargs):
            pass

        def fit(self, *args, **kwargs):
            raise jm.JourneymineError("personas failed on purpose.")

    monkeypatch.setattr(jm, "PersonaModel", Broken, raising=False)
    line = one_error(runner.invoke(app, ["discover", str(small_log), "--out", str(out),
                                         "--personas"]))
    assert "personas failed on purpose" in line
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]  # no report.html either


@pytest.mark.parametrize("value", ["abc", "four", "0", "-3"])
def test_n_personas_must_be_a_number_or_auto(value, small_log, tmp_path):
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["personas", str(small_log), "--out", str(out),
                                         "--n-personas", value]))
    assert "--n-personas" in line and "auto" in line and "personas --help" in line
    assert not out.exists()


def test_failed_personas_run_leaves_no_out_dir(small_log, tmp_path):
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["personas", str(small_log), "--out", str(out),
                                         "--n-personas", "8"]))
    assert "fewer than the --n-personas 8 asked for" in line
    assert "n_personas" not in line
    assert not out.exists()


def test_memory_error_is_one_line(small_log, tmp_path, monkeypatch):
    def too_big(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(jm, "discover", too_big)
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["discover", str(small_log), "--out", str(out)]))
    assert "too large" in line and "Spark" in line
    assert not out.exists()


def test_a_bug_is_one_line_with_exit_1(small_log, tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(jm, "discover", bug)
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["discover", str(small_log), "--out", str(out)]), code=1)
    assert "internal error" in line and "boom" in line and "--debug" in line
    assert not out.exists()


def test_malformed_stages_yaml_is_one_line_with_its_line_number(small_log, tmp_path):
    stages = tmp_path / "stages.yaml"
    stages.write_text("awareness: [instagram_ad\n purchase: checkout\n", "utf-8")
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["discover", str(small_log), "--out", str(out),
                                         "--stages", str(stages)]))
    assert "stages.yaml" in line and "line 2" in line
    assert not out.exists()


def test_non_utf8_log_suggests_the_encoding_flag(tmp_path):
    log = tmp_path / "latin.csv"
    log.write_bytes("customer_id,touchpoint,timestamp\n"
                    "u1,caf\xe9_visit,2024-05-01 10:00\nu1,checkout,2024-05-01 11:00\n"
                    .encode("latin-1"))
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["discover", str(log), "--out", str(out)]))
    assert "--encoding latin-1" in line and 'encoding="' not in line
    assert not out.exists()
    result = runner.invoke(app, ["discover", str(log), "--out", str(out), "--encoding", "latin-1"])
    assert result.exit_code == 0, result.output
    assert "café_visit" in (out / "edges.csv").read_text("utf-8")


def test_sep_option_and_csv_only_options(tmp_path):
    log = write_log(tmp_path / "semi.csv", [("u1", "instagram_ad", "2024-05-01 10:00"),
                                            ("u1", "checkout", "2024-05-01 11:00")], sep=";")
    out = tmp_path / "out"
    result = runner.invoke(app, ["discover", str(log), "--out", str(out), "--sep", ";"])
    assert result.exit_code == 0, result.output
    parquet = tmp_path / "ev.parquet"
    pd.read_csv(log, sep=";").to_parquet(parquet)
    line = one_error(runner.invoke(app, ["discover", str(parquet), "--out",
                                         str(tmp_path / "o2"), "--sep", ";"]))
    assert "--sep only apply to CSV logs" in line
    assert not (tmp_path / "o2").exists()


def test_demo_takes_no_file_options(tmp_path):
    line = one_error(runner.invoke(app, ["personas", "--demo", "--customer", "user",
                                         "--out", str(tmp_path / "o")]))
    assert "--customer" in line and "demo" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [["--demo", "LOG"], []])
def test_emotions_needs_log_or_demo(args, small_log, texts_csv, tmp_path):
    args = [a.replace("LOG", "--log") for a in args]
    if "--log" in args:
        args.append(str(small_log))
    line = one_error(runner.invoke(app, ["emotions", str(texts_csv), *args, "--out",
                                         str(tmp_path / "o")]))
    assert "--demo" in line and "--log" in line
    assert not (tmp_path / "o").exists()


def test_emotions_with_a_log_needs_texts(small_log, tmp_path):
    line = one_error(runner.invoke(app, ["emotions", "--log", str(small_log), "--out",
                                         str(tmp_path / "o")]))
    assert "TEXTS" in line
    assert not (tmp_path / "o").exists()


def test_unknown_option_is_one_line():
    line = one_error(runner.invoke(app, ["discover", "--nope"]))
    assert "--nope" in line


def test_control_characters_in_names_are_escaped(tmp_path):
    evil = "evil\x1b]0;TITLE\x07\x1b[2J"
    log = write_log(tmp_path / "evil.csv", [(f"c{i}", tp, f"2024-05-01 10:{i:02d}")
                                           for i in range(3) for tp in (evil, "checkout")])
    result = runner.invoke(app, ["discover", str(log), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "evil\\x1b]0;TITLE\\x07\\x1b[2J" in result.stdout  # summary: top path
    assert "warning: Touchpoints without a stage: evil\\x1b]0;TITLE" in result.stderr


def test_clean_escapes_c0_c1_and_bidi_controls():
    assert cli.clean("a\x1b[31mb\x9bc\u202ed\ne") == "a\\x1b[31mb\\x9bc\\u202ed\\x0ae"
    assert cli.clean("café → ok") == "café → ok"


def test_each_warning_is_printed_once(small_log, tmp_path, monkeypatch):
    import logging
    import warnings

    from journeymine.exceptions import DataQualityWarning

    real = jm.discover

    def chatty(log, **kwargs):  # the library repeats itself, as a real log made it do
        for _ in range(8):
            logging.getLogger("journeymine.eventlog").warning("Touchpoints without a stage: %s",
                                                              "zzq_thing")
            warnings.warn("Dropped 3 rows without a timestamp.", DataQualityWarning,
                          stacklevel=2)
        return real(log, **kwargs)

    monkeypatch.setattr(jm, "discover", chatty)
    result = runner.invoke(app, ["discover", str(small_log), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: Touchpoints without a stage: zzq_thing") == 1
    assert result.stderr.count("warning: Dropped 3 rows") == 1
    assert logging.getLogger("journeymine").handlers == []  # the run's set-up is undone


def test_library_fixes_become_cli_flags():
    assert cli.cli_fix('Pass encoding="cp1252", or sep=";"') == "Pass --encoding cp1252, or --sep ;"
    assert cli.cli_fix("a smaller n_personas or k_range") == "a smaller --n-personas or k_range"
    assert cli.cli_fix("pass another --out / out_dir") == "pass another --out"
    assert cli.cli_fix("texts=tagged_df") == "texts=tagged_df"  # no flag: left alone


def test_model_train_needs_data(monkeypatch):
    monkeypatch.delenv(cli.TRAIN_DATA_ENV, raising=False)
    line = one_error(runner.invoke(app, ["model", "train"]))
    assert "--data" in line and cli.TRAIN_DATA_ENV in line
    result = runner.invoke(app, ["model", "train", "--help"], terminal_width=200)
    assert "../shared" not in result.output and cli.TRAIN_DATA_ENV in result.output


def test_model_train_data_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv(cli.TRAIN_DATA_ENV, str(tmp_path / "missing"))
    line = one_error(runner.invoke(app, ["model", "train"]))
    assert "does not exist" in line
    (tmp_path / "empty").mkdir()
    line = one_error(runner.invoke(app, ["model", "train", "--data", str(tmp_path / "empty")]))
    assert "indonlu/ and goemotions/" in line


def test_version():
    for args in (["--version"], ["version"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and result.stdout.strip() == jm.__version__


@pytest.mark.parametrize("args", [[], ["discover"], ["personas"], ["emotions"], ["attribute"],
                                  ["model"], ["model", "train"], ["version"]])
def test_every_help_is_readable(args):
    result = runner.invoke(app, [*args, "--help"], terminal_width=100)
    assert result.exit_code == 0 and "Usage:" in result.output
    assert "Traceback" not in result.output
    assert all(len(line) <= 100 for line in result.output.splitlines())


def test_personas_reads_with_the_log_options_and_texts(tmp_path):
    log = jm.datasets.make_journeys(150, random_state=0).to_pandas()
    path = tmp_path / "renamed.csv"
    log.rename(columns={"customer_id": "user", "activity": "page", "timestamp": "time"})[
        ["user", "page", "time"]].to_csv(path, index=False)
    first = log.groupby("customer_id")["timestamp"].min()
    texts = tmp_path / "texts.csv"
    pd.DataFrame({"customer_id": first.index[:40],
                  "timestamp": (first.iloc[:40] + pd.Timedelta("1min")).astype(str),
                  "text": ["Suka banget, cepat!", "Kecewa, lama bgt"] * 20}).to_csv(
        texts, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["personas", str(path), "--customer", "user", "--activity", "page",
                                 "--timestamp", "time", "--n-personas", "2", "--texts", str(texts),
                                 "--emotion-model", "fast", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["assignments.csv", "personas.html",
                                                     "personas.json"]
    assert json.loads((out / "personas.json").read_text("utf-8"))["n_personas"] == 2


def test_emotions_demo(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["emotions", "--demo", "--model", "fast", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["emotions.html", "emotions.json",
                                                     "tagged_texts.csv"]
    assert "JourneyEmotions(" in result.stdout


def test_cli_imports_only_the_public_api():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(cli))
    modules = [node.module for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.module
               and node.module.startswith("journeymine")]
    assert modules and not [m for m in modules if re.search(r"(^|\.)_", m)], modules


@pytest.mark.parametrize("fmt", ["%Q", "%Y-%m-%d %"])
def test_bad_timestamp_format_is_one_line(fmt, small_log, tmp_path):
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["discover", str(small_log), "--out", str(out),
                                         "--timestamp-format", fmt]))
    assert "--timestamp-format" in line and "strptime" in line
    assert not out.exists()


def test_report_draws_the_gap_histogram_and_says_the_long_tail_once(tmp_path):
    df = jm.datasets.make_clickstream(800, random_state=2)
    log = tmp_path / "clicks.csv"
    df.to_csv(log, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["discover", str(log), "--out", str(out), "--grain", "session",
                                 "--no-personas"])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text("utf-8")
    assert html.count('class="jm-gaps"') == 1 and 'id="returns"' in html
    assert "Long tail" in result.output
    assert html.count("Long tail") == 1  # the callout, not also a note


# ---------------------------------------------------------------------------- attribute
def test_attribute_demo_writes_the_tables_and_page(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["attribute", "--demo", "--model", "first_touch,last_touch",
                                 "--model", "markov", "--out", str(out)], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["attribution.csv", "attribution.html",
                                                     "attribution.json", "roles.csv"]
    table = pd.read_csv(out / "attribution.csv")
    assert list(table["model"].unique()) == ["first_touch", "last_touch", "markov"]
    assert table.groupby("model")["share"].sum().round(6).eq(1).all()
    expected = jm.attribute(jm.datasets.load_demo().log,
                            model=["first_touch", "last_touch", "markov"]).table
    pd.testing.assert_series_equal(table["credit"], expected["credit"], check_names=False)
    assert "Share of conversions by channel" in result.stdout and "markov" in result.stdout
    dom = dump_dom(out / "attribution.html")
    assert "Share of conversions by channel" in dom and "Opens, assists, closes" in dom


def test_attribute_by_touchpoint_on_a_log_without_channels(small_log, tmp_path):
    # u1: instagram_ad > checkout (the purchase-stage conversion): the ad gets the credit
    out = tmp_path / "out"
    result = runner.invoke(app, ["attribute", str(small_log), "--by", "touchpoint",
                                 "--conversion", "checkout", "--model", "linear",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "attribution.csv").set_index("channel")
    assert table.loc["instagram_ad", "credit"] == 1.0
    assert table["credit"].sum() == 1.0


def test_attribute_bad_input_is_one_line_and_writes_nothing(small_log, tmp_path):
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["attribute", "--demo", "--model", "linaer",
                                         "--out", str(out)]))
    assert "Unknown attribution model 'linaer'" in line and "Did you mean 'linear'?" in line
    line = one_error(runner.invoke(app, ["attribute", str(small_log), "--out", str(out)]))
    assert "needs a channel column" in line and "--by touchpoint" in line
    line = one_error(runner.invoke(app, ["attribute", "--demo", "--by", "chanel",
                                         "--out", str(out)]))
    assert "Did you mean 'channel'?" in line and "--by" in line


# ---------------------------------------------------------------------------- long tail options
@pytest.fixture()
def messy_log(tmp_path):
    """Names that differ by an id or by case; u1 reloads home three times."""
    return write_log(tmp_path / "messy.csv", [
        ("u1", "home", "2024-05-01 10:00"), ("u1", "home", "2024-05-01 10:01"),
        ("u1", "home", "2024-05-01 10:02"), ("u1", "product_view_12", "2024-05-01 10:03"),
        ("u1", "checkout", "2024-05-01 10:04"),
        ("u2", "home", "2024-05-02 09:00"), ("u2", "Product View", "2024-05-02 09:01"),
        ("u3", "home", "2024-05-03 09:00"), ("u3", "product_view_7", "2024-05-03 09:02"),
        ("u3", "checkout", "2024-05-03 09:03")])


def touchpoints(out: Path) -> set[str]:
    data = json.loads((out / "process_map.json").read_text("utf-8"))
    return {n["touchpoint"] for n in data["nodes"]}


def test_help_documents_collapse_repeats_and_group():
    result = runner.invoke(app, ["discover", "--help"], terminal_width=200)
    assert "--collapse-repeats" in result.output and "--group" in result.output
    assert "auto|FILE" in result.output and "--group auto" in result.output


def test_collapse_repeats_merges_reloads_in_the_paths(messy_log, tmp_path):
    runs = {}
    for flag in ([], ["--collapse-repeats"]):
        out = tmp_path / ("collapsed" if flag else "raw")
        result = runner.invoke(app, ["discover", str(messy_log), "--out", str(out),
                                     "--grain", "customer", "--conversion", "checkout", *flag])
        assert result.exit_code == 0, result.output
        runs[bool(flag)] = set(pd.read_csv(out / "variants.csv")["variant"])
    assert "home > home > home > product_view_12 > checkout" in runs[False]
    assert "home > product_view_12 > checkout" in runs[True]
    assert not any("home > home" in v for v in runs[True])


@pytest.mark.parametrize("kind", ["yaml", "csv", "auto"])
def test_group_renames_once_for_the_report_and_the_insights(kind, messy_log, tmp_path):
    if kind == "yaml":
        rules = tmp_path / "groups.yaml"
        rules.write_text('"product_view_\\\\d+": product_view\n"Product View": product_view\n',
                         "utf-8")
    elif kind == "csv":
        rules = tmp_path / "groups.csv"
        rules.write_text("name,group\nproduct_view_\\d+,product_view\nProduct View,product_view\n",
                         "utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["discover", str(messy_log), "--out", str(out), "--grain",
                                 "customer", "--group", "auto" if kind == "auto" else str(rules)])
    assert result.exit_code == 0, result.output
    # 5 names (home, checkout, product_view_12, product_view_7, Product View) -> 3
    assert "Grouped 5 event names into 3 touchpoints (--group)." in result.output
    assert touchpoints(out) == {"home", "product_view", "checkout"}
    assert "Grouped 5 event names" in (out / "report.html").read_text("utf-8")
    assert set(pd.read_csv(out / "edges.csv")["source"]) <= {"home", "product_view", "checkout"}


@pytest.mark.parametrize("content, suffix, said", [
    (None, ".yaml", "does not exist"),
    ("a: b\n", ".txt", "neither YAML nor CSV"),
    ("- [a, b, c]\n", ".yaml", "not a (name, group) pair"),
    ("[unclosed\n", ".yaml", "cannot be read"),
    ("name,group\n", ".csv", "holds no (name, group) rules"),
])
def test_bad_group_file_is_one_error_and_writes_nothing(content, suffix, said, messy_log,
                                                       tmp_path):
    rules = tmp_path / f"groups{suffix}"
    if content is not None:
        rules.write_text(content, "utf-8")
    out = tmp_path / "out"
    line = one_error(runner.invoke(app, ["discover", str(messy_log), "--out", str(out),
                                         "--group", str(rules)]))
    assert said in line
    assert not out.exists()
