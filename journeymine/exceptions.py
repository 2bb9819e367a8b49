"""Exceptions and warnings raised by journeymine.

Every error a user can trigger is a subclass of :class:`JourneymineError`, and
its message says what was wrong, what was expected and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "ColumnNotFoundError",
    "DataQualityWarning",
    "EmptyLogError",
    "EncodingError",
    "InvalidParameterError",
    "JourneymineError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "OptionalDependencyError",
    "OutputError",
    "ReadError",
    "SchemaError",
    "ScoreError",
    "StageError",
    "TextTruncatedWarning",
    "TimestampError",
    "UnknownCustomerError",
    "UnknownTouchpointError",
]


class JourneymineError(Exception):
    """Base class of every error journeymine raises on purpose.

    Parameters
    ----------
    what : str
        What was wrong.
    expected : str, optional
        What journeymine expected instead.
    fix : str, optional
        How the user can fix it.
    """

    def __init__(self, what: str, expected: str | None = None, fix: str | None = None):
        self.what = what
        self.expected = expected
        self.fix = fix
        parts = [what]
        if expected:
            parts.append(f"Expected: {expected}")
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))


class SchemaError(JourneymineError, ValueError):
    """The input does not have the shape an event log needs."""


class ColumnNotFoundError(SchemaError, KeyError):
    """A column named by the user, or needed by journeymine, is missing."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class EmptyLogError(SchemaError):
    """The event log has no usable events."""


class TimestampError(SchemaError):
    """Timestamps could not be parsed."""


class ScoreError(SchemaError):
    """Survey scores are not numbers, or fall outside the scale of the survey kind."""


class EncodingError(JourneymineError, UnicodeError):
    """A file is not in the expected text encoding."""


class StageError(JourneymineError, ValueError):
    """A stage name or a stage mapping is invalid."""


class ReadError(JourneymineError, OSError):
    """A file could not be read as an event log."""


class OutputError(JourneymineError, OSError):
    """An output file or folder cannot be written (a file in the way, read-only, full)."""


class BackendError(JourneymineError, TypeError):
    """An operation cannot run where the log's events are (e.g. it needs them in memory)."""


class OptionalDependencyError(JourneymineError, ImportError):
    """A feature needs an optional dependency that is not installed."""


class InvalidParameterError(JourneymineError, ValueError):
    """A parameter value is outside its valid range or set of choices."""


class UnknownTouchpointError(JourneymineError, ValueError):
    """A touchpoint or stage named by the user does not occur in the log."""


class UnknownCustomerError(JourneymineError, ValueError):
    """The customers named by the user (e.g. survey respondents) do not occur in the log."""


class ModelNotFoundError(JourneymineError, FileNotFoundError):
    """A model file or directory that journeymine needs is not there."""


class ModelIntegrityError(ModelNotFoundError):
    """A model file is there but is not the expected one (checksum or format)."""


class DataQualityWarning(UserWarning):
    """Rows were dropped or changed while validating an event log."""


class TextTruncatedWarning(DataQualityWarning):
    """Some texts were longer than the emotion model's ``max_length`` tokens and were truncated."""
