"""Paired standard errors of held-out gains, the weight tuning that uses them, and the
variance of the return gap as a mean of a customer's gaps."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

import journeymine as jm
from journeymine.personas import _markov
from journeymine.personas._markov import (
    COMPONENTS,
    MIN_WEIGHT_Z,
    OTHER,
    VAR_FLOOR,
    MarkovMixture,
    _gap_loglik,
    _gap_spread,
    paired_z,
    sequence_data,
    tune_weights,
    visits_track_exposure,
)
from tests.personas._sessions import make_sessions


def test_paired_z_by_hand():
    # Differences 2, 3, 2: mean 7/3; deviations -1/3, 2/3, -1/3, variance (6/9) / 2 = 1/3,
    # standard error sqrt(1/3) / sqrt(3) = 1/3; z = (7/3) / (1/3) = 7.
    assert np.isclose(paired_z(np.array([3.0, 5.0, 4.0]), np.array([1.0, 2.0, 2.0])), 7.0)
    # Equal scores, a constant shift (no spread) and a single customer: no evidence.
    same = np.array([1.0, 2.0])
    assert paired_z(same, same) == 0.0
    assert paired_z(same + 1.0, same) == 0.0
    assert paired_z(np.array([2.0]), np.array([1.0])) == 0.0
    # Antisymmetric: a loss is a negative z.
    a, b = np.array([0.5, 1.5, 1.0, 2.0]), np.array([0.0, 1.0, 1.2, 0.9])
    assert np.isclose(paired_z(a, b), -paired_z(b, a)) and paired_z(a, b) > 0


def test_gap_spread_by_hand():
    # Squared deviations 1 at one gap and 0.25 at four gaps: sigma / 1 + tau = 1 and
    # sigma / 4 + tau = 0.25, so sigma = 1 and tau = 0 (raised to the floor).
    stats = np.array([[1, 1.0, 1.0], [1, -1.0, 1.0], [1, 0.5, 0.25], [1, -0.5, 0.25],
                      [0, 0.0, 0.0]])  # the last customer never returned: not counted
    spread = _gap_spread(stats, np.array([1, 1, 4, 4, 0]), np.ones((5, 1)), np.zeros(1))
    np.testing.assert_allclose(spread, [[VAR_FLOOR, 1.0]])


def test_gap_spread_recovers_habit_and_gap_variance():
    rng = np.random.default_rng(0)
    n = 40_000
    gaps = rng.integers(1, 30, n).astype(float)
    persona = rng.integers(0, 2, n)
    tau, sigma, mu = np.array([0.1, 0.4]), np.array([2.0, 0.5]), np.array([-0.3, 0.6])
    x = mu[persona] + rng.normal(0, np.sqrt(tau[persona] + sigma[persona] / gaps))
    stats = np.column_stack([np.ones(n), x, x**2])
    resp = np.eye(2)[persona]
    spread = _gap_spread(stats, gaps, resp, mu)
    # Method of moments on squared deviations: within a few hundredths of the truth.
    np.testing.assert_allclose(spread[:, 0] - VAR_FLOOR, tau, atol=0.05)
    np.testing.assert_allclose(spread[:, 1], sigma, atol=0.1)


def test_gap_loglik_is_a_gaussian_of_variance_tau_plus_sigma_over_gaps():
    stats = np.array([[1, 0.2, 0.04], [1, -1.0, 1.0], [0, 0.0, 0.0]])
    gaps = np.array([1.0, 9.0, 0.0])
    mu, spread = np.array([0.0, 0.5]), np.array([[0.1, 0.9], [0.3, 0.0]])
    ll = _gap_loglik(stats, gaps, mu, spread)
    expected = norm.logpdf(stats[:2, 1:2], mu[None],
                           np.sqrt(spread[None, :, 0] + spread[None, :, 1] / gaps[:2, None]))
    np.testing.assert_allclose(ll[:2], expected)
    np.testing.assert_allclose(ll[2], [0.0, 0.0])  # no return gap: no evidence


def test_rate_view_mixture_fits_the_gap_spread():
    events, _ = make_sessions(300, k=3, random_state=0)
    log = jm.EventLog.from_pandas(events)
    channels = sorted(events["channel"].unique())
    data = sequence_data(log, [*log.activities, OTHER], COMPONENTS, channels)
    assert visits_track_exposure(data)
    rate = data.exposure_view(True)
    model = MarkovMixture(2, n_init=1, max_iter=30, seed=0).fit(rate)
    assert model.gap_spread_.shape == (2, 2)
    assert (model.gap_spread_[:, 0] >= VAR_FLOOR).all() and (model.gap_spread_[:, 1] > 0).all()
    # Outside the rate view the return gap is not modelled: the plain Gaussians only.
    plain = MarkovMixture(2, n_init=1, max_iter=30, seed=0).fit(data.exposure_view(False))
    assert plain.gap_spread_ is None
    assert model.n_parameters(rate) > 0


def test_tune_weights_moves_a_weight_only_on_a_significant_gain(monkeypatch):
    log = jm.datasets.make_journeys(300, random_state=0)
    comps = ["entry", "transitions", "pace", "length"]
    data = sequence_data(log, [*log.activities, OTHER], comps)
    train, test = data.take(np.arange(200)), data.take(np.arange(200, 300))
    seed = np.random.SeedSequence(0)
    weights, trials = tune_weights(train, test, 3, comps, seed, max_iter=30)
    assert {"component", "weight", "heldout_loglik", "gain_z"} <= set(trials.columns)
    for comp, w in weights.items():
        if w != 1.0:  # a moved weight has a trial that beat the weight before it by 2 SE
            row = trials[(trials["component"] == comp) & (trials["weight"] == w)]
            assert (row["gain_z"] >= MIN_WEIGHT_Z).all()
    # With an unreachable threshold nothing moves: the plain likelihood.
    monkeypatch.setattr(_markov, "MIN_WEIGHT_Z", 1e9)
    weights, _ = tune_weights(train, test, 3, comps, seed, max_iter=30)
    assert weights == dict.fromkeys(comps, 1.0)
