"""Small formatting helpers shared by reports, the CLI and notebook displays."""

from __future__ import annotations

import math

from journeymine._util._json import VARIANT_SEPARATOR


def humanize_seconds(seconds: float | None) -> str:
    """Format a duration compactly: ``45s``, ``12m``, ``3.5h``, ``2.1d``.

    Parameters
    ----------
    seconds : float or None
        A duration in seconds; ``None`` or NaN gives ``"n/a"``.

    Returns
    -------
    str

    Examples
    --------
    >>> [humanize_seconds(s) for s in (45, 720, 12600, 181440, 3600, float("nan"))]
    ['45s', '12m', '3.5h', '2.1d', '1h', 'n/a']
    """
    if seconds is None or not math.isfinite(float(seconds)):
        return "n/a"
    s = max(float(seconds), 0.0)
    if s < 59.5:
        return f"{s:.0f}s"
    if s < 3570:
        return f"{s / 60:.0f}m"
    for unit, size in (("h", 3600.0), ("d", 86400.0)):
        value = s / size
        if unit == "d" or value < 23.95:
            text = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
            return text.removesuffix(".0") + unit
    raise AssertionError("unreachable")  # pragma: no cover


def percent(share: float | None, digits: int = 1) -> str:
    """``0.1234`` -> ``'12.3%'``; ``n/a`` for missing.

    Examples
    --------
    >>> percent(0.1234), percent(float("nan"))
    ('12.3%', 'n/a')
    """
    if share is None or not math.isfinite(float(share)):
        return "n/a"
    return f"{100 * share:.{digits}f}%"


def short_path(variant: str, steps: int) -> str:
    """A journey (``"a > b > c"``) with its steps past ``steps`` counted instead of listed.

    Examples
    --------
    >>> short_path("ad > view > cart > pay", 2)
    'ad > view … (2 more steps)'
    >>> short_path("ad > pay", 2)
    'ad > pay'
    """
    parts = variant.split(VARIANT_SEPARATOR)
    if len(parts) <= steps:
        return variant
    return f"{VARIANT_SEPARATOR.join(parts[:steps])} … ({len(parts) - steps:,} more steps)"


def score(metric: str, value: float | None) -> str:
    """A satisfaction metric as people read it: NPS in signed points, CSAT in percent.

    ``metric`` is ``"nps"`` (points, -100 to 100), ``"csat"`` (a share) or
    anything else (a mean score, two decimals); ``–`` for missing.

    Examples
    --------
    >>> score("nps", 18.9), score("csat", 0.734), score("mean_score", 4.125), score("nps", None)
    ('+19', '73%', '4.12', '–')
    """
    if value is None or not math.isfinite(float(value)):
        return "–"
    if metric == "nps":
        return f"{value:+.0f}"
    if metric == "csat":
        return f"{100 * value:.0f}%"
    return f"{value:.2f}"
