"""Discovery on Spark (``jm.read_spark`` + ``jm.discover``) against DuckDB, on one machine.

For each size, a generated log (``make_journeys``: ~9 events per customer, 20
touchpoints, channels and revenue) is written to Parquet, then

* duckdb: ``jm.read_parquet`` + ``jm.discover`` in this process;
* spark: ``spark.read.parquet`` + ``jm.read_spark`` + ``jm.discover`` on a
  ``local[N]`` session started once (its start-up is reported apart).

Both wall seconds and CPU seconds are reported (CPU of this process for DuckDB,
of the Spark JVM from ``/proc`` for Spark): on a shared machine CPU seconds
move less with the load than wall time. A least-squares line through the
sizes splits Spark's CPU into a fixed part (jobs, planning, code generation)
and a part per event, which is what a cluster multiplies.

``--plans`` prints, for each discovery query, how many shuffles (``Exchange``
nodes) Spark plans for it: the steps (one window per customer) once, then
each query over the cached steps.

Usage::

    python benchmarks/bench_spark.py --events 100000 300000 1000000 --plans
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def make_parquet(n_events: int, path: Path, seed: int = 0) -> int:
    """Write a generated log of about ``n_events`` events to ``path``; return its rows."""
    import journeymine as jm

    per_customer = jm.datasets.make_journeys(1000, random_state=seed).n_events / 1000
    log = jm.datasets.make_journeys(int(n_events / per_customer), random_state=seed)
    df = log.to_pandas()[["customer_id", "activity", "timestamp", "channel", "revenue"]]
    df.to_parquet(path, index=False)
    return len(df)


def jvm_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn, cpu):
    """``fn()``, its wall seconds and the CPU seconds ``cpu()`` grew by."""
    c0, t0 = cpu(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, cpu() - c0


def shuffles(spark, backend, expr) -> int:
    """Number of shuffles (Exchange nodes) in Spark's physical plan of an Ibis expression."""
    plan = spark.sql(backend.compile(expr))._jdf.queryExecution().executedPlan().toString()
    return sum(line.lstrip(" +-:").startswith("Exchange") for line in plan.splitlines())


def plan_report(spark, log) -> dict[str, int]:
    """Shuffles of the steps and of each discovery query over the cached steps."""
    from journeymine.discovery import _queries as q
    from journeymine.discovery import resolve_conversion

    stage_map = log.stage_map()
    rank = {tp: stage_map.order.index(s) for tp, s in stage_map.mapping.items()}
    conversion = resolve_conversion(log, stage_map)
    raw = q.steps(log.events, rank, conversion)
    out = {"steps (window per customer, stage-arrival join)": shuffles(spark, log.backend, raw)}
    st = raw.cache()
    jr = q.journeys(st)
    out["journeys (collect per customer)"] = shuffles(spark, log.backend, jr)
    jr = jr.cache()
    queries = {
        "edges (DFG)": q.edges(st), "nodes": q.nodes(st), "ping_pongs": q.ping_pongs(st),
        "channel_switches": q.channel_switches(st), "time_to_convert": q.time_to_convert(st),
        "variants": q.variants(jr), "funnel": q.funnel(jr, q.stage_reach(st)),
        "dropoffs": q.dropoffs(jr),
    }
    out.update({name: shuffles(spark, log.backend, expr) for name, expr in queries.items()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--cores", type=int, default=2, help="local[N] for Spark")
    parser.add_argument("--plans", action="store_true", help="print shuffles per query")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    import logging

    import journeymine as jm

    logging.getLogger("journeymine").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(f"local[{args.cores}]")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(2 * args.cores))
             .config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    pid = int(spark._jvm.ProcessHandle.current().pid())
    print(f"Spark local[{args.cores}] start-up: {time.perf_counter() - t0:.1f} s wall")

    def spark_cpu() -> float:
        return jvm_cpu_seconds(pid)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.events:
            path = Path(tmp) / f"events_{n}.parquet"
            events = make_parquet(n, path)
            log, d_read_wall, d_read_cpu = timed(lambda p=path: jm.read_parquet(p),
                                                 time.process_time)
            _, d_disc_wall, d_disc_cpu = timed(lambda lg=log: jm.discover(lg), time.process_time)
            slog, s_read_wall, s_read_cpu = timed(
                lambda p=path: jm.read_spark(spark.read.parquet(str(p))), spark_cpu)
            _, s_disc_wall, s_disc_cpu = timed(lambda lg=slog: jm.discover(lg), spark_cpu)
            rows.append({
                "events": events,
                "duckdb_wall": d_read_wall + d_disc_wall, "duckdb_cpu": d_read_cpu + d_disc_cpu,
                "spark_read_wall": s_read_wall, "spark_discover_wall": s_disc_wall,
                "spark_wall": s_read_wall + s_disc_wall, "spark_cpu": s_read_cpu + s_disc_cpu,
            })
            r = rows[-1]
            print(f"{events:>10,} events  duckdb {r['duckdb_wall']:6.1f} s wall "
                  f"{r['duckdb_cpu']:6.1f} s CPU | spark read {s_read_wall:6.1f} s + discover "
                  f"{s_disc_wall:6.1f} s wall, {r['spark_cpu']:6.1f} s JVM CPU | "
                  f"wall x{r['spark_wall'] / r['duckdb_wall']:.1f}, "
                  f"CPU x{r['spark_cpu'] / r['duckdb_cpu']:.1f}", flush=True)
        if args.plans:
            print("\nShuffles (Exchange nodes) Spark plans per query:")
            for name, count in plan_report(spark, slog).items():
                print(f"  {name:<50} {count}")
    if len(rows) > 1:
        import numpy as np

        x = np.array([r["events"] for r in rows], dtype=float)
        slope, fixed = np.polyfit(x, [r["spark_cpu"] for r in rows], 1)
        print(f"\nSpark CPU ~ {fixed:.1f} s fixed + {slope * 1e6:.2f} s per million events "
              f"-> {slope * 1e9 / 3600:.1f} CPU-hours per billion events (this machine)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    spark.stop()


if __name__ == "__main__":
    main()
