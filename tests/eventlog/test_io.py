"""Readers: CSV (encodings, gzip, ids), Parquet, XES, SQL; errors leave no files behind."""

from __future__ import annotations

import datetime as dt
import gzip
import os

import duckdb
import pandas as pd
import pytest

from journeymine import EventLog, Schema
from journeymine.eventlog._readers import read_csv, read_parquet, read_sql, read_xes
from journeymine.exceptions import (
    ColumnNotFoundError,
    EmptyLogError,
    EncodingError,
    ReadError,
    SchemaError,
    TimestampError,
)

CSV = (
    "customer_id,touchpoint,ts,channel\n"
    "00123,iklan_instagram,2024-05-01 10:00,instagram\n"
    "00123,checkout,2024-05-01 10:30,web\n"
    "0456,iklan_instagram,2024-05-02 09:00,instagram\n"
)
LATIN = (
    "id_pelanggan;aktivitas;waktu;ulasan\n"
    "001;kunjungan_toko;2024-05-01 10:00;café enak\n"
    "001;pembayaran;2024-05-01 10:20;très bien\n"
)


def write(path, text: str, encoding: str = "utf-8"):
    data = text.encode(encoding)
    if str(path).endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- CSV
def test_read_csv_keeps_leading_zeros_and_detects_columns(tmp_path):
    log = read_csv(write(tmp_path / "e.csv", CSV))
    assert log.table.column("customer_id").to_pylist() == ["00123", "00123", "0456"]
    assert log.schema.describe() == "customer=customer_id, activity=touchpoint, timestamp=ts, " \
                                    "channel=channel"
    assert log.table.column("timestamp").to_pylist()[0] == dt.datetime(2024, 5, 1, 10)
    assert log.source == str(tmp_path / "e.csv")
    assert log.n_customers == 2


def test_read_csv_numeric_ids_are_text(tmp_path):
    text = "user_id,event,timestamp\n1,a,2024-05-01\n2,b,2024-05-01\n"
    log = read_csv(write(tmp_path / "e.csv", text))
    assert log.table.column("customer_id").to_pylist() == ["1", "2"]


def test_read_csv_gz_equals_plain(tmp_path):
    plain = read_csv(write(tmp_path / "e.csv", CSV))
    gz = read_csv(write(tmp_path / "e.csv.gz", CSV))
    assert gz.table.equals(plain.table)


def test_read_csv_separator_detected_and_given(tmp_path):
    semi = CSV.replace(",", ";")
    assert read_csv(write(tmp_path / "s.csv", semi)).n_events == 3
    assert read_csv(write(tmp_path / "t.csv", CSV.replace(",", "\t")), sep="\t").n_events == 3


def test_read_csv_passes_options_to_eventlog(tmp_path):
    path = write(tmp_path / "e.csv", "who,what,when\na,x,01/05/2024 10:00\na,y,02/05/2024 10:00\n")
    log = read_csv(path, Schema(customer="who"), activity="what", timestamp="when",
                   timestamp_format="%d/%m/%Y %H:%M", tz="Asia/Jakarta")
    assert log.table.column("timestamp").to_pylist() == [dt.datetime(2024, 5, 1, 3),
                                                        dt.datetime(2024, 5, 2, 3)]


def test_read_csv_day_first_dates_need_a_format(tmp_path):
    # 01/05 is ambiguous; DuckDB's sniffer must not silently pick month-first
    path = write(tmp_path / "e.csv", "customer_id,touchpoint,ts\na,x,01/05/2024 10:00\n")
    with pytest.raises(TimestampError, match="01/05/2024 10:00"):
        read_csv(path)


def test_read_csv_epoch_numbers(tmp_path):
    path = write(tmp_path / "e.csv", "customer_id,touchpoint,ts\na,x,1714532400000\n")
    assert read_csv(path).table.column("timestamp").to_pylist() == [dt.datetime(2024, 5, 1, 3)]


