"""Process mining on an :class:`~journeymine.EventLog`: the discovered journey.

:func:`discover` computes the directly-follows graph with counts and times,
variants, the stage funnel, drop-offs, loops, bottlenecks and channel switches,
and returns a :class:`ProcessMap`. The aggregations are written as Ibis
expressions (``_queries``) that run on any Ibis backend (Spark). On DuckDB,
the default, ``_positional`` computes the same step and journey rows by
position on the sorted table and ``_duckdb_queries`` holds the same
aggregations as SQL, so discovery never imports or compiles Ibis; both are
guarded by tests against the Ibis definitions (``test_positional.py``,
``test_duckdb_queries.py``, and Spark against DuckDB in ``test_spark.py``).
``_engine`` picks the path and runs the queries.
"""

from journeymine.discovery._discover import discover, resolve_conversion
from journeymine.discovery._grains import GapSuggestion, Journeys, episodes, sessionize, suggest_gap
from journeymine.discovery._insights import Insights, insights
from journeymine.discovery._longtail import collapse_repeats, group_touchpoints, suggest_groups
from journeymine.discovery._patterns import Paths, paths_from, paths_to, patterns
from journeymine.discovery._processmap import ProcessMap

__all__ = ["Insights", "ProcessMap", "discover", "insights", "resolve_conversion"]
__all__ += ["GapSuggestion", "Journeys", "episodes", "sessionize", "suggest_gap"]
__all__ += ["Paths", "collapse_repeats", "group_touchpoints", "paths_from", "paths_to", "patterns",
            "suggest_groups"]
