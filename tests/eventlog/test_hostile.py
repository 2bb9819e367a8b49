"""Hostile inputs: each is refused with a specific JourneymineError or treated as documented.

Every case checks the exception class, that the message names the problem,
that the input (DataFrame or file) is left untouched and, where data used to
be lost silently, that no partial log comes back.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeymine import EventLog
from journeymine.eventlog._readers import read_csv
from journeymine.exceptions import (
    DataQualityWarning,
    InvalidParameterError,
    TimestampError,
)


def frame(ts, customers=None, acts=None) -> pd.DataFrame:
    n = len(ts)
    return pd.DataFrame({
        "customer_id": customers or ["a"] * n,
        "touchpoint": acts or [f"t{i}" for i in range(n)],
        "ts": ts,
    })


def refuse(df: pd.DataFrame, error: type, match: str, **kwargs) -> pytest.ExceptionInfo:
    """``EventLog.from_pandas(df)`` raises ``error`` matching ``match``; ``df`` is unchanged."""
    before = df.copy(deep=True)
    with pytest.raises(error, match=match) as info:
        EventLog.from_pandas(df, **kwargs)
    pd.testing.assert_frame_equal(df, before)
    return info


def refuse_file(path, error: type, match: str, **kwargs) -> pytest.ExceptionInfo:
    """``read_csv(path)`` raises ``error`` matching ``match``; the file is unchanged."""
    path = Path(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(error, match=match) as info:
        read_csv(path, **kwargs)
    if before is not None:
        assert path.read_bytes() == before
    return info


# ---------------------------------------------------------------- timestamps
def test_epoch_seconds_mixed_with_milliseconds_is_an_error():
    # read as milliseconds (the biggest value's unit), the seconds were January 1970
    df = frame([1714550400, 1714550400000, 1714550500])
    info = refuse(df, TimestampError, r"mix units.*seconds.*1714550400 \(row 0\)"
                                      r".*milliseconds.*1714550400000 \(row 1\)")
    assert "January 1970" in str(info.value)


def test_epoch_zero_does_not_count_as_a_unit():
    log = EventLog.from_pandas(frame([0, 1714550400000]))
    assert log.table.column("timestamp").to_pylist() == [dt.datetime(1970, 1, 1),
                                                         dt.datetime(2024, 5, 1, 8)]


@pytest.mark.parametrize("bad", [float("inf"), float("-inf")])
def test_infinite_epoch_numbers(bad):
    refuse(frame([1714550400.0, bad]), TimestampError, r"infinite, e\.g\. -?inf \(row 1\)")


def test_epoch_numbers_outside_the_supported_range():
    # 1e30 ns is year 31,000,000; 2e10 s is year 2603: both beyond 2262
    refuse(frame([1e30, 2e30]), TimestampError, r"outside the supported range 1900-01-01")
    refuse(frame([2e10, 1.7e9]), TimestampError, r"read as seconds.*20000000000.0 \(row 0\)")


def test_epoch_nan_is_a_null_timestamp():
    with pytest.warns(DataQualityWarning, match=r"timestamp \(1\)"):
        log = EventLog.from_pandas(frame([1714550400.0, np.nan, 1714550500.0]))
    assert log.n_events == 2


@pytest.mark.parametrize("value", ["10000-01-01", "0001-01-01", "9999-12-31", "1899-12-31",
                                   "2263-01-01"])
def test_timestamp_strings_outside_the_supported_range(value):
    df = frame(["2024-05-01 10:00", value])
    info = refuse(df, TimestampError, rf"outside the supported range.*'{value}' \(row 1\)")
    assert "2262-04-11" in str(info.value)


def test_python_datetimes_outside_the_supported_range():
    df = frame([dt.datetime(1, 1, 1), dt.datetime(2024, 1, 1)])
    refuse(df, TimestampError, r"outside the supported range.*0001-01-01.*\(row 0\)")


@pytest.mark.parametrize("tz", [None, "Asia/Jakarta"])
@pytest.mark.parametrize("value", ["10000-01-01 00:00", "0001-01-01 00:00", "9999-12-31 00:00"])
def test_csv_timestamps_outside_the_supported_range(tmp_path, value, tz):
    path = tmp_path / "far.csv"
    path.write_text(f"customer_id,touchpoint,ts\na,x,2024-05-01 10:00\na,y,{value}\n")
    refuse_file(path, TimestampError, r"outside the supported range.*\(row 1\)", tz=tz)


def test_the_range_bounds_are_accepted():
    log = EventLog.from_pandas(frame(["1900-01-01 00:00", "2262-04-11 23:00"]))
    assert repr(log).endswith("1900-01-01 → 2262-04-11)")
    assert log.to_pandas()["timestamp"].dt.year.tolist() == [1900, 2262]


@pytest.mark.parametrize("tz", [7, 7.0, b"UTC", ["UTC"]])
def test_tz_must_be_a_string(tmp_path, tz):
    refuse(frame(["2024-05-01"]), InvalidParameterError, r"tz must be a time zone name", tz=tz)
    path = tmp_path / "e.csv"
    path.write_text("customer_id,touchpoint,ts\na,x,2024-05-01\n")
    refuse_file(path, InvalidParameterError, r"tz must be a time zone name", tz=tz)


# ---------------------------------------------------------------- text
NFC, NFD = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")


def test_nfc_and_nfd_spellings_are_one_touchpoint_and_one_customer():
    df = frame(["2024-05-01", "2024-05-02", "2024-05-03"], customers=[NFC, NFD, "b"],
               acts=[NFC, NFD, "x"])
    before = df.copy(deep=True)
    log = EventLog.from_pandas(df)
    pd.testing.assert_frame_equal(df, before)
    assert log.n_customers == 2 and log.activities == [NFC, "x"]
    assert log.table.column("customer_id").to_pylist() == ["b", NFC, NFC]


@pytest.mark.parametrize("pad", ["\t", "\u00a0", "\u3000", "\u202f", " \t\r\n"])
def test_every_unicode_space_around_ids_is_trimmed(pad):
    df = frame(["2024-05-01", "2024-05-02", "2024-05-03"], customers=[f"{pad}b", f"b{pad}", "b"],
               acts=["x", f"y{pad}", f"{pad}z"])
    log = EventLog.from_pandas(df)
    assert log.n_customers == 1 and log.activities == ["x", "y", "z"]
    # inner spaces are data: kept
    assert EventLog.from_pandas(frame(["2024-05-01"], acts=["a\u00a0b"])).activities == ["a\u00a0b"]


def test_text_rules_are_the_same_on_the_arrow_and_the_sql_path():
    df = frame(["2024-05-01"] * 4, customers=[NFD, f"\u00a0{NFC}", "b\t", "b"],
               acts=[f"{NFD}\u3000", "x", "\ty", "y"])
    fast = EventLog.from_pandas(df, drop_duplicates=False)
    parsed = EventLog.from_pandas(df, drop_duplicates=False, tz="Asia/Jakarta")  # DuckDB SQL
    assert fast.table.select(["customer_id", "activity"]).equals(
        parsed.table.select(["customer_id", "activity"]))
    assert fast.table.column("customer_id").to_pylist() == ["b", "b", NFC, NFC]