def test_read_csv_offsets(tmp_path):
    path = write(tmp_path / "e.csv",
                 "customer_id,touchpoint,ts\na,x,2024-05-01T10:00:00+07:00\na,y,2024-05-01T04:00:00Z\n")
    assert read_csv(path).table.column("timestamp").to_pylist() == [
        dt.datetime(2024, 5, 1, 3), dt.datetime(2024, 5, 1, 4)]


def test_read_csv_naive_iso_timestamps_take_tz(tmp_path):
    # read natively as TIMESTAMPTZ in the session time zone: naive = local, offsets honoured
    path = write(tmp_path / "e.csv", "customer_id,touchpoint,ts\n"
                 "a,x,2024-05-01 10:00:00\na,y,2024-05-01 12:30:00.250\n")
    log = read_csv(path, tz="Asia/Jakarta")
    assert log.table.column("timestamp").to_pylist() == [
        dt.datetime(2024, 5, 1, 3), dt.datetime(2024, 5, 1, 5, 30, 0, 250000)]
    assert read_csv(path).table.column("timestamp").to_pylist()[0] == dt.datetime(2024, 5, 1, 10)


def test_read_csv_bad_timestamp_after_the_sniffed_rows_is_named(tmp_path):
    rows = "".join(f"c{i},x,2024-05-01 10:00:{i % 60:02d}\n" for i in range(25_000))
    path = write(tmp_path / "e.csv", "customer_id,touchpoint,ts\n" + rows + "c,x,31/12/2024\n")
    with pytest.raises(TimestampError, match="31/12/2024"):
        read_csv(path)


def test_read_csv_quoted_value_after_the_sniffed_rows_is_one_field(tmp_path):
    rows = "".join(f"c{i},x,2024-05-01 10:00:{i % 60:02d}\n" for i in range(25_000))
    path = write(tmp_path / "e.csv", "customer_id,touchpoint,ts\n" + rows
                 + 'z,"cart, mobile",2024-05-02 10:00:00\n')
    t = read_csv(path).to_pandas().set_index("customer_id")
    assert t.loc["z", "activity"] == "cart, mobile"


def test_read_csv_offsets_and_zones_after_the_sniffed_rows(tmp_path):
    """Naive rows fill the sniffer's sample; the later offset and zone are honoured."""
    rows = "".join(f"c{i},x,2024-05-01 10:00:00\n" for i in range(25_000))
    path = write(tmp_path / "e.csv", "customer_id,touchpoint,ts\n" + rows
                 + "minus,x,2024-05-01 10:00:00-05:00\nzone,x,2024-05-01 10:00:00 UTC\n"
                 + "zulu,x,2024-05-01T10:00:00Z\n")
    t = read_csv(path).to_pandas().set_index("customer_id")["timestamp"]
    assert t["minus"] == pd.Timestamp("2024-05-01 15:00", tz="UTC")
    assert t["zone"] == t["zulu"] == t["c0"] == pd.Timestamp("2024-05-01 10:00", tz="UTC")
    local = read_csv(path, tz="Asia/Jakarta").to_pandas().set_index("customer_id")["timestamp"]
    assert local["minus"] == pd.Timestamp("2024-05-01 15:00", tz="UTC")
    assert local["c0"] == pd.Timestamp("2024-05-01 03:00", tz="UTC")


def test_read_csv_offsets_after_naive_rows_are_honoured(tmp_path):
    rows = "".join(f"c{i},x,2024-05-01 10:00:00\n" for i in range(3000))
    path = write(tmp_path / "e.csv", "customer_id,touchpoint,ts\n" + rows
                 + "z,x,2024-05-01 10:00:00+07:00\n")
    t = read_csv(path).to_pandas().set_index("customer_id")["timestamp"]
    assert t["z"] == pd.Timestamp("2024-05-01 03:00", tz="UTC")
    assert t["c0"] == pd.Timestamp("2024-05-01 10:00", tz="UTC")


