"""Input helpers shared by the persona modules."""

from __future__ import annotations

from collections.abc import Collection, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from journeymine.eventlog._eventlog import EventLog
from journeymine.eventlog._runs import run_starts
from journeymine.eventlog._schema import CUSTOMER
from journeymine.exceptions import ColumnNotFoundError, InvalidParameterError, SchemaError

#: Columns of a tagged-texts frame that carry labels, in the order features use them.
TEXT_LABELS = ("sentiment", "emotion")
#: Customers per chunk when features, counts or assignments are computed chunk by chunk:
#: about a million events of a typical log, so memory stays bounded on millions.
CHUNK_CUSTOMERS = 100_000


def as_log(data, *, what: str = "the input") -> EventLog:
    """Return ``data`` as an :class:`EventLog` (a DataFrame of events is validated).

    Raises
    ------
    SchemaError
        ``data`` is neither an EventLog nor a DataFrame of events.
    """
    if isinstance(data, EventLog):
        return data
    if isinstance(data, pd.DataFrame):
        return EventLog.from_pandas(data)
    raise SchemaError(
        f"Expected an EventLog or a pandas DataFrame of events for {what}, "
        f"got {type(data).__name__}.",
        expected="jm.EventLog (or a DataFrame with customer, touchpoint and timestamp columns).",
        fix="Build one with jm.EventLog.from_pandas(df) or jm.read_csv(path).",
    )


def check_texts(texts: pd.DataFrame | None) -> pd.DataFrame | None:
    """Validate tagged texts: a DataFrame with ``customer_id`` and ``sentiment``/``emotion``.

    Returns a new frame with ``customer_id`` as str and the label columns as
    lower-case str (missing labels dropped); ``None`` stays ``None``.
    """
    if texts is None:
        return None
    if not isinstance(texts, pd.DataFrame):
        raise SchemaError(
            f"texts must be a pandas DataFrame, got {type(texts).__name__}.",
            expected="a DataFrame with customer_id and sentiment and/or emotion columns "
            "(what the emotion tagger returns).",
            fix="Pass texts=tagged_df, or leave texts out.",
        )
    cols = list(texts.columns)
    if CUSTOMER not in cols:
        raise ColumnNotFoundError(
            f"texts has no {CUSTOMER!r} column (columns: {cols}).",
            expected=f"a {CUSTOMER!r} column matching the event log's customers.",
            fix=f"Rename the customer column: texts.rename(columns={{'user': {CUSTOMER!r}}}).",
        )
    labels = [c for c in TEXT_LABELS if c in cols]
    if not labels:
        raise ColumnNotFoundError(
            f"texts has neither a 'sentiment' nor an 'emotion' column (columns: {cols}).",
            expected="the output of the emotion tagger: sentiment and/or emotion per text.",
            fix="Tag the texts first, or rename the label column to 'sentiment'/'emotion'.",
        )
    out = texts.copy()
    out[CUSTOMER] = out[CUSTOMER].astype(str)
    for col in labels:
        ok = out[col].notna()
        out.loc[ok, col] = out.loc[ok, col].astype(str).str.strip().str.lower()
    return out


def customer_bounds(log: EventLog) -> tuple[pd.Index, np.ndarray]:
    """The customers of ``log`` (sorted) and where each one's events start.

    A validated log keeps each customer's events as one run of rows, in
    customer order, so customer ``i`` owns rows ``bounds[i]`` to
    ``bounds[i + 1]`` (``bounds`` has one more entry than there are customers).

    Examples
    --------
    >>> import journeymine as jm
    >>> log = jm.datasets.make_journeys(3, random_state=0)
    >>> customers, bounds = customer_bounds(log)
    >>> list(customers), int(bounds[-1]) == log.n_events
    (['C000001', 'C000002', 'C000003'], True)
    """
    column = log.table.column(CUSTOMER)
    starts = run_starts(column)
    customers = pd.Index(column.take(pa.array(starts)).to_pandas(), name=CUSTOMER)
    return customers, np.append(starts, len(column))


def _rows_of(bounds: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Row numbers of the customers at ``positions`` (ascending), from :func:`customer_bounds`."""
    lengths = bounds[positions + 1] - bounds[positions]
    offsets = np.repeat(bounds[positions] - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(int(lengths.sum()))


def take_customers(log: EventLog, bounds: np.ndarray, positions: np.ndarray,
                   source: str) -> EventLog:
    """The events of the customers at ``positions`` (sorted, no repeats) as a new EventLog.

    ``bounds`` is from :func:`customer_bounds`; row ranges are gathered
    directly, without comparing customer ids.
    """
    rows = _rows_of(bounds, np.asarray(positions, dtype=np.int64))
    return EventLog(log.table.take(pa.array(rows)), log.schema, report={}, source=source,
                    stages=log.stages)


def log_chunks(log: EventLog, bounds: np.ndarray,
               size: int | None = None) -> Iterator[tuple[slice, EventLog]]:
    """``log`` in consecutive slices of at most ``size`` customers (zero-copy).

    ``bounds`` is from :func:`customer_bounds`; ``size`` defaults to
    :data:`CHUNK_CUSTOMERS`. Yields the positions of the chunk's customers
    (a slice of the sorted customers) and its events. An empty log gives
    one empty chunk.

    Examples
    --------
    >>> import journeymine as jm
    >>> log = jm.datasets.make_journeys(5, random_state=0)
    >>> [(rows.start, rows.stop) for rows, _ in log_chunks(log, customer_bounds(log)[1], 2)]
    [(0, 2), (2, 4), (4, 5)]
    """
    n = len(bounds) - 1
    size = size or CHUNK_CUSTOMERS
    for lo in range(0, max(n, 1), size):
        hi = min(lo + size, n)
        start, stop = int(bounds[lo]), int(bounds[hi])
        yield slice(lo, hi), EventLog(log.table.slice(start, stop - start), log.schema,
                                      report={}, source=log.source, stages=log.stages)


def subset_log(log: EventLog, customers: Collection[str], source: str) -> EventLog:
    """The events of ``customers`` as a new EventLog (no re-validation: already canonical)."""
    import pyarrow.compute as pc

    mask = pc.is_in(log.table.column(CUSTOMER), value_set=pa.array(list(customers), pa.string()))
    return EventLog(log.table.filter(mask), log.schema, report={}, source=source,
                    stages=log.stages)


def check_random_state(random_state) -> np.random.SeedSequence:
    """A SeedSequence from ``random_state``: an int >= 0, None, a Generator or a RandomState.

    Raises
    ------
    InvalidParameterError
        Anything else (a string, a float, a negative int, a bool).
    """
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(2**31)))
    ok_int = isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
    if random_state is None or (ok_int and random_state >= 0):
        return np.random.SeedSequence(None if random_state is None else int(random_state))
    raise InvalidParameterError(
        f"random_state={random_state!r} is invalid.",
        expected="an integer >= 0, None, a numpy.random.Generator or a numpy.random.RandomState.",
        fix="Pass random_state=0 for reproducible personas.",
    )
