"""Personas from journeys: features, clustering with automatic k, persona cards.

::

    import journeymine as jm
    from journeymine.personas import JourneyFeaturizer, PersonaModel, compare
    model = PersonaModel(random_state=0).fit(log)
    model.personas_[0]                      # a persona card
    compare(model.personas_[0], model.personas_[1])
"""

from journeymine.personas._cards import Persona
from journeymine.personas._compare import Comparison, compare
from journeymine.personas._features import JourneyFeaturizer
from journeymine.personas._model import PersonaModel
from journeymine.personas._run import run_personas

__all__ = ["Comparison", "JourneyFeaturizer", "Persona", "PersonaModel", "compare",
           "run_personas"]
