"""What matters: one ranked table of barriers and opportunities (:func:`insights`).

Every finding is a row with the customers it affects, an effect with a 95%
interval, the loss it causes, the counts behind it, a q-value and one plain
sentence (English or Indonesian). The statistics are computed per *case*, the
unit of the chosen grain (a session, an episode or a customer's whole
history), on NumPy arrays over the sorted event table (the log is already in
customer and time order, so a case is a run of rows).

Methods
-------
Outcome and leakage
    A case converts when it holds a conversion event. For a converted case
    only the events *before* its first conversion are used to explain the
    outcome (events at and after it cannot cause it): presence of a
    touchpoint, loops, channel switches and the case's length all come from
    that prefix. Conversion touchpoints are never tested as causes.
Drop-off points
    Per touchpoint, the non-converting cases whose last event is there
    (``exits``) out of its visits before the outcome (the web-analytics exit
    rate: a page seen five times a session is not blamed five times less
    often for being the last). The baseline is the pooled exit rate of all
    touchpoints; one-sided binomial test of excess exits. Effect: exit rate
    minus baseline (Wilson interval of the exit rate minus the baseline).
    Loss: excess exits times the conversion rate of the visitors who went on.
Loops
    Each return to a touchpoint already seen in the case closes a cycle: the
    steps since its previous visit (``A ↺`` self-loop, ``A ⇄ B`` ping-pong,
    longer simple cycles such as ``cart → shipping → add_to_cart → cart`` up
    to ``max_loop_length`` steps), rotations counted as one cycle. Looping
    cases are compared with the other cases that visited every touchpoint of
    the loop without going round it; cycles entered at the same touchpoint
    that share another are one loop (``cart ⇄ shipping``, ``cart ⇄
    add_to_cart`` and ``cart → shipping → add_to_cart → cart`` are one
    checkout loop). The comparison is within strata of length, landing
    touchpoint and whether the case reached the purchase path (see *Events*):
    browsing sessions that bounce between product pages are compared with
    other browsing sessions, checkout loops with other checkouts.
Slow steps
    Waits between consecutive events of one case (at the session grain:
    inside sessions only, never the days between visits; at the customer
    and episode grains a move back to an earlier stage is a return, not a
    wait, and is left out). An edge is slow when its median wait is at
    least ``slow_factor`` times the typical wait (the median of all waits);
    sign test of waits above the typical one, distribution-free interval of
    the median. Loss: customers × (median − typical), in hours.
Events with lift
    Presence of a touchpoint before the outcome against conversion, compared
    within strata of journey length (length before the outcome, in bins:
    longer journeys hold more of everything and convert more) by the
    Mantel-Haenszel pooled risk difference (Sato's variance, the CMH test).
    Each touchpoint is compared with the cases that reached its *entry*
    (the touchpoint most often just before its first visit; all cases when
    it usually opens the case): a pop-up on the cart page against the other
    cart visitors. A touchpoint that precedes the conversion in at least
    ``funnel_share`` of one purchase route's conversions (a route: the
    conversion touchpoint with the step just before it, such as payment then
    order_complete, or a store visit then a store purchase) is a step of the
    purchase path by construction and is not tested.
Incidents
    Per touchpoint, the daily share of cases (by start day) holding it; a
    binomial scan finds the window of 3 days to half the span whose share
    departs most from the rest (Bonferroni over the windows). The window is
    an incident when the share changes at least ``incident_ratio``-fold and
    conversion inside it differs from outside (two-proportion test; the
    finding's p-value is the larger of the two). Overlapping windows are
    merged into one finding led by the strongest touchpoint.
Channel switches
    Consecutive events on different channels (``from → to`` at
    ``source → target``) before the outcome; cases making the switch are
    compared with the other cases that visited ``source``, within length
    strata.
Negative emotions
    With ``texts``: the touchpoints of
    :meth:`~journeymine.JourneyEmotions.pain_points` (their own
    Benjamini-Hochberg family).

Guards: every comparison needs at least ``min_cases`` cases on each side (and
each edge that many cases); p-values of all tests above are corrected
together by Benjamini-Hochberg and a finding is kept when ``q ≤ alpha``.

Ranking
-------
``score = customers × sqrt(|effect| × relative effect) × (1 − q)``: customers
affected times the geometric mean of the absolute and the relative size of
the effect, times the confidence. The absolute effect is a difference of
proportions (conversion, exit rate, negative share; for waits the excess
share of the wait); the relative effect puts it on a scale from 0 to 1, the
share of the outcome the finding explains: ``|p1 − p0| / max(p1, p0)`` for
conversion rates (loops, events, switches, incidents), ``(rate − baseline) /
rate`` for exit rates and negative-text shares, ``(median − typical) /
median`` for waits. The absolute size alone favours common, mild
associations (a page reload that costs two points); the relative alone
favours rare, strong ones; their geometric mean ranks a checkout loop that
halves conversion for 500 customers above both.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from journeymine._util._json import envelope, records
from journeymine._util._stats import (
    benjamini_hochberg,
    binomial_scan,
    mantel_haenszel,
    median_rank_bounds,
    wilson_interval,
)
from journeymine.discovery._discover import resolve_conversion
from journeymine.eventlog._eventlog import EventLog, StagesLike
from journeymine.eventlog._schema import ACTIVITY, CHANNEL, TIMESTAMP
from journeymine.eventlog._validate import dictionary_encode
from journeymine.exceptions import InvalidParameterError, JourneymineError
from journeymine.reporting._format import humanize_seconds

__all__ = ["COLUMNS", "KINDS", "Insights", "insights"]

#: The kinds of finding, in the order they are computed.
KINDS = ("drop-off", "loop", "slow step", "event", "incident", "channel switch",
         "negative emotion")
#: Columns of :attr:`Insights.table`.
COLUMNS = ("rank", "type", "kind", "where", "customers", "cases", "effect", "effect_low",
           "effect_high", "effect_measure", "relative_effect", "loss", "unit", "evidence",
           "p_value", "q_value", "score", "sentence", "start", "end")
LANGS = ("en", "id")
#: Version of the format written by :meth:`Insights.to_dict`.
FORMAT_VERSION = 1
_DAY_US = 86_400_000_000
_MAX_LANDINGS = 20
_LENGTH_BINS = np.array([1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 22, 29, 38, 50, 66, 87, 115, 152])


# ---------------------------------------------------------------------------- cases
@dataclasses.dataclass(frozen=True)
class _Cases:
    """The sorted events as arrays, cut into cases at the chosen grain."""

    names: np.ndarray        # touchpoint names (object), indexed by code
    code: np.ndarray         # per event: touchpoint code
    case: np.ndarray         # per event: case number (cases are runs of rows)
    seconds: np.ndarray      # per event: seconds since epoch (float)
    pre: np.ndarray          # per event: before the case's first conversion
    starts: np.ndarray       # per case: first row
    converted: np.ndarray    # per case: holds a conversion
    pre_length: np.ndarray   # per case: steps before the outcome (repeats collapsed)
    customer: np.ndarray     # per case: customer number
    channel: np.ndarray | None          # per event: channel code (-1 = none)
    channel_names: np.ndarray | None
    is_conversion: np.ndarray           # per touchpoint code
    stage_rank: np.ndarray              # per touchpoint code (-1 = unmapped)
    stratum: np.ndarray                 # per case: landing touchpoint and length bin
    n_strata: int
    censored_end: np.ndarray            # per case: may not be over (cut by the data window)

    @property
    def n_cases(self) -> int:
        return len(self.starts)


def _length_stratum(length: np.ndarray) -> np.ndarray:
    """Length bin of each journey (journeys of length 0 and 1 share the first bin)."""
    return np.maximum(np.searchsorted(_LENGTH_BINS, length, side="right") - 1, 0)


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    encoded = dictionary_encode(column)
    indices = encoded.indices
    codes = (indices.fill_null(-1) if indices.null_count else indices).to_numpy()
    return codes.astype(np.int64), np.array(encoded.dictionary.to_pylist(), dtype=object)


def _build_cases(log: EventLog, grain: str, conversion: tuple[str, ...], rank: dict[str, int],
                 min_cases: int, **rules) -> _Cases:
    """The events as arrays, cut into cases by :func:`journeymine.discovery._grains.at_grain`."""
    from journeymine.discovery._grains import at_grain

    journeys = at_grain(log, grain, conversion=conversion, **rules)
    table = journeys.log.table  # the validated rows, in customer and time order
    n = table.num_rows
    code, names = _codes(table.column(ACTIVITY))
    seconds = table.column(TIMESTAMP).cast(pa.timestamp("us")).to_numpy().view(np.int64) / 1e6
    cases = journeys.case_table
    lengths = cases.column("events").to_numpy()
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    new = np.zeros(n, dtype=bool)
    new[starts] = True
    case = np.cumsum(new) - 1
    customer = _codes(cases.column("customer_id"))[0]
    converting = set(conversion)
    is_conversion = np.array([a in converting for a in names], dtype=bool)
    conv = is_conversion[code]
    # Events before the case's first conversion: no conversion so far, this one included.
    seen = np.cumsum(conv)
    before_case = np.concatenate(([0], seen))[starts][case]
    pre = (seen - before_case) == 0
    converted = np.add.reduceat(conv.astype(np.int64), starts) > 0 if n else conv
    # Length before the outcome with repeats collapsed (a reload is not a step).
    repeat = np.zeros(n, dtype=bool)
    repeat[1:] = (code[1:] == code[:-1]) & ~new[1:]
    steps = (pre & ~repeat).astype(np.int64)
    pre_length = np.add.reduceat(steps, starts) if n else steps
    channel = channel_names = None
    if CHANNEL in table.column_names:
        channel, channel_names = _codes(table.column(CHANNEL))
    stage_rank = np.array([rank.get(a, -1) for a in names], dtype=np.int64)
    # Strata: the landing touchpoint (the _MAX_LANDINGS most common that open at
    # least min_cases cases; the rest pooled) by the length bin. Cases that open
    # on the cart or in a store are returning buyers, whatever else they hold.
    landing = code[starts] if n else code
    opened = np.bincount(landing, minlength=len(names))
    frequent = np.argsort(-opened, kind="stable")[:_MAX_LANDINGS]
    frequent = np.sort(frequent[opened[frequent] >= min_cases])
    group = np.full(len(names), len(frequent), dtype=np.int64)
    group[frequent] = np.arange(len(frequent))
    bins = len(_LENGTH_BINS)
    stratum = group[landing] * bins + _length_stratum(pre_length)
    return _Cases(names, code, case, seconds, pre, starts, converted, pre_length, customer,
                  channel, channel_names, is_conversion, stage_rank, stratum,
                  (len(frequent) + 1) * bins, cases.column("censored_end").to_numpy())


def _distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int64 array.

    A stable sort (timsort) is fast on these nearly sorted, case-major keys,
    several times faster than NumPy's hashing ``unique``.
    """
    ordered = np.sort(keys, kind="stable")
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _first_rows(keys: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct key, in key order."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return order[keep]


def _unique_pairs(case: np.ndarray, item: np.ndarray, n_items: int) -> tuple[np.ndarray, ...]:
    """Distinct (case, item) pairs of the given rows, as two arrays."""
    key = _distinct(case.astype(np.int64) * n_items + item)
    return key // n_items, key % n_items


def _distinct_customers(cs: _Cases, case: np.ndarray, item: np.ndarray,
                        n_items: int) -> np.ndarray:
    """Per item: distinct customers among the given (case, item) pairs."""
    if not len(case):
        return np.zeros(n_items, dtype=np.int64)
    _, items = _unique_pairs(cs.customer[case], item, n_items)
    return np.bincount(items, minlength=n_items)


def _per_stratum(item: np.ndarray, stratum: np.ndarray, weight: np.ndarray, n_items: int,
                 n_strata: int) -> np.ndarray:
    flat = np.bincount(item * n_strata + stratum, weights=weight, minlength=n_items * n_strata)
    return flat.reshape(n_items, n_strata)


# ---------------------------------------------------------------------------- findings
def _rows(kind: str, **columns) -> pd.DataFrame:
    return pd.DataFrame({"kind": kind, **columns})


def _conversion_rows(kind: str, where, res: dict, customers, cases, ok, evidence_parts,
                     extra: dict | None = None) -> pd.DataFrame:
    """Findings whose effect is a conversion-rate difference (from :func:`mantel_haenszel`)."""
    p1, p0 = res["p1"], res["p0"]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(p1 - p0) / np.maximum(p1, p0)
    loss = res["n1"] * (p0 - p1)
    out = _rows(kind, where=where, customers=customers, cases=cases,
                effect=res["difference"], effect_low=res["low"], effect_high=res["high"],
                effect_measure="conversion difference", relative_effect=relative,
                loss=loss, unit="conversions", p_value=res["p_value"], p1=p1, p0=p0,
                n1=res["n1"], **(extra or {}))
    out["evidence"] = evidence_parts
    return out[ok].reset_index(drop=True)


def _pre_presence(cs: _Cases) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (case, touchpoint) pairs among the events before the outcome."""
    rows = np.flatnonzero(cs.pre)
    return _unique_pairs(cs.case[rows], cs.code[rows], len(cs.names))


def _dropoffs(cs: _Cases, presence, min_cases: int) -> pd.DataFrame:
    T = len(cs.names)
    pcase, ptp = presence
    visitors = np.bincount(ptp, minlength=T).astype(float)
    converted_visitors = np.bincount(ptp, weights=cs.converted[pcase], minlength=T)
    visits = np.bincount(cs.code[cs.pre], minlength=T).astype(float)
    last = np.append(cs.starts[1:], len(cs.code)) - 1
    lost = ~cs.converted & ~cs.censored_end  # a journey cut by the data window may go on
    exits = np.bincount(cs.code[last[lost]], minlength=T).astype(float)
    tested = (visitors >= min_cases) & ~cs.is_conversion
    if not tested.any():
        return pd.DataFrame()
    base = exits[tested].sum() / visits[tested].sum()
    from scipy.stats import binom

    p = binom.sf(exits - 1, visits, base)
    low, high = wilson_interval(exits, visits)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = exits / visits
        continued = visitors - exits
        conv_after = np.where(continued > 0, converted_visitors / np.where(continued > 0,
                                                                           continued, 1), 0.0)
        relative = (rate - base) / rate
    excess = exits - base * visits
    where = cs.names.astype(str)
    customers = _distinct_customers(cs, np.flatnonzero(lost), cs.code[last[lost]], T)
    evidence = [f"{int(e):,} of {int(v):,} visits were the last step of a case that did not "
                f"convert ({r:.0%}; {base:.0%} across touchpoints; {int(c):,} cases visited)"
                for e, v, r, c in zip(exits, visits, np.nan_to_num(rate), visitors, strict=True)]
    out = _rows("drop-off", where=where, customers=customers, cases=exits, effect=rate - base,
                effect_low=low - base, effect_high=high - base, effect_measure="exit-rate excess",
                relative_effect=relative, loss=excess * conv_after, unit="conversions",
                p_value=p, evidence=evidence, rate=rate, base=base, visits=visits)
    return out[tested & (rate > base)].reset_index(drop=True)


def _loops(cs: _Cases, presence, path_reached: np.ndarray, min_cases: int,
           max_length: int) -> pd.DataFrame:
    T = len(cs.names)
    rows = np.flatnonzero(cs.pre)
    if len(rows) < 2:
        return pd.DataFrame()
    base = T + 1
    max_length = max(1, min(max_length, int(62 // math.log2(base))))
    key = cs.case[rows] * T + cs.code[rows]
    order = np.argsort(key, kind="stable")
    again = key[order][1:] == key[order][:-1]
    close, prev = rows[order][1:][again], rows[order][:-1][again]
    length = close - prev
    keep = length <= max_length
    close, prev, length = close[keep], prev[keep], length[keep]
    if not len(close):
        return pd.DataFrame()
    steps = np.full((len(close), max_length), -1, dtype=np.int64)
    for j in range(max_length):
        inside = j < length
        steps[inside, j] = cs.code[prev[inside] + j]
    simple = np.ones(len(close), dtype=bool)
    for a in range(max_length):
        for b in range(a + 1, max_length):
            simple &= ~((steps[:, a] == steps[:, b]) & (steps[:, a] >= 0))
    steps, close, prev, length = steps[simple], close[simple], prev[simple], length[simple]
    if not len(close):
        return pd.DataFrame()
    # One canonical rotation per cycle: the smallest of its rotations, encoded as one integer.
    canon = np.full(len(close), np.iinfo(np.int64).max)
    powers = base ** np.arange(max_length - 1, -1, -1, dtype=np.int64)
    for size in range(1, max_length + 1):
        rows_l = np.flatnonzero(length == size)
        block = steps[rows_l, :size] + 1
        for r in range(size):
            rotated = block[:, (r + np.arange(size)) % size]
            canon[rows_l] = np.minimum(canon[rows_l], rotated @ powers[:size])
    patterns, pattern, instances = np.unique(canon, return_inverse=True, return_counts=True)
    pcase, ppat = _unique_pairs(cs.case[close], pattern, len(patterns))
    # Only loops in at least min_cases cases go on (a long log has thousands of rare ones).
    frequent = np.bincount(ppat, minlength=len(patterns)) >= min_cases
    if not frequent.any():
        return pd.DataFrame()
    renumber = np.cumsum(frequent) - 1
    kept = frequent[pattern]
    pattern, prev, length = renumber[pattern[kept]], prev[kept], length[kept]
    keep_pairs = frequent[ppat]
    pcase, ppat = pcase[keep_pairs], renumber[ppat[keep_pairs]]
    patterns, instances = patterns[frequent], instances[frequent]
    P = len(patterns)
    plen = np.zeros(P, dtype=np.int64)
    plen[pattern] = length
    starts_at = np.bincount(pattern * T + cs.code[prev], minlength=P * T).reshape(P, T)
    entry = np.argmax(starts_at, axis=1)
    members = [_cycle_steps(int(v), base, max_length, int(plen[i])) for i, v in enumerate(patterns)]
    group = _loop_groups(members, entry)
    G = int(group.max()) + 1
    gcase, ggroup = _unique_pairs(pcase, group[ppat], G)
    exposed = np.bincount(ggroup, minlength=G)
    # The reference: cases that visited every touchpoint of one of the group's cycles.
    vcase, vtp = presence
    by_tp = np.split(vcase[np.argsort(vtp, kind="stable")],
                     np.cumsum(np.bincount(vtp, minlength=T))[:-1])

    def visitors(tp: int) -> np.ndarray:
        mask = np.zeros(cs.n_cases, dtype=bool)
        mask[by_tp[tp]] = True
        return mask

    S = cs.n_strata * 2
    stratum = cs.stratum * 2 + path_reached
    n1 = _per_stratum(ggroup, stratum[gcase], np.ones(len(gcase)), G, S)
    x1 = _per_stratum(ggroup, stratum[gcase], cs.converted[gcase].astype(float), G, S)
    ref_n, ref_x = np.zeros((G, S)), np.zeros((G, S))
    for g in range(G):
        ref = np.zeros(cs.n_cases, dtype=bool)
        for i in np.flatnonzero(group == g):
            cycle_ref = visitors(members[i][0])
            for m in members[i][1:]:
                cycle_ref &= visitors(m)
            ref |= cycle_ref
        ref_n[g] = np.bincount(stratum[ref], minlength=S)
        ref_x[g] = np.bincount(stratum[ref], weights=cs.converted[ref], minlength=S)
    res = mantel_haenszel(x1, n1, np.maximum(ref_x - x1, 0), np.maximum(ref_n - n1, 0))
    tested = (res["n1"] >= min_cases) & (res["n0"] >= min_cases)
    pattern_cases = np.bincount(ppat, minlength=P)
    labels, kinds = [], []
    for g in range(G):
        ids = np.flatnonzero(group == g)
        ids = ids[np.argsort(-pattern_cases[ids], kind="stable")]
        labels.append(", ".join(_cycle_label(cs.names, int(patterns[i]), base, max_length,
                                             int(plen[i]), int(entry[i])) for i in ids))
        kinds.append({1: "self-loop", 2: "ping-pong"}.get(int(plen[ids].max()), "cycle")
                     if len(ids) == 1 else "cycles")
    extra_steps = np.bincount(group, weights=instances * plen, minlength=G)
    customers = _distinct_customers(cs, gcase, ggroup, G)
    evidence = [f"{int(c):,} cases looped ({int(s):,} extra steps, {k}); converted "
                f"{a:.0%} vs {b:.0%} for cases that visited the same touchpoints without "
                "looping (within strata of length, landing and reaching the purchase path)"
                for c, s, k, a, b in zip(exposed, extra_steps, kinds, res["p1"], res["p0"],
                                         strict=True)]
    return _conversion_rows("loop", labels, res, customers, exposed, tested, evidence,
                            {"extra_steps": extra_steps, "loop_kind": kinds})


def _loop_groups(members: list[list[int]], entry: np.ndarray) -> np.ndarray:
    """Group cycles entered at one touchpoint that share another; self-loops stay alone.

    ``cart ⇄ shipping``, ``cart ⇄ add_to_cart`` and ``cart → shipping →
    add_to_cart → cart`` (all entered at the cart) are one checkout loop;
    ``product ⇄ search`` and ``product ⇄ category`` share only the product
    page and stay apart.
    """
    parent = list(range(len(members)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[int, int], int] = {}
    for i, steps in enumerate(members):
        for pair in ((int(entry[i]), s) for s in steps if s != entry[i]):
            if pair in owner:
                parent[root(i)] = root(owner[pair])
            else:
                owner[pair] = i
    roots = [root(i) for i in range(len(members))]
    return np.unique(roots, return_inverse=True)[1].astype(np.int64)


def _cycle_steps(value: int, base: int, width: int, length: int) -> list[int]:
    """The touchpoint codes of a cycle from its integer code (see :func:`_loops`)."""
    digits = []
    for _ in range(width):
        value, digit = divmod(value, base)
        digits.append(digit - 1)
    return digits[::-1][:length]


def _cycle_label(names: np.ndarray, value: int, base: int, width: int, length: int,
                 entry: int) -> str:
    """``A ↺``, ``A ⇄ B`` or ``A → B → C → A`` from a cycle's code, starting at ``entry``."""
    steps = _cycle_steps(value, base, width, length)
    if entry in steps:
        i = steps.index(entry)
        steps = steps[i:] + steps[:i]
    tps = [str(names[s]) for s in steps]
    if length == 1:
        return f"{tps[0]} ↺"
    if length == 2:
        return f"{tps[0]} ⇄ {tps[1]}"
    return " → ".join([*tps, tps[0]])


def _visits_by_stratum(cs: _Cases, presence) -> tuple[np.ndarray, np.ndarray]:
    """Per touchpoint and length stratum: cases that visited it before the outcome, converted."""
    pcase, ptp = presence
    S, T = cs.n_strata, len(cs.names)
    strata = cs.stratum[pcase]
    return (_per_stratum(ptp, strata, np.ones(len(pcase)), T, S),
            _per_stratum(ptp, strata, cs.converted[pcase].astype(float), T, S))


def _events(cs: _Cases, presence, path: np.ndarray, min_cases: int,
            max_share: float) -> pd.DataFrame:
    T, S = len(cs.names), cs.n_strata
    pcase, ptp = presence
    entry = _entries(cs)
    # Exposed: cases with the touchpoint and (when it has one) its entry touchpoint.
    keys = pcase * T + ptp
    with_entry = entry[ptp] < 0
    has = entry[ptp] >= 0
    probe = pcase[has] * T + entry[ptp[has]]
    found = np.searchsorted(keys, probe)
    with_entry[has] = keys[np.minimum(found, len(keys) - 1)] == probe
    strata = cs.stratum[pcase[with_entry]]
    conv = cs.converted[pcase[with_entry]].astype(float)
    n1 = _per_stratum(ptp[with_entry], strata, np.ones(len(strata)), T, S)
    x1 = _per_stratum(ptp[with_entry], strata, conv, T, S)
    share = np.bincount(ptp, minlength=T) / max(cs.n_cases, 1)
    cand = np.flatnonzero(~cs.is_conversion & ~path & (share <= max_share)
                          & (n1.sum(axis=1) >= min_cases))
    if not len(cand):
        return pd.DataFrame()
    vn, vx = _visits_by_stratum(cs, presence)
    all_n = np.bincount(cs.stratum, minlength=S).astype(float)
    all_x = np.bincount(cs.stratum, weights=cs.converted, minlength=S)
    entry, n1, x1 = entry[cand], n1[cand], x1[cand]
    ref_n = np.where(entry[:, None] >= 0, vn[np.maximum(entry, 0)], all_n)
    ref_x = np.where(entry[:, None] >= 0, vx[np.maximum(entry, 0)], all_x)
    res = mantel_haenszel(x1, n1, np.maximum(ref_x - x1, 0), np.maximum(ref_n - n1, 0))
    tested = (res["n1"] >= min_cases) & (res["n0"] >= min_cases)
    customers = _distinct_customers(cs, pcase[with_entry], ptp[with_entry], T)[cand]
    names = cs.names.astype(str)
    others = [f"that reached {names[e]}" if e >= 0 else "of similar length" for e in entry]
    evidence = [f"{int(n):,} cases with it converted {a:.0%} vs {b:.0%} for cases {o} "
                "without it (within strata of length and landing)"
                for n, a, b, o in zip(n1.sum(axis=1), res["p1"], res["p0"], others, strict=True)]
    return _conversion_rows("event", names[cand], res, customers, n1.sum(axis=1), tested,
                            evidence,
                            {"entry": np.where(entry >= 0, names[np.maximum(entry, 0)], "")})


def _entries(cs: _Cases) -> np.ndarray:
    """Per touchpoint: the touchpoint most often just before its first visit in a case (-1: start).

    A touchpoint reached from the cart is compared with the other cases at
    the cart, not with every case.
    """
    T = len(cs.names)
    rows = np.flatnonzero(cs.pre)
    first = rows[_first_rows(cs.case[rows] * T + cs.code[rows])]
    at_start = cs.starts[cs.case[first]] == first
    before = np.where(at_start, -1, cs.code[np.maximum(first - 1, 0)])
    pairs = np.bincount(cs.code[first] * (T + 1) + before + 1,
                        minlength=T * (T + 1)).reshape(T, T + 1)
    return np.argmax(pairs, axis=1) - 1


def _path_steps(cs: _Cases, presence, funnel_share: float, min_cases: int) -> np.ndarray:
    """Per touchpoint: is it a step of a purchase route by construction?

    A route is a conversion touchpoint with the step just before it (payment
    then order_complete; a store visit then a store purchase); routes with at
    least ``min_cases`` conversions and 5% of all conversions count. A
    touchpoint preceding the conversion in at least ``funnel_share`` of a
    route's conversions (the cart on the web route) goes with conversion by
    construction of the route.
    """
    T = len(cs.names)
    conv_rows = np.flatnonzero(cs.is_conversion[cs.code])
    if not len(conv_rows):
        return np.zeros(T, dtype=bool)
    first = conv_rows[_first_rows(cs.case[conv_rows])]
    at_start = cs.starts[cs.case[first]] == first
    before = np.where(at_start, T, cs.code[np.maximum(first - 1, 0)])
    route_of = cs.code[first] * (T + 1) + before
    routes, route = np.unique(route_of, return_inverse=True)
    R = len(routes)
    by_case = np.full(cs.n_cases, -1, dtype=np.int64)
    by_case[cs.case[first]] = route
    pcase, ptp = presence
    through = by_case[pcase]
    keep = through >= 0
    had = np.bincount(ptp[keep] * R + through[keep], minlength=T * R).reshape(T, R)
    totals = np.bincount(route, minlength=R)
    big = (totals >= min_cases) & (totals >= 0.05 * len(first))
    share = had[:, big] / np.maximum(totals[big], 1)
    return (share >= funnel_share).any(axis=1)


def _switches(cs: _Cases, presence, min_cases: int) -> pd.DataFrame:
    if cs.channel is None:
        return pd.DataFrame()
    T, C, S = len(cs.names), len(cs.channel_names), cs.n_strata
    i = np.flatnonzero(cs.pre[:-1] & cs.pre[1:] & (cs.case[:-1] == cs.case[1:]))
    ch, nch = cs.channel[i], cs.channel[i + 1]
    i = i[(ch >= 0) & (nch >= 0) & (ch != nch)]
    if not len(i):
        return pd.DataFrame()
    key = ((cs.channel[i] * C + cs.channel[i + 1]) * T + cs.code[i]) * T + cs.code[i + 1]
    keys, item = np.unique(key, return_inverse=True)
    pcase, pitem = _unique_pairs(cs.case[i], item, len(keys))
    frequent = np.bincount(pitem, minlength=len(keys)) >= min_cases
    if not frequent.any():
        return pd.DataFrame()
    keep = frequent[pitem]
    pcase, pitem = pcase[keep], (np.cumsum(frequent) - 1)[pitem[keep]]
    keys = keys[frequent]
    K = len(keys)
    conv = cs.converted[pcase].astype(float)
    strata = cs.stratum[pcase]
    n1 = _per_stratum(pitem, strata, np.ones(len(pcase)), K, S)
    x1 = _per_stratum(pitem, strata, conv, K, S)
    src = (keys // T) % T
    tgt = keys % T
    from_ch = keys // (T * T) // C
    to_ch = keys // (T * T) % C
    vn, vx = _visits_by_stratum(cs, presence)
    res = mantel_haenszel(x1, n1, np.maximum(vx[src] - x1, 0), np.maximum(vn[src] - n1, 0))
    tested = (res["n1"] >= min_cases) & (res["n0"] >= min_cases)
    names, chans = cs.names.astype(str), cs.channel_names.astype(str)
    where = [f"{chans[a]} → {chans[b]} at {names[s]} → {names[t]}"
             for a, b, s, t in zip(from_ch, to_ch, src, tgt, strict=True)]
    exposed = n1.sum(axis=1)
    evidence = [f"{int(n):,} cases switched; converted {a:.0%} vs {b:.0%} for other cases "
                f"at {names[s]} of similar length"
                for n, a, b, s in zip(exposed, res["p1"], res["p0"], src, strict=True)]
    return _conversion_rows("channel switch", where, res, _distinct_customers(cs, pcase, pitem, K),
                            exposed, tested, evidence,
                            {"from_channel": chans[from_ch], "to_channel": chans[to_ch],
                             "source": names[src], "target": names[tgt]})


def _slow_steps(cs: _Cases, grain: str, min_cases: int, slow_factor: float) -> pd.DataFrame:
    T = len(cs.names)
    i = np.flatnonzero(cs.case[:-1] == cs.case[1:])
    src, tgt = cs.code[i], cs.code[i + 1]
    if grain != "session":
        rs, rt = cs.stage_rank[src], cs.stage_rank[tgt]
        forward = (rs < 0) | (rt < 0) | (rt >= rs)
        i, src, tgt = i[forward], src[forward], tgt[forward]
    if not len(i):
        return pd.DataFrame()
    wait = cs.seconds[i + 1] - cs.seconds[i]
    typical = max(float(np.median(wait)), 1.0)
    edge = src * T + tgt
    order = np.lexsort((wait, edge))
    edge_sorted, wait_sorted = edge[order], wait[order]
    keys, first, count = np.unique(edge_sorted, return_index=True, return_counts=True)
    median = np.where(count % 2, wait_sorted[first + count // 2],
                      (wait_sorted[first + (count - 1) // 2] + wait_sorted[first + count // 2]) / 2)
    lo, hi = median_rank_bounds(count)
    m_low, m_high = wait_sorted[first + lo], wait_sorted[first + hi]
    above = np.add.reduceat((wait_sorted > typical).astype(np.int64), first)
    from scipy.stats import binom

    p = binom.sf(above - 1, count, 0.5)
    item = np.searchsorted(keys, edge)
    pcase, pitem = _unique_pairs(cs.case[i], item, len(keys))
    cases = np.bincount(pitem, minlength=len(keys))
    customers = _distinct_customers(cs, pcase, pitem, len(keys))
    tested = np.flatnonzero((cases >= min_cases) & (median >= slow_factor * typical))
    keys, count, median, m_low, m_high, above, p, cases, customers = (
        v[tested] for v in (keys, count, median, m_low, m_high, above, p, cases, customers))
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = 1 - typical / median
        low = 1 - typical / np.maximum(m_low, 1e-9)
        high = 1 - typical / np.maximum(m_high, 1e-9)
    names = cs.names.astype(str)
    s, t = names[keys // T], names[keys % T]
    inside = "within sessions" if grain == "session" else f"within a {grain}'s journey"
    evidence = [f"{int(n):,} waits {inside}: median {humanize_seconds(m)} "
                f"(95% {humanize_seconds(a)}–{humanize_seconds(b)}) vs typical "
                f"{humanize_seconds(typical)}; {int(k):,} above typical"
                for n, m, a, b, k in zip(count, median, m_low, m_high, above, strict=True)]
    out = _rows("slow step", where=[f"{a} → {b}" for a, b in zip(s, t, strict=True)],
                customers=customers, cases=cases, effect=effect, effect_low=low,
                effect_high=high, effect_measure="excess share of the wait",
                relative_effect=effect, loss=customers * (median - typical) / 3600.0,
                unit="hours", p_value=p, evidence=evidence, median=median, typical=typical)
    return out


def _incidents(cs: _Cases, presence, min_cases: int, ratio: float) -> pd.DataFrame:
    day = np.floor(cs.seconds[cs.starts] / 86400.0).astype(np.int64)
    first_day = int(day.min())
    day -= first_day
    D = int(day.max()) + 1
    if D < 28:
        return pd.DataFrame()
    T = len(cs.names)
    pcase, ptp = presence
    n = np.bincount(day, minlength=D).astype(float)
    conv = np.bincount(day, weights=cs.converted, minlength=D)
    x = np.bincount(ptp * D + day[pcase], minlength=T * D).reshape(T, D).astype(float)
    candidates = np.flatnonzero(~cs.is_conversion & (x.sum(axis=1) >= min_cases))
    if not len(candidates):
        return pd.DataFrame()
    scan = binomial_scan(x[candidates], n, np.arange(3, D // 2 + 1))
    a, b = scan["start"], scan["stop"]
    with np.errstate(divide="ignore", invalid="ignore"):
        fold = scan["rate_in"] / scan["rate_out"]
    big = (fold >= ratio) | (fold <= 1 / ratio)
    cx = np.concatenate(([0.0], np.cumsum(conv)))
    cn = np.concatenate(([0.0], np.cumsum(n)))
    x_in, n_in = cx[b] - cx[a], cn[b] - cn[a]
    res = mantel_haenszel(x_in[:, None], n_in[:, None], (cx[-1] - x_in)[:, None],
                          (cn[-1] - n_in)[:, None])
    tested = big & (n_in >= min_cases) & (res["n0"] >= min_cases)
    p = np.maximum(scan["p_value"], res["p_value"])
    start = pd.to_datetime((first_day + a) * 86400, unit="s")
    end = pd.to_datetime((first_day + b - 1) * 86400, unit="s")
    customers = np.zeros(len(candidates), dtype=np.int64)  # counted after the merge
    names = cs.names.astype(str)[candidates]
    where = [f"{t} ({s:%Y-%m-%d} – {e:%Y-%m-%d})" for t, s, e in zip(names, start, end,
                                                                       strict=True)]
    evidence = [f"{t} in {ri:.1%} of cases from {s:%Y-%m-%d} to {e:%Y-%m-%d} (else {ro:.1%}); "
                f"conversion {ci:.1%} vs {co:.1%} ({int(m):,} cases in the window)"
                for t, s, e, ri, ro, ci, co, m in zip(
                    names, start, end, scan["rate_in"], scan["rate_out"], res["p1"], res["p0"],
                    n_in, strict=True)]
    res["p_value"] = p
    out = _conversion_rows("incident", where, res, customers, n_in, tested, evidence,
                           {"start": start, "end": end, "touchpoint": names,
                            "rate_in": scan["rate_in"], "rate_out": scan["rate_out"],
                            "llr": scan["llr"], "first_day": a, "stop_day": b})
    out = _merge_windows(out)
    by_day = np.argsort(day, kind="stable")
    day_starts = np.searchsorted(day[by_day], np.arange(D + 1))
    out["customers"] = [  # distinct customers with a case in the window
        len(_distinct(cs.customer[by_day[day_starts[f]:day_starts[e]]]))
        for f, e in zip(out["first_day"], out["stop_day"], strict=True)]
    return out


def _merge_windows(df: pd.DataFrame) -> pd.DataFrame:
    """One finding per incident: overlapping windows merge into the strongest touchpoint's.

    Two windows overlap when they share at least half of the shorter one;
    the merged finding lists the other touchpoints in its evidence.
    """
    if df.empty:
        return df
    df = df.sort_values("llr", ascending=False, kind="stable").reset_index(drop=True)
    first = (df["start"].to_numpy().astype("datetime64[D]").astype(np.int64))
    last = (df["end"].to_numpy().astype("datetime64[D]").astype(np.int64))
    kept: list[int] = []
    also: dict[int, list[str]] = {}
    for i in range(len(df)):
        for k in kept:
            overlap = min(last[i], last[k]) - max(first[i], first[k]) + 1
            if overlap >= 0.5 * (min(last[i] - first[i], last[k] - first[k]) + 1):
                also[k].append(str(df["touchpoint"].iat[i]))
                break
        else:
            kept.append(i)
            also[i] = []
    out = df.iloc[kept].copy()
    out["evidence"] = [e + (f"; also {', '.join(also[k][:4])}" if also[k] else "")
                       for k, e in zip(kept, out["evidence"], strict=True)]
    return out.reset_index(drop=True)


def _emotion_rows(log: EventLog, texts) -> pd.DataFrame:
    from journeymine.sentiment._journey import JourneyEmotions, emotions

    emo = texts if isinstance(texts, JourneyEmotions) else emotions(log, texts, tagger="labels")
    pains = emo.pain_points()
    if pains.empty:
        return pd.DataFrame()
    evidence = [f"{int(k):,} of {int(n):,} texts negative ({s:.0%}; {r:.0%} elsewhere)"
                for k, n, s, r in zip(pains["n_negative"], pains["n_texts"], pains["share"],
                                      pains["rest_share"], strict=True)]
    return _rows("negative emotion", where=pains["touchpoint"].astype(str),
                 customers=pains["n_customers"], cases=pains["n_texts"],
                 effect=pains["difference"], effect_low=pains["share_low"] - pains["rest_share"],
                 effect_high=pains["share_high"] - pains["rest_share"],
                 effect_measure="negative-share excess",
                 relative_effect=pains["difference"] / pains["share"], loss=pains["excess"],
                 unit="negative texts", p_value=pains["p_value"], q_value=pains["q_value"],
                 evidence=evidence, p1=pains["share"], p0=pains["rest_share"])


# ---------------------------------------------------------------------------- sentences
_SENTENCES = {
    ("drop-off", "en"): "{cases} {units} ended at {where} without converting: {p1} of its "
                        "{visits} visits were the last step, against {p0} for a typical step.",
    ("drop-off", "id"): "{cases} {units} berhenti di {where} tanpa konversi: {p1} dari {visits} "
                        "kunjungannya menjadi langkah terakhir, dibanding {p0} untuk langkah lain.",
    ("loop", "en"): "{customers} customers went round {where} ({extra} extra steps); they "
                    "converted {p1} against {p0} for similar {units} without the loop.",
    ("loop", "id"): "{customers} pelanggan berputar di {where} ({extra} langkah tambahan); "
                    "konversi mereka {p1} dibanding {p0} untuk {units} serupa tanpa putaran itu.",
    ("slow step", "en"): "Customers wait a median {median} for {where} ({fold}× the typical "
                         "{typical} wait): {loss} hours lost across {customers} customers.",
    ("slow step", "id"): "Pelanggan menunggu median {median} untuk {where} ({fold}× waktu tunggu "
                         "biasa {typical}): {loss} jam hilang untuk {customers} pelanggan.",
    ("event", "en"): "{Units} with {where} converted {p1} against {p0} for {units} of similar "
                     "length without it.",
    ("event", "id"): "{Units} dengan {where} berkonversi {p1} dibanding {p0} untuk {units} "
                     "sepanjang itu tanpa {where}.",
    ("event after", "en"): "{Units} with {where} converted {p1} against {p0} for {units} of "
                           "similar length that reached {entry} without it.",
    ("event after", "id"): "{Units} dengan {where} berkonversi {p1} dibanding {p0} untuk {units} "
                           "sepanjang itu yang sampai di {entry} tanpa {where}.",
    ("incident", "en"): "From {start} to {end}, {touchpoint} appeared in {rate_in} of {units} "
                        "(usually {rate_out}) and conversion was {p1} against {p0}: about "
                        "{loss} conversions {lost}.",
    ("incident", "id"): "Dari {start} sampai {end}, {touchpoint} muncul di {rate_in} {units} "
                        "(biasanya {rate_out}) dan konversi {p1} dibanding {p0}: sekitar "
                        "{loss} konversi {lost}.",
    ("channel switch", "en"): "Customers who moved from {from_channel} to {to_channel} at "
                              "{source} → {target} converted {p1} against {p0} for others at "
                              "{source}.",
    ("channel switch", "id"): "Pelanggan yang pindah dari {from_channel} ke {to_channel} di "
                              "{source} → {target} berkonversi {p1} dibanding {p0} untuk "
                              "pelanggan lain di {source}.",
    ("negative emotion", "en"): "{p1} of texts about {where} are negative, against {p0} "
                                "elsewhere ({cases} texts from {customers} customers).",
    ("negative emotion", "id"): "{p1} teks tentang {where} bernada negatif, dibanding {p0} di "
                                "titik sentuh lain ({cases} teks dari {customers} pelanggan).",
}
_UNITS = {("session", "en"): "sessions", ("episode", "en"): "journeys",
          ("customer", "en"): "journeys", ("session", "id"): "sesi",
          ("episode", "id"): "perjalanan", ("customer", "id"): "perjalanan"}
_LOST = {("en", True): "lost", ("en", False): "gained", ("id", True): "hilang",
         ("id", False): "bertambah"}


def _number(value: float, lang: str) -> str:
    text = f"{round(float(value)):,}"
    return text.replace(",", ".") if lang == "id" else text


def _share(value: float, lang: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    text = f"{100 * value:.0f}%" if value >= 0.1 or value == 0 else f"{100 * value:.1f}%"
    return text.replace(".", ",") if lang == "id" else text


def _sentence(row: pd.Series, grain: str, lang: str) -> str:
    units = _UNITS[grain, lang]
    values: dict[str, Any] = {
        "where": row["where"], "units": units, "Units": units[:1].upper() + units[1:],
        "customers": _number(row["customers"], lang), "cases": _number(row["cases"], lang),
        "loss": _number(abs(row["loss"]), lang),
    }
    for key in ("p1", "p0", "rate_in", "rate_out"):
        if key in row and pd.notna(row[key]):
            values[key] = _share(row[key], lang)
    kind = row["kind"]
    if kind == "drop-off":
        values.update(visits=_number(row["visits"], lang), p1=_share(row["rate"], lang),
                      p0=_share(row["base"], lang))
    elif kind == "loop":
        values["extra"] = _number(row["extra_steps"], lang)
    elif kind == "slow step":
        fold = row["median"] / row["typical"]
        values.update(median=humanize_seconds(row["median"]),
                      typical=humanize_seconds(row["typical"]),
                      fold=f"{fold:.0f}" if fold >= 10 else f"{fold:.1f}")
    elif kind == "incident":
        values.update(start=f"{row['start']:%Y-%m-%d}", end=f"{row['end']:%Y-%m-%d}",
                      touchpoint=row["touchpoint"], lost=_LOST[lang, row["loss"] >= 0])
    elif kind == "channel switch":
        values.update({k: row[k] for k in ("from_channel", "to_channel", "source", "target")})
    elif kind == "event" and row["entry"]:
        values["entry"] = row["entry"]
        kind = "event after"
    return _SENTENCES[kind, lang].format(**values)


# ---------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, repr=False)
class Insights:
    """The ranked barriers and opportunities of a log (see :func:`insights`).

    Attributes
    ----------
    table : DataFrame
        One row per finding, best first, with the columns of :data:`COLUMNS`:
        ``rank``; ``type`` (``barrier`` or ``opportunity``); ``kind`` (one of
        :data:`KINDS`); ``where`` (touchpoint, edge, loop, channel switch or
        time window); ``customers`` affected (distinct) and ``cases`` (units of
        the grain); ``effect`` with its 95% interval ``effect_low`` /
        ``effect_high`` and what it measures (``effect_measure``);
        ``relative_effect`` (0 to 1, the ranking scale); ``loss`` in ``unit``
        (conversions, hours or negative texts; negative for an opportunity:
        conversions gained); ``evidence`` (the counts); ``p_value``,
        ``q_value``; ``score``; ``sentence``; ``start`` / ``end`` (incidents).
        Renderers (CLI summary, HTML report) read this table.
    grain : str
        What a case is: ``session``, ``episode`` or ``customer``.
    lang : str
        Language of the sentences.
    summary : dict
        Cases, customers, conversion rate, tests run and findings kept.
    """

    table: pd.DataFrame
    grain: str
    lang: str
    summary: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """The findings (a copy of :attr:`table`)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the ``journeymine.insights`` envelope: grain, lang, summary, findings."""
        return envelope("journeymine.insights", FORMAT_VERSION, {
            "grain": self.grain, "lang": self.lang, "summary": dict(self.summary),
            "findings": records(self.table, list(COLUMNS))})

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        t = self.table
        top = f"; top: {t['kind'].iloc[0]} at {t['where'].iloc[0]}" if len(t) else ""
        barriers = int((t["type"] == "barrier").sum()) if len(t) else 0
        return (f"Insights({len(t)} findings per {self.grain}: {barriers} barriers, "
                f"{len(t) - barriers} opportunities{top})")

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in ("#", "type", "kind", "where", "customers",
                                                 "effect (95%)", "loss", "q", "sentence"))
        body = []
        for r in self.table.head(20).itertuples():
            cells = (r.rank, r.type, r.kind, r.where, f"{r.customers:,}",
                     f"{r.effect:+.3g} ({r.effect_low:+.3g}, {r.effect_high:+.3g})",
                     f"{r.loss:,.0f} {r.unit}", f"{r.q_value:.2g}", r.sentence)
            body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
                        + "</tr>")
        return (f"<div><p>{html.escape(repr(self))}</p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table></div>")


# ---------------------------------------------------------------------------- entry point
def insights(
    log: EventLog,
    texts=None,
    *,
    grain: str = "session",
    gap: str | pd.Timedelta | None = None,
    session: str | bool | None = None,
    episode_gap: str | pd.Timedelta | None = "30D",
    lang: str = "en",
    stages: StagesLike = None,
    conversion: str | Iterable[str] | None = None,
    min_cases: int = 30,
    alpha: float = 0.05,
    slow_factor: float = 3.0,
    funnel_share: float = 0.8,
    event_share: float = 0.2,
    incident_ratio: float = 1.5,
    max_loop_length: int = 6,
) -> Insights:
    """One ranked table of barriers and opportunities: what matters first.

    Drop-off points, loops, slow steps, touchpoints whose presence goes with
    lower or higher conversion, incident windows, channel switches after
    which conversion drops and, with ``texts``, touchpoints customers are
    negative about; each with customers affected, an effect with a 95%
    interval, the loss, the evidence, a q-value and a sentence. The methods
    and guards are described in :mod:`journeymine.discovery._insights`.

    Parameters
    ----------
    log : EventLog
        The events.
    texts : JourneyEmotions, DataFrame or path, optional
        The output of :func:`~journeymine.emotions`, or texts already tagged
        (``emotion`` and ``sentiment`` columns, see :func:`~journeymine.read_texts`).
    grain : {"session", "episode", "customer"}, default "session"
        The unit counted (see :func:`~journeymine.sessionize` and
        :func:`~journeymine.episodes`): sessions (visits), episodes (a
        customer's history cut after each conversion and at ``episode_gap``)
        or each customer's whole history.
    gap : str or Timedelta, optional
        Session grain: the inactivity that starts a new session; by default
        :func:`~journeymine.suggest_gap`'s (30 min without a clear valley).
    session : str or False, optional
        Session grain: the session column (detected by name by default).
    episode_gap : str or Timedelta or None, default "30D"
        Episode grain: the inactivity that starts a new episode.
    lang : {"en", "id"}, default "en"
        Language of the sentences.
    stages : StageMap, dict or path, optional
        Touchpoint to stage map (see :meth:`EventLog.stage_map`).
    conversion : str or list of str, optional
        Converting touchpoints or stages (see :func:`~journeymine.discovery.resolve_conversion`).
    min_cases : int, default 30
        Fewest cases on each side of a comparison (and per edge, touchpoint
        or loop) for it to be tested.
    alpha : float, default 0.05
        False discovery rate: findings with a larger q-value are dropped.
    slow_factor : float, default 3
        An edge is a slow-step candidate when its median wait is at least
        this many times the typical wait.
    funnel_share : float, default 0.8
        A touchpoint that precedes the conversion in at least this share of
        one purchase route's conversions (a route: the conversion touchpoint
        and the step before it) is a purchase-path step and is not tested
        as an event.
    event_share : float, default 0.2
        Touchpoints in more of the cases are navigation, not tested as events.
    incident_ratio : float, default 1.5
        Fewest-fold change of a touchpoint's share inside a window for an incident.
    max_loop_length : int, default 6
        Longest cycle (in steps) counted as a loop.

    Returns
    -------
    Insights

    Raises
    ------
    JourneymineError
        ``log`` is not an EventLog.
    InvalidParameterError
        A parameter outside its range or choices.

    Examples
    --------
    >>> import textwrap, pandas as pd, journeymine as jm
    >>> rows = []
    >>> for i in range(200):
    ...     helped = i % 5 == 0
    ...     path = ["home", "product", "help" if helped else "reviews", "cart"]
    ...     path += ["checkout"] if (i % 20 == 0 if helped else i % 4 != 1) else []
    ...     rows += [(f"c{i}", tp, pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=i * 60 + j))
    ...              for j, tp in enumerate(path)]
    >>> log = jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id", "touchpoint",
    ...                                                           "ts"]))
    >>> found = jm.insights(log, conversion="checkout", gap="30min")
    >>> row = found.table.query("kind == 'event' and where == 'help'").iloc[0]
    >>> row["type"], bool(row["effect_high"] < 0)
    ('barrier', True)
    >>> print(textwrap.fill(row["sentence"], 90))
    Sessions with help converted 25% against 75% for sessions of similar length that reached
    product without it.
    """
    if not isinstance(log, EventLog):
        raise JourneymineError(
            f"insights() needs an EventLog, got {type(log).__name__}.",
            expected="a journeymine.EventLog.",
            fix="Build one with jm.EventLog.from_pandas(df) or jm.read_csv(path).",
        )
    from journeymine.discovery._grains import check_grain

    grain = check_grain(grain)
    _check_choice("lang", lang, LANGS)
    if not isinstance(min_cases, int | np.integer) or isinstance(min_cases, bool) or min_cases < 1:
        raise InvalidParameterError(f"min_cases={min_cases!r} must be a positive integer.",
                                    expected="an int of at least 1 (30 by default).",
                                    fix="Pass e.g. min_cases=30.")
    defaults = {"alpha": 0.05, "funnel_share": 0.8, "event_share": 0.2}
    for name, value, low, high in (("alpha", alpha, 0, 1), ("funnel_share", funnel_share, 0, 1),
                                   ("event_share", event_share, 0, 1)):
        if not isinstance(value, int | float) or not low < value <= high:
            raise InvalidParameterError(f"{name}={value!r} is out of range.",
                                        expected=f"a number in ({low}, {high}].",
                                        fix=f"Pass e.g. {name}={defaults[name]}.")
    for name, value in (("slow_factor", slow_factor), ("incident_ratio", incident_ratio)):
        if not isinstance(value, int | float) or not value > 1:
            raise InvalidParameterError(f"{name}={value!r} must be a number above 1.",
                                        expected="a fold change such as 1.5 or 3.",
                                        fix=f"Pass e.g. {name}=3.")
    if not isinstance(max_loop_length, int) or max_loop_length < 1:
        raise InvalidParameterError(f"max_loop_length={max_loop_length!r} must be a positive "
                                    "integer.", expected="an int of at least 1.",
                                    fix="Pass e.g. max_loop_length=6.")
    stage_map = log.stage_map(stages)
    conv = resolve_conversion(log, stage_map, conversion)
    rank = {tp: stage_map.order.index(s) for tp, s in stage_map.mapping.items()}
    rules = {"session": {"gap": gap, "session": session}, "episode": {"episode_gap": episode_gap},
             "customer": {}}[grain]
    cs = _build_cases(log, grain, conv, rank, min_cases, **rules)
    presence = _pre_presence(cs)
    path = _path_steps(cs, presence, funnel_share, min_cases)
    path_reached = np.zeros(cs.n_cases, dtype=np.int64)
    path_reached[presence[0][path[presence[1]]]] = 1
    parts = [
        _dropoffs(cs, presence, min_cases),
        _loops(cs, presence, path_reached, min_cases, max_loop_length),
        _slow_steps(cs, grain, min_cases, slow_factor),
        _events(cs, presence, path, min_cases, event_share),
        _incidents(cs, presence, min_cases, incident_ratio),
        _switches(cs, presence, min_cases),
    ]
    tested = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else pd.DataFrame(columns=["p_value"])
    tested["q_value"] = benjamini_hochberg(tested["p_value"].to_numpy(dtype=float))
    n_tests = len(tested)
    if texts is not None:
        emo = _emotion_rows(log, texts)
        if not emo.empty:
            tested = pd.concat([tested, emo], ignore_index=True)
    table = _finish(tested, alpha, grain, lang)
    summary = {
        "cases": cs.n_cases, "customers": int(cs.customer.max()) + 1 if cs.n_cases else 0,
        "conversion_rate": float(cs.converted.mean()) if cs.n_cases else float("nan"),
        "conversion": list(conv), "tests": n_tests, "findings": len(table),
        "min_cases": min_cases, "alpha": alpha,
    }
    return Insights(table, grain, lang, summary)


def _finish(df: pd.DataFrame, alpha: float, grain: str, lang: str) -> pd.DataFrame:
    """Keep the findings with ``q ≤ alpha``, score and rank them, add the sentences."""
    if df.empty or "kind" not in df:
        return pd.DataFrame(columns=list(COLUMNS))
    df = df[(df["q_value"] <= alpha) & (df["relative_effect"] > 0)].copy()
    conversion_based = df["unit"] == "conversions"
    df["type"] = np.where(conversion_based & (df["effect"] > 0) & (df["kind"] != "drop-off"),
                          "opportunity", "barrier")
    size = np.sqrt(df["effect"].abs().clip(upper=1) * df["relative_effect"].clip(0, 1))
    df["score"] = df["customers"] * size * (1 - df["q_value"])
    df = df.sort_values(["score", "kind", "where"], ascending=[False, True, True],
                        kind="stable").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    df["sentence"] = [_sentence(row, grain, lang) for _, row in df.iterrows()]
    for col in ("start", "end"):
        if col not in df:
            df[col] = pd.NaT
    df["customers"] = df["customers"].astype(int)
    df["cases"] = df["cases"].astype(int)
    return df[list(COLUMNS)]


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidParameterError(f"{name}={value!r} is not one of {list(choices)}.",
                                    expected=f"one of {', '.join(map(repr, choices))}.",
                                    fix=f"Pass e.g. {name}={choices[0]!r}.")
