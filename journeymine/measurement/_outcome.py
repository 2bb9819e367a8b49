"""What happens after a survey answer: the follow-up query and the outcome link.

:func:`follow_up` finds, per answer, whether its customer is in the log and
the first *outcome* event strictly after the answer (one DuckDB ASOF join;
events before or at the answer never count). :func:`outcome_link` compares
the outcome rate of customers who gave a low score with that of the others,
per stage of the surveyed touchpoint and overall: the risk difference
``rate(low) - rate(rest)`` with Newcombe's hybrid score interval and the
pooled two-proportion z-test (Fisher's exact test for small counts),
Benjamini-Hochberg corrected over the stages.

With a ``horizon`` only outcomes within it of the answer count, and answers
less than ``horizon`` before the end of the log are left out (censored: they
had no full horizon to repurchase in), so low and other scores are compared
over the same follow-up time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from journeymine._util._duckdb import connect
from journeymine._util._stats import benjamini_hochberg, newcombe_interval, two_proportion_test
from journeymine.eventlog._eventlog import EventLog
from journeymine.eventlog._schema import ACTIVITY, CUSTOMER, REVENUE, TIMESTAMP
from journeymine.eventlog._validate import to_arrow

__all__ = ["OUTCOME_COLUMNS", "follow_up", "outcome_link"]

#: Columns of :attr:`Satisfaction.outcome <journeymine.Satisfaction.outcome>`.
OUTCOME_COLUMNS = ("stage", "n_low_score", "n_rest", "outcome_low_score", "outcome_rest",
                   "rate_low_score", "rate_rest", "difference", "difference_low",
                   "difference_high", "p_value", "q_value")


def follow_up(log: EventLog, answers: pd.DataFrame, outcome: tuple[str, ...] | None,
              revenue: bool, horizon: pd.Timedelta | None) -> pd.DataFrame:
    """Per answer (in order): ``known`` customer, ``outcome`` (bool) and ``censored``.

    An outcome event is an event at one of the ``outcome`` touchpoints (any
    event when ``outcome`` is None), or, with ``revenue``, also any event with
    revenue > 0; it counts when strictly after the answer (and within
    ``horizon``). ``censored``: the answer is less than ``horizon`` before the
    log's last event.
    """
    ts = answers[TIMESTAMP]
    table = pa.table({
        "row": pa.array(np.arange(len(answers)), pa.int64()),
        "customer_id": pa.array(answers[CUSTOMER].astype(object).where(
            answers[CUSTOMER].notna(), None), pa.string()),
        "timestamp": pa.array(ts.dt.tz_convert("UTC").dt.tz_localize(None)),
    })
    names = pa.table({"name": pa.array(list(outcome or ()), pa.string())})
    cols = [CUSTOMER, ACTIVITY, TIMESTAMP] + ([REVENUE] if revenue else [])
    rule = "true" if outcome is None else "activity IN (SELECT name FROM names)"
    if revenue:
        rule += " OR coalesce(revenue, 0) > 0"
    micros = "NULL" if horizon is None else str(int(horizon / pd.Timedelta("1us")))
    sql = f"""
    WITH hits AS (SELECT customer_id, timestamp FROM events WHERE {rule}),
    nxt AS (SELECT a.row, h.timestamp AS next_ts FROM answers a
            ASOF LEFT JOIN hits h ON a.customer_id = h.customer_id AND a.timestamp < h.timestamp),
    known AS (SELECT DISTINCT customer_id FROM events)
    SELECT a.row, k.customer_id IS NOT NULL AS known,
           coalesce(n.next_ts IS NOT NULL AND ({micros} IS NULL
                    OR n.next_ts <= a.timestamp + to_microseconds({micros})), false) AS outcome,
           coalesce({micros} IS NOT NULL AND a.timestamp + to_microseconds({micros}) >
                    (SELECT max(timestamp) FROM events), false) AS censored
    FROM answers a LEFT JOIN nxt n ON n.row = a.row
         LEFT JOIN known k ON k.customer_id = a.customer_id
    ORDER BY a.row
    """
    con = connect()
    try:
        con.register("events", log.table.select(cols))
        con.register("answer_rows", table)  # a temp table: ASOF joins probe Arrow scans slowly
        con.execute("CREATE TEMP TABLE answers AS SELECT * FROM answer_rows")
        con.register("names", names)
        out = to_arrow(con.execute(sql)).to_pandas()
    finally:
        con.close()
    return out.drop(columns="row")


def outcome_link(stage: pd.Series, low: pd.Series, outcome: pd.Series, order: tuple[str, ...],
                 min_answers: int) -> pd.DataFrame:
    """Outcome rate of low scores against the rest, per stage (journey order) and ``"all"``.

    ``stage``, ``low`` and ``outcome`` are aligned per answer (only the
    answers to compare). Rows where either side has fewer than
    ``min_answers`` answers keep their counts with NaN rates and effect;
    q-values are over the stage rows that were tested.
    """
    frame = pd.DataFrame({"stage": stage.fillna("(none)").astype(str),
                          "low": low.astype(bool), "outcome": outcome.astype(bool)})
    both = pd.concat([frame, frame.assign(stage="all")], ignore_index=True)
    counts = both.groupby(["stage", "low"])["outcome"].agg(["size", "sum"]).unstack(
        "low", fill_value=0)
    counts = counts.reindex(columns=pd.MultiIndex.from_product([["size", "sum"], [True, False]]),
                            fill_value=0)
    rank = {s: i for i, s in enumerate(order)} | {"(none)": len(order), "all": len(order) + 1}
    counts = counts.sort_index(key=lambda s: s.map(rank).fillna(len(order)))
    n1, n0 = counts[("size", True)].to_numpy(), counts[("size", False)].to_numpy()
    x1, x0 = counts[("sum", True)].to_numpy(), counts[("sum", False)].to_numpy()
    low, high = newcombe_interval(x0, n0, x1, n1)
    enough = (n1 >= min_answers) & (n0 >= min_answers)
    out = pd.DataFrame({
        "stage": counts.index.astype(str), "n_low_score": n1, "n_rest": n0,
        "outcome_low_score": x1, "outcome_rest": x0,
        "rate_low_score": x1 / np.maximum(n1, 1), "rate_rest": x0 / np.maximum(n0, 1),
        "difference": x1 / np.maximum(n1, 1) - x0 / np.maximum(n0, 1),
        "difference_low": low, "difference_high": high,
        "p_value": two_proportion_test(x0, n0, x1, n1),
    })
    measured = ["rate_low_score", "rate_rest", "difference", "difference_low",
                "difference_high", "p_value"]
    out.loc[~enough, measured] = np.nan
    tested = enough & (out["stage"] != "all").to_numpy()
    out["q_value"] = np.nan
    out.loc[tested, "q_value"] = benjamini_hochberg(out.loc[tested, "p_value"].to_numpy())
    return out[list(OUTCOME_COLUMNS)]
