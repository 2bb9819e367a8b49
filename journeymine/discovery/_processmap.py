"""The :class:`ProcessMap` result of journey discovery."""

from __future__ import annotations

import dataclasses
import html
import itertools
import json
from collections import Counter
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from journeymine._util._json import json_safe, records
from journeymine._util._params import check_number
from journeymine._util._write import write_bundle, write_text
from journeymine.eventlog._stages import StageMap
from journeymine.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from journeymine.discovery._grains import GapSuggestion
    from journeymine.discovery._insights import Insights
    from journeymine.discovery._patterns import Paths
    from journeymine.eventlog._eventlog import LogProfile
    from journeymine.measurement._attribution import Attribution
    from journeymine.measurement._conformance import Conformance
    from journeymine.measurement._satisfaction import Satisfaction
    from journeymine.sentiment._journey import JourneyEmotions

__all__ = ["LONG_TAIL_K", "LONG_TAIL_SHARE", "ProcessMap", "variant_coverage"]

#: The long-tail rule: when the ``LONG_TAIL_K`` most common paths of journeys with
#: two or more steps cover less than ``LONG_TAIL_SHARE`` of those journeys.
LONG_TAIL_K, LONG_TAIL_SHARE = 10, 0.2

#: Version of the ``process_map.json`` format written by :meth:`ProcessMap.to_dict`.
FORMAT_VERSION = 3


