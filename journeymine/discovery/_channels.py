"""Channel gaps: what happens to journeys when they move from one channel to another.

:attr:`ProcessMap.channel_switches` lists each switch by the touchpoints it
happens at; :func:`channel_gaps` looks at the channel pair itself (app → web,
social → marketplace) and asks what the switch costs:

* **conversion after the switch**: of the journeys that make the switch
  before their first conversion (still open), the share that converts later
  (with a Wilson interval); switches after a conversion (a buyer asking
  support on chat) are not the journey breaking, so they are not counted here;
* **drop-off at the switch**: of those journeys, the share that ends at the
  first event on the new channel;
* **time lost**: the median wait of a switch against the median wait
  between two events on the channel it leaves (both over all such steps);
* **lost conversions**: ``journeys × (overall conversion − conversion after
  the switch)``, the conversions the switch misses against the journey's
  overall rate, which ranks the worst gaps first.

Waits follow the grain: at customer grain a switch often comes with a new
visit days later; at session grain only moves inside a visit count.
The counts are one portable Ibis expression (DuckDB or Spark), the rates a
few vectorised pandas columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from journeymine._util._stats import wilson_interval
from journeymine.eventlog._schema import CHANNEL, CUSTOMER

if TYPE_CHECKING:  # ibis is imported where the queries run, not with journeymine
    import ibis.expr.types as ir

__all__ = ["GAP_COLUMNS", "channel_gaps", "gap_table"]

#: Columns of :attr:`ProcessMap.channel_gaps`.
GAP_COLUMNS = ("from_channel", "to_channel", "switches", "journeys", "converted_after",
               "conversion_after", "conversion_low", "conversion_high", "ended_at_switch",
               "ended_share", "median_seconds", "within_median_seconds", "extra_seconds",
               "lost_conversions")


def channel_gaps(st: ir.Table) -> ir.Table:
    """Per channel pair (from, to): switches, open journeys making them, what became of those.

    ``st`` is the steps table (:func:`journeymine.discovery._queries.steps`).
    Columns: ``from_channel``, ``to_channel``, ``switches`` (events),
    ``median_seconds`` (of a switch), ``journeys`` (distinct journeys that
    made the switch before converting), ``converted_after``,
    ``ended_at_switch`` (journeys whose last event is the switch's target,
    unconverted) and ``within_median_seconds`` (of steps that stay on
    ``from_channel``; null when none do).
    """
    moves = st.filter(st[CHANNEL].notnull() & st.next_channel.notnull())
    within = moves.filter(moves.next_channel == moves[CHANNEL])
    within = within.group_by(jm_from=within[CHANNEL]).aggregate(
        within_median_seconds=within.seconds_to_next.median())
    sw = moves.filter(moves.next_channel != moves[CHANNEL])
    times = sw.group_by(from_channel=sw[CHANNEL], to_channel=sw.next_channel).aggregate(
        switches=sw.count(), median_seconds=sw.seconds_to_next.median())
    conv = st.filter(st.is_conversion)
    first_conv = conv.group_by(jm_customer=conv[CUSTOMER]).aggregate(jm_first=conv.position.min())
    joined = sw.left_join(first_conv, sw[CUSTOMER] == first_conv.jm_customer)
    open_ = joined.filter(joined.jm_first.isnull() | (joined.position < joined.jm_first))
    per = open_.group_by(jm_c=open_[CUSTOMER], jm_from=open_[CHANNEL],
                         jm_to=open_.next_channel).aggregate(
        jm_converted=open_.jm_first.notnull().max(),
        jm_ended=open_.after_next_activity.isnull().argmin(open_.position),
    )
    people = per.group_by(jm_from=per.jm_from, jm_to=per.jm_to).aggregate(
        journeys=per.count(), converted_after=per.jm_converted.cast("int64").sum(),
        ended_at_switch=(per.jm_ended & ~per.jm_converted).cast("int64").sum())
    out = times.left_join(people, [times.from_channel == people.jm_from,
                                   times.to_channel == people.jm_to])
    out = out.left_join(within, out.from_channel == within.jm_from)
    return out.select("from_channel", "to_channel", "switches", "median_seconds",
                      journeys=out.journeys.fill_null(0),
                      converted_after=out.converted_after.fill_null(0),
                      ended_at_switch=out.ended_at_switch.fill_null(0),
                      within_median_seconds=out.within_median_seconds)


def gap_table(df: pd.DataFrame, conversion_rate: float) -> pd.DataFrame:
    """The rates of :func:`channel_gaps`'s counts, the worst gaps first.

    ``conversion_rate`` is the journeys' overall conversion, the baseline
    of ``lost_conversions``.

    Examples
    --------
    >>> df = pd.DataFrame({"from_channel": ["app", "social"], "to_channel": ["web", "web"],
    ...                    "switches": [12, 30], "median_seconds": [600.0, 60.0],
    ...                    "journeys": [10, 25], "converted_after": [1, 10],
    ...                    "ended_at_switch": [6, 5], "within_median_seconds": [60.0, None]})
    >>> gap_table(df, 0.3)[["from_channel", "conversion_after", "lost_conversions"]]
      from_channel  conversion_after  lost_conversions
    0          app               0.1               2.0
    1       social               0.4              -2.5
    """
    out = df.copy()
    journeys = out["journeys"].where(out["journeys"] > 0)
    out["conversion_after"] = out["converted_after"] / journeys
    out["conversion_low"], out["conversion_high"] = wilson_interval(
        out["converted_after"], out["journeys"])
    out["ended_share"] = out["ended_at_switch"] / journeys
    out["extra_seconds"] = out["median_seconds"] - out["within_median_seconds"]
    out["lost_conversions"] = out["journeys"] * (conversion_rate
                                                 - out["conversion_after"].fillna(conversion_rate))
    out = out.sort_values(["lost_conversions", "journeys", "from_channel", "to_channel"],
                          ascending=[False, False, True, True], kind="mergesort")
    return out.reset_index(drop=True)[list(GAP_COLUMNS)]
