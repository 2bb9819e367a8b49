"""The one colour palette of every page and picture journeymine draws.

Stage colours are the same in the process map, the journey-map table, the
funnel, the emotion curve and the persona cards (colour-blind friendly
Tableau 10 hues). Stages a user adds beyond the five defaults take the extra
colours in order.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["EMOTION_COLORS", "EXTRA_COLORS", "NO_STAGE_COLOR", "STAGE_COLORS", "stage_colors"]

#: Fill colour of each default stage.
STAGE_COLORS: dict[str, str] = {
    "awareness": "#4e79a7",
    "consideration": "#76b7b2",
    "purchase": "#f28e2b",
    "retention": "#59a14f",
    "advocacy": "#b07aa1",
}
#: Colours of user-defined stages beyond the defaults, in order.
EXTRA_COLORS = ("#edc948", "#ff9da7", "#9c755f", "#e15759", "#bab0ac")
#: Touchpoints without a stage.
NO_STAGE_COLOR = "#9aa0a6"

#: Colour of each emotion label.
EMOTION_COLORS: dict[str, str] = {
    "joy": "#e0a800", "love": "#d9507a", "surprise": "#8e6bd8", "anger": "#d64545",
    "disgust": "#6b8e23", "fear": "#56677a", "sadness": "#3f7cc4", "neutral": "#9aa5b1",
}


def stage_colors(order: Sequence[str]) -> dict[str, str]:
    """A colour for every stage in ``order``: the defaults' own, then the extras.

    Examples
    --------
    >>> stage_colors(["awareness", "loyalty"])
    {'awareness': '#4e79a7', 'loyalty': '#edc948'}
    """
    extra = iter(EXTRA_COLORS * (1 + len(order) // len(EXTRA_COLORS)))
    return {s: STAGE_COLORS[s] if s in STAGE_COLORS else next(extra) for s in order}
