"""Everything journeymine asks of pm4py, in one module, imported on demand.

pm4py (the ``process`` extra, AGPL-3.0) is the reference for Petri nets,
BPMN, token replay, alignments and the inductive miner. It takes seconds to
import, so no module imports it at import time: the functions here import it
when they run, and a missing extra becomes an
:class:`~journeymine.exceptions.OptionalDependencyError` naming it. The rest
of journeymine hands this module plain Python (touchpoint names, edges,
traces as tuples) and gets plain Python back.

Deviations per trace
--------------------
*Alignments* (optimal, standard costs: every log move and visible model move
costs 1) explain a trace as synchronous moves, log moves (an event the model
cannot take there) and model moves (a step the model needed that the trace
lacks). A touchpoint with both a log move and a model move in one alignment
happened, but at the wrong place: each such pair is one **out-of-order** step;
the other log moves are **unexpected** steps and the other visible model
moves **skipped** steps.

*Token replay* fires each event's transition, adding the tokens that are
missing. An event with no transition in the model is **unexpected** (token
replay ignores it, so it does not lower the fitness); a step fired with
missing tokens is **out of order** (taken before the steps the model puts
before it); the visible steps on the shortest path from each place left with
a token to the final marking are **skipped**, unless the trace has them, and
then the steps fired early are put down to them rather than counted as out
of order. This is a fast approximation; alignments give the cheapest
explanation.
"""

from __future__ import annotations

import collections
import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from journeymine._util._optional import extra_hint, import_optional
from journeymine.exceptions import ReadError

__all__ = ["EXTRA_HINT", "KINDS", "Net", "bpmn_text", "discover_tree", "import_pm4py",
           "net_from_graph", "net_from_tree", "pnml_text", "read_net", "replay"]

#: The install command of the optional process-mining dependency.
EXTRA_HINT = extra_hint("process")
#: Kinds of deviation, in the order tables list them.
KINDS = ("skipped", "unexpected", "out_of_order")
_SKIP = ">>"  # pm4py's "no move" in an alignment


def import_pm4py(feature: str) -> Any:
    """The ``pm4py`` module, or an :class:`OptionalDependencyError` naming the extra.

    Parameters
    ----------
    feature : str
        What needs it, for the message (e.g. ``"conformance()"``).
    """
    return import_optional("pm4py", feature, extra="process")


@dataclasses.dataclass(frozen=True, eq=False)
class Net:
    """An accepting Petri net: pm4py's net with its initial and final marking."""

    net: Any
    initial: Any
    final: Any

    @property
    def labels(self) -> frozenset[str]:
        """Labels of the visible transitions."""
        return frozenset(t.label for t in self.net.transitions if t.label is not None)

    @property
    def size(self) -> dict[str, int]:
        """Places, transitions (visible and silent) and arcs."""
        visible = sum(t.label is not None for t in self.net.transitions)
        return {"places": len(self.net.places), "transitions": visible,
                "silent_transitions": len(self.net.transitions) - visible,
                "arcs": len(self.net.arcs)}


