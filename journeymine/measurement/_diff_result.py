"""The :class:`JourneyDiff` result of :func:`~journeymine.diff`, and its sentences."""

from __future__ import annotations

import dataclasses
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeymine._util._html import html_table
from journeymine._util._json import envelope, records
from journeymine._util._write import write_bundle
from journeymine.discovery._processmap import ProcessMap, _bounded

__all__ = ["COLUMNS", "KINDS", "JourneyDiff", "sentence"]

#: What a row compares, in the order ties are listed.
KINDS = ("conversion", "funnel", "drop-off", "edge", "attribution", "emotion")
#: Columns of :attr:`JourneyDiff.table`.
COLUMNS = ("kind", "where", "a", "b", "change", "low", "high", "p", "q", "n_a", "n_b",
           "customers", "impact", "significant", "sentence")
FORMAT_VERSION = 1

_SUBJECT = {
    "conversion": "Conversion",
    "funnel": "Going on from {step}",
    "edge": "Journeys taking {where}",
    "drop-off": "The exit rate at {where}",
    "attribution": "The {model} share of conversions credited to {unit}",
    "emotion": "Customers {emotion}",
}
_UNIT = {"conversion": "journeys", "funnel": "journeys reaching {first}",
         "edge": "journeys", "drop-off": "journeys visiting {where}",
         "attribution": "conversions", "emotion": "customers with texts"}


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def sentence(row: Any, labels: tuple[str, str]) -> str:
    """One sentence for a row of the diff table (a namedtuple with its columns).

    Examples
    --------
    >>> import collections
    >>> Row = collections.namedtuple("Row", "kind where a b change low high q n_b impact "
    ...                                     "significant")
    >>> sentence(Row("conversion", "overall", 0.2, 0.15, -0.05, -0.07, -0.03, 0.0004, 4000,
    ...              -200.0, True), ("January", "February"))
    'Conversion fell from 20.0% in January to 15.0% in February (-5.0 pts, 95% CI -7.0 to \
-3.0; q < 0.001): about 200 fewer of the 4,000 journeys in February.'
    """
    where = str(row.where)
    fields = {"where": where, "first": where.split(" → ")[0],
              "step": where.replace(" → ", " to ")}
    if row.kind == "attribution":
        model, _, unit = where.partition(": ")
        fields.update(model=model.replace("_", " "), unit=unit)
    elif row.kind == "emotion":
        fields["emotion"] = (f"with a negative text {where.removeprefix('negative ')}"
                             if where.startswith("negative at ")
                             else f"expressing {where.removesuffix(' (any stage)')}")
    subject = _SUBJECT[row.kind].format(**fields)
    a, b = labels
    q = "q < 0.001" if row.q < 0.001 else f"q = {row.q:.3f}"
    stats = (f"{100 * row.change:+.1f} pts, 95% CI {100 * row.low:+.1f} to "
             f"{100 * row.high:+.1f}; {q}")
    if not row.significant:
        return (f"{subject}: {_pct(row.a)} in {a}, {_pct(row.b)} in {b} ({stats}): not a "
                "significant change.")
    verb = "rose" if row.change > 0 else "fell"
    unit = _UNIT[row.kind].format(**fields)
    more = "more" if row.impact > 0 else "fewer"
    return (f"{subject} {verb} from {_pct(row.a)} in {a} to {_pct(row.b)} in {b} ({stats}): "
            f"about {abs(row.impact):,.0f} {more} of the {row.n_b:,} {unit} in {b}.")


