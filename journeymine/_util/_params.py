"""Parameter checks: one style for every public function and estimator.

Each check returns the cleaned value or raises :class:`InvalidParameterError`
with what was wrong, what was expected and how to fix it, naming the
parameter as the user typed it. Did-you-mean suggestions come from
:func:`suggest`; durations are parsed by :func:`parse_duration`.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from journeymine.exceptions import InvalidParameterError

#: A duration given as a bare number: no unit, so it is refused.
_BARE_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")

__all__ = ["check_choice", "check_number", "parse_duration", "suggest"]


def suggest(name: str, choices: Sequence[str]) -> str | None:
    """The closest match to ``name`` among ``choices`` (case-insensitive), if any is close.

    Examples
    --------
    >>> suggest("sesion", ["customer", "episode", "session"])
    'session'
    >>> suggest("xyz", ["customer"]) is None
    True
    """
    lowered = {str(c).lower(): str(c) for c in choices}
    match = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def check_choice(name: str, value: Any, choices: Sequence[str], *, fix: str | None = None) -> str:
    """``value`` if it is one of ``choices``, else an error with a did-you-mean.

    Examples
    --------
    >>> check_choice("grain", "session", ("customer", "episode", "session"))
    'session'
    >>> check_choice("grain", "sesion", ("customer", "session"))
    Traceback (most recent call last):
    ...
    journeymine.exceptions.InvalidParameterError: grain='sesion' is not a valid choice. ...
    """
    if isinstance(value, str) and value in choices:
        return value
    close = suggest(str(value), choices) if isinstance(value, str) else None
    raise InvalidParameterError(
        f"{name}={value!r} is not a valid choice.",
        expected=f"one of {', '.join(map(repr, choices))}.",
        fix=(f"Did you mean {close!r}? " if close else "")
        + (fix or f"Pass e.g. {name}={choices[0]!r}."),
    )


def check_number(name: str, value: Any, *, low: float | None = None,
                 high: float | None = None, integer: bool = False,
                 low_open: bool = False) -> float | int:
    """``value`` as an int or float inside ``[low, high]`` (``(low, high]`` with ``low_open``).

    Booleans, NaN and infinities are refused.

    Examples
    --------
    >>> check_number("min_cases", 30, low=1, integer=True)
    30
    >>> check_number("alpha", 0.05, low=0, high=1, low_open=True)
    0.05
    """
    kind = "a whole number" if integer else "a number"
    numeric = isinstance(value, numbers.Integral if integer else numbers.Real)
    inside = (numeric and not isinstance(value, bool) and math.isfinite(value)
              and (low is None or (value > low if low_open else value >= low))
              and (high is None or value <= high))
    if inside:
        return int(value) if integer else float(value)
    if low is not None and high is not None:
        bound = f" from {low:g} {'(excluded) ' if low_open else ''}to {high:g}"
    elif low is not None:
        bound = f" {'above' if low_open else 'of at least'} {low:g}"
    else:
        bound = f" of at most {high:g}" if high is not None else ""
    example = high if low is None else (low if not low_open else (high or low + 1))
    raise InvalidParameterError(
        f"{name}={value!r} is not {kind}{bound}.",
        expected=f"{kind}{bound}.",
        fix=f"Pass e.g. {name}={example!r}, or leave the default.",
    )


def parse_duration(value: Any, name: str = "gap") -> pd.Timedelta:
    """``value`` as a positive :class:`pandas.Timedelta`.

    Parameters
    ----------
    value : str, pandas.Timedelta, datetime.timedelta or numpy.timedelta64
        A duration such as ``"30min"``, ``"2h"``, ``"7D"`` or ``"1 day"``.
    name : str
        The parameter's name, for the error message.

    Returns
    -------
    pandas.Timedelta

    Raises
    ------
    InvalidParameterError
        ``value`` is not a duration, has no unit (``"30"``, ``30``), or is
        not positive.

    Examples
    --------
    >>> parse_duration("30min")
    Timedelta('0 days 00:30:00')
    >>> parse_duration(30)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    journeymine.exceptions.InvalidParameterError: gap=30 has no unit. ...
    """
    expected = "a positive duration such as '30min', '2h', '7D' or a pandas.Timedelta."
    if isinstance(value, (bool, int, float, np.number)) or (
            isinstance(value, str) and _BARE_NUMBER.match(value)):
        raise InvalidParameterError(
            f"{name}={value!r} has no unit.", expected=expected,
            fix=f"Say the unit, e.g. {name}='{str(value).strip()}min' for minutes.",
        )
    try:
        parsed = pd.Timedelta(value)
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(
            f"{name}={value!r} is not a duration ({exc}).", expected=expected,
            fix=f"Pass e.g. {name}='30min' (units: s, min, h, D, W).",
        ) from None
    if pd.isna(parsed) or parsed <= pd.Timedelta(0):
        raise InvalidParameterError(
            f"{name}={value!r} is not positive.", expected=expected,
            fix=f"Pass a duration above zero, e.g. {name}='30min'.",
        )
    return parsed
