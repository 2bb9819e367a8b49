"""The discovery queries run unchanged on Ibis' PySpark backend (local[2])."""

import shutil

import pytest

import journeymine as jm

pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover - every project machine has Java 17
    pytest.skip("PySpark needs a Java runtime", allow_module_level=True)


@pytest.fixture(scope="module")
def spark_con():
    import ibis
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield ibis.pyspark.connect(spark)
    spark.stop()


def test_spark_gives_the_same_process_map(spark_con):
    log = jm.datasets.make_journeys(300, random_state=3)
    on_spark = jm.discover(log, con=spark_con)
    on_duckdb = jm.discover(log)
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
