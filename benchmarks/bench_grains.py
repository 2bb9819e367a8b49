"""Journeys at session grain on a realistic clickstream: cost against customer grain.

For each size, a time-ordered clickstream from :func:`journeymine.datasets.make_clickstream`
(many visits per customer, long-tailed page names, a session column) is validated
once, then timed in this process:

* ``discover`` at customer grain (one journey per customer history),
* ``sessionize`` by a 30-minute gap, and by the session column,
* ``discover`` at session grain (sessionize included) with the gap and with the column,
* ``insights`` at session grain.

Each step is best of ``--repeat`` rounds, the rounds interleaving the steps.
Ratios are each time ÷ customer-grain ``discover`` (target: session grain
within 1.5×), for wall-clock and for CPU seconds (all threads of the
process): on a shared machine the CPU ratio is the steadier one. Run::

    python benchmarks/bench_grains.py --events 1000000 10000000
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import journeymine as jm


def timed(fn) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def run(n_events: int, repeat: int) -> tuple[list[tuple[str, float, float]], int]:
    df = jm.datasets.make_clickstream(max(n_events // 13, 100), n_events=n_events,
                                      random_state=0)
    log = jm.EventLog.from_pandas(df, customer="customer_id", activity="event",
                                  timestamp="timestamp")
    stages = log.stage_map()  # computed once: it is not what this benchmark measures
    steps = [
        ("discover, customer grain", lambda: jm.discover(log, stages=stages)),
        ("sessionize, 30min gap", lambda: jm.sessionize(log, gap="30min", session=False)),
        ("sessionize, session column", lambda: jm.sessionize(log)),
        ("discover, session grain (gap)",
         lambda: jm.discover(log, grain="session", gap="30min", session=False, stages=stages)),
        ("discover, session grain (column)",
         lambda: jm.discover(log, grain="session", stages=stages)),
        ("insights, session grain", lambda: jm.insights(log, stages=stages)),
    ]
    # Rounds interleave the steps, so a change of machine load hits every step alike.
    best = {name: (float("inf"), float("inf")) for name, _ in steps}
    for _ in range(repeat):
        for name, fn in steps:
            wall, cpu = timed(fn)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return [(name, *best[name]) for name, _ in steps], log.n_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the long tail's stage guesses: not what is timed
    for n in args.events:
        rows, n_events = run(n, args.repeat)
        wall0, cpu0 = rows[0][1], rows[0][2]
        print(f"\n{n_events:,} events (load average {os.getloadavg()[0]:.1f})")
        print(f"{'step':<36}{'wall s':>8}{'÷ customer':>12}{'CPU s':>8}{'÷ customer':>12}")
        for name, wall, cpu in rows:
            print(f"{name:<36}{wall:>8.2f}{wall / wall0:>12.2f}{cpu:>8.2f}{cpu / cpu0:>12.2f}")

if __name__ == "__main__":
    main()
