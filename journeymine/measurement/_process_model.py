"""A process model of the discovered journey: :func:`process_model`.

The inductive miner (pm4py's IMd variant) runs on the directly-follows graph
that :func:`~journeymine.discover` already counted (edge counts, start and end
counts), not on the log: no second pass over the events, and a filtered view
(:meth:`~journeymine.ProcessMap.filter`) gives a simpler model. The result is
a sound process tree and its Petri net, exported as BPMN 2.0 or PNML for
modelling tools, and usable as the ``designed=`` journey of
:func:`~journeymine.conformance`.
"""

from __future__ import annotations

import dataclasses
import html
import os
from pathlib import Path
from typing import Any

from journeymine._util._json import envelope
from journeymine._util._params import check_number
from journeymine._util._write import write_text
from journeymine.discovery._discover import discover
from journeymine.discovery._processmap import ProcessMap
from journeymine.eventlog._eventlog import EventLog
from journeymine.exceptions import InvalidParameterError, JourneymineError
from journeymine.measurement._pm4py import (
    Net,
    bpmn_text,
    discover_tree,
    net_from_tree,
    pnml_text,
)

__all__ = ["ProcessModel", "process_model"]

FORMAT_VERSION = 1
_FORMATS = (".bpmn", ".pnml")


@dataclasses.dataclass(frozen=True, repr=False)
class ProcessModel:
    """A process model discovered from a journey's directly-follows graph.

    Attributes
    ----------
    tree : pm4py ProcessTree
        What the inductive miner found (``str(tree)`` is readable).
    net : accepting Petri net
        ``net.net``, ``net.initial``, ``net.final`` (pm4py objects).
    summary : dict
        ``touchpoints``, ``edges`` (of the graph mined), ``noise_threshold``,
        ``grain``, and the net's ``places``, ``transitions``,
        ``silent_transitions`` and ``arcs``.
    """

    tree: Any
    net: Net
    summary: dict[str, Any]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model as BPMN 2.0 (``.bpmn``) or PNML (``.pnml``), by the file's suffix.

        The file is replaced atomically (never half-written).

        Raises
        ------
        InvalidParameterError
            Another suffix.
        OutputError
            The file cannot be written.

        Examples
        --------
        >>> import tempfile, pathlib, journeymine as jm
        >>> model = jm.process_model(jm.discover(jm.datasets.make_journeys(200, random_state=0)))
        >>> out = pathlib.Path(tempfile.mkdtemp())
        >>> model.save(out / "journey.bpmn").name, model.save(out / "journey.pnml").name
        ('journey.bpmn', 'journey.pnml')
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".bpmn":
            return write_text(path, bpmn_text(self.tree))
        if suffix == ".pnml":
            return write_text(path, pnml_text(self.net))
        raise InvalidParameterError(
            f"Cannot save a process model as {path.name!r}.",
            expected=f"a file name ending in {' or '.join(_FORMATS)}.",
            fix="Name the file e.g. 'journey.bpmn' (BPMN 2.0) or 'journey.pnml' (Petri net).")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the ``journeymine.process_model`` envelope."""
        return envelope("journeymine.process_model", FORMAT_VERSION,
                        {"summary": dict(self.summary), "tree": str(self.tree)})

    def __repr__(self) -> str:
        s = self.summary
        return (f"ProcessModel({s['touchpoints']} touchpoints, {s['places']} places, "
                f"{s['transitions']} + {s['silent_transitions']} silent transitions; "
                f"inductive miner on {s['edges']} edges)")

    def _repr_html_(self) -> str:
        return (f"<div><p>{html.escape(repr(self))}</p>"
                f"<pre>{html.escape(str(self.tree))}</pre></div>")


def process_model(journey: ProcessMap | EventLog, *, noise_threshold: float = 0.0
                  ) -> ProcessModel:
    """Discover a process model (process tree and Petri net) from a journey's graph.

    Parameters
    ----------
    journey : ProcessMap or EventLog
        A discovered journey (filtered or not), or a log to discover first
        (:func:`~journeymine.discover` with its defaults).
    noise_threshold : float in [0, 1), default 0.0
        Inductive miner noise threshold: above 0, infrequent edges are
        ignored, for a simpler model that fits most journeys.

    Returns
    -------
    ProcessModel

    Raises
    ------
    InvalidParameterError
        ``noise_threshold`` out of range.
    JourneymineError
        ``journey`` is neither a ProcessMap nor an EventLog, or its graph is empty.
    OptionalDependencyError
        pm4py (the ``process`` extra) is not installed.

    Examples
    --------
    >>> import journeymine as jm
    >>> pm = jm.discover(jm.datasets.make_journeys(300, random_state=0))
    >>> model = jm.process_model(pm.filter(paths=0.5))
    >>> model.summary["touchpoints"] <= len(pm.nodes)
    True
    """
    noise = check_number("noise_threshold", noise_threshold, low=0, high=1)
    if noise >= 1:
        raise InvalidParameterError(
            f"noise_threshold={noise_threshold!r} would ignore every edge.",
            expected="a number from 0 to below 1.", fix="Pass e.g. noise_threshold=0.2.")
    if isinstance(journey, EventLog):
        journey = discover(journey)
    if not isinstance(journey, ProcessMap):
        raise JourneymineError(
            f"process_model() needs a ProcessMap or an EventLog, got {type(journey).__name__}.",
            expected="the result of jm.discover(log), or an EventLog.",
            fix="Pass jm.discover(log) (optionally .filter(...)).")
    touchpoints = set(journey.nodes["touchpoint"])
    edges = {(s, t): int(c) for s, t, c in journey.edges[["source", "target", "count"]]
             .itertuples(index=False, name=None) if s in touchpoints and t in touchpoints}
    start = {k: int(v) for k, v in journey.start.items() if k in touchpoints}
    end = {k: int(v) for k, v in journey.end.items() if k in touchpoints}
    if not start or not end:
        raise JourneymineError(
            "The journey's graph has no start or no end touchpoint left, so no model fits it.",
            expected="a ProcessMap whose filter kept at least one start and one end.",
            fix="Filter less, e.g. pm.filter(paths=0.8) instead of a stricter view.")
    _connect(edges, start, end, touchpoints)
    tree = discover_tree(edges, start, end, noise)
    net = net_from_tree(tree)
    summary = {"touchpoints": len(net.labels), "edges": len(edges), "noise_threshold": noise,
               "grain": journey.grain, **net.size}
    return ProcessModel(tree, net, summary)


def _connect(edges: dict[tuple[str, str], int], start: dict[str, int], end: dict[str, int],
             touchpoints: set[str]) -> None:
    """Make every touchpoint reachable from a start and able to reach an end.

    A filtered graph can leave touchpoints that no kept start leads to (or
    that lead to no kept end), and the inductive miner fails on such a graph;
    they become starts (ends) themselves, with count 1, updating ``start``
    and ``end`` in place.
    """
    for marks, forward in ((start, True), (end, False)):
        nexts: dict[str, list[str]] = {}
        for a, b in edges:
            nexts.setdefault(a if forward else b, []).append(b if forward else a)
        seen = set(marks)
        for node in sorted(touchpoints, key=lambda t: (t not in marks, t)):
            if node not in seen:
                marks[node] = 1
                seen.add(node)
            stack = [node]
            while stack:
                for nxt in nexts.get(stack.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
