"""Designed vs actual: :func:`conformance` replays customer journeys on the designed one.

Each customer's journey (their touchpoints in time order) is replayed on the
accepting Petri net of the designed journey by pm4py (see
:mod:`journeymine.measurement._pm4py` for how deviations are read off token
replay and alignments). Customers with the same journey (a *variant*) get the
same result, so each distinct variant is replayed once and weighted by its
customers: exact, and fast on logs where many customers share a path.

The bound
---------
At most ``sample`` variants of at most ``max_length`` events each are
replayed, so the work has a fixed ceiling whatever the log's size. When the
log has more distinct variants than that, the journeys are put in a random
order (seeded by ``random_state``) and the longest prefix with at most
``sample`` distinct variants between them is replayed: a simple random
sample, so the per-customer table covers the sample, the shares are
estimates for all customers, and the mean fitness comes with its standard
error (with the finite-population correction). Longer journeys are left out
and counted (at session grain they rarely exist). The summary says which
happened.

Variants and weights are counted with vectorised NumPy on the sorted event
table (every customer's events are one run of rows); only the distinct
variants, at most ``sample``, go to pm4py.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from journeymine._util._html import html_table
from journeymine._util._json import envelope, records
from journeymine._util._optional import import_optional
from journeymine._util._params import check_choice, check_number
from journeymine.discovery._discover import resolve_conversion
from journeymine.discovery._grains import (
    DEFAULT_EPISODE_GAP,
    ORIGINAL_CUSTOMER,
    DurationLike,
    at_grain,
    check_grain,
)
from journeymine.discovery._positional import sequence_ids, sorted_events
from journeymine.eventlog._eventlog import EventLog, StagesLike, require_event_log
from journeymine.eventlog._runs import run_starts
from journeymine.eventlog._schema import ACTIVITY, CUSTOMER
from journeymine.eventlog._validate import dictionary_encode
from journeymine.exceptions import InvalidParameterError
from journeymine.measurement._designed import DesignedJourney, DesignedLike, designed_journey
from journeymine.measurement._pm4py import KINDS, replay

__all__ = ["DEFAULT_MAX_LENGTH", "DEFAULT_SAMPLE", "METHODS", "Conformance", "conformance"]

logger = logging.getLogger(__name__)

#: Default bound on the number of distinct journeys replayed.
DEFAULT_SAMPLE = 2000
#: Default bound on the events of a journey replayed.
DEFAULT_MAX_LENGTH = 100
METHODS = ("token_replay", "alignments")
#: Columns of :attr:`Conformance.deviations`.
DEVIATION_COLUMNS = ("kind", "touchpoint", "stage", "customers", "journeys", "share",
                     "occurrences")
_KIND_WORDS = {"skipped": "skipped", "unexpected": "unexpected", "out_of_order": "out of order"}
_FIT = 1 - 1e-9  # fitness at or above this is a perfect fit (float noise)
FORMAT_VERSION = 1


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, repr=False)
class Conformance:
    """How customers' actual journeys compare with the designed one (see :func:`conformance`).

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per replayed journey (per customer at customer grain):
        ``customer_id``, ``journey_id`` (at episode and session grain),
        ``fitness`` (0..1, 1 = the journey fits the design), ``skipped``,
        ``unexpected`` and ``out_of_order`` (numbers of such deviations), and
        ``persona`` when personas were given. All journeys, or the random sample.
    deviations : pandas.DataFrame
        The deviations, most customers first: ``kind`` (``"skipped"``,
        ``"unexpected"``, ``"out_of_order"``), ``touchpoint``, ``stage``,
        ``customers`` (replayed customers with it), ``journeys`` (replayed
        journeys with it), ``share`` (of the replayed customers) and
        ``occurrences``.
    personas : pandas.DataFrame or None
        Per persona: ``persona``, ``customers``, ``journeys``, ``fitness``
        (mean), ``fitting_share`` and ``top_deviation``.
    persona_deviations : pandas.DataFrame or None
        Per persona and deviation: ``persona``, ``kind``, ``touchpoint``,
        ``customers``, ``journeys``, ``share`` (of the persona's replayed
        customers) and ``occurrences``.
    designed : tuple of str
        The designed journey's touchpoints.
    method : str
        ``"token_replay"`` or ``"alignments"``.
    summary : dict
        ``grain``, ``journeys``, ``customers`` and ``variants`` (in the log),
        ``too_long`` (journeys over ``max_length`` events, not replayed),
        ``max_length``,
        ``replayed_journeys``, ``replayed_customers``, ``replayed_variants``,
        ``sample`` (the bound), ``sampled`` (whether the bound was hit),
        ``random_state``, ``fitness`` (mean per journey), ``fitness_se`` (its
        standard error; 0 when exact), ``fitting`` and ``fitting_share``
        (journeys with fitness 1), ``require_end``, ``source`` (what the
        design was read from), ``model`` (places, transitions, arcs) and
        ``unassigned`` (replayed customers without a persona).
    """

    customers: pd.DataFrame
    deviations: pd.DataFrame
    personas: pd.DataFrame | None
    persona_deviations: pd.DataFrame | None
    designed: tuple[str, ...]
    method: str
    summary: dict[str, Any]

    @property
    def headline(self) -> str:
        """One plain sentence: who follows the design and the most common deviation."""
        s = self.summary
        unit = "customers" if s["grain"] == "customer" else f"{s['grain']}s"
        scope = (f"a random sample of {s['replayed_journeys']:,} of {s['journeys']:,} {unit}"
                 if s["sampled"] else f"{s['journeys']:,} {unit}")
        text = (f"{s['fitting_share']:.0%} of {scope} follow the designed journey "
                f"(mean fitness {s['fitness']:.2f}, {self.method.replace('_', ' ')}"
                + (f"; {s['too_long']:,} longer than {s['max_length']} events left out"
                   if s["too_long"] else "") + ")")
        if len(self.deviations):
            top = self.deviations.iloc[0]
            n = int(top["customers"])
            text += (f"; most common deviation: {top['touchpoint']} "
                     f"{_KIND_WORDS[top['kind']]} ({n:,} customer{'' if n == 1 else 's'}, "
                     f"{top['share']:.0%})")
        return text + "."

    def to_frame(self) -> pd.DataFrame:
        """The per-customer table (a copy)."""
        return self.customers.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the ``journeymine.conformance`` envelope (without the customer rows)."""
        return envelope("journeymine.conformance", FORMAT_VERSION, {
            "method": self.method, "designed": list(self.designed),
            "summary": dict(self.summary), "headline": self.headline,
            "deviations": records(self.deviations, list(DEVIATION_COLUMNS)),
            "personas": None if self.personas is None
            else records(self.personas, list(self.personas.columns)),
            "persona_deviations": None if self.persona_deviations is None
            else records(self.persona_deviations, list(self.persona_deviations.columns)),
        })

    def __repr__(self) -> str:
        s = self.summary
        return (f"Conformance({s['replayed_journeys']:,} {s['grain']} journeys"
                f"{' (sampled)' if s['sampled'] else ''}, fitness {s['fitness']:.2f}, "
                f"{s['fitting_share']:.0%} fit, {len(self.deviations)} deviations, "
                f"{self.method})")

    def plot(self, ax=None, top: int = 10):
        """Horizontal bars: the share of customers with each of the ``top`` deviations.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure by default.
        top : int, default 10

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        OptionalDependencyError
            matplotlib is not installed.
        """
        plt = import_optional("matplotlib.pyplot", "Conformance.plot()")
        shown = self.deviations.head(check_number("top", top, low=1, integer=True)).iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.4 * len(shown) + 1.5))
        colours = {"skipped": "tab:orange", "unexpected": "tab:blue", "out_of_order": "tab:red"}
        labels = [f"{tp} ({_KIND_WORDS[k]})" for k, tp in zip(shown["kind"], shown["touchpoint"],
                                                              strict=True)]
        ax.barh(labels, shown["share"].to_numpy(), color=[colours[k] for k in shown["kind"]])
        ax.set_xlabel("share of customers")
        ax.set_title(f"Deviations from the designed journey ({self.method.replace('_', ' ')})")
        return ax

    def _repr_html_(self) -> str:
        rows = ((_KIND_WORDS[r.kind], r.touchpoint, r.stage or "", f"{r.customers:,}",
                 f"{r.share:.1%}") for r in self.deviations.head(10).itertuples())
        return html_table(self.headline, ("deviation", "touchpoint", "stage", "customers",
                                          "share"), rows)


