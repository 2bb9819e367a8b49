"""Partial label sets: which labels a training row can express, and the masked loss.

No corpus has all labels (EmoT has no neutral/surprise/disgust, GoEmotions no
love, SmSA no emotions at all), so every training row carries a *label mask*
-- the labels its dataset can express
(:data:`~journeymine.sentiment._data.EMOTION_SUPPORT`,
:data:`~journeymine.sentiment._data.SENTIMENT_SUPPORT`) -- and a *candidate
set* -- the labels it was annotated with (several for multi-label GoEmotions
rows; the weak sets implied by a SmSA sentiment). The loss of a row is
``-log sum_{k in candidates} softmax_mask(z)_k``: the softmax is taken over
the masked logits only, so a dataset never pushes down a label it cannot
express, and a multi-label row is satisfied by any of its labels (with one
candidate this is ordinary cross-entropy). At prediction time the softmax
runs over all labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from journeymine.sentiment._data import EMOTION_SUPPORT, EMOTIONS, SENTIMENT_SUPPORT, SENTIMENTS
from journeymine.sentiment._deps import import_torch

__all__ = ["TASKS", "label_arrays", "partial_label_loss"]

#: The two tasks of the model, each with its own head.
TASKS = ("emotion", "sentiment")


def label_arrays(corpus: Any, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Label masks and candidate sets of a corpus for one task.

    Parameters
    ----------
    corpus : pandas.DataFrame
        Columns ``dataset`` and ``emotion``/``sentiment`` (candidate tuples).
    task : {'emotion', 'sentiment'}

    Returns
    -------
    mask, candidates : numpy.ndarray
        Boolean arrays ``(n, n_labels)``: labels the row's dataset can express,
        and the labels it was annotated with (all False: no label for this task).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"dataset": ["emot"], "emotion": [("joy",)], "sentiment": [()]})
    >>> m, c = label_arrays(df, "emotion")
    >>> m.astype(int).tolist(), c.astype(int).tolist()
    ([[1, 1, 0, 1, 0, 1, 1, 0]], [[1, 0, 0, 0, 0, 0, 0, 0]])
    """
    labels = EMOTIONS if task == "emotion" else SENTIMENTS
    support = EMOTION_SUPPORT if task == "emotion" else SENTIMENT_SUPPORT
    index = {lab: i for i, lab in enumerate(labels)}
    n = len(corpus)
    mask = np.zeros((n, len(labels)), dtype=bool)
    cand = np.zeros((n, len(labels)), dtype=bool)
    for r, (ds, cands) in enumerate(zip(corpus["dataset"], corpus[task], strict=True)):
        mask[r, [index[lab] for lab in support[ds]]] = True
        for lab in cands:
            cand[r, index[lab]] = True
    return mask, cand & mask


def partial_label_loss(logits: Any, mask: Any, candidates: Any, weights: Any = None) -> Any:
    """Masked partial-label loss: ``-log sum_{k in candidates} softmax_mask(logits)_k``.

    Labels outside ``mask`` get no probability and no gradient, so a dataset
    never pushes down a label it cannot express; any candidate satisfies a row.

    Parameters
    ----------
    logits : torch.Tensor
        ``(n, k)``.
    mask, candidates : torch.Tensor
        Boolean ``(n, k)``; every row needs at least one candidate inside its mask.
    weights : torch.Tensor, optional
        ``(n,)`` row weights; the loss is their weighted mean.

    Returns
    -------
    torch.Tensor
        A scalar.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> z = torch.zeros(1, 3, requires_grad=True)  # doctest: +SKIP
    >>> m = torch.tensor([[True, True, False]])  # doctest: +SKIP
    >>> c = torch.tensor([[True, False, False]])  # doctest: +SKIP
    >>> partial_label_loss(z, m, c).backward()  # doctest: +SKIP
    >>> z.grad[0, 2].item()  # doctest: +SKIP
    0.0
    """
    torch = import_torch()
    z = logits.masked_fill(~mask, float("-inf"))
    logp = torch.log_softmax(z, dim=1)
    ll = torch.logsumexp(logp.masked_fill(~candidates, float("-inf")), dim=1)
    if weights is None:
        return -ll.mean()
    return -(ll * weights).sum() / weights.sum()
