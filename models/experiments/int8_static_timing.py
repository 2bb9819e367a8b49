"""Encoder CPU seconds of recipe 6 (dynamic) vs static QDQ MinMax, alternating in one process.

Usage: ``PYTHONPATH=$PWD python models/experiments/int8_static_timing.py`` (training texts only).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import int8_static as s
import onnxruntime as ort

from journeymine.sentiment._backends import TransformerBackend
from journeymine.sentiment._encoders import prepare_text


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    backend = TransformerBackend(
        "default", max_length=128, batch_size=16, device="cpu", backend="onnx"
    )
    enc = backend.encoder
    train = s.load_corpus("train", s.DATA)
    domain = s.build_domain_corpus()
    dom_held = s.domain_holdout(domain).to_numpy()
    calib, _ = s.calibration_rows(train, domain, dom_held, s.SEED, 128)
    texts = [prepare_text(t)[1] for t in train["text"].sample(1000, random_state=1).tolist()]
    work = Path("/tmp/h14c_timing")
    work.mkdir(exist_ok=True)
    matmuls = s.fuse(enc.onnx_path, work / "fused.onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    sessions = {"fp32": enc.session}
    for name in ("dyn6", "qdq_minmax"):
        s.build(name, work / "fused.onnx", matmuls, work / f"{name}.onnx", calib, enc)
        sessions[name] = ort.InferenceSession(
            str(work / f"{name}.onnx"), opts, providers=["CPUExecutionProvider"]
        )
    for sess in sessions.values():
        enc.session = sess
        enc.encode(texts[:64], layers=enc.layers)
    for rnd in range(3):
        for name, sess in sessions.items():
            enc.session = sess
            c0 = cpu()
            enc.encode(texts, layers=enc.layers)
            print(rnd, name, round(cpu() - c0, 2), flush=True)


if __name__ == "__main__":
    main()
