"""The histogram of gaps between a customer's events as a small standalone SVG.

Bars over log-spaced bins (as :func:`~journeymine.suggest_gap` counts them),
ticks at round durations (1s, 1m, 1h, 1d, 1w, ...), and a dashed line at each
marked gap (the suggested session gap, and the gap used when it differs). No
script, no network; the same histogram gives the same bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

from journeymine.reporting._format import humanize_seconds

__all__ = ["render_gap_histogram"]

_WIDTH, _HEIGHT, _LEFT, _RIGHT, _TOP, _BOTTOM = 640, 190, 16, 16, 28, 24
#: Tick marks: round durations in seconds.
_TICKS = (1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400)
_TICK_WORDS = ("1s", "10s", "1m", "10m", "1h", "6h", "1d", "1w", "30d", "1y")


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def render_gap_histogram(bin_edges: Sequence[float], counts: Sequence[int], *,
                         marks: Sequence[tuple[str, float]] = (),
                         title: str = "Gaps between a customer's events") -> str:
    """The gap histogram as an SVG bar chart on a log time axis.

    Parameters
    ----------
    bin_edges : sequence of float
        Bin edges in seconds, increasing and positive (``len(counts) + 1``).
    counts : sequence of int
        Gaps per bin.
    marks : sequence of (str, float)
        Labelled gaps in seconds drawn as dashed lines (e.g. the session gap).
    title : str
        The SVG title.

    Returns
    -------
    str
        An ``<svg>`` element.

    Examples
    --------
    >>> svg = render_gap_histogram([1, 10, 100, 1000], [5, 1, 8],
    ...                            marks=[("session gap", 30)])
    >>> svg.count('class="jm-bar"'), "session gap 30s" in svg
    (3, True)
    """
    edges = np.asarray(bin_edges, dtype=float)
    heights = np.asarray(counts, dtype=float)
    if len(edges) != len(heights) + 1 or not len(heights) or edges[0] <= 0:
        return ""
    lo, hi = math.log10(edges[0]), math.log10(edges[-1])
    span = max(hi - lo, 1e-9)
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def x_of(seconds: float) -> float:
        return _LEFT + (math.log10(seconds) - lo) / span * plot_w

    top = max(float(heights.max()), 1.0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="jm-gaps" viewBox="0 0 {_WIDTH} '
        f'{_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" role="img" '
        'font-family="system-ui, sans-serif" font-size="11">',
        f"<title>{html.escape(title)}</title>",
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" y2="{_TOP + plot_h}" '
        'stroke="#9aa5b1"/>',
        f'<text x="{_LEFT}" y="16" fill="#555">gaps (max {int(top):,} per bin)</text>',
    ]
    for left, right, n in zip(edges[:-1], edges[1:], heights, strict=True):
        h = n / top * plot_h
        x0, x1 = x_of(left), x_of(right)
        out.append(
            f'<rect class="jm-bar" x="{_num(x0)}" y="{_num(_TOP + plot_h - h)}" '
            f'width="{_num(max(x1 - x0 - 0.5, 0.5))}" height="{_num(h)}" fill="#7b93c9">'
            f"<title>{humanize_seconds(left)}–{humanize_seconds(right)}: {int(n):,}</title></rect>")
    for seconds, word in zip(_TICKS, _TICK_WORDS, strict=True):
        if edges[0] <= seconds <= edges[-1]:
            x = _num(x_of(seconds))
            out.append(f'<line x1="{x}" y1="{_TOP + plot_h}" x2="{x}" y2="{_TOP + plot_h + 4}" '
                       f'stroke="#9aa5b1"/><text x="{x}" y="{_TOP + plot_h + 16}" '
                       f'text-anchor="middle" fill="#555">{word}</text>')
    for k, (label, seconds) in enumerate(marks):
        if not (seconds and edges[0] <= seconds <= edges[-1]):
            continue
        x = _num(x_of(seconds))
        out.append(
            f'<line class="jm-mark" x1="{x}" y1="{_TOP - 4}" x2="{x}" y2="{_TOP + plot_h}" '
            f'stroke="#d64545" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{x}" y="{_TOP + 8 + 13 * k}" dx="4" '
            f'fill="#d64545">{html.escape(f"{label} {humanize_seconds(seconds)}")}</text>')
    out.append("</svg>")
    return "\n".join(out)
