"""Journey discovery: journeymine vs pm4py vs plain pandas on the same generated log.

Each implementation runs in its own subprocess on the same Parquet file, so its
peak memory (max RSS) is its own. The timed part starts from a pandas DataFrame
already in memory (reading the Parquet file is not timed), with each library
already imported, and ends when the directly-follows graph with counts and
durations and the variants are computed.

* journeymine: ``EventLog.from_pandas`` (validation, UTC timestamps, stable
  ordering, de-duplication) + ``discover`` (DFG with count/customers/mean/
  median/p90, variants, funnel, drop-offs, loops, bottlenecks, channel switches).
* journeymine-dfg: the same validation, then only what pm4py computes below
  (DFG with counts and durations, start/end, variants as tuples), through the
  same code ``discover`` uses.
* pm4py: ``format_dataframe`` + ``discover_dfg`` + ``discover_performance_dfg`` +
  ``get_variants``.
* pandas: sort, ``groupby().shift()`` for the DFG with mean/median/p90,
  ``groupby().agg(" > ".join)`` for variants.

With ``--csv`` the timed part also includes reading the log from a CSV file
(``jm.read_csv`` for journeymine, ``pandas.read_csv`` with date parsing for the
others), the way most users start.

Each runner runs ``--repeat`` times (fresh processes, rounds in rotated
order) and the median is reported; "pm4py ÷" is pm4py's median time divided
by the runner's, i.e. how many times faster than pm4py it is.

Usage::

    python benchmarks/bench_discovery.py --events 1000000 10000000
    python benchmarks/bench_discovery.py --events 1000000 --shuffle
    python benchmarks/bench_discovery.py --events 1000000 --csv
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNNERS = ("journeymine", "journeymine-dfg", "pm4py", "pandas")
#: Modules each runner imports before the clock starts: import time is a one-off
#: cost per Python process (pm4py ~1.7 s, journeymine + Ibis ~1.1 s), not per log.
IMPORTS = {
    "journeymine": ("journeymine", "journeymine.discovery._discover",
                    "journeymine.discovery._queries", "journeymine.discovery._positional",
                    "ibis.backends.duckdb"),
    "pm4py": ("pm4py",),
    "pandas": ("pandas",),
}


def make_log(n_events: int, path: Path, seed: int = 0, shuffle: bool = False) -> int:
    """Write a generated log with about ``n_events`` events to Parquet or CSV; return its size.

    The generator writes customers one after the other, in time order; with
    ``shuffle`` the rows are in random order instead.
    """
    import journeymine as jm

    probe = jm.datasets.make_journeys(2000, random_state=seed)
    per_customer = probe.n_events / 2000
    log = jm.datasets.make_journeys(int(n_events / per_customer), random_state=seed)
    df = log.to_pandas()[["customer_id", "activity", "timestamp", "channel"]]
    if shuffle:
        df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return len(df)


def read_csv_pandas(path: str):
    """The pandas way to load the CSV log for pm4py and pandas."""
    import pandas as pd

    return pd.read_csv(path, dtype={"customer_id": str}, parse_dates=["timestamp"])


def load_journeymine(df):
    """Validate the log the journeymine way (from the DataFrame, or the CSV path)."""
    import journeymine as jm

    names = {"customer": "customer_id", "activity": "activity", "timestamp": "timestamp",
             "channel": "channel"}
    read = jm.read_csv if isinstance(df, str) else jm.EventLog.from_pandas
    return read(df, **names)


def run_journeymine(df):
    import journeymine as jm

    pm = jm.discover(load_journeymine(df))
    return len(pm.edges), len(pm.variants)


def run_journeymine_dfg(df):
    from journeymine.discovery import _discover as d
    from journeymine.discovery import _queries as q
    from journeymine.discovery._engine import JourneyTables

    tables = JourneyTables(load_journeymine(df), {}, ())
    steps, decode = tables.steps, tables.decode
    edges = d._fetch(decode(q.edges(steps).to_pyarrow()), "-count", "source", "target")
    d._fetch(decode(q.nodes(steps).to_pyarrow()), "-count", "id")
    variants = d._fetch(q.variants(tables.journeys).to_pyarrow(), "-customers", "variant")
    d._split_paths(variants["variant"])  # pm4py's variants are tuples too
    return len(edges), len(variants)


def run_pm4py(df):
    import pm4py

    if isinstance(df, str):
        df = read_csv_pandas(df)
    f = pm4py.format_dataframe(df, case_id="customer_id", activity_key="activity",
                               timestamp_key="timestamp")
    dfg, _, _ = pm4py.discover_dfg(f)
    pm4py.discover_performance_dfg(f)
    variants = pm4py.get_variants(f)
    return len(dfg), len(variants)


def run_pandas(df):
    if isinstance(df, str):
        df = read_csv_pandas(df)
    d = df.sort_values(["customer_id", "timestamp"], kind="stable")
    g = d.groupby("customer_id", sort=False)
    d = d.assign(target=g["activity"].shift(-1),
                 seconds=(g["timestamp"].shift(-1) - d["timestamp"]).dt.total_seconds())
    d = d[d["target"].notna()]
    edges = d.groupby(["activity", "target"]).agg(
        count=("seconds", "size"), customers=("customer_id", "nunique"),
        mean=("seconds", "mean"), median=("seconds", "median"),
        p90=("seconds", lambda s: s.quantile(0.9)),
    )
    paths = df.sort_values(["customer_id", "timestamp"], kind="stable").groupby(
        "customer_id", sort=False)["activity"].agg(" > ".join)
    variants = paths.value_counts()
    return len(edges), len(variants)


def _rss_mb(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` (peak) of this process in MB, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(runner: str, source: str) -> None:
    """Time one runner in this process and print JSON.

    ``peak_mb`` is the peak resident memory during the timed part only: the
    peak counter is reset after the input DataFrame is loaded (Linux
    ``/proc/self/clear_refs``), so the input's own memory is counted but the
    Parquet reader's temporary buffers are not.
    """
    import importlib

    import pandas as pd

    df = source if source.endswith(".csv") else pd.read_parquet(source)
    for module in IMPORTS[runner.removesuffix("-dfg")]:
        importlib.import_module(module)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    base = _rss_mb("VmRSS")
    start, cpu_start = time.perf_counter(), time.process_time()
    n_edges, n_variants = globals()[f"run_{runner.replace('-', '_')}"](df)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"runner": runner, "seconds": seconds, "cpu_seconds": cpu,
                      "peak_mb": _rss_mb("VmHWM"),
                      "extra_mb": _rss_mb("VmHWM") - base, "edges": n_edges,
                      "variants": n_variants}))


def _run_child(runner: str, path: Path) -> dict | None:
    out = subprocess.run([sys.executable, __file__, "--child", runner, str(path)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        print(f"{runner} failed on {path.name}:\n{out.stderr[-1500:]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--csv", action="store_true", help="time reading a CSV file too")
    parser.add_argument("--shuffle", action="store_true",
                        help="shuffle the rows (a log not ordered by customer and time)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh processes per runner; the median is reported (default 3)")
    parser.add_argument("--runners", nargs="+", default=list(RUNNERS), choices=RUNNERS)
    parser.add_argument("--child", nargs=2, metavar=("RUNNER", "PARQUET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.events:
            path = Path(tmp) / f"log_{n}.{'csv' if args.csv else 'parquet'}"
            actual = make_log(n, path, shuffle=args.shuffle)
            runs: dict[str, list[dict]] = {r: [] for r in args.runners}
            for i in range(args.repeat):  # rounds, each in a rotated order, to spread drift
                order = args.runners[i % len(args.runners):] + args.runners[:i % len(args.runners)]
                for runner in order:
                    if (result := _run_child(runner, path)) is not None:
                        runs[runner].append(result)
            medians = {r: {k: statistics.median(x[k] for x in rs) for k in rs[0]
                           if k != "runner"} for r, rs in runs.items() if rs}
            pm4py = medians.get("pm4py", {}).get("seconds", float("nan"))
            for runner, m in medians.items():
                times = [x["seconds"] for x in runs[runner]]
                rows.append((actual, runner, m["seconds"], min(times), max(times),
                             pm4py / m["seconds"], m["cpu_seconds"], m["extra_mb"],
                             m["edges"], m["variants"]))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"median of {args.repeat} fresh process(es) per runner")
    print(f"\n{'events':>12} {'runner':<16} {'seconds':>8} {'min-max':>12} {'pm4py ÷':>8} "
          f"{'cpu s':>7} {'+MB':>7} {'edges':>6} {'variants':>9}")
    for actual, runner, sec, lo, hi, ratio, cpu, extra, e, v in rows:
        print(f"{actual:>12,} {runner:<16} {sec:>8.2f} {f'{lo:.2f}-{hi:.2f}':>12} {ratio:>8.1f} "
              f"{cpu:>7.2f} {extra:>7.0f} {e:>6.0f} {v:>9,.0f}")


if __name__ == "__main__":
    main()
