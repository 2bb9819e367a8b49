"""HTML for persona cards (notebook) and the self-contained persona report."""

from __future__ import annotations

import types
from typing import TYPE_CHECKING

import numpy as np

from journeymine.reporting._format import humanize_seconds, percent
from journeymine.reporting._templates import get_template

if TYPE_CHECKING:
    from journeymine.personas._cards import Persona
    from journeymine.personas._model import PersonaModel

__all__ = ["render_card", "render_persona_report"]



def _value(feature: str, value: float) -> str:
    from journeymine.personas._cards import _fmt

    return _fmt(feature, value)


FMT = types.SimpleNamespace(
    percent=percent,
    duration=humanize_seconds,
    number=lambda v: "n/a" if v is None or not np.isfinite(v) else f"{v:.2f}",
    value=_value,
)


def render_card(persona: Persona) -> str:
    """One persona card as an HTML fragment with its own inline style (for notebooks)."""
    module = get_template("persona_card.html.j2").module
    return str(module.style()) + str(module.card(persona, FMT))


def render_persona_report(model: PersonaModel, *, title: str = "Personas") -> str:
    """The persona report of a fitted model as one self-contained HTML string."""
    from journeymine import __version__

    n = len(model.labels_)
    return get_template("personas.html.j2").render(
        title=title, version=__version__, personas=model.personas_, fmt=FMT,
        subtitle=f"{n:,} customers · method {model.method} · random_state "
                 f"{model.random_state!r}",
        k_note=model.k_note_,
        method_note="stability = mean Jaccard similarity of each persona with its best "
                    "match over bootstrap refits (1 = always found again).",
    )
