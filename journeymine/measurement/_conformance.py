"""Designed vs actual: :func:`conformance` replays customer journeys on the designed one.

Each customer's journey (their touchpoints in time order) is replayed on the
accepting Petri net of the designed journey by pm4py (see
:mod:`journeymine.measurement._pm4py` for how deviations are read off token
replay and alignments). Customers with the same journey (a *variant*) get the
same result, so each distinct variant is replayed once and weighted by its
customers: exact, and fast on logs where many customers share a path.

The bound
---------
At most ``sample`` variants are replayed. When the log has more distinct
variants than that, the customers are put in a random order (seeded by
``random_state``) and the longest prefix with at most ``sample`` distinct
variants between them is replayed: a simple random sample, so the
work never grows with the log: the per-customer table covers the sample, the
shares are estimates for all customers, and the mean fitness comes with its
standard error (with the finite-population correction). The summary says
which happened.

Variants and weights are counted with vectorised NumPy on the sorted event
table (every customer's events are one run of rows); only the distinct
variants, at most ``sample``, go to pm4py.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from journeymine._util._json import envelope, records
from journeymine._util._params import check_choice, check_number
from journeymine.discovery._positional import sequence_ids, sorted_events
from journeymine.eventlog._eventlog import EventLog, StagesLike, require_event_log
from journeymine.eventlog._schema import ACTIVITY, CUSTOMER
from journeymine.eventlog._validate import dictionary_encode, same_as_next
from journeymine.exceptions import InvalidParameterError
from journeymine.measurement._designed import DesignedJourney, DesignedLike, designed_journey
from journeymine.measurement._pm4py import KINDS, replay

__all__ = ["DEFAULT_SAMPLE", "METHODS", "Conformance", "conformance"]

#: Default bound on the number of distinct journeys replayed.
DEFAULT_SAMPLE = 2000
METHODS = ("token_replay", "alignments")
#: Columns of :attr:`Conformance.deviations`.
DEVIATION_COLUMNS = ("kind", "touchpoint", "stage", "customers", "share", "occurrences")
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
        One row per replayed customer: ``customer_id``, ``fitness`` (0..1,
        1 = the journey fits the design), ``skipped``, ``unexpected`` and
        ``out_of_order`` (numbers of such deviations), and ``persona`` when
        personas were given. All customers, or the random sample.
    deviations : pandas.DataFrame
        The deviations, most customers first: ``kind`` (``"skipped"``,
        ``"unexpected"``, ``"out_of_order"``), ``touchpoint``, ``stage``,
        ``customers`` (replayed customers with it), ``share`` (of the
        replayed customers) and ``occurrences``.
    personas : pandas.DataFrame or None
        Per persona: ``persona``, ``customers``, ``fitness`` (mean),
        ``fitting_share`` and ``top_deviation``.
    persona_deviations : pandas.DataFrame or None
        Per persona and deviation: ``persona``, ``kind``, ``touchpoint``,
        ``customers``, ``share`` (of the persona's replayed customers).
    designed : tuple of str
        The designed journey's touchpoints.
    method : str
        ``"token_replay"`` or ``"alignments"``.
    summary : dict
        ``customers`` and ``variants`` (in the log), ``replayed_customers``,
        ``replayed_variants``, ``sample`` (the bound), ``sampled`` (whether
        the bound was hit), ``random_state``, ``fitness`` (mean per
        customer), ``fitness_se`` (its standard error; 0 when exact),
        ``fitting`` and ``fitting_share`` (customers with fitness 1),
        ``require_end``, ``source`` (what the design was read from),
        ``model`` (places, transitions, arcs) and ``unassigned`` (replayed
        customers without a persona).
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
        scope = (f"a random sample of {s['replayed_customers']:,} of {s['customers']:,} customers"
                 if s["sampled"] else f"{s['customers']:,} customers")
        text = (f"{s['fitting_share']:.0%} of {scope} follow the designed journey "
                f"(mean fitness {s['fitness']:.2f}, {self.method.replace('_', ' ')})")
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
        return (f"Conformance({s['replayed_customers']:,} customers"
                f"{' (sampled)' if s['sampled'] else ''}, fitness {s['fitness']:.2f}, "
                f"{s['fitting_share']:.0%} fit, {len(self.deviations)} deviations, "
                f"{self.method})")

    def _repr_html_(self) -> str:
        top = self.deviations.head(10)
        head = "".join(f"<th>{c}</th>" for c in ("deviation", "touchpoint", "stage",
                                                  "customers", "share"))
        body = "".join(
            f"<tr><td>{_KIND_WORDS[r.kind]}</td><td>{html.escape(str(r.touchpoint))}</td>"
            f"<td>{html.escape(str(r.stage or ''))}</td><td>{r.customers:,}</td>"
            f"<td>{r.share:.1%}</td></tr>" for r in top.itertuples())
        return (f"<div><p>{html.escape(self.headline)}</p><table><thead><tr>{head}</tr>"
                f"</thead><tbody>{body}</tbody></table></div>")


# --------------------------------------------------------------------------- journeys
@dataclasses.dataclass(frozen=True)
class _Journeys:
    """Every customer's journey as a variant id, and how to spell a variant out."""

    customers: pa.Array  # customer id per customer, in log order
    variant: np.ndarray  # variant id per customer
    n_variants: int
    codes: np.ndarray  # touchpoint code per event (sorted events)
    starts: np.ndarray  # first event row of each customer
    names: list[str]  # touchpoint per code

    @classmethod
    def of(cls, log: EventLog) -> _Journeys:
        table = sorted_events(log.table)
        same = same_as_next(table.column(CUSTOMER))
        starts = np.flatnonzero(np.concatenate(([True], ~same[:-1])))  # a log is never empty
        activity = dictionary_encode(table.column(ACTIVITY))
        codes = activity.indices.to_numpy()
        variant, n_variants = sequence_ids(codes, starts)
        return cls(table.column(CUSTOMER).take(pa.array(starts)).combine_chunks(), variant,
                   n_variants, codes, starts, [str(x) for x in activity.dictionary.to_pylist()])

    def sample(self, bound: int, random_state: Any) -> np.ndarray:
        """A simple random sample of customers, as large as ``bound`` distinct variants allow.

        The customers in a random order, cut before the first one whose
        variant would be the ``bound + 1``-th distinct one (a prefix of a
        random permutation is a simple random sample). Sorted positions.
        """
        order = np.random.default_rng(random_state).permutation(len(self.variant))
        _, first_seen = np.unique(self.variant[order], return_index=True)
        cut = np.sort(first_seen)[bound]
        return np.sort(order[:cut])

    def traces(self, customers: np.ndarray) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """Distinct variants of ``customers``: each customer's variant position, and the traces."""
        kept, local = np.unique(self.variant[customers], return_inverse=True)
        first = np.empty(len(kept), dtype=np.int64)
        first[local[::-1]] = customers[::-1]  # a customer of each variant
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
    design = designed_journey(designed, log.activities)
    persona_of = _persona_labels(personas)
    stage_map = log.stage_map(stages)

    journeys = _Journeys.of(log)
    n = len(journeys.customers)
    sampled = journeys.n_variants > sample
    chosen = journeys.sample(sample, random_state) if sampled else np.arange(n)
    local, traces = journeys.traces(chosen)
    results = _replay(design, traces, method, bool(require_end))
    fitness = np.array([f for f, _ in results])[local]

    rows = [(v, kind, tp, count) for v, (_, found) in enumerate(results)
            for (kind, tp), count in found.items()]
    per_variant = pd.DataFrame(rows, columns=["variant", "kind", "touchpoint", "count"]).astype(
        {"variant": np.int64, "count": np.int64})
    kind_counts = (per_variant.groupby(["variant", "kind"])["count"].sum().unstack(fill_value=0)
                   .reindex(index=range(len(results)), columns=list(KINDS), fill_value=0))
    ids = journeys.customers.take(pa.array(chosen)).to_pandas()
    customers = pd.DataFrame({CUSTOMER: ids, "fitness": fitness})
    for kind in KINDS:
        customers[kind] = kind_counts[kind].to_numpy()[local].astype(np.int64)

    def stage(tp: str) -> str | None:
        return design.stages.get(tp) or stage_map.get(tp)

    weights = np.bincount(local, minlength=len(results))
    deviations = _deviation_table(per_variant, weights, len(chosen), stage)
    persona_table = persona_deviations = None
    unassigned = 0
    if persona_of is not None:
        persona = ids.astype(str).map(persona_of)
        if persona.notna().sum() == 0 and len(persona_of):
            raise InvalidParameterError(
                "personas names none of the log's customers.",
                expected=f"customer ids like {', '.join(map(repr, ids.astype(str)[:3]))}.",
                fix="Pass personas indexed by the log's customer ids.")
        customers["persona"] = persona.to_numpy()
        unassigned = int(persona.isna().sum())
        persona_table, persona_deviations = _persona_tables(customers, local, per_variant)
    summary = {
        "customers": n, "variants": journeys.n_variants,
        "replayed_customers": len(chosen), "replayed_variants": len(results),
        "sample": sample, "sampled": bool(sampled), "random_state": _seed(random_state),
        "fitness": float(fitness.mean()), "fitness_se": _standard_error(fitness, n),
        "fitting": int((fitness >= _FIT).sum()),
        "fitting_share": float((fitness >= _FIT).mean()),
        "require_end": bool(require_end), "source": design.source,
        "model": design.petri_net().size,
        "unassigned": unassigned,
    }
    return Conformance(customers, deviations, persona_table, persona_deviations,
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


def _deviation_table(per_variant: pd.DataFrame, weights: np.ndarray, n_customers: int,
                     stage) -> pd.DataFrame:
    """Customers and occurrences per deviation, from per-variant counts and variant weights."""
    w = weights[per_variant["variant"].to_numpy()]
    table = (per_variant.assign(customers=w, occurrences=w * per_variant["count"])
             .groupby(["kind", "touchpoint"], as_index=False)[["customers", "occurrences"]]
             .sum())
    table["stage"] = pd.Series([stage(tp) for tp in table["touchpoint"]], dtype=object)
    table["share"] = table["customers"] / n_customers
    table["kind"] = pd.Categorical(table["kind"], KINDS)
    table = table.sort_values(["customers", "kind", "touchpoint"],
                              ascending=[False, True, True], kind="stable")
    table["kind"] = table["kind"].astype(str)
    return table[list(DEVIATION_COLUMNS)].reset_index(drop=True)


def _persona_tables(customers: pd.DataFrame, local: np.ndarray,
                    per_variant: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fitness per persona, and deviations per persona (customers, share of the persona)."""
    assigned = customers.assign(variant=local).dropna(subset=["persona"])
    size = assigned.groupby("persona").size()
    groups = assigned.groupby(["variant", "persona"], as_index=False).size()
    found = groups.merge(per_variant, on="variant")
    devs = (found.groupby(["persona", "kind", "touchpoint"], as_index=False)["size"].sum()
            .rename(columns={"size": "customers"}))
    devs["share"] = devs["customers"] / devs["persona"].map(size).to_numpy()
    devs = devs.sort_values(["persona", "customers", "kind", "touchpoint"],
                            ascending=[True, False, True, True], kind="stable")
    top = devs.drop_duplicates("persona").set_index("persona")
    table = assigned.groupby("persona").agg(
        customers=("fitness", "size"), fitness=("fitness", "mean"),
        fitting_share=("fitness", lambda f: float((f >= _FIT).mean()))).reset_index()
    table["top_deviation"] = [
        f"{top.at[p, 'touchpoint']} {_KIND_WORDS[top.at[p, 'kind']]}" if p in top.index else ""
        for p in table["persona"]]
    table = table.sort_values(["customers", "persona"], ascending=[False, True], kind="stable")
    return table.reset_index(drop=True), devs.reset_index(drop=True)


def _standard_error(fitness: np.ndarray, population: int) -> float:
    """Standard error of the mean fitness of a simple random sample (0 for everyone)."""
    m = len(fitness)
    if m >= population or m < 2:
        return 0.0
    return float(fitness.std(ddof=1) / math.sqrt(m) * math.sqrt(1 - m / population))


def _seed(random_state: Any) -> int | None:
    """``random_state`` for the summary: the int seed, else None."""
    return int(random_state) if isinstance(random_state, (int, np.integer)) else None
