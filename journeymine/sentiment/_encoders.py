"""Encoders: mean-pooled hidden states of the base model, with torch or ONNX Runtime.

A text is language-detected and lightly normalised
(:func:`~journeymine.sentiment._data.normalize_text`), prefixed ``"query: "``
(:func:`prepare_text`), truncated at ``max_length`` tokens, and the hidden
states of a few layers are mean-pooled over the attention mask (never
``pooler_output``). :class:`Encoder` runs the Hugging Face model with torch;
:class:`OnnxEncoder` runs an ONNX export of it (fp32, or with int8 weights).
Both tokenise once and pad per token-length batch of at most
``batch_size * max_length`` tokens (:func:`length_batches`).
:func:`cached_features` keeps the all-layer features of training corpora on disk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from journeymine.exceptions import InvalidParameterError
from journeymine.sentiment._data import (
    NORMALIZER_VERSION,
    detect_language,
    normalize_text,
    texts_sha,
)
from journeymine.sentiment._deps import import_onnxruntime, import_torch
from journeymine.sentiment._lora import merge_lora

__all__ = [
    "N_LAYERS",
    "ONNX_PRECISIONS",
    "Encoder",
    "OnnxEncoder",
    "cached_features",
    "length_batches",
    "prepare_text",
]

N_LAYERS = 13  # embeddings + 12 transformer layers of multilingual-e5-small


def prepare_text(text: str) -> tuple[str, str]:
    """Return ``(language, encoder input)`` for one raw text.

    Examples
    --------
    >>> prepare_text("pengiriman lama bgt")
    ('id', 'query: pengiriman lama banget')
    """
    language = detect_language(text)
    return language, "query: " + normalize_text(text, language)


def length_batches(lengths: Sequence[int], max_tokens: int) -> list[np.ndarray]:
    """Split texts into batches of similar token length for padding per batch.

    Texts are sorted by token length (stably) and cut into consecutive
    batches whose padded size (texts x longest text) stays within
    ``max_tokens``; a text longer than ``max_tokens`` gets a batch of its
    own. Short texts thus share large batches, long ones small batches, and
    little padding is computed.

    Parameters
    ----------
    lengths : sequence of int
        Token count of each text.
    max_tokens : int
        Largest padded batch size in tokens.

    Returns
    -------
    list of numpy.ndarray
        Indices into ``lengths``, one array per batch; together a permutation.

    Examples
    --------
    >>> [b.tolist() for b in length_batches([5, 2, 9, 3, 2], max_tokens=10)]
    [[1, 4, 3], [0], [2]]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    for end in range(1, len(order) + 1):
        # order is sorted, so the batch's longest text is its last one
        if end == len(order) or (end + 1 - start) * lengths[order[end]] > max_tokens:
            batches.append(order[start:end])
            start = end
    return batches


