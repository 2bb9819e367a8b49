"""read_texts: column detection, UTC timestamps, empty texts, bad input, no mutation."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from journeymine.eventlog._texts import read_texts
from journeymine.exceptions import (
    ColumnNotFoundError,
    DataQualityWarning,
    EmptyLogError,
    ReadError,
    SchemaError,
    TimestampError,
)


@pytest.fixture
def raw() -> pd.DataFrame:
    return pd.DataFrame({
        "user_id": ["007", "008", "009", "010"],
        "waktu": ["2024-05-01 17:00+07:00", "2024-05-02 09:30", "2024-05-03 08:00Z",
                  "2024-05-04 12:00"],
        "ulasan": ["  Pengiriman lama bgt ", 5, None, "   "],
        "bintang": ["2", "5", "4", "x"],
        "touchpoint": ["delivery", None, "review", "review"],
        "lang": ["id", "id", "en", "id"],
    })


def test_detects_columns_converts_and_drops_empty_texts(raw):
    with pytest.warns(DataQualityWarning, match=r"Dropped 2 of 4 text\(s\)"):
        texts = read_texts(raw)
    assert list(texts.columns) == ["customer_id", "timestamp", "text", "touchpoint", "rating",
                                   "lang"]
    assert texts["customer_id"].tolist() == ["007", "008"]
    assert texts["text"].tolist() == ["Pengiriman lama bgt", "5"]  # trimmed; 5 -> "5"
    assert texts["timestamp"].tolist() == [pd.Timestamp("2024-05-01 10:00", tz="UTC"),
                                           pd.Timestamp("2024-05-02 09:30", tz="UTC")]
    assert texts["touchpoint"].tolist()[0] == "delivery"
    assert pd.isna(texts["touchpoint"].tolist()[1])
    assert texts["rating"].tolist() == [2.0, 5.0]


def test_input_dataframe_is_not_modified(raw):
    before = raw.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        read_texts(raw, tz="Asia/Jakarta")
    pd.testing.assert_frame_equal(raw, before)


def test_naive_timestamps_are_local_to_tz():
    df = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-05-01 07:00"], "text": ["ok"]})
    texts = read_texts(df, tz="Asia/Jakarta")
    assert texts["timestamp"][0] == pd.Timestamp("2024-05-01 00:00", tz="UTC")


def test_explicit_names_and_touchpoint_false():
    df = pd.DataFrame({"cust": ["a"], "when": ["2024-05-01"], "body": ["mantap"],
                       "touchpoint": ["review"]})
    with pytest.warns(DataQualityWarning, match=r"Dropped texts column\(s\) \['touchpoint'\]"):
        texts = read_texts(df, customer="cust", timestamp="when", text="body", touchpoint=False)
    assert "touchpoint" not in texts.columns  # not a role, and its name is reserved
    assert texts["text"].tolist() == ["mantap"]


def test_missing_named_text_column_suggests_the_closest():
    df = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-05-01"], "reveiw": ["x"]})
    with pytest.raises(ColumnNotFoundError, match=r"Did you mean 'reveiw'\?") as err:
        read_texts(df, text="review")
    assert "reveiw" in str(err.value.expected)


def test_undetected_text_column_lists_columns_and_suggests():
    df = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-05-01"], "komen": ["x"]})
    with pytest.raises(ColumnNotFoundError, match="No text column found") as err:
        read_texts(df)
    assert "Did you mean 'komen'?" in err.value.fix


def test_missing_customer_column_is_a_column_error():
    df = pd.DataFrame({"who": ["a"], "timestamp": ["2024-05-01"], "text": ["x"]})
    with pytest.raises(ColumnNotFoundError, match="customer"):
        read_texts(df)


def test_empty_inputs_raise_empty_log_error(tmp_path):
    with pytest.raises(EmptyLogError, match="no rows"):
        read_texts(pd.DataFrame({"customer_id": [], "timestamp": [], "text": []}))
    with pytest.raises(EmptyLogError, match="empty or null"):
        read_texts(pd.DataFrame({"customer_id": ["a", "b"], "timestamp": ["2024-01-01"] * 2,
                                 "text": ["", None]}))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(EmptyLogError, match="is empty"):
        read_texts(empty)
    header = tmp_path / "header.csv"
    header.write_text("customer_id,timestamp,text\n")
    with pytest.raises(EmptyLogError, match="no rows"):
        read_texts(header)


def test_bad_inputs(tmp_path):
    with pytest.raises(ReadError, match="does not exist"):
        read_texts(tmp_path / "nope.csv")
    with pytest.raises(SchemaError, match="got list"):
        read_texts(["a text"])
    dup = pd.DataFrame([["a", "2024-01-01", "x", "y"]],
                       columns=["customer_id", "timestamp", "text", "text"])
    with pytest.raises(SchemaError, match="duplicate column"):
        read_texts(dup, text="text")
    bad_ts = pd.DataFrame({"customer_id": ["a"], "timestamp": ["yesterday"], "text": ["x"]})
    with pytest.raises(TimestampError, match="yesterday"):
        read_texts(bad_ts)


def test_csv_keeps_leading_zero_ids_and_matches_parquet(tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text(
        "customer_id,timestamp,text,rating\n"
        "00123,2024-05-01T10:00:00+07:00,\"Mantap, pengiriman cepat 👍\",5\n"
        "00456,2024-05-02 09:00,Kecewa,1\n",
        encoding="utf-8",
    )
    from_csv = read_texts(path)
    assert from_csv["customer_id"].tolist() == ["00123", "00456"]
    assert from_csv["text"][0] == "Mantap, pengiriman cepat 👍"
    assert from_csv["timestamp"][0] == pd.Timestamp("2024-05-01 03:00", tz="UTC")
    parquet = tmp_path / "texts.parquet"
    from_csv.to_parquet(parquet)
    pd.testing.assert_frame_equal(read_texts(parquet), from_csv)


def test_cp1252_csv(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("customer_id,timestamp,text\na,2024-05-01,caf\xe9 \x93ok\x94\n"
                     .encode("latin-1"))
    assert read_texts(path, encoding="cp1252")["text"][0] == "café “ok”"