# --------------------------------------------------------------------------- journeys
@dataclasses.dataclass(frozen=True)
class _Journeys:
    """Every journey as a variant id, its customer, and how to spell a variant out."""

    ids: pa.Array  # journey id per journey (the customer id at customer grain), in log order
    owners: pa.Array  # customer id per journey
    variant: np.ndarray  # variant id per journey
    n_variants: int
    codes: np.ndarray  # touchpoint code per event (sorted events)
    starts: np.ndarray  # first event row of each journey
    names: list[str]  # touchpoint per code

    @classmethod
    def of(cls, table: pa.Table) -> _Journeys:
        """From an event table whose customer column is the journey id (see :func:`at_grain`)."""
        table = sorted_events(table)
        starts = run_starts(table.column(CUSTOMER))
        activity = dictionary_encode(table.column(ACTIVITY))
        codes = activity.indices.to_numpy()
        variant, n_variants = sequence_ids(codes, starts)
        first = pa.array(starts)
        owner = ORIGINAL_CUSTOMER if ORIGINAL_CUSTOMER in table.column_names else CUSTOMER
        return cls(table.column(CUSTOMER).take(first).combine_chunks(),
                   table.column(owner).take(first).combine_chunks(), variant, n_variants,
                   codes, starts, [str(x) for x in activity.dictionary.to_pylist()])

    def sample(self, population: np.ndarray, bound: int, random_state: Any) -> np.ndarray:
        """The journeys to replay: all of ``population``, or a random sample of them.

        When ``population`` (journey positions) has more than ``bound``
        distinct variants, its journeys are put in a random order and cut
        before the first one whose variant would be the ``bound + 1``-th
        distinct one: a prefix of a random permutation is a simple random
        sample. Sorted positions.
        """
        order = np.random.default_rng(random_state).permutation(population)
        _, first_seen = np.unique(self.variant[order], return_index=True)
        if len(first_seen) <= bound:
            return population
        return np.sort(order[:np.sort(first_seen)[bound]])

    @property
    def lengths(self) -> np.ndarray:
        """Events per journey."""
        return np.diff(np.append(self.starts, len(self.codes)))

    def traces(self, journeys: np.ndarray) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """Distinct variants of ``journeys``: each journey's variant position, and the traces."""
        kept, local = np.unique(self.variant[journeys], return_inverse=True)
        first = np.empty(len(kept), dtype=np.int64)
        first[local[::-1]] = journeys[::-1]  # a journey of each variant
        ends = np.append(self.starts[1:], len(self.codes))
        names = np.array(self.names, dtype=object)
        traces = [tuple(names[self.codes[self.starts[c]:ends[c]]]) for c in first]
        return local, traces


