"""Small vectorised statistics shared by the emotion and insight tables.

Wilson intervals of proportions, Newcombe's interval and a two-sample test
for the difference of two proportions, Student-t intervals of means,
Benjamini-Hochberg q-values, the
Mantel-Haenszel pooled risk difference over strata (with Sato's variance
and the Cochran-Mantel-Haenszel test), a distribution-free interval for a
median, and a binomial scan for the calendar window whose rate departs most
from the rest. NumPy only at import time; the distribution functions come
from ``scipy.special`` (imported where needed), never ``scipy.stats``, whose
import costs a command-line run about a second.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Z95", "benjamini_hochberg", "binom_sf", "binomial_scan", "fisher_exact",
           "mantel_haenszel",
           "median_rank_bounds", "newcombe_interval", "normal_two_sided", "t_interval",
           "two_proportion_test", "wilson_interval"]

#: The 97.5% quantile of the standard normal: half-width of a 95% interval in standard errors.
Z95 = 1.959963984540054


def wilson_interval(successes, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion (vectorised; NaN where ``n`` is 0).

    Examples
    --------
    >>> low, high = wilson_interval(8, 10)
    >>> round(float(low), 4), round(float(high), 4)
    (0.4902, 0.9433)
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1 + z**2 / n
        center = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(center - half, 0, 1), np.clip(center + half, 0, 1)


def newcombe_interval(x_a, n_a, x_b, n_b, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval of the difference ``x_b/n_b - x_a/n_a`` (vectorised).

    Built from the two Wilson intervals (Newcombe 1998, method 10): it stays
    inside [-1, 1] and keeps its coverage for small counts and rates near 0
    or 1, where the Wald interval fails. NaN where a denominator is 0.

    Examples
    --------
    >>> low, high = newcombe_interval(10, 100, 25, 100)
    >>> round(float(low), 4), round(float(high), 4)
    (0.0447, 0.2533)
    """
    x_a, n_a, x_b, n_b = (np.asarray(v, dtype=float) for v in (x_a, n_a, x_b, n_b))
    lo_a, hi_a = wilson_interval(x_a, n_a, z)
    lo_b, hi_b = wilson_interval(x_b, n_b, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a, p_b = x_a / n_a, x_b / n_b
    d = p_b - p_a
    low = d - np.sqrt((p_b - lo_b) ** 2 + (hi_a - p_a) ** 2)
    high = d + np.sqrt((hi_b - p_b) ** 2 + (p_a - lo_a) ** 2)
    return low, high


def t_interval(mean, std, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Student-t interval ``mean ± t(1 - α/2, n - 1) · std / sqrt(n)`` (vectorised).

    NaN bounds where ``n`` < 2 (no spread to estimate).

    Examples
    --------
    >>> low, high = t_interval(3.0, 1.0, 4)
    >>> round(float(low), 3), round(float(high), 3)
    (1.409, 4.591)
    """
    from scipy.special import stdtrit

    mean, std, n = (np.asarray(a, dtype=float) for a in (mean, std, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = np.where(n > 1, n - 1, np.nan)
        half = stdtrit(dof, 0.5 + confidence / 2) * std / np.sqrt(n)
    return mean - half, mean + half


def two_proportion_test(x_a, n_a, x_b, n_b, *, min_expected: float = 5.0) -> np.ndarray:
    """Two-sided p-values of ``x_a/n_a = x_b/n_b`` for many pairs of proportions.

    The pooled two-proportion z-test where every expected cell of the 2×2
    table (successes and failures on both sides) is at least
    ``min_expected``, else Fisher's exact test (counts rounded to whole
    numbers). 1 where a side is empty or nothing varies.

    Examples
    --------
    45 of 100 against 60 of 100: a z-test; 1 of 10 against 7 of 10: Fisher.

    >>> two_proportion_test([45, 1], [100, 10], [60, 7], [100, 10]).round(4).tolist()
    [0.0337, 0.0198]
    """
    x_a, n_a, x_b, n_b = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x_a, n_a, x_b, n_b))
    n = n_a + n_b
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x_a + x_b) / n
        se = np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
        z = (x_b / n_b - x_a / n_a) / se
        expected = np.minimum(pooled, 1 - pooled) * np.minimum(n_a, n_b)
    p = np.ones_like(x_a)
    valid = (n_a > 0) & (n_b > 0) & (se > 0)
    large = valid & (expected >= min_expected)
    p[large] = normal_two_sided(z[large])
    for i in np.flatnonzero(valid & ~large):
        p[i] = fisher_exact(round(x_a[i]), round(n_a[i]), round(x_b[i]), round(n_b[i]))
    return p


def fisher_exact(x_a: int, n_a: int, x_b: int, n_b: int) -> float:
    """Two-sided p-value of Fisher's exact test of ``x_a/n_a = x_b/n_b``.

    The probability, given both margins, of every table at most as likely as
    the observed one (the hypergeometric distribution of ``x_a``), as R's
    ``fisher.test`` and SciPy compute it.

    Examples
    --------
    >>> round(fisher_exact(1, 10, 7, 10), 4)
    0.0198
    """
    from scipy.special import gammaln

    def log_choose(n, k):
        return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)

    total = x_a + x_b
    k = np.arange(max(0, total - n_b), min(n_a, total) + 1)
    log_pmf = log_choose(n_a, k) + log_choose(n_b, total - k) - log_choose(n_a + n_b, total)
    observed = log_pmf[x_a - k[0]]
    return float(min(1.0, np.exp(log_pmf[log_pmf <= observed + 1e-7]).sum()))


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * p.size / np.arange(1, p.size + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def normal_two_sided(z) -> np.ndarray:
    """Two-sided p-value of standard normal scores (vectorised; NaN stays NaN).

    Examples
    --------
    >>> normal_two_sided([0.0, 1.959963984540054]).round(3).tolist()
    [1.0, 0.05]
    """
    from scipy.special import erfc

    return erfc(np.abs(np.asarray(z, dtype=float)) / math.sqrt(2))


def mantel_haenszel(x1, n1, x0, n0) -> dict[str, np.ndarray]:
    """Mantel-Haenszel pooled risk difference of many 2×2 tables at once.

    Each row of the ``(tests, strata)`` arrays is one comparison: in stratum
    ``k``, ``x1`` of ``n1`` exposed and ``x0`` of ``n0`` unexposed units had
    the outcome. Strata with no exposed or no unexposed unit carry no weight.
    The pooled difference is ``Σ w (p1 - p0) / Σ w`` with ``w = n1 n0 / N``;
    its variance is Sato's (1989), consistent for many sparse strata as well
    as for few large ones; the p-value is the Cochran-Mantel-Haenszel test
    (no continuity correction).

    Parameters
    ----------
    x1, n1, x0, n0 : array-like of shape (tests, strata) or (strata,)
        Outcomes and units, exposed and unexposed.

    Returns
    -------
    dict of str to ndarray of shape (tests,)
        ``difference`` with ``low``/``high`` (95%), ``p_value``, ``n1`` and
        ``n0`` (units in strata that carry weight), ``p1`` and ``p0`` (the
        exposed and unexposed rates, the unexposed one standardised to the
        exposed units' strata: what the exposed would have had without it).

    Examples
    --------
    Two strata in which exposure lowers the rate by 0.3:

    >>> r = mantel_haenszel([[5, 10]], [[50, 50]], [[40, 50]], [[100, 100]])
    >>> round(float(r["difference"][0]), 3), bool(r["high"][0] < 0)
    (-0.3, True)
    """
    x1, n1, x0, n0 = (np.atleast_2d(np.asarray(a, dtype=float)) for a in (x1, n1, x0, n0))
    informative = (n1 > 0) & (n0 > 0)
    n1 = np.where(informative, n1, 0.0)
    n0 = np.where(informative, n0, 0.0)
    x1 = np.where(informative, x1, 0.0)
    x0 = np.where(informative, x0, 0.0)
    big_n = n1 + n0
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_n = np.where(big_n > 0, big_n, 1.0)
        w = n1 * n0 / safe_n
        p1k = np.where(n1 > 0, x1 / np.where(n1 > 0, n1, 1.0), 0.0)
        p0k = np.where(n0 > 0, x0 / np.where(n0 > 0, n0, 1.0), 0.0)
        sum_w = w.sum(axis=1)
        diff = (w * (p1k - p0k)).sum(axis=1) / sum_w
        p_sum = ((n1**2 * x0 - n0**2 * x1 + n1 * n0 * (n0 - n1) / 2) / safe_n**2).sum(axis=1)
        q_sum = ((x1 * (n0 - x0) + x0 * (n1 - x1)) / (2 * safe_n)).sum(axis=1)
        var = np.maximum((diff * p_sum + q_sum) / sum_w**2, 0.0)
        half = Z95 * np.sqrt(var)
        total_x = x1 + x0
        expected = n1 * total_x / safe_n
        v = n1 * n0 * total_x * (big_n - total_x) / (safe_n**2 * np.where(big_n > 1, big_n - 1,
                                                                              1.0))
        z = (x1 - expected).sum(axis=1) / np.sqrt(v.sum(axis=1))
        exposed = n1.sum(axis=1)
        p1 = x1.sum(axis=1) / exposed
        p0 = (n1 * p0k).sum(axis=1) / exposed
    p_value = np.where(np.isfinite(z), normal_two_sided(np.nan_to_num(z)), 1.0)
    return {"difference": diff, "low": diff - half, "high": diff + half, "p_value": p_value,
            "n1": exposed, "n0": n0.sum(axis=1), "p1": p1, "p0": p0}


def median_rank_bounds(n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """0-based ranks of a distribution-free interval for the median of ``n`` sorted values.

    The interval ``[x(lo), x(hi)]`` covers the median with at least
    ``confidence`` (order statistics; the number of values below the median
    is Binomial(n, 1/2)).

    Examples
    --------
    >>> lo, hi = median_rank_bounds([10, 100])
    >>> lo.tolist(), hi.tolist()
    ([1, 39], [8, 60])
    """
    from scipy.special import bdtr

    n = np.asarray(n, dtype=np.int64)
    alpha = (1 - confidence) / 2
    # The alpha-quantile of Binomial(n, 1/2): the smallest k with P(X <= k) >= alpha.
    k = np.zeros(n.shape, dtype=np.int64)
    step = np.int64(1) << max(int(n.max(initial=0)).bit_length(), 1)
    while step:  # binary search on k, all n at once
        probe = k + step - 1
        below = (probe < n) & (bdtr(np.minimum(probe, n), n, 0.5) < alpha)
        k = np.where(below, k + step, k)
        step >>= 1
    lo = np.clip(k - 1, 0, np.maximum(n - 1, 0))
    hi = np.clip(n - 1 - lo, 0, np.maximum(n - 1, 0))
    return lo, hi


def binom_sf(k, n, p) -> np.ndarray:
    """``P(X > k)`` for ``X ~ Binomial(n, p)``, vectorised (``scipy.stats.binom.sf``).

    Examples
    --------
    >>> binom_sf([-1, 0, 4, 10], 10, 0.5).round(4).tolist()
    [1.0, 0.999, 0.623, 0.0]
    """
    from scipy.special import bdtrc

    k, n, p = np.broadcast_arrays(np.floor(np.asarray(k, dtype=float)).astype(np.int64),
                                  np.asarray(n, dtype=np.int64), np.asarray(p, dtype=float))
    inside = bdtrc(np.clip(k, 0, np.maximum(n - 1, 0)), n, p)
    return np.where(k < 0, 1.0, np.where(k >= n, 0.0, inside))


def binomial_scan(x: np.ndarray, n: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
    """The calendar window whose rate departs most from the rest, for many series at once.

    For every series (row of ``x``: successes per period; ``n``: trials per
    period, shared) and every window of consecutive periods with a length in
    ``lengths``, the binomial log-likelihood ratio of "one rate inside, one
    outside" against "one rate everywhere" (Kulldorff's scan statistic, both
    directions). Returns the best window of each series with a p-value:
    ``2·LLR`` is χ²(1) for one fixed window, Bonferroni-multiplied by the
    number of windows scanned (conservative: overlapping windows are
    strongly correlated).

    Parameters
    ----------
    x : ndarray of shape (series, periods)
    n : ndarray of shape (periods,)
    lengths : ndarray of int
        Window lengths in periods to try.

    Returns
    -------
    dict of str to ndarray of shape (series,)
        ``start`` (first period), ``stop`` (last period + 1), ``llr``,
        ``p_value``, ``rate_in``, ``rate_out``.

    Examples
    --------
    >>> n = np.full(60, 100)
    >>> x = np.full((1, 60), 5); x[0, 20:30] = 30
    >>> r = binomial_scan(x, n, np.arange(3, 31))
    >>> int(r["start"][0]), int(r["stop"][0]), bool(r["p_value"][0] < 1e-6)
    (20, 30, True)
    """
    from scipy.special import chdtrc, xlogy

    x = np.atleast_2d(np.asarray(x, dtype=float))
    n = np.asarray(n, dtype=float)
    periods = n.size
    cx = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)], axis=1)
    cn = np.concatenate([[0.0], np.cumsum(n)])
    total_x, total_n = cx[:, -1:], cn[-1]

    def loglik(k, m):
        return xlogy(k, np.where(m > 0, k / np.where(m > 0, m, 1), 1)) + xlogy(
            m - k, np.where(m > 0, (m - k) / np.where(m > 0, m, 1), 1))

    null = loglik(total_x, total_n)
    best = np.full(x.shape[0], -np.inf)
    start = np.zeros(x.shape[0], dtype=np.int64)
    stop = np.zeros(x.shape[0], dtype=np.int64)
    n_windows = 0
    for length in lengths:
        length = int(length)
        if not 0 < length < periods:
            continue
        a = np.arange(periods - length + 1)
        k_in = cx[:, a + length] - cx[:, a]
        m_in = cn[a + length] - cn[a]
        k_out, m_out = total_x - k_in, total_n - m_in
        llr = loglik(k_in, m_in) + loglik(k_out, m_out) - null
        n_windows += a.size
        at = np.argmax(llr, axis=1)
        value = llr[np.arange(x.shape[0]), at]
        better = value > best
        best = np.where(better, value, best)
        start = np.where(better, a[at], start)
        stop = np.where(better, a[at] + length, stop)
    rows = np.arange(x.shape[0])
    k_in = cx[rows, stop] - cx[rows, start]
    m_in = cn[stop] - cn[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_in = k_in / m_in
        rate_out = (total_x[:, 0] - k_in) / (total_n - m_in)
    p_single = chdtrc(1, 2 * np.maximum(best, 0))
    return {"start": start, "stop": stop, "llr": best,
            "p_value": np.minimum(1.0, p_single * max(n_windows, 1)),
            "rate_in": rate_in, "rate_out": rate_out}