def net_from_graph(edges: Iterable[tuple[str, str]], starts: Iterable[str],
                   ends: Iterable[str], steps: Iterable[str] = ()) -> Net:
    """A Petri net that allows exactly the walks over ``edges`` from a start to an end.

    Every touchpoint is one visible transition between its own two places and
    every allowed step ``a -> b`` a silent transition between them (pm4py's
    DFG conversion, so each label occurs once).

    Parameters
    ----------
    edges : iterable of (str, str)
    starts, ends : iterable of str
        Where a journey may start and end.
    steps : iterable of str
        Touchpoints that must be in the net even without an edge (a
        one-step journey).
    """
    import_pm4py("A designed journey")
    from pm4py.objects.conversion.dfg.variants import to_petri_net_invisibles_no_duplicates as conv
    from pm4py.objects.petri_net.obj import PetriNet
    from pm4py.objects.petri_net.utils import petri_utils

    dfg = {(a, b): 1 for a, b in edges}
    start, end = {s: 1 for s in starts}, {e: 1 for e in ends}
    net, im, fm = conv.apply(dfg, parameters={conv.Parameters.START_ACTIVITIES: start,
                                              conv.Parameters.END_ACTIVITIES: end})
    missing = set(steps) - Net(net, im, fm).labels
    for label in sorted(missing):  # isolated steps (no edge, no start, no end)
        source, sink = PetriNet.Place(f"source_{label}"), PetriNet.Place(f"sink_{label}")
        trans = PetriNet.Transition(f"trans_{label}", label)
        net.places.update((source, sink))
        net.transitions.add(trans)
        petri_utils.add_arc_from_to(source, trans, net)
        petri_utils.add_arc_from_to(trans, sink, net)
    return Net(net, im, fm)


def read_net(path: Path) -> Net:
    """The accepting Petri net of a ``.bpmn`` or ``.pnml`` file.

    Raises
    ------
    ReadError
        The file cannot be read or parsed as its suffix says.
    """
    pm4py = import_pm4py(f"Reading {path.name!r}")
    kind = path.suffix.lower()
    try:
        if kind == ".bpmn":
            net, im, fm = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(path)))
        else:
            net, im, fm = pm4py.read_pnml(str(path))
    except Exception as exc:  # pm4py raises lxml, KeyError, ... on a bad file
        raise ReadError(
            f"Cannot read {str(path)!r} as a {kind[1:].upper()} model: "
            f"{type(exc).__name__}: {exc}.",
            expected=f"a valid {kind[1:].upper()} file (e.g. exported by pm4py, Camunda, "
            "ProM or jm.process_model(...).save(path)).",
            fix="Check the file, or pass the designed journey as a list or CSV of steps.",
        ) from exc
    if not im or not fm:
        raise ReadError(
            f"The Petri net in {str(path)!r} has no "
            f"{'initial' if not im else 'final'} marking.",
            expected="an accepting Petri net (initial and final marking).",
            fix="Export the model with its markings, or pass the designed journey as steps.")
    return Net(net, im, fm)


# --------------------------------------------------------------------------- replay
def replay(net: Net, traces: Sequence[tuple[str, ...]], method: str
           ) -> list[tuple[float, Counter]]:
    """Fitness and deviations of every trace against ``net``.

    Parameters
    ----------
    net : Net
    traces : sequence of tuple of str
        Touchpoints of each trace, in order (typically one per variant).
    method : {"token_replay", "alignments"}

    Returns
    -------
    list of (float, Counter)
        Per trace, its fitness in [0, 1] and a ``Counter`` of
        ``(kind, touchpoint) -> occurrences`` (see the module docstring).
    """
    import_pm4py("conformance()")
    from pm4py.objects.log.obj import Event, EventLog, Trace

    log = EventLog([Trace([Event({"concept:name": a}) for a in trace]) for trace in traces])
    params = {"show_progress_bar": False}
    if method == "alignments":
        from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments

        results = alignments.apply(log, net.net, net.initial, net.final, parameters=params)
        return [(float(r["fitness"]), _alignment_deviations(r["alignment"])) for r in results]
    from pm4py.algo.conformance.tokenreplay import algorithm as token_replay

    results = token_replay.apply(log, net.net, net.initial, net.final, parameters=params)
    labels = net.labels
    paths = _PathsToEnd(net)
    return [(float(r["trace_fitness"]), _token_deviations(trace, r, labels, paths))
            for trace, r in zip(traces, results, strict=True)]


def _alignment_deviations(alignment: Sequence[tuple[Any, Any]]) -> Counter:
    skipped: Counter = Counter()
    extra: Counter = Counter()
    for log_move, model_move in alignment:
        if log_move == _SKIP and model_move not in (None, _SKIP):
            skipped[model_move] += 1
        elif model_move == _SKIP:
            extra[log_move] += 1
    return _classify(skipped, extra, Counter())


