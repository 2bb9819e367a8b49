"""journeymine: customer journey maps and personas from data.

Read an event log, discover the journey customers actually take, and report
it::

    import journeymine as jm
    log = jm.read_csv("events.csv")
    pm = jm.discover(log)
"""

from journeymine import datasets
from journeymine._discovery import discover, resolve_conversion
from journeymine._eventlog import EventLog
from journeymine._io import read_csv, read_parquet, read_sql, read_xes
from journeymine._processmap import ProcessMap
from journeymine._schema import Schema
from journeymine._stages import STAGES, StageMap, normalize_stage
from journeymine.exceptions import JourneymineError

__version__ = "0.1.0"

__all__ = [
    "STAGES",
    "EventLog",
    "JourneymineError",
    "ProcessMap",
    "Schema",
    "StageMap",
    "__version__",
    "datasets",
    "discover",
    "normalize_stage",
    "read_csv",
    "read_parquet",
    "read_sql",
    "read_xes",
    "resolve_conversion",
]
