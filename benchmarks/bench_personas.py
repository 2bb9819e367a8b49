"""Persona benchmarks.

``python benchmarks/bench_personas.py --recovery``
    Adjusted Rand index of each method against the planted personas of
    ``make_journeys`` (default overlap 0.15 and a harder 0.3), seeds 0-2,
    3,000 customers, k chosen automatically.
``python benchmarks/bench_personas.py --generators [N] [--only G ...] [--seeds S ...]``
    Recovery on every generator of :data:`GENERATORS` (the bundled one, the
    five scenarios of ``tests/personas/_independent.py``, the session-mission
    generator ``tests/personas/_sessions.py`` with six and three personas),
    seeds 0-2, N customers (default 2,000): adjusted Rand index of the
    markov, gmm and kmeans models with k chosen automatically and with the
    true k, of the TF-IDF-bigram k-means baseline (true k), and the 5-fold
    accuracy of gradient boosting trained on the true personas (how
    recoverable they are). ``--out rows.csv`` appends every row as it is
    measured; ``--summary rows.csv ...`` prints the means and the README table.
``python benchmarks/bench_personas.py --scale [N] [--cache FILE] [--method M]``
    PersonaModel fit, predict and JourneyFeaturizer on N customers (default
    1,000,000) of make_journeys, read from Parquet (generated in a child
    process first): wall and CPU seconds and peak resident memory of each
    step (sampled every 50 ms from /proc; the log itself included).

Measured on 2 cores shared with other jobs (load 20-27 during the generator
runs, the scale loads below, so wall times are several times what a quiet
machine gives):

* generators, 1,000 customers: the table in the README ("Recovery of planted
  personas"), with the number of seeds each row has.
* scale, 1,000,000 customers / 9.74 M events (make_journeys, from Parquet),
  load 3-4: RSS with the log 1.11 GB; PersonaModel.fit (component weights,
  k 2-8 and bootstrap on a 20,000-customer sample, 10 stability refits,
  everyone counted and assigned in chunks of 100,000, cards from the
  sample; k = 4) 41 s wall / 35 CPU s, peak 2.09 GB; predict 19 s / 19 CPU
  s, peak 1.95 GB; JourneyFeaturizer on everyone 36 s / 36 CPU s, peak
  3.41 GB (load 9-11: fit 95 s, predict 54 s, featurize 107 s wall).
  ``--method gmm`` (load 9-10): fit 516 s / 207 CPU s, peak
  2.30 GB; predict 109 s / 40 CPU s, peak 1.86 GB. 200,000 customers, load
  8-9 (before the count queries shared one projection): fit 71 s / 24 CPU s
  peak 1.07 GB, predict 12 s peak 1.06 GB.
  Before the chunked counts (200,000 customers, load 20-27): fit 1,150 s,
  peak 1.53 GB; at 1M the fit peaked at 12.1 GB.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

import journeymine as jm
from journeymine.datasets import make_journeys
from journeymine.personas import JourneyFeaturizer, PersonaModel
from journeymine.personas._markov import COMPONENTS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.personas._baseline import tfidf_bigrams
from tests.personas._independent import SCENARIOS, make_log
from tests.personas._sessions import make_sessions


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRSS:
    """Track the peak RSS in a background thread."""

    def __enter__(self):
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_mb())


def recovery(n: int = 3000) -> pd.DataFrame:
    rows = []
    for overlap in (0.15, 0.3):
        for seed in (0, 1, 2):
            log, truth = make_journeys(n, random_state=seed, return_truth=True, overlap=overlap)
            for method in ("markov", "gmm", "kmeans"):
                t0 = time.perf_counter()
                m = PersonaModel(method=method, random_state=0, n_bootstrap=0).fit(log)
                y = truth.personas.reindex(m.labels_.index)
                fixed = PersonaModel(4, method=method, random_state=0, n_bootstrap=0).fit(log)
                rows.append({
                    "overlap": overlap, "seed": seed, "method": method, "k_auto": m.n_personas_,
                    "ari_auto": round(adjusted_rand_score(y, m.labels_), 3),
                    "ari_k4": round(adjusted_rand_score(y, fixed.labels_), 3),
                    "seconds": round(time.perf_counter() - t0, 1),
                })
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def bundled(n: int, seed: int):
    log, truth = make_journeys(n, random_state=seed, return_truth=True)
    return log, truth.personas, 4


def _independent(scenario: str):
    def make(n: int, seed: int):
        events, truth = make_log(scenario, n, random_state=seed)
        return events, truth, 4
    return make


def _sessions(k: int, overlap: float):
    def make(n: int, seed: int):
        events, truth = make_sessions(n, k=k, overlap=overlap, random_state=seed)
        return events, truth, k
    return make


#: Generators of ``--generators``: name -> (n, seed) -> (log, true labels, true k). Three
#: code bases: the bundled make_journeys (one Markov chain per persona), the
#: independent visit-graph generator (one scenario per ingredient, and all mixed) and
#: the session-mission generator (six or three hand-written personas, months of visits).
GENERATORS = {
    "bundled": bundled,
    **{f"indep-{s}": _independent(s) for s in SCENARIOS},
    "sessions-6": _sessions(6, 0.3),
    "sessions-3": _sessions(3, 0.5),
}
#: Models of ``--generators``: label -> PersonaModel arguments (``"k"`` = the true k).
MODELS = {
    "markov auto": {}, "markov k": {"n_personas": "k"},
    "gmm auto": {"method": "gmm"}, "gmm k": {"method": "gmm", "n_personas": "k"},
    "kmeans auto": {"method": "kmeans"}, "kmeans k": {"method": "kmeans", "n_personas": "k"},
}


def supervised_accuracy(log, truth: pd.Series, seed: int = 0) -> float:
    """5-fold cross-validated accuracy of gradient boosting on the per-customer features.

    The features are everything the persona models see: the JourneyFeaturizer
    table (what gmm and kmeans cluster) and the Markov model's per-customer
    summaries (visit-start touchpoints, channel counts, pace, visits, duration).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from journeymine.personas._markov import OTHER, sequence_data

    X = JourneyFeaturizer().fit_transform(log)
    seq = sequence_data(log, [*log.activities, OTHER], COMPONENTS,
                        sorted(pd.unique(log.table.column("channel").to_pandas().dropna()))
                        if log.has_channel else ())
    extra = {f"start_{i}": col for i, col in enumerate(seq.start.toarray().T)}
    if seq.channel is not None:
        extra.update({f"channel_{i}": col for i, col in enumerate(seq.channel.toarray().T)})
    for name, stats in seq.gauss.items():
        extra[name] = np.where(stats[:, 0] > 0, stats[:, 1] / np.maximum(stats[:, 0], 1), np.nan)
    X = X.join(pd.DataFrame(extra, index=seq.customers))
    y = truth.reindex(X.index)
    clf = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, X.to_numpy(), y.to_numpy(), cv=cv).mean())


