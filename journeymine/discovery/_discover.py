"""Journey discovery: :func:`discover` turns an event log into a :class:`ProcessMap`."""

from __future__ import annotations

import dataclasses
import gc
import itertools
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journeymine._util._duckdb import resolve_n_jobs
from journeymine._util._json import VARIANT_SEPARATOR
from journeymine._util._memory import lean_memory
from journeymine.discovery._channels import GAP_COLUMNS, gap_table
from journeymine.discovery._engine import journey_engine
from journeymine.discovery._grains import (
    DEFAULT_EPISODE_GAP,
    DurationLike,
    Journeys,
    at_grain,
    check_grain,
)
from journeymine.discovery._longtail import (
    MappingLike,
    apply_groups,
    repeat_counts,
)
from journeymine.discovery._longtail import collapse_repeats as _collapse
from journeymine.discovery._processmap import (
    LONG_TAIL_K,
    LONG_TAIL_SHARE,
    ProcessMap,
    variant_coverage,
)
from journeymine.eventlog._eventlog import EventLog, StagesLike, require_event_log
from journeymine.eventlog._schema import ACTIVITY, CHANNEL, REVENUE, suggest
from journeymine.eventlog._stages import StageMap, format_names, is_checkout_step, is_failure
from journeymine.exceptions import (
    BackendError,
    InvalidParameterError,
    StageError,
    UnknownTouchpointError,
)

__all__ = ["Conversion", "PreparedLog", "discover", "prepare_log", "resolve_conversion"]

logger = logging.getLogger(__name__)


class Conversion(tuple):
    """The converting touchpoints, a sorted tuple of str, with why they were chosen.

    It is a plain tuple everywhere a conversion is used; :attr:`reason` is the
    sentence ``ProcessMap.summary["conversion_reason"]`` reports.

    Attributes
    ----------
    reason : str
        The rule that chose the touchpoints (given, revenue, or purchase
        stage) and what it left out.
    """

    reason: str

    def __new__(cls, touchpoints: Iterable[str], reason: str) -> Conversion:
        self = super().__new__(cls, sorted(touchpoints))
        self.reason = reason
        return self

    def __getnewargs__(self) -> tuple[tuple[str, ...], str]:  # type: ignore[override]
        return tuple(self), self.reason


def resolve_conversion(
    log: EventLog, stage_map: StageMap, conversion: str | Iterable[str] | None = None
) -> Conversion:
    """The touchpoints that count as a conversion.

    A conversion is a set of touchpoint names (every query, episode cut and
    attribution reads it that way), not a set of events.

    Parameters
    ----------
    log : EventLog
    stage_map : StageMap
    conversion : str or list of str, optional
        Touchpoints, or stage names (English or Indonesian) standing for all
        their touchpoints. By default, names with a failure word (error,
        fail, gagal, cancel, batal, ...) never convert, and:

        * when some events have revenue > 0: their touchpoints, restricted
          to the purchase-stage ones if any of them is purchase-stage
          (``repurchase`` carries revenue but is retention), so a log whose
          paying touchpoints no rule recognises still converts. A touchpoint
          with revenue on only some of its events counts on all of them (the
          reason says on what share);
        * otherwise: the purchase-stage touchpoints.

        In both cases checkout steps (``add_to_cart``, ``begin_checkout``,
        ``add_payment_info``, ``checkout_start``) are left out when a completed purchase
        (``purchase``, ``payment``, ``order_complete``) is among the
        candidates: reaching checkout is not buying.

    Returns
    -------
    Conversion
        The sorted touchpoints (a tuple), with :attr:`Conversion.reason`.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> df = pd.DataFrame({"customer_id": ["a", "a"], "touchpoint": ["ad", "checkout"],
    ...                    "ts": ["2024-01-01", "2024-01-02"]})
    >>> log = jm.EventLog.from_pandas(df)
    >>> resolve_conversion(log, log.stage_map(), "pembelian")
    ('checkout',)
    >>> df = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                    "touchpoint": ["view_item", "buy_grocery", "payment_error"],
    ...                    "ts": ["2024-01-01", "2024-01-02", "2024-01-03"],
    ...                    "revenue": [None, 52_000, 10_000]})
    >>> log = jm.EventLog.from_pandas(df)
    >>> conv = resolve_conversion(log, log.stage_map())
    >>> conv, conv.reason
    (('buy_grocery',), 'revenue > 0 at the purchase-stage touchpoints buy_grocery; \
never a conversion (failure words): payment_error')
    """
    activities = log.activities
    if conversion is None:
        conv = _default_conversion(log, stage_map)
        if not conv:
            logger.warning("No conversion touchpoint found (%s): no journey counts as converted.",
                           conv.reason)
        logger.info("Conversion: %s (%s).", ", ".join(conv) or "none", conv.reason)
        return conv
    names = [conversion] if isinstance(conversion, str) else list(conversion)
    chosen: set[str] = set()
    for name in names:
        if name in activities:
            chosen.add(name)
            continue
        try:
            stage = stage_map.order[stage_map.rank(name)]
        except StageError:
            stage = None
        in_stage = [a for a in activities if stage and stage_map.get(a) == stage]
        if not in_stage:
            close = suggest(name, activities)
            raise UnknownTouchpointError(
                f"Conversion {name!r} is neither a touchpoint of the log nor a stage "
                "with touchpoints.",
                expected=f"one of the touchpoints {activities[:12]} or a stage name.",
                fix=(f"Did you mean {close!r}? " if close else "") + "Check the spelling.",
            )
        chosen.update(in_stage)
    return Conversion(chosen, f"given: conversion={names}")


