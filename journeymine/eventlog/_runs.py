"""Runs of equal consecutive values: where each customer's events start.

A validated event table is sorted by customer, then time, so each customer's
events are one run of consecutive rows (and a journey table at another grain
holds each session or episode as a run the same way). Run boundaries are
found by comparing every row with the next one in one vectorised Arrow
comparison: no grouping and no sort. A null is unlike every value, another
null included.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def same_as_next(values: pa.ChunkedArray) -> np.ndarray:
    """Per row, whether the next row holds an equal value (False for the last row)."""
    n = len(values)
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[:-1] = pc.equal(values.slice(1), values.slice(0, n - 1)).to_numpy(
            zero_copy_only=False
        )
    return same


def run_start_mask(values: pa.ChunkedArray) -> np.ndarray:
    """Per row, whether it starts a run: the first row, or one unlike the row before.

    Parameters
    ----------
    values : pyarrow.ChunkedArray
        A column whose equal values stand next to each other, e.g. the
        customer column of a validated event table.

    Returns
    -------
    numpy.ndarray
        One bool per row (empty for no rows).

    Examples
    --------
    >>> import pyarrow as pa
    >>> run_start_mask(pa.chunked_array([["a", "a", "b"], ["b", "c"]])).tolist()
    [True, False, True, False, True]
    """
    starts = np.ones(len(values), dtype=bool)
    starts[1:] = ~same_as_next(values)[:-1]
    return starts


def run_starts(values: pa.ChunkedArray) -> np.ndarray:
    """The first row of each run of equal consecutive values (a customer's first event).

    Parameters
    ----------
    values : pyarrow.ChunkedArray
        As for :func:`run_start_mask`.

    Returns
    -------
    numpy.ndarray
        The start rows (int64, ascending; empty for no rows): run ``i`` holds
        rows ``starts[i]`` up to the next start, the last run up to the end.

    Examples
    --------
    >>> import pyarrow as pa
    >>> run_starts(pa.chunked_array([["a", "a", "b"], ["b", "c"]])).tolist()
    [0, 2, 4]
    """
    return np.flatnonzero(run_start_mask(values)).astype(np.int64, copy=False)
