"""Measurement: what the journey is worth: attribution, satisfaction, conformance, diff.

:func:`attribute` credits channels (or touchpoints) with the conversions or
revenue of the journeys they were part of, under rule-based models (first,
last, linear, time decay, position), a Markov chain and the Shapley value.
:func:`diff` says what changed between two periods, segments or personas,
each change with a test and a Benjamini-Hochberg q-value.
"""

from journeymine.measurement._attribution import Attribution, attribute
from journeymine.measurement._diff import diff
from journeymine.measurement._diff_result import JourneyDiff

__all__ = ["Attribution", "attribute"]
__all__ += ["JourneyDiff", "diff"]
