"""Discovery on Spark (local[2]): jm.read_spark and the Ibis queries on the PySpark backend.

One Spark session serves the module and the logs are small: Spark's cost here
is per job, not per event. ``discover`` on a read_spark log must give the
DuckDB process map while only aggregated results reach the driver.
"""

import shutil
import warnings

import pandas as pd
import pytest

import journeymine as jm
from journeymine.exceptions import (
    BackendError,
    ColumnNotFoundError,
    DataQualityWarning,
    SchemaError,
    TimestampError,
)

pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover - every project machine has Java 17
    pytest.skip("PySpark needs a Java runtime", allow_module_level=True)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def log():
    return jm.datasets.make_journeys(300, random_state=3)


class Collected:
    """Records the size of every result Spark hands to the driver."""

    def __init__(self, monkeypatch, spark):
        frame = type(spark.range(1))  # pyspark.sql.classic.dataframe.DataFrame on Spark 4
        self.rows: list[tuple[int, tuple[str, ...]]] = []
        for name in ("toPandas", "collect", "toArrow"):
            original = getattr(frame, name)

            def wrapper(df, *args, _original=original, **kwargs):
                out = _original(df, *args, **kwargs)
                self.rows.append((len(out) if not hasattr(out, "num_rows") else out.num_rows,
                                  tuple(df.columns)))
                return out

            monkeypatch.setattr(frame, name, wrapper)


def events_frame(log):
    return log.to_pandas().drop(columns="event_index")


@pytest.fixture(scope="module")
def on_spark(spark, log):
    """read_spark + discover of ``log``, with every result that reached the driver."""
    with pytest.MonkeyPatch.context() as mp:
        collected = Collected(mp, spark)
        events = spark.createDataFrame(events_frame(log))
        spark_log = jm.read_spark(events)
        pm = jm.discover(spark_log)
    return spark_log, pm, collected.rows


def test_read_spark_and_duckdb_give_the_same_process_map(on_spark, log):
    spark_log, on_spark, _ = on_spark
    on_duckdb = jm.discover(log)
    assert isinstance(on_spark, jm.ProcessMap)
    assert (spark_log.n_events, spark_log.n_customers) == (log.n_events, log.n_customers)
    assert spark_log.activities == log.activities and spark_log.time_range() == log.time_range()
    key = ["source", "target"]
    exact = ["source", "target", "count", "customers", "mean_seconds"]
    spark_edges = on_spark.edges[exact].sort_values(key).reset_index(drop=True)
    duck_edges = on_duckdb.edges[exact].sort_values(key).reset_index(drop=True)
    assert spark_edges["count"].sum() == log.n_events - log.n_customers
    counts = [*key, "count", "customers"]
    assert spark_edges[counts].equals(duck_edges[counts])
    assert (spark_edges["mean_seconds"] - duck_edges["mean_seconds"]).abs().max() < 1e-6
    assert on_spark.start == on_duckdb.start and on_spark.end == on_duckdb.end
    assert dict(zip(on_spark.variants.variant, on_spark.variants.customers, strict=True)) == \
        dict(zip(on_duckdb.variants.variant, on_duckdb.variants.customers, strict=True))
    assert on_spark.funnel[["stage", "reached", "visited"]].equals(
        on_duckdb.funnel[["stage", "reached", "visited"]])
    assert on_spark.dropoffs["lost_customers"].sum() == on_duckdb.dropoffs["lost_customers"].sum()
    assert on_spark.summary["converted"] == on_duckdb.summary["converted"]
    gap_key = ["from_channel", "to_channel"]
    gap_counts = [*gap_key, "switches", "journeys", "converted_after", "ended_at_switch"]
    assert on_spark.channel_gaps[gap_counts].sort_values(gap_key, ignore_index=True).equals(
        on_duckdb.channel_gaps[gap_counts].sort_values(gap_key, ignore_index=True))
    assert on_spark.conversion == on_duckdb.conversion  # from revenue, counted by Spark
    assert on_spark.stages.mapping == on_duckdb.stages.mapping  # from the stage column
    # An in-memory log still goes to Spark as a view (discover(log, con=spark_backend)).
    assert log.to_ibis(spark_log.backend).count().execute() == log.n_events


