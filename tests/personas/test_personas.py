"""Personas: hand-checked features, recovery of planted personas, cards, report, compare."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import journeymine as jm
from journeymine.exceptions import ColumnNotFoundError, InvalidParameterError, SchemaError
from journeymine.personas import (
    Comparison,
    JourneyFeaturizer,
    Persona,
    PersonaModel,
    compare,
    run_personas,
)
from journeymine.reporting import percent
from tests._browser import dump_dom

EVIL = '<script>alert("x")</script>'


@pytest.fixture
def three() -> pd.DataFrame:
    """c1 browses, repeats a product page and buys on the web; c2 buys in the app; c3 leaves."""
    return pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c1", "c2", "c2", "c3"],
        "touchpoint": ["ig_ad", "product_page", "product_page", "checkout",
                       "ig_ad", "checkout", "product_page"],
        "ts": ["2024-05-01 10:00", "2024-05-01 10:05", "2024-05-01 10:10", "2024-05-01 10:30",
               "2024-05-02 09:00", "2024-05-02 09:40", "2024-05-03 12:00"],
        "channel": ["social", "web", "web", "web", "social", "app", "web"],
        "revenue": [None, None, None, 100.0, None, 50.0, None],
    })


def test_features_by_hand(three):
    f = JourneyFeaturizer()
    X = f.fit_transform(three)
    assert list(X.index) == ["c1", "c2", "c3"]
    # Stages guessed by keyword: ig_ad awareness (0), product_page consideration (1),
    # checkout purchase (2); conversion = purchase touchpoints with revenue = checkout.
    assert f.conversion_ == ("checkout",)
    c1, c2, c3 = X.loc["c1"], X.loc["c2"], X.loc["c3"]
    # c1: 4 events, 3 distinct; 10:00 -> 10:30 = 1800 s; converts at 10:30 (1800 s).
    assert (c1.n_events, c1.n_touchpoints, c1.duration_seconds) == (4, 3, 1800)
    assert (c1.converted, c1.seconds_to_conversion, c1.furthest_stage) == (1, 1800, 2)
    # product_page -> product_page is one self-loop; 4 events - 3 distinct = 1 repeat.
    assert (c1.n_self_loops, c1.n_repeats) == (1, 1)
    # 2 of 4 events at product_page / in consideration; 3 of 4 on the web.
    assert c1["share__product_page"] == 0.5 and c1["count__product_page"] == 2
    assert c1["stage_share__consideration"] == 0.5
    assert c1["channel_share__web"] == 0.75 and c1["channel_share__social"] == 0.25
    # social -> web is the only switch; starts on social, ends on web.
    assert c1.n_channel_switches == 1
    assert (c1["first_channel__social"], c1["last_channel__web"]) == (1, 1)
    # 3 transitions, one of them product_page -> product_page.
    assert c1["transition__product_page>product_page"] == pytest.approx(1 / 3)
    # Revenue: one paid event of 100; the log ends 2024-05-03 12:00, c1 paid
    # 2024-05-01 10:30: 2 days 1.5 h = 2.0625 days.
    assert (c1.frequency, c1.monetary) == (1, 100)
    assert c1.recency_days == pytest.approx(2.0625)
    # c2: 09:00 -> 09:40 = 2400 s; social -> app; paid 50 at 05-02 09:40, 1 d 2 h 20 min
    # before the end = 1 + 140 / 1440 days.
    assert (c2.n_events, c2.duration_seconds, c2.seconds_to_conversion) == (2, 2400, 2400)
    assert c2.n_channel_switches == 1 and c2["last_channel__app"] == 1
    assert c2.recency_days == pytest.approx(1 + 140 / 1440)
    assert c2["transition__ig_ad>checkout"] == 1.0
    # c3: one event, never converts: no time to conversion, no recency, nothing paid.
    assert (c3.n_events, c3.duration_seconds, c3.converted) == (1, 0, 0)
    assert np.isnan(c3.seconds_to_conversion) and np.isnan(c3.recency_days)
    assert (c3.monetary, c3.n_self_loops, c3.n_channel_switches) == (0, 0, 0)
    # All four transitions occur once: ordered by count, then name.
    assert f.transitions_ == [("ig_ad", "checkout"), ("ig_ad", "product_page"),
                              ("product_page", "checkout"), ("product_page", "product_page")]


def test_features_with_texts(three):
    texts = pd.DataFrame({"customer_id": ["c1", "c1", "c2"],
                          "sentiment": ["positive", "negative", "Negative"],
                          "emotion": ["joy", "anger", "anger"]})
    X = JourneyFeaturizer().fit_transform(three, texts=texts)
    assert X.loc["c1", "n_texts"] == 2 and X.loc["c1", "sentiment__negative"] == 0.5
    assert X.loc["c2", "emotion__anger"] == 1.0  # labels are lower-cased
    assert (X.loc["c3", "n_texts"], X.loc["c3", "emotion__joy"]) == (0, 0)
    plain = JourneyFeaturizer().fit_transform(three)
    assert "n_texts" not in plain.columns


def test_feature_groups_and_bad_params(three):
    X = JourneyFeaturizer(groups=["touchpoints"]).fit_transform(three)
    assert all(c.startswith(("count__", "share__")) for c in X.columns)
    with pytest.raises(InvalidParameterError, match="feature groups"):
        JourneyFeaturizer(groups=["nope"]).fit(three)
    with pytest.raises(InvalidParameterError, match="n_transitions"):
        JourneyFeaturizer(n_transitions=-1).fit(three)
    with pytest.raises(SchemaError, match="EventLog or a pandas DataFrame"):
        JourneyFeaturizer().fit([1, 2, 3])
    with pytest.raises(ColumnNotFoundError, match="customer_id"):
        JourneyFeaturizer().fit(three, texts=pd.DataFrame({"sentiment": ["positive"]}))
    with pytest.raises(ColumnNotFoundError, match="sentiment"):
        JourneyFeaturizer().fit(three, texts=pd.DataFrame({"customer_id": ["c1"]}))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_planted_personas_and_k(seed):
    log, truth = jm.datasets.make_journeys(3000, random_state=seed, return_truth=True)
    model = PersonaModel(random_state=0, n_bootstrap=0).fit(log)
    assert model.n_personas_ == 4
    assert model.k_scores_["k"].tolist() == list(range(2, 9))
    ari = adjusted_rand_score(truth.personas.reindex(model.labels_.index), model.labels_)
    # 0.8 with the transitions-only default; the default that recovers personas on the
    # independent scenarios (channel, pace, mixed) gives up a little here (0.75 on seed 0).
    assert ari >= 0.7


@pytest.fixture(scope="module")
def fitted():
    log, truth = jm.datasets.make_journeys(800, random_state=5, return_truth=True)
    rng = np.random.default_rng(0)
    customers = rng.choice(sorted(truth.personas.index), 300, replace=False)
    texts = pd.DataFrame({
        "customer_id": customers,
        "sentiment": rng.choice(["positive", "negative", "neutral"], 300),
        "emotion": rng.choice(["joy", "anger", "trust"], 300),
        "activity": rng.choice(["checkout", "delivery", "customer_support"], 300),
        "text": [EVIL if i == 0 else f"ulasan {i}: produknya bagus tapi pengiriman lama"
                 for i in range(300)],
    })
    model = PersonaModel(n_personas=4, random_state=1, n_bootstrap=3).fit(log, texts=texts)
    return log, truth, texts, model


def test_deterministic_with_random_state(fitted):
    log, _, texts, model = fitted
    again = PersonaModel(n_personas=4, random_state=1, n_bootstrap=3).fit(log, texts=texts)
    pd.testing.assert_series_equal(model.labels_, again.labels_)
    assert [p.to_dict() for p in model.personas_] == [p.to_dict() for p in again.personas_]
    pd.testing.assert_series_equal(model.predict(log), model.labels_)


def test_cards(fitted):
    _, _, _, model = fitted
    cards = model.personas_
    assert [p.id for p in cards] == [0, 1, 2, 3]
    assert sum(p.size for p in cards) == 800
    assert [p.size for p in cards] == sorted((p.size for p in cards), reverse=True)
    assert len({p.name for p in cards}) == 4 and len({p.name_id for p in cards}) == 4
    for p in cards:
        assert isinstance(p, Persona)
        assert p.traits and all(np.isfinite(t["effect_size"]) for t in p.traits)
        ranks = [abs(t["effect_size"]) * t["showing"] for t in p.traits]
        assert ranks == sorted(ranks, reverse=True) and min(t["showing"] for t in p.traits) >= 0.2
        assert p.top_path and len(p.top_path) >= 2
        assert 0 <= p.stability <= 1
        assert len(p.differences) == 3
        assert 1 <= len(p.quotes) <= 3 and set(p.sentiment) <= {"positive", "negative",
                                                                 "neutral"}
        assert p.process_svg.startswith("<svg")
        json.dumps(p.to_dict())  # JSON-safe
        assert "process_svg" not in p.to_dict() and "process_svg" in p.to_dict(svg=True)
        assert p.to_frame().shape[0] == len(p.traits)
        assert repr(p).startswith(f"Persona({p.id}: ") and "\n" not in repr(p)
    frame = model.to_frame()
    assert list(frame.index) == [0, 1, 2, 3] and frame["size"].sum() == 800


def test_card_html_escapes_quotes(fitted):
    _, _, _, model = fitted
    html = "".join(p._repr_html_() for p in model.personas_)
    assert EVIL not in html
    assert "<svg" in html and "Distinguishing traits" in html
    # Every card says how sure the k is and how much of the persona shows each trait.
    assert html.count('class="jm-muted jm-knote"') == len(model.personas_)
    assert model.k_note_ and model.k_note_ in html and "<th>showing</th>" in html
    first = model.personas_[0].traits[0]
    assert f"<td>{percent(first['showing'])}</td>" in html


def test_names_match_the_planted_personas():
    log, truth = jm.datasets.make_journeys(2000, random_state=0, return_truth=True)
    model = PersonaModel(n_personas=4, random_state=0, n_bootstrap=0).fit(log)
    # Name each recovered persona after its most common planted persona.
    top = pd.crosstab(model.labels_, truth.personas.reindex(model.labels_.index)).idxmax(axis=1)
    names = {top[p.id]: p.name for p in model.personas_}
    # A pace word may come first ("Quick marketplace impulse buyers"): check the channel.
    assert "In-store" in names["offline_loyalist"]
    assert "marketplace" in names["social_impulse"].lower()
    assert "app" in names["app_bargain_hunter"].lower().split()


def test_report_renders_in_browser(fitted, tmp_path):
    _, _, _, model = fitted
    written = model.save(tmp_path, title="Personas <b>x</b>")
    assert [p.name for p in written] == ["personas.html", "personas.json", "assignments.csv"]
    page = written[0]
    html = page.read_text(encoding="utf-8")
    assert EVIL not in html and "<b>x</b>" not in html
    assert "<script" not in html.lower() and "@import" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    dom = dump_dom(page)
    assert all(p.name in dom for p in model.personas_)
    assert 'id="overview"' in dom and "<svg" in dom
    assert "<script>alert" not in dom


def test_run_personas_writes_outputs(tmp_path):
    log = jm.datasets.make_journeys(300, random_state=2)
    paths = run_personas(log, tmp_path / "out", n_personas=3, n_bootstrap=0)
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["n_personas"] == 3 and len(data["personas"]) == 3
    table = pd.read_csv(paths["assignments"])
    assert list(table.columns) == ["customer_id", "persona", "persona_name"]
    assert len(table) == 300 and set(table["persona"]) == {0, 1, 2}
    assert paths["html"].stat().st_size > 5000


def test_compare_personas_and_periods(fitted):
    log, _, _, model = fitted
    a, b = model.personas_[:2]
    c = compare(a, b)
    assert isinstance(c, Comparison) and c.names == (a.name, b.name)
    assert list(c.funnel["item"]) == list(a.funnel)
    # Differences are b - a and the highlights start with the largest one.
    assert np.allclose(c.funnel["difference"], c.funnel["b"] - c.funnel["a"])
    frame = c.to_frame()
    biggest = frame.loc[frame["difference"].abs().idxmax()]
    assert f" {biggest['item']}: " in c.highlights[0]
    assert set(c.to_frame()["section"]) <= {"funnel", "paths", "emotions"}
    json.dumps(c.to_dict())
    assert "<table>" in c._repr_html_() and repr(c).startswith("Comparison(")
    events = log.to_pandas().drop(columns="event_index")
    early = events[events["timestamp"] < "2025-02-15"]
    late = events[events["timestamp"] >= "2025-02-15"]
    p = compare(early, late, names=("early", "late"))
    assert p.names == ("early", "late") and p.sizes[0] > 0 and p.sizes[1] > 0
    with pytest.raises(SchemaError, match="compare"):
        compare(a, 3)


def test_other_methods_and_bad_params():
    log = jm.datasets.make_journeys(400, random_state=4)
    for method in ("kmeans", "gmm"):
        m = PersonaModel(method=method, k_range=(2, 4), random_state=0, n_bootstrap=2).fit(log)
        assert 2 <= m.n_personas_ <= 4
        assert m.k_scores_["chosen"].sum() == 1
        assert set(m.labels_.unique()) == set(range(m.n_personas_))
    with pytest.raises(InvalidParameterError, match="method"):
        PersonaModel(method="dbscan").fit(log)
    with pytest.raises(InvalidParameterError, match="n_personas"):
        PersonaModel(n_personas=0).fit(log)
    with pytest.raises(InvalidParameterError, match="k_range"):
        PersonaModel(k_range=(5, 2)).fit(log)
    with pytest.raises(InvalidParameterError, match="components"):
        PersonaModel(components=("transitions", "colour")).fit(log)
    with pytest.raises(InvalidParameterError, match="fewer than"):
        PersonaModel(n_personas=3).fit(jm.datasets.make_journeys(2, random_state=0))


def test_sample_size_bounds_the_fit():
    log, truth = jm.datasets.make_journeys(3000, random_state=1, return_truth=True)
    model = PersonaModel(n_personas=4, random_state=0, sample_size=1000,
                         n_bootstrap=0).fit(log)
    assert len(model.labels_) == 3000  # fitted on 1,000, every customer assigned
    ari = adjusted_rand_score(truth.personas.reindex(model.labels_.index), model.labels_)
    assert ari >= 0.7
