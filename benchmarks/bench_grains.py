"""Journeys at session grain on a realistic clickstream: cost against customer grain.

For each size, a time-ordered clickstream from :func:`journeymine.datasets.make_clickstream`
(many visits per customer, long-tailed page names, a session column) is validated
once, then timed, each step best of ``--repeat`` runs in this process:

* ``discover`` at customer grain (one journey per customer history),
* ``sessionize`` by a 30-minute gap, and by the session column,
* ``discover`` at session grain (sessionize included) with the gap and with the column,
* ``insights`` at session grain.

The ratio column is each time ÷ customer-grain ``discover`` (target: session
grain within 1.5×). Run::

    python benchmarks/bench_grains.py --events 1000000 10000000
"""

from __future__ import annotations

import argparse
import time
import warnings

import journeymine as jm


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(n_events: int, repeat: int) -> list[tuple[str, float]]:
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
    return [(name, best(fn, repeat)) for name, fn in steps], log.n_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the long tail's stage guesses: not what is timed
    for n in args.events:
        rows, n_events = run(n, args.repeat)
        base = rows[0][1]
        print(f"\n{n_events:,} events")
        print(f"{'step':<36}{'seconds':>9}{'÷ customer grain':>18}")
        for name, seconds in rows:
            print(f"{name:<36}{seconds:>9.2f}{seconds / base:>18.2f}")


if __name__ == "__main__":
    main()
