"""journeymine: customer journey maps and personas from data.

Read an event log, discover the journey customers actually take, and report
it::

    import journeymine as jm
    log = jm.read_csv("events.csv")
    pm = jm.discover(log)
"""

from journeymine._util._config import config_context, get_config, set_config
from journeymine.exceptions import JourneymineError

__version__ = "0.1.0"

# Everything else is imported on first use (PEP 562), so `import journeymine` loads
# neither pandas, DuckDB nor scikit-learn: a command-line tool or a worker that only
# needs one reader pays for that reader alone. Public name -> module defining it.
_LAZY = {
    **dict.fromkeys(
        ["STAGES", "EventLog", "Schema", "StageMap", "read_answers", "read_csv",
         "read_parquet", "read_spark", "read_sql", "read_texts", "read_xes"],
        "journeymine.eventlog",
    ),
    **dict.fromkeys(["ProcessMap", "discover"], "journeymine.discovery"),
    **dict.fromkeys(["GapSuggestion", "Journeys", "episodes", "sessionize", "suggest_gap"],
                    "journeymine.discovery._grains"),
    **dict.fromkeys(["Insights", "insights"], "journeymine.discovery._insights"),
    **dict.fromkeys(["collapse_repeats", "group_touchpoints", "suggest_groups"],
                    "journeymine.discovery._longtail"),
    **dict.fromkeys(["Paths", "paths_from", "paths_to", "patterns"],
                    "journeymine.discovery._patterns"),
    **dict.fromkeys(
        ["Attribution", "Conformance", "JourneyDiff", "ProcessModel", "Satisfaction",
         "attribute", "conformance", "diff", "process_model", "satisfaction"],
        "journeymine.measurement",
    ),
    **dict.fromkeys(["JourneyFeaturizer", "PersonaModel", "Persona", "compare", "Comparison"],
                    "journeymine.personas"),
    **dict.fromkeys(["emotions", "JourneyEmotions", "EmotionTagger"], "journeymine.sentiment"),
}


def __getattr__(name: str):
    import importlib

    if name == "datasets":
        return importlib.import_module("journeymine.datasets")
    if name in _LAZY:
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
