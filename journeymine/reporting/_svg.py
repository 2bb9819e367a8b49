"""Render a process map (directly-follows graph) as a standalone SVG string.

Pure Python: no Graphviz binary, no JavaScript, no web fonts, no CDN. The same
input always gives the same bytes, whatever the row order of the frames.
"""

from __future__ import annotations

import difflib
import html
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from journeymine.eventlog._stages import STAGES, normalize_stage
from journeymine.exceptions import (
    ColumnNotFoundError,
    InvalidParameterError,
    SchemaError,
    StageError,
)
from journeymine.reporting._format import humanize_seconds
from journeymine.reporting._layout import (
    EdgeRoute,
    Layout,
    NodeBox,
    check_edge_nodes,
    layered_layout,
)
from journeymine.reporting._palette import NO_STAGE_COLOR, stage_colors

__all__ = ["MAX_DRAWN_EDGES", "MAX_DRAWN_TOUCHPOINTS", "coverage_note", "render_process_map"]

#: Most touchpoints ``ProcessMap.to_svg`` and the journey report draw (the most customers).
MAX_DRAWN_TOUCHPOINTS = 35
#: Most transitions they draw, besides the Start and End arrows.
MAX_DRAWN_EDGES = 80

_INK = "#1f2933"
_MUTED = "#5f6b7a"
_PSEUDO = "#37474f"
_FAST, _MID, _SLOW = "#9aa5b1", "#f28e2b", "#d62728"
#: Edge colours of a diff map (metric="change"): grew, shrank, no significant change.
_GREW, _SHRANK, _SAME = "#2166ac", "#d6604d", "#c3c9d0"
_FONT = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'Noto Sans', 'Liberation Sans', sans-serif"
)
_NAME_PX, _COUNT_PX, _LABEL_PX, _NOTE_PX = 12.0, 10.5, 10.0, 12.0
_BOLD = 1.08  # semibold glyphs are wider
_NODE_H, _NODE_MIN_W, _NODE_MAX_W = 44.0, 92.0, 172.0
_START, _END = "\x00start", "\x00end"
# characters that XML 1.0 does not allow, even escaped
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def render_process_map(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    start: Mapping[str, int],
    end: Mapping[str, int],
    *,
    metric: str = "count",
    stage_order: Sequence[str] = STAGES,
    title: str | None = None,
    max_width: int = 1100,
    direction: str = "TB",
    note: str | None = None,
) -> str:
    """Draw a process map (directly-follows graph) as a standalone ``<svg>`` string.

    The layout is layered (Sugiyama style) and deterministic: the same graph
    gives byte-identical SVG whatever the row order of ``nodes`` and ``edges``.
    The SVG needs no script, font or network; it scales to its container
    (``width="100%"`` and a ``viewBox``), and every node and edge has a
    ``<title>`` tooltip.

    Parameters
    ----------
    nodes : DataFrame
        One row per touchpoint: ``id`` (str), ``count`` (events); optional
        ``customers`` and ``stage`` (a stage of ``stage_order``, an Indonesian
        alias, or missing).
    edges : DataFrame
        One row per directly-follows pair: ``source``, ``target``, ``count``;
        optional ``customers``, ``mean_seconds``, ``median_seconds`` (required
        when ``metric="time"``) and ``p90_seconds``. Self-loops and cycles are fine.
    start, end : mapping of str to int
        Number of journeys that start / end at each touchpoint. Drawn as edges
        from a "Start" and to an "End" pseudo-node.
    metric : {"count", "time", "change"}, default "count"
        ``"count"`` labels edges with their counts; ``"time"`` labels them with
        the median duration and colours slow edges red; ``"change"`` (a
        journey diff) colours edges whose ``significant`` column is true
        blue when their ``change`` (required, a share) is positive and red
        when negative, labelled in points, and the others grey. Edge width
        always follows the count.
    stage_order : sequence of str, default STAGES
        The stages, in journey order; they colour the nodes and push earlier
        stages towards the top.
    title : str, optional
        A title drawn above the map.
    max_width : int, default 1100
        Largest rendered width in CSS pixels (the SVG shrinks to fit narrower
        containers).
    direction : {"TB", "LR"}, default "TB"
        Top-to-bottom or left-to-right.
    note : str, optional
        A line drawn above the legend, e.g. what part of a larger map is shown
        (see :func:`coverage_note`).

    Returns
    -------
    str
        An ``<svg>`` element, ready to embed in HTML or to save as ``.svg``.

    Raises
    ------
    ColumnNotFoundError
        A required column is missing.
    SchemaError
        Duplicate or missing node ids, edges or start/end counts naming unknown
        nodes, negative counts, or a bad ``metric`` / ``direction``.

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"touchpoint": ["instagram_ad", "checkout"], "count": [120, 40],
    ...                       "customers": [100, 38], "stage": ["awareness", "purchase"]})
    >>> edges = pd.DataFrame({"source": ["instagram_ad"], "target": ["checkout"],
    ...                       "count": [35], "customers": [33], "mean_seconds": [5400.0],
    ...                       "median_seconds": [3600.0], "p90_seconds": [86400.0]})
    >>> svg = render_process_map(nodes, edges, {"instagram_ad": 100}, {"checkout": 38,
    ...                          "instagram_ad": 62})
    >>> svg.startswith("<svg")
    True
    >>> import xml.etree.ElementTree as ET
    >>> root = ET.fromstring(svg)
    >>> len(root.findall(".//{http://www.w3.org/2000/svg}path"))  # 1 edge + 1 start + 2 end
    4
    >>> "1h" in render_process_map(nodes, edges, {"instagram_ad": 100}, {}, metric="time")
    True
    """
    if metric not in ("count", "time", "change"):
        raise InvalidParameterError(
            f"Unknown metric {metric!r}.",
            expected="'count' (edge labels show counts), 'time' (median durations) or "
            "'change' (a diff's changes).",
            fix="Pass metric='count' or metric='time'.",
        )
    order = tuple(str(s).strip().lower() for s in stage_order)
    if len(set(order)) != len(order):
        raise StageError(
            f"stage_order has duplicates: {list(stage_order)}.",
            expected="each stage once, in journey order.",
            fix="Remove the repeated stage names.",
        )
    node_rows = _node_rows(nodes, order)
    edge_rows = _edge_rows(edges, set(node_rows), metric)
    start_counts = _terminal_counts(start, set(node_rows), "start")
    end_counts = _terminal_counts(end, set(node_rows), "end")
    return _Renderer(
        node_rows,
        edge_rows,
        start_counts,
        end_counts,
        metric,
        order,
        title,
        max_width,
        direction,
        note,
    ).svg()


