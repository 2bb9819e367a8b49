"""The retentioneering-style baseline persona models are compared with (a test helper).

TF-IDF of each customer's touchpoint bigrams, then k-means with k given:
what a clickstream analyst without a sequence model would do.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["tfidf_bigrams"]


def _tokens(log) -> pd.Series:
    """Per customer, the touchpoint bigrams of the journey as one space-separated string."""
    df = log.table.select(["customer_id", "activity", "timestamp"]).to_pandas()
    df = df.sort_values(["customer_id", "timestamp"], kind="mergesort")
    nxt = df.groupby("customer_id")["activity"].shift(-1)
    words = (df["activity"].str.replace(r"\W", "_", regex=True) + "__"
             + nxt.fillna("END").str.replace(r"\W", "_", regex=True))
    return words.groupby(df["customer_id"]).agg(" ".join)


def tfidf_bigrams(log, k: int, seed: int = 0) -> pd.Series:
    """Persona (0 .. k-1) per customer of ``log``: TF-IDF of touchpoint bigrams + k-means.

    Examples
    --------
    >>> import journeymine as jm
    >>> labels = tfidf_bigrams(jm.datasets.make_journeys(100, random_state=0), 3)
    >>> len(labels), labels.nunique()
    (100, 3)
    """
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = _tokens(log)
    X = TfidfVectorizer(token_pattern=r"\S+", lowercase=False).fit_transform(docs)
    labels = KMeans(k, n_init=4, random_state=seed).fit_predict(X)
    return pd.Series(labels, index=docs.index)