def _persona_labels(personas: Any) -> pd.Series | None:
    """Persona per customer id (as text) from a mapping, a Series or a fitted PersonaModel."""
    if personas is None:
        return None
    if hasattr(personas, "labels_"):  # a fitted PersonaModel (not imported: a higher layer)
        labels = personas.labels_
        names = {p.id: p.name for p in getattr(personas, "personas_", [])}
        personas = labels.map(names) if names else labels
    if isinstance(personas, Mapping):
        personas = pd.Series(personas)
    if not isinstance(personas, pd.Series):
        raise InvalidParameterError(
            f"personas={type(personas).__name__} is not a persona per customer.",
            expected="a dict or pandas Series customer id -> persona, or a fitted PersonaModel.",
            fix="Pass e.g. personas=model (fitted) or personas=df.set_index('customer_id')"
            "['persona'].")
    out = personas.dropna()
    out.index = out.index.astype(str)
    return out[~out.index.duplicated()]


# --------------------------------------------------------------------------- entry point
def conformance(
    log: EventLog,
    designed: DesignedLike,
    *,
    sample: int = DEFAULT_SAMPLE,
    random_state: int | np.random.Generator | None = 0,
    method: str = "token_replay",
    personas: Any = None,
    require_end: bool = False,
    max_length: int = DEFAULT_MAX_LENGTH,
    grain: str = "customer",
    gap: DurationLike | None = None,
    episode_gap: DurationLike | None = DEFAULT_EPISODE_GAP,
    conversion: str | Iterable[str] | None = None,
    stages: StagesLike = None,
) -> Conformance:
    """Compare customers' actual journeys with the designed journey.

    Parameters
    ----------
    log : EventLog
        The events. Each customer's touchpoints in time order are their
        journey (call :func:`~journeymine.collapse_repeats` first so that
        repeated visits of one page do not count as unexpected steps).
    designed : list, dict, DataFrame, path or ProcessModel
        The designed journey: an ordered list of touchpoints; a graph of
        allowed steps (a list of ``(a, b)`` pairs or ``{a: [b, c]}``); a
        table or CSV file with a ``touchpoint`` column, ordered by ``step``,
        with an optional ``stage`` column (English or Indonesian stage names),
        like the demo's ``designed_journey.csv``; a ``.bpmn`` or ``.pnml``
        file; or a :class:`~journeymine.ProcessModel`.
    sample : int, default 2000
        The bound: at most this many distinct journeys are replayed. With
        more distinct journeys in the log, a simple random sample of the
        customers is replayed instead of everyone, as many as have at most
        ``sample`` distinct journeys between them (see the summary).
    random_state : int, numpy Generator or None, default 0
        Seed of that sample.
    method : {"token_replay", "alignments"}, default "token_replay"
        pm4py's token-based replay (fast; ignores events the design does not
        know when scoring fitness) or optimal alignments (slower, exact
        fitness and the cheapest explanation of each deviation).
    personas : dict, Series or PersonaModel, optional
        Persona per customer id, or a fitted
        :class:`~journeymine.PersonaModel` (its persona names): adds the
        per-persona tables.
    require_end : bool, default False
        With False, a journey may stop after any designed step: steps it
        never reached are drop-off (see the funnel), not deviations. With
        True, every step up to the designed end is expected. Model files
        keep their own final marking.
    max_length : int, default 100
        Journeys with more events are not replayed (the time of an alignment
        grows fast with its length); they are counted in
        ``summary["too_long"]`` and a warning is logged. Long histories are
        better compared at session grain.
    grain : {"customer", "episode", "session"}, default "customer"
        What one journey is: a customer's whole history, an episode (to each
        purchase; see :func:`~journeymine.episodes`) or a session (a visit;
        see :func:`~journeymine.sessionize`). Long histories are better
        compared with a design at a finer grain.
    gap : str or Timedelta, optional
        Session grain: the inactivity that starts a new session (default:
        the log's session column, else suggested from its gaps).
    episode_gap : str, Timedelta or None, default 30 days
        Episode grain: the inactivity that starts a new episode.
    conversion : str or list of str, optional
        Episode grain: the converting touchpoints or stages (default: see
        :func:`~journeymine.discovery.resolve_conversion`).
    stages : StageMap, dict or path, optional
        Stage of touchpoints the design does not stage (default: the log's).

    Returns
    -------
    Conformance

    Raises
    ------
    UnknownTouchpointError
        The design names touchpoints the log does not have (with a did-you-mean).
    InvalidParameterError
        An empty or malformed design, an unknown method, ``sample`` below 1,
        or personas that are not a persona per customer.
    ReadError
        A designed-journey file that is missing, unreadable or of an unknown type.
    OptionalDependencyError
        pm4py (the ``process`` extra) is not installed.

    Examples
    --------
    Designed: ad > page > buy. Customer a follows it, b skips the page, c
    sees the page before the ad.

    >>> import pandas as pd, journeymine as jm
    >>> df = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b", "c", "c", "c"],
    ...     "touchpoint": ["ad", "page", "buy", "ad", "buy", "page", "ad", "buy"],
    ...     "ts": pd.date_range("2024-01-01", periods=8, freq="D")})
    >>> c = jm.conformance(jm.EventLog.from_pandas(df), designed=["ad", "page", "buy"],
    ...                    method="alignments")
    >>> c.customers[["customer_id", "fitness"]].round(2).to_dict("list")
    {'customer_id': ['a', 'b', 'c'], 'fitness': [1.0, 0.8, 0.67]}
    >>> c.deviations[["kind", "touchpoint", "customers"]].to_dict("records")
    [{'kind': 'skipped', 'touchpoint': 'page', 'customers': 1}, \
{'kind': 'out_of_order', 'touchpoint': 'ad', 'customers': 1}]
    >>> c.headline
    '33% of 3 customers follow the designed journey (mean fitness 0.82, alignments); \
most common deviation: page skipped (1 customer, 33%).'

    """
    require_event_log(log, "conformance()")
    method = check_choice("method", method, METHODS)
    sample = check_number("sample", sample, low=1, integer=True)
    max_length = check_number("max_length", max_length, low=1, integer=True)
    design = designed_journey(designed, log.activities)
    persona_of = _persona_labels(personas)
    stage_map = log.stage_map(stages)

    grain = check_grain(grain)
    table = log.table
    if grain != "customer":
        conv = resolve_conversion(log, stage_map, conversion) if grain == "episode" else ()
        table = at_grain(log, grain, gap=gap, episode_gap=episode_gap, conversion=conv).log.table
    journeys = _Journeys.of(table)
    population = np.flatnonzero(journeys.lengths <= max_length)
    too_long = len(journeys.ids) - len(population)
    if not len(population):
        raise InvalidParameterError(
            f"Every {grain} journey has more than max_length={max_length} events.",
            expected="journeys short enough to compare with a designed journey.",
            fix="Pass grain='session' (or 'episode'), collapse repeats with "
            "jm.collapse_repeats(log), or raise max_length.")
    if too_long:
        logger.warning("%s of %s %s journeys have more than max_length=%d events and are not "
                       "replayed; pass grain='session' or collapse repeats to include them.",
                       f"{too_long:,}", f"{len(journeys.ids):,}", grain, max_length)
    n = len(population)
    chosen = journeys.sample(population, sample, random_state)
    sampled = len(chosen) < n
    local, traces = journeys.traces(chosen)
    results = _replay(design, traces, method, bool(require_end))
    fitness = np.array([f for f, _ in results])[local]

    rows = [(v, kind, tp, count) for v, (_, found) in enumerate(results)
            for (kind, tp), count in found.items()]
    per_variant = pd.DataFrame(rows, columns=["variant", "kind", "touchpoint", "count"]).astype(
        {"variant": np.int64, "count": np.int64})
    kind_counts = (per_variant.groupby(["variant", "kind"])["count"].sum().unstack(fill_value=0)
                   .reindex(index=range(len(results)), columns=list(KINDS), fill_value=0))
    owners = journeys.owners.take(pa.array(chosen)).to_pandas()
    replayed = pd.DataFrame({CUSTOMER: owners, "fitness": fitness})
    if grain != "customer":
        replayed.insert(1, "journey_id", journeys.ids.take(pa.array(chosen)).to_pandas())
    for kind in KINDS:
        replayed[kind] = kind_counts[kind].to_numpy()[local].astype(np.int64)
    unassigned = 0
    if persona_of is not None:
        persona = owners.astype(str).map(persona_of)
        if persona.notna().sum() == 0 and len(persona_of):
            raise InvalidParameterError(
                "personas names none of the log's customers.",
                expected=f"customer ids like {', '.join(map(repr, owners.astype(str)[:3]))}.",
                fix="Pass personas indexed by the log's customer ids.")
        replayed["persona"] = persona.to_numpy()
        unassigned = int(persona[~owners.duplicated()].isna().sum())

    def stage(tp: str) -> str | None:
        return design.stages.get(tp) or stage_map.get(tp)

    # one row per replayed journey and deviation it has
    found = replayed.assign(variant=local).merge(per_variant, on="variant")
    deviations = _affected(found, [], replayed)
    deviations.insert(2, "stage", pd.Series([stage(tp) for tp in deviations["touchpoint"]],
                                            dtype=object))
    persona_table = persona_deviations = None
    if persona_of is not None:
        persona_deviations = _affected(found, ["persona"], replayed)
        persona_table = _persona_table(replayed, persona_deviations)
    fits = fitness >= _FIT
    summary = {
        "grain": grain, "journeys": len(journeys.ids), "customers": log.n_customers,
        "too_long": too_long, "max_length": max_length,
        "variants": journeys.n_variants, "replayed_journeys": len(chosen),
        "replayed_customers": int(owners.nunique()), "replayed_variants": len(results),
        "sample": sample, "sampled": bool(sampled), "random_state": _seed(random_state),
        "fitness": float(fitness.mean()), "fitness_se": _standard_error(fitness, n),
        "fitting": int(fits.sum()), "fitting_share": float(fits.mean()),
        "require_end": bool(require_end), "source": design.source,
        "model": design.petri_net().size, "unassigned": unassigned,
    }
    return Conformance(replayed, deviations, persona_table, persona_deviations,
                       design.steps, method, summary)