def _token_deviations(trace: tuple[str, ...], result: Mapping[str, Any],
                      labels: frozenset[str], paths: _PathsToEnd) -> Counter:
    extra = Counter(a for a in trace if a not in labels)
    early = Counter(t.label for t in result["transitions_with_problems"] if t.label)
    left = [p for p, n in result["reached_marking"].items()
            if n > paths.final.get(p, 0)]
    present = set(trace)
    skipped = Counter(label for label in paths.labels(left) if label not in present)
    if skipped:  # the missing tokens of the early steps are those of the skipped ones
        early = Counter()
    return _classify(skipped, extra, early)


def _classify(skipped: Counter, extra: Counter, early: Counter) -> Counter:
    """Deviation counts; a touchpoint both skipped and extra is out of order instead."""
    out: Counter = Counter()
    for label in set(skipped) & set(extra):
        both = min(skipped[label], extra[label])
        early[label] += both
        skipped[label] -= both
        extra[label] -= both
    for kind, counts in zip(KINDS, (skipped, extra, early), strict=True):
        for label, n in counts.items():
            if n > 0:
                out[kind, label] += n
    return out


class _PathsToEnd:
    """Visible labels on a shortest way (fewest visible steps) from a place to the end."""

    def __init__(self, net: Net):
        self.final = net.final
        self._labels: dict[Any, tuple[str, ...]] = {}
        # 0-1 breadth-first search backwards from the final places
        best: dict[Any, tuple[str, ...]] = {p: () for p in net.final}
        queue = collections.deque((p, ()) for p in net.final)
        while queue:
            place, path = queue.popleft()
            if best.get(place) != path:
                continue
            for arc in place.in_arcs:
                trans = arc.source
                step = path if trans.label is None else (trans.label, *path)
                for in_arc in trans.in_arcs:
                    before = in_arc.source
                    if before not in best or len(step) < len(best[before]):
                        best[before] = step
                        if trans.label is None:
                            queue.appendleft((before, step))
                        else:
                            queue.append((before, step))
        self._labels = best

    def labels(self, places: Iterable[Any]) -> set[str]:
        """Union of the visible labels still needed from each of ``places``."""
        return {label for p in places for label in self._labels.get(p, ())}


# --------------------------------------------------------------------------- discovery
def discover_tree(edges: Mapping[tuple[str, str], int], start: Mapping[str, int],
                  end: Mapping[str, int], noise_threshold: float = 0.0) -> Any:
    """Process tree of the inductive miner (IMd) run on a directly-follows graph."""
    pm4py = import_pm4py("process_model()")
    from pm4py.objects.dfg.obj import DFG

    dfg = DFG(dict(edges), dict(start), dict(end))
    return pm4py.discover_process_tree_inductive(dfg, noise_threshold=noise_threshold)


def net_from_tree(tree: Any) -> Net:
    """The accepting Petri net of a process tree."""
    pm4py = import_pm4py("process_model()")
    return Net(*pm4py.convert_to_petri_net(tree))


def pnml_text(net: Net) -> str:
    """The net as a PNML document (with its markings)."""
    import_pm4py("Saving a Petri net")
    from pm4py.objects.petri_net.exporter.variants import pnml

    text = pnml.export_petri_as_string(net.net, net.initial, net.final)
    return text.decode("utf-8") if isinstance(text, bytes) else text


def bpmn_text(tree: Any) -> str:
    """A process tree as a BPMN 2.0 document."""
    pm4py = import_pm4py("Saving a BPMN model")
    from pm4py.objects.bpmn.exporter.variants import etree

    text = etree.get_xml_string(pm4py.convert_to_bpmn(tree))
    return text.decode("utf-8") if isinstance(text, bytes) else text
