"""The designed journey: what the business meant customers to do, in any of its forms.

:func:`designed_journey` reads the ``designed=`` argument of
:func:`~journeymine.conformance` into one :class:`DesignedJourney`:

* an ordered list of touchpoints (``["instagram_ad", "website_product_page", ...]``);
* a graph of allowed steps: a list of ``(a, b)`` pairs or a dict
  ``{a: [b, c]}``; journeys start where no step leads in;
* a table (DataFrame, or a CSV file) with a ``touchpoint`` column, ordered by
  ``step`` if present, with an optional ``stage`` column (English or
  Indonesian stage names, e.g. ``kesadaran``), like the demo's
  ``designed_journey.csv``; or with ``source``/``target`` (``from``/``to``)
  columns for a graph;
* a BPMN (``.bpmn``) or Petri net (``.pnml``) file, or a
  :class:`~journeymine.ProcessModel`.

Every touchpoint the design names must occur in the log.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import itertools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from journeymine._util._params import suggest
from journeymine.eventlog._stages import normalize_stage
from journeymine.exceptions import InvalidParameterError, ReadError, UnknownTouchpointError
from journeymine.measurement._pm4py import Net, net_from_graph, read_net

__all__ = ["DesignedJourney", "DesignedLike", "designed_journey"]

#: What ``designed=`` accepts.
DesignedLike = Any
_MODEL_SUFFIXES = (".bpmn", ".pnml")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz")
_EDGE_COLUMNS = (("source", "target"), ("from", "to"))
_EXPECTED = ("an ordered list of touchpoints, a list of (from, to) steps, a dict "
             "{touchpoint: [next touchpoints]}, a DataFrame or CSV with a 'touchpoint' "
             "column (or 'source'/'target' columns), or a .bpmn / .pnml file.")


@dataclasses.dataclass(frozen=True)
class DesignedJourney:
    """A designed journey, ready to replay.

    Attributes
    ----------
    steps : tuple of str
        Its touchpoints, in the order the design lists them.
    edges : tuple of (str, str)
        Allowed steps (empty for a model file: its net is the design).
    starts, ends : tuple of str
        Where a journey may start, and (with ``require_end``) end.
    stages : dict
        Stage of a touchpoint, where the design says it.
    source : str
        What the design was read from.
    net : pm4py net or None
        The accepting Petri net of a model file or process model.
    """

    steps: tuple[str, ...]
    edges: tuple[tuple[str, str], ...] = ()
    starts: tuple[str, ...] = ()
    ends: tuple[str, ...] = ()
    stages: dict[str, str] = dataclasses.field(default_factory=dict)
    source: str = "a list of steps"
    net: Net | None = None

    def petri_net(self, ends: tuple[str, ...] | None = None) -> Net:
        """The accepting Petri net, ending at ``ends`` (default: the designed ends)."""
        if self.net is not None:
            return self.net
        return net_from_graph(self.edges, self.starts,
                                     self.ends if ends is None else ends, self.steps)

    @functools.cached_property
    def _depth(self) -> dict[str, int]:
        """Steps from a start to each touchpoint (breadth first over the allowed steps)."""
        depth = dict.fromkeys(self.starts, 0)
        frontier = list(self.starts)
        while frontier:
            nxt = []
            for a in frontier:
                for x, b in self.edges:
                    if x == a and b not in depth:
                        depth[b] = depth[a] + 1
                        nxt.append(b)
            frontier = nxt
        return depth

    def furthest(self, trace: tuple[str, ...]) -> tuple[str, ...]:
        """Where ``trace`` got to: its designed step furthest from the start.

        A journey that stops there has dropped off rather than deviated, so
        its replay ends there; without any designed step it ends at the
        starts (it never entered the designed journey). Ties go to the later
        event.
        """
        best, where = None, -1
        for tp in trace:
            d = self._depth.get(tp)
            if d is not None and d >= where:
                best, where = tp, d
        return self.starts if best is None else (best,)


def designed_journey(designed: DesignedLike, touchpoints: list[str]) -> DesignedJourney:
    """Read ``designed`` and check its touchpoints against the log's ``touchpoints``.

    Raises
    ------
    InvalidParameterError
        ``designed`` is empty or not one of the accepted forms.
    ReadError
        A file is missing, unreadable, or of an unknown type.
    StageError
        A ``stage`` column holds a name that is not a stage.
    UnknownTouchpointError
        The design names touchpoints the log does not have.
    """
    out = _read(designed)
    if not out.steps:
        raise InvalidParameterError(
            f"The designed journey ({out.source}) has no steps.",
            expected=_EXPECTED, fix="Pass at least one touchpoint, e.g. designed=['ad', 'buy'].")
    known = set(touchpoints)
    missing = [s for s in out.steps if s not in known]
    if missing:
        hints = []
        for name in missing[:10]:
            close = suggest(name, touchpoints)
            hints.append(f"{name!r}" + (f" (did you mean {close!r}?)" if close else ""))
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise UnknownTouchpointError(
            f"The designed journey ({out.source}) names {len(missing)} touchpoint"
            f"{'s' if len(missing) > 1 else ''} the log does not have: "
            f"{', '.join(hints)}{more}.",
            expected=f"touchpoints of the log, e.g. {', '.join(map(repr, touchpoints[:5]))}.",
            fix="Spell the steps as the log does, or rename the log's touchpoints.")
    return out


def _read(designed: DesignedLike) -> DesignedJourney:
    if hasattr(designed, "net") and isinstance(designed.net, Net):
        net = designed.net  # a ProcessModel
        return DesignedJourney(tuple(sorted(net.labels)), source="a process model", net=net)
    if isinstance(designed, (str, os.PathLike)):
        return _read_file(Path(designed))
    if isinstance(designed, pd.DataFrame):
        return _from_table(designed, "a DataFrame")
    if isinstance(designed, Mapping):
        edges = []
        for a, nexts in designed.items():
            for b in [nexts] if isinstance(nexts, str) else list(nexts or ()):
                edges.append((a, b))
        return _from_edges(edges, list(designed), "a dict of allowed steps")
    try:
        items = list(designed)
    except TypeError:
        raise InvalidParameterError(
            f"designed={designed!r} is not a designed journey.", expected=_EXPECTED,
            fix="Pass e.g. designed=['instagram_ad', 'website_product_page', 'checkout'].",
        ) from None
    if all(isinstance(i, str) for i in items):
        return _from_steps(items, [None] * len(items), "a list of steps")
    if all(isinstance(i, (tuple, list)) and len(i) == 2 and all(isinstance(x, str) for x in i)
           for i in items):
        return _from_edges([tuple(i) for i in items], [], "a list of allowed steps")
    raise InvalidParameterError(
        "designed mixes touchpoints and (from, to) steps, or holds something else.",
        expected=_EXPECTED,
        fix="Pass either only touchpoint names or only (from, to) pairs of names.")


def _from_steps(steps: list[str], stages: list[Any], source: str) -> DesignedJourney:
    """An ordered journey: each step leads to the next (a repeated step makes a loop)."""
    edges = list(dict.fromkeys(itertools.pairwise(steps)))
    staged = {tp: normalize_stage(st) for tp, st in zip(steps, stages, strict=True)
              if isinstance(st, str) and st.strip()}
    return DesignedJourney(tuple(dict.fromkeys(steps)), tuple(edges), tuple(steps[:1]),
                           tuple(steps[-1:]), staged, source)


def _from_edges(edges: list[tuple[str, str]], order: list[str], source: str) -> DesignedJourney:
    """A graph of allowed steps: it starts where no step leads in, ends where none leads out."""
    edges = list(dict.fromkeys(edges))
    steps = list(dict.fromkeys([*order, *(x for e in edges for x in e)]))
    targets = {b for _, b in edges}
    sources = {a for a, _ in edges}
    starts = [s for s in steps if s not in targets] or steps[:1]
    ends = [s for s in steps if s not in sources] or steps
    return DesignedJourney(tuple(steps), tuple(edges), tuple(starts), tuple(ends), {}, source)


def _from_table(df: pd.DataFrame, source: str) -> DesignedJourney:
    columns = {str(c).strip().lower(): c for c in df.columns}
    for a, b in _EDGE_COLUMNS:
        if a in columns and b in columns:
            pairs = df[[columns[a], columns[b]]].dropna().astype(str)
            return _from_edges(list(pairs.itertuples(index=False, name=None)), [], source)
    if "touchpoint" not in columns:
        close = suggest("touchpoint", list(columns))
        raise InvalidParameterError(
            f"The designed journey ({source}) has no 'touchpoint' column; it has "
            f"{', '.join(map(repr, map(str, df.columns)))}.",
            expected="a 'touchpoint' column (optionally 'step' and 'stage'), or "
            "'source' and 'target' columns.",
            fix=(f"Did you mean {columns[close]!r}? " if close else "")
            + "Rename the column to 'touchpoint'.")
    if "step" in columns:
        df = df.sort_values(columns["step"], kind="stable")
    df = df[df[columns["touchpoint"]].notna()]
    steps = df[columns["touchpoint"]].astype(str).str.strip().tolist()
    stages = df[columns["stage"]].tolist() if "stage" in columns else [None] * len(steps)
    return _from_steps(steps, stages, source)


def _read_file(path: Path) -> DesignedJourney:
    name = path.name.lower()
    kind = next((s for s in (*_MODEL_SUFFIXES, *_TABLE_SUFFIXES) if name.endswith(s)), None)
    if kind is None:
        raise ReadError(
            f"Don't know how to read the designed journey {path.name!r}.",
            expected="a .csv file of steps, a .bpmn or a .pnml file.",
            fix="Rename the file with its format's extension, or pass a list of steps.")
    if not path.is_file():
        raise ReadError(f"The designed journey {str(path)!r} does not exist.",
                        fix="Check the path and the current folder.")
    source = repr(path.name)
    if kind in _MODEL_SUFFIXES:
        net = read_net(path)
        return DesignedJourney(tuple(sorted(net.labels)), source=source, net=net)
    try:
        text = path.read_bytes().decode("utf-8-sig")
        try:  # a one-column file has no separator to find
            sep = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError,
            ValueError) as exc:
        raise ReadError(
            f"Cannot read the designed journey {str(path)!r}: {exc}.",
            expected="a UTF-8 CSV with a 'touchpoint' column (optionally 'step', 'stage').",
            fix="Check the file (e.g. save it again as CSV UTF-8).") from exc
    if "step" in [str(c).strip().lower() for c in df.columns]:
        step = next(c for c in df.columns if str(c).strip().lower() == "step")
        df[step] = pd.to_numeric(df[step], errors="coerce")
    return _from_table(df, source)
