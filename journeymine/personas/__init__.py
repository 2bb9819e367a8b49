"""Personas from journeys: features, clustering with automatic k, persona cards."""

from journeymine.personas._cards import Persona
from journeymine.personas._features import JourneyFeaturizer
from journeymine.personas._model import PersonaModel

__all__ = ["JourneyFeaturizer", "Persona", "PersonaModel"]