def _replay(design: DesignedJourney, traces: list[tuple[str, ...]], method: str,
            require_end: bool) -> list[tuple[float, Counter]]:
    """:func:`~journeymine.measurement._pm4py.replay` of each trace on its net.

    Without ``require_end`` a trace's net ends at the designed step it got
    furthest to (:meth:`DesignedJourney.furthest`), so traces are replayed in
    groups, one net per such step.
    """
    if require_end or design.net is not None:
        return replay(design.petri_net(), traces, method)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, trace in enumerate(traces):
        groups.setdefault(design.furthest(trace), []).append(i)
    out: list[Any] = [None] * len(traces)
    for ends, members in groups.items():
        found = replay(design.petri_net(ends), [traces[i] for i in members], method)
        for i, result in zip(members, found, strict=True):
            out[i] = result
    return out


def _affected(found: pd.DataFrame, by: list[str], replayed: pd.DataFrame) -> pd.DataFrame:
    """Customers, journeys and occurrences per deviation (within each ``by`` group).

    ``found`` has one row per replayed journey and deviation; ``share`` is of
    the replayed customers (of the group's), most customers first.
    """
    keys = [*by, "kind", "touchpoint"]
    table = found.groupby(keys, as_index=False).agg(
        customers=(CUSTOMER, "nunique"), journeys=("fitness", "size"),
        occurrences=("count", "sum"))
    if by:
        base = replayed.dropna(subset=by).groupby(by)[CUSTOMER].nunique()
        table["share"] = table["customers"] / base.reindex(
            pd.MultiIndex.from_frame(table[by]) if len(by) > 1 else table[by[0]]).to_numpy()
    else:
        table["share"] = table["customers"] / replayed[CUSTOMER].nunique()
    table["kind"] = pd.Categorical(table["kind"], KINDS)
    table = table.sort_values([*by, "customers", "kind", "touchpoint"],
                              ascending=[*[True] * len(by), False, True, True], kind="stable")
    table["kind"] = table["kind"].astype(str)
    return table[[*keys, "customers", "journeys", "share", "occurrences"]].reset_index(drop=True)


