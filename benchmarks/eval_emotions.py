"""Score emotion taggers on the hand-labelled evaluation sets of ``tests/data``.

``python benchmarks/eval_emotions.py [--sets chats marketplace e70] [--taggers default/torch ...]``

For each set and tagger (``model/backend``, e.g. ``default/torch``,
``default/onnx-int8``, ``fast/torch``): emotion macro-F1 over the labels the
set holds, per-class precision and recall, sentiment macro-F1, and the
share of texts on which two taggers agree. These files are for evaluation
only: score a candidate once, after choosing it on training or validation
data (see ``models/README.md``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from sklearn.metrics import f1_score, precision_recall_fscore_support

DATA = Path(__file__).parents[1] / "tests" / "data"
SETS = {"chats": DATA / "emotion_eval_chats.csv",
        "marketplace": DATA / "emotion_eval_marketplace.csv",
        "e70": DATA / "emotion_eval.csv"}


def score(truth: pd.DataFrame, pred: pd.DataFrame) -> dict:
    """Macro-F1 over the labels ``truth`` holds, and per-class precision/recall."""
    out = {"n": len(truth)}
    for task in ("emotion", "sentiment"):
        labels = sorted(set(truth[task]))
        out[f"{task}_macro_f1"] = round(float(f1_score(
            truth[task], pred[task], labels=labels, average="macro", zero_division=0)), 4)
        p, r, _, n = precision_recall_fscore_support(
            truth[task], pred[task], labels=labels, zero_division=0)
        out[f"{task}_per_class"] = {lab: {"precision": round(float(a), 3),
                                          "recall": round(float(b), 3), "n": int(c)}
                                    for lab, a, b, c in zip(labels, p, r, n, strict=True)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="*", default=list(SETS), choices=list(SETS))
    ap.add_argument("--taggers", nargs="*", default=["default/torch", "default/onnx-int8"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch

    from journeymine.sentiment import EmotionTagger

    torch.set_num_threads(args.threads)
    results: dict = {}
    for name in args.sets:
        truth = pd.read_csv(SETS[name], dtype=str, keep_default_na=False)
        preds = {}
        for spec in args.taggers:
            model, backend = spec.split("/")
            tagger = EmotionTagger(model, backend=backend, verbose=False)
            preds[spec] = tagger.predict(truth["text"].tolist())
            results.setdefault(name, {})[spec] = score(truth, preds[spec])
        first, *others = args.taggers
        for spec in others:
            for task in ("emotion", "sentiment"):
                same = (preds[spec][task].to_numpy() == preds[first][task].to_numpy()).mean()
                results[name][spec][f"{task}_same_as_{first}"] = round(float(same), 4)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