def coverage_note(
    shown_nodes: pd.DataFrame,
    shown_edges: pd.DataFrame,
    all_nodes: pd.DataFrame,
    all_edges: pd.DataFrame,
) -> str | None:
    """Say how much of a process map a drawing shows, or ``None`` if it shows all of it.

    Parameters
    ----------
    shown_nodes, shown_edges : DataFrame
        The drawn touchpoints (``touchpoint``, ``count``) and transitions (``count``).
    all_nodes, all_edges : DataFrame
        The same tables of the full map.

    Returns
    -------
    str or None

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"touchpoint": ["a", "b", "c"], "count": [60, 30, 10]})
    >>> edges = pd.DataFrame({"count": [25, 5]})
    >>> coverage_note(nodes.head(2), edges.head(1), nodes, edges)
    'Showing 2 of 3 touchpoints (covering 90.0% of events) and 1 of 2 transitions (83.3% of moves).'
    >>> coverage_note(nodes, edges, nodes, edges) is None
    True
    """
    if len(shown_nodes) >= len(all_nodes) and len(shown_edges) >= len(all_edges):
        return None
    events, moves = float(all_nodes["count"].sum()), float(all_edges["count"].sum())
    event_share = shown_nodes["count"].sum() / events if events else 1.0
    move_share = shown_edges["count"].sum() / moves if moves else 1.0
    return (
        f"Showing {len(shown_nodes):,} of {len(all_nodes):,} touchpoints "
        f"(covering {event_share:.1%} of events) and {len(shown_edges):,} of "
        f"{len(all_edges):,} transitions ({move_share:.1%} of moves)."
    )


