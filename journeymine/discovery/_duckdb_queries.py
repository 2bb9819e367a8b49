"""The queries of :func:`~journeymine.discover` as DuckDB SQL, without Ibis.

On DuckDB, :class:`journeymine.discovery._engine.DuckDBJourneys` computes the
steps and journeys by position (:mod:`journeymine.discovery._positional`) and
runs these statements over them. Writing them by hand saves importing and
compiling Ibis (0.8 s on the first ``discover`` of a process) and lets them
read columns only the positional tables have, each replacing a join or a
``DISTINCT`` of the portable definitions in :mod:`journeymine.discovery._queries`
(which other backends, Spark, run):

* ``journey``: the journey's number, so distinct journeys are counted over
  integers, not customer ids;
* ``first_open_switch``: the journey's first switch from one channel to
  another made before its first conversion (channel gaps count these
  instead of joining every switch with the journey's first conversion);
* in the journeys table, ``variant`` is an integer id per distinct path
  (:func:`~journeymine.discovery._positional.sequence_ids`) and
  ``converted_at`` the time of the first conversion.

Touchpoints and channels are integer codes; the engine names them. Every
statement gives the columns and values of its Ibis twin (tested on the same
logs in ``tests/discovery/test_duckdb_queries.py``). Placeholders:
``{steps}``, ``{journeys}``, ``{returns}`` (the gaps between a customer's
journeys) and ``{ended}`` (a filter on the journeys that ended inside the
data window).
"""

from __future__ import annotations

__all__ = ["QUERIES"]

#: Two quantiles of ``x`` from one ordered pass, as columns ``median_seconds`` and ``p90_seconds``.
_QUANTILES = "quantile_cont({x}, [0.5, 0.9]) AS jm_q"
_SPLIT = "jm_q[1] AS median_seconds, jm_q[2] AS p90_seconds"
_DURATION = "epoch(last_timestamp) - epoch(first_timestamp)"

EDGES = f"""
SELECT source, target, count, customers, mean_seconds, {_SPLIT} FROM (
    SELECT activity AS source, next_activity AS target, count(*) AS count,
           count(*) FILTER (WHERE first_edge) AS customers, avg(seconds_to_next) AS mean_seconds,
           {_QUANTILES.format(x="seconds_to_next")}
    FROM {{steps}} WHERE next_activity IS NOT NULL GROUP BY ALL)
"""

NODES = """
SELECT activity AS touchpoint, count(*) AS count,
       count(*) FILTER (WHERE first_visit) AS customers,
       count(*) FILTER (WHERE position = 0) AS starts,
       count(*) FILTER (WHERE next_activity IS NULL) AS ends,
       count(*) FILTER (WHERE second_visit) AS returning
FROM {steps} GROUP BY ALL
"""

PING_PONGS = """
SELECT activity AS touchpoint, next_activity AS partner, count(*) AS count,
       count(DISTINCT journey) AS customers
FROM {steps} WHERE after_next_activity = activity AND next_activity <> activity GROUP BY ALL
"""

SWITCHES = """
SELECT channel AS from_channel, next_channel AS to_channel, activity AS source,
       next_activity AS target, count(*) AS count,
       count(*) FILTER (WHERE first_switch) AS customers,
       count(*) FILTER (WHERE first_switch AND customer_converted) AS converted
FROM {steps} WHERE next_channel IS NOT NULL AND next_channel <> channel GROUP BY ALL
"""

# Every move between two events with channels, per channel pair: the pairs
# (c, c) are the steps that stay on c, whose median is the baseline wait.
# Not materialised: DuckDB then pushes each side's filter into its own
# aggregation, which is half the CPU of materialising every pair once
# (1M events: 0.15 -> 0.075 s; the same rows).
GAPS = """
WITH moves AS NOT MATERIALIZED (
    SELECT channel AS from_channel, next_channel AS to_channel, count(*) AS switches,
           quantile_cont(seconds_to_next, 0.5) AS median_seconds,
           count(*) FILTER (WHERE first_open_switch) AS journeys,
           count(*) FILTER (WHERE first_open_switch AND customer_converted) AS converted_after,
           count(*) FILTER (WHERE first_open_switch AND after_next_activity IS NULL
                    AND NOT customer_converted) AS ended_at_switch
    FROM {steps} WHERE channel IS NOT NULL AND next_channel IS NOT NULL GROUP BY ALL)
SELECT s.from_channel, s.to_channel, s.switches, s.median_seconds, s.journeys,
       s.converted_after, s.ended_at_switch, w.median_seconds AS within_median_seconds
FROM moves AS s LEFT JOIN moves AS w
    ON w.from_channel = s.from_channel AND w.to_channel = s.from_channel
WHERE s.from_channel <> s.to_channel
"""

RETURNS = f"""
SELECT touchpoint, count, customers, {_SPLIT} FROM (
    SELECT touchpoint, count(*) AS count, count(DISTINCT customer_id) AS customers,
           {_QUANTILES.format(x="seconds")}
    FROM {{returns}} GROUP BY ALL)
"""

# ``jm_first``: the first journey of each variant, whose path names it.
VARIANTS = f"""
SELECT variant, count(*) AS customers, min(length) AS length,
       count(*) FILTER (WHERE converted) AS converted,
       quantile_cont({_DURATION}, 0.5) AS median_duration_seconds, min(journey) AS jm_first
FROM {{journeys}} GROUP BY ALL
"""

TOTALS = f"""
SELECT count(*) FILTER (WHERE converted) AS converted,
       quantile_cont({_DURATION}, 0.5) AS median_journey_seconds,
       count(*) FILTER (WHERE length = 1) AS single_event_customers
FROM {{journeys}}
"""

TO_CONVERT = """
SELECT quantile_cont(s, 0.5) AS median_seconds_to_convert,
       quantile_cont(s, 0.9) AS p90_seconds_to_convert
FROM (SELECT epoch(converted_at) - epoch(first_timestamp) AS s
      FROM {journeys} WHERE converted_at IS NOT NULL)
"""

FUNNEL = """
WITH visited AS (
    SELECT stage_rank, count(*) AS visited,
           quantile_cont(seconds_to_next_stage, 0.5) AS median_seconds_to_next
    FROM {steps} WHERE first_in_stage GROUP BY ALL),
furthest AS (
    SELECT furthest_stage AS stage_rank, count(*) AS furthest
    FROM {journeys} WHERE furthest_stage IS NOT NULL GROUP BY ALL)
SELECT v.stage_rank, v.visited, f.furthest, v.median_seconds_to_next
FROM visited AS v LEFT JOIN furthest AS f ON v.stage_rank = f.stage_rank
"""

DROPOFFS = """
SELECT last_activity AS touchpoint, count(*) AS customers,
       quantile_cont(length, 0.5) AS median_length
FROM {journeys} WHERE NOT converted {ended} GROUP BY ALL
"""

#: Statement per query name (the names :class:`~journeymine.discovery._engine.DuckDBJourneys`
#: and the Ibis engine share).
QUERIES = {
    "edges": EDGES, "nodes": NODES, "ping_pongs": PING_PONGS, "switches": SWITCHES,
    "gaps": GAPS, "returns": RETURNS, "variants": VARIANTS, "totals": TOTALS,
    "to_convert": TO_CONVERT, "funnel": FUNNEL, "dropoffs": DROPOFFS,
}
