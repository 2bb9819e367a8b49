"""Array helpers shared by the analyses: distinct keys, ranks and medians in sorted segments."""

from __future__ import annotations

import numpy as np

__all__ = ["distinct_sorted", "regroup", "segment_median_without", "segment_rank"]


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


def regroup(keys: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The permutation ``order`` stably sorted by ``keys``: by key, then as in ``order``.

    ``regroup(keys, np.argsort(values, kind="stable"))`` is
    ``np.lexsort((values, keys))``, and one ``argsort`` of the values serves
    several groupings: keys below 2**16 take NumPy's radix sort, several
    times faster than the comparison sorts ``lexsort`` runs for each key.

    Parameters
    ----------
    keys : numpy.ndarray
        Integer group of each element.
    order : numpy.ndarray
        A permutation of the elements (indices into ``keys``).

    Returns
    -------
    numpy.ndarray
        The elements of ``order`` grouped by ascending key, stable.

    Examples
    --------
    >>> values, keys = np.array([5.0, 1.0, 3.0, 2.0]), np.array([1, 0, 1, 1])
    >>> regroup(keys, np.argsort(values, kind="stable")).tolist()
    [1, 3, 2, 0]
    """
    grouped = keys[order]
    if len(grouped) and grouped.min() >= 0 and grouped.max() < 2**16:
        grouped = grouped.astype(np.uint16)
    return order[np.argsort(grouped, kind="stable")]


def segment_rank(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, x: np.ndarray) -> np.ndarray:
    """How many of ``values[lo[k]:hi[k]]`` are at most ``x[k]``, for every ``k`` at once.

    Each segment must be sorted ascending. A binary search run on all the
    segments together: about ``log2`` of the longest segment NumPy steps on
    arrays of ``len(x)``, whatever the segments' lengths.

    Parameters
    ----------
    values : numpy.ndarray
        One-dimensional values, ascending within each segment.
    lo, hi : numpy.ndarray
        Integer start and end (exclusive) of each segment.
    x : numpy.ndarray
        The value to rank in each segment.

    Returns
    -------
    numpy.ndarray
        int64 counts, one per segment.

    Examples
    --------
    >>> values = np.array([1.0, 2.0, 2.0, 5.0, 0.0, 9.0])
    >>> segment_rank(values, np.array([0, 4]), np.array([4, 6]), np.array([2.0, 9.0])).tolist()
    [3, 2]
    """
    start = np.asarray(lo, dtype=np.int64)
    a, b = start.copy(), np.asarray(hi, dtype=np.int64).copy()
    active = a < b
    while active.any():
        mid = (a + b) // 2
        below = active & (values[np.where(active, mid, 0)] <= x)
        a = np.where(below, mid + 1, a)
        b = np.where(active & ~below, mid, b)
        active = a < b
    return a - start


def _order_statistic(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, out: np.ndarray,
                     out_lo: np.ndarray, out_hi: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The ``m[k]``-th smallest (from 0) of segment ``k`` without segment ``k`` of ``out``."""
    a, b = np.asarray(lo, dtype=np.int64).copy(), np.asarray(hi, dtype=np.int64) - 1
    active = a < b
    while active.any():
        mid = (a + b) // 2
        v = values[np.where(active, mid, a)]
        kept = segment_rank(values, lo, hi, v) - segment_rank(out, out_lo, out_hi, v)
        enough = active & (kept > m)
        b = np.where(enough, mid, b)
        a = np.where(active & ~enough, mid + 1, a)
        active = a < b
    return values[a]


def segment_median_without(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, out: np.ndarray,
                           out_lo: np.ndarray, out_hi: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Median of each sorted segment of ``values`` without a sub-multiset of it.

    Segment ``k`` is ``values[lo[k]:hi[k]]``; the values removed from it are
    ``out[out_lo[k]:out_hi[k]]``, which must all occur in segment ``k`` (as
    many times at least). Both are sorted ascending. Nothing is copied or
    filtered: the median's order statistics are found by binary search over
    the segment, counting at each probe how many kept values lie at or below
    it, so the cost does not grow with the segments' lengths beyond a log.

    Parameters
    ----------
    values : numpy.ndarray
        One-dimensional values, ascending within each segment.
    lo, hi : numpy.ndarray
        Integer bounds (end exclusive) of each segment of ``values``.
    out : numpy.ndarray
        The values to leave out, ascending within each of their segments.
    out_lo, out_hi : numpy.ndarray
        Integer bounds of the values of ``out`` left out of each segment.

    Returns
    -------
    median : numpy.ndarray
        float64 median of what is left of each segment (NaN when nothing is).
    n : numpy.ndarray
        How many values are left in each segment.

    Examples
    --------
    >>> values = np.array([1.0, 2.0, 4.0, 8.0, 9.0])
    >>> median, n = segment_median_without(values, np.array([0]), np.array([5]),
    ...                                    np.array([8.0, 9.0]), np.array([0]), np.array([2]))
    >>> median.tolist(), n.tolist()
    ([2.0], [3])
    """
    n = (np.asarray(hi) - np.asarray(lo)) - (np.asarray(out_hi) - np.asarray(out_lo))
    median = np.full(len(n), np.nan)
    some = n > 0
    if some.any():
        parts = (values, lo[some], hi[some], out, out_lo[some], out_hi[some])
        upper = _order_statistic(*parts, n[some] // 2)
        lower = _order_statistic(*parts, (n[some] - 1) // 2)
        median[some] = (np.asarray(lower, dtype=float) + upper) / 2
    return median, n
