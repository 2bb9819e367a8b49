"""Attribution (every model) and the journey diff on a 1M-event log: seconds and peak memory.

The log is :func:`journeymine.datasets.make_journeys` sized to ``--events``
(about 10 events a customer, 7 channels), written once to Parquet. Each step
then runs in a fresh process that reads the Parquet file and runs the step
``--repeat`` times; the parent reads the child's peak RSS from ``wait4`` and
reports it beside the RSS the child had with only the log loaded. Steps:

* ``discover``: the reference, the cost of one journey map of the same log;
* ``attribute`` with each model alone (Markov order 1, Shapley exact over 7
  channels), and with every model in one call;
* ``diff``: the log split where half the journeys have started (60 days
  in, ``by="period"``): both halves discovered and attributed (first, last touch, linear), every
  comparison tested.

Times are best of ``--repeat``, wall-clock and CPU (all threads), with their
ratio to ``discover``. Run::

    python benchmarks/bench_measurement.py --events 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import journeymine as jm

MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position", "participation",
          "markov", "shapley")


def steps(log: jm.EventLog) -> dict:
    middle = log.time_range()[0] + pd.Timedelta(days=60)  # journeys start over 120 days
    out = {"discover": lambda: jm.discover(log)}
    out.update({f"attribute {m}": (lambda m=m: jm.attribute(log, model=m)) for m in MODELS})
    out["attribute, all models"] = lambda: jm.attribute(log, model=list(MODELS))
    out["diff by period"] = lambda: jm.diff(log, by="period", at=middle)
    return out


def child(path: str, step: str, repeat: int) -> None:
    """Run one step on the Parquet log; print its best times and the RSS before it."""
    warnings.simplefilter("ignore")
    log = jm.read_parquet(path)
    fn = steps(log)[step]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    print(json.dumps({"wall": best_wall, "cpu": best_cpu, "log_rss_kb": before}))


def measure(path: Path, step: str, repeat: int) -> dict:
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(path), step,
                             "--repeat", str(repeat)], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"step {step!r} failed with exit code {proc.returncode}")
    return {**json.loads(out), "peak_rss_kb": usage.ru_maxrss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="steps to run (default: all)")
    parser.add_argument("--child", nargs=2, metavar=("PARQUET", "STEP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journeys.parquet"
        log = jm.datasets.make_journeys(max(args.events // 10, 100), random_state=0)
        log.to_pandas().drop(columns="event_index").to_parquet(path)
        print(f"{log.n_events:,} events, {log.n_customers:,} customers "
              f"(load average {os.getloadavg()[0]:.1f})")
        names = [s for s in steps(log) if not args.only or s in args.only or s == "discover"]
        del log
        rows = {name: measure(path, name, args.repeat) for name in names}
    ref = rows["discover"]
    print(f"{'step':<26}{'wall s':>8}{'÷ discover':>12}{'CPU s':>8}{'÷ discover':>12}"
          f"{'peak MB':>9}{'log MB':>8}")
    for name, r in rows.items():
        print(f"{name:<26}{r['wall']:>8.2f}{r['wall'] / ref['wall']:>12.2f}{r['cpu']:>8.2f}"
              f"{r['cpu'] / ref['cpu']:>12.2f}{r['peak_rss_kb'] / 1024:>9.0f}"
              f"{r['log_rss_kb'] / 1024:>8.0f}")


if __name__ == "__main__":
    main()
