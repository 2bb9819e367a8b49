"""Static (calibrated) int8 ONNX recipes for the emotion encoder, compared with recipe 6.

Issue 14, speed at torch's quality. Every candidate starts from the same fp32
export (``backend='onnx'``, fused offline like recipe 6) and quantises the
same feed-forward MatMuls (all blocks but :data:`INT8_FP32_BLOCKS`) unless a
candidate says otherwise. Static candidates are calibrated with
``onnxruntime.quantization.quantize_static`` on **training rows only**:
public training rows outside the adapter's held-out rows (EmoT, SmSA,
GoEmotions) plus domain rows whose cores are not held out. They are compared
on held-out training rows (the ``_refit`` calibration rows + held-out domain
cores): KL(fp32 || candidate) of the tagger's probabilities and argmax
agreement, and on the validation splits used for the bars (EmoT 440, SmSA
1,260, GoEmotions 1,500). The evaluation sets in ``tests/data`` are never read
here.

Usage (from the repository root)::

    PYTHONPATH=$PWD nice -n 5 python models/experiments/int8_static.py \
        --candidates dyn6 qdq_minmax qdq_pct --out /tmp/int8_static.json
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from journeymine.sentiment._backends import TransformerBackend
from journeymine.sentiment._domain import build_domain_corpus, domain_holdout
from journeymine.sentiment._encoders import (
    INT8_FP32_BLOCKS,
    _in_blocks,
    _quantize_int8,
    prepare_text,
)
from journeymine.sentiment._refit import CALIBRATION_ROWS, DOMAIN_REPLAY_ROWS, DOMAIN_VALID_ROWS
from journeymine.sentiment._train import (
    HOLDOUT_ROWS,
    LORA_TRAIN_ROWS,
    SEED,
    evaluate,
    load_corpus,
    subsample_mask,
)

DATA = "/work/shared/data"

#: name -> settings; ``static`` False = quantize_dynamic (recipe 6 itself).
CANDIDATES: dict[str, dict] = {
    "fused_fp32": {"static": False, "none": True},
    "dyn6": {"static": False},
    "qdq_minmax": {"format": "QDQ", "method": "MinMax"},
    "qdq_minmax_rr": {"format": "QDQ", "method": "MinMax", "reduce_range": True},
    "qdq_minmax_u8": {"format": "QDQ", "method": "MinMax", "activation": "QUInt8"},
    "qdq_pct": {"format": "QDQ", "method": "Percentile", "percentile": 99.999},
    "qdq_pct9999": {"format": "QDQ", "method": "Percentile", "percentile": 99.99},
    "qdq_entropy": {"format": "QDQ", "method": "Entropy"},
    "qop_minmax": {"format": "QOperator", "method": "MinMax", "activation": "QUInt8"},
    "qdq_minmax_b45": {"format": "QDQ", "method": "MinMax", "fp32_blocks": (4, 5)},
    "qdq_minmax_pt": {"format": "QDQ", "method": "MinMax", "per_channel": False},
    "qdq_minmax_outq": {"format": "QDQ", "method": "MinMax", "output_q": True},
}


def _rusage_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def calibration_rows(train, domain, dom_held, seed: int, per_source: int):
    """Training rows for calibration: public rows outside the held-out pool, and domain rows."""
    in_sub = subsample_mask(train, LORA_TRAIN_ROWS, seed)
    hold_all = subsample_mask(train, HOLDOUT_ROWS, seed, among=~in_sub, all_if_missing=False)
    replay_m = subsample_mask(train, DOMAIN_REPLAY_ROWS, seed + 1, among=~hold_all)
    rng = np.random.default_rng(seed + 7)
    texts = []
    for name in ("emot", "smsa", "goemotions"):
        idx = np.flatnonzero(replay_m & (train["dataset"].to_numpy() == name))
        texts += train["text"].iloc[rng.choice(idx, per_source, replace=False)].tolist()
    idx = np.flatnonzero(~dom_held)
    texts += domain["text"].iloc[rng.choice(idx, per_source, replace=False)].tolist()
    return texts, hold_all


class Reader:
    """CalibrationDataReader: padded token-length batches of prepared training texts."""

    def __init__(self, encoder, texts: list[str]):
        prepared = [prepare_text(t)[1] for t in texts]
        self.batches = [
            {
                "input_ids": b["input_ids"].astype(np.int64),
                "attention_mask": b["attention_mask"].astype(np.int64),
            }
            for _, b in encoder.padded_batches(prepared, "np")
        ]
        self.it = iter(self.batches)

    def get_next(self):
        return next(self.it, None)

    def rewind(self):
        self.it = iter(self.batches)


FLOAT_OPS = {"SkipLayerNormalization", "BiasGelu", "MatMul"}


def fuse(fp32: Path, out: Path) -> list[str]:
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(str(fp32), model_type="bert", num_heads=12, hidden_size=384, opt_level=0)
    # the fused contrib operators have no inferred types: declare their outputs
    # float so that quantize_static can quantise the activations they feed
    from onnx import TensorProto, helper

    known = {v.name for v in model.model.graph.value_info}
    for node in model.model.graph.node:
        if node.op_type in FLOAT_OPS:
            for name in node.output:
                if name and name not in known:
                    model.model.graph.value_info.append(
                        helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
                    )
    model.save_model_to_file(str(out))
    return [
        n.name
        for n in model.model.graph.node
        if n.op_type == "MatMul" and "/attention/" not in n.name
    ]


def build(name: str, fused: Path, matmuls: list[str], out: Path, calib_texts, encoder) -> float:
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    spec = CANDIDATES[name]
    blocks = spec.get("fp32_blocks", INT8_FP32_BLOCKS)
    nodes = [n for n in matmuls if not _in_blocks(n, blocks)]
    t0 = time.perf_counter()
    if spec.get("none"):
        import shutil

        shutil.copyfile(fused, out)
        return 0.0
    if not spec.get("static", True):
        # the shipped recipe 6 itself (fuses the fp32 export again)
        _quantize_int8(encoder.onnx_path, out, num_heads=12, hidden_size=384)
        return time.perf_counter() - t0
    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT, "MatMulConstBOnly": True}
    if not spec.get("output_q", False):
        # int8 inputs, float output: ORT fuses DQ + MatMul into MatMulIntegerToFloat
        extra["OpTypesToExcludeOutputQuantization"] = ["MatMul"]
    if spec["method"] == "Percentile":
        extra["CalibPercentile"] = spec["percentile"]
    quantize_static(
        str(fused),
        str(out),
        Reader(encoder, calib_texts),
        quant_format=getattr(QuantFormat, spec["format"]),
        per_channel=spec.get("per_channel", True),
        reduce_range=spec.get("reduce_range", False),
        activation_type=getattr(QuantType, spec.get("activation", "QInt8")),
        weight_type=QuantType.QInt8,
        nodes_to_quantize=nodes,
        calibrate_method=getattr(CalibrationMethod, spec["method"]),
        extra_options=extra,
    )
    return time.perf_counter() - t0


def kl(p: np.ndarray, q: np.ndarray) -> float:
    p = np.clip(p, 1e-8, 1)
    q = np.clip(q, 1e-8, 1)
    return float(np.mean(np.sum(p * (np.log(p) - np.log(q)), 1)))


def main(argv: list[str] | None = None) -> None:
    import onnxruntime as ort

    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", nargs="+", default=list(CANDIDATES))
    ap.add_argument("--per-source", type=int, default=128, help="calibration texts per source")
    ap.add_argument("--valid", action="store_true", help="also score the validation splits")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args(argv)

    backend = TransformerBackend(
        "default", max_length=128, batch_size=16, device="cpu", backend="onnx"
    )
    enc = backend.encoder
    train = load_corpus("train", DATA)
    domain = build_domain_corpus()
    dom_held = domain_holdout(domain).to_numpy()
    calib, hold_all = calibration_rows(train, domain, dom_held, SEED, args.per_source)
    held_m = subsample_mask(train, CALIBRATION_ROWS, SEED + 2, among=hold_all, all_if_missing=False)
    held_texts = train["text"][held_m].tolist() + domain["text"][dom_held].tolist()
    assert not set(calib) & set(held_texts)
    sets = {"held": held_texts}
    valid = None
    if args.valid:
        valid = load_corpus("valid", DATA, rows=DOMAIN_VALID_ROWS, seed=SEED)
        sets["valid"] = valid["text"].tolist()
    prepared = {k: [prepare_text(t)[1] for t in v] for k, v in sets.items()}

    def run(session) -> tuple[dict, float]:
        enc.session = session
        out, cpu = {}, 0.0
        for k in sets:
            c0 = _rusage_cpu()
            out[k] = backend.predict(prepared[k], progress=False, raw=sets[k])
            if k == "held":
                cpu = _rusage_cpu() - c0
        return out, cpu

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL

    def session(path: Path):
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    work = args.workdir or Path(tempfile.mkdtemp(prefix="int8s-"))
    work.mkdir(parents=True, exist_ok=True)
    fused = work / "fused.onnx"
    matmuls = fuse(enc.onnx_path, fused)
    warm = session(enc.onnx_path)
    enc.session = warm
    backend.predict(prepared["held"][:64], progress=False, raw=sets["held"][:64])
    ref, ref_cpu = run(warm)
    results = {
        "calibration_texts": len(calib),
        "held_texts": len(held_texts),
        "fp32": {"held_cpu_s": round(ref_cpu, 2)},
    }
    if valid is not None:
        m = evaluate(ref["valid"], valid)
        results["fp32"]["valid"] = {k: round(v["macro_f1_restricted"], 4) for k, v in m.items()}
    print(json.dumps(results), flush=True)
    probe = [prepare_text(t)[1] for t in held_texts[:64]]
    for name in args.candidates:
        path = work / f"{name}.onnx"
        try:
            secs = build(name, fused, matmuls, path, calib, enc)
        except Exception as exc:  # report and go on with the next candidate
            results[name] = {"error": repr(exc)[:400]}
            print(name, results[name], flush=True)
            continue
        sess = session(path)
        got, cpu = run(sess)
        row = {
            "build_s": round(secs, 1),
            "held_cpu_s": round(cpu, 2),
            "mb": path.stat().st_size >> 20,
        }
        row["cpu_ratio_to_fp32"] = round(cpu / ref_cpu, 3)
        for task in ("emotion", "sentiment"):
            p, q = ref["held"][task], got["held"][task]
            row[f"kl_{task}"] = round(kl(p, q), 5)
            row[f"agree_{task}"] = round(float((p.argmax(1) == q.argmax(1)).mean()), 4)
        # batch dependence: features of 64 texts encoded together vs one by one
        enc.session = sess
        together = enc.encode(probe, layers=enc.layers)
        alone = np.concatenate([enc.encode([t], layers=enc.layers) for t in probe])
        row["batch_max_abs_diff"] = float(np.abs(together - alone).max())
        if valid is not None:
            m = evaluate(got["valid"], valid)
            row["valid"] = {k: round(v["macro_f1_restricted"], 4) for k, v in m.items()}
        results[name] = row
        print(name, json.dumps(row), flush=True)
        args.out.write_text(json.dumps(results, indent=1))
        path.unlink()
        for extra in work.glob("*augmented*"):
            extra.unlink()
    args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