@dataclasses.dataclass(frozen=True, repr=False)
class ProcessMap:
    """The discovered customer journey.

    Returned by :func:`~journeymine.discover`. All tables are pandas
    DataFrames sorted by importance (descending volume), ties by name.

    Attributes
    ----------
    nodes : DataFrame
        ``id`` (touchpoint), ``count`` (events), ``customers``, ``stage``.
    edges : DataFrame
        The directly-follows graph: ``source``, ``target``, ``count``,
        ``customers``, ``mean_seconds``, ``median_seconds``, ``p90_seconds``.
    start, end : dict
        ``{touchpoint: journeys starting / ending there}``.
    variants : DataFrame
        Distinct paths: ``variant``, ``customers``, ``share``,
        ``cumulative_share``, ``length``, ``conversion_rate``,
        ``median_duration_seconds``, ``path`` (tuple).
    funnel : DataFrame
        Per stage: ``visited`` (had an event in it), ``reached`` (got at
        least that far), ``reached_share``, ``continued``, ``dropped``,
        ``conversion_to_next``, ``median_seconds_to_next`` (between first
        reaching this stage and the next one, for customers who reached both
        in that order).
    dropoffs : DataFrame
        Where non-converting journeys end: ``touchpoint``, ``lost_customers``,
        ``share_of_lost``, ``exit_rate`` (lost there / visitors).
    loops : DataFrame
        Rework: self-loops (A ↺), ping-pong (A ⇄ B) and repeats, with counts,
        customers and the share of the touchpoint's visitors affected.
    bottlenecks : DataFrame
        Forward edges ranked by ``impact_hours`` = customers × median wait.
    channel_switches : DataFrame
        Consecutive events on different channels, with the conversion rate of
        the customers who made each switch (empty without a channel column).
    summary : dict
        Headline numbers.
    stages : StageMap
    conversion : tuple of str
        Touchpoints that count as converting.
    unmapped : tuple of str
        Touchpoints without a stage.
    coverage : dict or None
        For a filtered view: what the filter kept.
    grain : str
        What one journey is: ``"customer"`` (a customer's whole history),
        ``"episode"`` or ``"session"`` (see :func:`~journeymine.discover`).
        At the finer grains the ``customers`` columns count journeys.
    returns : DataFrame
        At episode and session grain, the gaps between a customer's journeys
        (not waits, so not bottlenecks): per last touchpoint before the
        return, ``count``, ``customers``, ``median_seconds``, ``p90_seconds``.
        Empty at customer grain.
    channel_gaps : DataFrame
        Per channel pair (``from_channel``, ``to_channel``), what a switch
        costs, worst first (see :mod:`journeymine.discovery._channels`):
        ``switches``, ``journeys`` that switch before converting,
        ``converted_after`` and ``conversion_after`` (with Wilson
        ``conversion_low``/``conversion_high``), ``ended_at_switch`` and
        ``ended_share``, ``median_seconds`` of a switch against
        ``within_median_seconds`` on the channel left (``extra_seconds``),
        and ``lost_conversions`` against the overall conversion rate.
        Empty without a channel column.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    start: dict[str, int]
    end: dict[str, int]
    variants: pd.DataFrame
    funnel: pd.DataFrame
    dropoffs: pd.DataFrame
    loops: pd.DataFrame
    bottlenecks: pd.DataFrame
    channel_switches: pd.DataFrame
    summary: dict[str, Any]
    stages: StageMap
    conversion: tuple[str, ...] = ()
    unmapped: tuple[str, ...] = ()
    coverage: dict[str, Any] | None = None
    full: ProcessMap | None = None
    grain: str = "customer"
    returns: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    channel_gaps: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    # ------------------------------------------------------------------ filtering
    def filter(
        self,
        *,
        paths: float | None = None,
        edges: float | None = None,
        min_customers: int | None = None,
        touchpoints: int | None = None,
        max_edges: int | None = None,
    ) -> ProcessMap:
        """A simplified view of the map, like Disco's activity and path sliders.

        The unfiltered map stays available as ``.full`` and is what
        :meth:`to_dict` exports: filtering is a view, not data loss.

        Parameters
        ----------
        paths : float in (0, 1], optional
            Keep the most frequent variants that together cover this share of
            customers; counts are recomputed from those customers' paths.
        edges : float in (0, 1], optional
            Keep the most frequent edges that together cover this share of
            transitions, plus each kept touchpoint's busiest incoming and
            outgoing edge so the map stays connected.
        min_customers : int, optional
            Drop edges with fewer distinct customers.
        touchpoints : int, optional
            Keep at most this many touchpoints, those with the most customers,
            and the edges between them (applied after the options above).
        max_edges : int, optional
            Keep at most this many edges: each touchpoint's busiest incoming
            and outgoing edge first, so the map stays connected, then the
            busiest of the others (applied last).

        Returns
        -------
        ProcessMap
            With ``coverage`` saying what was kept.

        Examples
        --------
        >>> import journeymine as jm
        >>> pm = jm.discover(jm.datasets.make_journeys(300, random_state=0))
        >>> small = pm.filter(paths=0.5)
        >>> small.coverage["customers_share"] >= 0.5
        True
        >>> len(small.edges) <= len(pm.edges)
        True
        """
        base = self.full or self
        for name, value in (("paths", paths), ("edges", edges)):
            if value is not None and not (pd.api.types.is_number(value) and 0 < value <= 1):
                raise InvalidParameterError(
                    f"{name}={value} is out of range.",
                    expected="a share between 0 (exclusive) and 1.",
                    fix=f"Pass e.g. {name}=0.8 to keep 80%.",
                )
        for name, value in (("touchpoints", touchpoints), ("max_edges", max_edges)):
            if value is not None and not (isinstance(value, int) and value >= 1):
                raise InvalidParameterError(
                    f"{name}={value!r} is out of range.",
                    expected="a positive whole number.",
                    fix=f"Pass e.g. {name}=30.",
                )
        if min_customers is not None:
            min_customers = check_number("min_customers", min_customers, low=0, integer=True)
        nodes, edges_df, start, end = base.nodes, base.edges, base.start, base.end
        coverage: dict[str, Any] = {}
        if paths is not None:
            keep = base.variants[base.variants["cumulative_share"].shift(fill_value=0) < paths]
            edges_df, start, end, node_counts = _recount(keep, base.edges)
            nodes = base.nodes[base.nodes["touchpoint"].isin(node_counts)].assign(
                count=lambda d: d["touchpoint"].map(node_counts).astype(int)
            )
            coverage.update(variants=len(keep), customers_share=float(keep["share"].sum()))
        if edges is not None and len(edges_df):
            edges_df = _top_edges(edges_df, edges)
        if min_customers is not None:
            edges_df = edges_df[edges_df["customers"] >= min_customers]
        if edges is not None or min_customers is not None:
            kept = set(edges_df["source"]) | set(edges_df["target"]) or set(nodes["touchpoint"])
            nodes = nodes[nodes["touchpoint"].isin(kept)]
            start = {k: v for k, v in start.items() if k in kept}
            end = {k: v for k, v in end.items() if k in kept}
        nodes, edges_df, start, end = _bounded(nodes, edges_df, start, end, touchpoints, max_edges)
        total = int(base.edges["count"].sum())
        coverage.update(
            edges=len(edges_df),
            transitions_share=float(edges_df["count"].sum() / total) if total else 1.0,
            touchpoints=len(nodes),
        )
        return dataclasses.replace(
            base, nodes=nodes.reset_index(drop=True), edges=edges_df.reset_index(drop=True),
            start=start, end=end, coverage=coverage, full=base,
        )

    # ------------------------------------------------------------------ long tail
    def variant_coverage(self, k: int | None = None, *, min_length: int = 1) -> pd.DataFrame:
        """Share of journeys covered by the ``1..k`` most common variants: the coverage curve.

        See :func:`variant_coverage`; computed on the unfiltered map.

        Examples
        --------
        >>> import journeymine as jm
        >>> pm = jm.discover(jm.datasets.make_journeys(300, random_state=0))
        >>> pm.variant_coverage(3).columns.tolist()
        ['k', 'variant', 'journeys', 'share']
        """
        return variant_coverage((self.full or self).variants, k, min_length=min_length)

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, Any]:
        """The unfiltered map in the documented ``process_map.json`` format.

        Keys: ``format`` (name and version), ``nodes`` (``id``, ``count``,
        ``customers``, ``stage``), ``edges`` (``source``, ``target``,
        ``count``, ``customers``, ``mean_seconds``, ``median_seconds``,
        ``p90_seconds``), ``start`` and ``end`` (``{touchpoint: journeys}``),
        ``stages`` (order and touchpoint map), ``conversion``, ``grain``,
        ``returns`` (``touchpoint``, ``count``, ``customers``,
        ``median_seconds``, ``p90_seconds``) and ``summary``.
        Durations are seconds; missing values are ``null``.
        """
        base = self.full or self
        return {
            "format": {"name": "journeymine.process_map", "version": FORMAT_VERSION},
            "nodes": records(base.nodes, ["touchpoint", "count", "customers", "stage"]),
            "edges": records(base.edges, ["source", "target", "count", "customers",
                                          "mean_seconds", "median_seconds", "p90_seconds"]),
            "start": json_safe(base.start),
            "end": json_safe(base.end),
            "stages": base.stages.to_dict(),
            "conversion": list(base.conversion),
            "unmapped": list(base.unmapped),
            "grain": base.grain,
            "returns": records(base.returns, ["touchpoint", "count", "customers",
                                              "median_seconds", "p90_seconds"]),
            "summary": json_safe(base.summary),
        }

    def to_json(self, path: str | PathLike[str]) -> Path:
        """Write :meth:`to_dict` as JSON (UTF-8, atomically) and return the path."""
        return write_text(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2))

    def to_html(self, *, title: str = "Customer journey report", source: str = "an event log",
                notes: list[str] | None = None, emotions: JourneyEmotions | None = None,
                insights: Insights | None = None,
                gaps: GapSuggestion | LogProfile | None = None,
                satisfaction: Satisfaction | None = None,
                attribution: Attribution | None = None,
                conformance: Conformance | None = None) -> str:
        """The self-contained HTML journey report as a string.

        The report has the journey map by stage, the process map (frequency
        and time views), the funnel, drop-offs, bottlenecks, returns (at
        session and episode grain), top variants, loops, channel switches and
        channel gaps. When the paths have a long tail (``summary["long_tail"]``)
        it says so first and adds the frequent sub-paths of :func:`~journeymine.patterns`
        and the step-by-step paths (:func:`~journeymine.paths_to` the most
        common conversion touchpoint, :func:`~journeymine.paths_from` the top
        drop-off point) as tables and Sankey diagrams. It loads nothing from
        the network and escapes every name.

        Parameters
        ----------
        title : str
            Page title.
        source : str
            Where the events came from (shown in the footer).
        notes : list of str, optional
            Data-quality notes shown at the top (e.g. dropped rows).
        emotions : JourneyEmotions, optional
            Adds what customers feel and say per stage, and the pain points and
            delights with quotes (from :func:`journeymine.emotions`).
        insights : Insights, optional
            Shown first as "What matters": the ranked barriers and
            opportunities of :func:`journeymine.insights`.
        gaps : GapSuggestion or LogProfile, optional
            Draws the histogram of gaps between a customer's events behind the
            session gap (from :func:`journeymine.suggest_gap` or
            :meth:`EventLog.describe`), with the suggested gap marked.
        satisfaction : Satisfaction, optional
            Adds "Satisfaction per stage": NPS, CSAT or mean rating per stage
            with intervals and the outcome link (from
            :func:`journeymine.satisfaction`).
        attribution : Attribution, optional
            Adds "Which channels open, assist and close journeys": each
            channel's share under every model computed and the converting
            journeys it opens, assists and closes (from
            :func:`journeymine.attribute`).
        conformance : Conformance, optional
            Adds "Designed vs actual journey": the share of journeys that
            follow the design, their mean fitness and the three most common
            deviations (from :func:`journeymine.conformance`).

        Examples
        --------
        >>> import journeymine as jm
        >>> log = jm.datasets.make_journeys(50, random_state=0)
        >>> pm = jm.discover(log)
        >>> pm.to_html(gaps=jm.suggest_gap(log)).count('class="jm-gaps"')
        1
        """
        from journeymine.eventlog._eventlog import LogProfile
        from journeymine.reporting._journey_report import render_report

        if isinstance(gaps, LogProfile):
            gaps = gaps.gaps
        patterns, paths = self._long_tail_views()
        return render_report(self, title=title, source=source, notes=notes, emotions=emotions,
                             insights=insights, gaps=gaps, patterns=patterns, paths=paths,
                             satisfaction=satisfaction, attribution=attribution,
                             conformance=conformance)

    def _long_tail_views(self) -> tuple[pd.DataFrame | None, tuple[Paths, ...]]:
        """Patterns and step-by-step paths for the report when the paths have a long tail.

        The paths run to the conversion touchpoint most journeys reach and from
        the top drop-off point (when it is another touchpoint).
        """
        base = self.full or self
        if not base.summary.get("long_tail"):
            return None, ()
        from journeymine.discovery._patterns import paths_from, paths_to, patterns

        found = patterns(base, top=None)
        reach = base.nodes.set_index("touchpoint")["customers"]
        converting = sorted((tp for tp in base.conversion if tp in reach.index),
                            key=lambda tp: (-reach[tp], tp))
        paths = [paths_to(base, converting[0])] if converting else []
        drop = base.dropoffs["touchpoint"].head(1).tolist()
        if drop and drop[0] not in converting[:1]:
            paths.append(paths_from(base, drop[0]))
        return found, tuple(paths)

    def save(self, out_dir: str | PathLike[str], *, title: str = "Customer journey report",
             source: str = "an event log", notes: list[str] | None = None,
             emotions: JourneyEmotions | None = None,
             insights: Insights | None = None,
             gaps: GapSuggestion | LogProfile | None = None,
             satisfaction: Satisfaction | None = None,
             attribution: Attribution | None = None,
             conformance: Conformance | None = None) -> list[Path]:
        """Write the journey report and its tables into ``out_dir``; return the files.

        Writes ``report.html`` (:meth:`to_html`), ``process_map.json``
        (:meth:`to_dict`, the full graph), and ``variants.csv``, ``funnel.csv``,
        ``edges.csv``, ``dropoffs.csv``, ``bottlenecks.csv``, ``returns.csv`` and
        ``channel_gaps.csv`` (empty without a channel column)
        (and ``insights.csv`` when ``insights`` are given, ``satisfaction.csv``
        (:meth:`Satisfaction.to_frame`) with ``satisfaction``, ``attribution.csv``
        (:meth:`Attribution.to_frame`) with ``attribution``). All or nothing:
        the files appear only when every one was written.

        Parameters
        ----------
        out_dir : path-like
            Output folder, created if missing.
        title, source, notes, emotions, insights, gaps, satisfaction, attribution, conformance
            See :meth:`to_html`.

        Raises
        ------
        OutputError
            ``out_dir`` is a file or cannot be written.

        Examples
        --------
        >>> import tempfile, journeymine as jm
        >>> pm = jm.discover(jm.datasets.make_journeys(50, random_state=0))
        >>> [p.name for p in pm.save(tempfile.mkdtemp())][:2]
        ['report.html', 'process_map.json']
        """
        base = self.full or self
        html_text = self.to_html(title=title, source=source, notes=notes, emotions=emotions,
                                 insights=insights, gaps=gaps, satisfaction=satisfaction,
                                 attribution=attribution, conformance=conformance)
        tables = {
            "variants.csv": base.variants.drop(columns=["path"]),
            "funnel.csv": base.funnel, "edges.csv": base.edges, "dropoffs.csv": base.dropoffs,
            "bottlenecks.csv": base.bottlenecks, "returns.csv": base.returns,
            "channel_gaps.csv": base.channel_gaps,
        }
        if insights is not None:
            tables["insights.csv"] = insights.to_frame()
        if satisfaction is not None:
            tables["satisfaction.csv"] = satisfaction.to_frame()
        if attribution is not None:
            tables["attribution.csv"] = attribution.to_frame()
        writers = {
            "report.html": lambda p: p.write_text(html_text, encoding="utf-8"),
            "process_map.json": lambda p: p.write_text(
                json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"),
            **{name: (lambda p, df=df: df.to_csv(p, index=False)) for name, df in tables.items()},
        }
        return write_bundle(out_dir, writers)

    def to_frame(self) -> pd.DataFrame:
        """The edges (directly-follows graph) as a new DataFrame."""
        return self.edges.copy()

    def to_svg(self, metric: str = "count") -> str:
        """The map as a standalone SVG string (``metric`` is ``"count"`` or ``"time"``).

        At most 35 touchpoints (those with the most customers) and 80 transitions
        are drawn, chosen as by :meth:`filter`; when the drawing leaves out part of
        the full map, a line in it says how much it shows.
        """
        from journeymine.reporting._svg import (
            MAX_DRAWN_EDGES,
            MAX_DRAWN_TOUCHPOINTS,
            coverage_note,
            render_process_map,
        )

        nodes, edges, start, end = _bounded(self.nodes, self.edges, self.start, self.end,
                                            MAX_DRAWN_TOUCHPOINTS, MAX_DRAWN_EDGES)
        base = self.full or self
        return render_process_map(
            nodes, edges, start, end, metric=metric, stage_order=self.stages.order,
            note=coverage_note(nodes, edges, base.nodes, base.edges),
        )

    def __repr__(self) -> str:
        s = self.summary
        view = " (filtered)" if self.full is not None else ""
        who = f"{s['customers']:,} customers"
        if self.grain != "customer":
            who = f"{s['journeys']:,} {self.grain}s of {who}"
        return (
            f"ProcessMap{view}({len(self.nodes)} touchpoints, {len(self.edges)} edges, "
            f"{who}, {s['variants']:,} variants, "
            f"conversion {s['conversion_rate']:.1%})"
        )

    def _repr_html_(self) -> str:
        view = self if len(self.edges) <= 60 else self.filter(edges=0.9)
        return (
            f"<div class='jm-processmap'><p><strong>{html.escape(repr(self))}</strong></p>"
            f"{view.to_svg()}</div>"
        )


def variant_coverage(variants: pd.DataFrame, k: int | None = None, *,
                     min_length: int = 1) -> pd.DataFrame:
    """Share of journeys covered by the ``1..k`` most common variants.

    Parameters
    ----------
    variants : DataFrame
        :attr:`ProcessMap.variants` (sorted by journeys, descending).
    k : int, optional
        Length of the curve (all variants by default).
    min_length : int, default 1
        Count only journeys with at least this many steps: with
        ``min_length=2`` one-event journeys (bounces), which have no path,
        neither count as covered nor in the total.

    Returns
    -------
    DataFrame
        One row per rank ``k`` (1, 2, ...): the ``variant``, the ``journeys``
        the top ``k`` variants hold together and their ``share`` of the
        journeys (with at least ``min_length`` steps).

    Raises
    ------
    InvalidParameterError
        ``k`` or ``min_length`` is not a positive whole number.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"variant": ["a > b", "a", "b > c"], "customers": [5, 3, 2],
    ...                   "length": [2, 1, 2]})
    >>> variant_coverage(v, min_length=2)
       k variant  journeys     share
    0  1   a > b         5  0.714286
    1  2   b > c         7  1.000000
    """
    for name, value in (("k", k), ("min_length", min_length)):
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool)
                                      and value >= 1):
            raise InvalidParameterError(
                f"{name}={value!r} is not a positive whole number.",
                expected="an int >= 1.", fix=f"Pass e.g. {name}=10.")
    kept = variants[variants["length"] >= min_length]
    total = int(kept["customers"].sum())
    top = kept if k is None else kept.head(k)
    covered = top["customers"].cumsum().astype(int)
    return pd.DataFrame({
        "k": range(1, len(top) + 1), "variant": top["variant"].to_numpy(),
        "journeys": covered.to_numpy(),
        "share": (covered / total).to_numpy() if total else covered.to_numpy(dtype=float),
    })


def _recount(
    variants: pd.DataFrame, edges: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, int], dict[str, int], dict[str, int]]:
    """Edge, start, end and node counts of the customers in ``variants``."""
    edge_counts: Counter = Counter()
    edge_customers: Counter = Counter()
    start: Counter = Counter()
    end: Counter = Counter()
    node_counts: Counter = Counter()
    for path, n in zip(variants["path"], variants["customers"], strict=True):
        start[path[0]] += n
        end[path[-1]] += n
        for tp in path:
            node_counts[tp] += n
        pairs = list(itertools.pairwise(path))
        for pair in pairs:
            edge_counts[pair] += n
        for pair in set(pairs):
            edge_customers[pair] += n
    pairs = zip(edges["source"], edges["target"], strict=True)
    kept = edges[pd.Series([p in edge_counts for p in pairs], index=edges.index, dtype=bool)]
    kept = kept.copy()
    pairs = list(zip(kept["source"], kept["target"], strict=True))
    kept["count"] = [edge_counts[p] for p in pairs]
    kept["customers"] = [edge_customers[p] for p in pairs]
    kept = kept.sort_values(["count", "source", "target"], ascending=[False, True, True],
                            kind="mergesort")
    return kept, _by_count(start), _by_count(end), dict(node_counts)


def _by_count(counts: Counter) -> dict[str, int]:
    """``counts`` as a dict ordered by descending count, ties by name."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _top_edges(edges: pd.DataFrame, share: float) -> pd.DataFrame:
    """Most frequent edges covering ``share`` of transitions, kept connected."""
    ranked = edges.sort_values(["count", "source", "target"], ascending=[False, True, True],
                               kind="mergesort")
    cum = ranked["count"].cumsum() / ranked["count"].sum()
    keep = set(ranked.index[cum.shift(fill_value=0) < share])
    nodes = set(ranked.loc[list(keep), "source"]) | set(ranked.loc[list(keep), "target"])
    for col in ("source", "target"):
        best = ranked[ranked[col].isin(nodes)].drop_duplicates(col)
        keep |= set(best.index)
    return ranked[ranked.index.isin(keep)]