def test_read_csv_late_type_change_is_handled(tmp_path, caplog):
    # DuckDB sniffs types from the first ~20k rows; "note" looks numeric until the last row
    rows = "".join(f"c{i},x,2024-05-01 10:00,{i}\n" for i in range(25_000))
    text = "customer_id,touchpoint,ts,note\n" + rows + "c,x,2024-05-02,n/a\n"
    path = write(tmp_path / "e.csv", text)
    with caplog.at_level("INFO", logger="journeymine.eventlog._readers"):
        log = read_csv(path)
    assert "Re-reading" in caplog.text
    assert log.n_events == 25_001
    assert "n/a" in log.table.column("note").to_pylist()


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_read_csv_non_utf8_raises_encoding_error(tmp_path, encoding):
    path = write(tmp_path / "toko.csv", LATIN, encoding)
    with pytest.raises(EncodingError, match=r"toko\.csv") as err:
        read_csv(path)
    assert 'encoding="latin-1"' in str(err.value)
    assert isinstance(err.value, UnicodeError)


@pytest.mark.parametrize("encoding", ["latin-1", "ISO-8859-1", "cp1252"])
def test_read_csv_with_encoding(tmp_path, encoding):
    path = write(tmp_path / "toko.csv", LATIN, "latin-1")
    log = read_csv(path, encoding=encoding)
    assert log.table.column("text").to_pylist() == ["café enak", "très bien"]
    assert log.table.column("customer_id").to_pylist() == ["001", "001"]
    assert log.schema.describe() == "customer=id_pelanggan, activity=aktivitas, timestamp=waktu, " \
                                    "text=ulasan"


def test_read_csv_cp1252_smart_quotes(tmp_path):
    text = "customer_id,touchpoint,ts,text\na,ulasan,2024-05-01,“mantap” – €5\n"
    path = write(tmp_path / "excel.csv.gz", text, "cp1252")
    assert read_csv(path, encoding="cp1252").table.column("text").to_pylist() == ["“mantap” – €5"]


def test_read_csv_utf16(tmp_path):
    path = write(tmp_path / "u16.csv", CSV, "utf-16")
    assert read_csv(path, encoding="utf-16").n_events == 3


def test_read_csv_unknown_encoding(tmp_path):
    with pytest.raises(EncodingError, match="Unknown text encoding 'klingon'"):
        read_csv(write(tmp_path / "e.csv", CSV), encoding="klingon")


def test_read_csv_missing_file(tmp_path):
    with pytest.raises(ReadError, match=r"nope\.csv") as err:
        read_csv(tmp_path / "nope.csv")
    assert isinstance(err.value, OSError)
    assert "does not exist" in str(err.value)


def test_read_csv_directory(tmp_path):
    with pytest.raises(ReadError, match="is a directory"):
        read_csv(tmp_path)


@pytest.mark.parametrize(("content", "message"), [("", "is empty"),
                                                  ("customer_id,touchpoint,ts\n", "no events")])
def test_read_csv_empty(tmp_path, content, message):
    with pytest.raises(EmptyLogError, match=message) as err:
        read_csv(write(tmp_path / "e.csv", content))
    assert "e.csv" in str(err.value)


def test_read_csv_misspelt_column(tmp_path):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'customer_id'"):
        read_csv(write(tmp_path / "e.csv", CSV), customer="customr_id")


def test_read_csv_does_not_accept_a_bad_schema(tmp_path):
    with pytest.raises(SchemaError, match="schema must be a journeymine Schema"):
        read_csv(write(tmp_path / "e.csv", CSV), {"customer": "customer_id"})
    frame = pd.DataFrame({"customer_id": ["a"], "activity": ["x"], "timestamp": ["2024-01-01"]})
    with pytest.raises(SchemaError, match="schema must be a journeymine Schema"):
        EventLog.from_pandas(frame, {"customer": "customer_id"})


