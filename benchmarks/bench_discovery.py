"""Journey discovery from real-shaped inputs: journeymine vs pm4py vs pandas vs a DuckDB floor.

Inputs (the same generated events, ``customer_id, activity, timestamp,
channel``, naive ISO timestamps):

* ``csv-time``: a CSV file in time order (rows sorted by timestamp, customers
  interleaved), as analytics exports, order tables and CRM dumps come;
* ``parquet-time``: the same rows as a Parquet file;
* ``frame-grouped``: a pandas DataFrame already grouped by customer and in
  time order within each (the best case; loading it is not timed);
* ``csv-shuffled``: a CSV file in random row order.

Runners (each in a fresh process; the clock starts after the imports, which
are a one-off cost per process, and stops when the results are computed):

* ``jm``: read (``jm.read_csv``, ``jm.read_parquet`` or
  ``EventLog.from_pandas``: validation, UTC timestamps, ordering by customer,
  de-duplication) + the full ``jm.discover`` (DFG with counts, customers,
  mean/median/p90 durations, variants, funnel, drop-offs, loops,
  bottlenecks, channel switches);
* ``jm-like``: the same read, then only what pm4py computes below (DFG with
  counts and durations, start/end, variants as tuples), through the code
  ``discover`` uses;
* ``pm4py``: ``pandas.read_csv``/``read_parquet`` (pm4py has no CSV or
  Parquet reader of its own; its documentation starts from pandas) +
  ``format_dataframe`` + ``discover_dfg`` + ``discover_performance_dfg`` +
  ``get_variants``;
* ``pandas``: the same read, sort, ``groupby().shift()`` for the DFG with
  mean/median/p90 and ``groupby().agg(" > ".join)`` for variants;
* ``floor``: DuckDB reading the same four columns in one scan with one
  ``GROUP BY customer_id`` (count, first/last timestamp, an activity and a
  channel per customer), each aggregate used by an outer query (so every
  column is parsed): no engine can read and group the events faster, so
  ``÷ floor`` says how close to the limit a runner is;
* ``cli``: ``python -m journeymine discover FILE --out DIR --no-personas``
  timed from the outside as one whole process (interpreter, imports,
  reading, discovery and every file of the journey report), for the file
  inputs; its CPU seconds are the whole process's (``wait4``). Without
  ``--no-personas`` the command also fits personas for logs of 500 to
  200,000 customers, which is another benchmark (``bench_personas.py``).

Each runner runs ``--repeat`` times, in rounds in rotated order; the median
is reported with the range, ``pm4py ÷`` (pm4py's median over the runner's: how
many times faster than pm4py), ``÷ floor`` (the runner's median over the
floor's) and the peak resident memory of the whole process (``ru_maxrss``
from ``wait4``, interpreter and imports included).

Usage::

    python benchmarks/bench_discovery.py --events 1000000 10000000
    python benchmarks/bench_discovery.py --events 1000000 --inputs csv-time --runners jm pm4py
    python benchmarks/bench_discovery.py --events 10000000 --repeat 1 --data /scratch/jm-bench
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INPUTS = ("csv-time", "parquet-time", "frame-grouped", "csv-shuffled")
RUNNERS = ("jm", "jm-like", "pm4py", "pandas", "floor", "cli")
COLUMNS = ("customer_id", "activity", "timestamp", "channel")
#: Modules each runner imports before the clock starts: import time is a one-off
#: cost per Python process (pm4py ~1.7 s, journeymine ~0.5 s), not per log.
IMPORTS = {
    "jm": ("journeymine", "journeymine.discovery._discover",
           "journeymine.discovery._engine", "journeymine.discovery._duckdb_queries",
           "journeymine.discovery._positional"),
    "pm4py": ("pm4py",),
    "pandas": ("pandas",),
    "floor": ("duckdb", "pandas"),
}


def make_inputs(n_events: int, folder: Path, seed: int = 0) -> dict[str, Path]:
    """Write the four inputs of about ``n_events`` events into ``folder`` (once; then reused).

    Events come from :func:`journeymine.datasets.make_journeys`; DuckDB writes
    the files, in time order, grouped by customer (a Parquet file the
    DataFrame input is loaded from) and shuffled.
    """
    paths = {"csv-time": folder / f"log_{n_events}_time.csv",
             "parquet-time": folder / f"log_{n_events}_time.parquet",
             "frame-grouped": folder / f"log_{n_events}_grouped.parquet",
             "csv-shuffled": folder / f"log_{n_events}_shuffled.csv"}
    if all(p.exists() for p in paths.values()):
        return paths
    import duckdb

    import journeymine as jm

    probe = jm.datasets.make_journeys(2000, random_state=seed)
    log = jm.datasets.make_journeys(int(n_events * 2000 / probe.n_events), random_state=seed)
    events = log.table.select([*COLUMNS, "event_index"])  # noqa: F841 - scanned by DuckDB
    con = duckdb.connect()
    cols = ", ".join(COLUMNS)
    orders = {"csv-time": "timestamp, event_index", "parquet-time": "timestamp, event_index",
              "frame-grouped": "event_index", "csv-shuffled": f"hash(event_index + {seed})"}
    for name, path in paths.items():
        fmt = "PARQUET" if path.suffix == ".parquet" else "CSV, HEADER"
        con.execute(f"COPY (SELECT {cols} FROM events ORDER BY {orders[name]}) "
                    f"TO '{path}' (FORMAT {fmt})")
    con.close()
    return paths


def read_pandas(path: str):
    """The pandas way to load the log for pm4py and pandas."""
    import pandas as pd

    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"customer_id": str}, parse_dates=["timestamp"])


def load_journeymine(source):
    """The validated log, the journeymine way (from the DataFrame, a CSV or a Parquet path)."""
    import journeymine as jm

    names = {"customer": "customer_id", "activity": "activity", "timestamp": "timestamp",
             "channel": "channel"}
    if not isinstance(source, str):
        return jm.EventLog.from_pandas(source, **names)
    read = jm.read_parquet if source.endswith(".parquet") else jm.read_csv
    return read(source, **names)


def run_jm(source):
    import journeymine as jm

    pm = jm.discover(load_journeymine(source))
    return len(pm.edges), len(pm.variants)


def run_jm_like(source):
    from journeymine.discovery import _discover as d
    from journeymine.discovery._engine import DuckDBJourneys

    engine = DuckDBJourneys(load_journeymine(source), {}, ())  # discover's DuckDB engine
    edges = d._fetch(engine.prepare("edges")(), "-count", "source", "target")
    d._fetch(engine.prepare("nodes")(), "-count", "touchpoint")
    variants = d._fetch(engine.prepare("variants")(), "-customers", "variant")
    d._split_paths(variants["variant"])  # pm4py's variants are tuples too
    return len(edges), len(variants)


def run_pm4py(source):
    import pm4py

    df = read_pandas(source) if isinstance(source, str) else source
    f = pm4py.format_dataframe(df, case_id="customer_id", activity_key="activity",
                               timestamp_key="timestamp")
    dfg, _, _ = pm4py.discover_dfg(f)
    pm4py.discover_performance_dfg(f)
    variants = pm4py.get_variants(f)
    return len(dfg), len(variants)


def run_pandas(source):
    df = read_pandas(source) if isinstance(source, str) else source
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
    return len(edges), len(paths.value_counts())


def run_floor(source):
    import duckdb

    con = duckdb.connect()
    if not isinstance(source, str):
        src = "source"
        con.register(src, source)
    elif source.endswith(".parquet"):
        src = f"read_parquet('{source}')"
    else:
        src = f"read_csv('{source}', types={{'customer_id': 'VARCHAR'}})"
    # Every aggregate is used by the outer query: DuckDB drops unused ones (with them
    # the parsing of their columns), which made the floor a count of customer ids.
    groups = con.execute(
        f"SELECT count(*), sum(n), max(last - first), max(a), max(c) FROM (SELECT customer_id, "
        f"count(*) AS n, min(timestamp) AS first, max(timestamp) AS last, max(activity) AS a, "
        f"max(channel) AS c FROM {src} GROUP BY customer_id)").fetchone()[0]
    return 0, groups


def child(runner: str, input_name: str, path: str) -> None:
    """Time one runner on one input in this process and print JSON."""
    import importlib

    source = path
    if input_name == "frame-grouped":
        import pandas as pd

        source = pd.read_parquet(path)
    for module in IMPORTS[runner.removesuffix("-like")]:
        importlib.import_module(module)
    start, cpu_start = time.perf_counter(), time.process_time()
    n_edges, n_variants = globals()[f"run_{runner.replace('-', '_')}"](source)
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "cpu_seconds": time.process_time() - cpu_start,
                      "edges": n_edges, "variants": n_variants}))


def _run(runner: str, input_name: str, path: Path, out: Path) -> dict | None:
    """Run one fresh process; its result with ``peak_mb`` (max RSS, from wait4)."""
    if runner == "cli":
        command = [sys.executable, "-m", "journeymine", "discover", str(path), "--out", str(out),
                   "--no-personas"]
    else:
        command = [sys.executable, __file__, "--child", runner, input_name, str(path)]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak memory
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        stdout, stderr = stdout.read(), stderr.read()
    if proc.returncode:
        print(f"{runner} failed on {path.name}:\n{stderr[-1500:]}", file=sys.stderr)
        return None
    if runner == "cli":  # CPU of the whole process: interpreter start and imports included
        result = {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "edges": 0, "variants": 0}
    else:
        result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024
    return result


def _table(rows: list[dict]) -> str:
    """The results as a Markdown table."""
    head = ("| events | input | runner | seconds (min-max) | pm4py ÷ | ÷ floor | CPU s | "
            "peak MB |\n|---:|---|---|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in rows:
        spread = f" ({r['min']:.1f}-{r['max']:.1f})" if r["min"] != r["max"] else ""
        lines.append(f"| {r['events']:,} | {r['input']} | {r['runner']} | "
                     f"{r['seconds']:.1f}{spread} | {r['vs_pm4py']:.1f} | {r['vs_floor']:.1f} | "
                     f"{r['cpu_seconds']:.2f} | {r['peak_mb']:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--inputs", nargs="+", default=list(INPUTS), choices=INPUTS)
    parser.add_argument("--runners", nargs="+", default=list(RUNNERS), choices=RUNNERS)
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh processes per runner; the median is reported (default 3)")
    parser.add_argument("--data", type=Path, default=None,
                        help="folder for the generated inputs, kept and reused (default: a "
                        "temporary folder)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument("--table", nargs="+", type=Path, metavar="JSON",
                        help="print one table from the JSON files of earlier runs and stop")
    parser.add_argument("--child", nargs=3, metavar=("RUNNER", "INPUT", "PATH"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.table:
        runs = [json.loads(p.read_text()) for p in args.table]
        print("\n".join(f"{p.name}: load average {r['load']}" for p, r in zip(args.table, runs,
                                                                               strict=True)))
        print(_table([row for r in runs for row in r["rows"]]))
        return
    rows = []
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in args.events:
            paths = make_inputs(n, folder)
            for input_name in args.inputs:
                runners = [r for r in args.runners
                           if not (r == "cli" and input_name.startswith("frame"))]
                runs: dict[str, list[dict]] = {r: [] for r in runners}
                for i in range(args.repeat):  # rounds in rotated order, to spread drift
                    k = i % len(runners)
                    for runner in runners[k:] + runners[:k]:
                        result = _run(runner, input_name, paths[input_name], Path(tmp) / "out")
                        if result is not None:
                            runs[runner].append(result)
                medians = {r: {key: statistics.median(x[key] for x in rs) for key in rs[0]}
                           for r, rs in runs.items() if rs}
                nan = float("nan")
                pm4py = medians.get("pm4py", {}).get("seconds", nan)
                floor = medians.get("floor", {}).get("seconds", nan)
                for runner, m in medians.items():
                    times = [x["seconds"] for x in runs[runner]]
                    rows.append({"events": n, "input": input_name, "runner": runner,
                                 "seconds": m["seconds"], "min": min(times), "max": max(times),
                                 "vs_pm4py": pm4py / m["seconds"], "vs_floor": m["seconds"] / floor,
                                 "cpu_seconds": m["cpu_seconds"], "peak_mb": m["peak_mb"],
                                 "edges": m["edges"], "variants": m["variants"]})
                print(_table(rows[-len(medians):]), flush=True)
    load = f"{load_start[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    print(f"\nload average {load}, on {os.cpu_count()} cores; median of {args.repeat} fresh "
          f"process(es) per runner\n")
    print(_table(rows))
    if args.json:
        args.json.write_text(json.dumps({"load": load, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