# --------------------------------------------------------------------------- validation


def _require(df: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(
            f"{name} must be a pandas DataFrame, got {type(df).__name__}.",
            expected=f"a DataFrame with columns {list(columns)}.",
            fix=f"Build {name} with pandas.DataFrame(...).",
        )
    found = [str(c) for c in df.columns]
    for col in columns:
        if col not in df.columns:
            close = difflib.get_close_matches(col, found, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ColumnNotFoundError(
                f"{name} has no column {col!r} (found: {found}).{hint}",
                expected=f"columns {list(columns)}.",
                fix=f"Rename the column to {col!r}.",
            )


def _number(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def _node_rows(nodes: pd.DataFrame, order: tuple[str, ...]) -> dict[str, dict]:
    _require(nodes, "nodes", ("touchpoint", "count"))
    rows: dict[str, dict] = {}
    has_customers = "customers" in nodes.columns
    has_stage = "stage" in nodes.columns
    for rec in nodes.to_dict("records"):
        raw = rec["touchpoint"]
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            raise SchemaError(
                "nodes has a missing id.",
                expected="every node to have a touchpoint name in 'id'.",
                fix="Drop or fill rows with a missing id.",
            )
        nid = str(raw)
        if nid in rows:
            raise SchemaError(
                f"nodes has the id {nid!r} more than once.",
                expected="one row per touchpoint.",
                fix="Aggregate the node table by 'id' first.",
            )
        count = _count(rec["count"], f"Node {nid!r}", "events")
        stage = None
        value = rec.get("stage") if has_stage else None
        if isinstance(value, str) and value.strip():
            try:
                stage = normalize_stage(value, order)
            except StageError:
                stage = None
        rows[nid] = {
            "count": count,
            "customers": _number(rec.get("customers")) if has_customers else math.nan,
            "stage": stage,
        }
    return rows


def _count(value: Any, what: str, unit: str) -> float:
    """A node's or edge's ``count`` as a number; SchemaError if missing or negative."""
    count = _number(value)
    if not math.isfinite(count) or count < 0:
        raise SchemaError(
            f"{what} has count {value!r}.",
            expected=f"a non-negative number of {unit}.",
            fix="Fill or drop rows with missing or negative counts.",
        )
    return count


def _edge_rows(edges: pd.DataFrame, known: set[str], metric: str) -> dict[tuple[str, str], dict]:
    needs = {"time": ["median_seconds"], "change": ["change"]}.get(metric, [])
    _require(edges, "edges", ["source", "target", "count", *needs])
    optional = ("customers", "mean_seconds", "median_seconds", "p90_seconds", "change",
                "significant")
    rows: dict[tuple[str, str], dict] = {}
    for rec in edges.to_dict("records"):
        s, t = str(rec["source"]), str(rec["target"])
        check_edge_nodes(s, t, known)
        if (s, t) in rows:
            raise SchemaError(
                f"edges has the pair ({s!r} -> {t!r}) more than once.",
                expected="one row per (source, target) pair.",
                fix="Aggregate the edge table by source and target first.",
            )
        count = _count(rec["count"], f"Edge ({s!r} -> {t!r})", "transitions")
        row = {"count": count}
        for col in optional:
            row[col] = _number(rec.get(col)) if col in edges.columns else math.nan
        rows[(s, t)] = row
    return rows


def _terminal_counts(counts: Mapping[str, int], known: set[str], which: str) -> dict[str, float]:
    if not isinstance(counts, Mapping):
        raise SchemaError(
            f"{which} must be a mapping of touchpoint to number of journeys, "
            f"got {type(counts).__name__}.",
            expected="a dict such as {'instagram_ad': 120}.",
            fix=f"Pass {which}=dict(...) (use {{}} for none).",
        )
    out = {}
    for key, value in counts.items():
        count = _number(value)
        if not math.isfinite(count) or count < 0:
            raise SchemaError(
                f"{which}[{key!r}] is {value!r}.",
                expected="a non-negative number of journeys.",
                fix=f"Drop or fix that entry of {which}.",
            )
        if count == 0:
            continue
        if str(key) not in known:
            raise SchemaError(
                f"{which} names {key!r}, which is not in nodes.",
                expected=f"every {which} touchpoint to be a node id.",
                fix="Filter start/end counts together with the nodes.",
            )
        out[str(key)] = out.get(str(key), 0.0) + count
    return out


# ------------------------------------------------------------------------------ helpers


def _clean(text: str) -> str:
    return _XML_BAD.sub("\ufffd", text)


def _esc(text: object) -> str:
    """Escape text for XML content and attribute values."""
    return html.escape(_clean(str(text)), quote=True)


def _char_width(ch: str) -> float:
    if unicodedata.combining(ch) or ch in "\u200d\ufe0f\ufe0e":
        return 0.0
    if unicodedata.east_asian_width(ch) in "WF" or ord(ch) >= 0x1F000:
        return 1.05
    if ch in "il.,:;'|!jtf()[] ":
        return 0.32
    if ch in "mwMW@%":
        return 0.85
    if ch.isupper() or ch.isdigit():
        return 0.64
    return 0.56


def _text_width(text: str, size: float) -> float:
    return sum(_char_width(c) for c in text) * size


def _truncate(text: str, size: float, max_px: float) -> str:
    if _text_width(text, size) <= max_px:
        return text
    budget = max_px - _text_width("…", size)
    out, used = [], 0.0
    for ch in text:
        w = _char_width(ch) * size
        if used + w > budget:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip(" _-\u200d\ufe0f") + "…"


def _mix(c1: str, c2: str, t: float) -> str:
    t = min(max(t, 0.0), 1.0)
    a = [int(c1[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(c2[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def _int(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{round(value):,}"


def _f(v: float) -> str:
    return f"{v:.1f}"


def _time_color(t: float) -> str:
    return _mix(_FAST, _MID, t * 2) if t < 0.5 else _mix(_MID, _SLOW, (t - 0.5) * 2)


# ----------------------------------------------------------------------------- renderer


class _Renderer:
    """Builds the SVG for one process map (internal)."""

    def __init__(
        self,
        nodes: dict[str, dict],
        edges: dict[tuple[str, str], dict],
        start: dict[str, float],
        end: dict[str, float],
        metric: str,
        order: tuple[str, ...],
        title: str | None,
        max_width: int,
        direction: str,
        note: str | None,
    ) -> None:
        self.nodes, self.edges, self.start, self.end = nodes, edges, start, end
        self.metric, self.order, self.title, self.note = metric, order, title, note
        self.max_width, self.direction = max_width, direction
        self.colors = stage_colors(order)
        # internal keys: user ids may be anything, so the layout sees n0, n1, ... plus start/end
        self.names = sorted(nodes)
        self.key = {name: f"n{i}" for i, name in enumerate(self.names)}
        self.key[_START], self.key[_END] = "start", "end"
        self.label_of = {"start": "Start", "end": "End"}
        for name in self.names:
            self.label_of[self.key[name]] = name

    # -- geometry ----------------------------------------------------------------------

    def _node_size(self, name: str) -> tuple[float, float]:
        if name in (_START, _END):
            fan = len(self.start if name == _START else self.end)
            return (min(max(76.0, 16.0 * fan), 320.0), 34.0)
        w = _text_width(name, _NAME_PX) * _BOLD + 28
        return (min(max(w, _NODE_MIN_W), _NODE_MAX_W), _NODE_H)

    def _layout(self) -> Layout:
        sizes = {self.key[n]: self._node_size(n) for n in [*self.names, _START, _END]}
        hint = {
            self.key[n]: (self.order.index(r["stage"]) if r["stage"] else None)
            for n, r in self.nodes.items()
        }
        weighted = [(self.key[s], self.key[t], r["count"]) for (s, t), r in self.edges.items()]
        weighted += [("start", self.key[n], c) for n, c in self.start.items()]
        weighted += [(self.key[n], "end", c) for n, c in self.end.items()]
        return layered_layout(
            list(sizes),
            weighted,
            sizes=sizes,
            rank_hint=hint,
            sources=["start"],
            sinks=["end"],
            direction=self.direction,
            node_sep=34.0,
            rank_sep=62.0 if self.direction == "TB" else 96.0,
        )

    # -- pieces ------------------------------------------------------------------------

    def svg(self) -> str:
        lay = self._layout()
        counts = [r["count"] for r in self.edges.values()]
        counts += list(self.start.values()) + list(self.end.values())
        self.max_edge = max(counts, default=1.0) or 1.0
        self.max_node = max((r["count"] for r in self.nodes.values()), default=1.0) or 1.0
        medians = [
            r["median_seconds"]
            for r in self.edges.values()
            if math.isfinite(r["median_seconds"]) and r["median_seconds"] > 0
        ]
        self.t_lo = math.log1p(min(medians, default=1.0))
        self.t_hi = math.log1p(max(medians, default=1.0))

        pad = 16.0
        head = 0.0
        parts_head: list[str] = []
        if self.title:
            head = 30.0
            parts_head.append(
                f'<text class="jm-title" x="{_f(pad)}" y="{_f(pad + 14)}">{_esc(self.title)}</text>'
            )
        note_w = 0.0
        if self.note:
            parts_head.append(
                f'<text class="jm-note" x="{_f(pad)}" y="{_f(pad + head + 11)}">'
                f"{_esc(self.note)}</text>"
            )
            head += 22.0
            note_w = _text_width(self.note, _NOTE_PX) * _BOLD
        legend, legend_w, legend_h = self._legend()
        width = max(lay.width + 2 * pad, legend_w + 2 * pad, note_w + 2 * pad, 320.0)
        gx = pad + (width - 2 * pad - lay.width) / 2
        gy = pad + head + legend_h + 8
        height = gy + lay.height + pad
        view_w = min(width, float(self.max_width))

        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="jm-pmap" '
            f'viewBox="0 0 {_f(width)} {_f(height)}" width="100%" '
            f'preserveAspectRatio="xMidYMin meet" role="img" '
            f'aria-label="{_esc(self._aria())}" '
            f'style="max-width:{_f(view_w)}px;height:auto;display:block;'
            f'font-family:{_esc(_FONT)}">',
            f"<title>{_esc(self._aria())}</title>",
            "<style>"
            ".jm-pmap .jm-title{font-size:15px;font-weight:600;fill:" + _INK + "}"
            ".jm-pmap .jm-note{font-size:12px;font-weight:600;fill:" + _INK + "}"
            ".jm-pmap .jm-legend text{font-size:10.5px;fill:" + _MUTED + "}"
            ".jm-pmap .jm-edge path{fill:none;stroke-linecap:round}"
            ".jm-pmap .jm-edge:hover path{stroke-opacity:1}"
            ".jm-pmap .jm-edge:hover polygon{fill-opacity:1}"
            ".jm-pmap .jm-elabel text{font-size:10px;paint-order:stroke;stroke:#fff;"
            "stroke-width:3px;stroke-linejoin:round}"
            ".jm-pmap .jm-node text{text-anchor:middle;fill:" + _INK + "}"
            ".jm-pmap .jm-node .jm-name{font-size:12px;font-weight:600}"
            ".jm-pmap .jm-node .jm-count{font-size:10.5px;fill:" + _MUTED + "}"
            ".jm-pmap .jm-node.jm-pseudo text{fill:#fff}"
            "</style>",
            f'<rect x="0" y="0" width="{_f(width)}" height="{_f(height)}" fill="#ffffff"/>',
            *parts_head,
            f'<g class="jm-legend" transform="translate({_f(pad)},{_f(pad + head)})">',
            legend,
            "</g>",
            f'<g class="jm-graph" transform="translate({_f(gx)},{_f(gy)})">',
        ]
        edge_svg, label_svg = self._edges(lay)
        out += ['<g class="jm-edges">', *edge_svg, "</g>"]
        out += ['<g class="jm-nodes">', *self._nodes(lay), "</g>"]
        out += ['<g class="jm-elabels">', *label_svg, "</g>"]
        out += ["</g>", "</svg>"]
        return "\n".join(out)

    def _aria(self) -> str:
        text = f"Process map: {len(self.nodes)} touchpoints, {len(self.edges)} transitions"
        text = f"{self.title} ({text})" if self.title else text
        return f"{text}. {self.note}" if self.note else text

    def _legend(self) -> tuple[str, float, float]:
        parts = []
        x = 0.0
        stages = list(self.order)
        show_unknown = any(r["stage"] is None for r in self.nodes.values())
        entries = [(s, self.colors[s]) for s in stages] + (
            [("other", NO_STAGE_COLOR)] if show_unknown else []
        )
        for name, color in entries:
            parts.append(
                f'<rect x="{_f(x)}" y="0" width="12" height="12" rx="2" '
                f'fill="{_mix("#ffffff", color, 0.45)}" stroke="{color}"/>'
                f'<text x="{_f(x + 17)}" y="10">{_esc(name)}</text>'
            )
            x += 17 + _text_width(name, 10.5) + 16
        row1 = x
        y = 22.0
        parts.append(
            f'<line x1="0" y1="{_f(y + 6)}" x2="22" y2="{_f(y + 6)}" stroke="{_MUTED}" '
            f'stroke-width="1.5"/><line x1="28" y1="{_f(y + 6)}" x2="50" y2="{_f(y + 6)}" '
            f'stroke="{_MUTED}" stroke-width="6"/>'
        )
        text = "edge width: number of transitions"
        if self.metric == "count":
            text += "; labels: counts; node shade: events"
        parts.append(f'<text x="56" y="{_f(y + 10)}">{_esc(text)}</text>')
        x = 56 + _text_width(text, 10.5) + 20
        if self.metric == "change":
            for color, text in ((_GREW, "grew"), (_SHRANK, "shrank"),
                                (_SAME, "no significant change")):
                parts.append(f'<rect x="{_f(x)}" y="{_f(y + 2)}" width="18" height="8" '
                             f'fill="{color}"/><text x="{_f(x + 23)}" y="{_f(y + 10)}">'
                             f"{_esc(text)}</text>")
                x += 23 + _text_width(text, 10.5) + 14
        if self.metric == "time":
            for i in range(6):
                parts.append(
                    f'<rect x="{_f(x + 12 * i)}" y="{_f(y + 2)}" width="12" height="8" '
                    f'fill="{_time_color(i / 5)}"/>'
                )
            x += 78
            text = "edge colour and label: median time (fast → slow)"
            parts.append(f'<text x="{_f(x)}" y="{_f(y + 10)}">{_esc(text)}</text>')
            x += _text_width(text, 10.5)
        return "".join(parts), max(row1, x), 36.0

    def _node_fill(self, stage: str | None, count: float) -> str:
        color = self.colors[stage] if stage else NO_STAGE_COLOR
        share = math.sqrt(count / self.max_node) if self.max_node else 0.0
        return _mix("#ffffff", color, 0.12 + 0.43 * share)

    def _nodes(self, lay: Layout) -> list[str]:
        out = []
        for key, label, journeys in (("start", "Start", self.start), ("end", "End", self.end)):
            box = lay.nodes[key]
            total = sum(journeys.values())
            tip = f"{label}: {_int(total)} journeys"
            out.append(
                f'<g class="jm-node jm-pseudo"><title>{_esc(tip)}</title>'
                f'<rect x="{_f(box.left)}" y="{_f(box.top)}" width="{_f(box.width)}" '
                f'height="{_f(box.height)}" rx="{_f(box.height / 2)}" fill="{_PSEUDO}"/>'
                f'<text class="jm-name" x="{_f(box.x)}" y="{_f(box.y + 4)}">{label}</text></g>'
            )
        for name in self.names:
            row = self.nodes[name]
            box = lay.nodes[self.key[name]]
            stage = row["stage"]
            color = self.colors[stage] if stage else NO_STAGE_COLOR
            shown = _truncate(name, _NAME_PX * _BOLD, box.width - 20)
            tip = [
                name,
                f"stage: {stage or 'unknown'}",
                f"events: {_int(row['count'])}",
                f"customers: {_int(row['customers'])}",
            ]
            if name in self.start:
                tip.append(f"journeys starting here: {_int(self.start[name])}")
            if name in self.end:
                tip.append(f"journeys ending here: {_int(self.end[name])}")
            band = 5.0
            out.append(
                f'<g class="jm-node"><title>{_esc(chr(10).join(tip))}</title>'
                f'<rect x="{_f(box.left)}" y="{_f(box.top)}" width="{_f(box.width)}" '
                f'height="{_f(box.height)}" rx="6" fill="{self._node_fill(stage, row["count"])}" '
                f'stroke="{color}" stroke-width="1.2"/>'
                f'<rect x="{_f(box.left)}" y="{_f(box.top)}" width="{_f(band)}" '
                f'height="{_f(box.height)}" rx="2" fill="{color}"/>'
                f'<text class="jm-name" x="{_f(box.x + band / 2)}" y="{_f(box.y - 3)}">'
                f"{_esc(shown)}</text>"
                f'<text class="jm-count" x="{_f(box.x + band / 2)}" y="{_f(box.y + 13)}">'
                f"{_esc(_int(row['count']))}</text></g>"
            )
        return out

    def _edge_items(self) -> list[tuple[str, str, dict]]:
        items = []
        for (s, t), row in self.edges.items():
            items.append((self.key[s], self.key[t], row))
        for n, c in self.start.items():
            items.append(("start", self.key[n], {"count": c, "pseudo": True}))
        for n, c in self.end.items():
            items.append((self.key[n], "end", {"count": c, "pseudo": True}))
        return items

    def _edge_style(self, row: dict) -> tuple[float, str, str]:
        """Stroke width, colour and label text of one edge."""
        width = 1.0 + 7.0 * math.sqrt(row["count"] / self.max_edge)
        if row.get("pseudo"):
            label = _int(row["count"]) if self.metric == "count" else ""
            return width, "#b0b8c1", label
        if self.metric == "count":
            return width, "#6b7785", _int(row["count"])
        if self.metric == "change":
            change = row["change"]
            if row["significant"] != 1 or not math.isfinite(change):
                return width, _SAME, ""
            return width, _GREW if change > 0 else _SHRANK, f"{100 * change:+.1f} pts"
        med = row["median_seconds"]
        if not math.isfinite(med):
            return width, _FAST, "n/a"
        span = self.t_hi - self.t_lo
        t = (math.log1p(max(med, 0.0)) - self.t_lo) / span if span > 0 else 0.5
        return width, _time_color(t), humanize_seconds(med)

    def _tooltip(self, s: str, t: str, row: dict) -> str:
        head = f"{self.label_of[s]} → {self.label_of[t]}"
        if row.get("pseudo"):
            return f"{head}\njourneys: {_int(row['count'])}"
        change = ([f"change in share of journeys: {100 * row['change']:+.1f} pts"]
                  if self.metric == "change" and math.isfinite(row["change"]) else [])
        return "\n".join(
            [
                head,
                *change,
                f"transitions: {_int(row['count'])}",
                f"customers: {_int(row['customers'])}",
                f"mean time: {humanize_seconds(row['mean_seconds'])}",
                f"median time: {humanize_seconds(row['median_seconds'])}",
                f"p90 time: {humanize_seconds(row['p90_seconds'])}",
            ]
        )

    def _edges(self, lay: Layout) -> tuple[list[str], list[str]]:
        routes = {(e.source, e.target): e for e in lay.edges}
        items = sorted(self._edge_items(), key=lambda it: (-it[2]["count"], it[0], it[1]))
        placer = _LabelPlacer(lay.nodes.values())
        drawn: list[tuple[tuple[str, str], str]] = []
        labels: list[tuple[tuple[str, str], str]] = []
        for s, t, row in items:
            route = routes[(s, t)]
            width, color, label = self._edge_style(row)
            tip = _esc(self._tooltip(s, t, row))
            d, arrow = _arrowed(route, width)
            opacity = "0.85" if not row.get("pseudo") else "0.9"
            dash = ' stroke-dasharray="5 4"' if row.get("pseudo") else ""
            drawn.append(
                (
                    (s, t),
                    f'<g class="jm-edge"><title>{tip}</title>'
                    f'<path d="{d}" stroke="{color}" stroke-width="{_f(width)}" '
                    f'stroke-opacity="{opacity}"{dash}/>'
                    f'<polygon points="{arrow}" fill="{color}" fill-opacity="{opacity}"/></g>',
                )
            )
            if label:
                lx, ly = placer.place(route, _text_width(label, _LABEL_PX) + 4, _LABEL_PX + 3)
                ink = (color if self.metric in ("time", "change") and not row.get("pseudo")
                       else _INK)
                if ink == _FAST:
                    ink = _MUTED
                weight = ' font-weight="600"' if self.metric != "count" else ""
                labels.append(
                    (
                        (s, t),
                        f'<g class="jm-elabel"><title>{tip}</title>'
                        f'<text x="{_f(lx)}" y="{_f(ly + 3.5)}" text-anchor="middle" '
                        f'fill="{ink}"{weight}>{_esc(label)}</text></g>',
                    )
                )
        # thin edges first so heavy ones are drawn on top; labels likewise
        drawn.reverse()
        labels.reverse()
        return [svg for _, svg in drawn], [svg for _, svg in labels]


def _arrowed(route: EdgeRoute, stroke: float) -> tuple[str, str]:
    """Path data shortened by an arrow head, and the arrow polygon points."""
    length = 7.0 + 1.1 * stroke
    half = 3.5 + 0.75 * stroke
    dx, dy = route.end_direction
    p0, c1, c2, p1 = route.segments[-1]
    base = (p1[0] - dx * length, p1[1] - dy * length)
    shifted = (p0, c1, (c2[0] - dx * length, c2[1] - dy * length), base)
    segs = (*route.segments[:-1], shifted)
    d = EdgeRoute(route.source, route.target, segs, route.kind).d
    nx, ny = -dy, dx
    pts = [
        p1,
        (base[0] + nx * half, base[1] + ny * half),
        (base[0] - nx * half, base[1] - ny * half),
    ]
    return d, " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)


class _LabelPlacer:
    """Greedy placement of edge labels along their routes, avoiding overlaps."""

    _CELL = 48.0
    _TS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.15, 0.85)

    def __init__(self, boxes: Iterable[NodeBox]) -> None:
        self.grid: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
        for b in boxes:
            self._add((b.left - 2, b.top - 2, b.right + 2, b.bottom + 2))

    def _cells(self, box: tuple[float, float, float, float]) -> list[tuple[int, int]]:
        c = self._CELL
        return [
            (i, j)
            for i in range(math.floor(box[0] / c), math.floor(box[2] / c) + 1)
            for j in range(math.floor(box[1] / c), math.floor(box[3] / c) + 1)
        ]

    def _add(self, box: tuple[float, float, float, float]) -> None:
        for cell in self._cells(box):
            self.grid.setdefault(cell, []).append(box)

    def _overlap(self, box: tuple[float, float, float, float]) -> float:
        total = 0.0
        seen = set()
        for cell in self._cells(box):
            for other in self.grid.get(cell, ()):
                if id(other) in seen:
                    continue
                seen.add(id(other))
                w = min(box[2], other[2]) - max(box[0], other[0])
                h = min(box[3], other[3]) - max(box[1], other[1])
                if w > 0 and h > 0:
                    total += w * h
        return total

    def place(self, route: EdgeRoute, w: float, h: float) -> tuple[float, float]:
        ts = (0.5,) if route.kind == "self" else self._TS
        best = None
        for t in ts:
            if route.kind == "self":
                (x0, y0), _, _, (x1, y1) = route.segments[0]
                x, y = max(x0, x1) + 14 + w / 2, min(y0, y1) - 12
            else:
                x, y = route.point_at(t)
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            cost = self._overlap(box)
            if best is None or cost < best[0]:
                best = (cost, x, y, box)
            if cost == 0:
                break
        assert best is not None
        self._add(best[3])
        return best[1], best[2]
