"""The positional Arrow steps/journeys equal the portable Ibis window queries row for row."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import journeymine as jm
from journeymine.discovery import _queries as q
from journeymine.discovery._engine import register
from journeymine.discovery._positional import (
    _key,
    _occurrences,
    journeys_table,
    sorted_events,
    steps_table,
)


def _messy_log() -> jm.EventLog:
    """Ties, a single-event customer, an unmapped touchpoint, loops and a repeat purchase."""
    rows = [
        ("c1", "ig_ad", "2024-01-01 10:00", "instagram"),
        ("c1", "ig_ad", "2024-01-01 10:00", "instagram"),  # tie, not a duplicate (channel differs)
        ("c1", "product_page", "2024-01-01 10:00", "web"),
        ("c1", "checkout", "2024-01-01 11:00", "web"),
        ("c1", "product_page", "2024-01-03 09:00", "app"),
        ("c1", "checkout", "2024-01-03 09:30", "app"),
        ("c2", "mystery_step", "2024-01-02 08:00", None),
        ("c3", "product_page", "2024-01-02 08:00", "web"),
        ("c3", "chat", "2024-01-02 08:10", "whatsapp"),
        ("c3", "product_page", "2024-01-02 08:20", "web"),
        ("c3", "chat", "2024-01-02 08:30", "whatsapp"),
        ("c4", "ig_ad", "2024-01-05 08:00", None),  # channels missing: never a switch
        ("c4", "product_page", "2024-01-05 08:05", "web"),
        ("c4", "checkout", "2024-01-05 08:10", None),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts", "channel"])
    df.loc[1, "channel"] = "tiktok"
    return jm.EventLog.from_pandas(df)


LOGS = {
    "messy": _messy_log,
    "generated": lambda: jm.datasets.make_journeys(400, random_state=5),
}
RANK = {"ig_ad": 0, "product_page": 1, "chat": 1, "checkout": 2, "instagram_ad": 0,
        "website_product_page": 1, "payment": 2}


def _frame(table: pa.Table | pd.DataFrame, key: str) -> pd.DataFrame:
    df = table if isinstance(table, pd.DataFrame) else table.to_pandas()
    df = df.sort_values(key).reset_index(drop=True)
    for col in df.columns:
        if df[col].dtype.kind in "iufb" or col in ("stage_rank", "furthest_stage"):
            df[col] = df[col].astype("float64")  # ints with nulls vs nullable ints
        elif df[col].dtype.kind == "M":
            df[col] = df[col].dt.tz_localize(None) if df[col].dt.tz else df[col]
            df[col] = df[col].astype("datetime64[us]")
        else:
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


@pytest.mark.parametrize("conversion", [["checkout", "payment"], []])
@pytest.mark.parametrize("name", list(LOGS))
def test_steps_and_journeys_match_the_ibis_queries(name, conversion):
    log = LOGS[name]()
    fast = steps_table(log.table, RANK, conversion)
    portable = q.steps(register(log), RANK, conversion)
    assert fast.column_names == list(portable.columns)
    pd.testing.assert_frame_equal(_frame(fast, "event_index"),
                                  _frame(portable.execute(), "event_index"))
    pd.testing.assert_frame_equal(_frame(journeys_table(fast), "customer_id"),
                                  _frame(q.journeys(portable).execute(), "customer_id"))


def test_hand_checked_flags():
    st = steps_table(_messy_log().table, RANK, ["checkout"]).to_pandas()
    c1 = st[st.customer_id == "c1"]
    assert c1.activity.tolist() == ["ig_ad", "ig_ad", "product_page", "checkout",
                                    "product_page", "checkout"]
    assert c1.first_visit.tolist() == [True, False, True, True, False, False]
    assert c1.second_visit.tolist() == [False, True, False, False, True, True]
    # edges: ig>ig, ig>pp, pp>co, co>pp, pp>co (again), end
    assert c1.first_edge.tolist() == [True, True, True, True, False, False]
    assert c1.first_in_stage.tolist() == [True, False, True, True, False, False]
    # awareness 10:00 -> consideration 10:00 -> purchase 11:00 -> (no retention)
    assert c1.seconds_to_next_stage.fillna(-1).tolist() == [0.0, -1, 3600.0, -1, -1, -1]
    assert c1.customer_converted.all() and not st[st.customer_id == "c3"].customer_converted.any()
    c3 = st[st.customer_id == "c3"]
    assert c3.after_next_activity.tolist()[:2] == ["product_page", "chat"]
    assert c3.seconds_to_next.tolist()[:3] == [600.0, 600.0, 600.0]
    # web>whatsapp on product_page>chat, back, then the first switch again
    assert c3.first_switch.tolist() == [True, True, False, False]
    assert np.isnan(c3.seconds_to_next.iloc[-1])
    c2 = st[st.customer_id == "c2"]
    assert c2.position.tolist() == [0] and c2.stage_rank.isna().all()


def test_one_event_log():
    log = jm.EventLog.from_pandas(pd.DataFrame(
        {"customer_id": ["a"], "touchpoint": ["ad"], "ts": ["2024-01-01"]}))
    st = steps_table(log.table, {"ad": 0}, [])
    assert st.column("next_activity").to_pylist() == [None]
    assert journeys_table(st).column("variant").to_pylist() == ["ad"]
    pm = jm.discover(log)
    assert pm.edges.empty and pm.summary["customers"] == 1


def test_unsorted_tables_are_put_back_in_journey_order():
    table = _messy_log().table
    shuffled = table.take(pa.array(np.random.default_rng(0).permutation(table.num_rows)))
    assert sorted_events(shuffled).equals(table)
    assert sorted_events(table) is table


@pytest.mark.parametrize("scale", [1, 2**20, 2**60])
def test_first_occurrence_flags(scale):
    # scale 1: the codes fit 16 bits (radix sort of the codes alone); 2**20: one
    # int64 key with the run number; 2**60 overflows one int64 key (lexsort)
    run = np.array([0, 0, 0, 0, 1, 1, 2])
    code = np.array([3, 5, 3, -1, 5, 5, 3])
    code = np.where(code >= 0, code * scale, -1)
    assert len(_key(run, code)) == (1 if scale < 2**60 else 2)
    assert _occurrences(7, None, run, (code,), 1)[0].tolist() == [
        True, True, False, True, True, False, True]
    assert _occurrences(7, np.array([1, 2, 4, 5]), run, (code,), 1)[0].tolist() == [
        False, True, True, False, True, False, False]


def test_occurrence_ranks():
    run = np.array([0, 0, 0, 0, 0, 1, 1])
    code = np.array([3, 5, 3, 3, 5, 3, 3])
    first, second, third = _occurrences(7, None, run, (code,), 3)
    assert first.tolist() == [True, True, False, False, False, True, False]
    assert second.tolist() == [False, False, True, False, True, False, True]
    assert third.tolist() == [False, False, False, True, False, False, False]


def test_steps_reuse_the_encodings_validation_made_while_reordering():
    """A log read out of order keeps its moved codes; its steps equal those encoded afresh."""
    base = _messy_log().to_pandas()
    shuffled = base.sample(frac=1.0, random_state=3).rename(columns={"activity": "touchpoint"})
    log = jm.EventLog.from_pandas(shuffled.drop(columns="event_index"))
    encoded = log._encoded_columns(log.table)
    assert sorted(encoded) == ["activity", "channel"]
    for name, codes in encoded.items():
        assert codes.cast(pa.string()).equals(log.table.column(name).combine_chunks())
    assert log._encoded_columns(log.table.slice(1)) == {}  # another table: nothing to reuse
    reused = steps_table(log.table, RANK, ["checkout"], encoded=encoded)
    fresh = steps_table(log.table, RANK, ["checkout"])
    pd.testing.assert_frame_equal(_frame(reused, "event_index"), _frame(fresh, "event_index"))
    assert jm.EventLog.from_pandas(base.drop(columns="event_index").rename(
        columns={"activity": "touchpoint"}))._encoded_columns(log.table) == {}


def test_dropped_duplicates_discard_the_encodings():
    df = pd.DataFrame({"customer_id": ["b", "a", "a", "b"], "touchpoint": ["x", "y", "y", "x"],
                       "ts": ["2024-01-02", "2024-01-01", "2024-01-01", "2024-01-02"]})
    with pytest.warns(jm.exceptions.DataQualityWarning, match="2 exact duplicate"):
        log = jm.EventLog.from_pandas(df)
    assert log.n_events == 2 and log._encoded_columns(log.table) == {}
