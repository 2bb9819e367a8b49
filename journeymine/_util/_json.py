"""JSON-safe values, table records and the one envelope of every JSON file written."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["VARIANT_SEPARATOR", "envelope", "json_safe", "records"]

#: Separator between touchpoints in a variant string (and in every path shown).
VARIANT_SEPARATOR = " > "


def json_safe(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers into plain JSON values.

    NaN, infinities, ``pd.NA`` and ``pd.NaT`` become ``None``; timestamps become
    ISO strings; dict keys become strings.

    Examples
    --------
    >>> import numpy as np
    >>> json_safe({"n": np.int64(3), "share": float("nan"), 1: [np.float32(0.5)]})
    {'n': 3, 'share': None, '1': [0.5]}
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows of ``df`` restricted to ``columns`` (those present) as JSON-safe dicts.

    Examples
    --------
    >>> records(pd.DataFrame({"a": [1], "b": [None]}), ["a", "b", "c"])
    [{'a': 1, 'b': None}]
    """
    present = [c for c in columns if c in df.columns]
    return [json_safe(dict(zip(present, row, strict=True)))
            for row in df[present].itertuples(index=False, name=None)]


def envelope(name: str, version: int, body: dict[str, Any]) -> dict[str, Any]:
    """The one JSON envelope: ``{"format": {"name", "version"}, **body}``.

    Every JSON file journeymine writes starts with this header so readers can
    check what they hold before they read it.

    Examples
    --------
    >>> envelope("journeymine.personas", 1, {"k": 2})
    {'format': {'name': 'journeymine.personas', 'version': 1}, 'k': 2}
    """
    return {"format": {"name": name, "version": version}, **json_safe(body)}