def _failing_reads(tmp_path):
    write(tmp_path / "latin.csv", LATIN, "latin-1")
    write(tmp_path / "empty.csv", "")
    write(tmp_path / "broken.xes", "<log><trace><event>")
    write(tmp_path / "bad.parquet", "not parquet")
    return [
        (EncodingError, lambda: read_csv(tmp_path / "latin.csv")),
        (EmptyLogError, lambda: read_csv(tmp_path / "empty.csv")),
        (ReadError, lambda: read_csv(tmp_path / "missing.csv")),
        (ReadError, lambda: read_xes(tmp_path / "broken.xes")),
        (ReadError, lambda: read_parquet(tmp_path / "bad.parquet")),
        (ReadError, lambda: read_parquet(tmp_path / "missing.parquet")),
        (ReadError, lambda: read_sql("SELECT * FROM no_such_table")),
    ]


def test_failing_reads_leave_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    reads = _failing_reads(tmp_path)
    before = sorted(os.listdir(tmp_path))
    for error, call in reads:
        with pytest.raises(error):
            call()
    assert sorted(os.listdir(tmp_path)) == before


# ---------------------------------------------------------------- Parquet
def _events_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "user_id": ["00123", "00123", "0456"],
        "event": ["iklan_instagram", "checkout", "iklan_instagram"],
        "timestamp": pd.to_datetime(["2024-05-01 10:00", "2024-05-01 10:30", "2024-05-02 09:00"]),
    })


def test_read_parquet_file_dir_and_glob(tmp_path):
    df = _events_frame()
    df.to_parquet(tmp_path / "one.parquet")
    one = read_parquet(tmp_path / "one.parquet")
    assert one.n_events == 3 and one.table.column("customer_id").to_pylist()[2] == "0456"
    parts = tmp_path / "parts"
    parts.mkdir()
    df.iloc[:2].to_parquet(parts / "a.parquet")
    df.iloc[2:].to_parquet(parts / "b.parquet")
    from_dir = read_parquet(parts)
    assert from_dir.table.select(["customer_id", "activity", "timestamp"]).equals(
        one.table.select(["customer_id", "activity", "timestamp"]))
    assert read_parquet(str(parts / "*.parquet")).n_events == 3


def test_read_parquet_errors(tmp_path):
    with pytest.raises(ReadError, match="does not exist"):
        read_parquet(tmp_path / "x.parquet")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(ReadError, match="No Parquet files found"):
        read_parquet(empty_dir)
    _events_frame().iloc[:0].to_parquet(tmp_path / "zero.parquet")
    with pytest.raises(EmptyLogError, match=r"zero\.parquet"):
        read_parquet(tmp_path / "zero.parquet")
    write(tmp_path / "fake.parquet", CSV)
    with pytest.raises(ReadError, match="as Parquet"):
        read_parquet(tmp_path / "fake.parquet")


def test_read_parquet_data_damaged_after_the_footer_is_a_read_error(tmp_path):
    # The footer is whole, so the file opens; the damage is met while streaming the rows.
    n = 200_000
    pd.DataFrame({"customer_id": [f"c{i % 5000}" for i in range(n)],
                  "activity": [f"t{i % 7}" for i in range(n)],
                  "timestamp": pd.date_range("2024-01-01", periods=n, freq="s")},
                 ).to_parquet(tmp_path / "events.parquet", row_group_size=50_000)
    data = bytearray((tmp_path / "events.parquet").read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 2000):
        data[i] ^= 0x5A
    (tmp_path / "events.parquet").write_bytes(bytes(data))
    with pytest.raises(ReadError, match=r"as Parquet: .*decompression"):
        read_parquet(tmp_path / "events.parquet")


