"""The journey-diff page: the ranked changes and a two-colour process map.

Renders a :class:`~journeymine.measurement._diff_result.JourneyDiff` from its
table and merged map frames; it computes no statistics. Edges that grew
significantly are blue, those that shrank red, the rest grey
(:func:`~journeymine.reporting._svg.render_process_map` with
``metric="change"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from journeymine.reporting._format import percent
from journeymine.reporting._svg import (
    MAX_DRAWN_EDGES,
    MAX_DRAWN_TOUCHPOINTS,
    coverage_note,
    render_process_map,
)
from journeymine.reporting._templates import get_template

if TYPE_CHECKING:
    from journeymine.measurement._diff_result import JourneyDiff

__all__ = ["MAX_ROWS", "render_diff_report"]

#: Most rows the page lists (significant first); the CSV has all of them.
MAX_ROWS = 60


def render_diff_report(result: JourneyDiff, *, title: str) -> str:
    """The diff page as one self-contained HTML string."""
    from journeymine import __version__

    s = result.summary
    a, b = result.labels
    nodes, edges, start, end = result.map_frames(MAX_DRAWN_TOUCHPOINTS, MAX_DRAWN_EDGES)
    all_nodes, all_edges, _, _ = result.map_frames()
    svg = render_process_map(
        nodes, edges, start, end, metric="change", stage_order=result.maps[1].stages.order,
        note=coverage_note(nodes, edges, all_nodes, all_edges))
    rows = [{
        "kind": r.kind, "where": r.where, "a": percent(r.a), "b": percent(r.b),
        "change": f"{100 * r.change:+.1f}", "interval": f"{100 * r.low:+.1f} to "
        f"{100 * r.high:+.1f}", "q": "< 0.001" if r.q < 0.001 else f"{r.q:.3f}",
        "customers": f"{r.customers:,}", "sentence": r.sentence, "significant": r.significant,
        "direction": "up" if r.change > 0 else "down",
    } for r in result.table.head(MAX_ROWS).itertuples()]
    kpis = [(f"journeys in {a}", f"{s['journeys'][0]:,}"),
            (f"journeys in {b}", f"{s['journeys'][1]:,}"),
            ("significant changes", f"{s['significant']:,}"),
            ("changes tested", f"{s['rows']:,}")]
    return get_template("diff.html.j2").render(
        title=title, version=__version__, kpis=kpis, rows=rows, svg=svg, labels=(a, b),
        subtitle=f"{s['compared']} · {s['grain']} grain · q-values by Benjamini-Hochberg, "
                 f"significant at q ≤ {s['alpha']:g}",
        more=max(len(result.table) - MAX_ROWS, 0), untested=s["untested"],
        min_count=s["min_count"])
