"""Measurement: what the journey is worth: attribution, satisfaction, conformance, diff.

:func:`attribute` credits channels (or touchpoints) with the conversions or
revenue of the journeys they were part of, under rule-based models (first,
last, linear, time decay, position), a Markov chain and the Shapley value.
:func:`diff` says what changed between two periods, segments or personas,
each change with a test and a Benjamini-Hochberg q-value. :func:`satisfaction`
summarises NPS, CSAT and rating answers per touchpoint, stage, channel and
persona, linked to the journey, and whether low scores go with fewer
repurchases afterwards.
:func:`conformance` compares the actual journeys with the designed one
(fitness per customer, skipped, unexpected and out-of-order steps), and
:func:`process_model` turns a discovered journey into a Petri net / BPMN model.
"""

from journeymine.measurement._attribution import Attribution, attribute
from journeymine.measurement._conformance import Conformance, conformance
from journeymine.measurement._diff import diff
from journeymine.measurement._diff_result import JourneyDiff
from journeymine.measurement._process_model import ProcessModel, process_model
from journeymine.measurement._satisfaction import Satisfaction, satisfaction

__all__ = ["Attribution", "attribute"]
__all__ += ["JourneyDiff", "diff"]
__all__ += ["Satisfaction", "satisfaction"]
__all__ += ["Conformance", "ProcessModel", "conformance", "process_model"]
