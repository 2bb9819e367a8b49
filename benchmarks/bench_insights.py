"""What matters: ``jm.insights`` on generated clickstreams of 1M and 10M events.

Each size runs in fresh subprocesses (``--repeat``). A subprocess generates a
log with :func:`journeymine.datasets.make_clickstream` (``n_events``,
``random_state=0``: six months, many sessions per customer, long-tailed event
names, the planted checkout loop, incident, lift events and bottleneck),
validates it with ``EventLog.from_pandas`` and imports SciPy (none of this is
timed), then times ``jm.insights(log)`` at the session grain: the grain cuts,
drop-offs, loops, slow steps, stratified event lifts, the incident scan and
the channel switches. For scale it also times ``jm.discover(log,
grain="session")`` on the same log: "÷ discover" is the insight time divided
by discover's. "+MB" is the peak memory a second (untimed) call allocates,
measured with ``tracemalloc`` (NumPy and pandas report to it; Arrow does not);
"top 5" lists the kinds of the first five findings.

Measured on the 2-core development machine, shared with other engineers'
jobs: with an idle machine (load below 2) 1M events took 1.8 s (1.7-1.8 s,
3 runs); under load average 10-12 the wall time swells while the CPU time
stays put, so read the CPU column::

    events      wall s (median)  CPU s  ÷ discover  +MB    load
    1,007,046   1.77             1.8    1.4         211    idle
    1,007,046   5.35             1.7    1.0         211    10-12
    10,158,944  68.8 (1 run)     23.9   1.4         1,399  10-12

Top 5 kinds on both sizes: slow step, loop, loop, incident, event (the
planted bottleneck, checkout loop, incident and negative-lift pop-up).

Usage::

    python benchmarks/bench_insights.py --events 1000000 10000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, logging, sys, time, tracemalloc, warnings
logging.disable(logging.WARNING)
warnings.simplefilter("ignore")
import scipy.stats  # noqa: F401  (a one-off import, not timed)
import journeymine as jm

n = int(sys.argv[1])
df = jm.datasets.make_clickstream(n_events=n, random_state=0)
log = jm.EventLog.from_pandas(df, customer="customer_id", activity="event",
                              timestamp="timestamp")
del df
cpu, t = time.process_time(), time.perf_counter()
found = jm.insights(log)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
tracemalloc.start()  # a second, untimed call measures the memory it allocates at its peak
jm.insights(log)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
t = time.perf_counter()
jm.discover(log, grain="session")
discover = time.perf_counter() - t
print(json.dumps({"events": log.n_events, "seconds": seconds, "cpu": cpu,
                  "discover": discover, "mb": peak / 2**20,
                  "top": found.table["kind"].head(5).tolist()}))
"""


def run(n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print("| events | insights s (median) | min–max | CPU s | ÷ discover | +MB | top 5 |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n in args.events:
        runs = [run(n) for _ in range(args.repeat)]
        secs = [r["seconds"] for r in runs]
        mid = statistics.median(secs)
        ratio = statistics.median(r["seconds"] / r["discover"] for r in runs)
        print(f"| {runs[0]['events']:,} | {mid:.2f} | {min(secs):.2f}–{max(secs):.2f} | "
              f"{statistics.median(r['cpu'] for r in runs):.1f} | {ratio:.1f} | "
              f"{statistics.median(r['mb'] for r in runs):,.0f} | {', '.join(runs[0]['top'])} |",
              flush=True)


if __name__ == "__main__":
    main()
