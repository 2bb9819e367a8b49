"""Quotes: a few representative, diverse texts of one touchpoint.

Texts are ranked by the tagger's probability of the wanted sentiment (its
``sentiment_score`` when none is wanted; texts without a probability rank
equal), then by how many distinct content words they have (up to 12), then by
time; quotes are then picked greedily, skipping a text by a customer already
quoted or whose word set overlaps a picked quote's by a Jaccard index of 0.5
or more (:func:`diverse_quotes`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeymine._util._json import records
from journeymine.eventlog._schema import CUSTOMER, TIMESTAMP
from journeymine.sentiment._phrases import content_words

__all__ = ["diverse_quotes", "quote_records"]


def _jaccard(a: frozenset, b: frozenset) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def diverse_quotes(pool: pd.DataFrame, n: int, sentiment: str | None) -> pd.DataFrame:
    """Pick up to ``n`` high-scoring quotes from distinct customers, no near-duplicates."""
    column = f"p_sentiment_{sentiment}" if sentiment else "sentiment_score"
    score = (pd.to_numeric(pool[column], errors="coerce") if column in pool.columns
             else pd.Series(np.nan, index=pool.index)).fillna(1.0)
    words = pool["text"].map(content_words)
    ranked = pool.assign(score=score, _words=words, _richness=words.map(len).clip(upper=12))
    ranked = ranked.sort_values(["score", "_richness", "timestamp", "text"],
                                ascending=[False, False, True, True], kind="stable")
    picked: list[int] = []
    customers: set = set()
    seen: list[frozenset] = []
    for idx, cust, ws in zip(ranked.index, ranked[CUSTOMER], ranked["_words"], strict=True):
        if cust in customers or any(_jaccard(ws, other) >= 0.5 for other in seen):
            continue
        picked.append(idx)
        customers.add(cust)
        seen.append(ws)
        if len(picked) == n:
            break
    cols = [CUSTOMER, TIMESTAMP, "text", "emotion", "sentiment", "score", "channel"]
    return ranked.loc[picked, cols].reset_index(drop=True)


def quote_records(quotes: pd.DataFrame) -> list[dict]:
    """Quotes as JSON-ready dicts: text, customer_id, timestamp, emotion, score."""
    return records(quotes, ["text", CUSTOMER, TIMESTAMP, "emotion", "score"])