def _default_conversion(log: EventLog, stage_map: StageMap) -> Conversion:
    """The default of :func:`resolve_conversion`: revenue, else the purchase stage."""
    failed = sorted(a for a in log.activities if is_failure(a))
    usable = [a for a in log.activities if a not in set(failed)]
    purchase = [a for a in usable if stage_map.get(a) == "purchase"]
    paid = _paid_shares(log) if REVENUE in log.columns else {}
    paid = {a: share for a, share in paid.items() if a in usable}
    notes = []
    if paid:
        pool = [a for a in paid if a in purchase]
        if pool:
            rule = "revenue > 0 at the purchase-stage touchpoints"
            other = [f"{a} ({stage_map.get(a) or 'no stage'})" for a in sorted(paid)
                     if a not in pool]
            if other:
                notes.append(f"with revenue but not purchase-stage: {format_names(other)}")
        else:
            pool = sorted(paid)
            rule = "revenue > 0 (no purchase-stage touchpoint carries revenue) at"
    else:
        pool = purchase
        rule = ("purchase-stage touchpoints (no event has revenue > 0)"
                if REVENUE in log.columns else
                "purchase-stage touchpoints (no revenue column)")
    done = [a for a in pool if not is_checkout_step(a)]
    if done and len(done) < len(pool):
        steps = sorted(set(pool) - set(done))
        notes.append(f"checkout steps left out: {format_names(steps)}")
        pool = done
    partial = [f"{a} {paid[a]:.0%}" for a in sorted(pool) if a in paid and paid[a] < 1]
    if partial:
        notes.append("revenue on only some of their events (all of them count): "
                     + format_names(partial))
    if failed:
        notes.append(f"never a conversion (failure words): {format_names(failed)}")
    reason = f"{rule} {format_names(sorted(pool))}" if pool else rule
    return Conversion(pool, "; ".join([reason, *notes]))


def _paid_shares(log: EventLog) -> dict[str, float]:
    """``{touchpoint: share of its events with revenue > 0}`` for touchpoints with any."""
    if log.backend is not None:  # counted where the events are (Spark)
        from journeymine.discovery._queries import paid_counts

        counts = paid_counts(log.to_ibis()).to_pyarrow()
    else:
        t = log.table.select([ACTIVITY, REVENUE])
        flag = pc.greater(pc.fill_null(t[REVENUE], 0), 0)
        counts = pa.table({"a": t[ACTIVITY], "paid": flag.cast(pa.int64())}).group_by(
            "a").aggregate([("paid", "sum"), ("paid", "count")])
    columns = (counts[c].to_pylist() for c in ("a", "paid_sum", "paid_count"))
    return {a: paid / n for a, paid, n in zip(*columns, strict=True) if paid}


