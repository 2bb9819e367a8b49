"""A log larger than DuckDB's memory limit: read_parquet + discover under jm.set_config.

The log is ``--copies`` copies of a generated 10-events-per-customer log, each
copy with its own customer ids and shifted by a day (DuckDB writes it as one
Parquet file, in time order, so reading it is the streamed path). The run
happens in a fresh process with ``jm.set_config(memory_limit=...,
temp_directory=...)``; it prints the events, the wall and CPU seconds for
reading and for ``discover``, DuckDB's limit, the size of the event table and
the peak resident memory of the process (``VmHWM``) after reading and at the
end.

Usage::

    python benchmarks/bench_large.py --events 1000000 --copies 20 --memory-limit 1GB
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def make_log(events: int, copies: int, folder: Path, seed: int = 0) -> Path:
    """Write (once) ``copies`` copies of a log of about ``events`` events as one Parquet file."""
    path = folder / f"large_{events}x{copies}.parquet"
    if path.exists():
        return path
    import duckdb

    import journeymine as jm

    probe = jm.datasets.make_journeys(2000, random_state=seed)
    log = jm.datasets.make_journeys(int(events * 2000 / probe.n_events), random_state=seed)
    base = log.table.select(["customer_id", "activity", "timestamp", "channel"])  # noqa: F841
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT customer_id || '-' || k AS customer_id, activity, "
        f"timestamp + k * INTERVAL 1 DAY AS timestamp, channel "
        f"FROM base, range({copies}) AS r(k) ORDER BY timestamp) TO '{path}' (FORMAT PARQUET)")
    con.close()
    return path


def _peak_mb() -> float:
    """The process's peak resident memory so far (``VmHWM``), in MB."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM"))


def child(path: str, memory_limit: str, temp_directory: str) -> None:
    import journeymine as jm

    jm.set_config(memory_limit=memory_limit, temp_directory=temp_directory)
    start, cpu = time.perf_counter(), time.process_time()
    log = jm.read_parquet(path)
    read, read_cpu, read_peak = time.perf_counter() - start, time.process_time() - cpu, _peak_mb()
    pm = jm.discover(log)
    print(json.dumps({"events": log.n_events, "customers": pm.summary["customers"],
                      "read_seconds": read, "read_cpu_seconds": read_cpu,
                      "discover_seconds": time.perf_counter() - start - read,
                      "discover_cpu_seconds": time.process_time() - cpu - read_cpu,
                      "memory_limit": memory_limit, "table_mb": log.table.nbytes / 2**20,
                      "peak_mb_after_read": read_peak, "peak_mb": _peak_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per copy")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    args.data.mkdir(parents=True, exist_ok=True)
    path = make_log(args.events, args.copies, args.data)
    out = subprocess.run([sys.executable, __file__, "--child", str(path), args.memory_limit,
                          str(args.data / "spill")], capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit(out.stderr[-2000:])
    print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
