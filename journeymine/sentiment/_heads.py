"""The emotion and sentiment heads: small classifiers on pooled encoder features.

:class:`Heads` trains one linear (or one-hidden-layer MLP) head per task on
cached all-layer features with the masked partial-label loss of
:mod:`journeymine.sentiment._loss` (torch), and predicts with numpy only; it
saves to and loads from ``heads.npz`` (float16 weights) plus ``heads.json``
(labels, metrics, settings).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from journeymine.sentiment._data import EMOTIONS, SENTIMENTS
from journeymine.sentiment._deps import import_torch
from journeymine.sentiment._loss import TASKS, label_arrays, partial_label_loss

logger = logging.getLogger(__name__)

__all__ = ["Heads", "select_features", "softmax"]


def select_features(features: np.ndarray, layers: Sequence[int]) -> np.ndarray:
    """Concatenate the mean-pooled states of ``layers`` -> ``(n, len(layers) * hidden)`` float32."""
    return features[:, list(layers), :].reshape(len(features), -1).astype(np.float32)


class Heads:
    """Emotion and sentiment heads on pooled encoder features (numpy inference).

    Parameters
    ----------
    layers : tuple of int, default (12,)
        Hidden-state indices whose mean pools are concatenated.
    hidden : int, default 0
        Hidden units of a one-hidden-layer MLP head; 0 = linear heads.
    epochs : int, default 40
    lr : float, default 2e-3
    weight_decay : float, default 1e-4
    dropout : float, default 0.1
    class_balance : float, default 0.5
        Exponent of inverse class frequency weights (0 = none, 1 = balanced).
    batch_size : int, default 256
    seed : int, default 0
    dataset_weight : dict, optional
        Multiplier of a dataset's total weight (by default every dataset
        weighs the same in total), e.g. ``{"domain": 2.0}``.
    label_weight : dict, optional
        Multiplier of a label's class weight (cost-sensitive fitting), e.g.
        ``{"love": 1.5}``; labels not named keep their weight.
    """

    def __init__(
        self,
        layers: Sequence[int] = (12,),
        hidden: int = 0,
        epochs: int = 40,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.1,
        class_balance: float = 0.5,
        batch_size: int = 256,
        seed: int = 0,
        dataset_weight: dict[str, float] | None = None,
        label_weight: dict[str, float] | None = None,
    ):
        self.layers = tuple(layers)
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.class_balance = class_balance
        self.batch_size = batch_size
        self.seed = seed
        self.dataset_weight = dict(dataset_weight or {})
        self.label_weight = dict(label_weight or {})

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (JSON-safe)."""
        return {
            "layers": list(self.layers),
            "hidden": self.hidden,
            "epochs": self.epochs,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "dropout": self.dropout,
            "class_balance": self.class_balance,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "dataset_weight": self.dataset_weight,
            "label_weight": self.label_weight,
        }

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        features: np.ndarray,
        corpus: Any,
        *,
        init: Heads | None = None,
        anchor: float = 0.0,
        verbose: bool = False,
    ) -> Heads:
        """Train both heads with the masked partial-label loss (see :mod:`._loss`).

        Parameters
        ----------
        features : numpy.ndarray
            ``(n, 13, hidden)`` all-layer pooled features (:func:`cached_features`).
        corpus : pandas.DataFrame
            Rows aligned with ``features``.
        init : Heads, optional
            Start from these heads (same layers and architecture): their
            feature standardisation and weights are the starting point.
        anchor : float, default 0.0
            With ``init``: L2 penalty ``anchor * ||W - W_init||^2`` per head,
            keeping the refitted heads near ``init`` where the new rows say
            nothing.

        Returns
        -------
        Heads
            ``self``, with ``weights_`` (numpy arrays) set.
        """
        torch = import_torch()
        x = select_features(features, self.layers)
        if init is not None:
            self.mean_, self.scale_ = init.mean_.copy(), init.scale_.copy()
        else:
            self.mean_ = x.mean(0)
            self.scale_ = x.std(0) + 1e-6
        x = (x - self.mean_) / self.scale_
        gen = torch.Generator().manual_seed(self.seed)
        torch.manual_seed(self.seed)
        xt = torch.from_numpy(x)
        # each dataset weighs the same in total
        ds = corpus["dataset"].to_numpy()
        names, counts = np.unique(ds, return_counts=True)
        ds_w = {
            n: self.dataset_weight.get(n, 1.0) * len(ds) / (len(names) * c)
            for n, c in zip(names, counts, strict=True)
        }
        row_w = np.array([ds_w[d] for d in ds], dtype=np.float32)
        row_w *= len(row_w) / row_w.sum()
        self.weights_ = {}
        for task in TASKS:
            mask, cand = label_arrays(corpus, task)
            has = cand.any(1)
            # class weights from single-label rows
            single = cand[has & (cand.sum(1) == 1)]
            freq = single.sum(0) + 1.0
            cw = (freq.sum() / freq) ** self.class_balance
            cw = cw / cw.mean()
            labels = EMOTIONS if task == "emotion" else SENTIMENTS
            cw = cw * np.array([self.label_weight.get(lab, 1.0) for lab in labels])
            w = row_w * has * np.where(has, (cand * cw).sum(1) / np.maximum(cand.sum(1), 1), 0)
            net = self._net(x.shape[1], cand.shape[1], torch)
            init_params = None
            if init is not None:
                init_params = [torch.from_numpy(p.copy()) for p in init.weights_[task]]
                with torch.no_grad():
                    for p, p0 in zip(net.parameters(), init_params, strict=True):
                        p.copy_(p0)
            opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
            m_t, c_t, w_t = map(torch.from_numpy, (mask, cand, w.astype(np.float32)))
            keep = torch.from_numpy(np.flatnonzero(has))
            steps = self.epochs * (-(-len(keep) // self.batch_size))
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=steps)
            net.train()
            for epoch in range(self.epochs):
                perm = keep[torch.randperm(len(keep), generator=gen)]
                total = 0.0
                for start in range(0, len(perm), self.batch_size):
                    b = perm[start : start + self.batch_size]
                    loss = partial_label_loss(net(xt[b]), m_t[b], c_t[b], w_t[b])
                    if init_params is not None and anchor > 0:
                        loss = loss + anchor * sum(
                            ((p - p0) ** 2).sum()
                            for p, p0 in zip(net.parameters(), init_params, strict=True)
                        )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    sched.step()
                    total += loss.detach().item() * len(b)
                if verbose and (epoch % 10 == 9 or epoch == self.epochs - 1):
                    logger.info("%s head epoch %d loss %.4f", task, epoch + 1, total / len(keep))
            net.eval()
            self.weights_[task] = [
                p.detach().numpy().astype(np.float32).copy() for p in net.parameters()
            ]
        return self

    def _net(self, d_in: int, d_out: int, torch: Any) -> Any:
        nn = torch.nn
        if self.hidden:
            return nn.Sequential(
                nn.Dropout(self.dropout),
                nn.Linear(d_in, self.hidden),
                nn.GELU(approximate="tanh"),
                nn.Dropout(self.dropout),
                nn.Linear(self.hidden, d_out),
            )
        return nn.Sequential(nn.Dropout(self.dropout), nn.Linear(d_in, d_out))

    # -------------------------------------------------------------- predict
    def logits(self, features: np.ndarray, task: str) -> np.ndarray:
        """Unmasked logits of one task for all-layer features ``(n, 13, hidden)``."""
        x = (select_features(features, self.layers) - self.mean_) / self.scale_
        params = self.weights_[task]
        if self.hidden:
            w1, b1, w2, b2 = params
            h = x @ w1.T + b1
            h = 0.5 * h * (1.0 + np.tanh(0.7978845608 * (h + 0.044715 * h**3)))
            return h @ w2.T + b2
        w, b = params
        return x @ w.T + b

    def predict_proba(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Softmax probabilities over all labels: ``{'emotion': (n, 8), 'sentiment': (n, 3)}``."""
        return {task: softmax(self.logits(features, task)) for task in TASKS}

    # ------------------------------------------------------------------- io
    def save(self, path: str | os.PathLike[str], meta: dict[str, Any]) -> tuple[Path, Path]:
        """Write ``<path>.npz`` (float16 weights) and ``<path>.json`` (labels, metrics...)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"mean": self.mean_, "scale": self.scale_}
        for task in TASKS:
            for i, p in enumerate(self.weights_[task]):
                arrays[f"{task}_{i}"] = p
        arrays = {k: v.astype(np.float16 if v.ndim == 2 else np.float32) for k, v in arrays.items()}
        npz = path.with_suffix(".npz")
        np.savez_compressed(npz, **arrays)
        info = dict(meta)
        info["heads"] = self.get_params()
        info["weights_file"] = npz.name
        js = path.with_suffix(".json")
        _dump_json(info, js)
        return npz, js

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Heads:
        """Load heads saved by :meth:`save` (``path`` with or without suffix)."""
        path = Path(path)
        info = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        heads = cls(**info["heads"])
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as npz:
            heads.mean_ = npz["mean"].astype(np.float32)
            heads.scale_ = npz["scale"].astype(np.float32)
            n = 4 if heads.hidden else 2
            heads.weights_ = {
                t: [npz[f"{t}_{i}"].astype(np.float32) for i in range(n)] for t in TASKS
            }
        heads.info_ = info
        return heads


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits ``(n, k)``, as float32.

    Examples
    --------
    >>> softmax(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _json_default(obj: Any) -> Any:  # pragma: no cover - helper for json.dumps
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(type(obj))


def _dump_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")