@dataclasses.dataclass(frozen=True)
class PreparedLog:
    """The log discovery runs on, after grouping names, cutting journeys and collapsing repeats.

    Attributes
    ----------
    log : EventLog
        The input after :func:`~journeymine.group_touchpoints` (``rename``).
    cases : EventLog
        One run of rows per journey (the case id in ``customer_id``),
        collapsed when ``collapse_repeats``.
    journeys : Journeys or None
        The grain's journeys (None at customer grain without censoring).
    stage_map : StageMap
    conversion : Conversion
    groups : dict of str to list of str
        New name: old names it replaced (empty without ``rename``).
    collapsed : bool
        Whether repeats were collapsed.
    """

    log: EventLog
    cases: EventLog
    journeys: Journeys | None
    stage_map: StageMap
    conversion: Conversion
    groups: dict[str, list[str]]
    collapsed: bool


def prepare_log(
    log: EventLog,
    *,
    grain: str = "customer",
    gap: DurationLike | None = None,
    session: str | bool | None = None,
    episode_gap: DurationLike | None = DEFAULT_EPISODE_GAP,
    censor: DurationLike | bool | None = None,
    stages: StagesLike = None,
    conversion: str | Iterable[str] | None = None,
    rename: MappingLike | None = None,
    collapse_repeats: bool = False,
) -> PreparedLog:
    """Group names (``rename``), cut journeys at ``grain``, collapse repeats: in that order.

    The parameters are :func:`discover`'s. Names are grouped first (so the
    conversion and the runs see the new names) and repeats are collapsed
    within journeys (a run never spans two sessions).
    """
    require_event_log(log, "Discovery")
    if log.backend is not None:
        _check_on_backend(grain=grain != "customer", censor=censor not in (None, False),
                          rename=rename is not None, collapse_repeats=collapse_repeats is True)
    if not isinstance(collapse_repeats, bool):
        raise InvalidParameterError(
            f"collapse_repeats={collapse_repeats!r} is not True or False.",
            expected="a bool.", fix="Pass collapse_repeats=True to merge consecutive repeats.")
    grain = check_grain(grain)
    groups: dict[str, list[str]] = {}
    if rename is not None:
        log, groups = apply_groups(log, rename)
    stage_map = log.stage_map(stages)
    conv = resolve_conversion(log, stage_map, conversion)
    journeys = None
    if grain != "customer" or censor not in (None, False):
        journeys = at_grain(log, grain, gap=gap, session=session, episode_gap=episode_gap,
                            conversion=conv, censor=censor)
    cases = log if journeys is None else journeys.log
    if collapse_repeats:
        cases = _collapse(cases)
    return PreparedLog(log, cases, journeys, stage_map, conv, groups, collapse_repeats)


def _check_on_backend(**used: bool) -> None:
    """Raise BackendError naming the options that need the events in memory."""
    names = [name for name, on in used.items() if on]
    if names:
        raise BackendError(
            f"discover() on a log whose events stay in Spark cannot use {names}: cutting "
            "sessions or episodes, grouping names and collapsing repeats run in memory.",
            expected="grain='customer' without censor, rename or collapse_repeats.",
            fix="Prepare the events in Spark (e.g. a session id column passed as "
            "customer=..., renamed touchpoints), or build an in-memory log of a sample.",
        )


