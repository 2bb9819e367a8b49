"""Measurement: what the journey is worth: attribution, satisfaction, conformance, diff.

:func:`attribute` credits channels (or touchpoints) with the conversions or
revenue of the journeys they were part of, under rule-based models (first,
last, linear, time decay, position), a Markov chain and the Shapley value.
"""

from journeymine.measurement._attribution import Attribution, attribute

__all__ = ["Attribution", "attribute"]
