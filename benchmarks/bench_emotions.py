"""Emotion tagging speed and memory: default (torch), onnx, onnx-int8, fast (TF-IDF).

Each backend runs in its own subprocess so its peak memory (``VmHWM``) is its
own. Two text lengths: ``short`` texts are customer reviews and chats (the
bundled demo texts, <= 64 tokens), de-duplicated; ``long`` texts are reviews of
200-1,000 characters (demo texts joined into multi-sentence reviews, lengths
drawn uniformly, seeded; the default tagger scores reviews over 300 characters
sentence by sentence). The tagger's cache is off so every text is encoded.
Loading the model is not timed (the one-time base-model build is done first);
the timed part is ``EmotionTagger.predict`` on all texts. Torch and ONNX Runtime
use 2 threads. Runners: ``default`` is ``EmotionTagger()`` on torch, ``onnx``
and ``onnx-int8`` the same model with ``backend='onnx'`` / ``'onnx-int8'``
(the first run exports the graph into the cache, not timed), ``fast`` the
TF-IDF model. ``--serial`` adds, for each torch/ONNX runner, a row with the
encoder's parallel batches off (one batch at a time on 2 intra-op threads,
the behaviour before parallel batches) for a same-run comparison.

The machine may be shared: wall time depends on other load, so CPU seconds
and the load average are printed too.

Usage::

    python benchmarks/bench_emotions.py                 # default and fast, 1000 texts
    python benchmarks/bench_emotions.py --n 2000 --runners default fast onnx
    python benchmarks/bench_emotions.py --runners default onnx onnx-int8 --lengths short long
    python benchmarks/bench_emotions.py --lengths short long --n 500
    python benchmarks/bench_emotions.py --runners default onnx --serial   # old vs new
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RUNNERS = ("default", "fast", "onnx", "onnx-int8")
LENGTHS = ("short", "long")


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def texts(n: int, length: str = "short") -> list[str]:
    """``n`` unique demo texts: short (<= 64 tokens) or long (200-1,000 characters)."""
    import random

    import journeymine as jm

    uniq = list(dict.fromkeys(jm.datasets.load_demo().texts["text"].astype(str)))
    if length == "long":
        rng = random.Random(0)
        out = []
        for i in range(n):
            target, parts = rng.randint(200, 1000), []
            while sum(len(p) + 2 for p in parts) < target:
                parts.append(rng.choice(uniq).rstrip(".!? ") + ".")
            out.append(f"{' '.join(parts)[:target].rstrip()} ({i})")
        return out
    reps = -(-n // len(uniq))
    out = [t if r == 0 else f"{t} ({r})" for r in range(reps) for t in uniq]
    return out[:n]


def _serial() -> None:
    """Make the tagger build its encoders with parallel batches off (the previous behaviour)."""
    import functools

    from journeymine.sentiment import _backends

    for name in ("Encoder", "OnnxEncoder"):
        cls = getattr(_backends, name)
        setattr(_backends, name, functools.partial(cls, parallel_batches=False))


def child(
    runner: str, n: int, batch_size: int, length: str = "short", serial: bool = False
) -> None:
    import warnings

    import torch

    torch.set_num_threads(2)
    from journeymine.sentiment._tagger import EmotionTagger

    warnings.simplefilter("ignore")  # long texts may warn about truncation
    data = texts(n, length)
    if serial:
        _serial()
    kwargs = {"backend": runner} if runner.startswith("onnx") else {}
    model = "fast" if runner == "fast" else "default"
    tagger = EmotionTagger(model, batch_size=batch_size, cache=False, verbose=False, **kwargs)
    tagger.predict(data[:64])  # load the model (not timed)
    n_tok = None
    if runner != "fast":
        n_tok = tagger._backend.encoder.count_tokens(["query: " + t for t in data])
    base = _rss_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    start, cpu0 = time.perf_counter(), time.process_time()
    out = tagger.predict(data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    print(
        json.dumps(
            {
                "runner": runner + ("/serial" if serial else ""),
                "length": length,
                "mean_chars": sum(map(len, data)) / len(data),
                "n": len(out),
                "seconds": seconds,
                "cpu_seconds": cpu,
                "texts_per_s": len(out) / seconds,
                "peak_mb": _rss_mb("VmHWM"),
                "model_mb": base,
                "mean_tokens": None if n_tok is None else float(n_tok.mean()),
                "max_tokens": None if n_tok is None else int(n_tok.max()),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--runners", nargs="+", default=["default", "fast"], choices=RUNNERS)
    parser.add_argument("--lengths", nargs="+", default=["short"], choices=LENGTHS)
    parser.add_argument(
        "--serial",
        action="store_true",
        help="also run torch/ONNX runners with parallel batches off (the previous behaviour)",
    )
    parser.add_argument("--child", choices=RUNNERS, help=argparse.SUPPRESS)
    parser.add_argument("--serial-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--length", choices=LENGTHS, default="short", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n, args.batch_size, args.length, args.serial_child)
        return
    from journeymine.sentiment._convert import build_base_model
    from journeymine.sentiment._tagger import EmotionTagger

    build_base_model()
    for runner in args.runners:  # export the ONNX graphs first (not timed)
        if runner.startswith("onnx"):
            EmotionTagger(backend=runner, verbose=False).predict(["ok"])
    print(
        f"{'runner':<16} {'length':<6} {'chars':>6} {'texts':>6} {'seconds':>8} {'texts/s':>8} "
        f"{'cpu s':>7} {'peak MB':>8} {'model MB':>9} {'tokens':>12}"
    )
    modes = [True, False] if args.serial else [False]  # previous behaviour first
    jobs = [
        (r, ln, ser)
        for ln in args.lengths
        for r in args.runners
        for ser in modes
        if not (ser and r == "fast")
    ]
    for runner, length, serial in jobs:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            runner,
            "--n",
            str(args.n),
            "--batch-size",
            str(args.batch_size),
            "--length",
            length,
        ] + (["--serial-child"] if serial else [])
        res = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if res.returncode:
            name = runner + ("/serial" if serial else "")
            print(f"{name:<16} {length:<6} failed:\n{res.stderr[-2000:]}")
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        tok = "" if r["mean_tokens"] is None else f"{r['mean_tokens']:.1f}/{r['max_tokens']}"
        print(
            f"{r['runner']:<16} {length:<6} {r['mean_chars']:>6.0f} {r['n']:>6} "
            f"{r['seconds']:>8.2f} {r['texts_per_s']:>8.1f} "
            f"{r['cpu_seconds']:>7.1f} {r['peak_mb']:>8.0f} {r['model_mb']:>9.0f} {tok:>12}"
        )
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
