"""The attribution page: each channel's share of the conversions under every model.

Renders an :class:`~journeymine.measurement._attribution.Attribution` from its
tables; it computes no statistics. :func:`attribution_context` builds the
share table once, for this page and for the journey report's section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from journeymine.reporting._format import percent
from journeymine.reporting._templates import get_template

if TYPE_CHECKING:
    from journeymine.measurement._attribution import Attribution

__all__ = ["attribution_context", "render_attribution_report"]


def attribution_context(result: Attribution) -> dict[str, Any]:
    """The share table of ``result``: one row per channel, one cell per model, and its roles.

    Rows have ``channel``, ``role``, ``cells`` (``text`` and bar ``width`` in
    percent of the largest share) and ``roles`` (converting journeys it
    opens, assists, closes); also ``models``, ``unit``, ``by`` and ``notes``.
    """
    s = result.summary
    shares = result.shares()
    top = float(shares.to_numpy().max()) if shares.size else 0.0
    roles = result.roles.set_index("channel")
    rows = [{
        "channel": channel, "role": roles.loc[channel, "role"] if channel in roles.index else "",
        "cells": [{"text": percent(v), "width": round(100 * v / top, 1) if top > 0 else 0}
                  for v in values],
        "roles": [f"{int(roles.loc[channel, r]):,}" if channel in roles.index else "0"
                  for r in ("opens", "assists", "closes")],
    } for channel, values in zip(shares.index, shares.to_numpy(), strict=True)]
    unit = "revenue" if result.value == "revenue" else "conversions"
    notes = ([f"{s['unattributed']:,.0f} {unit} came from journeys without a touch to credit."]
             if s["unattributed"] else [])
    return {"rows": rows, "models": [m.replace("_", " ") for m in result.models],
            "unit": unit, "by": result.by, "notes": notes}


def render_attribution_report(result: Attribution, *, title: str) -> str:
    """The attribution page as one self-contained HTML string."""
    from journeymine import __version__

    s = result.summary
    context = attribution_context(result)
    kpis = [(f"{result.grain} journeys", f"{s['journeys']:,}"),
            ("converting", f"{s['converting']:,}"),
            (f"{context['unit']} credited", f"{s['total']:,.0f}"),
            (f"{result.by}s", f"{s['channels']:,}")]
    return get_template("attribution.html.j2").render(
        title=title, version=__version__, kpis=kpis, **context,
        subtitle=f"by {result.by} · {result.grain} journeys · conversion: "
                 f"{', '.join(result.conversion) or 'none'}")
