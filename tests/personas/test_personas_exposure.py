"""Visits as a rate over each customer's observed span (first event to the log's end)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

import journeymine as jm
from journeymine.exceptions import InvalidParameterError
from journeymine.personas import PersonaModel, _common
from journeymine.personas._common import customer_bounds, take_customers
from journeymine.personas._markov import (
    OTHER,
    RATE_PRIOR_DAYS,
    RATE_PRIOR_VISITS,
    sequence_data,
)

T0 = pd.Timestamp("2024-01-01")


def _two_customers() -> jm.EventLog:
    """``a``: a visit of two events on day 0, one event on day 10; ``b``: one event on day 20."""
    return jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": ["a", "a", "a", "b"],
        "touchpoint": ["home", "product", "home", "home"],
        "ts": [T0, T0 + pd.Timedelta(minutes=1), T0 + pd.Timedelta(days=10),
               T0 + pd.Timedelta(days=20)],
    }))


def _rate(visits: int, days: float) -> float:
    return math.log((visits - 1 + RATE_PRIOR_VISITS) / (days + RATE_PRIOR_DAYS))


def _value(data, name: str) -> list[float]:
    stats = data.gauss[name]
    return [s[1] if s[0] else np.nan for s in stats]


def test_visit_rate_and_relative_gap_by_hand():
    log = _two_customers()
    data = sequence_data(log, [*log.activities, OTHER], ["length", "duration"])
    # Observed from the first event to the log's end (day 20): a 20 days, b 0 days.
    np.testing.assert_allclose(_value(data, "visit_rate"), [_rate(2, 20), _rate(1, 0)])
    np.testing.assert_allclose(_value(data, "per_visit"), [math.log(3 / 2), 0.0])
    # a's one gap between visits (10 days less a minute) relative to its mean time
    # between visits (1 / visit rate); b has no gap.
    gap = math.log(10 * 86400 - 60) + _rate(2, 20) - math.log(86400)
    np.testing.assert_allclose(_value(data, "return_gap")[0], gap)
    assert data.gauss["return_gap"][1, 0] == 0
    # A later end of the window: the same visits over a longer exposure.
    later = sequence_data(log, [*log.activities, OTHER], ["length"], as_of=T0 + pd.Timedelta(
        days=30))
    np.testing.assert_allclose(_value(later, "visit_rate"), [_rate(2, 30), _rate(1, 10)])


def test_a_part_of_the_log_observed_to_the_logs_end_gives_the_same_rows():
    log = jm.datasets.make_journeys(300, random_state=1)
    states = [*log.activities, OTHER]
    whole = sequence_data(log, states, ["length", "duration"])
    _, bounds = customer_bounds(log)
    rows = np.arange(0, 300, 7)
    part = take_customers(log, bounds, rows, "part")
    end = log.time_range()[1]
    same = sequence_data(part, states, ["length", "duration"], as_of=end)
    for name in ("visit_rate", "per_visit", "gap"):
        np.testing.assert_allclose(same.gauss[name], whole.gauss[name][rows])
    assert part.time_range()[1] < end  # so the default end of the part would differ
    early = sequence_data(part, states, ["length"])
    assert (early.gauss["visit_rate"][:, 1] >= same.gauss["visit_rate"][:, 1]).all()
    assert (early.gauss["visit_rate"][:, 1] > same.gauss["visit_rate"][:, 1]).any()


def test_chunked_predict_and_a_part_of_the_log_use_the_logs_end(monkeypatch):
    log = jm.datasets.make_journeys(300, random_state=2)
    model = PersonaModel(3, random_state=0, n_bootstrap=0).fit(log)
    monkeypatch.setattr(_common, "CHUNK_CUSTOMERS", 41)
    pd.testing.assert_series_equal(model.predict(log), model.labels_)
    _, bounds = customer_bounds(log)
    rows = np.arange(1, 300, 5)
    part = take_customers(log, bounds, rows, "part")
    end = log.time_range()[1]
    expected = model.labels_.iloc[rows]
    pd.testing.assert_series_equal(model.predict(part, as_of=end), expected)
    # The same instant given with a time zone, or as text, is the same window.
    aware = end.replace(tzinfo=UTC)
    pd.testing.assert_series_equal(model.predict(part, as_of=aware), expected)
    pd.testing.assert_series_equal(model.predict(part, as_of=end.isoformat()), expected)
    with pytest.raises(InvalidParameterError, match="as_of"):
        model.predict(part, as_of="not a date")
    with pytest.raises(InvalidParameterError, match="as_of"):
        model.predict(part, as_of=[datetime(2024, 1, 1)])


def _arrivals(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Two personas that differ in what they do and how often they return (every 4 or
    12 days on average, each customer's own rate varying); customers arrive at random
    in a 150-day export window that cuts their history, so the number of visits logged
    mostly measures when they arrived."""
    rng = np.random.default_rng(seed)
    end = 150 * 86400.0
    rows, truth = [], {}
    for i in range(n):
        j, cid = i % 2, f"c{i:03d}"
        truth[cid] = j
        mean_gap = (4.0 if j == 0 else 12.0) * 86400 * rng.lognormal(0, 0.3)
        t = rng.uniform(0, end)
        pages = ["search", "product", "cart"] if j == 0 else ["help", "order", "chat"]
        while t < end:
            for _ in range(int(rng.integers(1, 5))):
                rows.append((cid, pages[rng.choice(3, p=[0.5, 0.3, 0.2])], t))
                t += float(rng.lognormal(np.log(40), 0.5))
            t += float(rng.exponential(mean_gap))
    events = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "seconds"])
    events = events[events["seconds"] < end]
    events["ts"] = T0 + pd.to_timedelta(events.pop("seconds"), unit="s")
    return events, pd.Series(truth)


