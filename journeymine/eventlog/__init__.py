"""Event logs and customer texts in, validated tables out.

This layer owns everything about the input: the :class:`Schema` naming the
columns, the :class:`StageMap` placing touchpoints in the journey stages
(English and Indonesian names), the readers for events (CSV, Parquet, XES, SQL,
DataFrames, Spark), for customer texts and for survey answers, the linking of texts
and answers to the journey, and validation (types, time zones, nulls,
duplicates, ordering by customer and time). Nothing here imports discovery,
personas, sentiment or reporting.
"""

from journeymine.eventlog._answers import read_answers
from journeymine.eventlog._eventlog import EventLog, LogProfile
from journeymine.eventlog._readers import read_csv, read_parquet, read_sql, read_xes
from journeymine.eventlog._schema import Schema
from journeymine.eventlog._spark import SparkEventLog, read_spark
from journeymine.eventlog._stages import STAGES, StageMap, normalize_stage
from journeymine.eventlog._texts import read_texts

__all__ = [
    "STAGES",
    "EventLog",
    "LogProfile",
    "Schema",
    "SparkEventLog",
    "StageMap",
    "normalize_stage",
    "read_answers",
    "read_csv",
    "read_parquet",
    "read_spark",
    "read_sql",
    "read_texts",
    "read_xes",
]
