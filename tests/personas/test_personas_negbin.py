"""The returns of the rate view as a negative binomial of the days observed."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize

import journeymine as jm
from journeymine.personas._markov import (
    OTHER,
    WITHIN_BINS,
    MarkovMixture,
    _fit_negbin,
    _negbin_loglik,
    sequence_data,
)
from tests.personas.test_personas_exposure import T0, _two_customers


def test_negbin_loglik_by_hand():
    # m = 2 returns in E = 10 days, rate 0.1 a day (mean 1), shape 2:
    # Γ(4) / (Γ(2) 2!) (2/3)^2 (1/3)^2 = 3 * 4/9 * 1/9 = 12/81.
    returns = np.array([[2.0, 10.0], [0.0, 0.0], [0.0, 5.0]])
    ll = _negbin_loglik(returns, np.array([0.1, 0.2]), np.array([2.0, 1e4]))
    assert ll.shape == (3, 2)
    np.testing.assert_allclose(ll[0, 0], math.log(12 / 81))
    # Not observed at all: no return is certain.
    np.testing.assert_allclose(ll[1], [0.0, 0.0])
    # A huge shape is Poisson: no return in 5 days at 0.2 a day has probability e^-1.
    np.testing.assert_allclose(ll[2, 1], -1.0, atol=1e-3)


def test_fit_negbin_reaches_the_weighted_maximum():
    rng = np.random.default_rng(0)
    days = rng.uniform(0, 200, 3000)
    rates = rng.gamma(3.0, 0.05 / 3.0, 3000)  # mean 0.05 a day, shape 3
    returns = np.column_stack([rng.poisson(rates * days), days]).astype(float)
    weights = rng.uniform(0.2, 1.0, 3000)
    start, distinct = None, np.unique(returns[:, 0], return_inverse=True)
    for _ in range(30):  # as EM calls it, warm started
        start = _fit_negbin(returns, weights, start, distinct)
    rate, shape = start
    assert abs(rate - 0.05) < 0.005 and 2.0 < shape < 4.5

    def loss(theta):
        return -float(weights @ _negbin_loglik(returns, np.exp(theta[:1]), np.exp(theta[1:]))[:, 0])

    best = minimize(loss, [np.log(0.03), 0.0], method="Nelder-Mead",
                    options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 4000})
    assert loss(np.log([rate, shape])) <= best.fun + 1e-6


def test_rate_view_counts_returns_and_drops_waits_between_visits():
    log = _two_customers()
    data = sequence_data(log, [*log.activities, OTHER], ["length", "duration", "pace"])
    rate = data.exposure_view(True)
    # a: one return over 20 days observed; b: none over 0 days.
    np.testing.assert_allclose(rate.returns, [[1.0, 20.0], [0.0, 0.0]])
    # a's minute within the visit stays in the histogram, its 10 days between visits go.
    assert data.waits[0].sum() == 2 and data.waits[0, WITHIN_BINS:].sum() == 1
    assert rate.waits[0].sum() == 1 and rate.waits[0, WITHIN_BINS:].sum() == 0
    assert data.exposure_view(False).returns is None
    np.testing.assert_array_equal(rate.take(np.array([1, 1])).returns, [[0.0, 0.0]] * 2)


def test_returns_separate_personas_that_differ_only_in_how_often_they_return():
    # Identical journeys; 40 customers return about every 2 days, 40 every 20 days.
    rng = np.random.default_rng(1)
    days = rng.uniform(20, 100, 80)
    rate = np.r_[np.full(40, 0.5), np.full(40, 0.05)]
    returns = np.column_stack([rng.poisson(rate * days), days]).astype(float)
    log = jm.EventLog.from_pandas(pd.DataFrame({
        "customer_id": [f"c{i:02d}" for i in range(80)], "touchpoint": "home",
        "ts": [T0] * 80}))
    data = dataclasses.replace(sequence_data(log, [*log.activities, OTHER], []),
                               returns=returns)
    # From a start 80:20 towards each customer's persona; EM does the rest. (With the
    # returns as the only signal, weaker and random starts stall where both
    # components are one broad negative binomial of shape about 1: a saddle that
    # the other components of a real log break.)
    start = np.where(np.arange(80)[:, None] < 40, [0.8, 0.2], [0.2, 0.8])
    model = MarkovMixture(2, seed=0).fit(data, resp=start)
    labels = model.predict(data)
    assert (labels[:40] == labels[0]).mean() > 0.9 and (labels[40:] != labels[0]).mean() > 0.9
    np.testing.assert_allclose(sorted(model.negbin_[:, 0]), [0.05, 0.5], rtol=0.3)
    assert model.n_parameters(data) == 1 + 2 * 2  # one weight, a rate and a shape each