@lean_memory
def discover(
    log: EventLog,
    *,
    grain: str = "customer",
    gap: DurationLike | None = None,
    session: str | bool | None = None,
    episode_gap: DurationLike | None = DEFAULT_EPISODE_GAP,
    censor: DurationLike | bool | None = None,
    stages: StagesLike = None,
    conversion: str | Iterable[str] | None = None,
    rename: MappingLike | None = None,
    collapse_repeats: bool = False,
    con=None,
    n_jobs: int | None = None,
) -> ProcessMap:
    """Discover the journey customers actually take.

    Computes, in SQL on DuckDB (or as Ibis expressions on the backend ``con``), the
    directly-follows graph with counts, distinct customers and durations per
    edge, start and end touchpoints, variants, the stage funnel, drop-off
    touchpoints, loops, bottlenecks and channel switches.

    Parameters
    ----------
    log : EventLog
        The validated events.
    grain : {"customer", "episode", "session"}, default "customer"
        What one journey is: a customer's whole history, an episode (cut
        after each conversion and at ``episode_gap`` of inactivity; see
        :func:`~journeymine.episodes`) or a session (a visit: a session
        column or ``gap``; see :func:`~journeymine.sessionize`). Every table
        is then per journey (its ``customers`` columns count journeys);
        bottlenecks are waits inside journeys, and the gaps between a
        customer's journeys are in ``returns``.
    gap : str or Timedelta, optional
        Session grain: the inactivity that starts a new session (e.g.
        ``"30min"``); suggested from the log (:func:`~journeymine.suggest_gap`)
        when there is no session column.
    session : str or False, optional
        Session grain: the session column (detected by name by default;
        ``False`` to use the gap only).
    episode_gap : str, Timedelta or None, default 30 days
        Episode grain: the inactivity that starts a new episode.
    censor : str, Timedelta or False, optional
        Journeys that end within this of the end of the data window may not be
        over: they are not counted as drop-offs (and ``summary`` counts the
        journeys censored at either end). By default the grain's gap, and no
        censoring at customer grain.
    stages : StageMap, dict or path to YAML, optional
        Touchpoint to stage map; see :meth:`EventLog.stage_map` for the default.
    conversion : str or list of str, optional
        Touchpoints or stages that count as converting; see
        :func:`resolve_conversion` for the default.
    rename : dict or list of (str, str), optional
        Group touchpoint names before anything else (see
        :func:`~journeymine.group_touchpoints`; :func:`~journeymine.suggest_groups`
        proposes a mapping). ``summary["grouped"]`` says what was grouped.
    collapse_repeats : bool, default False
        Merge each run of consecutive events at the same touchpoint within a
        journey into one step (see :func:`~journeymine.collapse_repeats`):
        ``product_view ×5`` is one step, so fewer journeys are unique.
        Counts are then steps; the repeats stay in ``loops`` as self-loops
        (the raw log's ``A -> A`` counts) and ``summary["repeats_collapsed"]``
        counts the merged events. Off by default, so ``nodes`` and ``edges``
        count raw events.
    con : ibis backend, optional
        Where to run the queries (a new in-memory DuckDB by default).
    n_jobs : int, optional
        Threads for the new DuckDB connection and the positional steps
        (default: every core, as DuckDB itself; ``-1`` also means every core).

    Returns
    -------
    ProcessMap
        ``summary`` also holds ``path_coverage_top10``, the share of the
        journeys with two or more steps that the 10 most common such paths
        cover, and ``long_tail``: whether that is below 20 % (then a
        message suggests patterns, :func:`~journeymine.patterns` and
        :func:`~journeymine.paths_from`, instead of the variant list).
        One-event journeys (bounces) are left out of that rule: they have
        no path, yet make the top variants look common.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> df = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b", "c"],
    ...     "touchpoint": ["instagram_ad", "product_page", "checkout",
    ...                    "instagram_ad", "product_page", "instagram_ad"],
    ...     "ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 11:05",
    ...                           "2024-01-02 09:00", "2024-01-02 09:10", "2024-01-03 08:00"]),
    ... })
    >>> pm = jm.discover(jm.EventLog.from_pandas(df))
    >>> pm.edges[["source", "target", "count", "median_seconds"]]
             source        target  count  median_seconds
    0  instagram_ad  product_page      2           450.0
    1  product_page      checkout      1          3600.0
    >>> pm.summary["conversion_rate"]
    0.3333333333333333
    """
    require_event_log(log, "discover()")
    resolve_n_jobs(n_jobs)
    prep = prepare_log(log, grain=grain, gap=gap, session=session, episode_gap=episode_gap,
                       censor=censor, stages=stages, conversion=conversion, rename=rename,
                       collapse_repeats=collapse_repeats)
    grain, journeys = check_grain(grain), prep.journeys
    stage_map, conv, log = prep.stage_map, prep.conversion, prep.log
    rank = {tp: stage_map.order.index(s) for tp, s in stage_map.mapping.items()}
    con = log.backend if con is None else con  # a read_spark log runs on its own backend
    engine = journey_engine(prep.cases, rank, conv, con, journeys=journeys, n_jobs=n_jobs)
    # One worker runs the queries in order (the engine is not thread-safe)
    # while this thread builds the journeys and turns finished results into
    # tables: the engine releases the GIL as it runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        def run(name: str, *keys: str):
            query = engine.prepare(name)
            return pool.submit(lambda: _fetch(query(), *keys))

        results = {"edges": run("edges", "-count", "source", "target"),
                   "nodes": run("nodes", "-count", "touchpoint"),
                   "ping_pongs": run("ping_pongs")}
        if CHANNEL in log.columns:
            results["switches"] = run("switches")
            results["gaps"] = run("gaps", "from_channel", "to_channel")
        if journeys is not None and journeys.grain != "customer":
            results["returns"] = run("returns", "-count", "touchpoint")
        engine.build_journeys()
        results["funnel"] = run("funnel")  # the last query of the steps
        pool.submit(engine.release_steps)
        for name in ("variants", "totals", "to_convert", "dropoffs"):
            results[name] = run(name, *(("-customers", "variant") if name == "variants" else ()))

        # In the order the worker finishes them; every customer starts once.
        edges = results["edges"].result()
        nodes = results["nodes"].result()
        nodes["stage"] = nodes["touchpoint"].map(stage_map.mapping)
        start = _count_map(nodes, "starts")
        end = _count_map(nodes, "ends")
        n_customers = int(nodes["starts"].sum())
        loops = _loops(edges, results["ping_pongs"].result(), nodes,
                       repeat_counts(prep.cases) if prep.collapsed else None)
        switches = (_switches(results["switches"].result()) if "switches" in results
                    else pd.DataFrame())
        bottlenecks = _bottlenecks(edges, rank, n_customers)
        variants = _variants(results["variants"].result(), n_customers)
        totals = _journey_totals(results["totals"].result())
        n_converted = totals["converted"]
        gaps = (gap_table(results["gaps"].result(), n_converted / max(n_customers, 1))
                if "gaps" in results else pd.DataFrame(columns=list(GAP_COLUMNS)))
        funnel = _funnel(results["funnel"].result(), stage_map, n_customers)
        lost = results["dropoffs"].result()
        returns = (results["returns"].result() if "returns" in results
                   else pd.DataFrame(columns=["touchpoint", "count", "customers",
                                              "median_seconds", "p90_seconds"]))
        engine.close()  # every query has run: free the per-event steps
        dropoffs = _dropoffs(lost, nodes, int(lost["customers"].sum()))
    grain_summary = journeys.summary() if journeys is not None else {
        "grain": "customer", "journeys": n_customers, "customers": n_customers,
        "gap_seconds": None, "gap_source": "one journey per customer", "censor_seconds": None,
        "censored_start": 0, "censored_end": 0,
    }
    summary = {
        "events": log.n_events,
        **grain_summary,
        "touchpoints": len(nodes),
        "transitions": int(edges["count"].sum()),
        "variants": len(variants),
        "converted": n_converted,
        "conversion_rate": n_converted / n_customers if n_customers else 0.0,
        "conversion_reason": conv.reason,
        "median_journey_seconds": totals["median_journey_seconds"],
        **_seconds_to_convert(results["to_convert"].result()),
        "single_event_customers": totals["single_event_customers"],
        **_long_tail(variants, grain),
        "repeats_collapsed": log.n_events - prep.cases.n_events,
        "grouped": prep.groups,
    }
    nodes = nodes.drop(columns=["starts", "ends", "returning"])
    return ProcessMap(
        nodes=nodes.reset_index(drop=True),
        edges=edges,
        start=start,
        end=end,
        variants=variants,
        funnel=funnel,
        dropoffs=dropoffs,
        loops=loops,
        bottlenecks=bottlenecks,
        channel_switches=switches,
        channel_gaps=gaps,
        summary=summary,
        stages=stage_map,
        conversion=conv,
        unmapped=tuple(stage_map.unmapped(nodes["touchpoint"])),
        grain=grain,
        returns=returns,
    )