def _persona_table(replayed: pd.DataFrame, deviations: pd.DataFrame) -> pd.DataFrame:
    """Per persona: customers, mean fitness, share of fitting journeys, top deviation."""
    assigned = replayed.dropna(subset=["persona"])
    top = deviations.drop_duplicates("persona").set_index("persona")
    table = assigned.groupby("persona").agg(
        customers=(CUSTOMER, "nunique"), journeys=("fitness", "size"),
        fitness=("fitness", "mean"),
        fitting_share=("fitness", lambda f: float((f >= _FIT).mean()))).reset_index()
    table["top_deviation"] = [
        f"{top.at[p, 'touchpoint']} {_KIND_WORDS[top.at[p, 'kind']]}" if p in top.index else ""
        for p in table["persona"]]
    table = table.sort_values(["customers", "persona"], ascending=[False, True], kind="stable")
    return table.reset_index(drop=True)


def _standard_error(fitness: np.ndarray, population: int) -> float:
    """Standard error of the mean fitness of a simple random sample (0 for everyone)."""
    m = len(fitness)
    if m >= population or m < 2:
        return 0.0
    return float(fitness.std(ddof=1) / math.sqrt(m) * math.sqrt(1 - m / population))


def _seed(random_state: Any) -> int | None:
    """``random_state`` for the summary: the int seed, else None."""
    return int(random_state) if isinstance(random_state, (int, np.integer)) else None
