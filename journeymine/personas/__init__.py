"""Personas from journeys: features, clustering with automatic k, persona cards.

::

    import journeymine as jm
    from journeymine.personas import JourneyFeaturizer, PersonaModel, compare
    model = PersonaModel(random_state=0).fit(log)
    model.personas_[0]                      # a persona card
    compare(model.personas_[0], model.personas_[1])

The names load on first use (PEP 562), so ``import journeymine.personas`` does
not import scikit-learn, scipy or ibis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeymine.personas._cards import Persona
    from journeymine.personas._compare import Comparison, compare
    from journeymine.personas._features import JourneyFeaturizer
    from journeymine.personas._model import PersonaModel
    from journeymine.personas._run import run_personas

_WHERE = {
    "Comparison": "_compare", "compare": "_compare", "JourneyFeaturizer": "_features",
    "Persona": "_cards", "PersonaModel": "_model", "run_personas": "_run",
}

__all__ = ["Comparison", "JourneyFeaturizer", "Persona", "PersonaModel", "compare",
           "run_personas"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"journeymine.personas.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'journeymine.personas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