def test_the_visit_rate_measures_behaviour_not_exposure():
    events, truth = _arrivals()
    log = jm.EventLog.from_pandas(events)
    data = sequence_data(log, [*log.activities, OTHER], ["length"])
    first = events.groupby("customer_id")["ts"].min().reindex(data.customers)
    exposure = np.log((events["ts"].max() - first).dt.total_seconds() / 86400 + 1)
    visits = np.log(np.asarray(data.start.sum(axis=1)).ravel())
    rate = data.gauss["visit_rate"][:, 1]
    y = truth.reindex(data.customers).to_numpy()
    # Within a persona visits grow with exposure (correlation 0.89 and 0.81), the rate
    # hardly does (0.30 and -0.12: what is left is the prior on short spans).
    for j in (0, 1):
        assert np.corrcoef(exposure[y == j], visits[y == j])[0, 1] > 0.7
        assert abs(np.corrcoef(exposure[y == j], rate[y == j])[0, 1]) < 0.4
    # The rate separates the personas (returns every 4 vs 12 days) better: the gap
    # between their means is 1.44 standard deviations against 0.93 for log visits.
    def separation(x):
        return abs(x[y == 0].mean() - x[y == 1].mean()) / x.std()
    assert separation(rate) > 1.3 * separation(visits)


def test_the_rate_view_is_chosen_where_visits_grow_with_exposure():
    from journeymine.personas._markov import visits_track_exposure

    events, _ = _arrivals()
    arrivals = jm.EventLog.from_pandas(events)
    bundled = jm.datasets.make_journeys(300, random_state=0)
    for log, expected in ((arrivals, True), (bundled, False)):
        data = sequence_data(log, [*log.activities, OTHER], ["length", "duration"])
        assert visits_track_exposure(data) is expected
    rate = data.exposure_view(True)
    # The rate enters as the returns' negative binomial, not as the Gaussian visit_rate.
    assert "return_gap" in rate.gauss and rate.returns is not None
    assert not {"visits", "visit_rate", "gap"} & set(rate.gauss)
    count = data.exposure_view(False)
    assert {"visits", "gap"} <= set(count.gauss) and "visit_rate" not in count.gauss
    assert count.returns is None
    assert rate.exposure_view(False) is rate  # a view is not viewed again
