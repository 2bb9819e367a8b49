"""The emotions page: one self-contained HTML report of a :class:`JourneyEmotions`.

It renders from the result's computed tables (:meth:`~JourneyEmotions.by`,
``curve``, ``phrases``, ``stage_quotes``, ``pain_points``, ``delights``,
``unlinked`` and the summary) and computes no statistics: it formats the numbers, lays out the
emotion-curve SVG (drawn by the ``emotions.html.j2`` template) and colours
emotions from the one palette. Nothing of :mod:`journeymine.sentiment` is
imported at import time.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from journeymine.reporting._format import percent
from journeymine.reporting._palette import EMOTION_COLORS
from journeymine.reporting._templates import get_template

if TYPE_CHECKING:
    import pandas as pd

    from journeymine.sentiment._journey import JourneyEmotions

__all__ = ["render_emotions"]


def _signed(value: float | None, digits: int = 2) -> str:
    """A sentiment with its sign (``+0.25``), ``n/a`` when missing."""
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    return f"{value:+.{digits}f}"


def _curve_svg(curve: pd.DataFrame) -> dict:
    """Coordinates of the emotion-curve SVG (drawn by the template)."""
    width, height, left, right, top, bottom = 760, 300, 56, 16, 34, 70
    inner_w, inner_h = width - left - right, height - top - bottom
    step = inner_w / max(len(curve), 1)

    def y(v: float) -> float:
        return round(top + (1 - max(-1.0, min(1.0, v))) / 2 * inner_h, 1)

    points = []
    for i, row in enumerate(curve.itertuples(index=False)):
        x = round(left + (i + 0.5) * step, 1)
        has = row.n_texts > 0 and math.isfinite(row.mean_sentiment)
        low, high = row.mean_sentiment_low, row.mean_sentiment_high
        points.append({
            "x": x, "stage": row.stage, "n": f"n={row.n_texts:,}", "has": has,
            "y": y(row.mean_sentiment) if has else None,
            "y_low": y(low) if has and math.isfinite(low) else None,
            "y_high": y(high) if has and math.isfinite(high) else None,
            "label": _signed(row.mean_sentiment) if has else "no texts",
            "emotion": row.dominant_emotion if has else "",
            "color": EMOTION_COLORS.get(row.dominant_emotion, "#3559c7") if has else "#9aa5b1",
        })
    line = " ".join(f"{p['x']},{p['y']}" for p in points if p["has"])
    ticks = [{"y": y(v), "label": _signed(v, 1) if v else "0"} for v in (1, 0.5, 0, -0.5, -1)]
    return {"width": width, "height": height, "left": left, "right": width - right,
            "points": points, "line": line, "ticks": ticks, "zero": y(0.0),
            "label_y": height - bottom + 20}


def _phrase_text(phrases: pd.DataFrame, key: str, group: str, n: int = 5) -> str:
    """The first ``n`` key phrases of one group, with their text counts."""
    sub = phrases[phrases[key] == group].head(n)
    return ", ".join(f"{p} ({t})" for p, t in zip(sub["phrase"], sub["texts"], strict=True))


def _contrast_rows(table: pd.DataFrame) -> list[dict]:
    """Rows of a pain-point or delight table, formatted for the page."""
    return [{
        "touchpoint": r.touchpoint, "stage": r.stage or "–", "n": f"{r.n_texts:,}",
        "share": percent(r.share), "ci": f"{percent(r.share_low, 0)}–{percent(r.share_high, 0)}",
        "rest": percent(r.rest_share), "diff": f"{100 * r.difference:+.1f} pts",
        "rr": f"{r.risk_ratio:.2f}×" if math.isfinite(r.risk_ratio) else "∞",
        "excess": f"{r.excess:,.0f}", "q": f"{r.q_value:.1g}",
        "quotes": r.quotes,
    } for r in table.itertuples(index=False)]


def render_emotions(result: JourneyEmotions, *, title: str = "Customer emotions along the "
                    "journey") -> str:
    """Render ``result`` as one self-contained HTML page (inline CSS and SVG, no scripts).

    All customer text is escaped by jinja2's autoescaping.
    """
    from journeymine import __version__
    from journeymine.sentiment._journey import NO_GROUP
    from journeymine.sentiment._tags import SENTIMENT_LABELS

    s = result.summary
    by_stage, by_tp = result.by("stage"), result.by("touchpoint")
    ph_stage, ph_tp = result.phrases("stage"), result.phrases("touchpoint")
    in_stage: dict[str, list[str]] = {}
    for tp, n in zip(by_tp["touchpoint"], by_tp["n_texts"], strict=True):
        in_stage.setdefault(result.stages.get(tp) or NO_GROUP, []).append(f"{tp} ({n:,})")
    has_rating = "mean_rating" in by_stage.columns
    stage_quotes = result.stage_quotes()

    def share_bar(row) -> list[dict]:
        return [{"label": lab, "width": round(100 * getattr(row, f"share_{lab}"), 1),
                 "text": percent(getattr(row, f"share_{lab}"), 0)} for lab in SENTIMENT_LABELS]

    stage_rows = []
    for r in by_stage.itertuples(index=False):
        stage_rows.append({
            "stage": r.stage, "n": f"{r.n_texts:,}",
            "touchpoints": ", ".join(in_stage.get(r.stage, [])) or "–",
            "mean": _signed(r.mean_sentiment),
            "ci": f"{_signed(r.mean_sentiment_low)} to {_signed(r.mean_sentiment_high)}",
            "bars": share_bar(r), "emotion": r.dominant_emotion or "–",
            "color": EMOTION_COLORS.get(r.dominant_emotion, "#9aa5b1"),
            "rating": f"{r.mean_rating:.2f} ({r.n_ratings:,})"
            if has_rating and r.n_ratings else "–",
            "phrases": _phrase_text(ph_stage, "stage", r.stage) or "–",
            "quotes": stage_quotes.get(r.stage, []),
        })
    tp_rows = [{
        "touchpoint": r.touchpoint, "stage": result.stages.get(r.touchpoint) or "–",
        "n": f"{r.n_texts:,}", "mean": _signed(r.mean_sentiment),
        "ci": f"{_signed(r.mean_sentiment_low)} to {_signed(r.mean_sentiment_high)}",
        "bars": share_bar(r), "emotion": r.dominant_emotion or "–",
        "color": EMOTION_COLORS.get(r.dominant_emotion, "#9aa5b1"),
        "phrases": _phrase_text(ph_tp, "touchpoint", r.touchpoint) or "–",
    } for r in by_tp.itertuples(index=False)]
    kpis = [
        ("texts", f"{s['texts']:,}"),
        ("linked to the journey", percent(s["linked_share"])),
        ("customers", f"{s['customers']:,}"),
        ("mean sentiment (−1…+1)", _signed(s["mean_sentiment"])),
        ("positive", percent(s["share_positive"])),
        ("negative", percent(s["share_negative"])),
    ]
    notes = [f"{r.texts:,} text(s) ({percent(r.share)}) not linked: {r.meaning}."
             for r in result.unlinked.itertuples(index=False)]
    window = s["window"] or "no limit"
    context = {
        "title": title, "version": __version__,
        "subtitle": f"{s['texts']:,} customer texts from {s['source'] or 'an event log'}; "
                    f"texts without a touchpoint linked to the customer's last event "
                    f"within {window}.",
        "kpis": kpis, "notes": notes, "curve": _curve_svg(result.curve()),
        "stage_rows": stage_rows, "tp_rows": tp_rows,
        "pains": _contrast_rows(result.pain_points()),
        "delights": _contrast_rows(result.delights()),
        "colors": EMOTION_COLORS, "weighting": s["sentiment_value"],
    }
    return get_template("emotions.html.j2").render(**context)
