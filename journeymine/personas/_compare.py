"""Side-by-side comparison of two personas or two segments: :func:`compare`."""

from __future__ import annotations

import dataclasses
import html

import pandas as pd

from journeymine._util._json import VARIANT_SEPARATOR, json_safe
from journeymine.eventlog._eventlog import EventLog
from journeymine.exceptions import SchemaError
from journeymine.personas._cards import Persona, _typical
from journeymine.personas._common import as_log
from journeymine.reporting._format import percent

__all__ = ["Comparison", "compare"]

_SECTIONS = ("funnel", "paths", "emotions")


@dataclasses.dataclass(frozen=True, repr=False)
class Comparison:
    """Two personas or segments side by side.

    Attributes
    ----------
    names : (str, str)
    sizes : (int, int)
        Customers on each side.
    conversion : (float, float)
    funnel, paths, emotions : pandas.DataFrame
        Columns ``item``, ``a``, ``b``, ``difference`` (``b - a``, shares),
        sorted by the size of the difference. ``funnel`` keeps stage order.
    highlights : tuple of str
        The biggest differences in words.
    """

    names: tuple[str, str]
    sizes: tuple[int, int]
    conversion: tuple[float, float]
    funnel: pd.DataFrame
    paths: pd.DataFrame
    emotions: pd.DataFrame
    highlights: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """All sections in one long table: ``section``, ``item``, ``a``, ``b``, ``difference``."""
        parts = [getattr(self, s).assign(section=s) for s in _SECTIONS]
        cols = ["section", "item", "a", "b", "difference"]
        return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        out = {"names": list(self.names), "sizes": list(self.sizes),
               "conversion": list(self.conversion), "highlights": list(self.highlights)}
        for s in _SECTIONS:
            out[s] = getattr(self, s).to_dict(orient="records")
        return json_safe(out)

    def __repr__(self) -> str:
        top = self.highlights[0] if self.highlights else "no difference"
        return f"Comparison({self.names[0]!r} vs {self.names[1]!r}: {top})"

    def _repr_html_(self) -> str:
        a, b = (html.escape(n) for n in self.names)
        parts = [f"<div class='jm-compare'><h3>{a} vs {b}</h3><ul>"]
        parts += [f"<li><b>{html.escape(h)}</b></li>" for h in self.highlights]
        parts.append("</ul>")
        for s in _SECTIONS:
            df = getattr(self, s)
            if df.empty:
                continue
            rows = "".join(
                f"<tr><td>{html.escape(str(r.item))}</td><td>{percent(r.a)}</td>"
                f"<td>{percent(r.b)}</td><td>{100 * r.difference:+.1f} pt</td></tr>"
                for r in df.head(8).itertuples()
            )
            parts.append(f"<h4>{s}</h4><table><tr><th></th><th>{a}</th><th>{b}</th>"
                         f"<th>difference</th></tr>{rows}</table>")
        parts.append("</div>")
        return "".join(parts)


def _profile(side, name: str | None) -> dict:
    """Name, size, conversion, funnel, path shares and emotions of one side."""
    if isinstance(side, Persona):
        return {
            "name": name or side.name, "size": side.size, "conversion": side.conversion_rate,
            "funnel": dict(side.funnel),
            "paths": {VARIANT_SEPARATOR.join(p["path"]): p["share"] for p in side.paths},
            "emotions": {**side.emotions, **side.sentiment},
        }
    if not isinstance(side, (EventLog, pd.DataFrame)):
        raise SchemaError(
            f"compare() takes Personas, EventLogs or DataFrames of events, got "
            f"{type(side).__name__}.",
            expected="two Persona cards (model.personas_[i]) or two event logs.",
            fix="Pass e.g. compare(model.personas_[0], model.personas_[1]).",
        )
    from journeymine.discovery._discover import discover

    log = as_log(side, what="compare()")
    pm = discover(log)
    return {
        "name": name or log.source or "segment", "size": pm.summary["customers"],
        "conversion": pm.summary["conversion_rate"],
        "funnel": dict(zip(pm.funnel["stage"], pm.funnel["reached_share"], strict=True)),
        "paths": dict(zip(_typical(pm.variants, 10)["variant"],
                          _typical(pm.variants, 10)["share"], strict=True)),
        "emotions": {},
    }


def _side_by_side(a: dict, b: dict, keep_order: bool) -> pd.DataFrame:
    items = list(dict.fromkeys([*a, *b]))
    df = pd.DataFrame({"item": items, "a": [a.get(i, 0.0) for i in items],
                       "b": [b.get(i, 0.0) for i in items]})
    df["difference"] = df["b"] - df["a"]
    if keep_order:
        return df
    order = df["difference"].abs().sort_values(ascending=False, kind="mergesort").index
    return df.loc[order].reset_index(drop=True)


def compare(a, b, *, names: tuple[str, str] | None = None, top: int = 3) -> Comparison:
    """Compare the funnel, top paths and emotions of two personas or segments.

    Parameters
    ----------
    a, b : Persona, EventLog or pandas.DataFrame of events
        Two persona cards, or two segments (e.g. two periods) as event logs.
    names : (str, str), optional
        Labels of the sides (default: the persona names or the logs' sources).
    top : int, default 3
        How many differences to put in :attr:`Comparison.highlights`.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import journeymine as jm
    >>> from journeymine.personas import compare
    >>> log = jm.datasets.make_journeys(300, random_state=0)
    >>> t = log.to_pandas().drop(columns='event_index')
    >>> early = t[t["timestamp"] < "2025-02-15"]
    >>> late = t[t["timestamp"] >= "2025-02-15"]
    >>> c = compare(early, late, names=("early", "late"))
    >>> list(c.funnel["item"])
    ['awareness', 'consideration', 'purchase', 'retention', 'advocacy']
    >>> len(c.highlights)
    3
    """
    names = names or (None, None)
    pa, pb = _profile(a, names[0]), _profile(b, names[1])
    funnel = _side_by_side(pa["funnel"], pb["funnel"], keep_order=True)
    paths = _side_by_side(pa["paths"], pb["paths"], keep_order=False)
    emotions = _side_by_side(pa["emotions"], pb["emotions"], keep_order=False)
    rows = [(s, r) for s, df in (("stage reached", funnel), ("path", paths),
                                 ("emotion", emotions)) for r in df.itertuples()]
    rows.sort(key=lambda sr: -abs(sr[1].difference))
    highlights = tuple(
        f"{s} {r.item}: {percent(r.a)} in {pa['name']} vs {percent(r.b)} in {pb['name']}"
        for s, r in rows[:top]
    )
    return Comparison(
        names=(pa["name"], pb["name"]), sizes=(int(pa["size"]), int(pb["size"])),
        conversion=(float(pa["conversion"]), float(pb["conversion"])),
        funnel=funnel, paths=paths, emotions=emotions, highlights=highlights,
    )