def test_only_aggregates_reach_the_driver(on_spark, log):
    spark_log, _, collected = on_spark
    assert collected, "the recorder saw no Spark results"
    # The largest legitimate result is one row per variant (<= customers); the
    # events (2,802 rows, 9 per customer on average) never come back.
    assert max(rows for rows, _ in collected) <= log.n_customers
    assert not any("event_index" in columns for _, columns in collected)
    with pytest.raises(BackendError, match="stay in Spark"):
        spark_log.table  # noqa: B018 - the in-memory table does not exist
    with pytest.raises(BackendError, match="grain"):
        jm.discover(spark_log, grain="session")


def test_read_spark_validates_like_from_pandas(spark):
    # Hand-made mess: c1's name with a no-break space, "café" typed NFC and NFD,
    # an exact duplicate, a null activity, ISO strings with and without offsets
    # (naive ones in Jakarta time, UTC+7), Indonesian stage names. Expected: 5 rows
    # in, 1 null and 1 duplicate dropped; café is a consideration touchpoint,
    # checkout a purchase one.
    df = pd.DataFrame({
        "user_id": ["c1\u00a0", "c1", "c1", "c2", "c2"],
        "event": ["cafe\u0301", "café", "café", None, "checkout"],
        "ts": ["2024-05-01 10:00:00", "2024-05-01T02:05:00+00:00", "2024-05-01T02:05:00+00:00",
               "2024-05-02 09:00:00", " 2024-05-02 09:40:00 "],
        "tahap": ["pertimbangan", "pertimbangan", "pertimbangan", "keputusan", "pembelian"],
    })
    spark.createDataFrame(df).createOrReplaceTempView("jm_messy_events")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        on_spark = jm.read_spark("jm_messy_events", spark=spark, stage="tahap",
                                 tz="Asia/Jakarta")
        local = jm.EventLog.from_pandas(df, stage="tahap", tz="Asia/Jakarta")
    assert sum(issubclass(w.category, DataQualityWarning) for w in caught) == 4  # 2 each
    assert on_spark.source == "jm_messy_events"
    keys = ("rows_in", "dropped_nulls", "null_activity", "duplicates", "rows_out")
    assert [on_spark.validation[k] for k in keys] == [local.validation[k] for k in keys] == \
        [5, 1, 1, 1, 3]
    # In order (event_index counts within each customer on Spark, over the log in memory):
    # c1's 10:00 in Jakarta is 03:00 UTC, after the 02:05 UTC event; c2's 09:40 is 02:40.
    columns = ["customer_id", "activity", "timestamp", "stage"]
    rows = on_spark.to_pandas()[columns].to_dict("records")
    assert rows == local.to_pandas()[columns].to_dict("records")
    assert [(r["timestamp"].hour, r["timestamp"].minute) for r in rows] == [(2, 5), (3, 0),
                                                                              (2, 40)]
    assert on_spark.activities == ["café", "checkout"]
    assert on_spark.stage_map().mapping == local.stage_map().mapping == {
        "café": "consideration", "checkout": "purchase"}


def test_read_spark_bad_input_raises_specific_errors(spark):
    df = spark.createDataFrame(pd.DataFrame({
        "customer_id": ["a", "b"], "touchpoint": ["ad", "ad"], "ts": [1714550400, 1714550460],
        "when": ["2024-05-01", "01/05/2024 10:00"]}))
    with pytest.raises(ColumnNotFoundError, match=r"touchpoints.*touchpoint"):
        jm.read_spark(df, activity="touchpoints")
    with pytest.raises(TimestampError, match=r"Spark type bigint.*timestamp_seconds"):
        jm.read_spark(df)
    with pytest.raises(TimestampError, match=r"1 value\(s\).*01/05/2024 10:00"):
        jm.read_spark(df, timestamp="when")
    with pytest.raises(SchemaError, match="no table or view 'jm_nowhere'"):
        jm.read_spark("jm_nowhere", spark=spark)
    with pytest.raises(SchemaError, match="Spark DataFrame or a table name"):
        jm.read_spark(df.toPandas())
    with pytest.raises(SchemaError, match=r"duplicate column names: \['ts'\].*withColumnRenamed"):
        jm.read_spark(df.toDF("customer_id", "touchpoint", "ts", "ts"))
