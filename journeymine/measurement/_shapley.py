"""Shapley-value attribution on channel sets (coalitions).

The standard formulation (Zhao et al., 2018, "Shapley value methods for
attribution modeling in online advertising"): journeys are grouped by the
*set* of channels they touched, order ignored. A coalition ``T`` observed in
the data has a conversion rate ``CR(T)`` (its conversions, or revenue, over
all its journeys: non-converting journeys count), and the worth of a
coalition ``S`` is what all its sub-coalitions bring::

    v(S) = sum of CR(T) over the observed coalitions T contained in S

Up to ``max_exact`` channels, every coalition is enumerated and the Shapley
value is exact; beyond, it is estimated from random channel orderings
(permutation sampling) with a standard error per channel.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["exact_shapley", "sampled_shapley"]


def exact_shapley(masks: np.ndarray, rates: np.ndarray, n_players: int) -> np.ndarray:
    """Exact Shapley values of the coalition game ``v(S) = sum of rates[T] for T ⊆ S``.

    Parameters
    ----------
    masks : numpy.ndarray of int64
        Bit mask of each observed coalition (bit ``i`` = player ``i``), distinct.
    rates : numpy.ndarray of float
        ``CR(T)`` of each coalition.
    n_players : int
        Number of players (at most about 20: the game has ``2**n_players`` coalitions).

    Returns
    -------
    numpy.ndarray of float, shape (n_players,)
        Shapley values; they sum to ``v(all players) = rates.sum()``.

    Examples
    --------
    Coalitions {A} with rate 0.2, {B} 0.1 and {A, B} 0.6: v(A) = 0.2,
    v(B) = 0.1, v(AB) = 0.9; A gets (0.2 + (0.9 - 0.1)) / 2 = 0.5.

    >>> exact_shapley(np.array([0b01, 0b10, 0b11]), np.array([0.2, 0.1, 0.6]), 2).round(3)
    array([0.5, 0.4])
    """
    size = 1 << n_players
    v = np.zeros(size)
    np.add.at(v, masks, rates)
    for i in range(n_players):  # subset sums (zeta transform), one bit at a time
        view = v.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    all_masks = np.arange(size)
    popcount = np.zeros(size, dtype=np.int64)
    for i in range(n_players):
        popcount += (all_masks >> i) & 1
    n = n_players
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
                       for s in range(n)])
    values = np.zeros(n_players)
    for i in range(n_players):
        without = all_masks[(all_masks >> i) & 1 == 0]
        values[i] = np.sum(weight[popcount[without]] * (v[without | (1 << i)] - v[without]))
    return values


def sampled_shapley(members: np.ndarray, offsets: np.ndarray, rates: np.ndarray,
                    n_players: int, n_samples: int,
                    random_state=0) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values of the same game estimated from ``n_samples`` random orderings.

    In one ordering of the players, a player's marginal contribution is the
    sum of ``CR(T)`` over the coalitions ``T`` it completes (it is the last
    of ``T``'s members to join), so each sampled ordering costs one pass over
    the coalitions' members.

    Parameters
    ----------
    members : numpy.ndarray of int
        The players of every coalition, coalition after coalition.
    offsets : numpy.ndarray of int
        Start of each coalition in ``members`` (its length is the number of
        coalitions); every coalition has at least one member.
    rates : numpy.ndarray of float
        ``CR(T)`` of each coalition.
    n_players : int
    n_samples : int
        Number of random orderings.
    random_state : int, numpy Generator or None, default 0

    Returns
    -------
    values : numpy.ndarray, shape (n_players,)
        Mean marginal contribution per player (unbiased; they sum to
        ``rates.sum()`` exactly, as in every single ordering).
    standard_errors : numpy.ndarray, shape (n_players,)
        Standard error of each mean over the orderings.

    Examples
    --------
    >>> values, se = sampled_shapley(np.array([0, 1, 0, 1]), np.array([0, 1, 2]),
    ...                              np.array([0.2, 0.1, 0.6]), 2, 2000)
    >>> bool(abs(values[0] - 0.5) < 3 * se[0])
    True
    """
    rng = np.random.default_rng(random_state)
    total = np.zeros(n_players)
    squares = np.zeros(n_players)
    for _ in range(n_samples):
        rank = rng.permutation(n_players)  # rank[p]: when player p joins
        joined_last = np.maximum.reduceat(rank[members], offsets)
        order = np.argsort(rank)  # the player joining at each rank
        marginal = np.bincount(order[joined_last], weights=rates, minlength=n_players)
        total += marginal
        squares += marginal**2
    mean = total / n_samples
    variance = np.maximum(squares / n_samples - mean**2, 0.0) * n_samples / max(n_samples - 1, 1)
    return mean, np.sqrt(variance / n_samples)
