"""EventLog: column detection, timestamps, ordering, bad input, no mutation."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymine import EventLog, Schema
from journeymine.exceptions import (
    ColumnNotFoundError,
    DataQualityWarning,
    EmptyLogError,
    JourneymineError,
    SchemaError,
    StageError,
    TimestampError,
)

T0 = dt.datetime(2024, 5, 1, 3, 0)  # 10:00 in Jakarta (UTC+7)


def frame(ts, customers=("a", "a", "b"), acts=("x", "y", "x"), **extra) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(customers), "touchpoint": list(acts),
                         "ts": ts, **extra})


def timestamps(log: EventLog) -> list[dt.datetime]:
    return log.table.column("timestamp").to_pylist()


# ---------------------------------------------------------------- detection
@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["case:concept:name", "concept:name", "time:timestamp"],
         "customer=case:concept:name, activity=concept:name, timestamp=time:timestamp"),
        (["user_id", "event", "timestamp"],
         "customer=user_id, activity=event, timestamp=timestamp"),
        (["customer_id", "touchpoint", "ts"],
         "customer=customer_id, activity=touchpoint, timestamp=ts"),
        (["id_pelanggan", "aktivitas", "waktu"],
         "customer=id_pelanggan, activity=aktivitas, timestamp=waktu"),
        (["customerId", "touchpoint", "eventTime"],
         "customer=customerId, activity=touchpoint, timestamp=eventTime"),
        (["Customer ID", "Touchpoint", "Timestamp"],
         "customer=Customer ID, activity=Touchpoint, timestamp=Timestamp"),
    ],
)
def test_columns_are_detected_and_described(columns, expected):
    df = pd.DataFrame([["c1", "iklan", "2024-05-01 10:00"], ["c1", "checkout", "2024-05-01 11:00"]],
                      columns=columns)
    log = EventLog.from_pandas(df)
    assert log.schema.describe() == expected
    assert log.validation["schema"] == expected
    assert log.table.column_names[:3] == ["customer_id", "activity", "timestamp"]
    assert log.table.column("activity").to_pylist() == ["iklan", "checkout"]


def test_optional_roles_detected_and_extras_kept():
    df = frame(["2024-05-01 10:00"] * 3, channel=["ig", "web", "ig"], rating=[5, 4, 3],
               campaign=["k1", "k2", "k3"])
    log = EventLog.from_pandas(df)
    assert log.schema.channel == "channel" and log.schema.rating == "rating"
    assert "channel=channel" in log.schema.describe()
    assert log.has_channel
    assert log.table.column("rating").type == pa.float64()
    assert sorted(log.table.column("campaign").to_pylist()) == ["k1", "k2", "k3"]


def test_optional_role_can_be_switched_off():
    df = frame(["2024-05-01"] * 3, channel=["ig", "web", "ig"], stage=["?", "??", "???"])
    with pytest.warns(DataQualityWarning, match=r"\['channel', 'stage'\]"):
        log = EventLog.from_pandas(df, channel=False, stage=False)
    assert log.schema.channel is None
    assert not log.has_channel
    assert "channel" not in log.schema.describe()
    assert "stage" not in log.table.column_names
    assert log.stage_map().unmapped(log.activities) == ["x", "y"]  # the ignored column is unused


def test_explicit_columns_override_detection():
    df = frame(["2024-05-01"] * 3, other_id=["p", "q", "q"])
    with pytest.warns(DataQualityWarning, match=r"\['customer_id'\]"):
        log = EventLog.from_pandas(df, customer="other_id")
    assert log.schema.customer == "other_id"
    assert log.n_customers == 2
    assert sorted(log.table.column("customer_id").to_pylist()) == ["p", "q", "q"]
    # the unused customer_id column's name is canonical: it is dropped, with the warning above
    assert log.table.column_names.count("customer_id") == 1


def test_reserved_column_name_dropped_with_warning():
    df = frame(["2024-05-01"] * 3, event_index=[9, 8, 7])
    with pytest.warns(DataQualityWarning, match=r"Dropped input column\(s\) \['event_index'\]"):
        log = EventLog.from_pandas(df)
    assert log.table.column("event_index").to_pylist() == [0, 1, 2]


# ---------------------------------------------------------------- timestamps
def test_iso_strings_are_naive_utc():
    log = EventLog.from_pandas(frame(["2024-05-01 10:00", "2024-05-01T11:30:15", "2024-05-02"]))
    assert log.table.schema.field("timestamp").type == pa.timestamp("us")
    assert timestamps(log) == [dt.datetime(2024, 5, 1, 10), dt.datetime(2024, 5, 1, 11, 30, 15),
                               dt.datetime(2024, 5, 2)]


def test_offsets_are_converted_to_utc():
    log = EventLog.from_pandas(
        frame(["2024-05-01T10:00:00+07:00", "2024-05-01 11:00+07:00", "2024-05-01T03:30:00Z"],
              customers=["a", "a", "a"])
    )
    assert timestamps(log) == [T0, dt.datetime(2024, 5, 1, 3, 30), dt.datetime(2024, 5, 1, 4)]


def test_naive_strings_with_tz_are_shifted():
    naive = ["2024-05-01 10:00", "2024-05-01 11:00", "2024-05-01 12:00"]
    utc = timestamps(EventLog.from_pandas(frame(naive)))
    jkt = timestamps(EventLog.from_pandas(frame(naive), tz="Asia/Jakarta"))
    assert [u - j for u, j in zip(utc, jkt, strict=True)] == [dt.timedelta(hours=7)] * 3
    assert jkt[0] == T0


def test_tz_aware_pandas_datetimes():
    aware = pd.to_datetime(["2024-05-01 10:00", "2024-05-01 11:00", "2024-05-01 12:00"])
    aware = aware.tz_localize("Asia/Jakarta")
    got = timestamps(EventLog.from_pandas(frame(aware)))
    assert got[0] == T0
    # tz= is only for naive values: aware ones are absolute already
    assert timestamps(EventLog.from_pandas(frame(aware), tz="America/New_York")) == got


def test_epoch_seconds_and_milliseconds_agree():
    secs = [1714532400, 1714536000, 1714539600]
    from_s = timestamps(EventLog.from_pandas(frame(secs)))
    from_ms = timestamps(EventLog.from_pandas(frame([s * 1000 for s in secs])))
    assert from_s == from_ms
    assert from_s[0] == T0


def test_timestamp_format():
    log = EventLog.from_pandas(
        frame(["01/05/2024 10:00", "13/05/2024 10:00", "02/06/2024 23:59"]),
        timestamp_format="%d/%m/%Y %H:%M",
    )
    assert sorted(timestamps(log)) == [dt.datetime(2024, 5, 1, 10), dt.datetime(2024, 5, 13, 10),
                                       dt.datetime(2024, 6, 2, 23, 59)]


def test_timestamp_format_with_tz():
    log = EventLog.from_pandas(frame(["01/05/2024 10:00"] * 3, acts=["x", "y", "z"]),
                               timestamp_format="%d/%m/%Y %H:%M", tz="Asia/Jakarta")
    assert set(timestamps(log)) == {T0}


def test_ties_keep_input_order_for_out_of_order_customer():
    df = pd.DataFrame({
        "customer_id": ["c1", "c2", "c1", "c1", "c1", "c2"],
        "touchpoint": ["late", "z", "first", "tie_a", "tie_b", "y"],
        "ts": ["2024-05-03", "2024-05-01", "2024-05-01", "2024-05-02", "2024-05-02", "2024-05-01"],
    })
    log = EventLog.from_pandas(df)
    out = log.to_pandas()
    assert out["event_index"].tolist() == list(range(6))
    c1 = out[out.customer_id == "c1"]["activity"].tolist()
    assert c1 == ["first", "tie_a", "tie_b", "late"]
    c2 = out[out.customer_id == "c2"]["activity"].tolist()
    assert c2 == ["z", "y"]  # equal timestamps: input order
    # swapping the tied rows in the input swaps them in the log: input order, not alphabetic
    swapped = df.iloc[[0, 1, 2, 4, 3, 5]]
    c1_swapped = EventLog.from_pandas(swapped).to_pandas().query("customer_id == 'c1'")
    assert c1_swapped["activity"].tolist() == ["first", "tie_b", "tie_a", "late"]
    # and it is stable: building it again gives the identical table
    assert EventLog.from_pandas(df).table.equals(log.table)


def test_to_pandas_is_utc_aware(small_df):
    out = EventLog.from_pandas(small_df).to_pandas()
    assert str(out["timestamp"].dt.tz) == "UTC"
    assert out["timestamp"].iloc[0] == pd.Timestamp("2024-05-01 10:00", tz="UTC")


# ---------------------------------------------------------------- bad input
def test_misspelt_column_suggests_the_closest(small_df):
    with pytest.raises(ColumnNotFoundError, match=r"Did you mean 'customer_id'") as err:
        EventLog.from_pandas(small_df, customer="customr_id")
    message = str(err.value)
    assert "'customr_id'" in message and "'touchpoint'" in message  # lists the columns found
    assert isinstance(err.value, KeyError) and isinstance(err.value, JourneymineError)
    with pytest.raises(ColumnNotFoundError, match=r"Did you mean 'customer_id'"):
        EventLog.from_pandas(small_df, Schema(customer="customr_id"))


def test_missing_timestamp_column():
    df = pd.DataFrame({"customer_id": ["a"], "touchpoint": ["x"], "colour": ["red"]})
    with pytest.raises(ColumnNotFoundError, match="No timestamp column found") as err:
        EventLog.from_pandas(df)
    assert "'colour'" in str(err.value) and "timestamp=<column name>" in str(err.value)


def test_same_column_for_two_roles(small_df):
    with pytest.raises(SchemaError, match="more than one role"):
        EventLog.from_pandas(small_df, activity="customer_id")


@pytest.mark.parametrize(
    "df",
    [pd.DataFrame(), pd.DataFrame(columns=["customer_id", "touchpoint", "ts"])],
    ids=["no-columns", "no-rows"],
)
def test_empty_dataframe(df):
    with pytest.raises(EmptyLogError, match="no rows"):
        EventLog.from_pandas(df)


def test_all_null_ids():
    df = frame(["2024-05-01"] * 3, customers=[None, None, "  "])
    with (
        pytest.warns(DataQualityWarning, match="3 event"),
        pytest.raises(EmptyLogError, match="all 3 rows have a null customer id"),
    ):
        EventLog.from_pandas(df)


def test_some_null_ids_and_timestamps_are_dropped_with_count():
    df = pd.DataFrame({
        "customer_id": ["a", None, "a", "b", "b"],
        "touchpoint": ["x", "x", "y", "x", "y"],
        "ts": ["2024-05-01", "2024-05-02", None, "", "2024-05-03"],
    })
    with pytest.warns(DataQualityWarning, match=r"Dropped 3 event\(s\)") as rec:
        log = EventLog.from_pandas(df)
    assert "customer id (1)" in str(rec[0].message) and "timestamp (2)" in str(rec[0].message)
    assert log.n_events == 2
    assert log.validation["dropped_nulls"] == 3
    assert log.validation["null_customer"] == 1 and log.validation["null_timestamp"] == 2
    assert log.validation["rows_in"] == 5 and log.validation["rows_out"] == 2


def test_text_is_trimmed_and_blank_text_is_null():
    df = pd.DataFrame({
        "customer_id": [" a", "a ", "   ", "b", "7"],
        "touchpoint": ["  x", "y  ", "x", "", "x"],
        "ts": ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04", "2024-05-05"],
    })
    with pytest.warns(DataQualityWarning, match=r"customer id \(1\), activity \(1\)"):
        log = EventLog.from_pandas(df)
    assert log.table.column("customer_id").to_pylist() == ["7", "a", "a"]
    assert log.table.column("activity").to_pylist() == ["x", "x", "y"]
    assert log.validation["dropped_nulls"] == 2


def test_duplicates_are_found_after_trimming_and_among_interleaved_ties():
    df = frame(["2024-05-01"] * 5, customers=["a", "a ", "a", "a", "b"],
               acts=["x", "y", " x", "y", "x"])
    with pytest.warns(DataQualityWarning, match=r"Dropped 2 exact duplicate"):
        log = EventLog.from_pandas(df)
    # the first of each duplicate pair is kept, and ties keep input order
    assert log.table.column("activity").to_pylist() == ["x", "y", "x"]
    assert log.table.column("event_index").to_pylist() == [0, 1, 2]


def test_unparsable_timestamps_name_an_example():
    df = frame(["2024-05-01 10:00", "kemarin sore", "2024-05-01 12:00"])
    with pytest.raises(TimestampError, match="kemarin sore") as err:
        EventLog.from_pandas(df)
    assert "1 value(s)" in str(err.value) and "'ts'" in str(err.value)
    assert "timestamp_format" in str(err.value)


def test_wrong_timestamp_format_raises():
    with pytest.raises(TimestampError, match="2024-05-01"):
        EventLog.from_pandas(frame(["2024-05-01 10:00"] * 3), timestamp_format="%d/%m/%Y %H:%M")


def test_duplicates_dropped_with_count_or_kept():
    df = frame(["2024-05-01"] * 4, customers=["a", "a", "a", "b"], acts=["x", "x", "x", "x"])
    with pytest.warns(DataQualityWarning, match=r"Dropped 2 exact duplicate"):
        log = EventLog.from_pandas(df)
    assert log.n_events == 2 and log.validation["duplicates"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        kept = EventLog.from_pandas(df, drop_duplicates=False)
    assert kept.n_events == 4 and kept.validation["duplicates"] == 0


def test_rows_differing_in_an_extra_column_are_not_duplicates():
    df = frame(["2024-05-01"] * 2, customers=["a", "a"], acts=["x", "x"], order_no=[1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        assert EventLog.from_pandas(df).n_events == 2


def test_single_event_customers_are_kept(small_df):
    log = EventLog.from_pandas(small_df)
    assert log.n_customers == 3 and log.n_events == 6
    assert log.validation["single_event_customers"] == 1
    assert "c3" in log.table.column("customer_id").to_pylist()


def test_stage_column_with_unknown_values():
    df = frame(["2024-05-01"] * 3, stage=["kesadaran", "purchase", "wishlist-ish"])
    with pytest.raises(StageError, match="wishlist-ish"):
        EventLog.from_pandas(df)


def test_stage_column_is_normalised():
    df = frame(["2024-05-01"] * 3, stage=["kesadaran", "Pembelian", "pasca-pembelian"])
    log = EventLog.from_pandas(df)
    assert sorted(log.table.column("stage").to_pylist()) == ["awareness", "purchase", "retention"]


@pytest.mark.parametrize(
    "bad", [[{"customer_id": "a"}], {"customer_id": ["a"]}, np.zeros((2, 3)), "events.csv", None]
)
def test_non_dataframe_input(bad):
    with pytest.raises(SchemaError, match="Expected a pandas DataFrame, got"):
        EventLog.from_pandas(bad)


def test_from_arrow_rejects_a_dataframe(small_df):
    with pytest.raises(SchemaError, match=r"Expected a pyarrow\.Table, got DataFrame"):
        EventLog.from_arrow(small_df)


def test_mixed_type_column_is_a_schema_error():
    df = frame(["2024-05-01"] * 3, customers=[1, "a", "b"])
    with pytest.raises(SchemaError, match="customer_id"):
        EventLog.from_pandas(df)


def test_duplicate_column_names_are_a_schema_error():
    df = pd.DataFrame([["a", "x", "2024-05-01", "2024-05-02"]],
                      columns=["customer_id", "touchpoint", "ts", "ts"])
    with pytest.raises(SchemaError, match=r"duplicate column names: \['ts'\]"):
        EventLog.from_pandas(df)


# ---------------------------------------------------------------- never mutate input
def _messy_frame() -> pd.DataFrame:
    df = pd.DataFrame({
        "customer_id": [" 007 ", "007", None, "b", "b"],
        "touchpoint": pd.Categorical(["x", "y", "x", "x", "x"]),
        "ts": pd.to_datetime(["2024-05-01 10:00", "2024-05-01 11:00", "2024-05-01 12:00",
                              "2024-05-02 00:00", "2024-05-02 00:00"]).tz_localize("Asia/Jakarta"),
        "rating": [5, None, 3, 4, 4],
        "event_index": [10, 11, 12, 13, 13],
    }, index=pd.Index([50, 40, 30, 20, 20], name="row"))
    return df


@pytest.mark.parametrize("kwargs", [{}, {"tz": "Asia/Jakarta", "drop_duplicates": False}])
def test_input_dataframe_is_not_modified(kwargs):
    df = _messy_frame()
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        log = EventLog.from_pandas(df, **kwargs)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_index_equal(df.index, before.index)
    assert df.dtypes.equals(before.dtypes)
    assert df.attrs == {}
    assert log.n_events >= 3
    out = log.to_pandas()
    out.loc[0, "activity"] = "changed"  # the log's own frame is a copy too
    pd.testing.assert_frame_equal(df, before)


def test_default_index_frame_is_not_modified(small_df):
    before = small_df.copy(deep=True)
    EventLog.from_pandas(small_df, tz="Asia/Jakarta")
    pd.testing.assert_frame_equal(small_df, before)


def test_non_default_index_is_ignored_for_order():
    df = pd.DataFrame(
        {"customer_id": ["a", "a"], "touchpoint": ["first", "second"],
         "ts": ["2024-05-01", "2024-05-01"]},
        index=[9, 1],  # sorting by index would swap the tie
    )
    log = EventLog.from_pandas(df)
    assert log.table.column("activity").to_pylist() == ["first", "second"]
    assert "__index_level_0__" not in log.table.column_names


# ---------------------------------------------------------------- property
@st.composite
def untied_logs(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    customers = draw(st.lists(st.sampled_from(["c1", "c2", "c3", "00123"]), min_size=n, max_size=n))
    acts = draw(st.lists(st.sampled_from(["iklan", "search", "checkout", "ulasan"]),
                         min_size=n, max_size=n))
    # distinct minutes per customer: no timestamp ties within a customer
    minutes = draw(st.lists(st.integers(0, 60 * 24 * 30), min_size=n, max_size=n, unique=True))
    order = draw(st.permutations(range(n)))
    df = pd.DataFrame({
        "customer_id": customers,
        "touchpoint": acts,
        "ts": [pd.Timestamp("2024-05-01") + pd.Timedelta(minutes=m) for m in minutes],
    })
    return df, df.iloc[list(order)]


@settings(max_examples=60, deadline=None)
@given(untied_logs())
def test_canonical_table_is_independent_of_row_order(logs):
    df, shuffled = logs
    a = EventLog.from_pandas(df).table
    b = EventLog.from_pandas(shuffled).table
    assert a.equals(b)
    out = a.to_pandas()
    assert out["event_index"].tolist() == list(range(len(df)))
    keys = list(zip(out["customer_id"], out["timestamp"], strict=True))
    assert keys == sorted(keys)
    assert sorted(out["customer_id"]) == sorted(df["customer_id"])


@st.composite
def messy_logs(draw):
    """Frames with padded and blank text, null ids, NaT, ties, duplicates and extras."""
    n = draw(st.integers(min_value=1, max_value=30))
    text = st.sampled_from(["c1", " c1", "c2 ", "  ", "", None, "00123"])
    minutes = st.one_of(st.none(), st.integers(0, 5))
    return pd.DataFrame({
        "customer_id": draw(st.lists(text, min_size=n, max_size=n)),
        "touchpoint": draw(st.lists(st.sampled_from(["iklan", " iklan", "checkout", ""]),
                                    min_size=n, max_size=n)),
        "ts": [pd.NaT if m is None else pd.Timestamp("2024-05-01") + pd.Timedelta(minutes=m)
               for m in draw(st.lists(minutes, min_size=n, max_size=n))],
        "rating": draw(st.lists(st.sampled_from([1.0, 5.0, np.nan]), min_size=n, max_size=n)),
        "order_no": draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)),
    })


def _validated(df: pd.DataFrame) -> tuple[EventLog | None, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            log = EventLog.from_pandas(df)
        except EmptyLogError:
            log = None
    return log, sorted(str(w.message) for w in caught)


@settings(max_examples=80, deadline=None)
@given(messy_logs())
def test_arrow_and_sql_validation_agree(df):
    # Datetimes are typed by Arrow casts; the same instants as ISO text go through DuckDB SQL.
    as_text = df.assign(ts=[None if pd.isna(t) else t.isoformat() for t in df["ts"]])
    fast, fast_warnings = _validated(df)
    sql, sql_warnings = _validated(as_text)
    assert fast_warnings == sql_warnings
    assert (fast is None) == (sql is None)
    if fast is not None:
        assert fast.table.column_names == sql.table.column_names
        for name in fast.table.column_names:
            assert fast.table.column(name).to_pylist() == sql.table.column(name).to_pylist(), name
        assert fast.validation == sql.validation


#: Id schemes: one width of <= 8 bytes and mixed widths (packed into integers),
#: random ones whose bytes vary too much to renumber into 32 bits, longer ids,
#: non-ASCII ones and short ids holding a NUL byte (ranked instead).
_ID_SCHEMES = {
    "fixed-8": lambda i: f"c{i:07d}",
    "mixed-width": lambda i: f"c{i}" if i % 3 else f"{i}",
    "long": lambda i: f"customer-{i:06d}",
    "random-8": lambda i: np.base_repr(i * 2_654_435_761 % 36**8, 36).rjust(8, "Z"),
    "non-ascii": lambda i: f"é{i}" if i % 2 else f"ü{i:05d}",
    "nul-byte": lambda i: f"a\x00{i}" if i % 5 == 0 else f"a{i}",
}


@pytest.mark.parametrize("scheme", sorted(_ID_SCHEMES))
@pytest.mark.parametrize("n_customers", [50, 70_000])  # 70,000 ids need two radix passes
def test_journey_order_is_a_stable_sort_by_customer_and_time(n_customers, scheme):
    from journeymine.eventlog._validate import _ROW, _journey_order

    rng = np.random.default_rng(1)
    n = 150_000
    ids = np.array([_ID_SCHEMES[scheme](i) for i in range(n_customers)], dtype=object)
    whole = pa.table({
        "customer_id": pa.array(ids[rng.integers(0, n_customers, n + 7)], pa.string()),
        "timestamp": pa.array(rng.integers(0, 50, n + 7) * 1_000_000, pa.timestamp("us")),
        _ROW: np.arange(n + 7) - 7,
    })
    # several chunks, the first one a slice (its offsets do not start at 0)
    table = pa.concat_tables([whole.slice(7, n // 3), whole.slice(7 + n // 3)])
    table = table.set_column(2, _ROW, pa.array(np.arange(n)))
    expected = pa.compute.sort_indices(table, sort_keys=[
        ("customer_id", "ascending"), ("timestamp", "ascending"), (_ROW, "ascending")])
    order, customers = _journey_order(table)
    assert np.array_equal(order, expected.to_numpy())
    assert customers().equals(table.column("customer_id").take(expected).combine_chunks())


@pytest.mark.parametrize("shuffled", [False, True])
def test_reorder_moves_every_column_like_take(shuffled):
    from journeymine.eventlog._validate import _ROW, _journey_order, _reorder

    rng = np.random.default_rng(2)
    n = 5_000
    rows = rng.permutation(n) if shuffled else np.arange(n)
    table = pa.table({
        "customer_id": [f"c{i}" for i in rng.integers(0, 300, n)],
        "activity": pa.array([None if i == 3 else f"t{i}" for i in rng.integers(0, 8, n)]),
        "channel": [f"ch{i}" for i in rng.integers(0, 3, n)],
        "text": [f"review {i}" for i in range(n)],
        "timestamp": pa.array(rng.integers(0, 40, n) * 1_000_000, pa.timestamp("us")),
        _ROW: rows,
    })
    order, customers = _journey_order(table)
    encodings = {}
    expected = table.take(order)
    assert _reorder(table, order, customers, encodings).equals(expected)
    assert sorted(encodings) == ["activity", "channel"]  # the columns moved as codes
    for name, codes in encodings.items():
        assert codes.cast(pa.string()).equals(expected.column(name).combine_chunks())


@pytest.mark.parametrize("shuffled", [False, True])
def test_threaded_reorder_equals_serial(shuffled):
    """Columns moved side by side, encodings begun early and customers made late: same table."""
    from concurrent.futures import ThreadPoolExecutor

    from journeymine.eventlog._validate import (
        _ROW,
        _journey_order,
        _reorder,
        dictionary_encode,
    )

    rng = np.random.default_rng(3)
    n = 20_000
    stamps = np.sort(rng.integers(0, 500, n)) if not shuffled else rng.integers(0, 500, n)
    table = pa.table({
        "customer_id": [f"c{i}" for i in rng.integers(0, 900, n)],
        "activity": [f"t{i}" for i in rng.integers(0, 8, n)],
        "timestamp": pa.array(stamps * 1_000_000, pa.timestamp("us")),
        "channel": [f"ch{i}" for i in rng.integers(0, 3, n)],
        _ROW: np.arange(n),
    })
    order, customers = _journey_order(table)
    serial_codes = {}
    serial = _reorder(table, order, customers, serial_codes)
    threaded_codes = {}
    with ThreadPoolExecutor(2) as pool:
        encoded = {"activity": pool.submit(dictionary_encode, table.column("activity"))}
        threaded = _reorder(table, order, customers, threaded_codes, pool=pool,
                            encoded=encoded)
    assert threaded.equals(serial)
    assert threaded.equals(table.take(pa.array(order)))
    assert sorted(threaded_codes) == sorted(serial_codes) == ["activity", "channel"]
    for name, codes in serial_codes.items():
        assert threaded_codes[name].equals(codes)