def _long_tail(variants: pd.DataFrame, grain: str) -> dict:
    """``path_coverage_top10`` and ``long_tail`` for ``summary``; says so once when long-tailed."""
    curve = variant_coverage(variants, LONG_TAIL_K, min_length=2)
    share = float(curve["share"].iloc[-1]) if len(curve) else 1.0
    long_tail = bool(share < LONG_TAIL_SHARE)
    if long_tail:
        unit = "journeys" if grain == "customer" else f"{grain}s"
        logger.info(
            "Long tail: the %d most common paths cover %.0f%% of the %s with 2+ steps, so "
            "the variant list shows near-singletons. Read patterns instead "
            "(jm.patterns(pm), jm.paths_from(pm, anchor=...)), or shorten the tail with "
            "discover(..., collapse_repeats=True, rename=jm.suggest_groups(log)).",
            LONG_TAIL_K, 100 * share, unit)
    return {"path_coverage_top10": share, "long_tail": long_tail}


def _journey_totals(df: pd.DataFrame) -> dict:
    """The one row of the ``totals`` query as plain numbers (nulls as zero)."""
    row = df.iloc[0]

    def number(name: str, kind: type):
        value = row[name]
        return kind(0) if pd.isna(value) else kind(value)

    return {
        "converted": number("converted", int),
        "median_journey_seconds": number("median_journey_seconds", float),
        "single_event_customers": number("single_event_customers", int),
    }