def generators(n: int = 2000, seeds: tuple[int, ...] = (0, 1, 2),
               names: list[str] | None = None, models: list[str] | None = None,
               supervised: bool = True, out: str | None = None) -> pd.DataFrame:
    """ARI per generator, seed and model; the TF-IDF baseline; supervised accuracy.

    With ``out``, every row is also appended to that CSV file as it is measured
    (so runs split over processes can be combined with :func:`summary`).
    """
    rows = []

    def record(row: dict) -> None:
        row = {"seconds": np.nan, **row}
        rows.append(row)
        print(row, flush=True)
        if out:
            pd.DataFrame([row]).to_csv(out, mode="a", index=False,
                                       header=not Path(out).exists())

    for name in names or GENERATORS:
        for seed in seeds:
            data, truth, k = GENERATORS[name](n, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                log = data if isinstance(data, jm.EventLog) else jm.EventLog.from_pandas(data)
                base = {"generator": name, "seed": seed, "true_k": k}
                if supervised:
                    record({**base, "model": "supervised (accuracy)", "k": k,
                            "ari": round(supervised_accuracy(log, truth, seed), 3)})
                labels = tfidf_bigrams(log, k, seed)
                record({**base, "model": "tfidf-bigram kmeans k", "k": k,
                        "ari": round(adjusted_rand_score(truth.reindex(labels.index), labels),
                                     3)})
                for label in models or MODELS:
                    kwargs = {key: (k if v == "k" else v) for key, v in MODELS[label].items()}
                    t0 = time.perf_counter()
                    m = PersonaModel(**{"random_state": 0, "n_bootstrap": 0, **kwargs}).fit(log)
                    record({**base, "model": label, "k": m.n_personas_,
                            "ari": round(adjusted_rand_score(truth.reindex(m.labels_.index),
                                                             m.labels_), 3),
                            "seconds": round(time.perf_counter() - t0, 1)})
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The recovery table of the README: mean over seeds, auto k in brackets."""
    def cell(g: pd.DataFrame, model: str, with_k: bool = False) -> str:
        r = g[g["model"] == model]
        if r.empty:
            return "—"
        k = f" (k {r['k'].mean():.1f})" if with_k else ""
        return f"{r['ari'].mean():.2f}{k}"

    lines = ["| generator | seeds | supervised accuracy | markov auto (k) | markov k given "
             "| gmm auto (k) | gmm k given | TF-IDF bigrams + k-means, k given |",
             "|---|---|---|---|---|---|---|---|"]
    for name, g in table.groupby("generator", sort=False):
        true_k = int(g["true_k"].iloc[0])
        lines.append(
            f"| {name} (k = {true_k}) | {g['seed'].nunique()} "
            f"| {cell(g, 'supervised (accuracy)')} | {cell(g, 'markov auto', True)} "
            f"| {cell(g, 'markov k')} | {cell(g, 'gmm auto', True)} | {cell(g, 'gmm k')} "
            f"| {cell(g, 'tfidf-bigram kmeans k')} |")
    return "\n".join(lines)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per generator and model: ARI (accuracy for supervised), mean k."""
    ari = table.pivot_table(index="generator", columns="model", values="ari").round(2)
    k = table.pivot_table(index="generator", columns="model", values="k").round(1)
    return ari.join(k.filter(like="auto").add_prefix("k "))


def _write_journeys(n: int, path: str) -> None:
    """Generate ``n`` customers with make_journeys and write the events to Parquet."""
    import pyarrow.parquet as pq

    pq.write_table(make_journeys(n, random_state=0).table.drop_columns(["event_index"]), path)


def _step(out: dict, name: str, fn):
    """Run ``fn``; record its wall and CPU seconds and peak RSS under ``name``; its result."""
    with PeakRSS() as peak:
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        out[f"{name}_s"] = round(time.perf_counter() - t, 1)
        out[f"{name}_cpu_s"] = round(time.process_time() - c, 1)
    out[f"{name}_peak_rss_mb"] = round(peak.peak)
    print(f"{name}: {out[f'{name}_s']} s, {out[f'{name}_cpu_s']} CPU s, peak "
          f"{out[f'{name}_peak_rss_mb']} MB, load {os.getloadavg()[0]:.1f}", flush=True)
    return result


def scale(n: int, cache: str | None = None, method: str = "markov") -> dict:
    """Fit, predict and featurize ``n`` customers: seconds and peak RSS of each step.

    The log is generated in a child process and written to Parquet (``cache``,
    default a file in the temporary directory, reused when it exists), then
    read here, so the measured process holds the log as a reader gives it,
    not what generating it left behind.
    """
    import gc
    import multiprocessing
    import tempfile

    path = cache or str(Path(tempfile.gettempdir()) / f"jm_bench_personas_{n}.parquet")
    if not Path(path).exists():
        t = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(
            target=_write_journeys, args=(n, path))
        child.start()
        child.join()
        print(f"generated {path} in {time.perf_counter() - t:.0f} s", flush=True)
    out: dict = {"customers": n, "load_average_before": os.getloadavg()}
    log = _step(out, "read", lambda: jm.read_parquet(path))
    gc.collect()
    out["events"] = log.n_events
    out["rss_with_log_mb"] = round(rss_mb())
    out["method"] = method
    model = _step(out, "fit", lambda: PersonaModel(method=method, random_state=0).fit(log))
    out["k"] = model.n_personas_
    labels = _step(out, "predict", lambda: model.predict(log))
    out["assigned"] = len(labels)
    out["predict_matches_fit"] = bool((labels == model.labels_).all())
    del labels
    gc.collect()
    feats = _step(out, "featurize", lambda: JourneyFeaturizer().fit_transform(log))
    out["features_shape"] = feats.shape
    out["load_average_after"] = os.getloadavg()
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recovery", action="store_true")
    ap.add_argument("--generators", nargs="?", type=int, const=2000, default=None,
                    help="customers per log (default 2,000)")
    ap.add_argument("--only", nargs="*", help="generator names for --generators")
    ap.add_argument("--models", nargs="*", help="model labels for --generators")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--out", help="CSV file to append the --generators rows to")
    ap.add_argument("--summary", nargs="*", help="print the summary of --generators CSV files")
    ap.add_argument("--no-supervised", action="store_true")
    ap.add_argument("--scale", nargs="?", type=int, const=1_000_000, default=None)
    ap.add_argument("--cache", help="Parquet file of the --scale log (written if missing)")
    ap.add_argument("--method", default="markov", help="PersonaModel method for --scale")
    args = ap.parse_args()
    if args.recovery:
        table = recovery()
        print(table.to_string(index=False))
        print(table.groupby(["overlap", "method"])[["ari_auto", "ari_k4"]].mean().round(3))
    if args.generators:
        table = generators(args.generators, tuple(args.seeds), args.only, args.models,
                           not args.no_supervised, args.out)
        pd.set_option("display.width", 250)
        print(summary(table).to_string())
    if args.summary:
        pd.set_option("display.width", 250)
        table = pd.concat(map(pd.read_csv, args.summary))
        print(summary(table).to_string())
        print(markdown(table))
    if args.scale:
        for k, v in scale(args.scale, args.cache, args.method).items():
            print(f"{k}: {v}")
