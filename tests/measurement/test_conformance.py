"""jm.conformance and jm.process_model: hand-checked replays, the sample bound, the demo."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeymine as jm
from journeymine.exceptions import (
    InvalidParameterError,
    JourneymineError,
    OptionalDependencyError,
    ReadError,
    StageError,
    UnknownTouchpointError,
)
from journeymine.measurement import _conformance

pytest.importorskip("pm4py")

START = pd.Timestamp("2024-01-01")
DESIGN = ["ad", "page", "buy"]


def make_log(journeys: dict[str, list[str]]) -> jm.EventLog:
    """A log from ``{customer: [touchpoint, ...]}``, one event a day."""
    rows = [{"customer_id": c, "touchpoint": tp, "ts": START + pd.Timedelta(days=i)}
            for c, steps in journeys.items() for i, tp in enumerate(steps)]
    return jm.EventLog.from_pandas(pd.DataFrame(rows), stage=False)


# Designed: ad > page > buy.  a follows it; b skips the page; c sees the page before the ad.
TINY = {"a": ["ad", "page", "buy"], "b": ["ad", "buy"], "c": ["page", "ad", "buy"]}


def by_customer(result: jm.Conformance) -> pd.DataFrame:
    return result.customers.set_index("customer_id")


def deviations(result: jm.Conformance) -> set[tuple[str, str, int]]:
    d = result.deviations
    return set(zip(d["kind"], d["touchpoint"], d["customers"], strict=True))


# --------------------------------------------------------------------------- hand-checked
def test_alignments_on_three_customers():
    c = jm.conformance(make_log(TINY), designed=DESIGN, method="alignments")
    t = by_customer(c)
    # fitness = 1 - cost / (trace length + shortest model run): every move off the design costs 1.
    # a: all synchronous, cost 0.  b: one model move (page), 1 - 1/(2+3) = 0.8.
    # c: page is a log move before ad and a model move after it (or ad the other way
    #    round, the same cost): 1 - 2/(3+3) = 2/3, one out-of-order step.
    assert t["fitness"].to_dict() == pytest.approx({"a": 1.0, "b": 0.8, "c": 2 / 3})
    assert t.loc["b", ["skipped", "unexpected", "out_of_order"]].tolist() == [1, 0, 0]
    assert t.loc["c", ["skipped", "unexpected", "out_of_order"]].tolist() == [0, 0, 1]
    d = c.deviations
    assert set(d["kind"]) == {"skipped", "out_of_order"}
    assert d.loc[d["kind"] == "skipped", ["touchpoint", "customers", "share"]].values.tolist() \
        == [["page", 1, pytest.approx(1 / 3)]]
    assert d.loc[d["kind"] == "out_of_order", "touchpoint"].iloc[0] in {"ad", "page"}
    s = c.summary
    assert (s["customers"], s["variants"], s["replayed_variants"], s["sampled"]) == (3, 3, 3, False)
    assert s["fitness"] == pytest.approx((1 + 0.8 + 2 / 3) / 3)
    assert (s["fitting"], s["fitting_share"], s["fitness_se"]) == (1, pytest.approx(1 / 3), 0.0)


def test_token_replay_on_three_customers():
    c = jm.conformance(make_log(TINY), designed=DESIGN)  # token replay is the default
    t = by_customer(c)
    # The net: each touchpoint a transition between its own two places, silent steps
    # start > ad > page > buy > end.
    # Fitness = 1/2 (1 - missing/consumed) + 1/2 (1 - remaining/produced).
    # b (ad, buy): start, start>ad, ad, buy (1 token missing), buy>end, end: 6 firings, each
    #   consuming and producing one token, plus the initial and the final token: 7 and 7;
    #   the token after ad remains -> 1/2 (6/7) + 1/2 (6/7) = 6/7.
    #   What remained needs page: skipped.
    # c (page, ad, buy): page fires first with its token missing, then start, start>ad, ad,
    #   page>buy, buy, buy>end, end: 8 firings -> 9 consumed and produced, 1 missing, 1 remaining.
    assert t["fitness"].to_dict() == pytest.approx({"a": 1.0, "b": 6 / 7, "c": 8 / 9})
    assert deviations(c) == {("skipped", "page", 1), ("out_of_order", "page", 1)}
    assert t.loc["c", "out_of_order"] == 1 and t.loc["b", "skipped"] == 1


def test_unexpected_step_costs_fitness_only_in_alignments():
    log = make_log({"d": ["ad", "chat", "page", "buy"]})
    aligned = jm.conformance(log, designed=DESIGN, method="alignments")
    # one log move: 1 - 1 / (4 + 3)
    assert aligned.customers["fitness"].iloc[0] == pytest.approx(6 / 7)
    assert deviations(aligned) == {("unexpected", "chat", 1)}
    replayed = jm.conformance(log, designed=DESIGN)
    assert replayed.customers["fitness"].iloc[0] == 1.0  # token replay ignores unknown events
    assert deviations(replayed) == {("unexpected", "chat", 1)}


def test_stopping_early_is_drop_off_unless_the_end_is_required():
    log = make_log({"e": ["ad", "page"], "f": ["ad", "page", "buy"]})
    for method in ("token_replay", "alignments"):
        free = jm.conformance(log, designed=DESIGN, method=method)
        assert free.customers["fitness"].tolist() == [1.0, 1.0]
        assert free.deviations.empty
        strict = jm.conformance(log, designed=DESIGN, method=method, require_end=True)
        assert by_customer(strict).loc["e", "fitness"] < 1
        assert deviations(strict) == {("skipped", "buy", 1)}


def test_repeats_and_occurrences():
    # g repeats the ad twice: two unexpected occurrences for one customer.
    c = jm.conformance(make_log({"g": ["ad", "ad", "ad", "page", "buy"]}), designed=DESIGN,
                       method="alignments")
    assert c.deviations[["kind", "touchpoint", "customers", "occurrences"]].values.tolist() \
        == [["unexpected", "ad", 1, 2]]


def test_a_graph_of_allowed_steps():
    # ad, then page or search, then buy.
    edges = [("ad", "page"), ("ad", "search"), ("page", "buy"), ("search", "buy")]
    log = make_log({"h": ["ad", "search", "buy"], "i": ["ad", "page", "search", "buy"],
                    "j": ["ad", "page", "buy"]})
    as_edges = jm.conformance(log, designed=edges, method="alignments")
    t = by_customer(as_edges)
    assert t.loc[["h", "j"], "fitness"].tolist() == [1.0, 1.0]
    # i takes both branches: one of them is an extra step, 1 - 1 / (4 + 3)
    assert t.loc["i", "fitness"] == pytest.approx(6 / 7)
    assert as_edges.deviations["kind"].tolist() == ["unexpected"]
    as_dict = jm.conformance(log, designed={"ad": ["page", "search"], "page": "buy",
                                            "search": ["buy"]}, method="alignments")
    pd.testing.assert_frame_equal(as_dict.customers, as_edges.customers)
    assert as_edges.designed == ("ad", "page", "search", "buy")


def test_csv_design_with_indonesian_stages(tmp_path):
    path = tmp_path / "designed.csv"
    path.write_text("step,touchpoint,stage,description\n"
                    "2,page,Pertimbangan,Halaman produk\n"
                    "1,ad,kesadaran,Iklan\n"
                    "3,buy,pembelian,Bayar\n", encoding="utf-8")
    c = jm.conformance(make_log(TINY), designed=path, method="alignments")
    assert c.designed == ("ad", "page", "buy")  # ordered by step, not by row
    assert c.summary["source"] == "'designed.csv'"
    stage = dict(zip(c.deviations["touchpoint"], c.deviations["stage"], strict=True))
    assert stage["page"] == "consideration"
    same = jm.conformance(make_log(TINY), designed=DESIGN, method="alignments")
    pd.testing.assert_frame_equal(c.customers, same.customers)
    for text in ("touchpoint\nad\npage\nbuy\n",
                 "\ufefftouchpoint;stage\nad;kesadaran\npage;\nbuy;pembelian\n"):
        path.write_text(text, encoding="utf-8")  # one column; ';' with a BOM
        assert jm.conformance(make_log(TINY), designed=path).designed == tuple(DESIGN)
    path.write_text("touchpoint,stage\nad,tahap_aneh\n", encoding="utf-8")
    with pytest.raises(StageError):
        jm.conformance(make_log(TINY), designed=path)


def test_personas_from_a_mapping():
    c = jm.conformance(make_log(TINY), designed=DESIGN, method="alignments",
                       personas={"a": "planner", "b": "planner", "c": "browser"})
    p = c.personas.set_index("persona")
    assert p.loc["planner", ["customers", "fitness", "fitting_share"]].tolist() \
        == [2, pytest.approx(0.9), 0.5]  # (1 + 0.8) / 2, one of two fits
    assert p.loc["planner", "top_deviation"] == "page skipped"
    pdv = c.persona_deviations
    planner = pdv[pdv["persona"] == "planner"]
    assert planner[["kind", "touchpoint", "customers", "share"]].values.tolist() \
        == [["skipped", "page", 1, 0.5]]
    assert pdv.loc[pdv["persona"] == "browser", "kind"].tolist() == ["out_of_order"]
    assert by_customer(c)["persona"].to_dict() == {"a": "planner", "b": "planner",
                                                   "c": "browser"}
    partial = jm.conformance(make_log(TINY), designed=DESIGN, personas=pd.Series({"a": "x"}))
    assert partial.summary["unassigned"] == 2 and partial.personas["customers"].tolist() == [1]


def test_personas_from_a_persona_model():
    log = jm.datasets.make_journeys(200, random_state=0)
    model = jm.PersonaModel(n_personas=2, n_bootstrap=0, random_state=0).fit(log)
    designed = log.activities[:3]
    c = jm.conformance(log, designed=designed, personas=model)
    names = {p.name for p in model.personas_}
    assert set(c.personas["persona"]) <= names
    assert c.personas["customers"].sum() == log.n_customers


def test_session_grain_replays_each_visit():
    # s: a visit ad > page > buy, then a day later a visit page > buy.
    rows = [("s", "ad", "2024-01-01 10:00"), ("s", "page", "2024-01-01 10:05"),
            ("s", "buy", "2024-01-01 10:10"), ("s", "page", "2024-01-02 10:00"),
            ("s", "buy", "2024-01-02 10:05"), ("t", "ad", "2024-01-01 09:00")]
    log = jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts"]),
                                  stage=False)
    whole = jm.conformance(log, designed=DESIGN, method="alignments")
    # one history: page and buy again at the end are two log moves, 1 - 2 / (5 + 3)
    assert by_customer(whole).loc["s", "fitness"] == pytest.approx(0.75)
    visits = jm.conformance(log, designed=DESIGN, method="alignments", grain="session",
                            gap="30min")
    t = visits.customers.sort_values("journey_id")
    assert t["customer_id"].tolist() == ["s", "s", "t"]
    # the second visit skips the ad: 1 - 1 / (2 + 3); t stops after the ad (drop-off)
    assert t["fitness"].tolist() == pytest.approx([1.0, 0.8, 1.0])
    assert visits.deviations[["kind", "touchpoint", "customers", "journeys", "share"]
                             ].values.tolist() == [["skipped", "ad", 1, 1, 0.5]]
    s = visits.summary
    assert (s["grain"], s["journeys"], s["customers"], s["replayed_customers"]) \
        == ("session", 3, 2, 2)
    assert visits.headline.startswith("67% of 3 sessions follow")
    with pytest.raises(InvalidParameterError, match="Did you mean 'session'"):
        jm.conformance(log, designed=DESIGN, grain="sesion")


# --------------------------------------------------------------------------- the bound
def test_the_sample_bound_is_enforced(monkeypatch):
    log = jm.datasets.make_journeys(400, random_state=1)
    designed = list(log.activities[:4])
    seen: list[int] = []
    real = _conformance.replay

    def spy(net, traces, method):
        seen.append(len(traces))
        return real(net, traces, method)

    monkeypatch.setattr(_conformance, "replay", spy)
    c = jm.conformance(log, designed=designed, sample=50, random_state=3)
    s = c.summary
    assert s["variants"] > 50 and s["sampled"]
    assert sum(seen) == s["replayed_variants"] <= 50
    assert s["replayed_journeys"] == s["replayed_customers"] == len(c.customers) < log.n_customers
    assert c.customers["customer_id"].is_unique
    assert 0 < s["fitness_se"] < 0.2
    assert c.deviations["share"].le(1).all()
    again = jm.conformance(log, designed=designed, sample=50, random_state=3)
    pd.testing.assert_frame_equal(again.customers, c.customers)
    other = jm.conformance(log, designed=designed, sample=50, random_state=4)
    assert set(other.customers["customer_id"]) != set(c.customers["customer_id"])
    assert "random sample" in c.headline


def test_long_journeys_are_left_out_and_counted(caplog):
    log = make_log({"long": ["ad", "page"] * 30 + ["buy"], **TINY})
    c = jm.conformance(log, designed=DESIGN, max_length=10)
    assert set(c.customers["customer_id"]) == {"a", "b", "c"}
    assert (c.summary["too_long"], c.summary["journeys"]) == (1, 4)
    assert "1 longer than 10 events left out" in c.headline
    assert "max_length=10" in caplog.text
    with pytest.raises(InvalidParameterError, match="grain='session'"):
        jm.conformance(log, designed=DESIGN, max_length=1)
    with pytest.raises(InvalidParameterError, match="max_length=0"):
        jm.conformance(log, designed=DESIGN, max_length=0)


def test_exact_when_the_variants_fit_the_bound():
    log = jm.datasets.make_journeys(150, random_state=2)
    c = jm.conformance(log, designed=list(log.activities[:4]), sample=10_000)
    assert not c.summary["sampled"]
    assert c.summary["replayed_customers"] == log.n_customers == len(c.customers)
    assert c.summary["fitness_se"] == 0.0


# --------------------------------------------------------------------------- the demo
@pytest.fixture(scope="module")
def demo():
    return jm.datasets.load_demo()


def test_demo_designed_journey(demo):
    c = jm.conformance(demo.log, designed=demo.designed_journey, sample=400, method="alignments")
    design = list(demo.designed_journey)
    events = demo.events.sort_values(["customer_id", "timestamp"], kind="stable")
    paths = events.groupby("customer_id")["touchpoint"].agg(tuple)
    t = by_customer(c)
    path = paths.reindex(t.index.astype(paths.index.dtype))
    prefix = np.array([list(p) == design[:len(p)] for p in path])
    assert prefix.any()
    # alignments: fitness 1 exactly for journeys that follow the design (as far as they go)
    assert (t["fitness"].to_numpy() == 1.0).tolist() == prefix.tolist()
    assert (t.loc[prefix, ["skipped", "unexpected", "out_of_order"]] == 0).all().all()
    assert t["fitness"].between(0, 1).all()
    # most demo customers enter through other ads and searches than the designed one
    top = c.deviations.iloc[0]
    assert (top["kind"], top["touchpoint"]) == ("skipped", "instagram_ad")
    assert c.deviations["stage"].notna().all()
    assert c.summary["replayed_variants"] <= 400


def test_demo_csv_and_personas(demo):
    from importlib import resources

    csv = resources.files("journeymine.datasets").joinpath("data", "designed_journey.csv")
    c = jm.conformance(demo.log, designed=str(csv), sample=300, personas=demo.truth.personas)
    assert c.designed == demo.designed_journey
    assert set(c.personas["persona"]) == set(demo.truth.persona_names)
    assert c.personas["customers"].sum() == c.summary["replayed_customers"]
    assert json.loads(json.dumps(c.to_dict()))["format"]["name"] == "journeymine.conformance"
    assert "\n" not in repr(c) and c.headline.endswith(".")


# --------------------------------------------------------------------------- properties
@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from(["ad", "page", "buy", "chat"]), min_size=1, max_size=6))
def test_alignment_fitness_is_one_exactly_for_design_prefixes(path):
    log = make_log({"x": path, "y": DESIGN})  # y: the design's touchpoints are in the log
    c = jm.conformance(log, designed=DESIGN, method="alignments")
    fitness = by_customer(c).loc["x", "fitness"]
    assert 0 <= fitness <= 1
    assert (fitness == 1) == (path == DESIGN[:len(path)])
    assert (c.deviations["occurrences"] >= c.deviations["customers"]).all()


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("designed, error, words", [
    (["ad", "paeg", "buy"], UnknownTouchpointError, "did you mean 'page'"),
    ([], InvalidParameterError, "no steps"),
    (["ad", ("page", "buy")], InvalidParameterError, "mixes"),
    (42, InvalidParameterError, "not a designed journey"),
    ("design.xlsx", ReadError, "Don't know how to read"),
    ("missing.csv", ReadError, "does not exist"),
    ("missing.bpmn", ReadError, "does not exist"),
])
def test_bad_designs(designed, error, words):
    before = list(designed) if isinstance(designed, list) else designed
    with pytest.raises(error, match=words):
        jm.conformance(make_log(TINY), designed=designed)
    if isinstance(designed, list):
        assert designed == before


def test_bad_design_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("step,touchpoint,stage\n", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="no steps"):
        jm.conformance(make_log(TINY), designed=empty)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("stap,touchpoints\n1,ad\n", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="Did you mean 'touchpoints'"):
        jm.conformance(make_log(TINY), designed=wrong)
    broken = tmp_path / "broken.pnml"
    broken.write_text("<pnml><net>", encoding="utf-8")
    with pytest.raises(ReadError, match="PNML"):
        jm.conformance(make_log(TINY), designed=broken)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x00")
    with pytest.raises(ReadError):
        jm.conformance(make_log(TINY), designed=binary)


def test_bad_parameters():
    log = make_log(TINY)
    table = log.table
    for kwargs, words in [({"sample": 0}, "sample=0"), ({"sample": -5}, "sample=-5"),
                          ({"method": "alignment"}, "Did you mean 'alignments'"),
                          ({"personas": ["x"]}, "not a persona per customer"),
                          ({"personas": {"zz": "x"}}, "none of the log's customers")]:
        with pytest.raises(InvalidParameterError, match=words):
            jm.conformance(log, designed=DESIGN, **kwargs)
    with pytest.raises(JourneymineError, match="needs an EventLog"):
        jm.conformance(pd.DataFrame(), designed=DESIGN)
    assert log.table.equals(table)


def test_missing_pm4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pm4py", None)  # import pm4py now raises ImportError
    with pytest.raises(OptionalDependencyError, match=r"journeymine\[process\]"):
        jm.conformance(make_log(TINY), designed=DESIGN)


def test_plot_draws_one_bar_per_deviation():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    c = jm.conformance(make_log(TINY), designed=DESIGN, method="alignments")
    ax = c.plot()
    assert len(ax.patches) == len(c.deviations) == 2
    assert sorted(p.get_width() for p in ax.patches) == pytest.approx([1 / 3, 1 / 3])
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "page (skipped)"
    matplotlib.pyplot.close("all")


def test_repr_html_escapes_names():
    log = make_log({"a": ["<b>ad</b>", "buy"]})
    html = jm.conformance(log, designed=["buy"])._repr_html_()
    assert "<b>ad</b>" not in html and "&lt;b&gt;ad&lt;/b&gt;" in html


# --------------------------------------------------------------------------- process model
def test_process_model_of_a_sequence(tmp_path):
    import pm4py

    log = make_log({c: ["ad", "page", "buy"] for c in "abc"})
    model = jm.process_model(jm.discover(log))
    assert str(model.tree) == "->( 'ad', 'page', 'buy' )"
    assert model.summary["touchpoints"] == 3 and model.summary["edges"] == 2
    bpmn, pnml = model.save(tmp_path / "j.bpmn"), model.save(tmp_path / "j.PNML")
    net, im, fm = pm4py.read_pnml(str(pnml))
    assert {t.label for t in net.transitions} - {None} == {"ad", "page", "buy"}
    assert im and fm
    read = pm4py.read_bpmn(str(bpmn))
    assert {n.get_name() for n in read.get_nodes()} >= {"ad", "page", "buy"}
    assert not list(tmp_path.glob(".*.tmp"))
    # the saved models are designs: the log fits them, the shuffled journey does not
    for path in (bpmn, pnml, model):
        fit = jm.conformance(log, designed=path, method="alignments")
        assert fit.summary["fitting_share"] == 1.0
    off = jm.conformance(make_log({"z": ["page", "ad", "buy"]}), designed=pnml,
                         method="alignments")
    assert off.customers["fitness"].iloc[0] < 1


def test_process_model_of_filtered_maps():
    log = jm.datasets.make_journeys(300, random_state=0)
    pm = jm.discover(log)
    full = jm.process_model(log)  # a log is discovered first
    assert full.summary["touchpoints"] == len(pm.nodes)
    # a strict filter leaves touchpoints no kept start reaches; the miner must still run
    small = jm.process_model(pm.filter(edges=0.5, touchpoints=6))
    assert small.summary["touchpoints"] == 6
    assert json.loads(json.dumps(small.to_dict()))["tree"] == str(small.tree)
    assert "\n" not in repr(small)


def test_process_model_bad_input(tmp_path):
    pm = jm.discover(make_log(TINY))
    with pytest.raises(InvalidParameterError, match="noise_threshold"):
        jm.process_model(pm, noise_threshold=1)
    with pytest.raises(JourneymineError, match="ProcessMap or an EventLog"):
        jm.process_model(pd.DataFrame())
    model = jm.process_model(pm)
    with pytest.raises(InvalidParameterError, match=r"\.bpmn or \.pnml"):
        model.save(tmp_path / "model.svg")
    assert not list(tmp_path.iterdir())
