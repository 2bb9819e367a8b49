"""Hostile inputs: each is refused with a specific JourneymineError or treated as documented.

Every case checks the exception class, that the message names the problem,
that the input (DataFrame or file) is left untouched and, where data used to
be lost silently, that no partial log comes back.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeymine as jm
from journeymine import EventLog
from journeymine.eventlog._readers import read_csv
from journeymine.exceptions import (
    DataQualityWarning,
    EncodingError,
    InvalidParameterError,
    ReadError,
    SchemaError,
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


_EDGE_CHARS = st.sampled_from(["a", "Z", "0", "-", " ", "\t", "\n", "\x1f", "\xa0", "\u3000",
                                "é", "e\u0301", "ß", "\u200b", "\x85"])


@given(st.lists(st.one_of(st.none(), st.lists(_EDGE_CHARS, max_size=5).map("".join)),
                min_size=1, max_size=40), st.integers(0, 3))
@settings(max_examples=300, deadline=None)
def test_clean_text_is_strip_nfc_and_blank_as_null(values, cut):
    from journeymine.eventlog._validate import _clean_text

    # chunked and sliced like a reader's output: offsets that do not start at zero
    array = pa.chunked_array([pa.array(values[:cut], pa.string()),
                              pa.array(["x", *values[cut:]], pa.string()).slice(1)])
    expected = [None if v is None or not unicodedata.normalize("NFC", v).strip()
                else unicodedata.normalize("NFC", v).strip() for v in values]
    assert [v if v else None for v in _clean_text(array).to_pylist()] == \
        [v if v else None for v in expected]


def test_clean_ascii_text_is_not_copied():
    from journeymine.eventlog._validate import _clean_text

    values = pa.chunked_array([pa.array(["c1", "c2", None, "checkout"])])
    assert _clean_text(values) is values


def test_text_rules_are_the_same_on_the_arrow_and_the_sql_path():
    df = frame(["2024-05-01"] * 4, customers=[NFD, f"\u00a0{NFC}", "b\t", "b"],
               acts=[f"{NFD}\u3000", "x", "\ty", "y"])
    fast = EventLog.from_pandas(df, drop_duplicates=False)
    parsed = EventLog.from_pandas(df, drop_duplicates=False, tz="Asia/Jakarta")  # DuckDB SQL
    assert fast.table.select(["customer_id", "activity"]).equals(
        parsed.table.select(["customer_id", "activity"]))
    assert fast.table.column("customer_id").to_pylist() == ["b", "b", NFC, NFC]


# ---------------------------------------------------------------- gzip
def events_csv(n: int = 50_000) -> bytes:
    rows = [f"C{i % 7919:05d},tp_{i % 13},2024-05-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00"
            for i in range(n)]
    return ("customer_id,touchpoint,ts\n" + "\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def gz_bytes() -> bytes:
    return gzip.compress(events_csv(), mtime=0)


# Before: 0.75 returned 36,619 of 50,000 events without a word; 0.1/0.25 "not utf-8",
# 0.5 a TimestampError, 0.99 "check the separator", cp1252 a raw "OSError: Truncated ...".
@pytest.mark.parametrize("cut", [0.5, 0.1, 0.25, 0.75, 0.99])
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_truncated_gzip_is_refused_not_read_in_part(tmp_path, gz_bytes, cut, encoding):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gz_bytes[: int(len(gz_bytes) * cut)])
    refuse_file(path, ReadError, r"truncated.*only part of the events", encoding=encoding)


def test_gzip_without_its_trailer_is_truncated(tmp_path, gz_bytes):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gz_bytes[:-4])  # the length is missing, the CRC is there
    refuse_file(path, ReadError, r"truncated")


def test_corrupt_gzip_is_refused(tmp_path, gz_bytes):
    damaged = bytearray(gz_bytes)
    damaged[-8] ^= 0xFF  # the CRC no longer matches the data
    path = tmp_path / "events.csv.gz"
    path.write_bytes(bytes(damaged))
    refuse_file(path, ReadError, r"corrupt")


def test_a_truncated_file_in_a_glob_is_refused(tmp_path, gz_bytes):
    (tmp_path / "a.csv.gz").write_bytes(gz_bytes)
    (tmp_path / "b.csv.gz").write_bytes(gz_bytes[: len(gz_bytes) // 2])
    with pytest.raises(ReadError, match=r"b\.csv\.gz' is truncated"):
        read_csv(str(tmp_path / "*.csv.gz"))


def test_complete_and_multi_member_gzip_read_every_event(tmp_path, gz_bytes):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gz_bytes)
    assert read_csv(path).validation["rows_in"] == 50_000
    lines = events_csv(10).splitlines(keepends=True)
    path.write_bytes(gzip.compress(b"".join(lines[:4])) + gzip.compress(b"".join(lines[4:])))
    assert read_csv(path).validation["rows_in"] == 10


# ---------------------------------------------------------------- header and rows
def test_duplicate_csv_header_is_a_schema_error_like_for_a_dataframe(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("customer_id,touchpoint,touchpoint,ts\na,x,y,2024-05-01\n")
    refuse_file(path, SchemaError, r"duplicate column names in its header: \['touchpoint'\]")
    path.write_text("customer_id;Ts;touchpoint;ts\na;2024-05-01;x;2024-05-02\n")  # DuckDB: ts_1
    refuse_file(path, SchemaError, r"duplicate column names.*'Ts', 'ts'")
    df = pd.DataFrame([["a", "x", "y", "2024-05-01"]],
                      columns=["customer_id", "touchpoint", "touchpoint", "ts"])
    refuse(df, SchemaError, r"duplicate column names: \['touchpoint'\]")


def test_duplicate_header_in_the_pyarrow_reader(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_bytes("customer_id,touchpoint,touchpoint,ts\na,caf\u00e9,y,2024-05-01\n"
                     .encode("cp1252"))
    refuse_file(path, SchemaError, r"duplicate column names.*'touchpoint'", encoding="cp1252")


def test_a_real_name_like_a_renamed_duplicate_is_kept(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("customer_id,touchpoint,touchpoint_1,ts\na,x,y,2024-05-01\n")
    log = read_csv(path)
    assert log.table.column("touchpoint_1").to_pylist() == ["y"]


RAGGED = "customer_id,touchpoint,ts\na,x,2024-05-01\nb,y,2024-05-02,extra,more\nc,z\n"


@pytest.mark.parametrize("kwargs", [{}, {"sep": ","}, {"encoding": "cp1252"}])
def test_ragged_rows_are_named_not_taken_for_a_missing_column(tmp_path, kwargs):
    path = tmp_path / "ragged.csv"
    path.write_text(RAGGED)
    info = refuse_file(path, ReadError, r"different number of fields than its header: "
                                        r"line 3 has 5 field\(s\), the header has 3", **kwargs)
    assert "No customer column" not in str(info.value)


def test_a_ragged_row_after_the_sniffed_sample_is_named(tmp_path):
    rows = ["customer_id,touchpoint,ts"] + [f"c{i},x,2024-05-01" for i in range(60_000)]
    rows[50_000] += ",extra"
    path = tmp_path / "late.csv"
    path.write_text("\n".join(rows) + "\n")
    refuse_file(path, ReadError, r"line 50001 has 4 field\(s\), the header has 3")


# ---------------------------------------------------------------- encodings
CP1252 = ("customer_id,touchpoint,ts\na,caf\u00e9 \u20ac5,2024-05-01\n"
          "b,\u201cpromo\u201d,2024-05-02\n")


def test_cp1252_read_as_latin1_says_cp1252_not_separator(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(CP1252.encode("cp1252"))
    info = refuse_file(path, EncodingError, r"not latin-1 text \(byte 0x80 on line 2\)",
                       encoding="latin-1")
    assert 'encoding="cp1252"' in str(info.value) and "separator" not in str(info.value)
    assert read_csv(path, encoding="cp1252").activities == ["caf\u00e9 \u20ac5",
                                                            "\u201cpromo\u201d"]


def test_bytes_cp1252_does_not_define(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(CP1252.encode("cp1252") + b"c,x\x9d,2024-05-03\n")
    refuse_file(path, EncodingError, r"not cp1252 text.*0x9D is not a cp1252 character.*utf-8",
                encoding="cp1252")


UTF16 = "customer_id,touchpoint,ts\na,x,2024-05-01\nb,y,2024-05-02\n"


@pytest.mark.parametrize(("data", "suggestion"), [
    (UTF16.encode("utf-16-be"), "utf-16-be"),               # no BOM: was mojibake columns
    (UTF16.encode("utf-16-le"), "utf-16"),
    (UTF16.encode("utf-16"), "utf-16"),                     # BOM: was a latin-1 suggestion
    (b"\xfe\xff" + UTF16.encode("utf-16-be"), "utf-16"),
    (b"\xff\xfe" + "id_pelanggan,aktivitas,waktu\n".encode("utf-16-le"), "utf-16"),
    (UTF16.encode("utf-32"), "utf-32"),
])
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "cp1252"])
def test_utf16_read_as_something_else_suggests_utf16(tmp_path, data, suggestion, encoding):
    path = tmp_path / "wide.csv"
    path.write_bytes(data)
    info = refuse_file(path, EncodingError, rf'Pass encoding="{suggestion}"', encoding=encoding)
    assert "latin-1\"" not in info.value.fix


def test_utf16_files_read_with_the_suggested_encoding(tmp_path):
    path = tmp_path / "wide.csv"
    for data, encoding in [(UTF16.encode("utf-16-be"), "utf-16-be"),
                           (UTF16.encode("utf-16-le"), "utf-16"),
                           (b"\xfe\xff" + UTF16.encode("utf-16-be"), "utf-16")]:
        path.write_bytes(data)
        assert read_csv(path, encoding=encoding).activities == ["x", "y"]
    path.write_bytes(UTF16.encode("utf-16-be"))
    refuse_file(path, EncodingError, r'big-endian.*Pass encoding="utf-16-be"', encoding="utf-16")


def test_utf8_read_as_utf16_suggests_utf8(tmp_path):
    path = tmp_path / "narrow.csv"
    path.write_text(UTF16)
    refuse_file(path, EncodingError, r'not utf-16 text.*Pass encoding="utf-8"',
                encoding="utf-16")
    # UTF-16 without NUL bytes (all CJK) is not taken for UTF-8
    path.write_bytes("顾客,活动,时间\n".encode("utf-16-le"))
    with pytest.raises(jm.JourneymineError) as info:
        read_csv(path, encoding="utf-16")
    assert "utf-8" not in str(info.value)


# ---------------------------------------------------------------- not files
def test_dev_null_is_not_a_regular_file_not_missing():
    info = refuse_file(os.devnull, ReadError, r"not a regular file but a character device")
    assert "always empty" in str(info.value) and "does not exist" not in str(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_named_pipe_is_not_a_regular_file(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    refuse_file(path, ReadError, r"named pipe")


def test_parquet_from_dev_null_is_not_a_regular_file():
    with pytest.raises(ReadError, match=r"not a regular file but a character device") as info:
        jm.read_parquet(os.devnull)
    assert "Parquet" not in str(info.value).split(".")[0]  # DuckDB's text is not passed on
    assert ".parquet file" in str(info.value)


# ---------------------------------------------------------------- separators
@pytest.mark.parametrize("given, actual", [(",", ";"), ("\t", ","), (";", "|"), ("|", "\t")])
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])  # the DuckDB and the pyarrow reader
def test_a_wrong_explicit_separator_names_the_one_the_header_holds(tmp_path, given, actual,
                                                                     encoding):
    path = tmp_path / "events.csv"
    lines = ["customer_id", "touchpoint", "ts"], ["c1", "ad", "2024-05-01 10:00"]
    path.write_text("".join(actual.join(row) + "\n" for row in lines), encoding=encoding)
    info = refuse_file(path, ReadError, r"separator sep=.* looks wrong", sep=given,
                       encoding=encoding)
    message = str(info.value)
    assert f"holds 2 {actual!r}" in message  # two separators in a three-column header
    assert f"Pass sep={actual!r}" in message and "No customer column" not in message
    assert read_csv(path, sep=actual, encoding=encoding).n_events == 1


def test_a_one_column_header_without_another_separator_is_not_blamed_on_sep(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("events\nc1\n", encoding="utf-8")
    with pytest.raises(jm.JourneymineError) as info:
        read_csv(path, sep=",")
    assert "separator" not in str(info.value).split(".")[0]


# ---------------------------------------------------------------- open files
def _write_logs(folder: Path) -> list[Path]:
    df = frame(["2024-05-01 10:00", "2024-05-01 10:05"])
    csv_gz, xes_gz = folder / "e.csv.gz", folder / "e.xes.gz"
    with gzip.open(csv_gz, "wt", encoding="utf-8") as f:
        df.to_csv(f, index=False)
    events = "".join(
        f'<event><string key="concept:name" value="{a}"/>'
        f'<date key="time:timestamp" value="{t.replace(" ", "T")}:00"/></event>'
        for a, t in zip(df["touchpoint"], df["ts"], strict=True))
    with gzip.open(xes_gz, "wt", encoding="utf-8") as f:
        f.write(f'<log><trace><string key="concept:name" value="a"/>{events}</trace></log>')
    return [csv_gz, xes_gz]


@pytest.mark.parametrize("reader", ["csv", "xes", "csv-cp1252"])
def test_gzip_readers_close_their_files(tmp_path, reader):
    import gc
    import warnings

    csv_gz, xes_gz = _write_logs(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        if reader == "xes":
            log = jm.read_xes(xes_gz)
        else:
            log = read_csv(csv_gz, encoding="cp1252" if reader == "csv-cp1252" else "utf-8")
        gc.collect()
    assert log.n_events == 2
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


# ---------------------------------------------------------------- parameters
def test_process_map_filter_min_customers_must_be_a_whole_number():
    pm = jm.discover(jm.datasets.make_journeys(50, random_state=0))
    for bad in ("x", 1.5, -1, True):
        with pytest.raises(InvalidParameterError, match=r"min_customers=.* is not a whole number"):
            pm.filter(min_customers=bad)
    # 0 keeps every edge; 1 too (every edge has at least one customer)
    assert len(pm.filter(min_customers=0).edges) == len(pm.filter(min_customers=1).edges) == \
        len(pm.edges)


def test_process_map_filter_share_must_be_a_number():
    pm = jm.discover(jm.datasets.make_journeys(50, random_state=0))
    for bad in ("x", [0.5], 0, 1.5):
        with pytest.raises(InvalidParameterError, match=r"paths=.* is out of range"):
            pm.filter(paths=bad)
    with pytest.raises(InvalidParameterError, match=r"edges=0.5 is out of range"):
        pm.filter(edges="0.5")


def test_an_unreadable_file_is_a_read_error(tmp_path, monkeypatch):
    path = tmp_path / "locked.csv"
    path.write_text(UTF16)
    real_open = open

    def denied(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", denied)
    refuse_file(path, ReadError, r"Could not read .*Permission denied")
