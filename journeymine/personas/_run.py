"""`run_personas`: what ``python -m journeymine personas LOG --out DIR`` does."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import pandas as pd

from journeymine.personas._common import as_log
from journeymine.personas._model import PersonaModel

__all__ = ["run_personas"]


def run_personas(
    log, out_dir: str | PathLike[str], *, n_personas: int | str = "auto",
    method: str = "markov", texts: pd.DataFrame | None = None, random_state: int | None = 0,
    stages=None, conversion=None, title: str = "Personas", n_bootstrap: int = 10,
) -> dict[str, Path]:
    """Fit a :class:`PersonaModel` and write ``personas.html``, ``personas.json`` and
    ``assignments.csv`` to ``out_dir`` (created if missing).

    Parameters
    ----------
    log : EventLog or pandas.DataFrame of events
    out_dir : path
    n_personas, method, random_state, stages, conversion, n_bootstrap
        See :class:`PersonaModel`.
    texts : DataFrame, optional
        Tagged texts (``customer_id``, ``sentiment``/``emotion``, ``text``).
    title : str
        Title of the HTML report.

    Returns
    -------
    dict of str to Path
        ``{"html": ..., "json": ..., "assignments": ...}``.

    Examples
    --------
    >>> import tempfile, journeymine as jm
    >>> from journeymine.personas import run_personas
    >>> log = jm.datasets.make_journeys(200, random_state=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = run_personas(log, d, n_personas=2, n_bootstrap=0)
    ...     sorted(p.name for p in paths.values())
    ['assignments.csv', 'personas.html', 'personas.json']
    """
    log = as_log(log, what="run_personas")
    model = PersonaModel(n_personas, method=method, random_state=random_state, stages=stages,
                         conversion=conversion, n_bootstrap=n_bootstrap)
    model.fit(log, texts=texts)
    html_path, json_path, csv_path = model.save(out_dir, title=title)
    return {"html": html_path, "json": json_path, "assignments": csv_path}
