"""The cases of :func:`~journeymine.insights`: the sorted events as NumPy arrays.

The validated log is cut into cases at the chosen grain (sessions, episodes or
whole histories) by :func:`~journeymine.discovery._grains.at_grain` and turned
into arrays (touchpoint codes, case numbers, times, the events before the
first conversion, length-by-landing strata), with the counting helpers the
detectors share (distinct pairs, distinct customers, counts per stratum).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from journeymine._util._arrays import distinct_sorted
from journeymine.eventlog._eventlog import EventLog
from journeymine.eventlog._schema import ACTIVITY, CHANNEL, TIMESTAMP
from journeymine.eventlog._validate import dictionary_encode

_MAX_LANDINGS = 20


_LENGTH_BINS = np.array([1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 22, 29, 38, 50, 66, 87, 115, 152])


@dataclasses.dataclass(frozen=True)
class _Cases:
    """The sorted events as arrays, cut into cases at the chosen grain."""

    names: np.ndarray        # touchpoint names (object), indexed by code
    code: np.ndarray         # per event: touchpoint code
    case: np.ndarray         # per event: case number (cases are runs of rows)
    seconds: np.ndarray      # per event: seconds since epoch (float)
    pre: np.ndarray          # per event: before the case's first conversion
    starts: np.ndarray       # per case: first row
    converted: np.ndarray    # per case: holds a conversion
    pre_length: np.ndarray   # per case: steps before the outcome (repeats collapsed)
    customer: np.ndarray     # per case: customer number
    channel: np.ndarray | None          # per event: channel code (-1 = none)
    channel_names: np.ndarray | None
    is_conversion: np.ndarray           # per touchpoint code
    stage_rank: np.ndarray              # per touchpoint code (-1 = unmapped)
    stratum: np.ndarray                 # per case: landing touchpoint and length bin
    n_strata: int
    censored_end: np.ndarray            # per case: may not be over (cut by the data window)

    @property
    def n_cases(self) -> int:
        return len(self.starts)


def _length_stratum(length: np.ndarray) -> np.ndarray:
    """Length bin of each journey (journeys of length 0 and 1 share the first bin)."""
    return np.maximum(np.searchsorted(_LENGTH_BINS, length, side="right") - 1, 0)


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    encoded = dictionary_encode(column)
    indices = encoded.indices
    codes = (indices.fill_null(-1) if indices.null_count else indices).to_numpy()
    return codes.astype(np.int64), np.array(encoded.dictionary.to_pylist(), dtype=object)


def _build_cases(log: EventLog, grain: str, conversion: tuple[str, ...], rank: dict[str, int],
                 min_cases: int, **rules) -> _Cases:
    """The events as arrays, cut into cases by :func:`journeymine.discovery._grains.at_grain`."""
    from journeymine.discovery._grains import at_grain

    journeys = at_grain(log, grain, conversion=conversion, **rules)
    table = journeys.log.table  # the validated rows, in customer and time order
    n = table.num_rows
    code, names = _codes(table.column(ACTIVITY))
    seconds = table.column(TIMESTAMP).cast(pa.timestamp("us")).to_numpy().view(np.int64) / 1e6
    cases = journeys.case_table
    lengths = cases.column("events").to_numpy()
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    new = np.zeros(n, dtype=bool)
    new[starts] = True
    case = np.cumsum(new) - 1
    customer = _codes(cases.column("customer_id"))[0]
    converting = set(conversion)
    is_conversion = np.array([a in converting for a in names], dtype=bool)
    conv = is_conversion[code]
    # Events before the case's first conversion: no conversion so far, this one included.
    seen = np.cumsum(conv)
    before_case = np.concatenate(([0], seen))[starts][case]
    pre = (seen - before_case) == 0
    converted = np.add.reduceat(conv.astype(np.int64), starts) > 0 if n else conv
    # Length before the outcome with repeats collapsed (a reload is not a step).
    repeat = np.zeros(n, dtype=bool)
    repeat[1:] = (code[1:] == code[:-1]) & ~new[1:]
    steps = (pre & ~repeat).astype(np.int64)
    pre_length = np.add.reduceat(steps, starts) if n else steps
    channel = channel_names = None
    if CHANNEL in table.column_names:
        channel, channel_names = _codes(table.column(CHANNEL))
    stage_rank = np.array([rank.get(a, -1) for a in names], dtype=np.int64)
    # Strata: the landing touchpoint (the _MAX_LANDINGS most common that open at
    # least min_cases cases; the rest pooled) by the length bin. Cases that open
    # on the cart or in a store are returning buyers, whatever else they hold.
    landing = code[starts] if n else code
    opened = np.bincount(landing, minlength=len(names))
    frequent = np.argsort(-opened, kind="stable")[:_MAX_LANDINGS]
    frequent = np.sort(frequent[opened[frequent] >= min_cases])
    group = np.full(len(names), len(frequent), dtype=np.int64)
    group[frequent] = np.arange(len(frequent))
    bins = len(_LENGTH_BINS)
    stratum = group[landing] * bins + _length_stratum(pre_length)
    return _Cases(names, code, case, seconds, pre, starts, converted, pre_length, customer,
                  channel, channel_names, is_conversion, stage_rank, stratum,
                  (len(frequent) + 1) * bins, cases.column("censored_end").to_numpy())


def _first_rows(keys: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct key, in key order."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return order[keep]


def _unique_pairs(case: np.ndarray, item: np.ndarray, n_items: int) -> tuple[np.ndarray, ...]:
    """Distinct (case, item) pairs of the given rows, as two arrays."""
    key = distinct_sorted(case.astype(np.int64) * n_items + item)
    return key // n_items, key % n_items


def _distinct_customers(cs: _Cases, case: np.ndarray, item: np.ndarray,
                        n_items: int) -> np.ndarray:
    """Per item: distinct customers among the given (case, item) pairs."""
    if not len(case):
        return np.zeros(n_items, dtype=np.int64)
    _, items = _unique_pairs(cs.customer[case], item, n_items)
    return np.bincount(items, minlength=n_items)


def _per_stratum(item: np.ndarray, stratum: np.ndarray, weight: np.ndarray, n_items: int,
                 n_strata: int) -> np.ndarray:
    flat = np.bincount(item * n_strata + stratum, weights=weight, minlength=n_items * n_strata)
    return flat.reshape(n_items, n_strata)


def _pre_presence(cs: _Cases) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (case, touchpoint) pairs among the events before the outcome."""
    rows = np.flatnonzero(cs.pre)
    return _unique_pairs(cs.case[rows], cs.code[rows], len(cs.names))
