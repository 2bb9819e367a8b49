"""Journey aggregations as Ibis expressions.

Every function takes Ibis tables and returns an Ibis expression, so the same
definition runs on DuckDB (default) and on the PySpark backend. No pandas here.
Ordered aggregations use ``struct(...).collect().sort()`` because
``collect(order_by=...)`` fails on PySpark.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import ibis
import ibis.expr.types as ir

from journeymine._util._json import VARIANT_SEPARATOR
from journeymine.eventlog._schema import (
    ACTIVITY,
    CHANNEL,
    CUSTOMER,
    EVENT_INDEX,
    REVENUE,
    TIMESTAMP,
)


def steps(events: ir.Table, stage_rank: Mapping[str, int], conversion: Collection[str]) -> ir.Table:
    """Each event with the customer's next and second-next event, stage rank and flags.

    Columns added: ``next_activity``, ``next_timestamp``, ``after_next_activity``,
    ``position`` (0-based within the customer), ``stage_rank`` (null when
    unmapped), ``is_conversion``, ``customer_converted`` (the customer converts
    at some point), ``next_channel`` when the log has channels, the
    first-occurrence flags ``first_visit`` and ``second_visit`` (the customer's
    first/second event at this touchpoint), ``first_edge`` (first time the
    customer takes this transition), ``first_in_stage`` (the customer's first
    event in this stage), ``first_switch`` with channels (first time the
    customer makes this channel switch on this transition), and
    ``seconds_to_next``, and on ``first_in_stage`` rows
    ``seconds_to_next_stage`` (until the customer first reached the next
    stage; null when they never did or had reached it before). The flags turn "distinct customers"
    into sums.
    """
    w = ibis.window(group_by=events[CUSTOMER], order_by=events[EVENT_INDEX])
    act, ts = events[ACTIVITY], events[TIMESTAMP]
    is_conversion = act.isin(list(conversion)) if conversion else ibis.literal(False)
    by_customer = ibis.window(group_by=events[CUSTOMER])
    cols = {
        "next_activity": act.lead().over(w),
        "next_timestamp": ts.lead().over(w),
        "after_next_activity": act.lead(2).over(w),
        "position": ibis.row_number().over(w),
        "stage_rank": act.substitute(dict(stage_rank), else_=ibis.null("int64")),
        "is_conversion": is_conversion,
        "customer_converted": is_conversion.max().over(by_customer) if conversion
        else is_conversion,
    }
    if CHANNEL in events.columns:
        cols["next_channel"] = events[CHANNEL].lead().over(w)
    out = events.mutate(**cols)

    def occurrence(*keys: ir.Column) -> ir.IntegerColumn:
        return ibis.row_number().over(group_by=[out[CUSTOMER], *keys], order_by=out[EVENT_INDEX])

    visit = occurrence(out[ACTIVITY])
    edge_visit = occurrence(out[ACTIVITY], out.next_activity)
    flags = {}
    if CHANNEL in events.columns:
        switch = (out.next_channel.notnull() & (out.next_channel != out[CHANNEL])).fill_null(False)
        keys = (out[CHANNEL], out.next_channel, out[ACTIVITY], out.next_activity)
        flags["first_switch"] = switch & (occurrence(*keys) == 0)
    out = out.mutate(
        first_visit=visit == 0,
        second_visit=visit == 1,
        first_edge=out.next_activity.notnull() & (edge_visit == 0),
        first_in_stage=out.stage_rank.notnull() & (occurrence(out.stage_rank) == 0),
        **flags,
        seconds_to_next=out.next_timestamp.epoch_seconds() - out[TIMESTAMP].epoch_seconds(),
    )
    # Each first arrival at a stage, seen from the stage before it.
    arrival = out.filter(out.first_in_stage)
    arrival = arrival.select(
        jm_customer=arrival[CUSTOMER], jm_rank=arrival.stage_rank - 1,
        jm_arrival=arrival[TIMESTAMP].epoch_seconds(),
    )
    joined = out.left_join(arrival, [out[CUSTOMER] == arrival.jm_customer,
                                     out.stage_rank == arrival.jm_rank, out.first_in_stage])
    to_next = arrival.jm_arrival - out[TIMESTAMP].epoch_seconds()
    return joined.select(
        *[out[c] for c in out.columns],
        seconds_to_next_stage=ibis.ifelse(to_next >= 0, to_next, ibis.null().cast(to_next.type())),
    )


def paid_counts(events: ir.Table) -> ir.Table:
    """Per touchpoint (``a``): events (``paid_count``) and those with revenue > 0 (``paid_sum``)."""
    paid = (events[REVENUE].fill_null(0) > 0).cast("int64")
    return events.group_by(a=events[ACTIVITY]).aggregate(paid_sum=paid.sum(),
                                                         paid_count=events.count())


def edges(st: ir.Table) -> ir.Table:
    """The directly-follows graph: one row per (source, target) pair.

    Median and p90 come from one ordered pass (a two-quantile aggregate).
    """
    tr = st.filter(st.next_activity.notnull())
    seconds = tr.seconds_to_next
    out = tr.group_by(source=tr[ACTIVITY], target=tr.next_activity).aggregate(
        count=tr.count(), customers=tr.first_edge.sum(), mean_seconds=seconds.mean(),
        quantiles=seconds.quantile([0.5, 0.9]),
    )
    return out.mutate(median_seconds=out.quantiles[0], p90_seconds=out.quantiles[1]).drop(
        "quantiles"
    )


def nodes(st: ir.Table) -> ir.Table:
    """Per touchpoint: events, distinct customers, start and end counts, returning customers.

    ``returning`` counts the customers with two or more events at the touchpoint.
    """
    return st.group_by(touchpoint=st[ACTIVITY]).aggregate(
        count=st.count(),
        customers=st.first_visit.sum(),
        starts=(st.position == 0).sum(),
        ends=st.next_activity.isnull().sum(),
        returning=st.second_visit.sum(),
    )


def journeys(st: ir.Table) -> ir.Table:
    """One row per customer: path, length, duration, conversion, furthest stage, last step."""
    ordered = ibis.struct({"i": st[EVENT_INDEX], "a": st[ACTIVITY]}).collect().sort()
    return st.group_by(st[CUSTOMER]).aggregate(
        variant=ordered.map(lambda s: s.a).join(VARIANT_SEPARATOR),
        length=st.count(),
        first_timestamp=st[TIMESTAMP].min(),
        last_timestamp=st[TIMESTAMP].max(),
        converted=st.is_conversion.max(),
        furthest_stage=st.stage_rank.max(),
        last_activity=st[ACTIVITY].argmax(st[EVENT_INDEX]),
    )


def journey_totals(jr: ir.Table) -> ir.Table:
    """One row: converted journeys, median journey duration and single-event journeys."""
    seconds = jr.last_timestamp.epoch_seconds() - jr.first_timestamp.epoch_seconds()
    return jr.aggregate(
        converted=jr.converted.cast("int64").sum(),
        median_journey_seconds=seconds.median(),
        single_event_customers=(jr.length == 1).sum(),
    )


def time_to_convert(st: ir.Table) -> ir.Table:
    """Median and p90 seconds from a journey's first event to its first conversion.

    Over the journeys that converted (one row; nulls when none did).
    """
    per = st.group_by(st[CUSTOMER]).aggregate(
        start=st[TIMESTAMP].min(), converted_at=st[TIMESTAMP].min(where=st.is_conversion))
    done = per.filter(per.converted_at.notnull())
    seconds = done.converted_at.epoch_seconds() - done.start.epoch_seconds()
    return done.aggregate(median_seconds_to_convert=seconds.median(),
                          p90_seconds_to_convert=seconds.quantile(0.9))


def variants(jr: ir.Table) -> ir.Table:
    """Distinct paths with their customers, conversion and median duration."""
    seconds = jr.last_timestamp.epoch_seconds() - jr.first_timestamp.epoch_seconds()
    return jr.group_by("variant").aggregate(
        customers=jr.count(),
        length=jr.length.min(),
        converted=jr.converted.cast("int64").sum(),
        median_duration_seconds=seconds.median(),
    )


def stage_reach(st: ir.Table) -> ir.Table:
    """First time each customer reached each stage (one row per customer and stage).

    With the seconds until the customer first reached the next stage (null
    when they never did).
    """
    first = st.filter(st.first_in_stage)
    return first.select(first[CUSTOMER], first.stage_rank, first_timestamp=first[TIMESTAMP],
                        seconds_to_next_stage=first.seconds_to_next_stage)


def funnel(jr: ir.Table, reach: ir.Table) -> ir.Table:
    """Per stage anyone visited: customers who visited it, whose furthest stage it is, time to next.

    Stages nobody visited have no row (nobody's furthest stage either).
    """
    visited = reach.group_by(stage_rank=reach.stage_rank).aggregate(
        visited=reach.count(), median_seconds_to_next=reach.seconds_to_next_stage.median()
    )
    staged = jr.filter(jr.furthest_stage.notnull())
    by_furthest = staged.group_by(stage_rank=staged.furthest_stage).aggregate(
        furthest=staged.count()
    )
    out = visited.left_join(by_furthest, "stage_rank")
    return out.select(visited.stage_rank, "visited", "furthest", "median_seconds_to_next")


def dropoffs(jr: ir.Table) -> ir.Table:
    """Where journeys that never converted end: customers per last touchpoint."""
    lost = jr.filter(~jr.converted)
    return lost.group_by(touchpoint=lost.last_activity).aggregate(
        customers=lost.count(), median_length=lost.length.median()
    )


def ping_pongs(st: ir.Table) -> ir.Table:
    """Back-and-forth between two touchpoints (A -> B -> A, with A != B)."""
    pp = st.filter(
        (st.after_next_activity == st[ACTIVITY]) & (st.next_activity != st[ACTIVITY])
    )
    return pp.group_by(touchpoint=pp[ACTIVITY], partner=pp.next_activity).aggregate(
        count=pp.count(), customers=pp[CUSTOMER].nunique()
    )


def channel_switches(st: ir.Table) -> ir.Table:
    """Consecutive events on different channels, with how many of those customers converted."""
    sw = st.filter(st.next_channel.notnull() & (st.next_channel != st[CHANNEL]))
    return sw.group_by(
        from_channel=sw[CHANNEL], to_channel=sw.next_channel,
        source=sw[ACTIVITY], target=sw.next_activity,
    ).aggregate(
        count=sw.count(),
        customers=sw.first_switch.sum(),
        converted=(sw.first_switch & sw.customer_converted).sum(),
    )
