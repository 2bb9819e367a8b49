"""TF-IDF + logistic-regression emotion and sentiment model (``EmotionTagger(model="fast")``).

It is both the baseline the transformer model must beat and the fast path for
millions of texts: no torch, a sparse matrix product per batch.

Training uses the rows whose candidate set has exactly one label (see
:mod:`journeymine.sentiment._data`): EmoT and single-label GoEmotions rows plus
SmSA's neutral rows for emotions; SmSA, EmoT's implied sentiment and
single-label GoEmotions rows for sentiment. Features are word 1-2-grams and
character 2-5-grams (within word boundaries) of the normalised, lower-cased text.

The fitted model is saved without pickles: a compressed ``.npz`` with the
vocabularies, idf weights, coefficients and intercepts, and JSON settings, so
it loads with any scikit-learn version.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from journeymine.exceptions import ModelIntegrityError, ModelNotFoundError
from journeymine.sentiment._data import (
    EMOTIONS,
    SENTIMENTS,
    detect_language,
    normalize_text,
)

__all__ = ["FastModel", "fast_model_path"]

_FORMAT = "journeymine-tfidf-lr/1"


def fast_model_path() -> Path:
    """Where the shipped fast model lives inside the package."""
    return Path(__file__).resolve().parent / "model" / "fast_tfidf_lr.npz"


def _prep(texts: list[str]) -> list[str]:
    return [normalize_text(t, detect_language(t)).lower() for t in texts]


def _vectorizers(max_word: int, max_char: int):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        min_df=2,
        max_features=max_word,
        sublinear_tf=True,
        token_pattern=r"(?u)\b\w+\b",
        dtype=np.float32,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        min_df=3,
        max_features=max_char,
        sublinear_tf=True,
        dtype=np.float32,
    )
    return word, char


class FastModel:
    """TF-IDF features + one multinomial logistic regression per task.

    Parameters
    ----------
    C : float, default 4.0
        Inverse regularisation strength of both logistic regressions.
    max_word, max_char : int
        Vocabulary sizes of the word and character vectorizers.
    class_weight : {'balanced', None}, default 'balanced'
    dataset_balance : float, default 0.0
        Exponent of inverse dataset-size row weights in each task's fit (0 = none,
        1 = each dataset counts the same, as for the transformer heads); without
        it the large English GoEmotions dominates the shared emotion classes.
    """

    def __init__(
        self,
        C: float = 4.0,
        max_word: int = 40000,
        max_char: int = 60000,
        class_weight: str | None = "balanced",
        dataset_balance: float = 0.0,
    ):
        self.C = C
        self.max_word = max_word
        self.max_char = max_char
        self.class_weight = class_weight
        self.dataset_balance = dataset_balance

    # ------------------------------------------------------------------ fit
    def fit(self, corpus: pd.DataFrame) -> FastModel:
        """Fit on a corpus frame from :func:`journeymine.sentiment._train.load_corpus`.

        Parameters
        ----------
        corpus : pandas.DataFrame
            Columns ``text``, ``emotion``, ``sentiment`` (candidate tuples).

        Returns
        -------
        FastModel
            ``self``.
        """
        from scipy import sparse
        from sklearn.linear_model import LogisticRegression

        texts = _prep(corpus["text"].tolist())
        self.word_, self.char_ = _vectorizers(self.max_word, self.max_char)
        x = sparse.hstack(
            [self.word_.fit_transform(texts), self.char_.fit_transform(texts)]
        ).tocsr()
        self.heads_ = {}
        for task, labels in (("emotion", EMOTIONS), ("sentiment", SENTIMENTS)):
            cands = corpus[task]
            single = cands.map(len).to_numpy() == 1
            y = np.array([labels.index(c[0]) for c in cands[single]])
            weight = None
            if self.dataset_balance and "dataset" in corpus:
                ds = corpus["dataset"].to_numpy()[single]
                names, counts = np.unique(ds, return_counts=True)
                per = {n: len(ds) / (len(names) * c) for n, c in zip(names, counts, strict=True)}
                weight = np.array([per[d] for d in ds]) ** self.dataset_balance
                weight *= len(weight) / weight.sum()
            lr = LogisticRegression(C=self.C, max_iter=2000, class_weight=self.class_weight)
            lr.fit(x[single], y, sample_weight=weight)
            coef = np.zeros((len(labels), x.shape[1]), dtype=np.float32)
            intercept = np.full(len(labels), -30.0, dtype=np.float32)  # unseen class: ~0
            coef[lr.classes_] = lr.coef_
            intercept[lr.classes_] = lr.intercept_
            self.heads_[task] = (coef, intercept)
        return self

    # -------------------------------------------------------------- predict
    def _features(self, texts: list[str]):  # type: ignore[no-untyped-def]
        from scipy import sparse

        prepped = _prep(texts)
        return sparse.hstack([self.word_.transform(prepped), self.char_.transform(prepped)]).tocsr()

    def predict_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Probabilities per task.

        Returns
        -------
        dict
            ``{'emotion': (n, 8), 'sentiment': (n, 3)}`` float32 arrays.
        """
        x = self._features(list(texts))
        out = {}
        for task, (coef, intercept) in self.heads_.items():
            z = np.asarray(x @ coef.T) + intercept
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            out[task] = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
        return out

    # ----------------------------------------------------------------- io
    def save(
        self,
        path: str | os.PathLike[str],
        *,
        metrics: dict | None = None,
        calibration: dict | None = None,
    ) -> Path:
        """Save as a compressed ``.npz`` (float16 coefficients, no pickles).

        ``calibration`` (temperatures, source priors, abstention threshold; see
        :mod:`journeymine.sentiment._adapt`) is stored in the JSON metadata.
        """
        path = Path(path)
        arrays: dict[str, np.ndarray] = {}
        for name, vec in (("word", self.word_), ("char", self.char_)):
            terms = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
            arrays[f"{name}_terms"] = np.array("\n".join(terms).encode("utf-8"))
            arrays[f"{name}_idf"] = vec.idf_.astype(np.float32)
        for task, (coef, intercept) in self.heads_.items():
            arrays[f"{task}_coef"] = coef.astype(np.float16)
            arrays[f"{task}_intercept"] = intercept.astype(np.float32)
        meta = {
            "format": _FORMAT,
            "params": {
                "C": self.C,
                "max_word": self.max_word,
                "max_char": self.max_char,
                "class_weight": self.class_weight,
                "dataset_balance": self.dataset_balance,
            },
            "emotions": list(EMOTIONS),
            "sentiments": list(SENTIMENTS),
            "metrics": metrics or {},
            "calibration": calibration or {},
        }
        arrays["meta"] = np.array(json.dumps(meta).encode("utf-8"))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> FastModel:
        """Load a model saved by :meth:`save` (default: the shipped one).

        Raises
        ------
        ModelNotFoundError
            The file is not there.
        ModelIntegrityError
            The file is not a journeymine TF-IDF model.
        """
        path = Path(path) if path is not None else fast_model_path()
        if not path.is_file():
            raise ModelNotFoundError(
                f"The fast emotion model {str(path)!r} does not exist.",
                expected="fast_tfidf_lr.npz inside journeymine/sentiment/model.",
                fix="Reinstall journeymine, or train it: python -m journeymine model train.",
            )
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            meta = json.loads(bytes(arrays["meta"]).decode("utf-8"))
            if meta.get("format") != _FORMAT:
                raise ValueError(meta.get("format"))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelIntegrityError(
                f"{str(path)!r} is not a journeymine TF-IDF emotion model.",
                expected=f"a {_FORMAT!r} file written by FastModel.save.",
                fix="Reinstall journeymine, or retrain: python -m journeymine model train.",
            ) from exc
        model = cls(**meta["params"])
        model.word_, model.char_ = _vectorizers(model.max_word, model.max_char)
        for name, vec in (("word", model.word_), ("char", model.char_)):
            terms = bytes(arrays[f"{name}_terms"]).decode("utf-8").split("\n")
            vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
            vec.fixed_vocabulary_ = True
            vec.idf_ = arrays[f"{name}_idf"].astype(np.float64)
        model.heads_ = {
            task: (arrays[f"{task}_coef"].astype(np.float32), arrays[f"{task}_intercept"])
            for task in ("emotion", "sentiment")
        }
        model.meta_ = meta
        return model
