"""Readers: CSV, Parquet, XES and SQL into a validated :class:`EventLog`.

One module per format holds each reader (``_csv``, ``_parquet``, ``_xes``,
``_sql``, with the file and encoding checks in ``_files``, ``_encoding`` and
``_csv_shape``); this module gathers the four readers in one place, the import
path they have always had. CSV, Parquet and SQL are read by DuckDB
(multi-threaded, straight into Arrow); XES is parsed in a streaming fashion.
Nothing is ever written to disk: a failing read leaves no file behind.
"""

from __future__ import annotations

from journeymine.eventlog._csv import read_csv
from journeymine.eventlog._parquet import read_parquet
from journeymine.eventlog._sql import read_sql
from journeymine.eventlog._xes import read_xes

__all__ = ["read_csv", "read_parquet", "read_sql", "read_xes"]
