"""Designed vs actual: ``jm.conformance`` on the demo and on 1M events, against pm4py.

On the bundled demo (31k events, 3,200 customers) with its designed journey:

* ``journeymine exact``: ``jm.conformance(..., sample=10**6, require_end=True)``:
  every distinct variant replayed once by pm4py's token replay, weighted by
  its customers;
* ``journeymine bounded``: the default bound (2,000 distinct variants);
* ``pm4py``: ``pm4py.format_dataframe`` + ``conformance_diagnostics_token_based_replay``
  of the whole log on the same Petri net (the reference, one result per case).

On a generated log of ``--events`` events (``make_journeys``, the demo's
touchpoints), ``journeymine bounded`` only: pm4py's full replay is not run
there; its time is estimated from its per-variant rate on the demo times the
log's number of distinct variants, which is what the bound avoids.

Each run is best of ``--repeat``; "÷" columns are the time divided by
journeymine's on the same log (pm4py ÷ = how many times faster journeymine
is). pm4py's import is paid before timing. Run::

    python benchmarks/bench_conformance.py --events 1000000
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import journeymine as jm


def best_of(repeat: int, fn) -> tuple[float, object]:
    """Fastest wall-clock seconds of ``repeat`` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def pm4py_replay(log: jm.EventLog, designed) -> int:
    """pm4py's own token replay of every case on the designed journey's net."""
    import pm4py

    from journeymine.measurement._designed import designed_journey

    net = designed_journey(designed, log.activities).petri_net()
    df = pm4py.format_dataframe(log.to_pandas(), case_id="customer_id", activity_key="activity",
                                timestamp_key="timestamp")
    return len(pm4py.conformance_diagnostics_token_based_replay(df, net.net, net.initial,
                                                                net.final))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import pm4py  # noqa: F401  (imported once, before timing)

    demo = jm.datasets.load_demo()
    design = demo.designed_journey
    exact_s, exact = best_of(args.repeat, lambda: jm.conformance(
        demo.log, designed=design, sample=10**6, require_end=True))
    bounded_s, bounded = best_of(args.repeat, lambda: jm.conformance(demo.log, designed=design))
    pm4py_s, cases = best_of(1, lambda: pm4py_replay(demo.log, design))
    per_variant = pm4py_s / exact.summary["variants"]
    print(f"demo: {demo.log.n_events:,} events, {demo.log.n_customers:,} customers, "
          f"{exact.summary['variants']:,} variants (load average {os.getloadavg()[0]:.1f})")
    print(f"{'runner':<24}{'seconds':>9}{'÷ exact':>9}{'replayed variants':>19}")
    for name, seconds, result in (("journeymine exact", exact_s, exact),
                                  ("journeymine bounded", bounded_s, bounded)):
        print(f"{name:<24}{seconds:>9.2f}{seconds / exact_s:>9.2f}"
              f"{result.summary['replayed_variants']:>19,}")
    print(f"{'pm4py (all cases)':<24}{pm4py_s:>9.2f}{pm4py_s / exact_s:>9.2f}{cases:>19,}")
    print(f"exact mean fitness {exact.summary['fitness']:.4f}")

    big = jm.datasets.make_journeys(max(args.events // 10, 100), random_state=0)
    big_s, result = best_of(args.repeat, lambda: jm.conformance(big, designed=design))
    s = result.summary
    estimate = per_variant * s["variants"]
    print(f"\ngenerated: {big.n_events:,} events, {big.n_customers:,} customers, "
          f"{s['variants']:,} variants (load average {os.getloadavg()[0]:.1f})")
    print(f"journeymine bounded: {big_s:.2f} s, {s['replayed_variants']:,} variants of "
          f"{s['replayed_customers']:,} sampled customers, fitness {s['fitness']:.3f} "
          f"± {s['fitness_se']:.3f}")
    print(f"pm4py full replay (estimated from its demo rate): {estimate:,.0f} s, "
          f"{estimate / big_s:,.0f}× the bounded run")


if __name__ == "__main__":
    main()
