"""A step-by-step Sankey diagram as a standalone SVG (no script, no network, deterministic).

Draws the flows of :class:`~journeymine.discovery._patterns.Paths`: one
column per step, one bar per touchpoint (height proportional to journeys),
and a band from each touchpoint to the touchpoint at the next step. Colours
come from the one palette (:mod:`journeymine.reporting._palette`); every
name is escaped; the same table gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

from journeymine.reporting._palette import NO_STAGE_COLOR

__all__ = ["render_sankey"]

_WIDTH_PER_STEP, _NODE_WIDTH, _HEIGHT, _GAP, _TOP, _LEFT = 190, 12, 380, 10, 42, 16
_LABEL_CHARS = 28


def _num(value: float) -> str:
    """A coordinate with one decimal and no trailing zero (stable text for equal input)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _label(name: str, journeys: int) -> str:
    short = name if len(name) <= _LABEL_CHARS else name[: _LABEL_CHARS - 1] + "…"
    return f"{short} ({journeys:,})"


def render_sankey(flows: pd.DataFrame, *, colors: Mapping[str, str] | None = None,
                  title: str = "Journeys step by step") -> str:
    """The flows as an SVG Sankey diagram.

    Parameters
    ----------
    flows : DataFrame
        ``step``, ``touchpoint``, ``next`` (the touchpoint at the next step,
        or None), ``journeys``; as :attr:`Paths.table
        <journeymine.discovery._patterns.Paths.table>`, sorted by step.
    colors : mapping of str to str, optional
        Fill colour per touchpoint (others are grey).
    title : str
        Shown above the diagram and as the SVG title.

    Returns
    -------
    str
        An ``<svg>`` document.

    Examples
    --------
    >>> import pandas as pd
    >>> flows = pd.DataFrame({"step": [0, 0, 1, 1], "touchpoint": ["cart", "cart", "pay", "(end)"],
    ...                       "next": ["pay", "(end)", None, None], "journeys": [3, 1, 3, 1]})
    >>> svg = render_sankey(flows, colors={"pay": "#f28e2b"})
    >>> svg.startswith("<svg") and svg.count("<path") == 2
    True
    """
    colors = dict(colors or {})
    steps = sorted(flows["step"].unique().tolist())
    nodes = flows.groupby(["step", "touchpoint"], sort=False)["journeys"].sum()
    column_total = nodes.groupby(level=0).sum()
    most = max(int(column_total.max()) if len(column_total) else 0, 1)
    per_column = nodes.groupby(level=0).size()
    free = _HEIGHT - _GAP * (int(per_column.max()) - 1 if len(per_column) else 0)
    scale = max(free, _HEIGHT * 0.3) / most
    x_of = {s: _LEFT + i * _WIDTH_PER_STEP for i, s in enumerate(steps)}
    box: dict[tuple[int, str], tuple[float, float]] = {}
    for step in steps:
        y = float(_TOP)
        for (s, name), journeys in nodes.loc[[step]].items():
            height = max(journeys * scale, 1.0)
            box[(s, name)] = (y, height)
            y += height + _GAP
    width = _LEFT + (len(steps) - 1) * _WIDTH_PER_STEP + _NODE_WIDTH + 180
    height = max((y + h for y, h in box.values()), default=float(_TOP)) + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'width="{_num(width)}" height="{_num(height)}" role="img" class="jm-sankey" '
        'font-family="system-ui, sans-serif" font-size="11">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="{_LEFT}" y="18" font-size="13" font-weight="600">{html.escape(title)}</text>',
    ]
    for step in steps:
        word = "anchor" if step == 0 else f"step {step:+d}"
        out.append(f'<text x="{_num(x_of[step])}" y="34" fill="#555">{word}</text>')
    out_offset = {key: 0.0 for key in box}
    in_offset = {key: 0.0 for key in box}
    links = flows[flows["next"].notna()]
    for row in links.itertuples(index=False):
        source, target = (row.step, row.touchpoint), (row.step + 1, row.next)
        if target not in box:
            continue
        band = row.journeys * scale
        y0 = box[source][0] + out_offset[source]
        y1 = box[target][0] + in_offset[target]
        out_offset[source] += band
        in_offset[target] += band
        x0 = x_of[row.step] + _NODE_WIDTH
        x1 = x_of[row.step + 1]
        mid = (x0 + x1) / 2
        fill = colors.get(row.touchpoint, NO_STAGE_COLOR)
        out.append(
            f'<path d="M{_num(x0)},{_num(y0)} C{_num(mid)},{_num(y0)} {_num(mid)},{_num(y1)} '
            f'{_num(x1)},{_num(y1)} L{_num(x1)},{_num(y1 + band)} C{_num(mid)},{_num(y1 + band)} '
            f'{_num(mid)},{_num(y0 + band)} {_num(x0)},{_num(y0 + band)} Z" fill="{fill}" '
            f'fill-opacity="0.35"><title>{html.escape(f"{row.touchpoint} → {row.next}")}: '
            f"{row.journeys:,}</title></path>")
    for (step, name), (y, h) in box.items():
        journeys = int(nodes[(step, name)])
        fill = colors.get(name, NO_STAGE_COLOR)
        x = x_of[step]
        out.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_NODE_WIDTH}" height="{_num(h)}" '
                   f'fill="{fill}"><title>{html.escape(name)}: {journeys:,}</title></rect>')
        out.append(f'<text x="{_num(x + _NODE_WIDTH + 4)}" y="{_num(y + min(h, 24) / 2 + 4)}">'
                   f"{html.escape(_label(name, journeys))}</text>")
    out.append("</svg>")
    return "\n".join(out)
