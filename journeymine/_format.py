"""Small formatting helpers shared by reports, the CLI and notebook displays."""

from __future__ import annotations

import math


def humanize_seconds(seconds: float | None) -> str:
    """A short human duration: ``45s``, ``12m``, ``3.5h``, ``2.1d``; ``–`` for missing.

    Examples
    --------
    >>> [humanize_seconds(s) for s in (45, 720, 12600, 181440, None)]
    ['45s', '12m', '3.5h', '2.1d', '–']
    """
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    s = float(seconds)
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{s / 60:.0f}m"
    if s < 86400:
        return f"{s / 3600:.1f}h"
    return f"{s / 86400:.1f}d"


def percent(share: float | None, digits: int = 1) -> str:
    """``0.1234`` -> ``'12.3%'``; ``–`` for missing.

    Examples
    --------
    >>> percent(0.1234), percent(float("nan"))
    ('12.3%', '–')
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{100 * share:.{digits}f}%"