@dataclasses.dataclass(frozen=True, repr=False)
class JourneyDiff:
    """What changed between two sides, returned by :func:`~journeymine.diff`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per tested comparison, significant rows first, then by
        ``|impact|``: ``kind`` (conversion, funnel, drop-off, edge,
        attribution, emotion), ``where`` (the stage step, touchpoint, edge,
        ``model: channel`` or emotion), ``a`` and ``b`` (the two rates),
        ``change`` (``b - a``), ``low``/``high`` (its 95 % interval), ``p``,
        ``q`` (Benjamini-Hochberg), ``n_a``/``n_b`` (denominators: journeys,
        visitors, conversions or customers with texts), ``customers``
        (``n_b``: the side-b journeys the rate applies to), ``impact``
        (``change × n_b``: side-b journeys more or fewer than at side a's
        rate), ``significant`` (``q <= alpha``) and ``sentence``.
    labels : tuple of str
        The names of the two sides.
    maps : tuple of ProcessMap
        The two sides' discovered journeys.
    summary : dict
        ``compared`` (how the sides were chosen), ``labels``, ``grain``,
        ``journeys`` per side, ``conversion``, ``rows`` (tested),
        ``significant``, ``untested`` (too rare to test), ``alpha``,
        ``min_count``, ``attribution`` (models compared) and ``emotions``.
    """

    table: pd.DataFrame
    labels: tuple[str, str]
    maps: tuple[ProcessMap, ProcessMap]
    summary: dict[str, Any]

    @property
    def significant(self) -> pd.DataFrame:
        """The rows with ``q <= alpha`` (a copy), in rank order."""
        return self.table[self.table["significant"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the ``journeymine.diff`` envelope."""
        return envelope("journeymine.diff", FORMAT_VERSION, {
            "summary": dict(self.summary), "rows": records(self.table, list(COLUMNS))})

    def map_frames(self, touchpoints: int | None = None, max_edges: int | None = None):
        """Nodes, edges, start and end of the two-colour map: both sides' graphs merged.

        Edges carry ``count`` (the larger side's), ``customers`` (side b's),
        ``change`` (of the share of journeys taking them) and
        ``significant`` (from the table). At most ``touchpoints`` nodes and
        ``max_edges`` edges, chosen as by :meth:`ProcessMap.filter`.
        """
        a, b = self.maps
        keys = ["source", "target"]
        cols = [*keys, "count", "customers"]
        edges = a.edges[cols].merge(b.edges[cols], on=keys, how="outer", suffixes=("_a", "_b"))
        edges = edges.fillna(0)
        n_a, n_b = (max(int(m.summary["journeys"]), 1) for m in self.maps)
        edges["count"] = np.maximum(edges["count_a"], edges["count_b"])
        edges["customers"] = edges["customers_b"]
        edges["change"] = edges["customers_b"] / n_b - edges["customers_a"] / n_a
        rows = self.table[self.table["kind"] == "edge"].set_index("where")["significant"]
        where = edges["source"] + " → " + edges["target"]
        edges["significant"] = where.map(rows).fillna(False).astype(bool)
        nodes = pd.concat([a.nodes, b.nodes]).groupby("touchpoint", as_index=False).agg(
            count=("count", "max"), customers=("customers", "max"), stage=("stage", "first"))
        start = {k: max(a.start.get(k, 0), b.start.get(k, 0)) for k in {*a.start, *b.start}}
        end = {k: max(a.end.get(k, 0), b.end.get(k, 0)) for k in {*a.end, *b.end}}
        edges = edges[[*keys, "count", "customers", "change", "significant"]]
        return _bounded(nodes, edges, start, end, touchpoints, max_edges)

    def to_html(self, *, title: str | None = None) -> str:
        """A self-contained HTML page: the ranked table and the two-colour process map.

        Examples
        --------
        >>> import journeymine as jm
        >>> d = jm.diff(jm.datasets.make_journeys(300, random_state=0),
        ...             jm.datasets.make_journeys(300, random_state=1))
        >>> d.to_html().startswith("<!DOCTYPE html>")
        True
        """
        from journeymine.reporting._diff_report import render_diff_report

        return render_diff_report(self, title=title or f"{self.labels[0]} vs {self.labels[1]}")

    def save(self, out_dir: str | PathLike[str]) -> list[Path]:
        """Write ``diff.html``, ``diff.csv`` and ``diff.json`` into ``out_dir`` (all or nothing)."""
        import json

        page = self.to_html()
        return write_bundle(out_dir, {
            "diff.html": lambda p: p.write_text(page, encoding="utf-8"),
            "diff.csv": lambda p: self.table.to_csv(p, index=False),
            "diff.json": lambda p: p.write_text(json.dumps(self.to_dict(), ensure_ascii=False,
                                                           indent=2), encoding="utf-8"),
        })

    def __repr__(self) -> str:
        s = self.summary
        top = (f"; top: {self.table['kind'].iloc[0]} {self.table['where'].iloc[0]} "
               f"{100 * self.table['change'].iloc[0]:+.1f} pts") if s["significant"] else ""
        return (f"JourneyDiff({self.labels[0]} vs {self.labels[1]}: {s['significant']} "
                f"significant of {s['rows']} tested changes{top})")

    def _repr_html_(self) -> str:
        rows = ((r.kind, r.where, _pct(r.a), _pct(r.b), f"{100 * r.change:+.1f} pts", f"{r.q:.3g}")
                for r in self.table.head(10).itertuples())
        return html_table(repr(self), ("kind", "where", *self.labels, "change", "q"), rows)