def _seconds_to_convert(df: pd.DataFrame) -> dict[str, float | None]:
    """Median and p90 time to the first conversion (None when nobody converted)."""
    row = df.iloc[0] if len(df) else {}
    return {name: (None if len(df) == 0 or pd.isna(row[name]) else float(row[name]))
            for name in ("median_seconds_to_convert", "p90_seconds_to_convert")}


def _fetch(table: pa.Table, *keys: str) -> pd.DataFrame:
    """``table`` sorted by ``keys`` ("-name" for descending) in Arrow, as a DataFrame.

    Arrow's sort is about twice as fast as an ``ORDER BY`` on long strings
    such as variants.
    """
    order = [(k[1:], "descending") if k.startswith("-") else (k, "ascending") for k in keys]
    return (table.take(pc.sort_indices(table, sort_keys=order)) if order else table).to_pandas()


def _sorted(df: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    return df.sort_values(by, ascending=ascending, kind="mergesort").reset_index(drop=True)


def _count_map(nodes: pd.DataFrame, column: str) -> dict[str, int]:
    sub = nodes[nodes[column] > 0].sort_values([column, "touchpoint"], ascending=[False, True])
    return {str(k): int(v) for k, v in zip(sub["touchpoint"], sub[column], strict=True)}


def _variants(df: pd.DataFrame, n_customers: int) -> pd.DataFrame:
    df["share"] = df["customers"] / n_customers
    df["cumulative_share"] = df["share"].cumsum()
    df["conversion_rate"] = df["converted"] / df["customers"]
    df["path"] = _split_paths(df["variant"])
    cols = ["variant", "customers", "share", "cumulative_share", "length",
            "conversion_rate", "median_duration_seconds", "path"]
    return df[cols]


#: Variants split at a time by :func:`_split_paths` (bounds its temporary lists).
_SPLIT_BATCH = 1 << 16


def _split_paths(variants: pd.Series) -> np.ndarray:
    """Each variant as a tuple of touchpoints, in an object array.

    Arrow splits the strings and names each touchpoint once per batch of
    variants, so the tuples share one string object per touchpoint instead
    of holding new copies, and the temporary lists stay the size of a batch.
    The cyclic garbage collector is paused meanwhile: building ~10⁵ tuples
    would trigger it over and over, although tuples of strings never form a
    cycle.
    """
    strings = pa.array(variants, type=pa.string())
    out = np.empty(len(strings), dtype=object)
    enabled = gc.isenabled()
    gc.disable()
    try:
        for at in range(0, len(strings), _SPLIT_BATCH):
            parts = pc.split_pattern(strings.slice(at, _SPLIT_BATCH), VARIANT_SEPARATOR)
            steps = pc.dictionary_encode(parts.flatten())
            names = np.array(steps.dictionary.to_pylist(), dtype=object)
            named = names[steps.indices.to_numpy()].tolist()
            bounds = (parts.offsets.to_numpy() - parts.offsets[0].as_py()).tolist()
            out[at:at + len(parts)] = np.fromiter(
                (tuple(named[a:b]) for a, b in itertools.pairwise(bounds)), dtype=object,
                count=len(parts))
    finally:
        if enabled:
            gc.enable()
    return out


def _funnel(df: pd.DataFrame, stage_map: StageMap, n_customers: int) -> pd.DataFrame:
    df = df.set_index("stage_rank").reindex(range(len(stage_map.order))).rename_axis("stage_rank")
    df = df.reset_index().fillna({"visited": 0, "furthest": 0})
    reached = df["furthest"][::-1].cumsum()[::-1].astype(int)
    out = pd.DataFrame({
        "stage": [stage_map.order[i] for i in df["stage_rank"]],
        "visited": df["visited"].astype(int),
        "reached": reached,
    })
    out["reached_share"] = out["reached"] / n_customers if n_customers else 0.0
    out["continued"] = out["reached"].shift(-1).fillna(0).astype(int)
    out["dropped"] = out["reached"] - out["continued"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = out["continued"] / out["reached"].where(out["reached"] > 0)
    out["conversion_to_next"] = rate
    out.loc[out.index[-1], "conversion_to_next"] = np.nan
    out["median_seconds_to_next"] = df["median_seconds_to_next"].astype(float)
    return out


def _dropoffs(df: pd.DataFrame, nodes: pd.DataFrame, n_lost: int) -> pd.DataFrame:
    visits = nodes.set_index("touchpoint")["customers"]
    df = df.rename(columns={"customers": "lost_customers"})
    df["share_of_lost"] = df["lost_customers"] / n_lost if n_lost else 0.0
    df["exit_rate"] = df["lost_customers"] / df["touchpoint"].map(visits).astype(float)
    df["stage"] = df["touchpoint"].map(nodes.set_index("touchpoint")["stage"])
    return _sorted(df, ["lost_customers", "touchpoint"], [False, True])[
        ["touchpoint", "stage", "lost_customers", "share_of_lost", "exit_rate", "median_length"]
    ]


def _loops(edges: pd.DataFrame, pp: pd.DataFrame, nodes: pd.DataFrame,
           collapsed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Self-loops (edges A -> A), ping-pongs (A -> B -> A) and repeats (A visited again).

    On a collapsed log the self-loops are the merged repeats (``collapsed``,
    from :func:`~journeymine.discovery._longtail.repeat_counts`).
    """
    visits = nodes.set_index("touchpoint")["customers"]
    if collapsed is None:
        self_df = edges.loc[edges["source"] == edges["target"], ["source", "count", "customers"]]
        self_df = self_df.rename(columns={"source": "touchpoint"})
    else:
        self_df = collapsed
    rep = nodes.loc[nodes["returning"] > 0]
    rep = pd.DataFrame({"touchpoint": rep["touchpoint"], "count": rep["count"] - rep["customers"],
                        "customers": rep["returning"]})
    parts = [
        self_df.assign(kind="self-loop", pattern=self_df["touchpoint"] + " ↺"),
        pp.assign(kind="ping-pong", pattern=pp["touchpoint"] + " ⇄ " + pp["partner"]),
        rep.assign(kind="repeat", pattern=rep["touchpoint"] + " (again)"),
    ]
    cols = ["kind", "pattern", "touchpoint", "count", "customers", "share_of_visitors"]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["share_of_visitors"] = out["customers"] / out["touchpoint"].map(visits).astype(float)
    return _sorted(out, ["customers", "kind", "pattern"], [False, True, True])[cols]


def _bottlenecks(edges: pd.DataFrame, rank: dict[str, int], n_customers: int) -> pd.DataFrame:
    """Slow forward transitions weighted by how many customers wait on them.

    ``impact = customers × median_seconds``: the customer-time spent on the
    transition. Edges that go back to an earlier stage (a new cycle, such as a
    repurchase weeks later) are not waits and are left out, as are edges with
    fewer than ``max(2, 0.5% of customers)`` customers.
    """
    min_customers = max(2, int(np.ceil(0.005 * n_customers)))
    src = edges["source"].map(rank)
    dst = edges["target"].map(rank)
    forward = src.isna() | dst.isna() | (dst >= src)
    df = edges[forward & (edges["customers"] >= min_customers)].copy()
    df["impact_hours"] = df["customers"] * df["median_seconds"] / 3600.0
    total = df["impact_hours"].sum()
    df["share_of_wait"] = df["impact_hours"] / total if total else 0.0
    cols = ["source", "target", "customers", "count", "median_seconds", "p90_seconds",
            "impact_hours", "share_of_wait"]
    return _sorted(df, ["impact_hours", "source", "target"], [False, True, True])[cols]


def _switches(df: pd.DataFrame) -> pd.DataFrame:
    df["conversion_rate"] = df["converted"] / df["customers"]
    return _sorted(df, ["customers", "from_channel", "to_channel", "source", "target"],
                   [False, True, True, True, True])