# ---------------------------------------------------------------- SQL
def test_read_sql_reads_files_with_a_new_connection(tmp_path, monkeypatch):
    _events_frame().to_parquet(tmp_path / "events.parquet")
    monkeypatch.chdir(tmp_path)
    log = read_sql("SELECT * FROM 'events.parquet' WHERE event <> 'checkout'")
    assert log.n_events == 2 and log.activities == ["iklan_instagram"]
    assert log.source == "sql"


def test_read_sql_on_a_given_connection():
    con = duckdb.connect()
    con.execute("CREATE TABLE ev AS SELECT * FROM (VALUES ('a', 'x', TIMESTAMP '2024-05-01'), "
                "('b', 'y', TIMESTAMP '2024-05-02')) t(customer_id, touchpoint, ts)")
    assert read_sql("SELECT * FROM ev", con).n_customers == 2
    assert con.execute("SELECT count(*) FROM ev").fetchone() == (2,)  # still open and usable


def test_read_sql_errors():
    with pytest.raises(ReadError, match="The query failed"):
        read_sql("SELEC nonsense")
    with pytest.raises(EmptyLogError, match="no rows"):
        read_sql("SELECT 'a' AS customer_id, 'x' AS touchpoint, now() AS ts WHERE false")
    with pytest.raises(SchemaError, match="non-empty SQL string"):
        read_sql("   ")
    with pytest.raises(SchemaError, match="DuckDB connection or an Ibis backend"):
        read_sql("SELECT 1", con="duckdb")


# ---------------------------------------------------------------- XES
XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event"><string key="concept:name" value="__INVALID__"/></global>
  <string key="concept:name" value="toko online"/>
  <trace>
    <string key="concept:name" value="00123"/>
    <string key="segment" value="baru"/>
    <event>
      <string key="concept:name" value="iklan_instagram"/>
      <date key="time:timestamp" value="2024-05-01T10:00:00.000+07:00"/>
      <string key="org:resource" value="instagram"/>
      <int key="qty" value="1"/>
    </event>
    <event>
      <string key="concept:name" value="checkout"/>
      <date key="time:timestamp" value="2024-05-01T10:30:00.000+07:00"/>
      <float key="amount" value="150000.5"/>
      <boolean key="promo" value="true"/>
      <list key="items"><values><string key="item" value="kopi"/></values></list>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="c2"/>
    <int key="age" value="31"/>
    <event>
      <string key="concept:name" value="ulasan_produk"/>
      <date key="time:timestamp" value="2024-05-03T01:00:00Z"/>
      <int key="qty" value="2"/>
      <boolean key="promo" value="false"/>
    </event>
  </trace>
