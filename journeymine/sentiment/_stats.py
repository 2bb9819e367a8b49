"""Statistics of sentiment over groups of texts: mean with a t-interval, and the excess test.

The mean sentiment of a group is given with a 95% Student-t confidence
interval (``mean ± t(0.975, n-1) · sd / sqrt(n)``; none for one text). A group
has an *excess* of some label (negative texts for pain points, positive ones
for delights) when its share is above the rest's by a one-sided pooled
two-proportion z-test of the group against all other texts; p-values are
corrected over the groups tested (those with at least ``min_total`` texts) by
Benjamini-Hochberg. Effect sizes are the difference in proportions, the risk
ratio, and the excess count ``n · (share - rest share)``. Shares of labels
carry Wilson score intervals (:func:`journeymine._util._stats.wilson_interval`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from journeymine._util._stats import benjamini_hochberg, t_interval

__all__ = ["excess_test", "mean_interval"]


def mean_interval(grouped: pd.core.groupby.SeriesGroupBy) -> pd.DataFrame:
    """Mean with a 95% Student-t interval per group of a grouped Series.

    Parameters
    ----------
    grouped : pandas SeriesGroupBy
        The sentiment values, grouped.

    Returns
    -------
    DataFrame
        ``mean_sentiment``, ``mean_sentiment_low``, ``mean_sentiment_high``
        per group (the bounds NaN for a group of one).

    Examples
    --------
    >>> values = pd.Series([1.0, -1.0, 0.0, 1.0])
    >>> mean_interval(values.groupby(["a", "a", "a", "b"])).round(3).values.tolist()
    [[0.0, -2.484, 2.484], [1.0, nan, nan]]
    """
    agg = grouped.agg(["mean", "std", "count"])
    low, high = t_interval(agg["mean"], agg["std"], agg["count"])
    return pd.DataFrame({"mean_sentiment": agg["mean"], "mean_sentiment_low": low,
                         "mean_sentiment_high": high}, index=agg.index)


def excess_test(hits: pd.Series, totals: pd.Series, min_total: int) -> pd.DataFrame:
    """One-sided test of each group's share of hits against all other groups, BH-corrected.

    Parameters
    ----------
    hits, totals : Series
        Per group: the texts with the label, and all its texts.
    min_total : int
        Groups with fewer texts (or with no other texts to compare) are not
        tested and get a NaN ``q_value``.

    Returns
    -------
    DataFrame
        On the index of ``hits``: ``share``, ``rest_share``, ``overall_share``,
        ``difference``, ``risk_ratio``, ``excess`` (``n · (share - rest
        share)``), ``z``, ``p_value`` and ``q_value`` (Benjamini-Hochberg over
        the tested groups).

    Examples
    --------
    >>> out = excess_test(pd.Series([8, 1, 1]), pd.Series([10, 10, 10]), min_total=5)
    >>> out[["share", "rest_share", "excess"]].round(3).values.tolist()[0]
    [0.8, 0.1, 7.0]
    >>> bool(out["q_value"][0] < 0.001), bool(out["q_value"][1] > 0.5)
    (True, True)
    """
    x, n = hits.astype(float), totals.astype(float)
    big_x, big_n = x.sum(), n.sum()
    rest_x, rest_n = big_x - x, big_n - n
    tested = (n >= min_total) & (rest_n > 0)
    share = x / n
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = rest_x / rest_n
        pooled = big_x / big_n
        se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / rest_n))
        z = ((share - rest) / se).where(se > 0, 0.0)
        ratio = share / rest
    p = z.map(lambda v: 0.5 * math.erfc(v / math.sqrt(2)))
    q = pd.Series(np.nan, index=hits.index)
    q[tested] = benjamini_hochberg(p[tested])
    return pd.DataFrame({
        "share": share, "rest_share": rest,
        "overall_share": big_x / big_n if big_n else np.nan,
        "difference": share - rest, "risk_ratio": ratio, "excess": n * (share - rest),
        "z": z, "p_value": p, "q_value": q,
    })
