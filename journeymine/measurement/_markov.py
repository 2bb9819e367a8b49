"""Markov-chain attribution: removal effects of an order-k chain over journeys.

Journeys arrive as flat NumPy arrays (one row per touch, grouped by journey;
consecutive repeats of a channel already collapsed). A state of the order-k
chain is the last ``k`` channels seen (fewer at the start of a journey); the
chain starts in ``START`` and is absorbed in ``CONVERSION`` or ``NULL``.
Everything is counted with vectorised NumPy and the absorption probabilities
are sparse linear solves (SciPy), so a chain over a million touches takes a
fraction of a second.
"""

from __future__ import annotations

import numpy as np

__all__ = ["choose_order", "removal_effects", "state_keys"]


def state_keys(codes: np.ndarray, first: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """The order-``order`` state after each touch, as compact integer ids.

    Parameters
    ----------
    codes : numpy.ndarray of int
        Channel code (0..C-1) of every touch, journeys one after another (not empty).
    first : numpy.ndarray of bool
        Whether the touch is the first of its journey.
    order : int
        Chain order k >= 1.

    Returns
    -------
    ids : numpy.ndarray of int64
        State id of every touch, 1..S (0 is reserved for ``START``).
    digits : numpy.ndarray of int64, shape (S + 1, order)
        Per state id, its channels most recent first (``-1`` where the state
        is shorter than ``order``, and all ``-1`` for ``START``).

    Examples
    --------
    >>> ids, digits = state_keys(np.array([0, 1, 0]), np.array([True, False, True]), 2)
    >>> ids.tolist(), digits.tolist()
    ([1, 2, 1], [[-1, -1], [0, -1], [1, 0]])
    """
    n = len(codes)
    starts = np.flatnonzero(first)
    position = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    lagged = np.full((n, order), -1, dtype=np.int64)
    for lag in range(order):
        lagged[lag:, lag] = np.where(position[lag:] >= lag, codes[: n - lag], -1)
    key = np.zeros(n, dtype=np.int64)
    width = int(codes.max()) + 2
    for lag in range(order):  # re-compacted after each digit, so it never overflows
        _, key = np.unique(key * width + lagged[:, lag] + 1, return_inverse=True)
    rep = np.zeros(int(key.max()) + 1, dtype=np.int64)
    rep[key] = np.arange(n)
    digits = np.vstack([np.full((1, order), -1, dtype=np.int64), lagged[rep]])
    return key.astype(np.int64) + 1, digits


def _transitions(ids: np.ndarray, first: np.ndarray, converted: np.ndarray,
                 value: np.ndarray, n_states: int):
    """Transient transition matrix Q (with START = 0) and expected reward r per state.

    ``converted`` and ``value`` are per journey. ``r[s]`` is the value that
    leaves ``s`` into ``CONVERSION`` divided by all transitions out of ``s``,
    so solving ``(I - Q) x = r`` gives the expected value from each state.
    """
    from scipy import sparse

    n = len(ids)
    last = np.append(first[1:], True)
    prev = np.empty(n, dtype=np.int64)
    prev[0:1] = 0
    prev[1:] = ids[:-1]
    prev[first] = 0  # every journey starts from START
    journey = np.cumsum(first) - 1
    out = np.bincount(prev, minlength=n_states).astype(float)
    out += np.bincount(ids[last], minlength=n_states)  # into CONVERSION or NULL
    reward = np.bincount(ids[last], weights=np.where(converted, value, 0.0)[journey[last]],
                         minlength=n_states)
    q = sparse.coo_matrix((np.ones(n), (prev, ids)), shape=(n_states, n_states)).tocsr()
    safe = np.where(out > 0, out, 1.0)
    q = sparse.diags(1.0 / safe) @ q
    return q.tocsc(), reward / safe


def _expected_value(q, r: np.ndarray, keep: np.ndarray) -> float:
    """Expected value from START when only the ``keep`` states remain (the others absorb)."""
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    idx = np.flatnonzero(keep)
    sub = q[idx][:, idx]
    system = (sparse.identity(len(idx), format="csc") - sub).tocsc()
    x = np.atleast_1d(spsolve(system, r[idx]))
    return float(x[0])  # START is state 0 and always kept


def removal_effects(codes: np.ndarray, first: np.ndarray, converted: np.ndarray,
                    value: np.ndarray, n_channels: int, order: int = 1) -> np.ndarray:
    """The removal effect of each channel in an order-``order`` Markov chain.

    The removal effect of channel ``c`` is ``1 - V(without c) / V``, where
    ``V`` is the expected value (conversion probability, or revenue) of a
    journey from ``START`` and ``V(without c)`` the same with every state
    that contains ``c`` turned into ``NULL``.

    Parameters
    ----------
    codes : numpy.ndarray of int
        Channel code of every touch (journeys one after another, no
        consecutive repeats within a journey).
    first : numpy.ndarray of bool
        Whether a touch is the first of its journey.
    converted : numpy.ndarray of bool
        Per journey, whether it converted.
    value : numpy.ndarray of float
        Per journey, the value of its conversion (1 for conversions).
    n_channels : int
        Number of channel codes; channels without touches get 0.
    order : int, default 1

    Returns
    -------
    numpy.ndarray of float, shape (n_channels,)

    Examples
    --------
    Journeys ``a > b`` (converts), ``a`` (does not), ``b`` (converts):
    V = 2/3; without ``a`` only ``b`` converts (V = 1/3), without ``b`` nothing does.

    >>> re = removal_effects(np.array([0, 1, 0, 1]), np.array([True, False, True, True]),
    ...                      np.array([True, False, True]), np.ones(3), 2)
    >>> np.round(re, 3).tolist()
    [0.5, 1.0]
    """
    effects = np.zeros(n_channels)
    if not len(codes):
        return effects
    ids, digits = state_keys(codes, first, order)
    n_states = len(digits)
    q, r = _transitions(ids, first, converted, value, n_states)
    full = _expected_value(q, r, np.ones(n_states, dtype=bool))
    if full <= 0:
        return effects
    for channel in np.unique(codes):
        keep = ~(digits == channel).any(axis=1)
        effects[channel] = max(0.0, 1.0 - _expected_value(q, r, keep) / full)
    return effects


def choose_order(codes: np.ndarray, first: np.ndarray, converted: np.ndarray,
                 max_order: int, n_folds: int = 5, random_state=0,
                 alpha: float = 0.5) -> tuple[int, list[dict]]:
    """The chain order with the best out-of-sample log-likelihood on held-out journeys.

    Journeys are split into ``n_folds`` folds at random (seeded); each fold's
    next-step symbols (a channel, ``CONVERSION`` or ``NULL``) are scored under
    the chain fitted on the other folds, with additive smoothing ``alpha``
    (an unseen state predicts every symbol equally).

    Parameters
    ----------
    codes, first, converted
        As for :func:`removal_effects`.
    max_order : int
        Orders 1 to ``max_order`` are compared.
    n_folds : int, default 5
    random_state : int, numpy Generator or None, default 0
    alpha : float, default 0.5

    Returns
    -------
    order : int
        The order with the highest mean held-out log-likelihood per step
        (the lowest order on a tie; 1 without touches).
    scores : list of dict
        Per order: ``order``, ``log_likelihood`` (mean per step, natural
        log) and ``states``.

    Examples
    --------
    Channels drawn independently (a first-order chain) and journeys that end
    with the same chance at every step: order 1 wins.

    >>> rng = np.random.default_rng(0)
    >>> first = rng.random(2000) < 0.3
    >>> first[0] = True
    >>> codes = rng.integers(0, 3, 2000)
    >>> order, scores = choose_order(codes, first, rng.random(first.sum()) < 0.5, 3)
    >>> order, [s["states"] for s in scores]
    (1, [4, 13, 40])
    """
    n = len(codes)
    if not n:
        return 1, []
    n_channels = int(codes.max()) + 1
    n_symbols = n_channels + 2
    journey = np.cumsum(first) - 1
    last = np.append(first[1:], True)
    # the symbol after each state: the next touch's channel, or the journey's end
    prev_rows = np.flatnonzero(~first)
    end_rows = np.flatnonzero(last)
    end_symbol = np.where(converted[journey[end_rows]], n_channels, n_channels + 1)
    symbols = np.concatenate([codes, end_symbol])  # touches scored from their previous state
    rng = np.random.default_rng(random_state)
    folds = rng.integers(0, n_folds, int(journey[-1]) + 1)
    fold = np.concatenate([folds[journey], folds[journey[end_rows]]])
    scores = []
    for k in range(1, max_order + 1):
        ids, digits = state_keys(codes, first, k)
        context = np.zeros(n, dtype=np.int64)  # START before a first touch
        context[prev_rows] = ids[prev_rows - 1]
        context = np.concatenate([context, ids[end_rows]])
        pair = context * n_symbols + symbols
        total = 0.0
        for f in range(n_folds):
            train, test = fold != f, fold == f
            if not test.any():
                continue
            keys, counts = np.unique(pair[train], return_counts=True)
            ctx_keys, ctx_counts = np.unique(context[train], return_counts=True)
            total += float(np.sum(np.log(_lookup(keys, counts, pair[test]) + alpha)
                                  - np.log(_lookup(ctx_keys, ctx_counts, context[test])
                                           + alpha * n_symbols)))
        scores.append({"order": k, "log_likelihood": total / max(len(symbols), 1),
                       "states": len(digits)})
    best = max(scores, key=lambda s: (s["log_likelihood"], -s["order"]))
    return best["order"], scores


def _lookup(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``counts`` of ``query`` in the sorted ``keys`` (0 where absent)."""
    at = np.searchsorted(keys, query)
    at = np.minimum(at, len(keys) - 1)
    found = (keys[at] == query) if len(keys) else np.zeros(len(query), dtype=bool)
    return np.where(found, counts[at] if len(keys) else 0, 0).astype(float)