class _Tokenizing:
    """Token counts and token-length batches from ``self.tokenizer`` (torch and ONNX encoders)."""

    tokenizer: Any
    max_length: int
    batch_size: int

    def count_tokens(self, texts: Sequence[str]) -> np.ndarray:
        """Number of tokens of each text (untruncated, with special tokens)."""
        enc = self.tokenizer(list(texts), add_special_tokens=True, truncation=False)
        return np.array([len(ids) for ids in enc["input_ids"]], dtype=np.int64)

    def padded_batches(
        self, texts: Sequence[str], tensors: str, *, min_batches: int = 1
    ) -> Iterator[tuple[np.ndarray, Any]]:
        """Tokenise once, then yield ``(indices, padded batch)`` per token-length batch.

        Batches hold at most ``batch_size * max_length`` padded tokens
        (:func:`length_batches`); ``tensors`` is the tokenizer's
        ``return_tensors`` (``'pt'`` or ``'np'``). With ``min_batches`` > 1 the
        budget shrinks for small inputs so that there are at least that many
        batches (one per worker) when there are enough texts.
        """
        ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        lengths = np.array([len(x) for x in ids], dtype=np.int64)
        budget = self.batch_size * self.max_length
        if min_batches > 1 and len(lengths):
            share = -(-int(lengths.max()) * len(lengths) // min_batches)
            budget = max(int(lengths.max()), min(budget, share))
        for idx in length_batches(lengths, budget):
            batch = self.tokenizer.pad(
                {"input_ids": [ids[i] for i in idx]}, padding=True, return_tensors=tensors
            )
            yield idx, batch

    def run_batches(
        self,
        texts: Sequence[str],
        tensors: str,
        run: Callable[[np.ndarray, Any], None],
        *,
        workers: int,
        progress: bool,
        desc: str,
        split_small: bool = True,
    ) -> None:
        """Call ``run(indices, padded batch)`` for every batch, on ``workers`` threads.

        With one worker (or one batch) the batches run in order on the
        calling thread. Otherwise they run on a thread pool, largest first,
        each worker computing whole batches single-threaded: with short texts
        a batch's matrices are too small for two threads to share one
        operation efficiently, while two batches at once keep both cores
        busy. The batches and what each computes are the same either way,
        except that with ``split_small`` an input too small to give every
        worker a batch is cut into smaller batches (``min_batches`` of
        :meth:`padded_batches`).
        """
        from tqdm.auto import tqdm

        jobs = list(self.padded_batches(texts, tensors, min_batches=workers if split_small else 1))
        with tqdm(total=len(texts), desc=desc, disable=not progress, unit="text") as bar:
            if workers <= 1 or len(jobs) <= 1:
                for idx, batch in jobs:
                    run(idx, batch)
                    bar.update(len(idx))
                return

            def job(item: tuple[np.ndarray, Any]) -> None:
                run(*item)
                bar.update(len(item[0]))

            jobs.sort(key=lambda item: -int(np.prod(item[1]["input_ids"].shape)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for done in [pool.submit(job, item) for item in jobs]:
                    done.result()


class Encoder(_Tokenizing):
    """Mean-pooled hidden states of a Hugging Face encoder, batched by token length.

    Parameters
    ----------
    path : path-like
        A directory loadable with ``AutoModel``/``AutoTokenizer``.
    max_length : int, default 128
        Tokens kept per text (longer texts are truncated).
    batch_size : int, default 16
        Texts per batch at ``max_length`` tokens: texts are tokenised once,
        sorted by token length and batched so that a padded batch holds at
        most ``batch_size * max_length`` tokens (:func:`length_batches`), so
        short texts share larger batches.
    device : str, default 'cpu'
    num_threads : int, optional
        ``torch.set_num_threads``; default leaves torch's setting.
    local_files_only : bool, default True
        Never download (``from_pretrained(local_files_only=...)``).
    parallel_batches : bool, default True
        On CPU with ``torch.get_num_threads()`` = n > 1, run n batches at once
        on n Python threads with one torch thread each (torch's thread count
        is set to 1 during :meth:`encode` and restored after), instead of one
        batch at a time on n intra-op threads. The same batches and the same
        features (to float rounding); less CPU time lost synchronising threads
        on small matrices (see ``models/README.md``, *Speed*).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_length: int = 128,
        batch_size: int = 16,
        device: str = "cpu",
        num_threads: int | None = None,
        local_files_only: bool = True,
        parallel_batches: bool = True,
    ):
        torch = import_torch()
        from transformers import AutoModel, AutoTokenizer

        if num_threads:
            torch.set_num_threads(num_threads)
        self.path = str(path)
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.parallel_batches = parallel_batches
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
        torch = import_torch()

        texts = list(texts)
        hidden = self.model.config.hidden_size
        out = np.zeros((len(texts), len(layers), hidden), dtype=np.float32)
        if not texts:
            return out
        need_all = max(layers) < self.model.config.num_hidden_layers or len(layers) > 1

        def run(idx: np.ndarray, batch: Any) -> None:
            # grad mode is per thread: every worker enters inference mode itself
            with torch.inference_mode():
                batch = batch.to(self.device)
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

        threads = torch.get_num_threads()
        workers = threads if self.parallel_batches and self.device == "cpu" else 1
        if workers > 1:
            # one intra-op thread per worker; torch's setting is restored after
            torch.set_num_threads(1)
        try:
            self.run_batches(texts, "pt", run, workers=workers, progress=progress, desc=desc)
        finally:
            if workers > 1:
                torch.set_num_threads(threads)
        return out


#: Precisions of :class:`OnnxEncoder`; ``int8`` quantises the weights after export.
ONNX_PRECISIONS = ("fp32", "int8")

#: Bumped when the exported graph or its quantisation changes (part of the cache key).
_ONNX_RECIPE = 6

#: Transformer blocks whose feed-forward stays fp32 in the int8 graph: quantising
#: block 4 alone moved the tagger's probabilities ~10x more than any other block
#: (KL to fp32 on held-out training rows, see ``models/README.md``).
INT8_FP32_BLOCKS: tuple[int, ...] = (4,)

_BLOCK = re.compile(r"/layer\.(\d+)/")


class OnnxEncoder(_Tokenizing):
    """The same mean-pooled features from an ONNX export of the encoder, run by ONNX Runtime.

    The encoder (with the mean pooling of ``layers`` inside the graph) is
    exported once with ``torch.onnx.export``, optionally quantised, and cached
    in ``<cache>/onnx``; later runs need only ``onnxruntime`` and the
    tokenizer. ONNX Runtime fuses attention, LayerNorm and GELU when it loads
    the graph (``ORT_ENABLE_ALL``).

    Parameters
    ----------
    path : path-like
        The Hugging Face encoder directory.
    layers : tuple of int
        Hidden-state indices to pool (fixed in the exported graph).
    max_length, batch_size : int
        As for :class:`Encoder` (token-length batches of at most
        ``batch_size * max_length`` padded tokens).
    num_threads : int, default 2
        Threads used: with ``parallel_batches`` that many batches run at once
        (concurrent ``session.run`` calls, one intra-op thread each), else the
        session's ``intra_op_num_threads``.
    precision : {'fp32', 'int8'}, default 'fp32'
        ``'fp32'`` computes what torch computes (features equal to float
        rounding); ``'int8'`` fuses the graph and quantises its feed-forward
        weights per channel (7-bit range), except those of
        :data:`INT8_FP32_BLOCKS`, with ``onnxruntime.quantization.quantize_dynamic``
        (faster, slightly different features, see ``models/README.md``).
    parallel_batches : bool, default False
        As for :class:`Encoder`: ``num_threads`` single-threaded batches at
        once rather than one batch on ``num_threads`` intra-op threads. Off by
        default: ~10% less CPU on short texts, but ONNX Runtime's memory
        peak on long reviews rose from 1.39 to 1.51 GB (above the 1.5 GB limit).
    lora : dict, optional
        LoRA weights merged into the encoder before export.
    lora_sha : str, optional
        Identifies ``lora`` in the cache key.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        layers: Sequence[int],
        *,
        max_length: int = 128,
        batch_size: int = 16,
        num_threads: int = 2,
        precision: str = "fp32",
        parallel_batches: bool = False,
        lora: dict[str, np.ndarray] | None = None,
        lora_sha: str | None = None,
    ):
        if precision not in ONNX_PRECISIONS:
            raise InvalidParameterError(
                f"precision={precision!r} is not supported.",
                expected="one of " + ", ".join(map(repr, ONNX_PRECISIONS)) + ".",
                fix="Pass precision='fp32' (torch's results) or 'int8' (faster).",
            )
        ort = import_onnxruntime()
        from transformers import AutoTokenizer

        self.path = str(path)
        self.layers = tuple(layers)
        self.max_length = max_length
        self.batch_size = batch_size
        self.precision = precision
        self.num_threads = num_threads
        self.parallel_batches = parallel_batches
        self.lora = lora
        self.lora_sha = lora_sha
        self.device = "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.onnx_path = self._build()
        opts = ort.SessionOptions()
        # parallel batches: ``num_threads`` concurrent runs of one thread each
        opts.intra_op_num_threads = 1 if parallel_batches else num_threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(self.onnx_path), opts, providers=["CPUExecutionProvider"]
        )

    def _build(self) -> Path:
        """Export (and quantise) the graph into the cache unless it is there."""
        from journeymine.sentiment._convert import default_cache_dir

        parts: list[object] = [f"onnx-{self.precision}", self.layers, self.lora_sha, _ONNX_RECIPE]
        if self.precision == "int8":
            parts.append(INT8_FP32_BLOCKS)
        key = texts_sha([self.path], *parts)[:16]
        target = default_cache_dir() / "onnx" / f"encoder-{key}-{self.precision}.onnx"
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fp32 = target.with_name(target.stem + f".fp32-{os.getpid()}.onnx")
        tmp = target.with_name(target.stem + f".tmp-{os.getpid()}.onnx")
        try:
            self._export(fp32)
            if self.precision == "int8":
                from transformers import AutoConfig

                config = AutoConfig.from_pretrained(self.path, local_files_only=True)
                _quantize_int8(
                    fp32,
                    tmp,
                    num_heads=config.num_attention_heads,
                    hidden_size=config.hidden_size,
                )
                os.replace(tmp, target)
            else:
                os.replace(fp32, target)
        finally:
            for leftover in (fp32, tmp):
                leftover.unlink(missing_ok=True)
        return target

    def _export(self, target: Path) -> None:
        """``torch.onnx.export`` of the encoder with the LoRA merged and the pooling inside."""
        torch = import_torch()
        from transformers import AutoModel

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

        dummy = self.tokenizer(["query: halo apa kabar"] * 2, return_tensors="pt")
        with torch.no_grad():
            torch.onnx.export(
                Pooled(model),
                (dummy["input_ids"], dummy["attention_mask"]),
                str(target),
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

    def encode(
        self,
        texts: Sequence[str],
        layers: Sequence[int] = (12,),
        *,
        progress: bool = False,
        desc: str = "embedding",
    ) -> np.ndarray:
        """Like :meth:`Encoder.encode`; ``layers`` must be the exported ones."""

        if tuple(layers) != self.layers:
            raise InvalidParameterError(
                f"This ONNX encoder pools layers {self.layers}, not {tuple(layers)}.",
                expected=f"layers={self.layers}, the layers exported into its graph.",
                fix="Pass those layers, or build an OnnxEncoder for the layers you need.",
            )
        texts = list(texts)
        out = np.zeros((len(texts), len(self.layers), 384), dtype=np.float32)
        if not texts:
            return out

        def run(idx: np.ndarray, batch: Any) -> None:
            (pooled,) = self.session.run(
                None,
                {
                    "input_ids": batch["input_ids"].astype(np.int64),
                    "attention_mask": batch["attention_mask"].astype(np.int64),
                },
            )
            out[idx] = pooled

        workers = self.num_threads if self.parallel_batches else 1
        # int8 quantises each batch's activations with one scale, so its
        # features depend on the batch: keep its batches those of the budget
        self.run_batches(
            texts,
            "np",
            run,
            workers=workers,
            progress=progress,
            desc=desc,
            split_small=self.precision == "fp32",
        )
        return out


def _in_blocks(node_name: str, blocks: Sequence[int]) -> bool:
    """Whether an exported node belongs to one of the transformer ``blocks``.

    Examples
    --------
    >>> _in_blocks("/encoder/layer.4/intermediate/dense/MatMul", (4,))
    True
    >>> _in_blocks("/encoder/layer.14/output/dense/MatMul", (4,))
    False
    """
    found = _BLOCK.search(node_name)
    return found is not None and int(found.group(1)) in blocks


def _quantize_int8(source: Path, target: Path, *, num_heads: int, hidden_size: int) -> None:
    """Fuse the BERT graph, then quantise its feed-forward weights to int8 per channel.

    Only the MatMuls outside attention (the two feed-forward layers of each
    block but those of :data:`INT8_FP32_BLOCKS`) are quantised, with one scale
    per output channel and the weights in the 7-bit range (``reduce_range``);
    attention, the embeddings and the most sensitive block stay fp32.
    Of the recipes compared this one stayed within a point of torch on every
    validation split; per-tensor scales on the whole unfused
    graph (the first recipe) cost EmoT and the marketplace set more than a
    point (see ``models/README.md``).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    fused = target.with_name(target.stem + ".fused.onnx")
    try:
        model = optimize_model(
            str(source),
            model_type="bert",
            num_heads=num_heads,
            hidden_size=hidden_size,
            opt_level=0,
        )
        model.save_model_to_file(str(fused))
        feed_forward = [
            n.name
            for n in model.model.graph.node
            if n.op_type == "MatMul"
            and "/attention/" not in n.name
            and not _in_blocks(n.name, INT8_FP32_BLOCKS)
        ]
        quantize_dynamic(
            str(fused),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # 7-bit weights: agreed better with torch on the validation splits
            reduce_range=True,
            nodes_to_quantize=feed_forward,
            # the fused operators have no inferred output types
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        fused.unlink(missing_ok=True)


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