def _bounded(
    nodes: pd.DataFrame, edges: pd.DataFrame, start: dict[str, int], end: dict[str, int],
    touchpoints: int | None, max_edges: int | None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], dict[str, int]]:
    """At most ``touchpoints`` nodes (most customers) and ``max_edges`` edges (see filter)."""
    if touchpoints is not None and len(nodes) > touchpoints:
        top = nodes.sort_values(["customers", "count", "touchpoint"],
                                ascending=[False, False, True], kind="mergesort")
        kept = set(top["touchpoint"].head(touchpoints))
        nodes = nodes[nodes["touchpoint"].isin(kept)]
        edges = edges[edges["source"].isin(kept) & edges["target"].isin(kept)]
        start = {k: v for k, v in start.items() if k in kept}
        end = {k: v for k, v in end.items() if k in kept}
    if max_edges is not None and len(edges) > max_edges:
        ranked = edges.sort_values(["count", "source", "target"], ascending=[False, True, True],
                                   kind="mergesort")
        links = ranked[ranked["source"] != ranked["target"]]
        backbone = ranked.index.isin(links.drop_duplicates("source").index.union(
            links.drop_duplicates("target").index))
        first = ranked[backbone].head(max_edges)
        rest = ranked[~backbone].head(max_edges - len(first))
        edges = ranked[ranked.index.isin(first.index.union(rest.index))]
    return nodes, edges, start, end
