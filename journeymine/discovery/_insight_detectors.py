"""The detectors of :func:`~journeymine.insights`, one per kind of finding.

Drop-offs, loops, events with lift, the purchase-path steps that are not
tested, channel switches, slow steps, incidents and negative emotions: each
takes the cases (:mod:`~journeymine.discovery._insight_cases`) and returns one
row per tested candidate with its effect, interval, loss, evidence and p-value;
:func:`~journeymine.insights` corrects, ranks and words them. The methods are
described in :mod:`journeymine.discovery._insights`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from journeymine._util._arrays import distinct_sorted, regroup, segment_median_without
from journeymine._util._stats import (
    binom_sf,
    binomial_scan,
    mantel_haenszel,
    median_rank_bounds,
    wilson_interval,
)
from journeymine.discovery._insight_cases import (
    _Cases,
    _distinct_customers,
    _first_rows,
    _per_stratum,
    _unique_pairs,
)
from journeymine.eventlog._eventlog import EventLog
from journeymine.reporting._format import humanize_seconds


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
    p = binom_sf(exits - 1, visits, base)
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


def _reference_waits(src: np.ndarray, tgt: np.ndarray, wait: np.ndarray, by_wait: np.ndarray,
                     own: np.ndarray, own_lo: np.ndarray, own_hi: np.ndarray, sources: np.ndarray,
                     targets: np.ndarray, min_waits: int,
                     typical: float) -> tuple[np.ndarray, np.ndarray]:
    """Per edge ``sources[k] → targets[k]``: the wait it is compared with, and which one.

    The largest of the typical wait and the median waits of the other steps
    out of the source and of the other steps into the target, each side when
    it has at least ``min_waits`` waits. ``which`` is ``"after"`` (out of the
    source), ``"into"`` (into the target) or ``"all"`` (the typical wait).
    ``own[own_lo[k]:own_hi[k]]`` are edge ``k``'s own waits, ascending: the
    other steps of a side are that side's steps without them. ``by_wait`` is
    the stable ``argsort`` of ``wait``.
    """
    reference = np.full(len(sources), typical)
    which = np.full(len(sources), "all", dtype=object)
    for group, name, mine in ((src, "after", sources), (tgt, "into", targets)):
        order = regroup(group, by_wait)
        group_s = group[order]
        lo, hi = np.searchsorted(group_s, mine), np.searchsorted(group_s, mine, side="right")
        median, n = segment_median_without(wait[order], lo, hi, own, own_lo, own_hi)
        higher = (n >= min_waits) & (median > reference)
        reference[higher], which[higher] = median[higher], name
    return reference, which


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
    by_wait = np.argsort(wait, kind="stable")
    order = regroup(edge, by_wait)
    edge_sorted, wait_sorted = edge[order], wait[order]
    keys, first, count = np.unique(edge_sorted, return_index=True, return_counts=True)
    median = np.where(count % 2, wait_sorted[first + count // 2],
                      (wait_sorted[first + (count - 1) // 2] + wait_sorted[first + count // 2]) / 2)
    item = np.searchsorted(keys, edge)
    pcase, pitem = _unique_pairs(cs.case[i], item, len(keys))
    cases = np.bincount(pitem, minlength=len(keys))
    # Candidates are slow against the typical wait; the reference is at least that.
    tested = np.flatnonzero((cases >= min_cases) & (median >= slow_factor * typical))
    reference, which = _reference_waits(src, tgt, wait, by_wait, wait_sorted, first[tested],
                                        first[tested] + count[tested], keys[tested] // T,
                                        keys[tested] % T, min_cases, typical)
    slow = median[tested] >= slow_factor * reference
    tested, reference, which = tested[slow], reference[slow], which[slow]
    customers = _distinct_customers(cs, pcase, pitem, len(keys))[tested]
    keys, first, count, median, cases = (v[tested] for v in (keys, first, count, median, cases))
    lo, hi = median_rank_bounds(count)
    m_low, m_high = wait_sorted[first + lo], wait_sorted[first + hi]
    above = np.array([n - np.searchsorted(wait_sorted[f:f + n], r, side="right")
                      for f, n, r in zip(first, count, reference, strict=True)], dtype=np.int64)
    p = binom_sf(above - 1, count, 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = 1 - reference / median
        low = 1 - reference / np.maximum(m_low, 1e-9)
        high = 1 - reference / np.maximum(m_high, 1e-9)
    names = cs.names.astype(str)
    s, t = names[keys // T], names[keys % T]
    inside = "within sessions" if grain == "session" else f"within a {grain}'s journey"
    compared = [{"after": f"other steps after {a}", "into": f"other steps into {b}",
                 "all": "all steps"}[w] for a, b, w in zip(s, t, which, strict=True)]
    evidence = [f"{int(n):,} waits {inside}: median {humanize_seconds(m)} "
                f"(95% {humanize_seconds(a)}–{humanize_seconds(b)}) vs {humanize_seconds(r)} "
                f"for {c}; {int(k):,} above it"
                for n, m, a, b, r, c, k in zip(count, median, m_low, m_high, reference, compared,
                                               above, strict=True)]
    return _rows("slow step", where=[f"{a} → {b}" for a, b in zip(s, t, strict=True)],
                 customers=customers, cases=cases, effect=effect, effect_low=low,
                 effect_high=high, effect_measure="excess share of the wait",
                 relative_effect=effect, loss=customers * (median - reference) / 3600.0,
                 unit="hours", p_value=p, evidence=evidence, median=median, typical=reference,
                 compared=which, source=s, target=t)


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
        len(distinct_sorted(cs.customer[by_day[day_starts[f]:day_starts[e]]]))
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
