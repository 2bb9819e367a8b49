"""Journey report from a lake table, computed on a Spark cluster.

The events stay on the cluster: ``jm.read_spark`` validates them with Spark
jobs and ``jm.discover`` runs its queries as Spark SQL; only the aggregated
tables (edges, variants, funnel...) come back to the driver, which writes the
report. The executors run no Python, so journeymine is needed on the driver
only::

    spark-submit --master yarn --deploy-mode client \\
        --conf spark.sql.shuffle.partitions=400 \\
        examples/spark_report.py s3a://lake/web_events/ --out journey_report \\
        --customer user_pseudo_id --activity event_name --timestamp event_ts \\
        --since 2024-01-01

    # the same on one machine, on a Parquet file or folder:
    spark-submit --master "local[2]" examples/spark_report.py events.parquet --out out

``SOURCE`` is a Parquet path (a file or a folder of part files) or, with
``--table``, a table of the session's catalog (``lake.web_events``).
"""

from __future__ import annotations

import argparse
import logging
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Journey report from a Spark table.")
    parser.add_argument("source", help="Parquet path, or a catalog table with --table")
    parser.add_argument("--table", action="store_true", help="SOURCE is a catalog table")
    parser.add_argument("--out", required=True, help="folder for report.html and the CSVs")
    parser.add_argument("--customer", help="customer id column (detected by default)")
    parser.add_argument("--activity", help="touchpoint column (detected by default)")
    parser.add_argument("--timestamp", help="timestamp column (detected by default)")
    parser.add_argument("--since", help="keep events from this date on, e.g. 2024-01-01")
    parser.add_argument("--conversion", nargs="+", help="converting touchpoints or a stage")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as sf

    import journeymine as jm

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    spark = SparkSession.builder.appName("journeymine report").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    events = spark.table(args.source) if args.table else spark.read.parquet(args.source)
    schema = jm.Schema(customer=args.customer, activity=args.activity,
                       timestamp=args.timestamp).resolve(events.columns)
    if args.since:  # pushed down to the Parquet scan
        events = events.where(sf.col(schema.timestamp) >= sf.lit(args.since).cast("timestamp"))

    start = time.perf_counter()
    log = jm.read_spark(events, schema, source=args.source)
    logging.info("%r read in %.1f s", log, time.perf_counter() - start)
    pm = jm.discover(log, conversion=args.conversion)
    logging.info("%r discovered in %.1f s", pm, time.perf_counter() - start)
    notes = [f"Dropped {log.validation[k]:,} {what}." for k, what in
             (("dropped_nulls", "events without customer, touchpoint or time"),
              ("duplicates", "exact duplicate events")) if log.validation[k]]
    files = pm.save(args.out, source=f"{args.source} (Spark)", notes=notes)
    logging.info("wrote %s", ", ".join(p.name for p in files))
    spark.stop()


if __name__ == "__main__":
    main()
