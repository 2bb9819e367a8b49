"""XES reader: an IEEE XES event log (optionally gzipped) parsed as a stream.

The XML is read with :func:`xml.etree.ElementTree.iterparse`, one trace at a
time (finished traces are dropped from the tree), values are typed by their
XES tag, trace attributes become ``case:<key>`` columns, and the columns are
built as Arrow arrays. pm4py is not needed.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pyarrow as pa

from journeymine.eventlog._eventlog import EventLog
from journeymine.eventlog._files import PathType, _empty_error, _missing_error, _open_maybe_gzip
from journeymine.eventlog._schema import Schema, _split_schema
from journeymine.exceptions import ReadError

__all__ = ["read_xes"]


_XES_TYPES = {"string", "date", "int", "float", "boolean", "id"}


def _xes_value(tag: str, value: str | None, key: str) -> Any:
    """Convert an XES attribute value to its Python type."""
    if value is None:
        return None
    try:
        if tag == "int":
            return int(value)
        if tag == "float":
            return float(value)
        if tag == "boolean":
            return value.strip().lower() == "true"
        if tag == "date":
            # Python keeps microseconds: cut longer fractions (e.g. nanoseconds).
            parsed = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value.strip()))
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed
    except ValueError:
        raise ReadError(
            f"The XES {tag} attribute {key!r} has the value {value!r}, which is not a {tag}.",
            expected="values matching their XES type (dates as ISO 8601).",
            fix="Fix the file, or declare the attribute as <string>.",
        ) from None
    return value


def _iter_xes(path: str) -> Iterator[dict[str, Any]]:
    """Yield one dict per event, with trace attributes as ``case:<key>``."""
    with _open_maybe_gzip(path) as handle:
        depth = 0
        root = None
        trace_attrs: dict[str, Any] = {}
        trace_events: list[dict[str, Any]] = []
        event: dict[str, Any] | None = None
        in_trace = False
        for kind, elem in ElementTree.iterparse(handle, events=("start", "end")):
            tag = elem.tag.rsplit("}", 1)[-1]
            if kind == "start":
                depth += 1
                if root is None:
                    root = elem
                elif tag == "trace" and depth == 2:
                    in_trace, trace_attrs, trace_events = True, {}, []
                elif tag == "event" and in_trace and depth == 3:
                    event = {}
                continue
            depth -= 1
            if tag in _XES_TYPES and "key" in elem.attrib:
                key = elem.attrib["key"]
                if event is not None and depth == 3:
                    event[key] = _xes_value(tag, elem.attrib.get("value"), key)
                elif in_trace and event is None and depth == 2:
                    trace_attrs[key] = _xes_value(tag, elem.attrib.get("value"), key)
            elif tag == "event" and event is not None and depth == 2:
                trace_events.append(event)
                event = None
                elem.clear()
            elif tag == "trace" and in_trace and depth == 1:
                case = {f"case:{k}": v for k, v in trace_attrs.items()}
                for ev in trace_events:
                    yield {**case, **ev}
                in_trace, trace_events = False, []
                elem.clear()
                root.clear()  # drop finished traces (and log-level elements) from the tree


def _xes_column(values: list[Any]) -> pa.Array:
    """An Arrow array for one attribute, falling back to text on mixed types."""
    kinds = {type(v) for v in values if v is not None}
    if kinds == {datetime}:
        aware = {v.tzinfo is not None for v in values if v is not None}
        if aware == {True}:
            return pa.array(values, pa.timestamp("us", tz="UTC"))
        if aware == {False}:
            return pa.array(values, pa.timestamp("us"))
        return pa.array([None if v is None else v.isoformat() for v in values], pa.string())
    if kinds and kinds <= {int, float} and bool not in kinds:
        return pa.array(values, pa.int64() if kinds == {int} else pa.float64())
    if len(kinds) <= 1:
        return pa.array(values)
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def read_xes(path: PathType, schema: Schema | None = None, **kwargs: Any) -> EventLog:
    """Read an XES event log (``.xes`` or ``.xes.gz``) into an :class:`EventLog`.

    The file is parsed as a stream, one trace at a time, so large logs do not
    need a DOM in memory. Trace attributes become columns ``case:<key>`` (the
    trace's ``concept:name`` is ``case:concept:name``, the customer id); event
    attributes keep their keys (``concept:name``, ``time:timestamp``,
    ``org:resource``...). Values are typed by their XES tag: string, date,
    int, float, boolean, id. Nested (list/container) attributes are skipped.
    pm4py is not needed.

    Parameters
    ----------
    path : str or path-like
        The XES file, optionally gzipped.
    schema : Schema, optional
        Column roles; by default pm4py's names are detected.
    **kwargs
        Passed to :meth:`EventLog.from_arrow`.

    Returns
    -------
    EventLog

    Raises
    ------
    ReadError
        The file is missing, not (well-formed) XML, or has a badly typed value.
    EmptyLogError
        The file has no events.

    Examples
    --------
    >>> import os, tempfile
    >>> from journeymine.eventlog import read_xes
    >>> path = os.path.join(tempfile.mkdtemp(), "journeys.xes")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write('''<?xml version="1.0" encoding="UTF-8"?>
    ... <log xes.version="1.0">
    ...   <trace><string key="concept:name" value="c1"/>
    ...     <event><string key="concept:name" value="iklan_instagram"/>
    ...            <date key="time:timestamp" value="2024-05-01T10:00:00+07:00"/></event>
    ...     <event><string key="concept:name" value="checkout"/>
    ...            <date key="time:timestamp" value="2024-05-01T10:20:00+07:00"/></event>
    ...   </trace>
    ... </log>''')
    >>> log = read_xes(path)
    >>> log
    EventLog(2 events, 1 customers, 2 touchpoints, 2024-05-01 → 2024-05-01)
    >>> str(log.table.column("timestamp")[0].as_py())
    '2024-05-01 03:00:00'
    """
    path_str = str(path)
    wanted = _split_schema(schema, kwargs)
    kwargs.setdefault("source", path_str)
    if not Path(path_str).is_file():
        raise _missing_error(path_str, "XES")
    columns: dict[str, list[Any]] = {}
    n = 0
    try:
        for row in _iter_xes(path_str):
            for key, value in row.items():
                col = columns.get(key)
                if col is None:
                    col = columns[key] = [None] * n
                col.append(value)
            n += 1
            for col in columns.values():
                if len(col) < n:
                    col.append(None)
    except ElementTree.ParseError as exc:
        raise ReadError(
            f"{path_str!r} is not well-formed XML: {exc}.",
            expected="an XES file (<log><trace><event>...).",
            fix="Check that the file is complete (not truncated) and is XES, not CSV.",
        ) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ReadError(
            f"{path_str!r} looks gzipped but cannot be decompressed: {exc}.",
            expected="a complete .xes.gz file.",
            fix="Re-download or re-compress the file.",
        ) from None
    if n == 0:
        raise _empty_error(path_str, "has no events (no <trace><event> elements)")
    table = pa.table({k: _xes_column(v) for k, v in columns.items()})
    return EventLog.from_arrow(table, wanted, **kwargs)
