"""Run boundaries of a customer-sorted column (journeymine.eventlog._runs), counted by hand."""

import numpy as np
import pyarrow as pa
import pytest

from journeymine.eventlog._runs import run_start_mask, run_starts, same_as_next

# Three customers over two chunks, the middle one split across the chunk boundary:
# rows 0-1 are A, rows 2-4 are B, row 5 is C.
CUSTOMERS = pa.chunked_array([["A", "A", "B"], ["B", "B", "C"]])


def test_runs_of_a_hand_counted_column():
    assert same_as_next(CUSTOMERS).tolist() == [True, False, True, True, False, False]
    assert run_start_mask(CUSTOMERS).tolist() == [True, False, True, False, False, True]
    starts = run_starts(CUSTOMERS)
    assert starts.tolist() == [0, 2, 5]
    assert starts.dtype == np.int64


@pytest.mark.parametrize(("values", "expected"), [
    ([], []),
    (["A"], [0]),
    (["A", "B", "C"], [0, 1, 2]),
    (["A", "A", "A"], [0]),
    ([None, None, "A", "A"], [0, 1, 2]),  # a null is unlike every value, another null too
    ([1, 1, 2, 1], [0, 2, 3]),  # a value that comes back starts a new run
])
def test_run_starts_edge_cases(values, expected):
    column = pa.chunked_array([values])
    assert run_starts(column).tolist() == expected
    mask = run_start_mask(column)
    assert mask.dtype == bool
    assert np.flatnonzero(mask).tolist() == expected


def test_an_empty_chunked_array_has_no_runs():
    column = pa.chunked_array([], type=pa.string())
    assert run_starts(column).tolist() == []
    assert same_as_next(column).tolist() == []
