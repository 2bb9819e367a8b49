"""Parameter checks: one style for every public function and estimator.

Each check returns the cleaned value or raises :class:`InvalidParameterError`
with what was wrong, what was expected and how to fix it, naming the
parameter as the user typed it. Did-you-mean suggestions come from
:func:`suggest`.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Sequence
from typing import Any

import pandas as pd

from journeymine.exceptions import InvalidParameterError

__all__ = ["check_choice", "check_duration", "check_number", "suggest"]


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


def check_duration(name: str, value: Any, *, allow_none: bool = False) -> pd.Timedelta | None:
    """``value`` (``"30min"``, ``"7D"``, a Timedelta, seconds) as a positive Timedelta.

    Examples
    --------
    >>> check_duration("gap", "30min")
    Timedelta('0 days 00:30:00')
    >>> check_duration("gap", 90)
    Timedelta('0 days 00:01:30')
    """
    if value is None and allow_none:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        delta = (pd.Timedelta(seconds=float(value)) if isinstance(value, numbers.Real)
                 else pd.Timedelta(value))
    except (TypeError, ValueError, OverflowError):
        delta = None
    if delta is None or pd.isna(delta) or delta <= pd.Timedelta(0):
        raise InvalidParameterError(
            f"{name}={value!r} is not a positive duration.",
            expected="a duration such as '30min', '2h', '7D', a pandas Timedelta or seconds.",
            fix=f"Pass e.g. {name}='30min'.",
        )
    return delta
