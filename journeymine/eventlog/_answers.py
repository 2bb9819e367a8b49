"""Read survey answers (NPS, CSAT, ratings) into a canonical table.

Answers are read like customer texts (:mod:`journeymine.eventlog._texts`):
the same column detection, file readers and UTC timestamps; every row needs a
numeric score instead of a text.
"""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING

from journeymine.eventlog._texts import ANSWERS, read_rows

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_answers"]


def read_answers(
    path_or_df: str | PathLike[str] | pd.DataFrame,
    *,
    customer: str | None = None,
    timestamp: str | None = None,
    score: str | None = None,
    touchpoint: str | bool | None = None,
    channel: str | bool | None = None,
    comment: str | bool | None = None,
    tz: str | None = None,
    encoding: str = "utf-8",
) -> pd.DataFrame:
    """Read survey answers (NPS, CSAT, ratings) into a canonical table.

    Columns are detected like an event log's (:class:`~journeymine.Schema`):
    ``customer_id``/``user_id``/``pelanggan``..., ``timestamp``/``ts``/
    ``waktu``..., and the score as ``score``/``nps``/``csat``/``rating``/
    ``stars``/``skor``; optional ``touchpoint`` (what was surveyed),
    ``channel`` and ``comment``/``text``/``feedback``/``komentar``.
    Timestamps are parsed and converted to UTC exactly as for event logs.

    Parameters
    ----------
    path_or_df : str, path-like or pandas.DataFrame
        A CSV file (``.csv``, ``.csv.gz``), a Parquet file or directory, or
        a DataFrame (never modified).
    customer, timestamp, score : str, optional
        Column names; detected from common names when ``None``.
    touchpoint, channel, comment : str or bool, optional
        Optional columns; detected when ``None``, never used when ``False``.
    tz : str, optional
        Time zone of naive timestamps, e.g. ``"Asia/Jakarta"``.
    encoding : str, default "utf-8"
        Text encoding of a CSV file.

    Returns
    -------
    pandas.DataFrame
        One row per answer with a score, in input order: ``customer_id``
        (str), ``timestamp`` (UTC), ``score`` (float), then ``comment``,
        ``touchpoint`` and ``channel`` when present, then every other column.

    Raises
    ------
    ColumnNotFoundError
        A named column is missing (the closest name is suggested) or no
        customer, timestamp or score column can be detected.
    ScoreError
        Some scores are not numbers (e.g. ``"sepuluh"``, ``"N/A"``).
    EmptyLogError
        There are no rows, or no row has a score.
    TimestampError
        Timestamps could not be parsed.

    Warns
    -----
    DataQualityWarning
        Answers with an empty score were dropped (with their count).

    Examples
    --------
    >>> import pandas as pd
    >>> from journeymine.eventlog._answers import read_answers
    >>> raw = pd.DataFrame({"user_id": ["u1", "u2"], "waktu": ["2024-05-01", "2024-05-02"],
    ...                     "NPS": ["9", 3], "komentar": ["mantap", "lama bgt"]})
    >>> read_answers(raw)[["customer_id", "score", "comment"]].values.tolist()
    [['u1', 9.0, 'mantap'], ['u2', 3.0, 'lama bgt']]
    """
    roles = dict(customer=customer, timestamp=timestamp, rating=score, text=comment,
                 touchpoint=touchpoint, channel=channel)
    return read_rows(path_or_df, roles, ANSWERS, tz=tz, encoding=encoding)
