"""journeymine: customer journey maps and personas from data.

Read an event log, discover the journey customers actually take, and report
it::

    import journeymine as jm
    log = jm.read_csv("events.csv")
    pm = jm.discover(log)
"""

from journeymine import datasets
from journeymine._util._config import config_context, get_config, set_config
from journeymine.discovery import ProcessMap, discover
from journeymine.discovery._grains import GapSuggestion, Journeys, episodes, sessionize, suggest_gap
from journeymine.discovery._insights import Insights, insights
from journeymine.discovery._longtail import collapse_repeats, group_touchpoints, suggest_groups
from journeymine.discovery._patterns import Paths, paths_from, paths_to, patterns
from journeymine.eventlog import (
    STAGES,
    EventLog,
    Schema,
    StageMap,
    read_answers,
    read_csv,
    read_parquet,
    read_spark,
    read_sql,
    read_texts,
    read_xes,
)
from journeymine.exceptions import JourneymineError
from journeymine.measurement import (
    Attribution,
    Conformance,
    JourneyDiff,
    ProcessModel,
    Satisfaction,
    attribute,
    conformance,
    diff,
    process_model,
    satisfaction,
)

__version__ = "0.1.0"

# Imported on first use (PEP 562) so `import journeymine` stays fast: personas pull in
# scikit-learn, emotions may pull in torch/transformers.
_LAZY = {
    "JourneyFeaturizer": "journeymine.personas",
    "PersonaModel": "journeymine.personas",
    "Persona": "journeymine.personas",
    "compare": "journeymine.personas",
    "Comparison": "journeymine.personas",
    "emotions": "journeymine.sentiment",
    "JourneyEmotions": "journeymine.sentiment",
    "EmotionTagger": "journeymine.sentiment",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'journeymine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

__all__ = [
    "STAGES",
    "Comparison",
    "EmotionTagger",
    "EventLog",
    "Insights",
    "JourneyEmotions",
    "JourneyFeaturizer",
    "JourneymineError",
    "Persona",
    "PersonaModel",
    "ProcessMap",
    "Schema",
    "StageMap",
    "__version__",
    "compare",
    "datasets",
    "discover",
    "emotions",
    "insights",
    "read_csv",
    "read_parquet",
    "read_spark",
    "read_sql",
    "read_texts",
    "read_xes",
]
__all__ += ["GapSuggestion", "Journeys", "episodes", "sessionize", "suggest_gap"]
__all__ += ["Attribution", "attribute"]
__all__ += ["JourneyDiff", "diff"]
__all__ += ["Satisfaction", "read_answers", "satisfaction"]
__all__ += ["Conformance", "ProcessModel", "conformance", "process_model"]
__all__ += ["config_context", "get_config", "set_config"]
__all__ += ["Paths", "collapse_repeats", "group_touchpoints", "paths_from", "paths_to", "patterns",
            "suggest_groups"]