</log>
"""


@pytest.mark.parametrize("name", ["log.xes", "log.xes.gz"])
def test_read_xes(tmp_path, name):
    log = read_xes(write(tmp_path / name, XES))
    assert (log.n_events, log.n_customers) == (3, 2)
    assert log.schema.describe() == (
        "customer=case:concept:name, activity=concept:name, timestamp=time:timestamp, "
        "revenue=amount")
    df = log.to_pandas()
    assert df["customer_id"].tolist() == ["00123", "00123", "c2"]
    assert df["activity"].tolist() == ["iklan_instagram", "checkout", "ulasan_produk"]
    assert log.table.column("timestamp").to_pylist() == [
        dt.datetime(2024, 5, 1, 3), dt.datetime(2024, 5, 1, 3, 30), dt.datetime(2024, 5, 3, 1)]
    assert log.table.column("case:segment").to_pylist() == ["baru", "baru", None]
    assert log.table.column("case:age").to_pylist() == [None, None, 31]
    assert df["org:resource"].tolist()[0] == "instagram"
    assert log.table.column("qty").to_pylist() == [1, None, 2]
    assert log.table.column("revenue").to_pylist()[1] == 150000.5
    assert log.table.column("promo").to_pylist() == [None, True, False]
    assert "items" not in df.columns and "item" not in df.columns  # nested attributes skipped
    assert "case:item" not in df.columns


def test_read_xes_naive_dates_take_tz(tmp_path):
    xes = XES.replace(".000+07:00", "").replace("Z", "")
    log = read_xes(write(tmp_path / "n.xes", xes), tz="Asia/Jakarta")
    assert log.table.column("timestamp").to_pylist()[0] == dt.datetime(2024, 5, 1, 3)


def test_read_xes_nanosecond_dates(tmp_path):
    xes = XES.replace("2024-05-03T01:00:00Z", "2024-05-03T01:00:00.123456789Z")
    log = read_xes(write(tmp_path / "ns.xes", xes))
    assert log.table.column("timestamp").to_pylist()[2] == dt.datetime(2024, 5, 3, 1, 0, 0, 123456)


def test_read_xes_mixed_attribute_types_become_text(tmp_path):
    xes = XES.replace('<int key="qty" value="2"/>', '<string key="qty" value="dua"/>')
    log = read_xes(write(tmp_path / "m.xes", xes))
    assert log.table.column("qty").to_pylist() == ["1", None, "dua"]


def test_read_xes_errors(tmp_path):
    with pytest.raises(ReadError, match="does not exist"):
        read_xes(tmp_path / "nope.xes")
    with pytest.raises(ReadError, match="not well-formed XML"):
        read_xes(write(tmp_path / "cut.xes", XES[: len(XES) // 2]))
    with pytest.raises(ReadError, match="not well-formed XML"):
        read_xes(write(tmp_path / "csv.xes", CSV))
    with pytest.raises(ReadError, match="cannot be decompressed"):
        read_xes(_truncated_gz(tmp_path))
    with pytest.raises(ReadError, match="'soon', which is not a date"):
        read_xes(write(tmp_path / "d.xes", XES.replace("2024-05-03T01:00:00Z", "soon")))
    with pytest.raises(EmptyLogError, match="no events"):
        read_xes(write(tmp_path / "e.xes", '<log xes.version="1.0"><trace/></log>'))


def _truncated_gz(tmp_path):
    path = tmp_path / "t.xes.gz"
    path.write_bytes(gzip.compress(XES.encode())[:60])
    return path


def test_read_xes_matches_pm4py(tmp_path):
    pm4py = pytest.importorskip("pm4py")
    path = write(tmp_path / "log.xes", XES)
    df = pm4py.read_xes(str(path))
    log = read_xes(path)
    assert len(df) == log.n_events
    assert df["case:concept:name"].nunique() == log.n_customers
    assert sorted(df["concept:name"]) == sorted(log.table.column("activity").to_pylist())


ISO_CASES = {
    "2024-05-01 10:00:00": dt.datetime(2024, 5, 1, 10),
    "2024-05-01T10:00:00Z": dt.datetime(2024, 5, 1, 10),
    "2024-05-01 10:00:00+07:00": dt.datetime(2024, 5, 1, 3),
    "2024-05-01 10:00:00-05": dt.datetime(2024, 5, 1, 15),
    "2024-05-01 10:00:00 UTC": dt.datetime(2024, 5, 1, 10),
    "2024-05-01 10:00:00 Asia/Jakarta": dt.datetime(2024, 5, 1, 3),
    " 2024-05-01 10:00:00-05": dt.datetime(2024, 5, 1, 15),
    "2024-05-01": dt.datetime(2024, 5, 1),
    "infinity": None, "epoch": None, "": None, "é2024-05-01": None, "31/12/2024": None,
}


def test_iso_sql_honours_offsets_and_nulls_words():
    """The UTC parse of read_csv: offsets and zones honoured, words and non-digits null."""
    from journeymine.eventlog._csv import _iso_sql

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    values = pd.DataFrame({"ts": list(ISO_CASES)})  # noqa: F841 - scanned by DuckDB
    got = con.execute(f"SELECT {_iso_sql('ts', True)} FROM values").fetchall()
    assert [g[0] for g in got] == list(ISO_CASES.values())
