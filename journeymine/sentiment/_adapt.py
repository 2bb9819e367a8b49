"""Inference-time adjustments of the tagger's probabilities.

* :func:`em_priors` -- label-shift adaptation: EM re-estimation of the class
  priors of an unlabelled target corpus (Saerens, Latinne & Decaestecker,
  "Adjusting the outputs of a classifier to new a priori probabilities",
  Neural Computation 2002) and the posteriors re-weighted to them.
* :func:`fit_temperature`, :func:`apply_temperature` and
  :func:`expected_calibration_error` -- temperature scaling (Guo et al. 2017)
  fitted on held-out training rows, and its measurement.
* :func:`abstain_threshold` -- the top-probability threshold below which the
  tagger says ``neutral`` instead of a forced emotion.
* :func:`split_sentences` and :func:`aggregate_sentences` -- sentence-level
  scoring of long reviews.

Everything here is numpy only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "abstain_threshold",
    "aggregate_sentences",
    "apply_temperature",
    "em_priors",
    "expected_calibration_error",
    "fit_temperature",
    "split_sentences",
]

_EPS = 1e-12


def em_priors(
    proba: np.ndarray,
    source_priors: np.ndarray,
    *,
    max_iter: int = 200,
    tol: float = 1e-6,
    min_prior: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate the target corpus' class priors by EM and re-weight the posteriors.

    Iterates ``p_t(y|x) ∝ p_s(y|x) * pi_t(y) / pi_s(y)`` and
    ``pi_t(y) = mean_x p_t(y|x)`` from ``pi_t = pi_s`` until the priors move by
    less than ``tol``.

    Parameters
    ----------
    proba : numpy.ndarray
        ``(n, k)`` posteriors of the classifier on the unlabelled target texts.
    source_priors : numpy.ndarray
        ``(k,)`` class priors the classifier's posteriors are calibrated to
        (e.g. its mean posterior on held-out training rows). Classes with a
        zero source prior stay at zero.
    max_iter : int, default 200
    tol : float, default 1e-6
    min_prior : float, default 1e-4
        Floor of the estimated priors of classes with a non-zero source prior
        (keeps a class the corpus seems to lack recoverable).

    Returns
    -------
    priors : numpy.ndarray
        ``(k,)`` estimated target priors.
    adjusted : numpy.ndarray
        ``(n, k)`` re-weighted posteriors (rows sum to 1).

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    >>> priors, _ = em_priors(p, np.array([0.5, 0.5]))
    >>> bool(priors[0] > 0.8)
    True
    """
    p = np.asarray(proba, dtype=np.float64)
    src = np.asarray(source_priors, dtype=np.float64)
    src = src / src.sum()
    alive = src > 0
    ratio_base = np.where(alive, 1.0 / np.maximum(src, _EPS), 0.0)
    pri = src.copy()
    adj = p
    for _ in range(max_iter):
        w = p * (pri * ratio_base)
        adj = w / np.maximum(w.sum(1, keepdims=True), _EPS)
        new = np.where(alive, np.maximum(adj.mean(0), min_prior), 0.0)
        new /= new.sum()
        done = np.abs(new - pri).max() < tol
        pri = new
        if done:
            break
    w = p * (pri * ratio_base)
    adj = w / np.maximum(w.sum(1, keepdims=True), _EPS)
    return pri, adj.astype(np.float32)


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Soften (``T > 1``) or sharpen (``T < 1``) probabilities: ``softmax(log p / T)``.

    Examples
    --------
    >>> apply_temperature(np.array([[0.8, 0.2]]), 2.0).astype(float).round(3).tolist()
    [[0.667, 0.333]]
    """
    z = np.log(np.maximum(np.asarray(proba, dtype=np.float64), _EPS)) / temperature
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(1, keepdims=True)).astype(np.float32)


def fit_temperature(proba: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of labels ``y``.

    Parameters
    ----------
    proba : numpy.ndarray
        ``(n, k)`` probabilities on held-out rows.
    y : numpy.ndarray
        ``(n,)`` true class indices.

    Returns
    -------
    float
        The temperature, searched on a log grid in [0.25, 8] then refined.
    """
    y = np.asarray(y)
    rows = np.arange(len(y))

    def nll(t: float) -> float:
        return float(-np.log(np.maximum(apply_temperature(proba, t)[rows, y], _EPS)).mean())

    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 41))
    best = grid[int(np.argmin([nll(t) for t in grid]))]
    fine = best * np.exp(np.linspace(-0.1, 0.1, 21))
    return float(fine[int(np.argmin([nll(t) for t in fine]))])


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of the top-class probability (equal-width bins).

    Examples
    --------
    >>> expected_calibration_error(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1]))
    0.0
    """
    proba = np.asarray(proba)
    conf = proba.max(1)
    correct = proba.argmax(1) == np.asarray(y)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            ece += sel.mean() * abs(conf[sel].mean() - correct[sel].mean())
    return float(ece)


def abstain_threshold(
    proba: np.ndarray,
    y: np.ndarray,
    neutral: int,
    candidates: Sequence[float] = tuple(np.round(np.arange(0.2, 0.71, 0.025), 3)),
) -> tuple[float, dict[float, float]]:
    """Threshold on the top probability below which ``neutral`` is predicted.

    The threshold with the best macro-F1 (over the labels present in ``y``)
    is chosen; ties go to the lowest.

    Parameters
    ----------
    proba : numpy.ndarray
        ``(n, k)`` probabilities on held-out rows.
    y : numpy.ndarray
        ``(n,)`` true class indices.
    neutral : int
        Index of the ``neutral`` class.
    candidates : sequence of float

    Returns
    -------
    threshold : float
        0.0 if no candidate beats never abstaining.
    scores : dict
        Macro-F1 per candidate (and 0.0 for no abstention).
    """
    from sklearn.metrics import f1_score

    labels = np.unique(y)
    scores = {}
    for t in (0.0, *candidates):
        pred = np.where(proba.max(1) < t, neutral, proba.argmax(1))
        scores[float(t)] = float(f1_score(y, pred, labels=labels, average="macro"))
    best = max(scores.values())
    return min(t for t, s in scores.items() if s >= best - 1e-12), scores


_SENT_END = re.compile(r"(?<=[.!?…])\s+|\n+|(?<=[😊😍😭😡🙏❤️])\s+")


def split_sentences(text: str, min_chars: int = 12) -> list[str]:
    """Split a review into sentences (``.``, ``!``, ``?``, ``…``, newlines).

    Fragments shorter than ``min_chars`` are joined to the previous sentence.

    Examples
    --------
    >>> split_sentences("Barang bagus. Tapi pengiriman lama banget! ok.")
    ['Barang bagus.', 'Tapi pengiriman lama banget! ok.']
    """
    parts = [p.strip() for p in _SENT_END.split(text) if p and p.strip()]
    out: list[str] = []
    for part in parts:
        if out and len(part) < min_chars:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out or [text]


def aggregate_sentences(proba: np.ndarray, how: str = "mean") -> np.ndarray:
    """One probability row for a review from its sentences' rows.

    Parameters
    ----------
    proba : numpy.ndarray
        ``(n_sentences, k)``.
    how : {'mean', 'max'}
        ``'mean'``: mean of the probabilities; ``'max'``: the row of the most
        confident sentence.

    Returns
    -------
    numpy.ndarray
        ``(k,)``.

    Examples
    --------
    >>> aggregate_sentences(np.array([[0.6, 0.4], [0.1, 0.9]]), "max").tolist()
    [0.1, 0.9]
    """
    if how == "max":
        return proba[int(proba.max(1).argmax())]
    return proba.mean(0)
