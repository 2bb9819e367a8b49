"""HTML journey report: time and peak memory against the number of touchpoints.

Each size runs in its own subprocess on a generated log of ``--events`` events
(customers of ten events each, every touchpoint at least once; touchpoints
drawn Zipf-like so a few are busy and most are rare, or with ``--uniform``
all equally often, the worst case for the old unbounded map). ``discover`` is run
before the clock starts; the timed part is ``ProcessMap.to_html()``. Peak
memory is the subprocess's max RSS (discovery included, so it is an upper
bound of what the report needs). A size that runs past ``--timeout`` seconds
or past ``--memory`` GB of address space is reported as such.

To compare with another version of journeymine, point ``--pythonpath`` at a
copy of it (e.g. ``git archive HEAD journeymine | tar -x -C /tmp/old``).

Usage::

    python benchmarks/bench_report.py
    python benchmarks/bench_report.py --touchpoints 50 100 --uniform --pythonpath /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

SIZES = (50, 100, 200, 1_000, 10_000)


def make_frame(n_touchpoints: int, n_events: int = 100_000, seed: int = 0,
               uniform: bool = False):
    """An event log as a DataFrame with exactly ``n_touchpoints`` distinct touchpoints.

    Parameters
    ----------
    n_touchpoints : int
        Distinct touchpoint names (``tp00000``, ``tp00001``, ...).
    n_events : int, default 100_000
        Number of events (at least ``n_touchpoints``).
    seed : int, default 0
        Random seed.
    uniform : bool, default False
        Draw touchpoints equally often instead of Zipf-like (weight ``1 / rank``).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``touchpoint`` and ``ts`` (one minute apart per customer).
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    weights = np.ones(n_touchpoints) if uniform else 1.0 / np.arange(1, n_touchpoints + 1)
    drawn = rng.choice(n_touchpoints, size=n_events - n_touchpoints, p=weights / weights.sum())
    codes = rng.permutation(np.concatenate([np.arange(n_touchpoints), drawn]))
    width = len(str(n_touchpoints - 1))
    names = np.array([f"tp{i:0{width}d}" for i in range(n_touchpoints)], dtype=object)
    customer = np.arange(n_events) // 10
    step = np.arange(n_events) % 10
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(customer * 60 + step, unit="min")
    return pd.DataFrame({"customer_id": customer.astype(str), "touchpoint": names[codes],
                         "ts": ts})


def run_one(n_touchpoints: int, n_events: int, uniform: bool) -> dict:
    """Time ``to_html`` for one size (in this process) and return the measurements."""
    import logging

    import journeymine as jm

    logging.disable(logging.WARNING)  # the unmapped-touchpoint warning lists every name
    pm = jm.discover(jm.EventLog.from_pandas(make_frame(n_touchpoints, n_events,
                                                        uniform=uniform)))
    t0 = time.perf_counter()
    html = pm.to_html()
    seconds = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"touchpoints": len(pm.nodes), "seconds": seconds, "mb": len(html.encode()) / 1e6,
            "peak_rss_mb": peak_kb / 1024}


def _limit_memory(gb: float) -> None:
    limit = int(gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    """Run every size in a fresh subprocess and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touchpoints", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--uniform", action="store_true", help="equally common touchpoints")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per size")
    parser.add_argument("--memory", type=float, default=8.0, help="GB of address space per size")
    parser.add_argument("--pythonpath", help="import journeymine from this folder instead")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(run_one(args.worker, args.events, args.uniform)))
        return
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.pythonpath,
                                                          env.get("PYTHONPATH")]))
    print(f"{'touchpoints':>11} {'to_html s':>10} {'HTML MB':>8} {'peak RSS MB':>12}")
    for n in args.touchpoints:
        cmd = [sys.executable, __file__, "--worker", str(n), "--events", str(args.events),
               *(["--uniform"] if args.uniform else [])]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                                  timeout=args.timeout,
                                  preexec_fn=lambda: _limit_memory(args.memory))
        except subprocess.TimeoutExpired:
            print(f"{n:>11,} {'> ' + format(args.timeout, '.0f'):>10} (timed out)")
            continue
        if proc.returncode:
            error = (proc.stderr.strip().splitlines() or ["?"])[-1]
            print(f"{n:>11,} failed: {error[:90]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{r['touchpoints']:>11,} {r['seconds']:>10.2f} {r['mb']:>8.2f} "
              f"{r['peak_rss_mb']:>12,.0f}")


if __name__ == "__main__":
    main()
